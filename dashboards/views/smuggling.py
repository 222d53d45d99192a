"""Smuggling of migrants and the trafficking–smuggling nexus (issue 4, DOMAIN.md §5.11): smuggled
migrants detected, the shares of children and of unaccompanied children, the share identified as
victims of trafficking (``SOM_TIP_NEXUS_SHARE``), deaths and smuggling convictions per 1,000
smuggled migrants, per member and for the region.

Every value comes from ``data.indicator_frame`` (the disclosure-controlled mart); the shares are
dbt's, never computed here.
"""

from __future__ import annotations

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

lang = ui.language()


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.smuggling.title", lang))
st.caption(t("dash.smuggling.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    rows = data.indicator_frame(snapshot.path, TABLE_CODES, ("A", "R4Q", "Q"),
                                data.shown_areas(snapshot.path), own_area=viewer_area)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

st.warning(t("dash.smuggling.caveat", lang), icon=":material/info:")
if rows.empty:
    st.info(t("dash.pages.no_values", lang))
    st.stop()

freq, period = ui.period_controls("smuggling", rows, lang)
shown = rows[(rows["freq"] == freq) & (rows["time_period"] == period)]
reporting = [m for m in members if m in set(shown["ref_area"])]
area = ui.area_choice("smuggling", reporting, lang)

ui.metric_cards("smuggling_metrics", shown, HEADLINE, area, registry, lang)

if not reporting:
    st.info(t("dash.pages.no_period", lang))
else:
    categories = [ui.area_label(m, lang) for m in reporting]
    fig = ui.bar_figure(
        categories,
        [ui.area_series(shown, reporting, DETECTED, registry, lang, color=DETECTED_COLOR)], lang,
        title=t("dash.overview.members_title", lang,
                indicator=ui.registry_text(registry, DETECTED, "name", lang),
                period=ui.period_label(period)),
        subtitle=t("dash.smuggling.caveat", lang), y_title=t("dash.unit.PERSONS", lang))
    ui.show_chart(fig, "smuggling_members")
    detected_rows = shown[(shown["indicator_code"] == DETECTED) & shown["ref_area"].isin(reporting)]
    ui.chart_extras("smuggling_members", ui.export_frame(detected_rows, registry, lang), lang,
                    registry=registry, codes=[DETECTED])

    nexus_areas = [a for a in [data.REGION, *reporting] if ui.cell(shown, NEXUS, a) is not None]
    if nexus_areas:
        fig = ui.bar_figure(
            [ui.area_label(a, lang) for a in nexus_areas],
            [ui.area_series(shown, nexus_areas, NEXUS, registry, lang, color=NEXUS_COLOR)], lang,
            title=t("dash.smuggling.nexus_title", lang,
                    indicator=ui.registry_text(registry, NEXUS, "name", lang),
                    period=ui.period_label(period)),
            subtitle=ui.registry_text(registry, NEXUS, "definition", lang),
            y_title=t("dash.unit.PERCENT", lang), height=420)
        # The hover adds the two counts the share rests on (as published).
        fig.data[0].customdata = [
            [f"{ui.registry_text(registry, NEXUS_COUNT, 'name', lang)}: "
             f"{ui.cell_text(shown, NEXUS_COUNT, a, lang)}",
             f"{ui.registry_text(registry, DETECTED, 'name', lang)}: "
             f"{ui.cell_text(shown, DETECTED, a, lang)}",
             ui.status_label(ui.cell(shown, NEXUS, a)["obs_status"], lang)] for a in nexus_areas]
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
    st.dataframe(ui.area_table(shown, table_areas, TABLE_CODES, registry, lang),
                 hide_index=True, width="stretch")
table_rows = shown[shown["ref_area"].isin(table_areas)]
ui.chart_extras("smuggling_table", ui.export_frame(table_rows, registry, lang), lang,
                registry=registry,
                codes=[c for c in TABLE_CODES if c in set(table_rows["indicator_code"])])
ui.disclosure_caption(lang, viewer_area)
