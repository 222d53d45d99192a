"""Criminal justice (issue 4, DOMAIN.md §5.7–8): persons suspected → prosecuted → convicted of
trafficking in persons per member and year (or rolling four quarters, or quarter), as a funnel for one area
and as bars per member, and the convictions / prosecutions ratio ("a ratio, not a cohort
conviction rate").

Every value comes from ``data.indicator_frame`` (the disclosure-controlled mart); the ratio and
the rates are dbt's, never computed here. A hidden cell draws no bar and reads ``<5`` (or
"confidential", see ``ui.suppressed_text``).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

STAGES = ("TIP_SUSPECTED", "TIP_PROSECUTED", "TIP_CONVICTED")
RATIO = "TIP_CONVICTION_RATIO"
PER_VICTIMS = "TIP_CONVICTED_PER_100_VIC"
TABLE_CODES = (*STAGES, RATIO, PER_VICTIMS, "TIP_CONVICTED_RATE_100K",
               "TIP_CONVICTED_FEMALE_SHARE", "TIP_CONVICTED_FOREIGN_SHARE")
STAGE_COLORS = {"TIP_SUSPECTED": "#56B4E9", "TIP_PROSECUTED": "#0072B2", "TIP_CONVICTED": "#D55E00"}
RATIO_COLOR = "#009E73"
# A quarter too: the counts are published quarterly (the ratio and rates, over four quarters, are
# not, and their charts and cards are left out or read "–").
FREQS = ("A", "R4Q", "Q")

lang = ui.language()


def funnel_figure(rows: pd.DataFrame, area: str, period: str) -> go.Figure:
    """The three stages of one area; a hidden stage draws nothing and is labelled in place."""
    labels = [t(f"dash.justice.stage.{code}", lang) for code in STAGES]
    found = [ui.cell(rows, code, area) for code in STAGES]
    values = [None if c is None or ui.is_missing(c["value"]) else c["value"] for c in found]
    texts = ["–" if c is None else ui.format_value(c["value"], c["unit"], lang, c["conf_status"])
             for c in found]
    fig = go.Figure(go.Funnel(
        y=labels, x=values, text=texts, textinfo="text",
        marker={"color": [STAGE_COLORS[code] for code in STAGES]},
        connector={"fillcolor": "#E5E9EF"},
        hovertemplate="<b>%{y}</b>: %{text}<extra></extra>",
    ))
    for label, value, text in zip(labels, values, texts, strict=True):
        if value is None:
            fig.add_annotation(x=0, y=label, text=text, showarrow=False,
                               hovertext=f"{label}: {text}")
    fig.update_layout(
        title={"text": t("dash.justice.funnel_title", lang, area=ui.area_label(area, lang),
                         period=ui.period_label(period)),
               "subtitle": {"text": ui.wrap(t("dash.justice.caveat", lang))}},
        separators=ui.plotly_separators(lang), height=380, margin={"t": 110, "b": 30},
    )
    return fig


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.justice.title", lang))
st.caption(t("dash.justice.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    rows = data.indicator_frame(snapshot.path, TABLE_CODES, FREQS,
                                data.shown_areas(snapshot.path), own_area=viewer_area)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

if rows.empty:
    st.info(t("dash.pages.no_values", lang))
    st.stop()

freq, period = ui.period_controls("justice", rows, lang, FREQS)
shown = rows[(rows["freq"] == freq) & (rows["time_period"] == period)]
reporting = [m for m in members if m in set(shown["ref_area"])]
area = ui.area_choice("justice", reporting, lang)

# The figures of the chosen area: the three stages, the ratio and convictions per 100 victims.
ui.metric_cards("justice_metrics", shown, [*STAGES, RATIO, PER_VICTIMS], area, registry, lang)
st.caption(t("dash.justice.caveat", lang))

ui.show_chart(funnel_figure(shown, area, period), "justice_funnel")
funnel_rows = shown[shown["indicator_code"].isin(STAGES) & (shown["ref_area"] == area)]
ui.chart_extras("justice_funnel", ui.export_frame(funnel_rows, registry, lang), lang,
                registry=registry, codes=list(STAGES))

if reporting:
    names = {code: t(f"dash.justice.stage.{code}", lang) for code in STAGES}
    categories = [ui.area_label(m, lang) for m in reporting]
    fig = ui.bar_figure(
        categories, [ui.area_series(shown, reporting, code, registry, lang, name=names[code],
                                    color=STAGE_COLORS[code]) for code in STAGES], lang,
        title=t("dash.justice.members_title", lang, period=ui.period_label(period)),
        y_title=t("dash.unit.PERSONS", lang))
    ui.show_chart(fig, "justice_members")
    member_rows = shown[shown["indicator_code"].isin(STAGES) & shown["ref_area"].isin(reporting)]
    ui.chart_extras("justice_members", ui.export_frame(member_rows, registry, lang), lang,
                    registry=registry, codes=list(STAGES))

    ratio_areas = [a for a in [data.REGION, *reporting] if ui.cell(shown, RATIO, a) is not None]
    if ratio_areas:
        fig = ui.bar_figure(
            [ui.area_label(a, lang) for a in ratio_areas],
            [ui.area_series(shown, ratio_areas, RATIO, registry, lang, color=RATIO_COLOR)], lang,
            title=t("dash.justice.ratio_title", lang,
                    indicator=ui.registry_text(registry, RATIO, "name", lang),
                    period=ui.period_label(period)),
            subtitle=ui.registry_text(registry, RATIO, "caveat", lang),
            y_title=t("dash.unit.RATIO", lang), height=400)
        ui.show_chart(fig, "justice_ratio")
        ratio_rows = shown[(shown["indicator_code"] == RATIO) & shown["ref_area"].isin(ratio_areas)]
        ui.chart_extras("justice_ratio", ui.export_frame(ratio_rows, registry, lang), lang,
                        registry=registry, codes=[RATIO])

st.subheader(t("dash.justice.table_heading", lang, period=ui.period_label(period)))
table_areas = [data.REGION, *reporting]
with st.container(key="justice_table"):
    st.dataframe(ui.area_table(shown, table_areas, TABLE_CODES, registry, lang),
                 hide_index=True, width="stretch")
table_rows = shown[shown["ref_area"].isin(table_areas)]
ui.chart_extras("justice_table", ui.export_frame(table_rows, registry, lang), lang,
                registry=registry,
                codes=[c for c in TABLE_CODES if c in set(table_rows["indicator_code"])])
ui.disclosure_caption(lang, viewer_area)
