"""The real dashboard served by ``streamlit run`` for browser tests, and Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless",
]
START_TIMEOUT_S = 60
RENDER_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeError(RuntimeError):
    """The dashboard could not be served (Chromium missing, server died or never answered)."""


def wait_until_healthy(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServeError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise ServeError(f"streamlit did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")


@contextlib.contextmanager
def serving(home: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run dashboards/app.py`` over ``home`` on a free port (``env``: more environment
    variables); yields its URL and stops the server whatever happens. Raises :class:`ServeError`
    (the benchmarks use this; tests use :func:`serve_dashboard`)."""
    if not CHROMIUM.exists():
        raise ServeError("Debian's chromium is missing: `make test` installs it "
                         "(apt-get install chromium)")
    port = free_port()
    env = {**os.environ, "OBSERVATORY_HOME": str(home), **(env or {})}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboards/app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(server, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@contextlib.contextmanager
def serve_dashboard(home: Path, log: Path) -> Iterator[str]:
    """:func:`serving` for tests: a failure to serve fails the test."""
    import pytest

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(serving(home, log))
        except ServeError as error:
            pytest.fail(str(error))
        yield url
