"""The code location server: Dagster's gRPC code server for ``pipelines.definitions``, on a Unix
socket in the private Dagster home, shared by the daemon and the operator UI.

Dagster's code server starts every run in a new Python process (``spawn``), which imports
Dagster, the definitions (dagster-dbt and the dbt manifest) and, at intake, Great Expectations:
about 11 s of a drop's 30 s on the 2-core machine, before any work. Here the server starts its
runs from a fork server instead, a clean process started with the server that has imported all of
that once: each run is a fork of it, with those modules already loaded, and otherwise the same
run (the same entry point, its own process, the same events and termination). Only modules are
loaded there, and one warm-up (``pipelines/run_warmup.py``: Dagster's storages imported, dbt's
project parsed and built once on a scratch warehouse of its own), never a connection, a thread or
a setting of the home (``get_settings`` reads the environment at each call), so a run sees the
same state as a freshly started one.

One server for both clients (as Dagster's own deployment guide lays out: webserver, daemon and
code location server) also means the definitions load once, not twice, when the observatory
starts. The socket is a file, not a TCP port: only the service's own user can connect to it.

``python -m pipelines.code_server`` serves; ``--wait`` returns once it answers (``make run`` and
the service units start the daemon and the operator UI after that).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time

# What a run imports before it does any work. A module missing here is imported by the run
# itself, as before: slower, never wrong.
PRELOAD = ["pipelines.definitions", "great_expectations", "pipelines.lib.gx_suite",
           "pipelines.lib.intake", "pipelines.lib.publish", "pipelines.lib.disclosure.gate",
           "dbt.cli.main", "dbt.adapters.duckdb",  # runs build with dbt in their own process
           "pipelines.run_warmup"]
WAIT_SECONDS = 180.0


def serve() -> None:
    from pipelines.lib.dagster_home import LOCATION, code_server_socket, prepare_dagster_home
    from pipelines.settings import get_settings

    settings = get_settings()
    settings.ensure_dirs()
    prepare_dagster_home(settings)
    socket = code_server_socket(settings)
    socket.unlink(missing_ok=True)  # left by a server that was killed

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    from multiprocessing import forkserver

    forkserver.ensure_running()  # imports now, beside the server's own loading

    from dagster._cli import main as dagster_main
    from dagster._grpc import server

    class WarmApiServer(server.DagsterApiServer):
        """Dagster's code server, its runs forked from the warm fork server."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._mp_ctx = context

    server.DagsterApiServer = WarmApiServer  # read by `dagster api grpc` when it starts
    sys.argv = ["dagster", "api", "grpc", "--socket", str(socket), "--module-name",
                LOCATION, "--location-name", LOCATION, "--log-level", "warning"]
    dagster_main()


def answers() -> bool:
    """Whether the code server of this home answers on its socket."""
    from dagster._grpc.client import DagsterGrpcClient

    from pipelines.lib.dagster_home import code_server_socket
    from pipelines.settings import get_settings

    socket = code_server_socket(get_settings())
    if not socket.exists():
        return False
    try:
        return DagsterGrpcClient(socket=str(socket)).ping("ok")["echo"] == "ok"
    except Exception:  # noqa: BLE001 - not (yet) serving
        return False


def wait(seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not answers():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.code_server",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--wait", action="store_true",
                        help=f"wait (up to {WAIT_SECONDS:.0f} s) until the server answers")
    args = parser.parse_args(argv)
    if args.wait:
        sys.exit(0 if wait() else 1)
    serve()


if __name__ == "__main__":
    main()
