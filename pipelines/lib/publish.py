"""Publish: copy the marts into a NEW read-only serving snapshot, then swap the pointer.

Readers (dashboard, exports, CLI read commands) open ``serving/CURRENT``'s file read-only and never
touch the warehouse, so a build in progress never blocks them and a failed build leaves the last
good snapshot in place.

The snapshot holds disclosure-controlled tables only. The figures before disclosure control that
a signed-in submitter sees for its own country go into one store per member beside it
(``<snapshot>.own/<ISO3>.duckdb``, that member's rows only), readable by the serving account alone.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from pipelines.lib.faults import fault_point
from pipelines.settings import Settings

POINTER = "CURRENT"
# A snapshot's file name is the UTC time it was built, in this form, then ".duckdb".
SNAPSHOT_NAME_FORMAT = "%Y%m%dT%H%M%S%f"
KEEP_SNAPSHOTS = 3
PUBLISHED_SCHEMAS = ("marts",)
# Figures before disclosure control: never in the public snapshot, only in the members' own stores.
UNCONTROLLED = ("indicator_values", "coordination_mirror", "review_cells")
# Tables written in this order: DuckDB keeps each column's min and max per row group, so a reader
# asking for one indicator and area (the dashboard, the data API) skips the rest of the table.
SORTED = {"indicator_values_published": "indicator_code, ref_area, freq, period_end"}
# The audit published with what it let through (marts.disclosure_audit), for the quality page and
# every export's manifest: counts and the narrowest width only, never which cells fail nor their
# intervals (those would give hidden values away).
AUDIT_SUMMARY_SQL = (
    "select audited_at, passed, cells, hidden, relations, attackers, failing, "
    "narrowest_high - narrowest_low as narrowest_width, repairs_added, repairs_total, rounds, "
    "lp_solves, seconds from disclosure.audits order by audited_at desc limit 1")


def own_store(snapshot: Path, area: str) -> Path:
    """Where a member's own unsuppressed figures for ``snapshot`` are (the file may not exist)."""
    return snapshot.with_suffix(".own") / f"{area}.duckdb"


def current_snapshot(settings: Settings) -> Path | None:
    pointer = settings.serving_dir / POINTER
    if not pointer.exists():
        return None
    path = settings.serving_dir / pointer.read_text(encoding="utf-8").strip()
    return path if path.exists() else None


def publish_snapshot(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict:
    """Write a new snapshot from the warehouse connection ``con`` and make it current."""
    settings.serving_dir.mkdir(parents=True, exist_ok=True)
    built_at = dt.datetime.now(dt.UTC)
    name = built_at.strftime(SNAPSHOT_NAME_FORMAT) + ".duckdb"
    path = settings.serving_dir / name
    tables = [(schema, table) for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_type = 'BASE TABLE' "
        f"and table_schema in ({', '.join('?' for _ in PUBLISHED_SCHEMAS)}) order by 1, 2",
        list(PUBLISHED_SCHEMAS),
    ).fetchall() if not (schema == "marts" and table in UNCONTROLLED)]
    rows: dict[str, int] = {}
    try:
        _write_snapshot(con, path, tables, built_at, name, rows)
        write_own_stores(con, path)
    except BaseException:  # e.g. disk full: drop the partial files, the pointer stays as it was
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        shutil.rmtree(path.with_suffix(".own"), ignore_errors=True)
        raise
    fault_point("before_pointer")
    pointer_tmp = settings.serving_dir / f".{POINTER}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, settings.serving_dir / POINTER)
    _prune(settings, keep=name)
    return {"snapshot": name, "tables": rows}


def _write_snapshot(con, path: Path, tables, built_at, name: str, rows: dict) -> None:
    """Copy ``tables`` into the new file ``path`` with its ``snapshot_info``; count rows in ``rows``."""
    con.execute(f"attach '{path}' as snapshot")
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists snapshot.{schema}")
        for schema, table in tables:
            order = f" order by {SORTED[table]}" if table in SORTED else ""
            con.execute(f'create table snapshot.{schema}."{table}" as '
                        f'select * from {schema}."{table}"{order}')
            rows[f"{schema}.{table}"] = con.execute(
                f'select count(*) from snapshot.{schema}."{table}"').fetchone()[0]
        # The audit that let this build through (pipelines/lib/disclosure/gate.py).
        if con.execute("select count(*) from information_schema.tables where table_catalog = "
                       "current_database() and table_schema = 'disclosure' "
                       "and table_name = 'audits'").fetchone()[0]:
            con.execute(f"create table snapshot.marts.disclosure_audit as {AUDIT_SUMMARY_SQL}")
        fault_point("during_snapshot")
        con.execute("create table snapshot.main.snapshot_info (built_at timestamptz, snapshot varchar)")
        con.execute("insert into snapshot.main.snapshot_info values (?, ?)", [built_at, name])
    finally:
        con.execute("detach snapshot")


def write_own_stores(con: duckdb.DuckDBPyConnection, snapshot: Path, schema: str = "marts") -> None:
    """One store per member with its own rows of the unsuppressed tables of ``schema`` (on
    ``con``), beside ``snapshot``: its values, the cells of its versions awaiting review, and of
    each referral pair the side it reported
    (the other side's figure is left out; the gap and the pair's status only where the other
    side is published). Directory 0700, files 0600."""
    directory = snapshot.with_suffix(".own")
    shutil.rmtree(directory, ignore_errors=True)  # a snapshot written again (never by publishing)
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)  # whatever the umask
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ?", [schema]).fetchall()}
    if not {"dim_country", "indicator_values"} <= tables:
        return  # nothing before disclosure control to keep (a warehouse not built yet)
    members = [r[0] for r in con.execute(
        f"select iso3 from {schema}.dim_country where member order by 1").fetchall()]
    has_pairs = {"coordination_mirror", "coordination_mirror_published"} <= tables
    for area in members:
        path = own_store(snapshot, area)
        con.execute(f"attach '{path}' as own")  # inside the 0700 directory from its first byte
        try:
            con.execute("create schema own.marts")
            con.execute(f"create table own.marts.indicator_values as "
                        f"select * from {schema}.indicator_values where ref_area = ?", [area])
            if "review_cells" in tables:  # the member's versions awaiting review, for the reviewer
                con.execute(f"create table own.marts.review_cells as "
                            f"select * from {schema}.review_cells where country = ?", [area])
            if has_pairs:
                con.execute(
                    f"""
                    create table own.marts.coordination_mirror as
                    select m.* replace (
                        case when m.sender = $1 then m.sent_by_sender end as sent_by_sender,
                        case when m.receiver = $1 then m.received_by_receiver end as received_by_receiver,
                        case when seen then m.gap_persons end as gap_persons,
                        case when seen then m.mirror_gap_percent end as mirror_gap_percent,
                        case when seen then m.pair_status end as pair_status)
                    from (
                        select m.*,
                            (m.sender = $1 or p.sent_conf_status = 'F')
                            and (m.receiver = $1 or p.received_conf_status = 'F') as seen
                        from {schema}.coordination_mirror as m
                        left join {schema}.coordination_mirror_published as p
                            on p.sender = m.sender and p.receiver = m.receiver
                            and p.time_period = m.time_period
                        where m.sender = $1 or m.receiver = $1
                    ) as m
                    """, [area])
                con.execute("alter table own.marts.coordination_mirror drop column seen")
        finally:
            con.execute("detach own")
        os.chmod(path, 0o600)


def _prune(settings: Settings, keep: str) -> None:
    """Keep the newest few snapshots (a reader may still hold an older one open: Unix keeps it)."""
    snapshots = sorted(p for p in settings.serving_dir.glob("*.duckdb") if p.name != keep)
    for old in snapshots[: max(0, len(snapshots) - (KEEP_SNAPSHOTS - 1))]:
        old.unlink(missing_ok=True)
        Path(f"{old}.wal").unlink(missing_ok=True)
        shutil.rmtree(old.with_suffix(".own"), ignore_errors=True)


def latest_audit(database: Path) -> dict | None:
    """The audit published with a snapshot (``marts.disclosure_audit``), or None."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'disclosure_audit'").fetchone()[0]
        if not exists:
            return None
        cursor = con.execute("select * from marts.disclosure_audit")
        row = cursor.fetchone()
        return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))
    finally:
        con.close()
