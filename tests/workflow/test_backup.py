"""Backups that restore (``observatory backup``, ``restore``, ``verify``): a published home with
accounts is backed up, restored into an empty home, and gives the same export, the same audit
trail and the same sign-in; a damaged backup restores nothing; verify finds an altered file."""

from __future__ import annotations

import duckdb
from conftest import PASSWORD

from pipelines.cli import main
from pipelines.lib.auth import AuthStore
from pipelines.lib.export import run_export
from pipelines.lib.i18n import t
from pipelines.lib.publish import current_snapshot
from pipelines.settings import get_settings


def rows(database, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_backup_restores_the_same_figures_trail_and_accounts(workflow_home, tmp_path,
                                                                monkeypatch, capsys):
    original = get_settings()
    # The drill's home has a review decision on record: Honduras' victims accepted and locked.
    [(hnd,)] = rows(original.warehouse_path, "select submission_id from raw.submissions "
                                             "where country = 'HND' and dataset = 'TIP_VICTIMS'")
    assert main(["--lang", "en", "review", "accept", hnd, "--as", "rita"]) == 0
    out = tmp_path / "backup"
    assert main(["--lang", "en", "backup", "--out", str(out)]) == 0
    assert (out / "manifest.json").is_file() and (out / "auth.sqlite").is_file()
    assert main(["--lang", "en", "backup", "--out", str(out)]) == 2  # never over a backup
    capsys.readouterr()

    restored_home = tmp_path / "restored"
    monkeypatch.setenv("OBSERVATORY_HOME", str(restored_home))
    monkeypatch.setenv("DAGSTER_HOME", str(restored_home / "dagster"))
    assert main(["--lang", "fr", "restore", str(out)]) == 0
    restored = get_settings()
    assert main(["--lang", "en", "verify"]) == 0
    assert "Verified:" in capsys.readouterr().out
    # The same published figures, byte for byte in the export; the same trail and submissions.
    for settings, folder in ((original, tmp_path / "a"), (restored, tmp_path / "b")):
        run_export(settings, ["csv"], folder)
    assert (tmp_path / "a" / "indicators.csv").read_bytes() == \
        (tmp_path / "b" / "indicators.csv").read_bytes()
    for sql in ("select * from raw.audit_events order by event_id",
                "select * from raw.submissions order by submission_id",
                "select submission_id, current_status from marts.submissions_status "
                "order by all"):
        assert rows(original.warehouse_path, sql) == rows(restored.warehouse_path, sql)
    assert AuthStore(restored).sign_in("ana", PASSWORD)
    assert rows(restored.warehouse_path, "select current_status from marts.submissions_status "
                f"where submission_id = '{hnd}'") == [("accepted",)]
    # The dashboard's snapshot: the same published tables, row for row.
    snapshots = [current_snapshot(settings) for settings in (original, restored)]
    assert snapshots[0].name == snapshots[1].name
    tables = "select table_schema || '.' || table_name from information_schema.tables order by 1"
    assert rows(snapshots[0], tables) == rows(snapshots[1], tables)
    for (table,) in rows(snapshots[0], tables):
        sql = f"select * from {table} order by all"
        assert rows(snapshots[0], sql) == rows(snapshots[1], sql), table
    assert oct((restored_home / "auth.sqlite").stat().st_mode & 0o777) == "0o600"

    # A home with data is not overwritten unless asked.
    assert main(["--lang", "es", "restore", str(out)]) == 2
    assert t("backup.home_not_empty", "es", path=restored_home) in capsys.readouterr().err
    assert main(["--lang", "en", "restore", str(out), "--replace"]) == 0


def test_a_backup_taken_while_a_submission_runs_restores_a_whole_state(workflow_home, tmp_path,
                                                                        monkeypatch):
    """The backup waits for the writer lock the running job holds: the restored warehouse has
    each submission whole (all its rows) or not at all, and its archive matches it."""
    import fcntl
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from conftest import template_file

    settings = get_settings()
    data = template_file(tmp_path, "BLZ")
    job = subprocess.Popen([str(Path(sys.executable).with_name("observatory")), "--lang", "en",
                            "submit", str(data)], env=dict(os.environ),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    held = False
    with open(settings.writer_lock_path, "a+") as lock:
        while job.poll() is None and not held:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(lock, fcntl.LOCK_UN)
                time.sleep(0.02)
            except BlockingIOError:
                held = True
    assert held, "the job ended before it was seen holding the writer lock"
    out = tmp_path / "backup"
    assert main(["--lang", "en", "backup", "--out", str(out)]) == 0
    assert job.wait(timeout=600) == 0, job.stdout.read()[-2000:]

    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path / "restored"))
    assert main(["--lang", "en", "restore", str(out)]) == 0
    assert main(["--lang", "en", "verify"]) == 0
    per_submission = ("select submission_id, count(*) from raw.observations group by 1 "
                      "order by 1")
    restored = dict(rows(get_settings().warehouse_path, per_submission))
    live = dict(rows(settings.warehouse_path, per_submission))
    assert restored and all(live[sid] == n for sid, n in restored.items())
    submissions = "select submission_id, file_sha256 from raw.submissions"
    assert set(rows(get_settings().warehouse_path, submissions)) <= \
        set(rows(settings.warehouse_path, submissions))


def test_a_damaged_backup_restores_nothing_and_verify_finds_an_altered_file(
        workflow_home, tmp_path, monkeypatch, capsys):
    out = tmp_path / "backup"
    assert main(["--lang", "en", "backup", "--out", str(out)]) == 0
    archived = sorted(p for p in (out / "archive").iterdir() if "." not in p.name)[0]
    archived.write_bytes(archived.read_bytes() + b" ")
    empty = tmp_path / "empty"
    monkeypatch.setenv("OBSERVATORY_HOME", str(empty))
    capsys.readouterr()
    assert main(["--lang", "en", "restore", str(out)]) == 1
    assert "damaged" in capsys.readouterr().err
    assert not (empty / "warehouse.duckdb").exists()
    assert main(["--lang", "en", "restore", str(tmp_path / "nowhere")]) == 2  # a usage error
    assert "does not exist" in capsys.readouterr().err

    # In the live home: an archived file altered, and one the warehouse records removed.
    monkeypatch.setenv("OBSERVATORY_HOME", str(workflow_home))
    archive = sorted(p for p in (workflow_home / "archive").iterdir() if "." not in p.name)
    archive[0].write_bytes(b"changed")
    archive[1].unlink()
    capsys.readouterr()
    assert main(["--lang", "en", "verify"]) == 1
    err = capsys.readouterr().err
    assert t("backup.verify.altered", "en", what=archive[0].name) in err
    assert t("backup.verify.missing", "en", what=archive[1].name) in err


def test_the_daily_backup_keeps_the_newest(workflow_home, tmp_path, monkeypatch):
    """The schedule's job writes a dated backup and keeps $OBSERVATORY_BACKUP_KEEP of them; it
    is off unless $OBSERVATORY_BACKUP_DIR is set; a bad setting stops it with its reason."""
    import datetime as dt

    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.lib.backup import BackupError, scheduled_backup

    assert defs.resolve_schedule_def("backup_schedule").default_status == \
        dg.DefaultScheduleStatus.STOPPED  # this test process has no OBSERVATORY_BACKUP_DIR
    settings = get_settings()
    monkeypatch.setenv("OBSERVATORY_BACKUP_DIR", str(tmp_path / "daily"))
    monkeypatch.setenv("OBSERVATORY_BACKUP_KEEP", "2")
    (tmp_path / "daily").mkdir()
    (tmp_path / "daily" / "observatory-19990101T000000Z").mkdir()  # no manifest: not ours
    for day in (1, 2, 3):
        scheduled_backup(settings, dt.datetime(2026, 12, day, 2, 30, tzinfo=dt.UTC))
    result = defs.resolve_job_def("backup_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    names = sorted(p.name for p in (tmp_path / "daily").iterdir())
    assert names[0] == "observatory-19990101T000000Z" and len(names) == 3
    assert names[1] == "observatory-20261203T023000Z"  # the newest two: the 3rd and today's
    monkeypatch.setenv("OBSERVATORY_BACKUP_KEEP", "none")
    try:
        scheduled_backup(settings)
    except BackupError as error:
        assert error.key == "backup.bad_keep"
    else:
        raise AssertionError("a bad OBSERVATORY_BACKUP_KEEP was accepted")
