"""The analysts' pages (issue 4) in-process with AppTest against the fixture snapshot: the values
shown, the registry's labels and definitions, the language switch and the downloads."""

from __future__ import annotations

import json

import pytest
from dashboard_marts import (
    FLOWS_DOMESTIC,
    FLOWS_EXTRA,
    FLOWS_INTRA,
    REGION_PROSECUTED_2024,
    REGION_PROSECUTED_2025Q2,
    SLV_UNKNOWN_SEX_2025Q2,
)
from dashboard_snapshot import REGION_LATEST_TOTAL
from streamlit.testing.v1 import AppTest
from test_dashboard_app import APP, TIMEOUT, numbers

from dashboards import data, ui
from pipelines.lib.i18n import t

PAGES = ["overview", "trends", "country", "flows", "quality"]


def open_page(name: str, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page(f"views/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def expander_text(at: AppTest) -> str:
    return " ".join(m.value for e in at.expander for m in e.markdown)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_offers_definitions_and_csv_xlsx_downloads(observatory_home, name, lang):
    at = open_page(name, lang)
    assert at.title[0].value == t(f"dash.{name}.title", lang)
    labels = [b.proto.label for b in at.get("download_button")]
    assert t("dash.pages.download_csv", lang) in labels
    assert t("dash.pages.download_xlsx", lang) in labels
    assert labels.count(t("dash.pages.download_csv", lang)) == labels.count(
        t("dash.pages.download_xlsx", lang))
    assert [e.label for e in at.expander].count(t("dash.pages.about_chart", lang)) >= 1


def test_overview_headline_figures_change_and_reporting_status(observatory_home):
    at = open_page("overview")
    shown = metrics(at)
    # Last complete year 2024 (no 2023 to compare with), then the latest quarter 2025-Q2.
    assert [s.value for s in at.subheader][:2] == [
        "Último año completo: 2024", "Último trimestre: 2025-Q2"]
    year, quarter = (at.get("metric")[:4], at.get("metric")[4:8])
    assert [m.value for m in year][:2] == ["4.950", ui.format_number(REGION_PROSECUTED_2024, "es")]
    assert [m.value for m in quarter][:2] == [ui.format_number(REGION_LATEST_TOTAL, "es"),
                                              str(REGION_PROSECUTED_2025Q2)]
    assert quarter[0].delta == "+9,6\u00a0% frente a 2024-Q2"
    assert quarter[1].delta == "+13,7\u00a0% frente a 2024-Q2"  # 58 / 51
    assert "provisional" in quarter[0].help
    assert shown["Víctimas de trata detectadas"]  # the registry's name, not a local text
    assert t("dash.caveat.detection", "es") in [w.value for w in at.warning]

    status = at.dataframe[0].value.set_index("Área")
    assert status.loc["Guatemala", "TIP_JUSTICE"] == "tardía"
    assert status.loc["Guatemala", "TIP_VICTIMS"] == "a tiempo"
    assert status.loc["El Salvador", "TIP_JUSTICE"] == "falta"
    assert status.loc["Belice", "TIP_VICTIMS"] == "falta"
    (bars,) = charts(at)
    assert bars["data"][0]["x"] == ["Guatemala", "El Salvador"]
    assert numbers(bars["data"][0]["y"]) == [1268, 120]
    assert bars["data"][0]["marker"]["pattern"]["shape"] == ["/", ""]  # GTM 2025-Q2 provisional
    # The definition on demand is the registry's.
    assert "Número de víctimas de trata de personas detectadas" in expander_text(at)


def test_trends_region_by_default_then_a_member_its_rate_and_a_breakdown(observatory_home):
    at = open_page("trends")
    assert metrics(at) == {"Región (países miembros), 2025-Q2": "1.388"}
    (fig,) = charts(at)
    assert numbers(fig["data"][0]["y"]) == [1152, 1267, 1156, 1375, 1273, 1388]
    assert fig["data"][0]["marker"]["symbol"][-1] == "circle-open"  # provisional
    assert fig["layout"]["title"]["text"] == "Víctimas de trata detectadas · Trimestral"
    assert "no la prevalencia" in fig["layout"]["title"]["subtitle"]["text"]

    at.multiselect(key="trends_areas.es").set_value(["GTM"])
    at.run()
    assert metrics(at) == {"Guatemala, 2025-Q2": "1.268"}
    at.segmented_control(key="trends_measure").set_value("rate")
    at.run()
    (fig,) = charts(at)
    assert fig["layout"]["title"]["text"].startswith("Víctimas detectadas por 100.000 habitantes")
    gtm_rate = (1047 + 1261 + 1155 + 1268) / 18_400_000 * 1e5
    assert metrics(at) == {"Guatemala, 2025-Q2-R4Q": ui.format_number(gtm_rate, "es", 1)}

    at.segmented_control(key="trends_measure").set_value("count")
    at.run()
    at.selectbox(key="trends_breakdown.es._T-sex").set_value("sex")
    at.run()
    assert not at.exception
    female = ui.breakdown_label("sex", "F", "es")  # the code list's label
    assert metrics(at) == {f"Guatemala – {female}, 2025-Q2": "634"}  # 1268 // 2


def test_trends_other_indicators_and_english(observatory_home):
    at = open_page("trends")
    at.selectbox(key="trends_indicator.es").set_value("TIP_PROSECUTED")
    at.run()
    assert metrics(at) == {"Región (países miembros), 2025-Q2": "58"}
    at.segmented_control(key="lang").set_value("en")
    at.run()
    assert not at.exception
    assert at.selectbox(key="trends_indicator.en").value == "TIP_PROSECUTED"
    assert metrics(at) == {"Region (member countries), 2025-Q2": "58"}
    at.selectbox(key="trends_indicator.en").set_value("VIC_DETECTED")
    at.run()
    assert metrics(at) == {"Region (member countries), 2025-Q2": "1,388"}
    assert "Victims of trafficking detected" in at.selectbox(key="trends_indicator.en").options


def test_country_profile_of_guatemala(observatory_home):
    at = open_page("country")
    at.selectbox(key="country_member.es").set_value("GTM")
    at.run()
    assert not at.exception
    assert at.header[0].value == "Guatemala"
    shown = metrics(at)
    assert shown["Tasa de presentación de informes, 2025-Q2"] == "100,0\u00a0%"
    assert shown["Tasa de puntualidad, 2025-Q2"] == "50,0\u00a0%"
    (fig,) = charts(at)
    assert numbers(fig["data"][0]["y"]) == [1040, 1152, 1047, 1261, 1155, 1268]
    tables = [df.value for df in at.dataframe]
    victims = next(v for v in tables if "Víctimas de trata detectadas" in set(v.iloc[:, 0]))
    row = victims.set_index("Indicador").loc["Víctimas de trata detectadas"]
    assert row["Valor"] == "4.731"  # four quarters ending 2025-Q2
    justice = next(v for v in tables
                   if "Personas procesadas por trata" in set(v.iloc[:, 0]))
    row = justice.set_index("Indicador").loc["Personas procesadas por trata"]
    assert (row["Valor"], row["Estado"]) == ("47", "provisional")


def test_flows_matrix_sankey_and_categories(observatory_home):
    at = open_page("flows")
    shown = metrics(at)
    assert shown["Nacionales"] == ui.format_number(FLOWS_DOMESTIC, "es")
    assert shown["Intrarregionales"] == str(FLOWS_INTRA)
    assert shown["Extrarregionales"] == str(FLOWS_EXTRA)
    matrix, sankey = charts(at)
    assert matrix["data"][0]["type"] == "heatmap"
    assert matrix["data"][0]["x"] == ["Guatemala", "El Salvador"]
    assert matrix["data"][0]["y"][:2] == ["Guatemala", "El Salvador"]  # members first
    assert matrix["data"][0]["text"][0] == ["3.000", "15"]
    assert sankey["data"][0]["type"] == "sankey"
    assert sorted(numbers(sankey["data"][0]["link"]["value"])) == [6, 12, 15, 25, 40, 400, 3000]
    assert "al menos 5 víctimas" in " ".join(c.value for c in at.caption)

    at.segmented_control(key="flows_freq").set_value("R4Q")
    at.run()
    assert metrics(at)["Nacionales"] == "3.100"


def test_quality_heat_maps_and_findings(observatory_home):
    at = open_page("quality")
    shown = metrics(at)
    assert shown["Tasa de presentación de informes, región, 2025-Q2"] == "18,8\u00a0%"
    assert shown["Tasa de puntualidad, región, 2025-Q2"] == "12,5\u00a0%"
    reporting, unknown = charts(at)
    members = data.member_countries(str(observatory_home / "serving" / "20261128T101500123456.duckdb"))
    assert len(reporting["data"][0]["y"]) == len(members) == 8
    gtm = members.index("GTM")
    assert reporting["data"][0]["text"][gtm] == ["100,0\u00a0%"] * 6

    at.segmented_control(key="quality_measure").set_value("on_time_rate")
    at.run()
    reporting, unknown = charts(at)
    assert reporting["data"][0]["text"][gtm][-1] == "50,0\u00a0%"  # TIP_JUSTICE came late
    slv = members.index("SLV")
    assert unknown["data"][0]["text"][slv][-1] == ui.format_value(SLV_UNKNOWN_SEX_2025Q2,
                                                                 "PERCENT", "es")
    findings = at.dataframe[0].value
    assert findings.iloc[0].tolist() == ["El Salvador", "2025-Q2", "0", "2"]
    assert findings.iloc[1].tolist() == ["Guatemala", "2025-Q1", "3", "0"]


def test_quality_in_english(observatory_home):
    at = open_page("quality", "en")
    assert metrics(at)["Reporting rate, region, 2025-Q2"] == "18.8%"


def test_indicator_frame_is_the_one_switchable_query(observatory_home, monkeypatch):
    """Every indicator value of the new pages comes through data.indicator_frame, which reads
    data.INDICATOR_MART; a mart with conf_status shows suppressed cells as <5."""
    import duckdb

    path = str(observatory_home / "serving" / "20261128T101500123456.duckdb")
    with duckdb.connect(path) as con:
        con.execute("create table marts.published as select *, 'F' as conf_status "
                    "from marts.indicator_values")
        con.execute("update marts.published set value = null, conf_status = 'A' "
                    "where indicator_code = 'VIC_DETECTED' and ref_area = 'REG' "
                    "and time_period = '2025-Q2' and sex = '_T'")
    monkeypatch.setattr(data, "INDICATOR_MART", "marts.published")
    at = open_page("trends")
    assert metrics(at) == {"Región (países miembros), 2025-Q2": "<5"}
