"""Fault injection: the real pipeline (``observatory submit`` as a process of its own, in a
temporary home) is SIGKILLed during intake, during dbt and during publish; the disk fills up while
a snapshot is written; the landing folder cannot be read.

After each fault: no submission is lost (its bytes are archived or the file is where it was) or
stored twice, no submission is half-loaded, the last good snapshot is still served, and the next
run (the same files submitted again) completes and publishes on its own.

The kill points are ``$OBSERVATORY_FAULT`` hooks (``pipelines.lib.faults.fault_point``): the
process SIGKILLs itself there, as the kernel's OOM killer or a power cut would, with no chance to
clean up (dbt builds in the run's own process: its kill point is twenty nodes into the build).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.intake import sha256_of
from tests.robustness.corpus import csv_bytes, justice_rows
from tests.robustness.pipeline_harness import (
    check_served,
    check_warehouse,
    current_name,
    submit,
    unit_file,
)

integration = pytest.mark.integration  # the tests that run the real pipeline as a process

KILLED = -signal.SIGKILL
INTAKE_FAULTS = ("after_archive", "before_commit", "after_commit")
PUBLISH_FAULTS = ("during_snapshot", "before_pointer")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """A home with one good snapshot, and the files each fault test submits (one per test)."""
    root = tmp_path_factory.mktemp("faults")
    home, drop = root / "home", root / "files"
    drop.mkdir()
    periods = iter(f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4))
    state = {"home": home, "files": {}}
    baseline = unit_file(drop, next(periods))
    code, out = submit(home, [baseline])
    assert code == 0, out
    state["good"] = check_served(home)["name"]
    for fault in (*INTAKE_FAULTS, "during_dbt", *PUBLISH_FAULTS):
        state["files"][fault] = unit_file(drop, next(periods))
    return state


def archived(home: Path, path: Path) -> bool:
    return (home / "archive" / sha256_of(path.read_bytes())).is_file()


@integration
@pytest.mark.parametrize("fault", INTAKE_FAULTS)
def test_sigkill_during_intake_loses_nothing_and_keeps_serving(faulty, fault):
    home, path = faulty["home"], faulty["files"][fault]
    code, out = submit(home, [path], fault=fault)
    assert code == KILLED, out
    assert path.exists()  # the submitted file is where it was
    assert archived(home, path)  # and its bytes are kept
    stored = check_warehouse(home)["files"]
    # All or nothing: committed exactly when the kill came after the commit.
    assert (sha256_of(path.read_bytes()) in stored) == (fault == "after_commit")
    assert current_name(home) == faulty["good"]
    check_served(home)


@integration
def test_sigkill_during_dbt_keeps_the_last_snapshot(faulty):
    home, path = faulty["home"], faulty["files"]["during_dbt"]
    code, out = submit(home, [path], fault="during_dbt")  # twenty nodes into the build
    assert code == KILLED, out
    assert sha256_of(path.read_bytes()) in check_warehouse(home)["files"]  # intake had committed
    assert current_name(home) == faulty["good"]
    check_served(home)


@integration
@pytest.mark.parametrize("fault", PUBLISH_FAULTS)
def test_sigkill_during_publish_keeps_the_last_snapshot(faulty, fault):
    home, path = faulty["home"], faulty["files"][fault]
    code, out = submit(home, [path], fault=fault)
    assert code == KILLED, out
    assert sha256_of(path.read_bytes()) in check_warehouse(home)["files"]
    assert current_name(home) == faulty["good"]
    check_served(home)


@integration
def test_the_next_run_recovers_on_its_own(faulty):
    """The same files again, in one run: each stored exactly once, all published."""
    home = faulty["home"]
    files = list(faulty["files"].values())
    code, out = submit(home, files)
    assert code == 0, out
    warehouse = check_warehouse(home)
    assert {sha256_of(p.read_bytes()) for p in files} <= warehouse["files"]
    assert len(warehouse["files"]) == 1 + len(files)  # baseline + each file once
    served = check_served(home)
    assert served["name"] != faulty["good"]
    assert served["submissions"] == warehouse["submissions"]
    # What the killed runs left in serving/ (a partial or unpointed snapshot) is pruned.
    left = sorted(p.name for p in (home / "serving").glob("*.duckdb"))
    assert len(left) <= 3 and served["name"] in left
    # The files whose intake had committed are recognised as received, not stored again; the
    # one killed between its commit and its report gets its report rebuilt from the warehouse.
    committed = {sha256_of(faulty["files"][f].read_bytes())
                 for f in ("after_commit", "during_dbt", *PUBLISH_FAULTS)}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        duplicates = {sha for (sha,) in con.execute(
            "select file_sha256 from raw.audit_events where action = 'duplicate'").fetchall()}
    assert duplicates == committed
    sha = sha256_of(faulty["files"]["after_commit"].read_bytes())
    assert (home / "archive" / f"{sha}.report.json").is_file()


# --- in process: a lost report, disk full, an unreadable landing folder -------------------------


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_stored_file_whose_report_was_lost_is_still_recognised(observatory_home, tmp_path,
                                                                 damage):
    """Killed between the commit and the report (``after_commit``): the next run of the same
    bytes is a duplicate, and its report is rebuilt from the warehouse instead of crashing."""
    from pipelines.lib import intake
    from pipelines.settings import get_settings

    settings = get_settings()
    path = tmp_path / "bad_and_good.csv"
    path.write_bytes(csv_bytes(justice_rows({(0, 8): "-3"})))  # a rejected unit, with findings
    [first] = intake.take_in([intake.Delivery(path)], settings)
    report = intake.report_path(settings, first.sha256)
    if damage == "missing":
        report.unlink()
    else:
        report.write_text(report.read_text()[:50])
    [again] = intake.take_in([intake.Delivery(path)], settings)
    assert again.duplicate
    strip = lambda o: [(u.submission_id, u.status, u.errors, u.warnings,  # noqa: E731
                        sorted((f["rule"], f["row"], f["message_en"]) for f in u.findings))
                       for u in o.units]
    assert strip(again) == strip(first) and first.units[0].findings
    assert intake.load_report(settings, first.sha256).units == again.units  # written back
    assert check_warehouse(observatory_home)["files"] == {first.sha256}


def test_disk_full_while_publishing_keeps_the_old_snapshot(observatory_home, monkeypatch):
    """A snapshot whose file cannot be written: the pointer stays, the partial file goes."""
    from pipelines.lib import publish
    from pipelines.settings import get_settings

    settings = get_settings()
    settings.ensure_dirs()
    con = duckdb.connect(str(observatory_home / "warehouse.duckdb"))
    con.execute("create schema marts; create table marts.t as select range as x from range(10)")
    first = publish.publish_snapshot(con, settings)["snapshot"]

    real = publish._write_snapshot

    def full_disk(con, path, *args):
        path.write_bytes(b"DUCK" * 100)  # the part that made it to disk
        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(publish, "_write_snapshot", full_disk)
    with pytest.raises(duckdb.IOException):
        publish.publish_snapshot(con, settings)
    assert current_name(observatory_home) == first
    assert sorted(p.name for p in settings.serving_dir.glob("*.duckdb")) == [first]
    with duckdb.connect(str(settings.serving_dir / first), read_only=True) as snap:
        assert snap.execute("select count(*) from marts.t").fetchone()[0] == 10

    # The pointer itself cannot be written: the old one stays whole.
    monkeypatch.setattr(publish, "_write_snapshot", real)
    real_write = Path.write_text

    def no_space(self, *args, **kwargs):
        if self.name == f".{publish.POINTER}.tmp":
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", no_space)
    with pytest.raises(OSError):
        publish.publish_snapshot(con, settings)
    monkeypatch.setattr(Path, "write_text", real_write)
    assert current_name(observatory_home) == first

    # Space again: the next publish succeeds and prunes what the failed one left.
    second = publish.publish_snapshot(con, settings)["snapshot"]
    assert current_name(observatory_home) == second
    con.close()


def test_disk_full_while_taking_in_leaves_the_file_in_landing(observatory_home, tmp_path,
                                                              monkeypatch):
    """The archive cannot be written: nothing is stored, the landing file stays, the next run
    takes it in."""
    from pipelines.lib import intake
    from pipelines.settings import get_settings

    settings = get_settings()
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    path = unit_file(landing, "2024-Q1")
    real = intake._archive

    def no_space(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(intake, "_archive", no_space)
    with pytest.raises(OSError):
        intake.take_in([intake.Delivery(path, channel="landing", remove_after=True)], settings)
    assert path.exists()
    assert check_warehouse(observatory_home)["files"] == set()
    monkeypatch.setattr(intake, "_archive", real)
    [outcome] = intake.take_in([intake.Delivery(path, channel="landing", remove_after=True)],
                               settings)
    assert outcome.accepted and not path.exists()


def test_an_unreadable_landing_file_fails_the_batch_whole_and_is_retried(observatory_home,
                                                                         monkeypatch):
    """Tests run as root, so chmod 000 does not stop a read: the read is made to fail instead.
    The batch fails as a whole (nothing stored, every file left in landing) and the sensor asks
    again with a new run key (Dagster never launches a run key twice)."""
    import dagster as dg

    from pipelines.defs.ingest.sensors import landing_sensor
    from pipelines.lib import intake
    from pipelines.lib.inputs import InputRefused
    from pipelines.lib.landing import BATCH_TAG, MAX_ATTEMPTS
    from pipelines.settings import get_settings

    settings = get_settings()
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    good, bad = unit_file(landing, "2024-Q1"), unit_file(landing, "2024-Q2")
    old = time.time() - 10
    for path in (good, bad):
        os.utime(path, (old, old))
    real = intake.read_regular

    def unreadable(path, within=()):
        if path == bad:
            raise InputRefused("input.unreadable", path)
        return real(path, within)

    monkeypatch.setattr(intake, "read_regular", unreadable)
    with pytest.raises(InputRefused):
        intake.take_in([intake.Delivery(p, channel="landing", remove_after=True)
                        for p in (good, bad)], settings)
    assert good.exists() and bad.exists()
    assert check_warehouse(observatory_home)["files"] == set()

    with dg.instance_for_test() as instance:
        first = landing_sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(first, dg.RunRequest)
        batch = first.tags[BATCH_TAG]
        keys = [first.run_key]
        for attempt in range(MAX_ATTEMPTS):
            instance.add_run(dg.DagsterRun(
                job_name="submission_job", run_id=f"{attempt:08d}-0000-0000-0000-000000000000",
                status=dg.DagsterRunStatus.FAILURE,
                tags={"dagster/run_key": keys[-1], BATCH_TAG: batch}))
            again = landing_sensor(dg.build_sensor_context(instance=instance))
            if attempt + 1 < MAX_ATTEMPTS:
                assert isinstance(again, dg.RunRequest) and again.run_key not in keys
                keys.append(again.run_key)
        assert isinstance(again, dg.SkipReason)  # a file that always fails does not loop forever

    monkeypatch.setattr(intake, "read_regular", real)  # readable again: taken in, landing emptied
    outcomes = intake.take_in([intake.Delivery(p, channel="landing", remove_after=True)
                               for p in (good, bad)], settings)
    assert all(o.accepted for o in outcomes) and not any(landing.iterdir())
