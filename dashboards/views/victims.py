"""Victims detected (DOMAIN.md §5, indicators 1 and 2): regional and per-country trend of victims
detected (quarterly or rolling four quarters) and the rate per 100,000 population (R4Q or annual).

No formula lives here: every number is read from the disclosure-controlled mart
(``data.INDICATOR_MART``) as dbt built it; the page only picks rows, compares the latest quarter
with the same quarter a year earlier and draws. A hidden cell reads ``<5`` (or "confidential")
and is not drawn.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, history, ui
from pipelines.lib.i18n import t

VICTIMS = "VIC_DETECTED"
RATE = "VIC_RATE_100K"
SELECTED_AREAS = "victims.selected_areas"  # the areas chosen, whatever the language
MIN_BASE_FOR_CHANGE = 10  # DOMAIN.md §5.13: year-on-year change only on a base of at least 10

REGION_BAR_COLOR = "#B8C2CC"
REGION_LINE_COLOR = "#1F2933"
# Colour-blind-safe (Okabe-Ito based), one fixed colour per member in ISO3 order (BLZ CRI DOM GTM
# HND MEX NIC SLV), so a country keeps its colour whatever else is selected.
COUNTRY_COLORS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#CC79A7",
    "#7F3C8D",
    "#8C6D31",
    "#D55E00",
)

lang = ui.language()


def status_text(code: str) -> str:
    return t(f"dash.status.{code}", lang) if code in ("A", "P") else code


def period_label(time_period: str) -> str:
    """``2024-Q2-R4Q`` → ``2024-Q2`` (the axis title says "four quarters ending")."""
    return time_period.removesuffix("-R4Q")


def latest(frame: pd.DataFrame, area: str, freq: str) -> pd.Series | None:
    rows = frame[(frame["ref_area"] == area) & (frame["freq"] == freq)]
    return None if rows.empty else rows.sort_values("period_end").iloc[-1]


def value_on(frame: pd.DataFrame, area: str, time_period: str) -> pd.Series | None:
    rows = frame[(frame["ref_area"] == area) & (frame["time_period"] == time_period)]
    return None if rows.empty else rows.iloc[0]


def count(value: object) -> str:
    return "–" if pd.isna(value) else str(int(value))


def same_quarter_a_year_earlier(time_period: str) -> str:
    year, quarter = time_period.split("-", 1)
    return f"{int(year) - 1}-{quarter}"


def hover_frame(rows: pd.DataFrame, decimals: int) -> list[list[str]]:
    """Per point: area name, value as the language writes it, status, countries included."""
    custom = []
    for row in rows.itertuples():
        coverage = ""
        if row.ref_area == data.REGION and pd.notna(row.n_countries):
            coverage = "{}: {}".format(
                t("dash.col.countries", lang),
                t(
                    "dash.victims.metric_coverage_value",
                    lang,
                    n_countries=count(row.n_countries),
                    n_expected=count(row.n_expected),
                ),
            )
        custom.append(
            [
                ui.area_label(row.ref_area, lang),
                ui.format_value(row.value, row.unit, lang, row.conf_status),
                status_text(row.obs_status),
                coverage,
            ]
        )
    return custom


HOVER = (
    "<b>%{customdata[0]}</b><br>%{x}: %{customdata[1]}"
    "<br>%{customdata[2]}<br>%{customdata[3]}<extra></extra>"
)


def base_layout(
    fig: go.Figure, title: str, x_title: str, y_title: str, periods: list[str], y_format: str
) -> None:
    fig.update_layout(
        title={
            "text": title,
            "subtitle": {"text": t("dash.caveat.detection", lang)},
        },
        separators=ui.plotly_separators(lang),
        height=460,
        margin={"t": 90, "b": 40},
        # Legend at the right: below the plot it collides with rotated quarter labels.
        legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.01},
        hovermode="closest",
        barmode="overlay",
    )
    fig.update_xaxes(
        title_text=x_title, type="category", categoryorder="array", categoryarray=periods
    )
    fig.update_yaxes(title_text=y_title, rangemode="tozero", tickformat=y_format)
    if y_format == ",d":  # counts
        ui.whole_number_axis(fig)


def line_trace(
    rows: pd.DataFrame, area: str, color: str, decimals: int, width: float
) -> go.Scatter:
    provisional = (rows["obs_status"] == "P").tolist()
    return go.Scatter(
        x=[period_label(p) for p in rows["time_period"]],
        y=rows["value"],
        name=ui.area_label(area, lang),
        mode="lines+markers",
        line={"color": color, "width": width},
        marker={
            "color": color,
            "size": 9,
            "symbol": ["circle-open" if p else "circle" for p in provisional],
            "line": {"width": 2, "color": color},
        },
        customdata=hover_frame(rows, decimals),
        hovertemplate=HOVER,
    )


def trend_figure(
    values: pd.DataFrame, areas: list[str], freq: str, colors: dict[str, str]
) -> go.Figure:
    """Region as bars (hatched when provisional), each selected country as a line."""
    shown = values[(values["freq"] == freq) & values["ref_area"].isin(areas)]
    periods = [period_label(p) for p in shown.sort_values("period_end")["time_period"].unique()]
    fig = go.Figure()
    if data.REGION in areas:
        region = shown[shown["ref_area"] == data.REGION]
        fig.add_trace(
            go.Bar(
                x=[period_label(p) for p in region["time_period"]],
                y=region["value"],
                name=ui.area_label(data.REGION, lang),
                marker={
                    "color": REGION_BAR_COLOR,
                    "line": {"color": REGION_LINE_COLOR, "width": 1},
                    "pattern": {
                        "shape": ["/" if s == "P" else "" for s in region["obs_status"]],
                        "fgcolor": REGION_LINE_COLOR,
                        "solidity": 0.25,
                    },
                },
                customdata=hover_frame(region, 0),
                hovertemplate=HOVER,
            )
        )
    for area in areas:
        if area == data.REGION:
            continue
        rows = shown[shown["ref_area"] == area]
        if not rows.empty:
            fig.add_trace(line_trace(rows, area, colors[area], 0, 2.5))
    title_key = "dash.victims.trend_title" if freq == "Q" else "dash.victims.trend_title_r4q"
    x_key = "dash.victims.quarter_axis" if freq == "Q" else "dash.victims.r4q_axis"
    base_layout(
        fig,
        t(title_key, lang),
        t(x_key, lang),
        t("dash.victims.persons_axis", lang),
        periods,
        y_format=",d",
    )
    return fig


def rate_figure(
    values: pd.DataFrame, areas: list[str], freq: str, colors: dict[str, str]
) -> go.Figure:
    """One line per selected area; the region thicker and dark."""
    shown = values[(values["freq"] == freq) & values["ref_area"].isin(areas)]
    periods = [period_label(p) for p in shown.sort_values("period_end")["time_period"].unique()]
    fig = go.Figure()
    for area in areas:
        rows = shown[shown["ref_area"] == area]
        if rows.empty:
            continue
        if area == data.REGION:
            fig.add_trace(line_trace(rows, area, REGION_LINE_COLOR, 1, 4))
        else:
            fig.add_trace(line_trace(rows, area, colors[area], 1, 2.5))
    x_key = "dash.victims.r4q_axis" if freq == "R4Q" else "dash.victims.year_axis"
    base_layout(
        fig,
        t("dash.victims.rate_title", lang),
        t(x_key, lang),
        t("dash.victims.rate_axis", lang),
        periods,
        y_format=",~r",
    )
    return fig


def headline(detected: pd.DataFrame, rates: pd.DataFrame) -> None:
    total_col, rate_col, coverage_col = st.columns(3)
    quarter = latest(detected, data.REGION, "Q")
    with total_col:
        if quarter is None:
            st.metric(t("dash.victims.metric_total", lang, period="–"), "–", border=True)
        else:
            earlier_period = same_quarter_a_year_earlier(quarter["time_period"])
            earlier = value_on(detected, data.REGION, earlier_period)
            delta = None
            if ui.is_missing(quarter["value"]) or (earlier is not None
                                                   and ui.is_missing(earlier["value"])):
                pass  # a hidden figure: no change either
            elif earlier is not None and earlier["value"] >= MIN_BASE_FOR_CHANGE:
                change = ui.format_change(quarter["value"] / earlier["value"] - 1, lang)
                delta = t("dash.victims.delta_vs", lang, change=change, period=earlier_period)
            elif earlier is not None:
                delta = t("dash.victims.delta_small_base", lang)
            status = status_text(quarter["obs_status"])
            st.metric(
                t("dash.victims.metric_total", lang, period=quarter["time_period"]),
                ui.format_value(quarter["value"], quarter["unit"], lang, quarter["conf_status"]),
                delta,
                # Neutral grey: more detections is neither good nor bad news by itself.
                delta_color="off",
                help=t(
                    "dash.victims.metric_total_help",
                    lang,
                    n_countries=count(quarter["n_countries"]),
                    n_expected=count(quarter["n_expected"]),
                    status=status,
                    status_cap=status.capitalize(),
                ),
                border=True,
            )
    with rate_col:
        rate = latest(rates, data.REGION, "R4Q")
        rate = rate if rate is not None else latest(rates, data.REGION, "A")
        if rate is None:
            st.metric(t("dash.victims.metric_rate", lang, period="–"), "–", border=True)
        else:
            status = status_text(rate["obs_status"])
            st.metric(
                t("dash.victims.metric_rate", lang, period=period_label(rate["time_period"])),
                ui.format_value(rate["value"], rate["unit"], lang, rate["conf_status"]),
                help=t(
                    "dash.victims.metric_rate_help",
                    lang,
                    freq_lower=t(f"dash.freq.{rate['freq']}", lang).lower(),
                    status=status,
                    status_cap=status.capitalize(),
                ),
                border=True,
            )
    with coverage_col:
        if quarter is None:
            st.metric(t("dash.victims.metric_coverage", lang, period="–"), "–", border=True)
        else:
            st.metric(
                t("dash.victims.metric_coverage", lang, period=quarter["time_period"]),
                t(
                    "dash.victims.metric_coverage_value",
                    lang,
                    n_countries=count(quarter["n_countries"]),
                    n_expected=count(quarter["n_expected"]),
                ),
                border=True,
            )


def data_table(frames: list[pd.DataFrame]) -> pd.DataFrame:
    rows = pd.concat(frames, ignore_index=True)
    return pd.DataFrame(
        {
            t("dash.col.area", lang): [ui.area_label(a, lang) for a in rows["ref_area"]],
            t("dash.col.period", lang): rows["time_period"],
            t("dash.victims.trend_freq", lang): [t(f"dash.freq.{f}", lang) for f in rows["freq"]],
            t("dash.col.value", lang): [
                ui.format_value(v, u, lang, c)
                for v, u, c in zip(rows["value"], rows["unit"], rows["conf_status"], strict=True)
            ],
            t("dash.col.status", lang): [status_text(s) for s in rows["obs_status"]],
        }
    )


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.victims.title", lang))
st.caption(t("dash.victims.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    members = data.member_countries(snapshot.path)
    shown_areas = data.shown_areas(snapshot.path)
    detected = data.indicator_totals(snapshot.path, VICTIMS, ("Q", "R4Q"), viewer_area,
                                     shown_areas)
    rates = data.indicator_totals(snapshot.path, RATE, ("R4Q", "A"), viewer_area, shown_areas)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

st.warning(t("dash.caveat.detection", lang), icon=":material/info:")

if detected.empty:
    st.info(t("dash.victims.no_values", lang, indicator=VICTIMS))
    history.history_section(snapshot, members, lang, viewer_area, prefix="victims")
    st.stop()

headline(detected, rates)

reporting = set(detected["ref_area"]) | set(rates["ref_area"])
countries = [m for m in members if m in reporting]
colors = {m: COUNTRY_COLORS[i % len(COUNTRY_COLORS)] for i, m in enumerate(members)}
options = [data.REGION, *countries]
# The browser keeps a multiselect's chips as the labels it was given, so a language switch would
# leave them in the old language: one widget per language, the choice carried over in state.
selected = st.multiselect(
    t("dash.victims.areas", lang),
    options=options,
    default=[a for a in st.session_state.get(SELECTED_AREAS, options) if a in options],
    format_func=lambda code: ui.area_label(code, lang),
    help=t("dash.victims.areas_help", lang),
    key=f"victims_areas.{lang}",
)
st.session_state[SELECTED_AREAS] = selected
silent = [m for m in members if m not in reporting]
if silent:
    st.caption(
        t(
            "dash.victims.no_data_for",
            lang,
            countries=", ".join(ui.area_label(m, lang) for m in silent),
        )
    )
if not selected:
    st.info(t("dash.victims.nothing_selected", lang))
    st.stop()
areas = [a for a in options if a in selected]  # keep a stable order: region first

trend_freq = st.segmented_control(
    t("dash.victims.trend_freq", lang),
    options=["Q", "R4Q"],
    format_func=lambda f: t(f"dash.freq.{f}", lang),
    default="Q",
    required=True,
    key="victims_trend_freq",
)
with st.container(key="victims_trend"):
    st.plotly_chart(
        trend_figure(detected, areas, trend_freq, colors),
        key="victims_trend_chart",
        config={"displaylogo": False},
    )
st.caption(f"{t('dash.victims.region_bars_note', lang)} {t('dash.legend.provisional', lang)}")

if rates.empty:
    st.info(t("dash.victims.no_values", lang, indicator=RATE))
else:
    rate_freq = st.segmented_control(
        t("dash.victims.trend_freq", lang),
        options=["R4Q", "A"],
        format_func=lambda f: t(f"dash.freq.{f}", lang),
        default="R4Q",
        required=True,
        key="victims_rate_freq",
    )
    with st.container(key="victims_rate"):
        st.plotly_chart(
            rate_figure(rates, areas, rate_freq, colors),
            key="victims_rate_chart",
            config={"displaylogo": False},
        )
    st.caption(t("dash.legend.provisional", lang))

with st.expander(t("dash.victims.table", lang)):
    shown = [
        detected[(detected["freq"] == trend_freq) & detected["ref_area"].isin(areas)],
    ]
    if not rates.empty:
        shown.append(rates[(rates["freq"] == rate_freq) & rates["ref_area"].isin(areas)])
    st.dataframe(data_table(shown), hide_index=True, width="stretch")
ui.disclosure_caption(lang, viewer_area)

history.history_section(snapshot, members, lang, viewer_area, prefix="victims")
