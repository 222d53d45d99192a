"""Benchmark (not a test): the full dbt build on a large synthetic history, then the build after
one new country-quarter.

    .venv/bin/python -m benchmarks.build_large [--quarters 40] [--top 8] [--check] [--keep]

Writes a synthetic raw history straight into a temporary warehouse's ``raw`` tables (no intake,
no validation): every country of ``data_contracts/countries.csv`` (249 ISO 3166 areas, a superset
of the 193 UN member states) x ``--quarters`` quarters ending 2025-Q4 x the five data sets, with
every breakdown of TIP_VICTIMS (the full sex x age x exploitation-form cross, sex x age, forms,
citizenship: own, three others, unknown; identification channels; VIC_ASSISTED by sex;
VIC_REPATRIATED), TIP_JUSTICE and SOM_JUSTICE stage x sex, SOM_MIGRANTS sex x age plus
unaccompanied children, and COORDINATION with three counterparts. One unit in ten has a second
version; nine in ten are accepted by the secretariat (a status event). Values are random counts:
the build does not check additivity, so they need not add up.

Then it runs what the pipeline runs, ``dbt build --exclude test_type:unit`` (the repository's
dbt project, one thread), in a subprocess, and prints the raw and mart row counts, the wall time,
the peak memory of that dbt process (its own ``ru_maxrss``, from ``os.wait4``) and the slowest
models and tests (dbt's ``run_results.json``); then it adds one country-quarter (a new version of
GTM TIP_VICTIMS 2025-Q4) and builds again, which is what a new submission costs.

``--check`` then also runs ``dbt build --full-refresh`` and says whether every mart and internal
table holds the same rows as after the build that followed the new country-quarter (a check of
incremental models, should there be any; the full refresh is timed too). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.lib.dbt import DBT
from pipelines.lib.warehouse import connect_writer

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
COUNTRIES_CSV = REPO_ROOT / "data_contracts" / "countries.csv"
LAST_YEAR = 2025

GENERATE_SQL = """
create temp table quarters as
select
    q as period_index,
    cast(floor(q / 4) as integer) as period_year,
    cast(q - 4 * floor(q / 4) + 1 as integer) as period_quarter,
    cast(floor(q / 4) as integer) || '-Q' || cast(q - 4 * floor(q / 4) + 1 as integer) as period
from range({first_index}, {last_index} + 1) t(q);

create temp table areas as
select
    iso3,
    row_number() over (order by iso3) as area_number,
    member = 'True' as is_member,
    row_number() over (partition by member order by iso3) as member_number,
    count(*) over (partition by member) as n_in_group
from read_csv('{countries}', header = true, all_varchar = true);

create temp table datasets as
select * from (values ('TIP_VICTIMS'), ('TIP_JUSTICE'), ('SOM_MIGRANTS'), ('SOM_JUSTICE'),
    ('COORDINATION')) t(dataset);

create temp table units as
select
    areas.iso3 as country,
    areas.area_number,
    datasets.dataset,
    quarters.period,
    quarters.period_index,
    v.version
from areas
cross join datasets
cross join quarters
cross join (values (1), (2)) v(version)
where v.version = 1 or hash(areas.iso3, datasets.dataset, quarters.period) % 10 = 0;

insert into raw.files
select distinct
    md5(country || period || version) || md5(period || country || version),
    country || '_' || period || '_v' || version || '.csv',
    1000,
    timestamptz '2026-01-01 00:00:00+00' + to_seconds(period_index * 60 + version),
    null, 'benchmark', 'operator', 'archive/x'
from units;

insert into raw.submissions
select
    substr(md5(country || period || version), 1, 12) || '-' || dataset,
    md5(country || period || version) || md5(period || country || version),
    dataset, country, period, version, 'validated',
    timestamptz '2026-01-01 00:00:00+00' + to_seconds(period_index * 60 + version),
    date '2026-01-01', date '2026-01-01', false, 10, 0, 0, '1.0.0'
from units;

insert into raw.audit_events
select
    'ev-' || substr(md5(country || period || version), 1, 12) || '-' || dataset,
    timestamptz '2026-02-01 00:00:00+00',
    'secretariat', 'status',
    md5(country || period || version) || md5(period || country || version),
    substr(md5(country || period || version), 1, 12) || '-' || dataset,
    'validated', 'accepted', 'benchmark', null
from units
where hash(country, dataset, period, version) % 10 <> 0;

create temp table codes as
select * from (values
    ('sex', 'F'), ('sex', 'M'), ('sex', 'X'), ('sex', '_U'), ('sex', '_T'),
    ('age', 'Y0T17'), ('age', 'Y_GE18'), ('age', '_U'), ('age', '_T'),
    ('form', 'SEX'), ('form', 'FLAB'), ('form', 'FCRIM'), ('form', 'FMAR'), ('form', 'BEG'),
    ('form', 'ORG'), ('form', 'ADOPT'), ('form', 'MIXED'), ('form', 'OTH'), ('form', '_U'),
    ('form', '_T'),
    ('channel', 'POL'), ('channel', 'PROS'), ('channel', 'LAB'), ('channel', 'MIG'),
    ('channel', 'SOC'), ('channel', 'NGO'), ('channel', 'HOT'), ('channel', 'SELF'),
    ('channel', 'CONS'), ('channel', 'OTH'), ('channel', '_U'),
    ('stage', 'SUSP'), ('stage', 'PROS'), ('stage', 'CONV'),
    ('unacc', 'Y'), ('unacc', 'N'), ('unacc', '_U')
) t(dimension, code);

create temp table cells as
-- TIP_VICTIMS: the full sex x age x form cross (sex x age and forms are its margins)
select 'TIP_VICTIMS' as dataset, 'VIC_DETECTED' as indicator, s.code as sex, a.code as age,
    f.code as exploitation_form, '_T' as citizenship, '_Z' as counterpart_area, '_Z' as stage,
    '_T' as identification_channel, '_Z' as unaccompanied
from codes s, codes a, codes f
where s.dimension = 'sex' and a.dimension = 'age' and f.dimension = 'form'
union all
select 'TIP_VICTIMS', 'VIC_DETECTED', '_T', '_T', '_T', c, '_Z', '_Z', '_T', '_Z'
from (values ('$OWN'), ('$OTHER1'), ('$OTHER2'), ('$OTHER3'), ('_U')) t(c)
union all
select 'TIP_VICTIMS', 'VIC_DETECTED', '_T', '_T', '_T', '_T', '_Z', '_Z', code, '_Z'
from codes where dimension = 'channel'
union all
select 'TIP_VICTIMS', 'VIC_ASSISTED', code, '_T', '_T', '_T', '_Z', '_Z', '_T', '_Z'
from codes where dimension = 'sex'
union all
select 'TIP_VICTIMS', 'VIC_REPATRIATED', '_T', '_T', '_Z', '_Z', c, '_Z', '_Z', '_Z'
from (values ('$OTHER1'), ('_T')) t(c)
union all
select 'TIP_JUSTICE', 'TIP_PERSONS', s.code, '_T', '_Z', '_T', '_Z', st.code, '_Z', '_Z'
from codes s, codes st where s.dimension = 'sex' and st.dimension = 'stage'
union all
select 'SOM_JUSTICE', 'SOM_PERSONS', s.code, '_Z', '_Z', '_T', '_Z', st.code, '_Z', '_Z'
from codes s, codes st where s.dimension = 'sex' and st.dimension = 'stage'
union all
select 'SOM_MIGRANTS', i, s.code, a.code, '_Z', '_T', '_Z', '_Z', '_Z', '_T'
from codes s, codes a, (values ('SOM_DETECTED'), ('SOM_TIP_VICTIMS')) t(i)
where s.dimension = 'sex' and a.dimension = 'age' and (s.code = '_T' or a.code = '_T')
union all
select 'SOM_MIGRANTS', 'SOM_DETECTED', '_T', 'Y0T17', '_Z', '_T', '_Z', '_Z', '_Z', code
from codes where dimension = 'unacc'
union all
select 'SOM_MIGRANTS', 'SOM_DEATHS', '_T', '_T', '_Z', '_T', '_Z', '_Z', '_Z', '_Z'
union all
select 'COORDINATION', i, '_Z', '_Z', '_Z', '_Z', c, '_Z', '_Z', '_Z'
from (values ('REF_SENT'), ('REF_RECEIVED'), ('JOINT_INVESTIGATIONS')) t(i),
    (values ('$OTHER1'), ('$OTHER2'), ('$OTHER3')) u(c);

-- three other areas per area, members among members (so the coordination mirror has pairs)
create temp table neighbours as
select a.iso3, b1.iso3 as other1, b2.iso3 as other2, b3.iso3 as other3
from areas a
join areas b1 on b1.is_member = a.is_member and b1.member_number = (a.member_number % a.n_in_group) + 1
join areas b2 on b2.is_member = a.is_member and b2.member_number = ((a.member_number + 1) % a.n_in_group) + 1
join areas b3 on b3.is_member = a.is_member and b3.member_number = ((a.member_number + 2) % a.n_in_group) + 1;

insert into raw.observations
select
    substr(md5(units.country || units.period || units.version), 1, 12) || '-' || units.dataset,
    units.dataset,
    cast(row_number() over (partition by units.country, units.dataset, units.period, units.version) + 1 as integer),
    units.dataset, units.country, units.period, cells.indicator,
    cells.sex, cells.age, cells.exploitation_form,
    case cells.citizenship
        when '$OWN' then units.country when '$OTHER1' then neighbours.other1
        when '$OTHER2' then neighbours.other2 when '$OTHER3' then neighbours.other3
        else cells.citizenship end,
    case cells.counterpart_area
        when '$OTHER1' then neighbours.other1 when '$OTHER2' then neighbours.other2
        when '$OTHER3' then neighbours.other3 else cells.counterpart_area end,
    cells.stage, cells.identification_channel, cells.unaccompanied,
    cast(hash(units.country, units.period, units.version, cells.indicator, cells.sex, cells.age,
        cells.exploitation_form, cells.citizenship, cells.identification_channel, cells.stage,
        cells.unaccompanied, cells.counterpart_area) % 50 as bigint),
    null, null
from units
join cells on cells.dataset = units.dataset
join neighbours on neighbours.iso3 = units.country;
"""


def generate(warehouse: Path, quarters: int) -> dict[str, int]:
    last_index = LAST_YEAR * 4 + 3
    con = connect_writer(warehouse)
    try:
        con.execute(GENERATE_SQL.format(first_index=last_index - quarters + 1,
                                        last_index=last_index, countries=COUNTRIES_CSV))
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                for t in ("files", "submissions", "observations", "audit_events")}
    finally:
        con.close()


def add_one_country_quarter(warehouse: Path) -> None:
    """A new version of GTM TIP_VICTIMS 2025-Q4 (its observations copied, one value changed)."""
    con = connect_writer(warehouse)
    try:
        old = con.execute("select submission_id, file_sha256 from raw.submissions where country = "
                          "'GTM' and dataset = 'TIP_VICTIMS' and period = '2025-Q4' "
                          "order by version desc limit 1").fetchone()
        new_id = "newversion01-TIP_VICTIMS"
        con.execute("insert into raw.submissions select ?, file_sha256, dataset, country, period, "
                    "version + 1, status, received_at + interval 1 day, received_on, due_on, "
                    "is_late, n_rows, n_errors, n_warnings, contract_version from raw.submissions "
                    "where submission_id = ?", [new_id, old[0]])
        con.execute("insert into raw.observations select ?, sheet, row_number, dataset, country, "
                    "period, indicator, sex, age, exploitation_form, citizenship, "
                    "counterpart_area, stage, identification_channel, unaccompanied, value + 1, "
                    "obs_status, comment from raw.observations where submission_id = ?",
                    [new_id, old[0]])
    finally:
        con.close()


def dbt_build(warehouse: Path, work: Path, *extra: str) -> dict:
    """One ``dbt build`` as the pipeline runs it: ``wall_s``, ``ok``, ``cpu_s`` (user + system:
    less sensitive than wall time to other work on the machine), ``peak_mb`` (the peak memory of
    the dbt process itself: its ``ru_maxrss`` from ``os.wait4``) and ``nodes``, its models' and
    tests' (seconds, name), slowest first."""
    env = {**os.environ, "OBSERVATORY_WAREHOUSE": str(warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    work.mkdir(parents=True, exist_ok=True)
    log = work / "dbt_output.txt"
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(DBT), "build", "--exclude", "test_type:unit", "--quiet", *extra,
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
            env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        print(log.read_text()[-4000:])
    try:
        results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        results = []  # dbt failed before running anything
    nodes = sorted(((r["execution_time"], r["unique_id"].split(".", 1)[1]) for r in results),
                   reverse=True)
    return {"wall_s": round(elapsed, 3), "ok": process.returncode == 0,
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_mb": round(usage.ru_maxrss / 1024, 1), "nodes": nodes}


def report(label: str, build: dict, top: int) -> None:
    nodes = build["nodes"]
    print(f"{label}: {build['wall_s']:.1f} s wall, {build['cpu_s']:.1f} s CPU, ok={build['ok']}, "
          f"peak memory {build['peak_mb']:,.0f} MB, "
          f"{sum(t for t, _ in nodes):.1f} s in {len(nodes)} models and tests")
    for seconds, name in nodes[:top]:
        print(f"    {seconds:6.2f} s  {name}")


def summary(build: dict, top: int) -> dict:
    """``build`` for a JSON report: the slowest ``top`` nodes only."""
    return {**{k: v for k, v in build.items() if k != "nodes"}, "n_nodes": len(build["nodes"]),
            "slowest": [[round(t, 2), name] for t, name in build["nodes"][:top]]}


def table_digests(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Rows and an order-independent digest of every mart and internal table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('marts', 'internal') and table_type = "
                             "'BASE TABLE' order by 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(
                    f'select count(*), coalesce(sum(hash(t)), 0) from {s}."{t}" as t').fetchone()
                for s, t in tables}
    finally:
        con.close()


def mart_rows(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('marts', 'internal') and table_type = "
                             "'BASE TABLE' order by 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from {s}."{t}"').fetchone()[0]
                for s, t in tables}
    finally:
        con.close()


def build_history(warehouse: Path, quarters: int, work: Path) -> dict:
    """The raw history (``generate``) and the full ``dbt build``: ``raw_rows``, ``generate_s``
    and ``full_build`` (``dbt_build``'s dict)."""
    started = time.perf_counter()
    raw = generate(warehouse, quarters)
    generate_s = round(time.perf_counter() - started, 1)
    print(f"generated raw history ({quarters} quarters) in {generate_s:.1f} s", flush=True)
    for table, n in raw.items():
        print(f"  raw.{table:<28} {n:>12,}")
    return {"quarters": quarters, "raw_rows": raw, "generate_s": generate_s,
            "full_build": dbt_build(warehouse, work)}


def run(warehouse: Path, work: Path, quarters: int = 40, top: int = 8,
        check: bool = False) -> dict:
    """The whole benchmark (what ``main`` prints), into ``warehouse`` (dbt's files in ``work``);
    returns the figures, each build as ``summary`` gives it, and ``ok``."""
    results = build_history(warehouse, quarters, work)
    full = results["full_build"]
    results["mart_rows"] = mart_rows(warehouse) if warehouse.exists() else {}
    for table, n in results["mart_rows"].items():
        print(f"  {table:<32} {n:>12,}")
    report("full dbt build", full, top)
    add_one_country_quarter(warehouse)
    again = dbt_build(warehouse, work)
    report("build after one new country-quarter", again, top)
    results["warehouse_mb"] = round(warehouse.stat().st_size / 1e6)
    print(f"warehouse {results['warehouse_mb']:,} MB")
    results["full_build"] = summary(full, top)
    results["rebuild_one_quarter"] = summary(again, top)
    ok = full["ok"] and again["ok"]
    if check:
        after_new_quarter = table_digests(warehouse)
        refresh = dbt_build(warehouse, work, "--full-refresh")
        report("full refresh after it", refresh, top)
        differ = [t for t, d in table_digests(warehouse).items() if after_new_quarter.get(t) != d]
        print("the build after the new country-quarter equals the full refresh: "
              + ("yes" if not differ else f"NO, differs in {', '.join(differ)}"))
        results["full_refresh"] = summary(refresh, top)
        results["full_refresh_differs_in"] = differ
        ok = ok and refresh["ok"] and not differ
    results["ok"] = ok
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--top", type=int, default=8, help="list this many slowest nodes per build")
    parser.add_argument("--check", action="store_true",
                        help="compare the marts with a --full-refresh build at the end")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="build_large_"))
    try:
        results = run(work / "warehouse.duckdb", work, args.quarters, args.top, args.check)
        return 0 if results["ok"] else 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
