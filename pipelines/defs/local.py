"""Run a job in the calling process, for the command line when no orchestrator is running and
for tests of the jobs themselves. Never imported by the dashboard (a test pins it): its server
hands every job to the orchestrator (``pipelines.orchestrator``)."""

from __future__ import annotations

import threading

from pipelines.lib.dagster_home import prepare_dagster_home
from pipelines.orchestrator import RunState
from pipelines.settings import Settings

# Dagster captures each step's output by pointing this process's stdout/stderr file descriptors
# at a log file (and tailing it back). Two runs at once in one process swap those descriptors
# under each other, so runs in one process take turns (they take turns at the warehouse's writer
# lock anyway).
_IN_PROCESS_RUN = threading.Lock()


def run_job_in_process(settings: Settings, job_name: str, op_name: str, config: dict, *,
                       tags: dict[str, str], log_level: str = "WARNING"):
    """Run one of ``pipelines.definitions``' jobs here, in the Dagster instance of ``settings``
    (so it shows in the operator UI's run history); return Dagster's result."""
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


def state_of(result) -> RunState:
    """An in-process result as the orchestrator's :class:`RunState` (what the pages read)."""
    state = RunState(result.run_id, "SUCCESS" if result.success else "FAILURE")
    for event in result.all_events:
        if event.is_step_materialization:
            for label, value in event.event_specific_data.materialization.metadata.items():
                if type(value).__name__ == "JsonMetadataValue":
                    state.metadata[label] = value.value
        error = getattr(event.event_specific_data, "error", None) if event.is_failure else None
        if error is not None:
            chain = []
            while error is not None:
                chain.append(error.message.strip())
                error = error.cause
            state.errors.append(chain)
    return state


def run_here(settings: Settings, log_level: str = "WARNING"):
    """A runner (see ``pipelines.orchestrator.queued``) that runs the job in this process."""

    def run(job: str, op: str, config: dict, tags: dict[str, str]) -> RunState:
        return state_of(run_job_in_process(settings, job, op, config, tags=tags,
                                           log_level=log_level))

    return run
