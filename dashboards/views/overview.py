"""Regional overview (issue 4): headline figures of the region for the last complete year and the
latest quarter with their change (only on a base of at least 10, DOMAIN.md §5.13), each member's
reporting status for the latest quarter, victims detected by member, and the detection caveat.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

HEADLINE = ("VIC_DETECTED", "TIP_PROSECUTED", "TIP_CONVICTED", "SOM_DETECTED")
MIN_BASE_FOR_CHANGE = 10
BAR_COLOR = "#0072B2"

lang = ui.language()


def earlier_period(time_period: str) -> str:
    """The same quarter (or the year) one year earlier: 2025-Q2 → 2024-Q2, 2024 → 2023."""
    year, _, rest = time_period.partition("-")
    return f"{int(year) - 1}{'-' + rest if rest else ''}"


def headline_metric(rows: pd.DataFrame, code: str, period: str, registry: pd.DataFrame) -> None:
    name = ui.registry_text(registry, code, "name", lang)
    now = rows[(rows["indicator_code"] == code) & (rows["time_period"] == period)]
    if now.empty:
        st.metric(name, "–", border=True)
        return
    row = now.iloc[0]
    before = rows[(rows["indicator_code"] == code)
                  & (rows["time_period"] == earlier_period(period))]
    delta = None
    if not before.empty and not ui.is_missing(before.iloc[0]["value"]):
        base = before.iloc[0]["value"]
        if base >= MIN_BASE_FOR_CHANGE and not ui.is_missing(row["value"]):
            delta = t("dash.overview.delta_vs", lang,
                      change=ui.format_change(row["value"] / base - 1, lang),
                      period=earlier_period(period))
        else:
            delta = t("dash.overview.delta_small_base", lang)
    st.metric(
        name,
        ui.format_value(row["value"], row["unit"], lang, row["conf_status"]),
        delta,
        delta_color="off",
        help=t("dash.overview.metric_help", lang, status=ui.status_label(row["obs_status"], lang),
               n_countries=int(row["n_countries"]), n_expected=int(row["n_expected"])),
        border=True,
    )


def reporting_status(rates: pd.DataFrame, members: list[str]) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """Latest quarter of ``dq_reporting_rates``: per member × data set, on time / late / missing."""
    quarterly = rates[(rates["freq"] == "Q") & rates["ref_area"].isin(members)]
    period = quarterly.sort_values("period_end")["time_period"].iloc[-1]
    latest = quarterly[quarterly["time_period"] == period]
    datasets = sorted(d for d in latest["dataset"].unique() if d != data.TOTAL)

    def word(row) -> str:
        if row["units_reported"] == 0:
            return t("dash.overview.missing", lang)
        if row["units_on_time"] == row["units_expected"]:
            return t("dash.overview.on_time", lang)
        return t("dash.overview.late", lang)

    shown = {t("dash.col.area", lang): [ui.area_label(m, lang) for m in members]}
    for dataset in datasets:
        cells = latest[latest["dataset"] == dataset].set_index("ref_area")
        shown[dataset] = [word(cells.loc[m]) if m in cells.index else "–" for m in members]
    total = latest[latest["dataset"] == data.TOTAL].set_index("ref_area")
    shown[ui.registry_text(registry, "REPORTING_RATE", "name", lang)] = [
        ui.format_value(total.loc[m, "reporting_rate"], "PERCENT", lang) if m in total.index
        else "–" for m in members]
    shown[ui.registry_text(registry, "ON_TIME_RATE", "name", lang)] = [
        ui.format_value(total.loc[m, "on_time_rate"], "PERCENT", lang) if m in total.index
        else "–" for m in members]
    return period, pd.DataFrame(shown), latest


def members_figure(rows: pd.DataFrame, period: str, registry: pd.DataFrame) -> go.Figure:
    unit = rows["unit"].iloc[0]
    fig = go.Figure(go.Bar(
        x=[ui.area_label(a, lang) for a in rows["ref_area"]],
        y=rows["value"],
        marker={"color": BAR_COLOR,
                "pattern": {"shape": ["/" if s == "P" else "" for s in rows["obs_status"]],
                            "fgcolor": "#FFFFFF", "solidity": 0.3, "fillmode": "overlay"}},
        text=[ui.format_value(v, unit, lang, c) for v, c in zip(rows["value"], rows["conf_status"],
                                                                strict=True)],
        textposition="outside",
        customdata=[ui.status_label(s, lang) for s in rows["obs_status"]],
        hovertemplate="<b>%{x}</b>: %{text}<br>%{customdata}<extra></extra>",
    ))
    fig.update_layout(
        title={"text": t("dash.overview.members_title", lang,
                         indicator=ui.registry_text(registry, "VIC_DETECTED", "name", lang),
                         period=period),
               "subtitle": {"text": ui.wrap(ui.registry_text(registry, "VIC_DETECTED", "caveat",
                                                             lang))}},
        separators=ui.plotly_separators(lang), height=420, margin={"t": 100, "b": 40},
    )
    fig.update_yaxes(title_text=t(f"dash.unit.{unit}", lang))
    ui.whole_number_axis(fig)
    return fig


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.overview.title", lang))
st.caption(t("dash.overview.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    headline = data.indicator_frame(snapshot.path, HEADLINE, ("Q", "A"), (data.REGION,))
    rates = data.reporting_rates(snapshot.path)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

st.warning(t("dash.caveat.detection", lang), icon=":material/info:")

if headline.empty:
    st.info(t("dash.pages.no_values", lang))
    st.stop()

victims = headline[headline["indicator_code"] == "VIC_DETECTED"]
for freq, key in (("A", "year"), ("Q", "quarter")):
    base = victims if not victims.empty else headline
    periods = base[base["freq"] == freq]
    if periods.empty:
        continue
    period = periods.sort_values("period_end")["time_period"].iloc[-1]
    st.subheader(t(f"dash.overview.{key}_heading", lang, period=period))
    with st.container(key=f"overview_{key}"):
        columns = st.columns(len(HEADLINE))
        for column, code in zip(columns, HEADLINE, strict=True):
            with column:
                headline_metric(headline[headline["freq"] == freq], code, period, registry)
st.caption(t("dash.overview.change_note", lang))

st.subheader(t("dash.overview.reporting_heading", lang))
if rates.empty:
    st.info(t("dash.pages.no_quality", lang))
else:
    period, status_table, status_rows = reporting_status(rates, members)
    st.caption(t("dash.overview.reporting_caption", lang, period=period))
    with st.container(key="overview_reporting"):
        st.dataframe(status_table, hide_index=True, width="stretch")
    ui.chart_extras("overview_reporting", status_rows, lang, registry=registry,
                    codes=["REPORTING_RATE", "ON_TIME_RATE"])

quarter_rows = victims[victims["freq"] == "Q"]
if not quarter_rows.empty:
    period = quarter_rows.sort_values("period_end")["time_period"].iloc[-1]
    by_member = data.indicator_frame(snapshot.path, ("VIC_DETECTED",), ("Q",), tuple(members),
                                     own_area=viewer_area)
    by_member = by_member[by_member["time_period"] == period]
    if not by_member.empty:
        ui.show_chart(members_figure(by_member, period, registry), "overview_members")
        st.caption(t("dash.pages.provisional_bars", lang))
        ui.chart_extras("overview_members", ui.export_frame(by_member, registry, lang), lang,
                        registry=registry, codes=["VIC_DETECTED"])
ui.disclosure_caption(lang, viewer_area)
