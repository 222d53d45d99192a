"""The landing-folder sensor: a file dropped in ``landing/`` starts the submission job.

The landing watch (``pipelines/landing_watch.py``) usually starts the run first, the moment a
file is complete; the sensor, at each tick, is what makes sure every batch gets its run, with the
same run key (``pipelines/lib/landing.py``), so Dagster never starts a batch twice."""

import dagster as dg

from pipelines.lib.landing import BATCH_TAG, JOB, SENSOR, Batch, ready_batch
from pipelines.settings import get_settings


def failed_attempts(instance: dg.DagsterInstance, batch: Batch) -> int:
    """How many runs of ``batch`` failed or were cancelled."""
    return instance.get_runs_count(dg.RunsFilter(
        tags={BATCH_TAG: batch.digest},
        statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]))


# The job by its name: this module stays light enough for the landing watch to import
# (pipelines/landing_watch.py, in the operator UI's process, which does not load the jobs).
@dg.sensor(
    name=SENSOR,
    job_name=JOB,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the submission job for files dropped in data/landing/.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    settings = get_settings()
    if not settings.landing_dir.exists():
        return dg.SkipReason(f"{settings.landing_dir} does not exist yet")
    batch = ready_batch(settings, warn=context.log.warning, error=context.log.error)
    if batch is None:
        return dg.SkipReason("no file in the landing folder")
    failed = failed_attempts(context.instance, batch)
    run_key = batch.run_key(failed)
    if run_key is None:
        return dg.SkipReason(f"{len(batch.files)} file(s) failed {failed} times; touch or drop "
                             "them again to retry")
    return dg.RunRequest(run_key=run_key, run_config={"ops": {"intake": {"config": batch.intake_config()}}},
                         tags=batch.tags())
