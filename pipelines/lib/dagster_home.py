"""The persistent Dagster home under the observatory's home: run history, sensor cursors, run keys."""

from __future__ import annotations

import os
import threading

from pipelines.settings import Settings

DAGSTER_YAML = """\
# Written by the observatory (rewritten at each start). Runs that write the warehouse run one
# at a time; the queue is checked every second, not every five.
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
    dequeue_interval_seconds: 1
"""


def prepare_dagster_home(settings: Settings) -> None:
    """Create DAGSTER_HOME with its dagster.yaml and point the environment at it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


# Dagster captures each step's output by pointing this process's stdout/stderr file descriptors at
# a log file (and tailing it back). Two runs at once in one process (the dashboard's server runs an
# upload's job in a thread while a reviewer's or an explanation's job starts in another) swap those
# descriptors under each other: one run's output went into the other's log, and the capture can
# feed on itself. Runs in one process therefore take turns; they take turns at the warehouse's
# writer lock anyway.
_IN_PROCESS_RUN = threading.Lock()


def run_job_in_process(settings: Settings, job_name: str, op_name: str, config: dict, *,
                       tags: dict[str, str], log_level: str = "WARNING"):
    """Run one of ``pipelines.definitions``' jobs in this process, in the Dagster instance of
    ``settings`` (so it shows in the Dagster UI's run history); return its result."""
    from dagster import DagsterInstance

    settings.ensure_dirs()
    prepare_dagster_home(settings)
    from pipelines.definitions import defs

    with _IN_PROCESS_RUN, DagsterInstance.get() as instance:
        return defs.resolve_job_def(job_name).execute_in_process(
            run_config={"ops": {op_name: {"config": config}},
                        "loggers": {"console": {"config": {"log_level": log_level}}}},
            instance=instance, raise_on_error=False, tags=tags,
        )


def first_error(result) -> str:
    """The message of a failed run's first error ("" if none): the innermost cause, which says
    what went wrong, rather than Dagster's "Error occurred while executing op"."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None) if event.is_failure else None
        if error is not None:
            while error.cause is not None:
                error = error.cause
            return error.message.strip()
    return ""
