"""The landing-folder sensor: a file dropped in ``landing/`` starts the submission job."""


import hashlib
import time

import dagster as dg

from pipelines.defs.jobs import submission_job
from pipelines.lib.i18n import t
from pipelines.lib.inputs import kind_of, move_aside
from pipelines.settings import get_settings

SETTLE_SECONDS = 1.0  # a file still being written is left for the next tick
BATCH_TAG = "observatory/landing_batch"
MAX_ATTEMPTS = 5  # attempts at the same set of files before the sensor stops retrying it


@dg.sensor(
    job=submission_job,
    minimum_interval_seconds=2,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the submission job for files dropped in data/landing/.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    settings = get_settings()
    landing = settings.landing_dir
    if not landing.exists():
        return dg.SkipReason(f"{landing} does not exist yet")
    now = time.time()
    ready = []
    for path in sorted(landing.rglob("*")):  # rglob does not descend into linked folders
        if path.name.startswith("."):
            continue
        problem = kind_of(path)
        if problem in ("input.directory", "input.missing"):
            continue
        if problem:
            # A link (to a file anywhere), a FIFO or a device is never read: it leaves the
            # landing folder (the entry itself, not what it points to) and the log says why.
            try:
                target = move_aside(settings, path)
            except OSError as error:  # one odd entry must not stop the folder for good
                context.log.error(f"{path}: {problem}; could not move it aside: {error}")
                continue
            context.log.warning(t("input.moved_aside", "en", path=path, target=target,
                                  reason=t(problem, "en", path=path.name)))
            continue
        if now - path.lstat().st_mtime > SETTLE_SECONDS:
            ready.append(path)
    if not ready:
        return dg.SkipReason("no file in the landing folder")
    keys = []
    for path in ready:
        stat = path.stat()
        keys.append(f"{path.relative_to(landing)}:{stat.st_size}:{stat.st_mtime_ns}")
    batch = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    # Dagster never launches a run key twice. Files still here after a run of this batch FAILED
    # (intake died, the disk was full, ...) would otherwise wait forever for another drop: each
    # attempt after a failure gets a key of its own, up to MAX_ATTEMPTS.
    failed = context.instance.get_runs_count(dg.RunsFilter(
        tags={BATCH_TAG: batch},
        statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]))
    if failed >= MAX_ATTEMPTS:
        return dg.SkipReason(f"{len(ready)} file(s) failed {failed} times; touch or drop them "
                             "again to retry")
    run_key = batch if not failed else f"{batch}:attempt-{failed + 1}"
    return dg.RunRequest(
        run_key=run_key,
        run_config={"ops": {"intake": {"config": {
            "files": [str(p) for p in ready],
            "channel": "landing",
            "actor": "landing-folder",
            "remove_after": True,
        }}}},
        tags={"observatory/channel": "landing", BATCH_TAG: batch},
    )
