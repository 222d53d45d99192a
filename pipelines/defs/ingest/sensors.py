"""The landing-folder sensor: a file dropped in ``landing/`` starts the submission job."""


import hashlib
import time

import dagster as dg

from pipelines.defs.jobs import submission_job
from pipelines.settings import get_settings

SETTLE_SECONDS = 1.0  # a file still being written is left for the next tick


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
    ready = sorted(
        p for p in landing.rglob("*")
        if p.is_file() and not p.name.startswith(".") and now - p.stat().st_mtime > SETTLE_SECONDS
    )
    if not ready:
        return dg.SkipReason("no file in the landing folder")
    keys = []
    for path in ready:
        stat = path.stat()
        keys.append(f"{path.relative_to(landing)}:{stat.st_size}:{stat.st_mtime_ns}")
    run_key = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    return dg.RunRequest(
        run_key=run_key,
        run_config={"ops": {"intake": {"config": {
            "files": [str(p) for p in ready],
            "channel": "landing",
            "actor": "landing-folder",
            "remove_after": True,
        }}}},
        tags={"observatory/channel": "landing"},
    )
