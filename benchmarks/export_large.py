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
machine stretches the wall time well beyond the CPU time. Nothing is asserted. ``benchmarks.run``
(``make bench``) calls ``export_in_child`` (the export alone in a fresh process).
"""

from __future__ import annotations

import argparse
import concurrent.futures
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
    from benchmarks.build_large import build_history

    build = build_history(warehouse, quarters, warehouse.parent)["full_build"]
    print(f"dbt build: {build['wall_s']:.1f} s, ok={build['ok']}", flush=True)
    if not build["ok"]:
        raise SystemExit(1)


def built(warehouse: Path) -> bool:
    """Whether ``warehouse`` holds the built published mart."""
    if not warehouse.exists():
        return False
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from information_schema.tables where table_schema = "
                           "'marts' and table_name = 'indicator_values_published'").fetchone()[0] > 0
    finally:
        con.close()


def export(home: Path, formats: list[str], lang: str = "es") -> dict:
    """``run_export`` of everything in ``formats`` from ``home``'s warehouse as the snapshot into
    ``home/export``, in this process: rows, seconds per stage, wall and CPU seconds, sizes, the
    load average and this process's peak memory (``RUSAGE_SELF``: run it in a fresh process,
    :func:`export_in_child`, for a figure of the export alone)."""
    from pipelines.lib.export import run_export
    from pipelines.settings import Settings

    out = home / "export"
    shutil.rmtree(out, ignore_errors=True)
    load_before, cpu_before = os.getloadavg(), os.times()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    manifest = run_export(Settings(home=home), formats, out, lang=lang,
                          snapshot=home / "warehouse.duckdb", timings=timings)
    total = time.perf_counter() - started
    load_after, cpu_after = os.getloadavg(), os.times()
    return {"rows": manifest["rows"], "formats": list(formats), "lang": lang,
            "timings_s": {k: round(v, 3) for k, v in timings.items()},
            "bytes": {f["format"]: f["bytes"] for f in manifest["files"]},
            "wall_s": round(total, 3),
            "cpu_s": round(cpu_after.user + cpu_after.system - cpu_before.user
                           - cpu_before.system, 3),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "loadavg_before": load_before, "loadavg_after": load_after}


def export_in_child(home: Path, formats: list[str], lang: str = "es") -> dict:
    """:func:`export` in a fresh (spawned) process, so that its peak memory is the export's."""
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(export, home, list(formats), lang).result()


def print_export(results: dict) -> None:
    from pipelines.lib.export import FILE_NAMES

    timings, sizes = results["timings_s"], results["bytes"]
    print(f"published rows exported: {results['rows']:,}")
    print(f"  {'read (DuckDB query, labels)':<34} {timings['read']:>7.1f} s")
    for fmt in results["formats"]:
        print(f"  {fmt + ' (' + FILE_NAMES[fmt] + ')':<34} {timings[fmt]:>7.1f} s "
              f"{sizes[fmt] / 1e6:>10,.1f} MB")
    print(f"  {'all formats (XLSX beside the rest)':<34} {timings['write']:>7.1f} s")
    print(f"total (run_export, manifest included; {os.cpu_count()} cores): "
          f"{results['wall_s']:.1f} s wall, {results['cpu_s']:.1f} s CPU")
    print(f"peak memory: export {results['peak_mb']:,.0f} MB")
    print("load average (1, 5, 15 min) before: {:.1f} {:.1f} {:.1f}, after: {:.1f} {:.1f} {:.1f}"
          .format(*results["loadavg_before"], *results["loadavg_after"]))


def main(argv: list[str] | None = None) -> int:
    from pipelines.lib.export import FORMATS

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
        if built(warehouse):
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
        results = export(home, args.formats, args.lang)
        print_export(results)
        children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory of the build (children): {children_mb:,.0f} MB")
        return 0
    finally:
        if args.home is None and not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        elif args.home is None:
            print(f"kept {home}")


if __name__ == "__main__":
    raise SystemExit(main())
