"""The persistent Dagster home under the observatory's home: run history, sensor cursors, run keys."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from pipelines.settings import Settings

LOCATION = "pipelines.definitions"  # the code location's name: the module its server loads
SOCKET_NAME = "code-server.sock"
SOCKET_MAX_BYTES = 100  # a Unix socket's path is at most 107 bytes on Linux

DAGSTER_YAML = """\
# Written by the observatory (rewritten at each start). Runs that write the warehouse run one
# at a time; the queue is checked every second, not every five. No telemetry, and no newsletter
# prompt over the operator UI's first page.
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
    dequeue_interval_seconds: 1
"""

# Production option (deploy/README.md): Dagster's runs, event logs and schedules in PostgreSQL
# instead of the SQLite files under DAGSTER_HOME, when OBSERVATORY_DAGSTER_POSTGRES_URL is set
# (postgresql+psycopg2://user:password@host:port/database; read from the environment at each start, so
# the password is never written here).
POSTGRES_STORAGE = """\
storage:
  postgres:
    postgres_url:
      env: OBSERVATORY_DAGSTER_POSTGRES_URL
"""


def dagster_yaml() -> str:
    if os.environ.get("OBSERVATORY_DAGSTER_POSTGRES_URL"):
        return DAGSTER_YAML + POSTGRES_STORAGE
    return DAGSTER_YAML


def code_server_socket(settings: Settings) -> Path:
    """Where the code server (``pipelines/code_server.py``) listens: a socket in the private
    Dagster home, or, when that path is too long for a socket, in a folder of this user's own
    under the temporary directory, named after the home."""
    socket = settings.dagster_home.resolve() / SOCKET_NAME
    if len(os.fsencode(socket)) <= SOCKET_MAX_BYTES:
        return socket
    folder = Path(tempfile.gettempdir()) / f"observatory-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.is_symlink() or folder.stat().st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user")
    folder.chmod(0o700)
    digest = hashlib.sha256(os.fsencode(settings.dagster_home.resolve())).hexdigest()[:16]
    return folder / f"{digest}.sock"


def workspace_yaml(settings: Settings) -> str:
    return ("# Written by the observatory: the daemon and the operator UI load the code location\n"
            "# from the one code server (python -m pipelines.code_server).\n"
            "load_from:\n"
            "  - grpc_server:\n"
            f"      socket: {code_server_socket(settings)}\n"
            f"      location_name: {LOCATION}\n")


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def prepare_dagster_home(settings: Settings) -> None:
    """Create DAGSTER_HOME with its dagster.yaml and workspace.yaml and point the environment at
    it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    _write(settings.dagster_home / "dagster.yaml", dagster_yaml())
    _write(settings.dagster_home / "workspace.yaml", workspace_yaml(settings))
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
