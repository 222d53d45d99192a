"""Warmth for every run: imported once by the code server's fork server (``pipelines/code_server.py``).

Each run is a fork of that server, so what it holds, every run starts with. Beyond the modules
the definitions import, two things a run would otherwise redo before its work:

1. Dagster's instance machinery (the SQLite storages, alembic, the run coordinator and launcher,
   the secrets loader): imported by every run before its first event, about 0.6 s a run.
2. dbt: the project parsed (``pipelines.lib.dbt`` keeps it for the life of the process, so a run
   does not parse again) and one build on an empty warehouse of its own, in a temporary folder.
   The first build in a process compiles dbt's templates and its macro namespace, about a
   second more than the next build; this one pays it for all of them.

Nothing of the home is opened: the scratch warehouse is a temporary file, closed and deleted,
and dbt's worker threads end with its build. A failure here only costs the warmth (said on
standard error): an exception out of an import in the fork server would stop every run.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

INSTANCE_MODULES = (
    "dagster._core.instance.factory",
    "dagster._core.storage.root",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.schedules.sqlite",
    "dagster._core.storage.local_compute_log_manager",
    "dagster._core.storage.migration.utils",
    "dagster._core.run_coordinator.queued_run_coordinator",
    "dagster._core.launcher.default_run_launcher",
    "dagster._core.scheduler",
    "dagster._core.secrets.env_file",
    "alembic.config",
    "alembic.command",
    "alembic.runtime.migration",
    "upath",
    "fsspec.implementations.local",
)


def import_instance_modules() -> None:
    for name in INSTANCE_MODULES:
        importlib.import_module(name)


def warm_dbt() -> float:
    """Parse the project and build it once on an empty scratch warehouse; the seconds it took."""
    from pipelines.lib import dbt
    from pipelines.lib.warehouse import connect_writer
    from pipelines.settings import Settings

    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="observatory-warmup-"))
    fault = os.environ.pop("OBSERVATORY_FAULT", None)  # a kill point is for runs, not this build
    try:
        settings = Settings(home=scratch)
        connect_writer(settings.warehouse_path).close()  # the raw tables dbt reads, empty
        dbt.build(settings)
    finally:
        if fault is not None:
            os.environ["OBSERVATORY_FAULT"] = fault
        shutil.rmtree(scratch, ignore_errors=True)
    return time.monotonic() - started


def warm() -> None:
    try:
        import_instance_modules()
        seconds = warm_dbt()
    except Exception as error:  # noqa: BLE001 - see the module's docstring
        print(f"run warm-up skipped: {error!r}", file=sys.stderr, flush=True)
        return
    # A fork copies only the thread that forks: one left running here would be missing, with
    # whatever lock it held, in every run.
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(f"runs warmed up in {seconds:.1f} s" + (f"; threads left: {others}" if others else ""),
          file=sys.stderr, flush=True)


warm()
