"""Intake throughput on a long file against DuckDB reading the same file raw (a ratio).

A 10^6-row TIP_VICTIMS file in the submission layout (every row a distinct cell of
citizenship × sex × age × exploitation form × identification channel) is read and validated
exactly as intake does (reader → Great Expectations per-cell suite → set rules); the baseline is
DuckDB's ``read_csv`` of the same file into a table, measured in the same run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from pathlib import Path

import duckdb

from pipelines.lib.contracts import load_contracts


def write_long_file(path: Path, rows: int) -> int:
    contracts = load_contracts()
    countries = [c["iso3"] for c in contracts.countries]
    sexes = contracts.codes_for("sex")
    ages = contracts.codes_for("age")
    forms = contracts.codes_for("exploitation_form")
    channels = contracts.codes_for("identification_channel")
    rng = random.Random(1)
    cells = itertools.islice(itertools.product(countries, sexes, ages, forms, channels), rows)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("dataset,country,period,indicator,sex,age,exploitation_form,citizenship,"
                  "identification_channel,value\n")
        written = 0
        for citizenship, sex, age, form, channel in cells:
            out.write(f"TIP_VICTIMS,MEX,2024-Q1,VIC_DETECTED,{sex},{age},{form},{citizenship},"
                      f"{channel},{rng.randint(0, 9)}\n")
            written += 1
    return written


def bench_intake_throughput(results: dict, work_dir: Path, rows: int = 1_000_000) -> None:
    from pipelines.lib.gx_suite import warm_up
    from pipelines.lib.reader import read_submission
    from pipelines.lib.validate import ValidationContext, validate_frame

    path = work_dir / "long_file.csv"
    written = write_long_file(path, rows)
    size_mb = path.stat().st_size / 2**20
    print(f"[throughput] {written} rows, {size_mb:.0f} MB; DuckDB raw read ...", flush=True)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"create table raw_read as select * from read_csv('{path}', all_varchar = true)")
    duck_rows = con.execute("select count(*) from raw_read").fetchone()[0]
    con.close()
    duckdb_s = time.perf_counter() - started
    warm_up()  # Great Expectations' one-off import is not per-file work
    print(f"[throughput] DuckDB {duckdb_s:.1f} s; intake read + validate ...", flush=True)
    started = time.perf_counter()
    data = path.read_bytes()
    read = read_submission(data, path.name)
    read_s = time.perf_counter() - started
    units = validate_frame(read.frame, read.findings,
                           ValidationContext(today=dt.date(2026, 11, 28)))
    intake_s = time.perf_counter() - started
    print(f"[throughput] intake {intake_s:.1f} s (read {read_s:.1f} s)", flush=True)
    results["intake_throughput"] = {
        "rows": written, "duckdb_rows": duck_rows, "size_mb": round(size_mb, 1),
        "duckdb_read_s": round(duckdb_s, 3), "intake_read_s": round(read_s, 3),
        "intake_total_s": round(intake_s, 3), "ratio": round(intake_s / duckdb_s, 2),
        "status": [u.status for u in units],
        "rules_found": sorted({f.rule for u in units for f in u.findings}),
    }
