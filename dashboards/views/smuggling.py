"""Smuggling of migrants and the trafficking–smuggling nexus (issue 4, DOMAIN.md §5.11): smuggled
migrants detected, the shares of children and of unaccompanied children, the share identified as
victims of trafficking (``SOM_TIP_NEXUS_SHARE``), deaths and smuggling convictions per 1,000
smuggled migrants, per member and for the region.

Every value comes from ``data.indicator_frame`` (the disclosure-controlled mart); the shares are
dbt's, never computed here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

DETECTED = "SOM_DETECTED"
NEXUS = "SOM_TIP_NEXUS_SHARE"
NEXUS_COUNT = "SOM_TIP_VICTIMS"
HEADLINE = (DETECTED, NEXUS, "SOM_DEATHS", "SOM_CHILD_SHARE", "SOM_UNACC_CHILD_SHARE",
            "SOM_CONVICTED_PER_1000_SOM")
TABLE_CODES = (DETECTED, "SOM_CHILD_SHARE", "SOM_UNACC_CHILD_SHARE", NEXUS_COUNT, NEXUS,
               "SOM_DEATHS", "SOM_PROSECUTED", "SOM_CONVICTED", "SOM_CONVICTED_PER_1000_SOM")
DETECTED_COLOR = "#0072B2"
NEXUS_COLOR = "#CC79A7"
STATE_AREA = "smuggling.area"

lang = ui.language()


def cell(rows: pd.DataFrame, code: str, area: str) -> pd.Series | None:
    found = rows[(rows["indicator_code"] == code) & (rows["ref_area"] == area)]
    return None if found.empty else found.iloc[0]


def series(rows: pd.DataFrame, areas: list[str], code: str, color: str,
           registry: pd.DataFrame) -> dict:
    found = [cell(rows, code, a) for a in areas]
    return {
        "name": ui.registry_text(registry, code, "name", lang),
        "color": color,
        "values": [None if c is None else c["value"] for c in found],
        "conf": ["F" if c is None else c["conf_status"] for c in found],
        "unit": next((c["unit"] for c in found if c is not None), "PERSONS"),
        "status": ["A" if c is None else c["obs_status"] for c in found],
    }


def shown_value(rows: pd.DataFrame, code: str, area: str) -> str:
    found = cell(rows, code, area)
    return "–" if found is None else ui.format_value(found["value"], found["unit"], lang,
                                                     found["conf_status"])


def table(rows: pd.DataFrame, areas: list[str], registry: pd.DataFrame) -> pd.DataFrame:
    codes = [c for c in TABLE_CODES if c in set(rows["indicator_code"])]
    shown = {t("dash.col.area", lang): [ui.area_label(a, lang) for a in areas]}
    for code in codes:
        shown[ui.registry_text(registry, code, "name", lang)] = [
            shown_value(rows, code, a) for a in areas]
    shown[t("dash.col.status", lang)] = [
        ui.status_label("P" if rows[rows["ref_area"] == a]["obs_status"].eq("P").any() else "A",
                        lang) for a in areas]
    return pd.DataFrame(shown)


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.smuggling.title", lang))
st.caption(t("dash.smuggling.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    rows = data.indicator_frame(snapshot.path, TABLE_CODES, ("A", "R4Q", "Q"), own_area=viewer_area)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

st.warning(t("dash.smuggling.caveat", lang), icon=":material/info:")
if rows.empty:
    st.info(t("dash.pages.no_values", lang))
    st.stop()

freq, period = ui.period_controls("smuggling", rows, lang)
shown = rows[(rows["freq"] == freq) & (rows["time_period"] == period)]
reporting = [m for m in members if m in set(shown["ref_area"])]
area_options = [data.REGION, *reporting]
chosen = st.session_state.get(STATE_AREA)
area = st.selectbox(
    t("dash.pages.area", lang), options=area_options,
    index=area_options.index(chosen) if chosen in area_options else 0,
    format_func=lambda a: ui.area_label(a, lang), key=f"smuggling_area.{lang}",
)
st.session_state[STATE_AREA] = area

with st.container(key="smuggling_metrics"):
    columns = st.columns(3)
    for i, code in enumerate(HEADLINE):
        found = cell(shown, code, area)
        with columns[i % 3]:
            st.metric(
                ui.registry_text(registry, code, "name", lang), shown_value(shown, code, area),
                help=None if found is None else ui.status_label(found["obs_status"], lang)
                .capitalize(),
                border=True,
            )

if not reporting:
    st.info(t("dash.pages.no_period", lang))
else:
    categories = [ui.area_label(m, lang) for m in reporting]
    fig = ui.bar_figure(
        categories, [series(shown, reporting, DETECTED, DETECTED_COLOR, registry)], lang,
        title=t("dash.overview.members_title", lang,
                indicator=ui.registry_text(registry, DETECTED, "name", lang),
                period=ui.period_label(period)),
        subtitle=t("dash.smuggling.caveat", lang), y_title=t("dash.unit.PERSONS", lang))
    ui.show_chart(fig, "smuggling_members")
    detected_rows = shown[(shown["indicator_code"] == DETECTED) & shown["ref_area"].isin(reporting)]
    ui.chart_extras("smuggling_members", ui.export_frame(detected_rows, registry, lang), lang,
                    registry=registry, codes=[DETECTED])

    nexus_areas = [a for a in [data.REGION, *reporting] if cell(shown, NEXUS, a) is not None]
    if nexus_areas:
        fig = ui.bar_figure(
            [ui.area_label(a, lang) for a in nexus_areas],
            [series(shown, nexus_areas, NEXUS, NEXUS_COLOR, registry)], lang,
            title=t("dash.smuggling.nexus_title", lang,
                    indicator=ui.registry_text(registry, NEXUS, "name", lang),
                    period=ui.period_label(period)),
            subtitle=ui.registry_text(registry, NEXUS, "definition", lang),
            y_title=t("dash.unit.PERCENT", lang), height=420)
        # The hover adds the two counts the share rests on (as published).
        fig.data[0].customdata = [
            [f"{ui.registry_text(registry, NEXUS_COUNT, 'name', lang)}: "
             f"{shown_value(shown, NEXUS_COUNT, a)}",
             f"{ui.registry_text(registry, DETECTED, 'name', lang)}: "
             f"{shown_value(shown, DETECTED, a)}",
             ui.status_label(cell(shown, NEXUS, a)["obs_status"], lang)] for a in nexus_areas]
        fig.data[0].hovertemplate = ("<b>%{x}</b>: %{text}<br>%{customdata[0]}"
                                     "<br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>")
        ui.show_chart(fig, "smuggling_nexus")
        nexus_rows = shown[shown["indicator_code"].isin([NEXUS, NEXUS_COUNT, DETECTED])
                           & shown["ref_area"].isin(nexus_areas)]
        ui.chart_extras("smuggling_nexus", ui.export_frame(nexus_rows, registry, lang), lang,
                        registry=registry, codes=[NEXUS, NEXUS_COUNT, DETECTED])

st.subheader(t("dash.smuggling.table_heading", lang, period=ui.period_label(period)))
table_areas = [data.REGION, *reporting]
with st.container(key="smuggling_table"):
    st.dataframe(table(shown, table_areas, registry), hide_index=True, width="stretch")
table_rows = shown[shown["ref_area"].isin(table_areas)]
ui.chart_extras("smuggling_table", ui.export_frame(table_rows, registry, lang), lang,
                registry=registry,
                codes=[c for c in TABLE_CODES if c in set(table_rows["indicator_code"])])
ui.disclosure_caption(lang, viewer_area)
