"""A first check of an upload in about a second, while its job waits for the orchestrator.

The upload's job runs in a process the daemon starts (several seconds of imports before intake
even begins). So that a submitter sees at once what is wrong with the file, the dashboard's
server also checks it read-only in a child process of its own, kept warm (reader, contracts and
the Great Expectations suite loaded) and capped in memory and time like the reader's child
(``sandbox.CappedReader``): the same reading and the same rules as intake, against what the
current serving snapshot says about locked quarters and the secretariat's exceptions.

What it cannot know is said on screen: the version number the file will get and the comparison
with earlier quarters (V10) come with the full report, which replaces this one as soon as
intake has written it. Nothing here writes anything.
"""

from __future__ import annotations

import concurrent.futures as futures
import datetime as dt
import json
import multiprocessing
import threading

import duckdb

from pipelines.lib.contracts import load_contracts
from pipelines.lib.publish import current_snapshot
from pipelines.lib.reports import FileOutcome, UnitOutcome, sha256_of
from pipelines.lib.sandbox import (
    DEFAULT_MEMORY_MB,
    DEFAULT_SECONDS,
    _limit_memory,
    plain_main,
    stop_pool,
)
from pipelines.settings import Settings


def _warm_child(headroom_bytes: int) -> None:
    """In the child: load everything a check needs, then cap its memory."""
    from pipelines.lib import validate  # noqa: F401
    from pipelines.lib.gx_suite import warm_up

    warm_up()
    _limit_memory(headroom_bytes)


def _check_in_child(data: bytes, name: str, today: str, country: str,
                    locked: list[tuple], excepted: list[tuple]) -> list[dict]:
    from pipelines.lib.reader import read_submission
    from pipelines.lib.validate import ValidationContext, check_cells_of_files, validate_frame

    read = read_submission(data, name)
    cells = check_cells_of_files([read.frame if read.ok else None])[0]
    context = ValidationContext(today=dt.date.fromisoformat(today), submitter_country=country,
                                role="submitter", locked_units=frozenset(map(tuple, locked)),
                                lock_exceptions=frozenset(map(tuple, excepted)))
    units = []
    for unit in validate_frame(read.frame, read.findings, context, cells):
        units.append({"dataset": unit.unit.dataset, "country": unit.unit.country,
                      "period": unit.unit.period, "status": unit.status,
                      "errors": unit.errors, "warnings": unit.warnings,
                      "findings": [f.as_dict() for f in unit.findings]})
    return units


def known_locks(settings: Settings, country: str) -> tuple[list[tuple], list[tuple]]:
    """The country's accepted (locked) units and its exceptions still valid, from the current
    serving snapshot, as intake takes them from the warehouse."""
    snapshot = current_snapshot(settings)
    if snapshot is None:
        return [], []
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()}
        locked = con.execute(
            "select country, dataset, period from marts.submissions_status "
            "where country = ? and current_status = 'accepted'", [country]
        ).fetchall() if "submissions_status" in tables else []
        events = con.execute(
            "select details from marts.audit_trail where action = 'lock_exception'"
        ).fetchall() if "audit_trail" in tables else []
    finally:
        con.close()
    excepted = []
    for (details,) in events:
        try:
            d = json.loads(details)
        except (TypeError, ValueError):
            continue
        if d.get("country") == country and d.get("valid_until", "") >= settings.today.isoformat():
            excepted.append((d["country"], d.get("dataset"), d.get("period")))
    return locked, excepted


class DryRun:
    """The warm, capped child of this server (one per process, see :func:`dry_run`)."""

    def __init__(self, memory_mb: int = DEFAULT_MEMORY_MB, seconds: float = DEFAULT_SECONDS):
        self.memory_mb, self.seconds = memory_mb, seconds
        self._pool: futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start the child now (its imports take seconds), without waiting for it."""
        with self._lock:
            self._executor()

    def check(self, settings: Settings, data: bytes, name: str, country: str
              ) -> FileOutcome | None:
        """The first check's report, or None when the child could not give one in time (the
        page then waits for the full report alone)."""
        locked, excepted = known_locks(settings, country)
        with self._lock:
            with plain_main():
                future = self._executor().submit(_check_in_child, data, name,
                                                 settings.today.isoformat(), country, locked,
                                                 excepted)
            try:
                units = future.result(timeout=self.seconds)
            except Exception:  # noqa: BLE001 - too slow, too big, or broken: no first check
                self._stop(kill=True)
                return None
        sha = sha256_of(data)
        datasets = load_contracts().datasets
        outcome = FileOutcome(file_name=name, sha256=sha, duplicate=False,
                              received_at=dt.datetime.now(dt.UTC).isoformat())
        for u in units:
            suffix = u["dataset"] if u["dataset"] in datasets else "FILE"
            outcome.units.append(UnitOutcome(submission_id=f"{sha[:12]}-{suffix}", version=None,
                                             is_late=None, **u))
        return outcome

    def _executor(self) -> futures.ProcessPoolExecutor:
        if self._pool is None:
            with plain_main():
                self._pool = futures.ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm_child, initargs=(self.memory_mb * 2**20,))
                self._pool.submit(int)  # starts the child and its imports now
        return self._pool

    def _stop(self, *, kill: bool) -> None:
        pool, self._pool = self._pool, None
        stop_pool(pool, kill=kill)


_DRY_RUN = DryRun()


def dry_run() -> DryRun:
    """This server's first-check child (started on first use, kept warm)."""
    return _DRY_RUN
