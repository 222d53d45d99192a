"""The dashboard run in-process with Streamlit's AppTest against a real snapshot file."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from dashboard_snapshot import (
    REGION_CHANGE,
    REGION_LATEST_QUARTER,
    REGION_LATEST_RATE_R4Q,
    REGION_LATEST_TOTAL,
    SNAPSHOT_NAME,
)
from streamlit.testing.v1 import AppTest

from dashboards import ui
from pipelines.lib.i18n import t

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
TIMEOUT = 60  # the first run imports plotly and duckdb


def run_app(query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query_params or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label_start: str):
    found = [m for m in at.metric if m.label.startswith(label_start)]
    assert found, f"no metric labelled {label_start!r} in {[m.label for m in at.metric]}"
    return found[0]


def numbers(field) -> list[float]:
    """A Plotly array from the figure JSON: a plain list, or Plotly's typed array (base64)."""
    if isinstance(field, dict):
        return np.frombuffer(base64.b64decode(field["bdata"]), dtype=field["dtype"]).tolist()
    return list(field)


def test_spanish_by_default_with_the_fixture_numbers(observatory_home):
    at = run_app()

    assert at.title[0].value == "Víctimas de trata detectadas"
    assert [w.value for w in at.warning] == [
        "La detección refleja la capacidad institucional y la práctica de aplicación de la ley, "
        "no la prevalencia de la trata de personas."
    ]
    total = metric(at, "Víctimas detectadas en la región")
    assert total.label == f"Víctimas detectadas en la región, {REGION_LATEST_QUARTER}"
    assert total.value == "1.388" == ui.format_number(REGION_LATEST_TOTAL, "es")
    assert total.delta == "+9,6\u00a0% frente a 2024-Q2"
    assert "provisional" in total.help  # 2025-Q2 rests on Guatemala's unaccepted submission
    rate = metric(at, "Tasa regional por 100 000,")
    assert rate.value == "21,0" == ui.format_number(REGION_LATEST_RATE_R4Q, "es", 1)
    assert metric(at, "Países que informaron").value == "2 de 8"
    assert at.query_params["lang"] == "es"
    assert "Datos al 2026-11-28 10:15 UTC" in " ".join(c.value for c in at.sidebar.caption)
    assert len(at.get("plotly_chart")) == 2
    assert round(REGION_CHANGE * 100, 1) == 9.6


def test_charts_carry_the_values_the_caveat_and_the_provisional_marks(observatory_home):
    at = run_app()
    trend, rate = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))

    assert trend["layout"]["title"]["text"] == "Víctimas detectadas por trimestre"
    assert trend["layout"]["title"]["subtitle"]["text"] == t("dash.caveat.detection", "es")
    region_bars, *country_lines = trend["data"]
    assert region_bars["type"] == "bar"
    assert numbers(region_bars["y"]) == [
        1152,
        1267,
        1156,
        1375,
        1273,
        1388,
    ]  # the sex = F rows are ignored
    assert region_bars["marker"]["pattern"]["shape"] == ["", "", "", "", "", "/"]  # 2025-Q2 is P
    guatemala = next(line for line in country_lines if line["name"] == "Guatemala")
    assert guatemala["marker"]["symbol"][-1] == "circle-open"
    assert set(guatemala["marker"]["symbol"][:-1]) == {"circle"}
    el_salvador = next(line for line in country_lines if line["name"] == "El Salvador")
    assert set(el_salvador["marker"]["symbol"]) == {"circle"}  # all accepted
    assert rate["layout"]["title"]["text"] == "Víctimas detectadas por 100 000 habitantes"
    assert rate["layout"]["separators"] == ",."
    assert [trace["name"] for trace in rate["data"]] == [
        "Región (países miembros)",
        "Guatemala",
        "El Salvador",
    ]
    assert rate["data"][0]["x"] == ["2024-Q4", "2025-Q1", "2025-Q2"]


def test_rolling_four_quarters_and_annual_rates_on_request(observatory_home):
    at = run_app()
    at.segmented_control(key="victims_trend_freq").set_value("R4Q")
    at.segmented_control(key="victims_rate_freq").set_value("A")
    at.multiselect(key="victims_areas.es").set_value(["REG"])
    at.run()
    assert not at.exception
    trend, rate = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))

    assert trend["layout"]["title"]["text"] == "Víctimas detectadas, cuatro trimestres móviles"
    assert [trace["name"] for trace in trend["data"]] == ["Región (países miembros)"]
    assert numbers(trend["data"][0]["y"]) == [4950, 5071, 5192]
    assert rate["data"][0]["x"] == ["2024"]
    assert numbers(rate["data"][0]["y"]) == [pytest.approx(4950 / 24_700_000 * 1e5)]


def test_switching_to_english_translates_the_page_and_keeps_choices(observatory_home):
    at = run_app()
    at.multiselect(key="victims_areas.es").set_value(["REG", "SLV"])
    at.run()
    at.segmented_control(key="lang").set_value("en")
    at.run()
    assert not at.exception

    assert at.title[0].value == "Victims of trafficking detected"
    assert [w.value for w in at.warning] == [
        "Detection reflects institutional capacity and law-enforcement practice, "
        "not the prevalence of trafficking."
    ]
    total = metric(at, "Victims detected in the region")
    assert total.value == "1,388"
    assert total.delta == "+9.6% vs 2024-Q2"
    assert metric(at, "Regional rate per 100,000,").value == "21.0"
    assert at.query_params["lang"] == "en"
    assert at.multiselect(key="victims_areas.en").value == ["REG", "SLV"]
    assert at.multiselect(key="victims_areas.en").options == [
        "Region (member countries)",
        "Guatemala",
        "El Salvador",
    ]
    # The language survives further reruns (it lives in session state, not only in the widget).
    at.run()
    assert at.title[0].value == "Victims of trafficking detected"


@pytest.mark.parametrize(
    ("param", "title", "total"),
    [
        ("en", "Victims of trafficking detected", "1,388"),
        ("fr", "Victimes de la traite détectées", "1\u202f388"),
        ("xx", "Víctimas de trata detectadas", "1.388"),  # unknown: the default, Spanish
    ],
)
def test_language_from_the_url(observatory_home, param, title, total):
    at = run_app({"lang": param})
    assert at.title[0].value == title
    assert at.metric[0].value == total


def test_without_a_snapshot_a_bilingual_message_says_to_run_the_pipeline(empty_home):
    at = run_app()

    assert at.title[0].value == "Víctimas de trata detectadas"
    assert len(at.info) == 1
    message = at.info[0].value
    assert "Todavía no hay datos publicados" in message
    assert "No data has been published yet" in message
    assert "make run" in message and "observatory submit" in message
    assert not at.metric and not at.get("plotly_chart")


def test_a_pointer_to_a_missing_file_counts_as_no_snapshot(empty_home):
    serving = empty_home / "serving"
    serving.mkdir()
    (serving / "CURRENT").write_text("20990101T000000000000.duckdb\n", encoding="utf-8")
    at = run_app()
    assert "No data has been published yet" in at.info[0].value


def test_a_newly_published_snapshot_shows_up_on_the_next_rerun(observatory_home):
    at = run_app()
    assert metric(at, "Víctimas detectadas en la región").value == "1.388"

    serving = observatory_home / "serving"
    newer = "20261129T080000000000.duckdb"
    shutil.copy(serving / SNAPSHOT_NAME, serving / newer)
    with duckdb.connect(str(serving / newer)) as con:
        con.execute(
            "update marts.indicator_values set value = 2000, obs_status = 'A' "
            "where ref_area = 'REG' and time_period = '2025-Q2' and sex = '_T'"
        )
    (serving / "CURRENT").write_text(newer, encoding="utf-8")
    at.run()

    total = metric(at, "Víctimas detectadas en la región")
    assert total.value == "2.000"
    assert "definitivo" in total.help
    assert "20261129T080000000000" in " ".join(c.value for c in at.sidebar.caption)


def test_script_runs_are_timed_only_when_a_timing_log_is_set(snapshot_home, tmp_path,
                                                            monkeypatch):
    """The hook of benchmarks/dashboard.py: one line per script run with $OBSERVATORY_TIMING_LOG,
    nothing without it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ui.TIMING_LOG, raising=False)
    ui.log_script_run("victims", 0.0)
    assert list(tmp_path.iterdir()) == []

    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(ui.TIMING_LOG, str(log))
    at = run_app()
    at.run()
    runs = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["page"] for r in runs] == ["", ""]  # the default page (victims)
    assert all(r["seconds"] > 0 and r["session"] for r in runs)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("es", "1.234.567,5"), ("en", "1,234,567.5"), ("fr", "1\u202f234\u202f567,5")],
)
def test_numbers_are_written_the_way_the_language_writes_them(lang, expected):
    assert ui.format_number(1234567.5, lang, decimals=1) == expected
    assert ui.format_number(float("nan"), lang) == "–"


def test_a_small_count_axis_reads_whole_numbers_and_a_large_one_keeps_plotlys_ticks():
    """Belize's one or two victims a quarter: ticks step by one (never "0, 0, 1, 1")."""
    import plotly.graph_objects as go

    from dashboards import ui

    small = go.Figure(go.Bar(x=["2025-Q1", "2025-Q2"], y=[1, 2]))
    ui.whole_number_axis(small)
    assert (small.layout.yaxis.dtick, small.layout.yaxis.tickformat) == (1, ",d")
    large = go.Figure(go.Bar(x=["2025-Q1", "2025-Q2"], y=[120, float("nan")]))
    ui.whole_number_axis(large)
    assert large.layout.yaxis.dtick is None and large.layout.yaxis.tickformat == ",d"
    bars = ui.bar_figure(["BLZ"], [{"name": "x", "color": "#000", "values": [3], "conf": ["F"],
                                    "unit": "PERSONS", "status": ["P"]}], "en", title="t")
    assert bars.layout.yaxis.dtick == 1
    rates = ui.bar_figure(["BLZ"], [{"name": "x", "color": "#000", "values": [0.4],
                                     "conf": ["F"], "unit": "PER_100K", "status": ["P"]}], "en",
                          title="t")
    assert rates.layout.yaxis.dtick is None
