"""The Dagster UI for operators, behind a guard: ``python -m pipelines.operator_ui``.

Dagster's webserver executes any GraphQL it is sent, mutations included, also over GET and over
the form-encoded POSTs a browser sends from any page without asking (no CORS preflight). So a
page opened in a browser on the server's host (an image tag is enough), or a site whose name
resolves to 127.0.0.1 (DNS rebinding), could launch jobs. The guard, in front of the whole UI:

* answers only to the host names it is served under (``localhost``, ``127.0.0.1``, ``::1`` and
  those in ``OBSERVATORY_OPERATOR_HOSTS``, for a reverse proxy);
* refuses a request another site made: an ``Origin`` that is not the UI's own, or a browser's
  ``Sec-Fetch-Site`` other than same-origin or none (typed in the address bar), except a link
  followed to open a page;
* refuses GraphQL mutations over GET, and GraphQL POSTs that are not JSON (a form cannot send
  JSON to another origin without the preflight the server never grants).

The same process runs the landing watch (``pipelines/landing_watch.py``), which starts a dropped
file's run as soon as the file is complete, through this server.

It does not authenticate: the UI is bound to localhost, and serving it to others needs a reverse
proxy with a login in front (README, "Security model").
"""

from __future__ import annotations

import argparse
import os
from urllib.parse import parse_qs, urlsplit

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def allowed_hosts() -> set[str]:
    extra = os.environ.get("OBSERVATORY_OPERATOR_HOSTS", "")
    return {*LOCAL_HOSTS, *(h.strip().lower() for h in extra.split(",") if h.strip())}


def _hostname(netloc: str) -> str:
    """``host`` of ``host:port`` (an IPv6 literal keeps its brackets)."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    return netloc.rsplit(":", 1)[0] if ":" in netloc else netloc


def refusal(method: str, path: str, query: str, headers: dict[str, str]) -> tuple[int, str] | None:
    """Why a request is refused, as (status, text), or None to let it through."""
    host = headers.get("host", "")
    if _hostname(host) not in allowed_hosts():
        return 403, "unknown host name"
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return 403, "cross-origin request"
    # A link followed from elsewhere may open a page; nothing else may come from another site.
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none") and not (
            method == "GET" and headers.get("sec-fetch-mode") == "navigate"):
        return 403, "request from another site"
    if path.rstrip("/").endswith("/graphql"):
        if method in ("GET", "HEAD"):
            params = parse_qs(query)
            if any("mutation" in text.lower() for text in params.get("query", [])):
                return 405, "GraphQL mutations are accepted only by POST"
        elif method == "POST":
            if not headers.get("content-type", "").lower().startswith("application/json"):
                return 415, "GraphQL over POST must be application/json"
    return None


class OperatorGuard:
    """ASGI middleware applying :func:`refusal` to HTTP requests and WebSocket handshakes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope.get("method", "GET")
        refused = refusal(method, scope.get("path", ""),
                          scope.get("query_string", b"").decode("latin-1"), headers)
        if refused is None:
            return await self.app(scope, receive, send)
        status, text = refused
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return None
        body = f"{text}\n".encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.operator_ui",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)

    import uvicorn
    from dagster import DagsterInstance
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster_webserver.app import create_app_from_workspace_process_context
    from dagster_webserver.version import __version__

    from pipelines.landing_watch import LandingWatch
    from pipelines.lib.dagster_home import prepare_dagster_home
    from pipelines.settings import get_settings

    settings = get_settings()
    prepare_dagster_home(settings)
    # The code location is served by pipelines/code_server.py, which also starts the runs.
    target = WorkspaceFileTarget(paths=[str(settings.dagster_home / "workspace.yaml")])
    with DagsterInstance.get() as instance, WorkspaceProcessContext(
            instance, version=__version__, read_only=False,
            workspace_load_target=target) as context:
        app = create_app_from_workspace_process_context(context, "")
        # The landing watch launches through this server's own GraphQL, on the loopback.
        local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "", "localhost") else args.host
        local = f"[{local}]" if ":" in local else local
        watch = LandingWatch(settings, instance, f"http://{local}:{args.port}")
        watch.start()
        try:
            uvicorn.run(OperatorGuard(app), host=args.host, port=args.port, log_level="warning")
        finally:
            watch.stop()


if __name__ == "__main__":
    main()
