"""Read spreadsheets in a separate process with a memory cap and a time limit.

A workbook is a zip of XML that a hostile or broken file can make expensive to parse (a huge
declared dimension, millions of cells). Parsing it in a child process means such a file costs the
child, not the server or the pipeline: past the limits the child is killed and the file gets a
V01 finding. CSV is parsed in the calling process (its cost is bounded by its size).
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import multiprocessing
import os
import resource
import sys
import types
from dataclasses import dataclass

from pipelines.lib.findings import Finding
from pipelines.lib.reader import ZIP_SIGNATURE, ReadResult, read_submission

# Memory a workbook may take to parse, beyond what the reader's libraries take themselves.
DEFAULT_MEMORY_MB = int(os.environ.get("OBSERVATORY_READ_MEMORY_MB", "1024"))
DEFAULT_SECONDS = float(os.environ.get("OBSERVATORY_READ_SECONDS", "60"))


def _limit_memory(headroom_bytes: int) -> None:
    """In the child: load the readers first, then allow ``headroom_bytes`` more address space."""
    import fastexcel  # noqa: F401
    import polars  # noqa: F401

    with open("/proc/self/statm") as statm:  # size resident shared text lib data dt (pages)
        mapped = int(statm.read().split()[5]) * resource.getpagesize()
    limit = mapped + headroom_bytes
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


@contextlib.contextmanager
def plain_main():
    """Start spawned processes without re-importing the caller's ``__main__`` (spawn does by
    default): under Streamlit, or after Streamlit's AppTest ran in a test process, that module is a
    page script the child must not run. Wrap the call that starts the process."""
    real = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


@dataclass
class CappedReader:
    """``read(data, name)`` as :func:`read_submission`, workbooks in a capped child process.

    Use as a context manager over a batch: one child serves every workbook of the batch.
    """

    memory_mb: int = DEFAULT_MEMORY_MB
    seconds: float = DEFAULT_SECONDS
    _pool: futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> CappedReader:
        return self

    def __exit__(self, *exc) -> None:
        self._stop(kill=False)

    def read(self, data: bytes, name: str) -> ReadResult:
        if not data.startswith(ZIP_SIGNATURE):
            return read_submission(data, name)
        with plain_main():
            future = self._executor().submit(read_submission, data, name)
        try:
            return future.result(timeout=self.seconds)
        except futures.TimeoutError:
            self._stop(kill=True)
            return ReadResult(findings=[Finding.make(
                "V01", "finding.read_too_slow", limit=f"{self.seconds:g} s")], file_format="xlsx")
        except (futures.process.BrokenProcessPool, MemoryError):
            self._stop(kill=True)
            return ReadResult(findings=[Finding.make(
                "V01", "finding.read_too_big", limit=f"{self.memory_mb} MB")], file_format="xlsx")
        except Exception as error:  # the child failed in a way the reader did not foresee
            self._stop(kill=True)
            return ReadResult(findings=[Finding.make(
                "V01", "finding.xlsx_unreadable", value=str(error)[:200])], file_format="xlsx")

    def _executor(self) -> futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent runs polars' and Dagster's threads.
            self._pool = futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory, initargs=(self.memory_mb * 2**20,))
        return self._pool

    def _stop(self, *, kill: bool) -> None:
        pool, self._pool = self._pool, None
        stop_pool(pool, kill=kill)


def stop_pool(pool: futures.ProcessPoolExecutor | None, *, kill: bool) -> None:
    """Shut a child pool down; ``kill``: its children first (one stuck in a hostile file would
    otherwise hold the shutdown)."""
    if pool is None:
        return
    if kill:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
    pool.shutdown(wait=not kill, cancel_futures=True)
