"""The landing folder: which dropped files are ready to take in, as one batch with a key of its own.

Two things start a batch's run and ask the same question here: the landing sensor
(``pipelines/defs/ingest/sensors.py``), at each tick, and the landing watch
(``pipelines/landing_watch.py``), the moment a file is complete. Both give the batch the same run
key, so a batch is taken in once whichever asks first.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.i18n import t
from pipelines.lib.inputs import kind_of, move_aside
from pipelines.settings import Settings

SETTLE_SECONDS = 1.0  # unchanged this long, a file nobody said was complete counts as complete
BATCH_TAG = "observatory/landing_batch"
MAX_ATTEMPTS = 5  # attempts at the same set of files before the sensor stops retrying it
SENSOR = "landing_sensor"  # the sensor's name, which runs of a batch carry (Dagster's run key)
JOB = "submission_job"  # what a batch's run runs
ACTOR = "landing-folder"

# Whether a file is complete, from its path and lstat; the default: unchanged for SETTLE_SECONDS.
Complete = Callable[[Path, os.stat_result], bool]


def settled(path: Path, info: os.stat_result) -> bool:
    return time.time() - info.st_mtime > SETTLE_SECONDS


@dataclass(frozen=True)
class Batch:
    """The files ready in the landing folder; ``digest`` names this set of files as they are
    (names, sizes, modification times)."""

    files: tuple[Path, ...]
    digest: str

    def run_key(self, failed_attempts: int) -> str | None:
        """The key of this batch's next run, after ``failed_attempts`` runs of it failed; None
        once it has failed MAX_ATTEMPTS times (a touch or a new drop makes a new batch).

        Dagster never launches a run key twice. Files still here after a run of this batch
        failed (intake died, the disk was full, ...) would otherwise wait forever for another
        drop: each attempt after a failure gets a key of its own."""
        if failed_attempts >= MAX_ATTEMPTS:
            return None
        return self.digest if not failed_attempts else f"{self.digest}:attempt-{failed_attempts + 1}"

    def intake_config(self) -> dict:
        """The intake's configuration: the files, from the landing channel, removed from the
        folder once stored."""
        return {"files": [str(p) for p in self.files], "channel": "landing", "actor": ACTOR,
                "remove_after": True}

    def tags(self) -> dict[str, str]:
        return {"observatory/channel": "landing", BATCH_TAG: self.digest}


def ready_batch(settings: Settings, complete: Complete = settled,
                warn: Callable[[str], None] = lambda _: None,
                error: Callable[[str], None] = lambda _: None) -> Batch | None:
    """The complete files in the landing folder (its sub-folders too), or None when there are
    none. A link (to a file anywhere), a FIFO or a device is never read: the entry itself, not
    what it points to, leaves the folder, and ``warn`` says why."""
    landing = settings.landing_dir
    if not landing.exists():
        return None
    ready = []
    for path in sorted(landing.rglob("*")):  # rglob does not descend into linked folders
        if path.name.startswith("."):
            continue
        problem = kind_of(path)
        if problem in ("input.directory", "input.missing"):
            continue
        if problem:
            try:
                target = move_aside(settings, path)
            except OSError as failure:  # one odd entry must not stop the folder for good
                error(f"{path}: {problem}; could not move it aside: {failure}")
                continue
            warn(t("input.moved_aside", "en", path=path, target=target,
                   reason=t(problem, "en", path=path.name)))
            continue
        try:
            info = path.lstat()
        except FileNotFoundError:  # taken in meanwhile
            continue
        if complete(path, info):
            ready.append((path, info))
    if not ready:
        return None
    keys = [f"{path.relative_to(landing)}:{info.st_size}:{info.st_mtime_ns}" for path, info in ready]
    return Batch(tuple(path for path, _ in ready),
                 hashlib.sha256("\n".join(keys).encode()).hexdigest())
