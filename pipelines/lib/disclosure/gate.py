"""The disclosure gate between dbt and publishing: audit what the marts would publish, hide more
where arithmetic gives a hidden cell away, and refuse to publish what still fails.

Runs under the writer lock (the caller holds it). Each repair round hides cells in memory until the
audit passes there (:func:`.repair.protect`), writes them to ``disclosure.repairs``, rebuilds the
models that read them with dbt, and audits the rebuilt marts again from scratch: what is published
is what passed, not what the repair predicted.

Only the blocks of hidden cells (linked by the relations they share) whose content changed since
an audit passed are audited, and the repair starts from those that failed: a block's verdict
depends on its content alone (:func:`.audit.blocks`), and a submission touches a few blocks (its
indicators' years).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import yaml

from pipelines.lib.disclosure.audit import (
    PUBLISHED,
    SECONDARY,
    AuditResult,
    System,
    audit,
    audit_salt,
    block_fingerprints,
    blocks,
    hidden_count,
    subsystem,
)
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
            passed = {row[0] for row in con.execute(
                "select fingerprint from disclosure.passed_blocks").fetchall()}
            changed, prints, reused, n_blocks = _changed_blocks(system, threshold, members, passed)
            # Exact intervals only for a few cells: the verdict is the same, and the repair
            # works out what it needs itself.
            result = _whole(con, system, prints, passed, audit(
                changed, threshold, insiders=members, exact_limit=AUDIT_EXACT_LIMIT))
            log(f"disclosure audit {rounds}: {result.cells} cells, {result.hidden} hidden, "
                f"{result.relations} relations, {result.failing} failing; {reused} of "
                f"{n_blocks} blocks unchanged since an audit passed ({result.seconds:.1f} s)")
            # A block none of whose cells fails has passed as it is, whatever the others do.
            failed = {prints.get(cid) for cid in
                      {leak.cell_id for leak in result.leaks} | result.unexamined}
            _remember(con, set(prints.values()) - failed, started)
            done = result.passed or not block or rounds > MAX_GATE_ROUNDS
            new = []
            if not done:
                # Over every relation (a cell it hides may sit in relations of other blocks),
                # looking only at the blocks that failed.
                repair = protect(system, threshold, insiders=members, log=log,
                                 targets=np.array([prints.get(cid) in failed
                                                   for cid in system.ids]))
                new = repair.hidden
                if not new and repair.passed:
                    # The repair examined every cell the audit left unexamined, exactly, for
                    # every attacker, and none fails: that is the verdict.
                    result = replace(result, leaks=[], unexamined=set())
            if not new:
                total = con.execute("select count(*) from disclosure.repairs").fetchone()[0]
                _record(con, started, result, added, total, rounds)
                # It is published: readers keep what it shows. (What a snapshot published in
                # record mode without passing gave away, no later hiding can take back: the
                # audit leaves it out rather than refuse every later build.)
                if result.passed:
                    shown = system.status == PUBLISHED
                    con.execute(
                        "insert or ignore into disclosure.published_values "
                        "select unnest(?::varchar[]), unnest(?::double[]), ?",
                        [[cid for cid, s in zip(system.ids, shown, strict=True) if s],
                         system.truth[shown].tolist(), started])
                if result.passed:  # every block as it is now, and only those (a small table)
                    current = sorted(set(prints.values()))
                    _remember(con, current, started)
                    con.execute("delete from disclosure.passed_blocks where fingerprint not in "
                                "(select unnest(?::varchar[]))", [current])
                break
            # dbt's own secondary cells are kept hidden too: its passes choose them around what
            # is hidden, so with the repairs in place they could choose others and publish these,
            # which the repair counted on being hidden. The hidden set then only grows, and what
            # passed in memory passes after the rebuild.
            kept = [cid for cid, status in zip(system.ids, system.status, strict=True)
                    if status == SECONDARY]
            _insert(con, "disclosure.repairs", dict.fromkeys([*new, *kept]), started)
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


def _changed_blocks(system: System, threshold: int, members: list[str], passed: set[str]):
    """The part of ``system`` whose blocks are not among the ``passed`` ones as they are now,
    each cell's block digest, how many blocks are unchanged and how many there are."""
    labels = blocks(system)
    prints = block_fingerprints(system, labels, audit_salt(threshold, members))
    fresh = [label for label, fp in prints.items() if fp not in passed]
    by_cell = {system.ids[i]: prints[int(labels[i])] for i in np.flatnonzero(labels >= 0)}
    return (subsystem(system, np.isin(labels, fresh)), by_cell, len(prints) - len(fresh),
            len(prints))


def _remember(con, fingerprints, at) -> None:
    _insert(con, "disclosure.passed_blocks", sorted(fingerprints), at)


def _insert(con, table: str, keys, at) -> None:
    """``(key, at)`` rows into ``table``, keeping rows already there: one statement (on a large
    history these are 10^5 rows, which row-by-row executemany takes minutes over)."""
    con.execute(f"insert or ignore into {table} select unnest(?::varchar[]), ?", [list(keys), at])


def _whole(con, system: System, prints: dict[str, str], passed: set[str],
           result: AuditResult) -> AuditResult:
    """The audit of the changed blocks as the audit of the whole: the counts of every cell, and
    the narrowest interval of the last passing audit where its block is unchanged and narrower."""
    narrowest = result.narrowest
    last = con.execute("select narrowest_cell, narrowest_low, narrowest_high from "
                       "disclosure.audits where passed and narrowest_cell is not null "
                       "order by audited_at desc limit 1").fetchone()
    if last and prints.get(last[0]) in passed and (
            narrowest is None or last[2] - last[1] < narrowest[2] - narrowest[1]):
        narrowest = last
    return replace(result, cells=system.n_cells, hidden=hidden_count(system),
                   relations=system.relations.shape[0], narrowest=narrowest,
                   narrowest_width=None if narrowest is None else narrowest[2] - narrowest[1])


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
    from pipelines.lib.dbt import build

    build(settings, REBUILD)


