"""The disclosure gate between dbt and publishing: audit what the marts would publish, hide more
where arithmetic gives a hidden cell away, and refuse to publish what still fails.

Runs under the writer lock (the caller holds it). Each repair round hides cells in memory until the
audit passes there (:func:`.repair.protect`), writes them to ``disclosure.repairs``, rebuilds the
models that read them with dbt, and audits the rebuilt marts again from scratch: what is published
is what passed, not what the repair predicted.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from pipelines.lib.disclosure.audit import SECONDARY, AuditResult, audit
from pipelines.lib.disclosure.relations import build_system
from pipelines.lib.disclosure.repair import protect
from pipelines.lib.publish import latest_audit  # noqa: F401 (re-exported)
from pipelines.lib.warehouse import connect_writer
from pipelines.settings import DBT_PROJECT_DIR, Settings

# The models that read disclosure.repairs, and what is built on them.
REBUILD = ["source:disclosure.repairs+"]
# dbt's own passes may hide a few more cells around the repairs (a group left with one hidden
# cell), which the next round audits; the hidden set only grows, so rounds end.
MAX_GATE_ROUNDS = 10
SHOWN_FAILURES = 20


class DisclosureAuditFailed(RuntimeError):
    """The marts would publish hidden cells that arithmetic recovers; nothing was published."""


@dataclass
class GateResult:
    result: AuditResult
    repairs_added: int
    repairs_total: int
    rounds: int
    seconds: float


def min_count() -> int:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return int(project["vars"]["disclosure_min_count"])


# Exact intervals for at most this many uncertified cells per attacker: enough to show the
# narrowest, and the audit stays within seconds however much fails.
AUDIT_EXACT_LIMIT = 20


def run_gate(settings: Settings, log=print, insiders: bool = True) -> GateResult:
    """Audit the marts and record the audit. In ``block`` mode, first hide cells until the audit
    passes, and raise :class:`DisclosureAuditFailed` if it still fails."""
    block = settings.disclosure_gate == "block"
    started = dt.datetime.now(dt.UTC)
    threshold = min_count()
    added = 0
    rounds = 0
    while True:
        rounds += 1
        con = connect_writer(settings.warehouse_path)
        try:
            system, _ = build_system(con, threshold)
            members = [r[0] for r in con.execute(
                "select iso3 from marts.dim_country where member order by 1").fetchall()] if insiders else []
            # Exact intervals only for a few cells: the verdict is the same, and the repair
            # works out what it needs itself.
            result = audit(system, threshold, insiders=members, exact_limit=AUDIT_EXACT_LIMIT)
            log(f"disclosure audit {rounds}: {result.cells} cells, {result.hidden} hidden, "
                f"{result.relations} relations, {result.failing} failing "
                f"({result.seconds:.1f} s)")
            done = result.passed or not block or rounds > MAX_GATE_ROUNDS
            new = []
            if not done:
                repair = protect(system, threshold, insiders=members, log=log)
                new = repair.hidden
                if not new and repair.passed:
                    # The repair examined every cell the audit left unexamined, exactly, for
                    # every attacker, and none fails: that is the verdict.
                    result = replace(result, leaks=[], unexamined=set())
            if not new:
                total = con.execute("select count(*) from disclosure.repairs").fetchone()[0]
                _record(con, started, result, added, total, rounds)
                break
            # dbt's own secondary cells are kept hidden too: its passes choose them around what
            # is hidden, so with the repairs in place they could choose others and publish these,
            # which the repair counted on being hidden. The hidden set then only grows, and what
            # passed in memory passes after the rebuild.
            kept = [cid for cid, status in zip(system.ids, system.status, strict=True)
                    if status == SECONDARY]
            con.executemany("insert or ignore into disclosure.repairs values (?, ?)",
                            [(cid, started) for cid in dict.fromkeys([*new, *kept])])
            added += len(new)
            log(f"disclosure repair: {len(new)} more cells hidden")
        finally:
            con.close()
        _rebuild(settings)
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    if block and not result.passed:
        # Which cells, not their intervals: this message reaches whoever started the run.
        cells = dict.fromkeys([leak.cell_id for leak in result.leaks] + sorted(result.unexamined))
        shown = ", ".join(list(cells)[:SHOWN_FAILURES])
        raise DisclosureAuditFailed(
            f"{result.failing} hidden cells can be worked out from what would be published "
            f"(not published; the last good snapshot stays): {shown}")
    return GateResult(result, added, total, rounds, seconds)


def _describe(leak) -> str:
    who = f" by {leak.insider}" if leak.insider else ""
    return f"{leak.cell_id} in [{leak.low:g}, {leak.high:g}]{who}"


def _record(con, started, result: AuditResult, added: int, total: int, rounds: int) -> None:
    narrowest = result.narrowest or (None, None, None)
    con.execute(
        "insert into disclosure.audits values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [started, result.passed, result.cells, result.hidden, result.relations,
         ", ".join(result.attackers), result.failing,
         "; ".join(_describe(leak) for leak in result.leaks[:SHOWN_FAILURES]) or None,
         narrowest[0], narrowest[1], narrowest[2], added, total, rounds, result.lp_solves,
         (dt.datetime.now(dt.UTC) - started).total_seconds()])


def _rebuild(settings: Settings) -> None:
    """dbt build of the models that read the repairs (the caller holds the writer lock)."""
    from pipelines.lib.dbt import TARGET_DIR, build_args, dbt_environment

    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory(prefix="dbt-gate-") as target:
        state = TARGET_DIR / "partial_parse.msgpack"
        if state.exists():  # parse only what changed since the last build
            shutil.copyfile(state, Path(target) / state.name)
        completed = subprocess.run(
            [str(dbt), *build_args(REBUILD), "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", target,
             "--log-path", target],
            env={**os.environ, **dbt_environment(settings)}, capture_output=True, text=True)
    if completed.returncode:
        raise RuntimeError("dbt rebuild after the disclosure repair failed:\n"
                           + completed.stdout[-4000:])


