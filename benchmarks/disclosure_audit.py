"""Audit the warehouse's published marts as an attacker who does arithmetic would (a measurement,
not yet a step of the pipeline): how many hidden cells linear programming pins down or narrows.

    uv run python -m benchmarks.disclosure_audit [--insiders]    # the warehouse of $OBSERVATORY_HOME

Holds the writer lock while it reads, like every reader of the warehouse.
"""

from __future__ import annotations

import argparse
import collections
import time

import duckdb

from pipelines.lib.disclosure.audit import audit
from pipelines.lib.disclosure.relations import build_system
from pipelines.lib.warehouse import writer_lock
from pipelines.settings import get_settings

MIN_COUNT = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insiders", action="store_true", help="also audit each member as an insider")
    args = parser.parse_args()
    settings = get_settings()
    started = time.perf_counter()
    with writer_lock(settings):
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            system, skipped = build_system(con, MIN_COUNT)
            members = [r[0] for r in con.execute(
                "select iso3 from marts.dim_country where member order by 1").fetchall()]
        finally:
            con.close()
    built = time.perf_counter() - started
    result = audit(system, MIN_COUNT, insiders=members if args.insiders else ())
    print(f"cells {result.cells}, hidden {result.hidden}, relations {result.relations} "
          f"(built in {built:.1f} s; relations left out as not holding: {skipped or 'none'})")
    print(f"attackers: {', '.join(result.attackers)}; LP solves {result.lp_solves}; "
          f"audit {result.seconds:.1f} s")
    by_kind = collections.Counter(
        (leak.insider or "outsider", leak.status, leak.cell_id.split("|")[0]) for leak in result.leaks)
    print(f"leaks: {len(result.leaks)} (A: a small count narrowed inside 1..4; D: a hidden cell "
          "pinned to one value)")
    for (attacker, status, code), n in sorted(by_kind.items()):
        print(f"  {attacker:8} {status} {code:20} {n}")
    if result.narrowest:
        cell, low, high = result.narrowest
        print(f"narrowest interval: {cell} in [{low:g}, {high:g}]")


if __name__ == "__main__":
    main()
