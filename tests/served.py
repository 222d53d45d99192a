"""The real dashboard served by ``streamlit run`` for browser tests, and Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
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
SERVER_PIDS: dict[str, int] = {}  # URL -> process id of the server serving it (while it runs)
# operator URL -> the orchestrator's processes (code server, daemon, operator UI) while they run
ORCHESTRATORS: dict[str, list[subprocess.Popen]] = {}


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


def _stop(process: subprocess.Popen) -> None:
    """SIGINT to the process's group (how both Dagster servers stop their children), then kill."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def orchestrating(home: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The orchestrator over ``home`` as ``scripts/serve.sh`` starts it (the code server, then the
    Dagster daemon and the guarded operator UI on a free port); yields the operator UI's URL once it serves this
    home with a live daemon. Raises :class:`ServeError`."""
    from pipelines import orchestrator
    from pipelines.lib.dagster_home import prepare_dagster_home
    from pipelines.settings import Settings

    settings = Settings(home=home.resolve())
    settings.ensure_dirs()
    prepare_dagster_home(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           **(env or {})}
    bin_dir = Path(sys.executable).parent
    workspace = str(settings.dagster_home / "workspace.yaml")

    def start(command: list[str]) -> subprocess.Popen:
        with log.open("a") as out:
            return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    log.write_text("")
    # The code server first, then its two clients (as scripts/serve.sh does).
    processes = [start([sys.executable, "-m", "pipelines.code_server"])]
    waited = subprocess.run([sys.executable, "-m", "pipelines.code_server", "--wait"],
                            cwd=REPO_ROOT, env=env, capture_output=True)
    if waited.returncode:
        _stop(processes[0])
        raise ServeError(f"the code server did not start:\n{log.read_text()[-3000:]}")
    processes += [start(command) for command in (
        [str(bin_dir / "dagster-daemon"), "run", "-w", workspace, "--log-level", "warning"],
        [sys.executable, "-m", "pipelines.operator_ui", "--host", "127.0.0.1",
         "--port", str(port)])]
    previous = os.environ.get("OBSERVATORY_OPERATOR_URL")
    os.environ["OBSERVATORY_OPERATOR_URL"] = url
    ORCHESTRATORS[url] = processes
    try:
        deadline = time.monotonic() + 2 * START_TIMEOUT_S
        while not orchestrator.available(settings):
            dead = [p for p in processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise ServeError(f"the orchestrator did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        if previous is None:
            os.environ.pop("OBSERVATORY_OPERATOR_URL", None)
        else:
            os.environ["OBSERVATORY_OPERATOR_URL"] = previous
        ORCHESTRATORS.pop(url, None)
        for process in reversed(processes):  # the code server last
            _stop(process)


@contextlib.contextmanager
def serving(home: Path, log: Path, env: dict[str, str] | None = None,
            orchestrator: bool = False) -> Iterator[str]:
    """``streamlit run dashboards/app.py`` over ``home`` on a free port (``env``: more environment
    variables); with ``orchestrator``, the daemon and operator UI too (pages that run jobs).
    Yields the dashboard's URL and stops the servers whatever happens. Raises
    :class:`ServeError` (the benchmarks use this; tests use :func:`serve_dashboard`)."""
    if not CHROMIUM.exists():
        raise ServeError("Debian's chromium is missing: `make test` installs it "
                         "(apt-get install chromium)")
    if orchestrator:
        with orchestrating(home, log.with_name(f"{log.stem}.orchestrator.log"), env) as operator:
            with serving(home, log, {**(env or {}), "OBSERVATORY_OPERATOR_URL": operator}) as url:
                yield url
        return
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
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(server, port, log)
        SERVER_PIDS[url] = server.pid
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@contextlib.contextmanager
def serve_dashboard(home: Path, log: Path, orchestrator: bool = False) -> Iterator[str]:
    """:func:`serving` for tests: a failure to serve fails the test."""
    import pytest

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(serving(home, log, orchestrator=orchestrator))
        except ServeError as error:
            pytest.fail(str(error))
        yield url


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and every process below it, from ``/proc`` (0 once gone)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * page
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # the process ended between two reads
    return total


class MemorySampler:
    """Samples :func:`tree_rss_bytes` of ``pid`` every ``interval`` seconds in a thread, while
    used as a context manager; :meth:`peak_mb` gives the highest sample of a time span
    (``time.monotonic()`` marks)."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), tree_rss_bytes(self.pid)))
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def peak_mb(self, since: float = 0.0, until: float = float("inf")) -> float:
        values = [rss for at, rss in list(self.samples) if since <= at <= until]
        return max(values, default=0) / 2**20

    def latest_mb(self) -> float:
        return self.samples[-1][1] / 2**20 if self.samples else 0.0
