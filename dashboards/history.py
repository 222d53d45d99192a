"""UNODC's annual history (issue 6) beside the coalition's annual totals: the chart, its data
table and the methods note, shared by the victims and trends pages.

Values come from ``data.history_totals`` (``marts.history_values``, latest vintage) and
``data.indicator_totals`` (the disclosure-controlled mart); nothing is computed here. A year UNODC
published as ``<5`` (suppressed at source) is drawn as "below 5", never as a number.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

# Indicators with a UNODC annual series in marts.history_values that matches the coalition's own
# indicator one to one (UNODC's TIP_PERSONS / TIP_CASES have no such counterpart yet).
HISTORY_INDICATORS = ("VIC_DETECTED",)
UNODC_COLOR = "#0072B2"
COALITION_COLOR = "#D55E00"
FLAG_COLOR = "#C00000"
SUPPRESSED_AT = 5  # a '<5' year is drawn at 5 as "below this line", never as a number


def history_figure(history: pd.DataFrame, annual: pd.DataFrame, area: str, lang: str) -> go.Figure:
    """UNODC's annual series and the coalition's annual totals for one area, on one year axis.
    Suppressed-at-source years are drawn as open down-triangles at 5 ("below 5"); flagged values
    carry a red ring and their reason in the hover."""
    rows = history[history["ref_area"] == area].drop_duplicates("year")
    published = rows[~rows["suppressed_at_source"].astype(bool) & rows["value"].notna()]
    suppressed = rows[rows["suppressed_at_source"].astype(bool)]
    flagged = published[published["flag"].notna()]
    years = sorted(set(rows["year"].astype(int)))
    fig = go.Figure()
    # A full year axis, so years without a figure show as gaps in the line, not as joins.
    series = published.set_index("year")["value"].reindex(range(min(years), max(years) + 1)) if years else None
    if series is not None:
        fig.add_trace(go.Scatter(
            x=list(series.index), y=series.tolist(), name=t("dash.history.series_unodc", lang),
            mode="lines+markers", connectgaps=False,
            line={"color": UNODC_COLOR, "width": 2.5}, marker={"color": UNODC_COLOR, "size": 8},
            hovertemplate="%{x}: %{y:,d}<extra>UNODC</extra>",
        ))
    if not suppressed.empty:
        fig.add_trace(go.Scatter(
            x=suppressed["year"].astype(int).tolist(), y=[SUPPRESSED_AT] * len(suppressed),
            name=t("dash.history.series_suppressed", lang), mode="markers+text",
            text=["<5"] * len(suppressed), textposition="top center",
            marker={"symbol": "triangle-down-open", "size": 12, "color": UNODC_COLOR,
                    "line": {"width": 2}},
            hovertemplate="%{x}: " + t("dash.history.hover_suppressed", lang) + "<extra>UNODC</extra>",
        ))
    if not flagged.empty:
        fig.add_trace(go.Scatter(
            x=flagged["year"].astype(int).tolist(), y=flagged["value"].tolist(),
            name=t("dash.history.series_flagged", lang), mode="markers",
            marker={"symbol": "circle-open", "size": 18, "color": FLAG_COLOR, "line": {"width": 3}},
            customdata=[[v, d] for v, d in zip(flagged["value_text"], flagged["flag_detail"], strict=True)],
            hovertemplate="%{x}: %{customdata[0]}<br>%{customdata[1]}<extra>UNODC</extra>",
        ))
    coalition = annual[(annual["ref_area"] == area) & (annual["freq"] == "A")]
    if not coalition.empty:
        fig.add_trace(go.Scatter(
            x=coalition["time_period"].astype(int).tolist(), y=coalition["value"].tolist(),
            name=t("dash.history.series_coalition", lang), mode="lines+markers",
            line={"color": COALITION_COLOR, "width": 2.5, "dash": "dot"},
            marker={"color": COALITION_COLOR, "size": 9, "symbol": [
                "circle-open" if s == "P" else "square" for s in coalition["obs_status"]]},
            hovertemplate="%{x}: %{y:,d}<extra>" + t("dash.history.series_coalition", lang) + "</extra>",
        ))
    fig.update_layout(
        title={"text": t("dash.history.chart_title", lang, area=ui.area_label(area, lang)),
               "subtitle": {"text": t("dash.caveat.detection", lang)}},
        separators=ui.plotly_separators(lang), height=460, margin={"t": 90, "b": 40},
        legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.01}, hovermode="closest",
    )
    fig.update_xaxes(title_text=t("dash.history.year_axis", lang), dtick=1, tickformat="d")
    fig.update_yaxes(title_text=t("dash.victims.persons_axis", lang))
    ui.whole_number_axis(fig)
    return fig


def history_table(history: pd.DataFrame, annual: pd.DataFrame, area: str, lang: str) -> pd.DataFrame:
    rows = history[history["ref_area"] == area]
    coalition = annual[(annual["ref_area"] == area) & (annual["freq"] == "A")]
    unodc = pd.DataFrame({
        t("dash.history.col.source", lang): "UNODC",
        t("dash.history.col.year", lang): rows["year"].astype(int),
        t("dash.history.col.value", lang): rows["value_text"],
        t("dash.history.col.note", lang): [
            t("dash.history.hover_suppressed", lang) if s else (d or "")
            for s, d in zip(rows["suppressed_at_source"], rows["flag_detail"], strict=True)],
    })
    own = pd.DataFrame({
        t("dash.history.col.source", lang): t("dash.history.series_coalition", lang),
        t("dash.history.col.year", lang): coalition["time_period"].astype(int),
        t("dash.history.col.value", lang): [
            ui.format_value(v, u, lang, c) for v, u, c in
            zip(coalition["value"], coalition["unit"], coalition["conf_status"], strict=True)],
        t("dash.history.col.note", lang): [ui.status_label(s, lang) for s in coalition["obs_status"]],
    })
    return pd.concat([unodc, own], ignore_index=True)


def methods_note(prefix: str, lang: str) -> None:
    """The methods note (source, what ``<5`` means, detection capacity), in a bordered box."""
    with st.container(key=f"{prefix}_history_methods", border=True):
        st.markdown(f"**{t('dash.history.methods_title', lang)}**")
        st.markdown(t("dash.history.methods", lang))


def history_section(snapshot, members: list[str], lang: str, viewer_area: str | None, *,
                    prefix: str, indicator: str = "VIC_DETECTED",
                    chosen: list[str] | None = None) -> None:
    """UNODC's annual series beside the coalition's annual totals, with the methods note.

    ``prefix`` names the page's widgets and containers (``<prefix>_history``). ``chosen``: the
    areas the reader picked on the page (trends); the members among them with a UNODC series are
    offered, and with the region every country with one (UNODC publishes no regional total). When
    ``chosen`` is given and there is nothing to show, the section is left out; without it (victims
    page), "not imported yet" is said and the methods note shown.
    """
    try:
        history = data.history_totals(snapshot.path, indicator)
        release = data.history_release(snapshot.path)
        annual = data.indicator_totals(snapshot.path, indicator, ("A",), viewer_area)
    except data.SnapshotUnreadable as error:
        ui.stop_unreadable(snapshot.name, error)
    have = set(history["ref_area"])
    everyone = [m for m in members if m in have] + sorted(have - set(members))  # observers after
    if chosen is None:
        areas = everyone
    else:
        areas = [a for a in chosen if a in have]
        if data.REGION in chosen:
            areas += [a for a in everyone if a not in areas]
        if not areas:
            return
    st.subheader(t("dash.history.title", lang))
    if not areas:
        st.info(t("dash.history.no_history", lang))
    else:
        if chosen is not None and data.REGION in chosen:
            st.caption(t("dash.history.no_region", lang))
        state = f"{prefix}.history_area"
        area = st.selectbox(
            t("dash.history.area", lang), options=areas,
            index=areas.index(st.session_state[state]) if st.session_state.get(state) in areas else 0,
            format_func=lambda code: ui.area_label(code, lang),
            key=f"{prefix}_history_area.{lang}.{'-'.join(areas)}",
        )
        st.session_state[state] = area
        with st.container(key=f"{prefix}_history"):
            st.plotly_chart(history_figure(history, annual, area, lang),
                            key=f"{prefix}_history_chart", config={"displaylogo": False})
        if release:
            st.caption(t("dash.history.vintage", lang, vintage=release["vintage"],
                         file=release["file_name"], when=str(release["imported_at"])[:10]))
        with st.expander(t("dash.history.table", lang)):
            st.dataframe(history_table(history, annual, area, lang), hide_index=True,
                         width="stretch")
    methods_note(prefix, lang)
