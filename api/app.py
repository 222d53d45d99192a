"""The observatory's read-only data API (FastAPI under uvicorn).

    observatory api [--host 127.0.0.1] [--port 8000]        # or: python -m api

Serves the current serving snapshot's disclosure-controlled figures to other systems: the
indicator registry, the members, the published values (hidden cells come with ``value: null`` and
their ``conf_status``), UNODC's history and the regional plan's progress. OpenAPI describes it
at ``/api/v1/openapi.json``.

* Only GET (and HEAD, OPTIONS): anything else is 405. No query language: each endpoint is one
  parameterised statement over one table (api/store.py).
* ``ETag`` is the snapshot's name: ``If-None-Match`` with it answers 304, and a client knows
  the figures changed when it changes. ``Cache-Control: public, max-age=60``.
* gzip for answers over 1 kB; CORS open to any origin for GET (the data are public).
* A per-client rate limit (``OBSERVATORY_API_RATE`` requests per minute, default 600; a token
  bucket refilled continuously): past it, 429 with ``Retry-After``.
* Errors are JSON, ``{"error": {"status", "code", "message"}}``, the message in the language of
  ``lang`` or the ``Accept-Language`` header (es, en, fr; Spanish otherwise).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from api import store
from pipelines.lib import sdmx_structure
from pipelines.lib.i18n import LANGUAGES, t
from pipelines.settings import get_settings

API_VERSION = "1"
DEFAULT_RATE = 600  # requests per minute and client
READ_METHODS = ("GET", "HEAD", "OPTIONS")
STRUCTURE_XML = "application/vnd.sdmx.structure+xml; version=2.1"
DATA_XML = "application/vnd.sdmx.structurespecificdata+xml; version=2.1"
DATA_CSV = "application/vnd.sdmx.data+csv; version=2.0.0"
DATA_JSON_10 = "application/vnd.sdmx.data+json; version=1.0.0"
DATA_JSON_20 = "application/vnd.sdmx.data+json; version=2.0.0"
DATA_XML_30 = "application/vnd.sdmx.data+xml; version=3.0.0"
STRUCTURE_XML_30 = "application/vnd.sdmx.structure+xml; version=3.0.0"
STRUCTURE_JSON_20 = "application/vnd.sdmx.structure+json; version=2.0.0"
OPEN = {"Access-Control-Allow-Origin": "*"}  # the guard's own refusals, readable by any page

# Query parameters shared by the endpoints (module level: FastAPI resolves them by name).
Lang = Annotated[str | None, Query(pattern="^(es|en|fr)$", description="es, en or fr")]
Codes = Annotated[list[str], Query(description="repeatable, or comma-separated")]
Limit = Annotated[int, Query(ge=1, le=store.MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]


def language(request: Request) -> str:
    """``lang`` if given, else the first of es/en/fr in Accept-Language, else Spanish."""
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES:
        return wanted
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "es"


def error(request: Request, status: int, key: str, headers: dict | None = None, **values) -> JSONResponse:
    lang = language(request)
    return JSONResponse(
        {"error": {"status": status, "code": key.removeprefix("api.error."),
                   "message": t(key, lang, **values)}},
        status_code=status, headers=headers)


class RateLimit:
    """A token bucket per client address: ``rate`` requests per minute, bursts up to ``rate / 6``
    (ten seconds' worth). Buckets idle long enough to be full again are forgotten."""

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 6.0)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if the request may go on, else the seconds until it could."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[client] = (tokens - 1 if not wait else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def cached(snapshot: store.Snapshot) -> dict:
    return {"ETag": f'W/"{snapshot.name}"', "Cache-Control": "public, max-age=60"}


class NotModified(Exception):  # noqa: N818 (an answer, not an error)
    def __init__(self, snapshot: store.Snapshot):
        self.snapshot = snapshot


def current(request: Request) -> store.Snapshot:
    """The snapshot an answer reads; a client already holding it gets 304 at once."""
    snapshot = request.app.state.serving.current()
    tags = [tag.strip().removeprefix("W/") for tag in
            request.headers.get("if-none-match", "").split(",")]
    if f'"{snapshot.name}"' in tags:
        raise NotModified(snapshot)
    return snapshot


Current = Annotated[store.Snapshot, Depends(current)]


def create_app(serving_dir=None, rate_per_minute: int | None = None) -> FastAPI:
    serving = store.Store(serving_dir or get_settings().serving_dir)
    rate = rate_per_minute or int(os.environ.get("OBSERVATORY_API_RATE", DEFAULT_RATE))
    limiter = RateLimit(rate)
    app = FastAPI(
        title="Observatory data API",
        version=API_VERSION,
        description=(
            "Published, disclosure-controlled figures of the Regional Coalition against "
            "Trafficking in Persons and Smuggling of Migrants. Read-only. A hidden cell has "
            "value null and conf_status A (a count of 1 to 4), D (hidden so that another "
            "cannot be worked out) or N (detail of a series with small counts, published as "
            "its annual total only)."),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive pages load scripts from elsewhere; the document suffices
        redoc_url=None,
    )
    app.state.serving = serving

    async def guard(request: Request, call_next):
        preflight = request.headers.get("access-control-request-method")
        if request.method not in READ_METHODS or (
                request.method == "OPTIONS" and preflight and preflight not in ("GET", "HEAD")):
            return error(request, 405, "api.error.read_only",
                         headers={"Allow": "GET, HEAD, OPTIONS", **OPEN})
        client = request.client.host if request.client else "-"
        wait = limiter.take(client)
        if wait:
            return error(request, 429, "api.error.rate_limited", seconds=int(wait) + 1,
                         headers={"Retry-After": str(int(wait) + 1), **OPEN})
        return await call_next(request)

    # The last middleware added runs first: the guard refuses writes (a cross-site preflight for
    # one included) and floods before anything else; CORS then answers GET preflights and
    # grants any origin; gzip wraps the answers.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"],
                       allow_headers=["If-None-Match", "Accept-Language"],
                       expose_headers=["ETag", "Retry-After"])
    app.add_middleware(BaseHTTPMiddleware, dispatch=guard)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        key = {404: "api.error.not_found", 405: "api.error.read_only"}.get(
            exc.status_code, "api.error.bad_request")
        return error(request, exc.status_code, key)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return error(request, 400, "api.error.bad_parameter", name=fields[:100])

    @app.exception_handler(store.BadQuery)
    async def bad_query(request: Request, exc: store.BadQuery):
        return error(request, 400, exc.key, **exc.values)

    @app.exception_handler(store.NoSnapshot)
    async def nothing_published(request: Request, exc: store.NoSnapshot):
        return error(request, 503, "api.error.no_snapshot", headers={"Retry-After": "60"})

    def answer(snapshot: store.Snapshot, body) -> Response:
        return JSONResponse(body, headers=cached(snapshot))

    @app.exception_handler(NotModified)
    async def not_modified(request: Request, exc: NotModified):
        return Response(status_code=304, headers=cached(exc.snapshot))

    def envelope(snapshot: store.Snapshot, **rest) -> dict:
        return {"snapshot": snapshot.name, "built_at": snapshot.built_at, **rest}

    def split(values: list[str]) -> list[str]:
        return [part for value in values for part in value.split(",")]

    @app.get("/api/v1/indicators", summary="The indicator registry")
    def indicators(request: Request, snapshot: Current, lang: Lang = None):
        lang = language(request)
        return answer(snapshot, envelope(snapshot, lang=lang,
                                                   data=store.indicators(snapshot, lang)))

    @app.get("/api/v1/areas", summary="The members and the region (REG)")
    def areas(request: Request, snapshot: Current, lang: Lang = None):
        lang = language(request)
        return answer(snapshot, envelope(snapshot, lang=lang,
                                                   data=store.areas(snapshot, lang)))

    @app.get("/api/v1/values", summary="Published indicator values")
    def values(
        request: Request,
        snapshot: Current,
        indicator: Codes = [],  # noqa: B006 (FastAPI reads the default, never mutates it)
        ref_area: Codes = [],  # noqa: B006
        freq: Annotated[list[str], Query(description="Q, R4Q or A")] = [],  # noqa: B006
        from_: Annotated[str | None, Query(alias="from", description="2024 or 2024-Q2")] = None,
        to: Annotated[str | None, Query(description="2024 or 2024-Q2")] = None,
        sex: Codes = [],  # noqa: B006
        age: Codes = [],  # noqa: B006
        exploitation_form: Codes = [],  # noqa: B006
        limit: Limit = 1000,
        offset: Offset = 0,
        lang: Lang = None,
    ):
        total, rows = store.values(
            snapshot, indicator=split(indicator), ref_area=split(ref_area), freq=split(freq),
            start=from_, end=to, sex=split(sex), age=split(age),
            exploitation_form=split(exploitation_form), limit=limit, offset=offset)
        return answer(snapshot, envelope(
            snapshot, total=total, limit=limit, offset=offset, data=rows,
            next=_next(request, offset + limit) if offset + limit < total else None))

    @app.get("/api/v1/history", summary="UNODC's published history (latest vintage)")
    def history(request: Request, snapshot: Current, indicator: Codes = [], ref_area: Codes = [],  # noqa: B006
                limit: Limit = 1000, offset: Offset = 0, lang: Lang = None):
        total, rows = store.history(snapshot, indicator=split(indicator),
                                    ref_area=split(ref_area), limit=limit, offset=offset)
        return answer(snapshot, envelope(
            snapshot, total=total, limit=limit, offset=offset, data=rows,
            next=_next(request, offset + limit) if offset + limit < total else None))

    @app.get("/api/v1/plan", summary="The regional plan's targets and their progress")
    def plan(request: Request, snapshot: Current, lang: Lang = None):
        rows = store.plan(snapshot)
        if rows is None:
            return error(request, 404, "api.error.no_plan")
        return answer(snapshot, envelope(snapshot, data=rows))

    # --- SDMX REST 2.1 and 3.0 (structures and data of pipelines/lib/sdmx_structure.py) -------

    def sdmx_answer(snapshot: store.Snapshot | None, body: bytes | str,
                    media: str) -> Response:
        headers = cached(snapshot) if snapshot is not None else {"Cache-Control": "public, max-age=60"}
        return Response(body, media_type=media, headers=headers)

    def check_reference(agency: str, version: str) -> None:
        if agency not in ("all", "*", sdmx_structure.AGENCY_ID):
            raise store.BadQuery("api.error.sdmx_unknown", value=agency[:40])
        if version not in ("all", "*", "~", "latest", sdmx_structure.VERSION):
            raise store.BadQuery("api.error.sdmx_unknown", value=version[:40])

    def wanted(request: Request, format_: str | None) -> str:
        """``csv``, ``json`` or ``xml``: from ``format``, else the Accept header."""
        asked = (format_ or request.headers.get("accept", "")).lower()
        return "csv" if "csv" in asked else "json" if "json" in asked else "xml"

    def prepared(snapshot: store.Snapshot | None) -> str:
        # the snapshot's build time: the same answer, byte for byte, while it is served
        built = (snapshot.built_at if snapshot is not None else None) or "2000-01-01T00:00:00"
        return built[:19] + "Z"

    def flow_rows(snapshot: store.Snapshot, flow_id: str, key: str, separators: str,
                  start: str | None, end: str | None, extra: dict[str, list[str]] | None = None):
        """The dataflow's published rows for a key (dot-separated, one part per dimension;
        alternatives split on ``separators``; empty or ``*``: every code)."""
        allowed = sdmx_structure.structures()["indicators"].get(
            flow_id.removeprefix(sdmx_structure.FLOW_PREFIX))
        if not flow_id.startswith(sdmx_structure.FLOW_PREFIX) or allowed is None:
            raise NoSuchFlow(flow_id)
        filters = {dim: [] for dim in sdmx_structure.DIMENSIONS}
        if key not in ("all", "*", ""):
            values = key.split(".")
            if len(values) != len(sdmx_structure.DIMENSIONS):
                raise store.BadQuery("api.error.sdmx_key", value=key[:80],
                                     n=len(sdmx_structure.DIMENSIONS))
            for dim, value in zip(sdmx_structure.DIMENSIONS, values, strict=True):
                for separator in separators[1:]:
                    value = value.replace(separator, separators[0])
                filters[dim] = [v for v in value.split(separators[0]) if v and v != "*"]
        for dim, values in (extra or {}).items():
            filters[dim] = [v for v in filters[dim] if v in values] if filters[dim] else values
            if not filters[dim]:  # the key and c[DIM] exclude each other: nothing matches
                return []
        indicators = filters["INDICATOR"] or allowed
        outside = sorted(set(i.upper() for i in indicators) - set(allowed))
        if outside:
            raise store.BadQuery("api.error.unknown_indicator", value=", ".join(outside)[:200])
        total, rows = store.values(
            snapshot, indicator=indicators, ref_area=filters["REF_AREA"], freq=filters["FREQ"],
            start=start, end=end, sex=filters["SEX"], age=filters["AGE"],
            exploitation_form=filters["EXPLOITATION_FORM"], limit=store.MAX_SDMX, offset=0)
        if total > store.MAX_SDMX:
            raise store.BadQuery("api.error.sdmx_too_many", n=total, max=store.MAX_SDMX)
        return rows

    def data_answer(request: Request, snapshot: store.Snapshot, flow_id: str, rows: list[dict],
                    format_: str | None, api: str) -> Response:
        """The rows as SDMX-CSV 2.0, SDMX-JSON (1.0 on the 2.1 API, 2.0 on 3.0) or SDMX-ML
        (2.1 or 3.0), as the request asks."""
        kind = wanted(request, format_)
        if kind == "csv":
            return sdmx_answer(snapshot, sdmx_structure.sdmx_csv(flow_id, rows), DATA_CSV)
        if kind == "json":
            version = "1.0" if api == "2.1" else "2.0"
            return sdmx_answer(snapshot, sdmx_structure.sdmx_json(
                flow_id, rows, language(request), prepared(snapshot), version),
                DATA_JSON_10 if api == "2.1" else DATA_JSON_20)
        if api == "2.1":
            return sdmx_answer(snapshot, sdmx_structure.to_xml(
                sdmx_structure.data_message(flow_id, rows)), DATA_XML)
        return sdmx_answer(snapshot, sdmx_structure.data_message_30(
            flow_id, rows, prepared(snapshot)), DATA_XML_30)

    class NoSuchFlow(Exception):  # noqa: N818 (a 404)
        pass

    @app.exception_handler(NoSuchFlow)
    async def no_such_flow(request: Request, exc: NoSuchFlow):
        return error(request, 404, "api.error.sdmx_unknown", value=str(exc)[:80])

    @app.get("/sdmx/2.1/data/{flow}/{key}",
             summary="SDMX 2.1 data: one dataflow, a key like VIC_DETECTED.GTM+REG.A... "
                     "(empty parts: every code); SDMX-ML, SDMX-CSV (format=csv) or SDMX-JSON "
                     "1.0 (format=jsondata), or by Accept")
    def sdmx_data(request: Request, flow: str, snapshot: Current, key: str = "all",
                  startPeriod: str | None = None, endPeriod: str | None = None,  # noqa: N803
                  format: str | None = None):  # noqa: A002 (the SDMX REST parameter's name)
        parts = flow.split(",")
        flow_id = parts[1] if len(parts) == 3 else parts[0]
        if len(parts) == 3:
            check_reference(parts[0], parts[2])
        rows = flow_rows(snapshot, flow_id, key, "+", startPeriod, endPeriod)
        return data_answer(request, snapshot, flow_id, rows, format, "2.1")

    @app.get("/sdmx/2.1/data/{flow}", include_in_schema=False)
    def sdmx_data_all(request: Request, flow: str, snapshot: Current, startPeriod: str | None = None,  # noqa: N803
                      endPeriod: str | None = None, format: str | None = None):  # noqa: A002, N803
        return sdmx_data(request, flow, snapshot, "all", startPeriod, endPeriod, format)

    @app.get("/sdmx/2.1/{kind}/{agency}/{resource_id}/{version}",
             summary="SDMX 2.1 structures: dataflow, datastructure, codelist, conceptscheme")
    def sdmx_structures(request: Request, kind: str, agency: str, resource_id: str,
                        version: str):
        check_reference(agency, version)
        message = sdmx_structure.structure_message(kind, resource_id)
        if message is None:
            return error(request, 404, "api.error.sdmx_unknown", value=f"{kind}/{resource_id}"[:80])
        return sdmx_answer(None, sdmx_structure.to_xml(message), STRUCTURE_XML)

    @app.get("/sdmx/2.1/{kind}/{agency}/{resource_id}", include_in_schema=False)
    def sdmx_structures_latest(request: Request, kind: str, agency: str, resource_id: str):
        return sdmx_structures(request, kind, agency, resource_id, "latest")

    @app.get("/sdmx/2.1/{kind}/{agency}", include_in_schema=False)
    def sdmx_structures_all(request: Request, kind: str, agency: str):
        return sdmx_structures(request, kind, agency, "all", "latest")

    @app.get("/sdmx/3.0/structure/{kind}/{agency}/{resource_id}/{version}",
             summary="SDMX 3.0 structures (dataflow, datastructure, codelist, conceptscheme; "
                     "* for any): SDMX-ML 3.0, or SDMX-JSON 2.0 with format=json or by Accept")
    def sdmx3_structures(request: Request, kind: str, agency: str, resource_id: str,
                         version: str, format: str | None = None):  # noqa: A002
        check_reference(agency, version)
        kind = "all" if kind == "*" else kind
        resource_id = "all" if resource_id == "*" else resource_id
        json_format = wanted(request, format) == "json"
        body = sdmx_structure.structure_message_30(kind, resource_id, prepared(None), json_format)
        if body is None:
            return error(request, 404, "api.error.sdmx_unknown", value=f"{kind}/{resource_id}"[:80])
        return sdmx_answer(None, body, STRUCTURE_JSON_20 if json_format else STRUCTURE_XML_30)

    @app.get("/sdmx/3.0/structure/{kind}/{agency}/{resource_id}", include_in_schema=False)
    def sdmx3_structures_latest(request: Request, kind: str, agency: str, resource_id: str,
                                format: str | None = None):  # noqa: A002
        return sdmx3_structures(request, kind, agency, resource_id, "~", format)

    @app.get("/sdmx/3.0/data/{context}/{agency}/{resource_id}/{version}/{key}",
             summary="SDMX 3.0 data: context dataflow, a key like VIC_DETECTED.GTM,REG.A... "
                     "(* or empty: every code), filters c[DIM]=A,B and "
                     "c[TIME_PERIOD]=ge:2020+le:2024; SDMX-ML 3.0, SDMX-CSV 2.0 (format=csv) "
                     "or SDMX-JSON 2.0 (format=json), or by Accept")
    def sdmx3_data(request: Request, context: str, agency: str, resource_id: str,
                   version: str, snapshot: Current, key: str = "*",
                   format: str | None = None):  # noqa: A002
        if context not in ("dataflow", "*"):
            raise store.BadQuery("api.error.sdmx_unknown", value=context[:40])
        check_reference(agency, version)
        extra, start, end = {}, None, None
        for name, value in request.query_params.multi_items():
            if not (name.startswith("c[") and name.endswith("]")):
                continue
            dim = name[2:-1]
            if dim == "TIME_PERIOD":
                # ge: / le: (or a bare period: both); gt: and lt: are not offered
                for part in value.replace(" ", "+").split("+"):
                    operator, _, period = part.rpartition(":")
                    if operator not in ("ge", "le", ""):
                        raise store.BadQuery("api.error.bad_parameter", name=name[:40])
                    if operator in ("ge", ""):
                        start = period
                    if operator in ("le", ""):
                        end = period
            elif dim in sdmx_structure.DIMENSIONS:
                extra.setdefault(dim, []).extend(v for v in value.split(",") if v)
            else:
                raise store.BadQuery("api.error.bad_parameter", name=name[:40])
        rows = flow_rows(snapshot, resource_id, key, ",+", start, end, extra)
        return data_answer(request, snapshot, resource_id, rows, format, "3.0")

    @app.get("/sdmx/3.0/data/{context}/{agency}/{resource_id}/{version}", include_in_schema=False)
    def sdmx3_data_all(request: Request, context: str, agency: str, resource_id: str,
                       version: str, snapshot: Current, format: str | None = None):  # noqa: A002
        return sdmx3_data(request, context, agency, resource_id, version, snapshot, "*", format)

    return app


def _next(request: Request, offset: int) -> str:
    return str(request.url.include_query_params(offset=offset))


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The observatory's read-only data API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("OBSERVATORY_API_PORT", 8000)))
    parser.add_argument("--workers", type=int,
                        default=int(os.environ.get("OBSERVATORY_API_WORKERS", 1)))
    args = parser.parse_args(argv)
    # proxy_headers (uvicorn's default) takes the client's address from X-Forwarded-For only when
    # the request comes from a trusted proxy (FORWARDED_ALLOW_IPS, default 127.0.0.1): the rate
    # limit then counts the real clients behind a local reverse proxy. With several workers (each
    # a process reading the snapshot on its own) each counts its own requests.
    uvicorn.run("api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=max(1, args.workers), log_level="warning", server_header=False)
