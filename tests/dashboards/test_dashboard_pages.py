"""The analysts' pages (issue 4) in-process with AppTest against the fixture snapshot: the values
shown, the registry's labels and definitions, the language switch, the downloads and disclosure
control (hidden cells read <5 or "confidential", never a number)."""

from __future__ import annotations

import csv
import io
import json
import math

import pandas as pd
import pytest
from dashboard_marts import (
    FLOWS_DOMESTIC,
    FLOWS_EXTRA,
    FLOWS_INTRA,
    HISTORY_FILE,
    JUSTICE_2024,
    MEMBERS,
    PROFILE_GTM_2025Q2,
    QUALITY_SCORES,
    REGION_PROSECUTED_2024,
    REGION_PROSECUTED_2025Q2,
    SLV_UNKNOWN_SEX_2025Q2,
    SMUGGLING_2024,
)
from dashboard_snapshot import REGION_LATEST_TOTAL
from streamlit.testing.v1 import AppTest
from test_dashboard_app import APP, TIMEOUT, numbers

from dashboards import data, history, ui
from pipelines.lib.i18n import t

PAGES = ["overview", "trends", "country", "flows", "quality", "justice", "smuggling",
         "coordination"]


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


def matrix(field) -> list[list[float]]:
    """A Plotly 2-D array (a heat map's z): nested lists, or a typed array with its shape."""
    if isinstance(field, dict):
        _, width = (int(n) for n in str(field["shape"]).split(","))
        flat = numbers(field)
        return [flat[i:i + width] for i in range(0, len(flat), width)]
    return [list(line) for line in field]


def expander_text(at: AppTest) -> str:
    return " ".join(m.value for e in at.expander for m in e.markdown)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_offers_definitions_and_csv_xlsx_downloads(snapshot_home, name, lang):
    at = open_page(name, lang)
    assert at.title[0].value == t(f"dash.{name}.title", lang)
    labels = [b.proto.label for b in at.get("download_button")]
    assert t("dash.pages.download_csv", lang) in labels
    assert t("dash.pages.download_xlsx", lang) in labels
    assert labels.count(t("dash.pages.download_csv", lang)) == labels.count(
        t("dash.pages.download_xlsx", lang))
    assert [e.label for e in at.expander].count(t("dash.pages.about_chart", lang)) >= 1


def test_overview_headline_figures_change_and_reporting_status(snapshot_home):
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


def test_trends_region_by_default_then_a_member_its_rate_and_a_breakdown(snapshot_home):
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


def test_trends_four_way_profile_by_sex_and_age(profile_home):
    """VIC_PROFILE_SHARE has rows only with sex AND age set: the page offers that breakdown
    (and not sex or age alone, which would be empty) and names each series by both labels."""
    at = open_page("trends", "en")
    at.selectbox(key="trends_indicator.en").set_value("VIC_PROFILE_SHARE")
    at.multiselect(key="trends_areas.en").set_value(["GTM"])
    at.run()
    breakdown = at.selectbox(key="trends_breakdown.en._T-sex_age")
    assert breakdown.options == [t(f"dash.trends.breakdown.{d}", "en") for d in ("_T", "sex_age")]
    breakdown.set_value("sex_age")
    at.run()
    assert not at.exception
    expected = {f"Guatemala – {ui.breakdown_label('sex', sex, 'en')}, "
                f"{ui.breakdown_label('age', age, 'en')}, 2025-Q2":
                ui.format_value(value, "PERCENT", "en", "F")
                for (sex, age), value in PROFILE_GTM_2025Q2.items()}
    assert metrics(at) == expected
    (fig,) = charts(at)
    assert sorted(numbers(trace["y"])[0] for trace in fig["data"]) == [10, 20, 25, 45]


def test_trends_other_indicators_and_english(snapshot_home):
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


@pytest.mark.parametrize("lang", ["es", "en"])
def test_trends_shows_unodc_history_beside_the_coalition_with_the_methods_note(history_home, lang):
    at = open_page("trends", lang)
    # The region is chosen: UNODC has no regional total, so every member with a series is
    # offered (members in order) and the page says why.
    assert t("dash.history.no_region", lang) in [c.value for c in at.caption]
    assert at.selectbox(key=f"trends_history_area.{lang}.GTM-SLV").value == "GTM"
    at.multiselect(key=f"trends_areas.{lang}").set_value(["SLV"])
    at.run()
    assert not at.exception
    assert t("dash.history.no_region", lang) not in [c.value for c in at.caption]
    assert at.subheader[-1].value == t("dash.history.title", lang)

    trend, fig = charts(at)
    assert fig["layout"]["title"]["text"] == t("dash.history.chart_title", lang,
                                               area=ui.area_label("SLV", lang))
    traces = {trace["name"]: trace for trace in fig["data"]}
    unodc = traces[t("dash.history.series_unodc", lang)]
    suppressed = traces[t("dash.history.series_suppressed", lang)]
    coalition = traces[t("dash.history.series_coalition", lang)]
    assert set(traces) == {unodc["name"], suppressed["name"], coalition["name"]}  # no flag
    # The names say the source.
    assert "UNODC" in unodc["name"] and "UNODC" in suppressed["name"]
    assert coalition["name"].startswith({"es": "Coalición", "en": "Coalition"}[lang])
    # One year axis: the latest vintage of UNODC 2018-2020, the coalition's 2024 total (450).
    assert all(trace.get("xaxis", "x") == "x" for trace in fig["data"])
    assert fig["layout"]["xaxis"]["title"]["text"] == t("dash.history.year_axis", lang)
    assert numbers(unodc["x"]) == [2018, 2019, 2020]
    assert [None if v is None or math.isnan(v) else v for v in numbers(unodc["y"])] == [58, None, 41]
    assert numbers(coalition["x"]) == [2024] and numbers(coalition["y"]) == [450]
    # 2019 was published as '<5': drawn as such at 5 ("below 5"), not as a number of its own.
    assert numbers(suppressed["x"]) == [2019] and suppressed["text"] == ["<5"]
    assert numbers(suppressed["y"]) == [history.SUPPRESSED_AT]
    assert suppressed["marker"]["symbol"] == "triangle-down-open"

    table = next(df.value for df in at.dataframe
                 if t("dash.history.col.source", lang) in df.value.columns)
    row = table[table[t("dash.history.col.year", lang)] == 2019].iloc[0]
    assert row[t("dash.history.col.value", lang)] == "<5"
    assert row[t("dash.history.col.note", lang)] == t("dash.history.hover_suppressed", lang)
    assert t("dash.history.vintage", lang, vintage=2, file=HISTORY_FILE, when="2026-11-20") in [
        c.value for c in at.caption]

    markdown = [m.value for m in at.markdown]
    assert f"**{t('dash.history.methods_title', lang)}**" in markdown
    assert t("dash.history.methods", lang) in markdown
    assert "<5" in t("dash.history.methods", lang) and "UNODC" in t("dash.history.methods", lang)


def test_trends_history_only_for_an_indicator_unodc_publishes(history_home):
    at = open_page("trends")
    at.selectbox(key="trends_indicator.es").set_value("TIP_PROSECUTED")
    at.run()
    assert len(charts(at)) == 1
    assert t("dash.history.methods", "es") not in [m.value for m in at.markdown]


def test_trends_without_unodc_history_shows_no_history_section(snapshot_home):
    at = open_page("trends")
    assert len(charts(at)) == 1
    assert t("dash.history.title", "es") not in [s.value for s in at.subheader]


def test_history_figure_draws_flagged_and_suppressed_years_without_inventing_numbers():
    rows = pd.DataFrame({
        "ref_area": ["GTM"] * 4, "year": [2003, 2004, 2006, 2007],
        "value": [12.0, None, 2007.0, 30.0], "value_text": ["12", "<5", "2,007", "30"],
        "suppressed_at_source": [False, True, False, False],
        "flag": [None, None, "value_equals_year", None],
        "flag_detail": [None, None, "equals its year", None],
    })
    annual = pd.DataFrame({"ref_area": ["GTM"], "freq": ["A"], "time_period": ["2024"],
                           "value": [4500.0], "obs_status": ["P"]})
    fig = history.history_figure(rows, annual, "GTM", "fr")
    unodc, suppressed, flagged, coalition = fig.data
    assert unodc.name == t("dash.history.series_unodc", "fr")
    # A full year axis: 2004 (<5) and 2005 (not published) are gaps, never numbers.
    assert list(unodc.x) == [2003, 2004, 2005, 2006, 2007]
    assert [None if pd.isna(v) else v for v in unodc.y] == [12, None, None, 2007, 30]
    assert list(suppressed.x) == [2004] and list(suppressed.text) == ["<5"]
    assert list(flagged.x) == [2006] and flagged.customdata[0][1] == "equals its year"
    assert list(coalition.x) == [2024] and list(coalition.marker.symbol) == ["circle-open"]
    assert fig.layout.xaxis.title.text == t("dash.history.year_axis", "fr")


def test_country_profile_of_guatemala(snapshot_home):
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


def test_flows_matrix_sankey_and_categories(snapshot_home):
    at = open_page("flows")
    shown = metrics(at)
    assert shown["Nacionales"] == ui.format_number(FLOWS_DOMESTIC, "es")
    assert shown["Intrarregionales"] == str(FLOWS_INTRA)
    assert shown["Extrarregionales"] == str(FLOWS_EXTRA)
    matrix, sankey, member_map = charts(at)
    assert matrix["data"][0]["type"] == "heatmap"
    assert matrix["data"][0]["x"] == ["Guatemala", "El Salvador"]
    assert matrix["data"][0]["y"][:2] == ["Guatemala", "El Salvador"]  # members first
    assert matrix["data"][0]["text"][0] == ["3.000", "15"]
    assert sankey["data"][0]["type"] == "sankey"
    assert sorted(numbers(sankey["data"][0]["link"]["value"])) == [6, 12, 15, 25, 40, 400, 3000]
    assert "al menos 5 víctimas" in " ".join(c.value for c in at.caption)
    # The map: the members with victims detected in 2024 shaded by that number (GTM 4500, SLV
    # 450), the six others grey; ISO3 codes on Plotly's geo map, geometry served locally.
    no_data, shaded = member_map["data"]
    assert (shaded["type"], shaded["locationmode"]) == ("choropleth", "ISO-3")
    assert shaded["locations"] == ["GTM", "SLV"]
    assert numbers(shaded["z"]) == [4500, 450]
    assert "Víctimas de trata detectadas: 4.500" in shaded["customdata"][0]
    assert no_data["locations"] == [m for m in MEMBERS if m not in ("GTM", "SLV")]
    assert member_map["layout"]["geo"]["scope"] == "north america"
    assert "topojsonURL" in at.get("plotly_chart")[2].proto.config

    at.segmented_control(key="flows_freq").set_value("R4Q")
    at.run()
    assert metrics(at)["Nacionales"] == "3.100"


def test_quality_heat_maps_and_findings(snapshot_home):
    at = open_page("quality")
    shown = metrics(at)
    assert shown["Tasa de presentación de informes, región, 2025-Q2"] == "18,8\u00a0%"
    assert shown["Tasa de puntualidad, región, 2025-Q2"] == "12,5\u00a0%"
    reporting, unknown, score = charts(at)
    members = data.member_countries(str(snapshot_home / "serving" / "20261128T101500123456.duckdb"))
    assert len(reporting["data"][0]["y"]) == len(members) == 8
    gtm = members.index("GTM")
    assert reporting["data"][0]["text"][gtm] == ["100,0\u00a0%"] * 6

    at.segmented_control(key="quality_measure").set_value("on_time_rate")
    at.run()
    reporting, unknown, score = charts(at)
    assert reporting["data"][0]["text"][gtm][-1] == "50,0\u00a0%"  # TIP_JUSTICE came late
    slv = members.index("SLV")
    assert unknown["data"][0]["text"][slv][-1] == ui.format_value(SLV_UNKNOWN_SEX_2025Q2,
                                                                 "PERCENT", "es")
    # warnings of the versions in use; the rejected attempt and its errors apart (GTM's
    # rejected version 1 was corrected by the accepted version 2)
    findings = at.dataframe[0].value
    assert findings.columns.tolist()[2:] == [t("dash.quality.warnings", "es"),
                                             t("dash.quality.attempts", "es"),
                                             t("dash.quality.errors", "es")]
    assert findings.iloc[0].tolist() == ["El Salvador", "2025-Q2", "2", "0", "0"]
    assert findings.iloc[1].tolist() == ["Guatemala", "2025-Q1", "0", "1", "3"]

    # The data-quality score (marts.dq_country_quarter): member × quarter, parts on hover.
    heat = score["data"][0]
    assert score["layout"]["title"]["text"] == (
        "Puntuación de calidad de los datos (0–100) por país miembro y trimestre")
    assert heat["x"] == ["2025-Q1", "2025-Q2"]
    z = matrix(heat["z"])
    assert [z[gtm], z[slv]] == [[99.0, 87.0], [80.0, 55.0]]
    assert z[members.index("HND")][1] == QUALITY_SCORES["HND", "2025-Q2"] == 0.0
    assert math.isnan(z[members.index("BLZ")][1])  # no row: no cell
    assert heat["text"][slv] == ["80,0", "55,0"]
    assert heat["customdata"][slv][1] == (
        "Conjuntos de datos entregados: 1 de 2, a tiempo: 1<br>Errores: 0, advertencias: 2<br>"
        "Mayor proporción de desconocidos: 35,0\u00a0%<br>Celdas publicadas suprimidas: 3 de 6")
    assert "%{customdata}" in heat["hovertemplate"]
    assert t("dash.quality.score_definition", "es") in expander_text(at)


def test_quality_in_english(snapshot_home):
    at = open_page("quality", "en")
    assert metrics(at)["Reporting rate, region, 2025-Q2"] == "18.8%"
    score = charts(at)[-1]
    heat = score["data"][0]
    assert score["layout"]["title"]["text"] == (
        "Data quality score (0–100) by member country and quarter")
    gtm, slv = MEMBERS.index("GTM"), MEMBERS.index("SLV")
    assert heat["y"][gtm] == "Guatemala"
    z = matrix(heat["z"])
    assert [z[gtm][1], z[slv][1]] == [QUALITY_SCORES["GTM", "2025-Q2"],
                                      QUALITY_SCORES["SLV", "2025-Q2"]] == [87.0, 55.0]
    assert heat["text"][gtm] == ["99.0", "87.0"]
    assert heat["customdata"][gtm][1] == (
        "Data sets reported: 2 of 2, on time: 1<br>Errors: 0, warnings: 0<br>"
        "Largest unknown share: 5.0%<br>Published cells suppressed: 1 of 10")
    assert "100 minus up to 20 points for each of five shortfalls" in expander_text(at)


def test_quality_without_the_score_mart(observatory_home):
    """A snapshot that predates marts.dq_country_quarter: the other charts, a note for the score."""
    import duckdb

    path = str(observatory_home / "serving" / "20261128T101500123456.duckdb")
    with duckdb.connect(path) as con:
        con.execute("drop table marts.dq_country_quarter")
    at = open_page("quality", "en")
    assert len(charts(at)) == 2
    assert at.subheader[-2].value == t("dash.quality.score_heading", "en")
    assert t("dash.pages.no_quality", "en") in [info.value for info in at.info]


def test_pages_read_the_disclosure_controlled_mart_and_show_a_hidden_count_as_lt5(
        observatory_home):
    """Every indicator value comes through data.INDICATOR_MART, the published mart: hide the
    region's victims of 2025-Q2 there (as disclosure control would, A) and the victims page and
    the trends page show <5, never the number the unprotected mart still holds."""
    import duckdb

    assert data.INDICATOR_MART == "marts.indicator_values_published"
    path = str(observatory_home / "serving" / "20261128T101500123456.duckdb")
    with duckdb.connect(path) as con:
        con.execute("insert into main.fixture_hidden_cells values "
                    "('VIC_DETECTED', 'REG', '2025-Q2', 'A')")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()  # the victims page
    total = next(m for m in at.metric if m.label.startswith("Víctimas detectadas en la región"))
    assert total.value == "<5" and not total.delta  # no change on a hidden figure
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert math.isnan(numbers(bars["y"])[-1])  # not drawn
    assert at.switch_page("views/trends.py").run().metric[0].value == "<5"


def test_justice_funnel_members_ratio_and_hidden_cells(snapshot_home):
    at = open_page("justice")
    shown = metrics(at)
    assert shown["Personas sospechosas o detenidas por trata"] == "311"
    assert shown["Personas procesadas por trata"] == str(REGION_PROSECUTED_2024)
    assert shown["Personas condenadas por trata"] == "33"
    assert shown["Razón condenas / procesamientos"] == ui.format_number(33 / 199, "es", 2)
    assert shown["Condenas por cada 100 víctimas detectadas"] == "0,7"
    funnel, members, ratio = charts(at)
    assert numbers(funnel["data"][0]["x"]) == [311, 199, 33]
    assert funnel["data"][0]["y"] == ["Sospechosas o detenidas", "Procesadas", "Condenadas"]
    assert funnel["layout"]["title"]["text"] == (
        "Del proceso penal a la condena: Región (países miembros), 2024")

    # Per member: GTM and SLV; SLV's 3 convictions are a small count (<5), GTM's 30 are hidden
    # by secondary suppression (confidential): neither is drawn, both are labelled in place.
    suspected, prosecuted, convicted = members["data"]
    assert suspected["x"] == ["Guatemala", "El Salvador"]
    assert numbers(suspected["y"]) == [JUSTICE_2024["TIP_SUSPECTED"][a] for a in ("GTM", "SLV")]
    assert numbers(prosecuted["y"]) == [165, 34]
    assert convicted["y"] == [None, None]
    assert convicted["text"] == ["confidencial", "<5"]
    assert [a["text"] for a in members["layout"]["annotations"]] == ["confidencial", "<5"]
    assert ratio["data"][0]["text"] == ["0,17", "confidencial", "confidencial"]
    assert ratio["data"][0]["y"][1:] == [None, None]

    table = at.dataframe[0].value.set_index("Área")
    assert table.loc["El Salvador", "Personas condenadas por trata"] == "<5"
    assert table.loc["Guatemala", "Personas condenadas por trata"] == "confidencial"
    assert table.loc["Guatemala", "Personas sospechosas o detenidas por trata"] == "260"
    assert t("dash.pages.disclosure_note", "es") in [c.value for c in at.caption]

    at.selectbox(key="justice_area.es").set_value("SLV")
    at.run()
    shown = metrics(at)
    assert shown["Personas condenadas por trata"] == "<5"
    assert shown["Razón condenas / procesamientos"] == "confidencial"
    funnel = charts(at)[0]
    assert funnel["data"][0]["x"][:2] == [51, 34] and funnel["data"][0]["x"][2] is None
    assert [a["text"] for a in funnel["layout"]["annotations"]] == ["<5"]


def test_smuggling_and_the_nexus_in_english(snapshot_home):
    at = open_page("smuggling", "en")
    shown = metrics(at)
    assert shown["Smuggled migrants detected"] == "12,380"
    assert shown["Share identified as trafficking victims (trafficking-smuggling nexus)"] == "1.7%"
    assert shown["Deaths in smuggling events"] == "12"
    detected, nexus = charts(at)
    assert detected["data"][0]["x"] == ["Guatemala", "Mexico", "El Salvador"]
    assert numbers(detected["data"][0]["y"]) == [SMUGGLING_2024["SOM_DETECTED"][a]
                                                 for a in ("GTM", "MEX", "SLV")]
    assert nexus["data"][0]["x"] == ["Region (member countries)", "Guatemala", "Mexico",
                                     "El Salvador"]
    assert nexus["data"][0]["text"] == ["1.7%", "confidential", "1.5%", "confidential"]
    assert nexus["data"][0]["y"][1] is None and nexus["data"][0]["y"][3] is None
    assert "Smuggled migrants identified as trafficking victims: 150" in (
        nexus["data"][0]["customdata"][2][0])
    table = at.dataframe[0].value.set_index("Area")
    column = "Smuggled migrants identified as trafficking victims"
    assert table[column].to_dict() == {"Region (member countries)": "213", "Guatemala":
                                       "confidential", "Mexico": "150", "El Salvador": "<5"}


def test_smuggling_in_french(snapshot_home):
    at = open_page("smuggling", "fr")
    assert at.title[0].value == "Trafic illicite de migrants et lien avec la traite"
    assert metrics(at)["Migrants objet de trafic illicite détectés"] == "12\u202f380"  # registry fr
    # The definition on demand is the registry's, in French, its formula too.
    assert "Nombre de migrants objet de trafic illicite détectés" in expander_text(at)
    assert "Somme de SOM_DETECTED pour la ventilation" in expander_text(at)
    assert "Sum of SOM_DETECTED" not in expander_text(at)
    assert t("dash.pages.disclosure_note", "fr") in [c.value for c in at.caption]


def test_coordination_mirror_one_sided_pairs_and_small_counts(snapshot_home):
    at = open_page("coordination")
    shown = metrics(at)
    assert shown["Víctimas remitidas a otro miembro"] == "28"
    assert shown["Víctimas recibidas por remisión"] == "27"
    assert shown["Brecha espejo de las remisiones"] == "24,0\u00a0%"
    assert shown["Pares con un solo lado, 2024"] == "2"
    matrix, members = charts(at)
    heat = matrix["data"][0]
    assert heat["y"] == ["Guatemala", "Honduras", "El Salvador"]  # senders
    assert heat["x"] == ["Guatemala", "Honduras", "México", "El Salvador"]  # receivers
    # SLV -> MEX 3 sent is small (<5); SLV -> GTM 7 sent is hidden too (confidential), or SLV's
    # published REF_SENT 10 minus 7 would give the 3 back.
    assert heat["text"] == [["", "6 → –", "", "12 → 9"], ["– → 5", "", "", ""],
                            ["confidencial → 7", "", "<5 → 6", ""]]
    one_sided = matrix["data"][-1]
    assert (one_sided["x"], one_sided["y"]) == (["Honduras", "Guatemala"],
                                                ["Guatemala", "Honduras"])
    sent, received = members["data"]
    assert sent["text"] == ["18", "–", "10"] and numbers(received["y"]) == [12, 6, 9]

    pairs = at.dataframe[0].value
    slv_mex = pairs[(pairs["Remitente"] == "El Salvador") & (pairs["Receptor"] == "México")]
    # the gap and the status are hidden too (they would give the hidden side back)
    assert slv_mex.iloc[0].tolist()[2:7] == ["<5", "6", "confidencial", "confidencial",
                                             "confidencial"]
    slv_gtm = pairs[(pairs["Remitente"] == "El Salvador") & (pairs["Receptor"] == "Guatemala")]
    assert slv_gtm.iloc[0].tolist()[2:7] == ["confidencial", "7", "confidencial", "confidencial",
                                             "confidencial"]
    gtm_slv = pairs[(pairs["Remitente"] == "Guatemala") & (pairs["Receptor"] == "El Salvador")]
    assert gtm_slv.iloc[0].tolist()[2:7] == ["12", "9", "3", "25,0\u00a0%", "brecha"]
    lonely = at.dataframe[1].value
    assert lonely[["Remitente", "Receptor", "Situación"]].values.tolist() == [
        ["Guatemala", "Honduras", "solo el remitente informa el flujo"],
        ["Honduras", "Guatemala", "solo el receptor informa el flujo"]]


def test_a_submitter_sees_its_own_country_unsuppressed(observatory_home):
    """DOMAIN.md §6: a submitter of El Salvador sees El Salvador's 3 convictions and its own
    3 referrals to Mexico; Guatemala's hidden figures stay hidden for it."""
    from dashboards.workflow_ui import TOKEN_KEY
    from pipelines.lib.auth import AuthStore
    from pipelines.settings import get_settings

    store = AuthStore(get_settings())
    store.add_user("focal.slv", "submitter", "correct horse battery", country="SLV")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state[TOKEN_KEY] = store.sign_in("focal.slv", "correct horse battery")
    at.run()
    at.switch_page("views/justice.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("Área")
    assert table.loc["El Salvador", "Personas condenadas por trata"] == "3"
    assert table.loc["El Salvador", "Razón condenas / procesamientos"] == "0,09"  # 3 / 34
    assert table.loc["Guatemala", "Personas condenadas por trata"] == "confidencial"
    assert t("dash.pages.own_area_note", "es", country="El Salvador") in " ".join(
        c.value for c in at.caption)

    path = str(observatory_home / "serving" / "20261128T101500123456.duckdb")
    pairs = data.coordination_frame(path, "A", "SLV").set_index(["sender", "receiver"])
    assert pairs.loc[("SLV", "MEX"), "sent_by_sender"] == 3  # its own report
    assert pairs.loc[("SLV", "GTM"), "sent_by_sender"] == 7
    # the other side is published: the gap and the status of its own pairs are shown to it
    assert pairs.loc[("SLV", "MEX"), ["gap_persons", "pair_status"]].tolist() == [3, "gap"]
    assert pairs.loc[("SLV", "GTM"), ["gap_persons", "pair_status"]].tolist() == [0, "matched"]
    everyone = data.coordination_frame(path, "A").set_index(["sender", "receiver"])
    assert everyone.loc[("SLV", "MEX"), "sent_conf"] == "A"
    assert everyone.loc[("SLV", "GTM"), "sent_conf"] == "D"
    assert everyone[["sent_by_sender", "gap_persons"]].loc[[("SLV", "MEX"), ("SLV", "GTM")]
                                                           ].isna().all().all()


def test_every_text_exists_in_spanish_english_and_french():
    """Every text a user reads (app, workflow, validation, exports, CLI), in the three languages,
    each filling only the values the Spanish or English one is given."""
    import string

    from pipelines.lib.i18n import LANGUAGES, messages

    def fields(text):  # of every plural form of a text
        forms = text.values() if isinstance(text, dict) else [text]
        return {name for form in forms for _, name, _, _ in string.Formatter().parse(form)
                if name}

    missing = [k for k, v in messages().items() if not all(v.get(lang) for lang in LANGUAGES)]
    assert missing == []
    unknown = [k for k, v in messages().items()
               if not fields(v["fr"]) <= fields(v["en"]) | fields(v["es"])]
    assert unknown == []


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_a_hidden_cell_says_why_without_a_number(lang):
    """A withheld breakdown of a small series (N) reads "annual only" in the reader's language,
    a small count "<5", a secondary cell "confidential"."""
    assert ui.format_value(None, "PERSONS", lang, "N") == t("dash.pages.annual_only", lang)
    assert ui.format_value(float("nan"), "PERCENT", lang, "N") == t("dash.pages.annual_only", lang)
    assert ui.format_value(None, "PERSONS", lang, "A") == ui.SUPPRESSED_TEXT
    assert ui.format_value(None, "PERSONS", lang, "D") == t("dash.pages.confidential", lang)
    assert len({t("dash.pages.annual_only", code) for code in ("es", "en", "fr")}) == 3


def test_chart_downloads_write_counts_whole_and_rates_rounded():
    rows = pd.DataFrame({
        "indicator_code": ["VIC_DETECTED", "VIC_DETECTED", "TIP_CONVICTION_RATIO"],
        "ref_area": ["GTM", "SLV", "GTM"], "time_period": ["2025", "2025", "2025"],
        "freq": ["A", "A", "A"], "sex": ["_T"] * 3, "age": ["_T"] * 3,
        "exploitation_form": ["_T"] * 3, "value": [18.0, None, 0.428571428571],
        "unit": ["PERSONS", "PERSONS", "RATIO"], "obs_status": ["A"] * 3,
        "conf_status": ["F", "A", "F"]})
    registry = pd.DataFrame(index=pd.Index([], name="indicator_code"))  # codes stand for names
    csv_text = ui.export_frame(rows, registry, "es").to_csv(index=False)
    values = [row["value"] for row in csv.DictReader(io.StringIO(csv_text))]
    assert values == ["18", "", "0.429"]


def test_justice_has_a_quarterly_view(snapshot_home):
    at = open_page("justice")
    at.segmented_control(key="justice_freq.A-Q").set_value("Q")
    at.run()
    at.selectbox(key="justice_period.Q").set_value("2025-Q2")
    at.run()
    assert not at.exception
    funnel = charts(at)[0]
    # Prosecutions are reported by quarter; the other stages have no quarterly figure here.
    assert funnel["data"][0]["x"] == [None, REGION_PROSECUTED_2025Q2, None]
    assert metrics(at)["Personas procesadas por trata"] == str(REGION_PROSECUTED_2025Q2)
