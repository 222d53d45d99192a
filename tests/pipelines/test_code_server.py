"""The code server (pipelines/code_server.py): its socket, the workspace its clients load, and its
warm fork server, started with it and gone with it."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pipelines.lib.dagster_home import (
    LOCATION,
    SOCKET_MAX_BYTES,
    code_server_socket,
    prepare_dagster_home,
)
from pipelines.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_socket_lives_in_the_private_dagster_home_when_its_path_is_short(tmp_path):
    settings = Settings(home=tmp_path / "h")
    assert code_server_socket(settings) == (tmp_path / "h" / "dagster" / "code-server.sock")


@pytest.fixture
def short_tmp(monkeypatch):
    """A temporary directory of its own with a short path, as /tmp is."""
    folder = Path(tempfile.mkdtemp(prefix="cs", dir="/tmp"))
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_long_home_gets_a_short_socket_in_a_folder_of_its_users_own(tmp_path, short_tmp):
    deep = tmp_path / ("a-long-folder-name-" * 6) / "home"
    socket = code_server_socket(Settings(home=deep))
    assert len(os.fsencode(socket)) <= SOCKET_MAX_BYTES
    assert socket.parent == short_tmp / f"observatory-{os.getuid()}"
    assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
    assert code_server_socket(Settings(home=deep)) == socket  # the same home, the same socket
    assert code_server_socket(Settings(home=deep.with_name("other"))) != socket


def test_a_socket_folder_planted_by_someone_else_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / f"observatory-{os.getuid()}").symlink_to(elsewhere)
    with pytest.raises(PermissionError):
        code_server_socket(Settings(home=tmp_path / ("x" * 120)))


def test_the_workspace_names_the_socket_and_the_location_runs_are_launched_to(tmp_path):
    settings = Settings(home=tmp_path / "h")
    settings.ensure_dirs()
    prepare_dagster_home(settings)
    workspace = (settings.dagster_home / "workspace.yaml").read_text()
    assert f"socket: {code_server_socket(settings)}\n" in workspace
    assert f"location_name: {LOCATION}\n" in workspace



def test_the_instance_sends_no_telemetry_and_shows_no_newsletter_prompt(tmp_path, monkeypatch):
    """Dagster reads dagster.yaml as written: telemetry and the first-visit ("nux") prompt off."""
    from dagster import DagsterInstance

    settings = Settings(home=tmp_path / "h")
    settings.ensure_dirs()
    prepare_dagster_home(settings)
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    with DagsterInstance.get() as instance:
        assert instance.telemetry_enabled is False
        assert instance.nux_enabled is False


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@pytest.mark.integration
def test_the_server_answers_with_a_warm_fork_server_and_takes_it_down_on_ctrl_c(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    server = subprocess.Popen([sys.executable, "-m", "pipelines.code_server"], cwd=REPO_ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        waited = subprocess.run([sys.executable, "-m", "pipelines.code_server", "--wait"],
                                cwd=REPO_ROOT, env=env, capture_output=True, timeout=300)
        assert waited.returncode == 0, server.stdout.read1().decode()[-2000:]
        # Runs are forked from a child that imported the definitions and the validation suite.
        warm = [c for c in _children(server.pid) if "multiprocessing.forkserver" in _cmdline(c)]
        assert len(warm) == 1
        assert "pipelines.definitions" in _cmdline(warm[0])
        assert "great_expectations" in _cmdline(warm[0])
        socket = code_server_socket(Settings(home=home))
        assert stat.S_ISSOCK(socket.stat().st_mode)
        assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
        group = os.getpgid(server.pid)
        os.killpg(group, signal.SIGINT)  # what Ctrl-C sends under make run
        server.wait(timeout=60)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{warm[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(f"/proc/{warm[0]}").exists() or "forkserver" not in _cmdline(warm[0])
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


WARMUP_PROBE = """
import json, os, tempfile, threading
from pathlib import Path
before = set(os.listdir(tempfile.gettempdir()))
import pipelines.run_warmup
from pipelines.lib import dbt
print(json.dumps({"parsed": len(dbt._PARSED), "threads": threading.active_count(),
                  "left": sorted(set(os.listdir(tempfile.gettempdir())) - before)}))
"""


def _warm_up(home: Path, **env: str) -> tuple[dict, str]:
    import json

    scratch = home.parent / "tmp"
    scratch.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-c", WARMUP_PROBE], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "OBSERVATORY_HOME": str(home), "TMPDIR": str(scratch),
                               **env})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.integration
def test_the_fork_server_warm_up_builds_on_a_scratch_warehouse_and_leaves_nothing_behind(tmp_path):
    """What every run inherits: the parsed project; what it must not: a thread, a file, the home.
    A kill point set for the runs is not this build's."""
    home = tmp_path / "home"
    found, said = _warm_up(home, OBSERVATORY_FAULT="during_dbt")
    assert "runs warmed up in" in said and "threads left" not in said, said[-2000:]
    assert found == {"parsed": 1, "threads": 1, "left": []}
    assert not home.exists()  # the home's warehouse is never opened


@pytest.mark.integration
def test_a_warm_up_that_fails_costs_only_the_warmth(tmp_path):
    # dbt refuses the profile's memory limit: the build fails, the import (the fork server) does not
    found, said = _warm_up(tmp_path / "home", OBSERVATORY_DBT_MEMORY_LIMIT="not a size")
    assert "run warm-up skipped" in said
    assert found["threads"] == 1 and found["left"] == []
