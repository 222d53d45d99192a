"""Benchmark (not a test): export everything in every format over the large synthetic history.

    .venv/bin/python -m benchmarks.export_large [--quarters 40] [--home DIR] [--keep]
                                                [--format csv xlsx ...] [--lang es]

Builds the synthetic history of ``benchmarks/build_large.py`` (every country of
``data_contracts/countries.csv`` x ``--quarters`` quarters x every breakdown, then ``dbt build``)
in a child process, into ``DIR/warehouse.duckdb`` (``--home``; a temporary folder otherwise) --
or reuses it when ``DIR`` already holds a built warehouse. Then it runs the export of every
indicator in every format (``run_export``: CSV, XLSX, Parquet, SDMX-CSV 2.0 and the manifest)
from that warehouse as the snapshot, in this process, and prints the published rows, the seconds
of each stage (reading the mart; each format including its SHA-256 -- the XLSX is written
beside the other formats, so these overlap), the total (wall and CPU), the file sizes and the
peak memory: of this process (the export; ``RUSAGE_SELF``) and of the build's children
(``RUSAGE_CHILDREN``). The load average is printed too: the machine is shared, and a loaded
machine stretches the wall time well beyond the CPU time. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb


def _build(warehouse: Path, quarters: int) -> None:
    """Child process: the raw history and the dbt build (build_large's own functions)."""
    from benchmarks.build_large import dbt_build, generate

    started = time.perf_counter()
    raw = generate(warehouse, quarters)
    print(f"generated raw history in {time.perf_counter() - started:.1f} s "
          f"({raw['observations']:,} observations)", flush=True)
    seconds, ok = dbt_build(warehouse, warehouse.parent)
    print(f"dbt build: {seconds:.1f} s, ok={ok}", flush=True)
    if not ok:
        raise SystemExit(1)


def _built(warehouse: Path) -> bool:
    if not warehouse.exists():
        return False
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from information_schema.tables where table_schema = "
                           "'marts' and table_name = 'indicator_values_published'").fetchone()[0] > 0
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    from pipelines.lib.export import FILE_NAMES, FORMATS, run_export
    from pipelines.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--home", type=Path, help="folder of the built history (reused if built)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--format", dest="formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--lang", default="es")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="export_large_"))
    home.mkdir(parents=True, exist_ok=True)
    warehouse = home / "warehouse.duckdb"
    try:
        if _built(warehouse):
            print(f"reusing the built history in {home}")
        else:
            if warehouse.exists():
                raise SystemExit(f"{warehouse} exists but holds no built mart: remove it first")
            print(f"building the history ({args.quarters} quarters) in {home} ...", flush=True)
            child = multiprocessing.get_context("spawn").Process(
                target=_build, args=(warehouse, args.quarters))
            child.start()
            child.join()
            if child.exitcode != 0:
                return 1
        out = home / "export"
        shutil.rmtree(out, ignore_errors=True)
        load_before, cpu_before = os.getloadavg(), os.times()
        timings: dict[str, float] = {}
        started = time.perf_counter()
        manifest = run_export(Settings(home=home), args.formats, out, lang=args.lang,
                              snapshot=warehouse, timings=timings)
        total = time.perf_counter() - started
        load_after, cpu_after = os.getloadavg(), os.times()
        self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        sizes = {f["format"]: f["bytes"] for f in manifest["files"]}
        print(f"published rows exported: {manifest['rows']:,}")
        print(f"  {'read (DuckDB query, labels)':<34} {timings['read']:>7.1f} s")
        for fmt in args.formats:
            print(f"  {fmt + ' (' + FILE_NAMES[fmt] + ')':<34} {timings[fmt]:>7.1f} s "
                  f"{sizes[fmt] / 1e6:>10,.1f} MB")
        print(f"  {'all formats (XLSX beside the rest)':<34} {timings['write']:>7.1f} s")
        print(f"total (run_export, manifest included; {os.cpu_count()} cores): {total:.1f} s wall, "
              f"{cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system:.1f} s CPU")
        print(f"peak memory: export (this process) {self_mb:,.0f} MB, "
              f"build (children) {children_mb:,.0f} MB")
        print("load average (1, 5, 15 min) before: {:.1f} {:.1f} {:.1f}, after: {:.1f} {:.1f} {:.1f}"
              .format(*load_before, *load_after))
        return 0
    finally:
        if args.home is None and not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        elif args.home is None:
            print(f"kept {home}")


if __name__ == "__main__":
    raise SystemExit(main())
