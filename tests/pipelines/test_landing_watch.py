"""The landing watch (pipelines/landing_watch.py): when a dropped file counts as complete. Its
runs on a served instance, and the sensor not starting them again, are checked in
tests/integration/test_make_run.py."""

from __future__ import annotations

import os
import threading
import time

import pytest

from pipelines.landing_watch import LandingWatch
from pipelines.lib.landing import SETTLE_SECONDS, ready_batch
from pipelines.settings import Settings


class Recording(LandingWatch):
    """The watch with its launch replaced by a note of the batch it would launch."""

    def __init__(self, settings):
        super().__init__(settings, instance=None, url="http://127.0.0.1:9")
        self.batches = []
        self.asked = threading.Event()

    def launch_ready(self):
        self.batches.append(ready_batch(self.settings, self.complete))
        self.asked.set()


@pytest.fixture
def watch(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    watch = Recording(settings)
    assert watch.start()
    yield watch
    watch.stop()


def asked(watch: Recording) -> bool:
    found = watch.asked.wait(timeout=10)
    watch.asked.clear()
    return found


def test_a_file_is_complete_when_its_writer_closes_it_not_before(watch):
    path = watch.settings.landing_dir / "GTM_2024-Q1.csv"
    with path.open("wb") as handle:
        handle.write(b"indicator_code,")
        handle.flush()
        time.sleep(0.5)
        assert not watch.asked.is_set()  # still being written: nothing is asked
        assert not watch.complete(path, path.lstat())
    assert asked(watch)
    assert watch.complete(path, path.lstat())
    assert watch.batches[-1].files == (path,)


def test_a_file_written_again_after_closing_waits_for_its_next_close(watch):
    path = watch.settings.landing_dir / "GTM_2024-Q1.csv"
    path.write_bytes(b"first")
    assert asked(watch)
    with path.open("ab") as handle:
        handle.write(b" and more")
        handle.flush()
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # a later mtime
        assert not watch.complete(path, path.lstat())
    assert asked(watch)
    assert watch.complete(path, path.lstat())


def test_a_file_moved_in_whole_is_complete_and_hidden_files_are_not_taken(watch, tmp_path):
    landing = watch.settings.landing_dir
    (landing / "sub").mkdir()
    hidden = landing / ".part-GTM.csv"  # how rsync and sftp clients write before renaming
    hidden.write_bytes(b"partial")
    assert asked(watch)
    assert watch.batches[-1] is None  # a hidden file is never a submission
    hidden.rename(landing / "sub" / "GTM_2024-Q1.csv")
    assert asked(watch)
    assert watch.batches[-1].files == (landing / "sub" / "GTM_2024-Q1.csv",)


def test_a_file_nobody_closed_is_complete_once_settled(watch):
    """What the sensor counts complete, the watch does too (the same batch, the same run key)."""
    path = watch.settings.landing_dir / "old.csv"
    path.write_bytes(b"x")
    old = time.time() - SETTLE_SECONDS - 5
    os.utime(path, (old, old))
    assert asked(watch)
    with watch._lock:
        watch._closed.clear()
    assert watch.complete(path, path.lstat())
    assert ready_batch(watch.settings, watch.complete) == ready_batch(watch.settings)


def test_a_folder_it_cannot_watch_leaves_the_sensor_alone(tmp_path):
    watch = LandingWatch(Settings(home=tmp_path / "missing"), instance=None, url="")
    assert watch.start() is False
    watch.stop()
