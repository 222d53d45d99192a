"""Dagster's storage on PostgreSQL, the production option of deploy/: a real server from Debian's
package (``make test`` installs it when missing) started here on a free loopback port, and a
submission run through a Dagster instance stored in it."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import free_port

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBMISSION = REPO_ROOT / "tests" / "fixtures" / "submissions" / "valid_gtm_2024q1_utf8.csv"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    # The server refuses to run as root; Debian's package brings the postgres account.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (Debian's postgresql package; make test "
                    "installs it where it can)")
    folder = Path(tempfile.mkdtemp(prefix="observatory-pg-"))  # outside pytest's 0700 folders
    data, port = folder / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    run = lambda *c: subprocess.run(_as_postgres([str(bin_dir / c[0]), *c[1:]]),  # noqa: E731
                                    check=True, capture_output=True, text=True, timeout=120)
    try:
        run("initdb", "-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=UTF8")
        run("pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
            f"-h 127.0.0.1 -p {port} -k {folder}", "start")
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "dagster")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/dagster"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                         "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_submission_runs_through_a_dagster_instance_stored_in_postgresql(postgres_url, tmp_path):
    import psycopg2

    home = tmp_path / "home"
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "OBSERVATORY_DAGSTER_POSTGRES_URL": postgres_url, "OBSERVATORY_TODAY": "2024-05-01"}
    result = subprocess.run([str(Path(sys.executable).with_name("observatory")), "--lang", "en",
                             "submit", str(SUBMISSION)], env=env, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "postgres_url" in (home / "dagster" / "dagster.yaml").read_text()
    assert postgres_url not in (home / "dagster" / "dagster.yaml").read_text()  # read from env
    assert not list((home / "dagster").rglob("runs.db")), "runs went to SQLite, not PostgreSQL"
    with psycopg2.connect(postgres_url.replace("+psycopg2", "")) as con, con.cursor() as cursor:
        cursor.execute("select pipeline_name, status from runs")
        runs = cursor.fetchall()
        cursor.execute("select count(*) from event_logs where dagster_event_type = "
                       "'ASSET_MATERIALIZATION'")
        materialisations = cursor.fetchone()[0]
    assert ("submission_job", "SUCCESS") in runs, runs
    assert materialisations > 0


def test_a_url_for_another_driver_is_one_message_without_the_password(tmp_path, capsys,
                                                                        monkeypatch):
    from pipelines.cli import main

    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OBSERVATORY_DAGSTER_POSTGRES_URL", "postgresql://dagster:s3cret@db:5432/d")
    assert main(["--lang", "es", "verify"]) == 2
    err = capsys.readouterr().err
    assert "postgresql+psycopg2://" in err and "s3cret" not in err and "db:5432/d" in err
