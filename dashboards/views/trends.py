"""Trends (issue 4): any indicator × any member or the region × any breakdown the indicator has;
quarterly, rolling four quarters or annual; counts or rates per 100,000; provisional points hollow.
Below, for an indicator with a UNODC annual series (issue 6), that series beside the coalition's
annual totals, with the methods note (``dashboards/history.py``).

Names, definitions and caveats come from ``marts.dim_indicator``; values from
``data.indicator_frame`` (the one indicator query of the analysts' pages).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, history, ui
from pipelines.lib.i18n import t

# A count and its rate per 100,000 share one entry in the indicator list (the "rate" switch).
RATE_OF = {
    "VIC_DETECTED": "VIC_RATE_100K",
    "TIP_PROSECUTED": "TIP_PROSECUTED_RATE_100K",
    "TIP_CONVICTED": "TIP_CONVICTED_RATE_100K",
}
FREQ_ORDER = ("Q", "R4Q", "A")
STATE_INDICATOR = "trends.indicator"
STATE_AREAS = "trends.areas"
STATE_BREAKDOWN = "trends.breakdown"

lang = ui.language()


def series_name(area: str, dimension: str | None, code: str) -> str:
    name = ui.area_label(area, lang)
    return name if dimension is None else f"{name} – {ui.breakdown_label(dimension, code, lang)}"


def trend_figure(rows: pd.DataFrame, code: str, dimension: str | None, freq: str,
                 registry: pd.DataFrame) -> go.Figure:
    """One line per area (× breakdown category); hollow markers for provisional points."""
    unit = rows["unit"].iloc[0] if not rows.empty else ""
    periods = [ui.period_label(p) for p in rows.sort_values("period_end")["time_period"].unique()]
    fig = go.Figure()
    keys = ["ref_area"] + ([dimension] if dimension else [])
    for i, (key, group) in enumerate(rows.groupby(keys, sort=False)):
        area, category = (key[0], key[1]) if dimension else (key[0], None)
        color = ui.SERIES_COLORS[i % len(ui.SERIES_COLORS)]
        fig.add_trace(go.Scatter(
            x=[ui.period_label(p) for p in group["time_period"]],
            y=group["value"],
            name=series_name(area, dimension, category),
            mode="lines+markers",
            line={"color": color, "width": 4 if area == data.REGION and not dimension else 2.5},
            marker={"color": color, "size": 9, "line": {"width": 2, "color": color},
                    "symbol": [ui.PROVISIONAL_SYMBOL if s == "P" else ui.FINAL_SYMBOL
                               for s in group["obs_status"]]},
            customdata=[[series_name(area, dimension, category),
                         ui.format_value(v, unit, lang, c), ui.status_label(s, lang)]
                        for v, s, c in zip(group["value"], group["obs_status"],
                                           group["conf_status"], strict=True)],
            hovertemplate="<b>%{customdata[0]}</b><br>%{x}: %{customdata[1]}"
                          "<br>%{customdata[2]}<extra></extra>",
        ))
    fig.update_layout(
        title={"text": f"{ui.registry_text(registry, code, 'name', lang)} · "
                       f"{t(f'dash.freq.{freq}', lang)}",
               "subtitle": {"text": ui.wrap(ui.registry_text(registry, code, "caveat", lang))}},
        separators=ui.plotly_separators(lang), height=480, margin={"t": 110, "b": 40},
        legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.01}, hovermode="closest",
    )
    fig.update_xaxes(title_text=t(f"dash.trends.axis.{freq}", lang), type="category",
                     categoryorder="array", categoryarray=periods)
    fig.update_yaxes(title_text=t(f"dash.unit.{unit}", lang) if unit else "", rangemode="tozero",
                     tickformat=",~r")
    return fig


def table(rows: pd.DataFrame, dimension: str | None) -> pd.DataFrame:
    unit = rows["unit"]
    frame = {
        t("dash.col.area", lang): [ui.area_label(a, lang) for a in rows["ref_area"]],
        t("dash.col.period", lang): rows["time_period"].to_numpy(),
    }
    if dimension:
        frame[t(f"dash.trends.breakdown.{dimension}", lang)] = [
            ui.breakdown_label(dimension, c, lang) for c in rows[dimension]]
    frame[t("dash.col.value", lang)] = [
        ui.format_value(v, u, lang, c)
        for v, u, c in zip(rows["value"], unit, rows["conf_status"], strict=True)]
    frame[t("dash.col.status", lang)] = [ui.status_label(s, lang) for s in rows["obs_status"]]
    return pd.DataFrame(frame)


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.trends.title", lang))
st.caption(t("dash.trends.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    available = data.indicator_breakdowns(snapshot.path).set_index("indicator_code")
    members = data.member_countries(snapshot.path)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

if available.empty:
    st.info(t("dash.pages.no_values", lang))
    st.stop()

hidden = {rate for count, rate in RATE_OF.items() if count in available.index}
codes = [c for c in registry.index if c in available.index and c not in hidden]
codes += sorted(c for c in available.index if c not in set(codes) and c not in hidden)

left, middle = st.columns(2)
with left:
    chosen = st.session_state.get(STATE_INDICATOR)
    code = st.selectbox(
        t("dash.trends.indicator", lang), options=codes,
        index=codes.index(chosen) if chosen in codes else 0,
        format_func=lambda c: ui.registry_text(registry, c, "name", lang),
        key=f"trends_indicator.{lang}",
    )
    st.session_state[STATE_INDICATOR] = code
with middle:
    area_options = [data.REGION, *members]
    areas = st.multiselect(
        t("dash.trends.areas", lang), options=area_options,
        default=[a for a in st.session_state.get(STATE_AREAS, [data.REGION]) if a in area_options],
        format_func=lambda a: ui.area_label(a, lang), key=f"trends_areas.{lang}",
    )
    st.session_state[STATE_AREAS] = areas

shown_code = code
controls = st.columns(3)
if code in RATE_OF and RATE_OF[code] in available.index:
    with controls[0]:
        measure = st.segmented_control(
            t("dash.trends.measure", lang), options=["count", "rate"],
            format_func=lambda m: t(f"dash.trends.measure.{m}", lang), default="count",
            required=True, key="trends_measure",
        )
    shown_code = RATE_OF[code] if measure == "rate" else code
info = available.loc[shown_code]
dimensions = [d for d in (*data.BREAKDOWNS, data.SEX_AGE) if bool(info[f"by_{d}"])]
with controls[1]:
    breakdown_options = ["_T", *dimensions]
    chosen = st.session_state.get(STATE_BREAKDOWN)
    breakdown = st.selectbox(
        t("dash.trends.breakdown", lang), options=breakdown_options,
        index=breakdown_options.index(chosen) if chosen in breakdown_options else 0,
        format_func=lambda d: t(f"dash.trends.breakdown.{d}", lang),
        key=f"trends_breakdown.{lang}.{'-'.join(breakdown_options)}",
    )
    st.session_state[STATE_BREAKDOWN] = breakdown
dimension = None if breakdown == "_T" else breakdown
freqs = [f for f in FREQ_ORDER if f in str(info["freqs"]).split()]
with controls[2]:
    freq = st.segmented_control(
        t("dash.trends.freq", lang), options=freqs,
        format_func=lambda f: t(f"dash.freq.{f}", lang), default=freqs[0], required=True,
        key=f"trends_freq.{'-'.join(freqs)}",
    )

if not areas:
    st.info(t("dash.trends.nothing_selected", lang))
    st.stop()

try:
    rows = data.indicator_frame(snapshot.path, (shown_code,), (freq,), tuple(areas), dimension,
                                own_area=viewer_area)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)
order = {a: i for i, a in enumerate(area_options)}
rows = rows.sort_values(["ref_area", *([dimension] if dimension else []), "period_end"],
                        key=lambda s: s.map(order) if s.name == "ref_area" else s)

if rows.empty:
    st.info(t("dash.trends.no_rows", lang))
    st.stop()

# The latest figure of each series, as the language writes it (what the browser test reads).
latest = rows.groupby(["ref_area", *([dimension] if dimension else [])], sort=False).tail(1)
with st.container(key="trends_latest"):
    columns = st.columns(min(4, len(latest)))
    for i, row in enumerate(latest.itertuples()):
        with columns[i % len(columns)]:
            st.metric(
                f"{series_name(row.ref_area, dimension, getattr(row, dimension) if dimension else None)}"
                f", {row.time_period}",
                ui.format_value(row.value, row.unit, lang, row.conf_status),
                help=ui.status_label(row.obs_status, lang).capitalize(),
                border=True,
            )

ui.show_chart(trend_figure(rows, shown_code, dimension, freq, registry), "trends")
st.caption(t("dash.pages.provisional_markers", lang))
ui.chart_extras("trends", ui.export_frame(rows, registry, lang), lang, registry=registry,
                codes=[shown_code])
with st.expander(t("dash.pages.table", lang)):
    st.dataframe(table(rows, dimension), hide_index=True, width="stretch")
ui.disclosure_caption(lang, viewer_area)

# UNODC's annual history (issue 6) of the chosen indicator, beside the coalition's annual totals.
if shown_code in history.HISTORY_INDICATORS:
    history.history_section(snapshot, members, lang, viewer_area, prefix="trends",
                            indicator=shown_code, chosen=areas)
