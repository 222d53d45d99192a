"""The landing watch: a file dropped in ``landing/`` starts its run as soon as it is complete.

With the landing sensor alone, a drop's run started at the sensor's next tick: Dagster's daemon
evaluates sensors every 5 s at best, and the sensor waits until a file has not changed for a
second, so a drop waited about 4 s before its run existed. The kernel tells the watch (inotify,
through watchdog) when a writer closes a file it wrote, or when a file is moved in whole; the
watch then asks the sensor's own question (``pipelines/lib/landing.py``), counting such a file
complete at once. A file written again after it was closed counts only once closed again (or,
as for the sensor, once unchanged for a second).

It launches the batch's run as the sensor would have: the same job, configuration and tags, the
sensor's name and the same run key, through the operator UI's GraphQL, in whose process it runs
(``pipelines/operator_ui.py``). So the sensor, which keeps ticking, finds the run already there
and does not start it again; and without the watch (the operator UI stopped, or inotify refused)
the sensor still starts every batch's run, seconds later.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from dagster import RunsFilter
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from pipelines.defs.ingest.sensors import failed_attempts
from pipelines.lib.landing import JOB, SENSOR, ready_batch, settled
from pipelines.orchestrator import launch
from pipelines.settings import Settings

DEBOUNCE_SECONDS = 0.2  # files copied in together are taken in together
TRIGGER_TAG = "observatory/trigger"  # "landing-watch" on the runs the watch started
RUN_KEY_TAG, SENSOR_NAME_TAG = "dagster/run_key", "dagster/sensor_name"  # Dagster's own


def _say(text: str) -> None:
    print(f"landing watch: {text}", file=sys.stderr, flush=True)


class LandingWatch(FileSystemEventHandler):
    """Watches ``settings.landing_dir`` from :meth:`start` to :meth:`stop`, launching through the
    operator UI at ``url`` (the run goes to Dagster's queue, like the sensor's)."""

    def __init__(self, settings: Settings, instance, url: str):
        super().__init__()
        self.settings, self.instance, self.url = settings, instance, url
        self._closed: dict[Path, int] = {}  # file → its modification time when last closed
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer = None
        self._thread = threading.Thread(target=self._loop, name="landing-watch", daemon=True)

    # --- watchdog's callbacks, in its thread

    def on_closed(self, event) -> None:  # inotify's IN_CLOSE_WRITE: the writer is done
        self._completed(event.src_path)

    def on_moved(self, event) -> None:  # renamed into place whole (as rsync and sftp do)
        self._completed(event.dest_path)

    def _completed(self, path: str | bytes) -> None:
        path = Path(os.fsdecode(path))
        try:
            info = path.lstat()
        except OSError:
            return
        with self._lock:
            self._closed[path] = info.st_mtime_ns
        self._wake.set()

    # ---

    def complete(self, path: Path, info: os.stat_result) -> bool:
        with self._lock:
            closed = self._closed.get(path)
        return closed == info.st_mtime_ns or settled(path, info)

    def start(self) -> bool:
        """Start watching; False (and the sensor alone) when the folder cannot be watched."""
        landing = self.settings.landing_dir
        try:
            observer = Observer()
            observer.schedule(self, str(landing), recursive=True)
            observer.start()
        except (OSError, RuntimeError) as error:  # no folder, inotify's limits, ...
            _say(f"not watching {landing} ({error}); the landing sensor starts its runs")
            return False
        self._observer = observer
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            time.sleep(DEBOUNCE_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.launch_ready()
            except Exception as error:  # noqa: BLE001 - the sensor starts the run then
                _say(f"could not start a run: {error}")

    def launch_ready(self) -> str | None:
        """Launch the run of the batch complete now, unless it has one; its id, else None."""
        batch = ready_batch(self.settings, self.complete, warn=_say, error=_say)
        with self._lock:  # what was taken in is forgotten
            self._closed = {p: m for p, m in self._closed.items() if p.exists()}
        if batch is None:
            return None
        key = batch.run_key(failed_attempts(self.instance, batch))
        if key is None or self.instance.get_runs_count(
                RunsFilter(tags={RUN_KEY_TAG: key, SENSOR_NAME_TAG: SENSOR})):
            return None
        tags = {**batch.tags(), RUN_KEY_TAG: key, SENSOR_NAME_TAG: SENSOR,
                TRIGGER_TAG: "landing-watch"}
        return launch(self.settings, JOB, "intake", batch.intake_config(), tags,
                      person_waiting=False, url=self.url)
