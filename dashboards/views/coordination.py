"""Coordination between members (issue 4, DOMAIN.md §5.12): victims referred from one member to
another as the sender reports them (REF_SENT) against what the receiver reports (REF_RECEIVED),
per pair (``marts.coordination_mirror_published``, disclosure-controlled in dbt) with the mirror
gap, the pairs where only one side reported, and each member's totals (the disclosure-controlled
indicator mart).

The gap, the pair status and what is hidden are dbt's; the page only picks, pivots and draws. A
hidden count reads ``<5`` (A) or "confidential" (D), and so does a hidden gap.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

SENT, RECEIVED, GAP = "REF_SENT", "REF_RECEIVED", "REF_MIRROR_GAP"
REF_CODES = (SENT, RECEIVED, GAP)
FREQS = ("A", "R4Q", "Q")
ONE_SIDED = ("sender_only", "receiver_only", "incomplete")
COLORS = {SENT: "#0072B2", RECEIVED: "#E69F00"}
GAP_SCALE = [[0, "#F7F7F7"], [1, "#D55E00"]]
ONE_SIDED_COLOR = "#7F3C8D"
HIGHLIGHT = "background-color: #FBE3D6"

lang = ui.language()


def count_text(value, conf: str) -> str:
    return ui.format_value(value, "PERSONS", lang, conf)


def status_text(code: str) -> str:
    return t(f"dash.coordination.status.{code}", lang)


def pair_hover(row) -> str:
    gap = ui.format_value(row.mirror_gap_percent, "PERCENT", lang, row.gap_conf)
    return (f"<b>{ui.area_label(row.sender, lang)} → {ui.area_label(row.receiver, lang)}</b><br>"
            f"{t('dash.coordination.sent', lang)}: {count_text(row.sent_by_sender, row.sent_conf)}"
            f"<br>{t('dash.coordination.received', lang)}: "
            f"{count_text(row.received_by_receiver, row.received_conf)}<br>"
            f"{t('dash.coordination.gap_percent', lang)}: {gap}<br>{status_text(row.pair_status)}")


def matrix_figure(pairs: pd.DataFrame, members: list[str], period: str) -> go.Figure:
    """Senders (rows) × receivers (columns): "sent → received" in each cell, the colour the mirror
    gap, a frame where only one side reported."""
    senders = [m for m in members if m in set(pairs["sender"])]
    receivers = [m for m in members if m in set(pairs["receiver"])]
    gap = pairs.pivot_table(index="sender", columns="receiver", values="mirror_gap_percent",
                            aggfunc="first").reindex(index=senders, columns=receivers)
    cells = {(r.sender, r.receiver): r for r in pairs.itertuples()}
    text = [[f"{count_text(cells[s, r].sent_by_sender, cells[s, r].sent_conf)} → "
             f"{count_text(cells[s, r].received_by_receiver, cells[s, r].received_conf)}"
             if (s, r) in cells else "" for r in receivers] for s in senders]
    x = [ui.area_label(r, lang) for r in receivers]
    y = [ui.area_label(s, lang) for s in senders]
    fig = go.Figure(go.Heatmap(
        z=gap.to_numpy(), x=x, y=y, text=text, texttemplate="%{text}", zmin=0, zmax=100,
        colorscale=GAP_SCALE, xgap=2, ygap=2, hoverinfo="skip",
        colorbar={"title": {"text": t("dash.coordination.gap_percent", lang) + " (%)"}},
    ))
    two_sided = pairs[~pairs["pair_status"].isin(ONE_SIDED)]
    one_sided = pairs[pairs["pair_status"].isin(ONE_SIDED)]
    # Invisible markers carry the hover of the two-sided pairs (a heat map cell without a
    # colour, e.g. a hidden gap, would have none); open squares frame the one-sided pairs.
    for part, visible in ((two_sided, False), (one_sided, True)):
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=[ui.area_label(r, lang) for r in part["receiver"]],
            y=[ui.area_label(s, lang) for s in part["sender"]],
            mode="markers", showlegend=visible,
            name=t("dash.coordination.one_sided_legend", lang),
            marker={"symbol": "square-open" if visible else "square", "size": 40,
                    "color": ONE_SIDED_COLOR if visible else "rgba(0,0,0,0)",
                    "line": {"width": 3 if visible else 0, "color": ONE_SIDED_COLOR}},
            customdata=[pair_hover(r) for r in part.itertuples()],
            hovertemplate="%{customdata}<extra></extra>",
        ))
    fig.update_layout(
        title={"text": t("dash.coordination.matrix_title", lang, period=ui.period_label(period)),
               "subtitle": {"text": ui.wrap(t("dash.coordination.matrix_subtitle", lang))}},
        separators=ui.plotly_separators(lang), height=max(380, 160 + 56 * len(senders)),
        margin={"t": 100, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
    )
    fig.update_xaxes(title_text=t("dash.coordination.receiver", lang), type="category",
                     categoryorder="array", categoryarray=x)
    fig.update_yaxes(title_text=t("dash.coordination.sender", lang), type="category",
                     categoryorder="array", categoryarray=y, autorange="reversed")
    return fig


def pairs_table(pairs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        t("dash.coordination.sender", lang): [ui.area_label(s, lang) for s in pairs["sender"]],
        t("dash.coordination.receiver", lang): [ui.area_label(r, lang) for r in pairs["receiver"]],
        t("dash.coordination.sent", lang): [
            count_text(v, c) for v, c in zip(pairs["sent_by_sender"], pairs["sent_conf"],
                                             strict=True)],
        t("dash.coordination.received", lang): [
            count_text(v, c) for v, c in zip(pairs["received_by_receiver"],
                                             pairs["received_conf"], strict=True)],
        t("dash.coordination.gap_persons", lang): [
            ui.format_value(v, "PERSONS", lang, c) for v, c in zip(pairs["gap_persons"],
                                                                   pairs["gap_conf"], strict=True)],
        t("dash.coordination.gap_percent", lang): [
            ui.format_value(v, "PERCENT", lang, c) for v, c in zip(pairs["mirror_gap_percent"],
                                                                   pairs["gap_conf"], strict=True)],
        t("dash.coordination.pair_status", lang): [status_text(s) for s in pairs["pair_status"]],
        t("dash.col.status", lang): [ui.status_label(s, lang) for s in pairs["obs_status"]],
    })


def highlighted(pairs: pd.DataFrame, shown: pd.DataFrame):
    """The pairs with a gap or with one side only, highlighted."""
    flag = pairs["pair_status"].isin((*ONE_SIDED, "gap")).to_numpy()
    return shown.style.apply(lambda row: [HIGHLIGHT if flag[row.name] else ""] * len(row), axis=1)


def pairs_export(pairs: pd.DataFrame) -> pd.DataFrame:
    """The data behind the matrix and the tables, for download (hidden counts empty, with their
    conf: A or D)."""
    frame = pairs.copy()
    frame.insert(1, "sender_name", [ui.area_label(s, lang) for s in pairs["sender"]])
    frame.insert(3, "receiver_name", [ui.area_label(r, lang) for r in pairs["receiver"]])
    return frame.drop(columns=["period_end"])


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.coordination.title", lang))
st.caption(t("dash.coordination.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    rows = data.indicator_frame(snapshot.path, REF_CODES, FREQS, data.shown_areas(snapshot.path),
                                own_area=viewer_area)
    all_pairs = pd.concat([data.coordination_frame(snapshot.path, f, viewer_area) for f in FREQS],
                          ignore_index=True)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

periods = pd.concat([rows[["freq", "time_period", "period_end"]],
                     all_pairs[["freq", "time_period", "period_end"]]], ignore_index=True)
if periods.empty:
    st.info(t("dash.pages.no_values", lang))
    st.stop()

freq, period = ui.period_controls("coordination", periods, lang, FREQS)
shown = rows[(rows["freq"] == freq) & (rows["time_period"] == period)]
pairs = all_pairs[(all_pairs["freq"] == freq) & (all_pairs["time_period"] == period)]
pairs = pairs.reset_index(drop=True)
one_sided = pairs[pairs["pair_status"].isin(ONE_SIDED)].reset_index(drop=True)

st.caption(f"{ui.area_label(data.REGION, lang)}, {ui.period_label(period)}")
with st.container(key="coordination_metrics"):
    columns = st.columns(4)
    for column, code in zip(columns, REF_CODES, strict=False):
        found = shown[(shown["indicator_code"] == code) & (shown["ref_area"] == data.REGION)]
        with column:
            st.metric(
                ui.registry_text(registry, code, "name", lang),
                "–" if found.empty else ui.format_value(found.iloc[0]["value"],
                                                        found.iloc[0]["unit"], lang,
                                                        found.iloc[0]["conf_status"]),
                help=None if found.empty else ui.status_label(found.iloc[0]["obs_status"], lang)
                .capitalize(),
                border=True,
            )
    with columns[3]:
        st.metric(t("dash.coordination.one_sided_metric", lang, period=ui.period_label(period)),
                  ui.format_number(len(one_sided), lang),
                  help=t("dash.coordination.one_sided_help", lang), border=True)

if pairs.empty:
    st.info(t("dash.coordination.no_pairs", lang))
else:
    ui.show_chart(matrix_figure(pairs, members, period), "coordination_matrix")
    ui.chart_extras("coordination_matrix", pairs_export(pairs), lang, registry=registry,
                    codes=[SENT, RECEIVED, GAP], note=t("dash.coordination.gap_note", lang))

reporting = [m for m in members if m in set(shown["ref_area"])]
if reporting:
    series = []
    for code in (SENT, RECEIVED):
        found = [shown[(shown["indicator_code"] == code) & (shown["ref_area"] == m)]
                 for m in reporting]
        series.append({
            "name": ui.registry_text(registry, code, "name", lang), "color": COLORS[code],
            "values": [None if f.empty else f.iloc[0]["value"] for f in found],
            "conf": ["F" if f.empty else f.iloc[0]["conf_status"] for f in found],
            "unit": "PERSONS",
            "status": ["A" if f.empty else f.iloc[0]["obs_status"] for f in found],
        })
    fig = ui.bar_figure(
        [ui.area_label(m, lang) for m in reporting], series, lang,
        title=t("dash.coordination.members_title", lang, period=ui.period_label(period)),
        y_title=t("dash.unit.PERSONS", lang), height=420)
    ui.show_chart(fig, "coordination_members")
    member_rows = shown[shown["indicator_code"].isin((SENT, RECEIVED))
                        & shown["ref_area"].isin(reporting)]
    ui.chart_extras("coordination_members", ui.export_frame(member_rows, registry, lang), lang,
                    registry=registry, codes=[SENT, RECEIVED])

if not pairs.empty:
    st.subheader(t("dash.coordination.pairs_heading", lang, period=ui.period_label(period)))
    with st.container(key="coordination_pairs"):
        st.dataframe(highlighted(pairs, pairs_table(pairs)), hide_index=True, width="stretch")
    st.caption(t("dash.coordination.gap_note", lang))

    st.subheader(t("dash.coordination.one_sided_heading", lang))
    if one_sided.empty:
        st.success(t("dash.coordination.no_one_sided", lang))
    else:
        with st.container(key="coordination_one_sided"):
            st.dataframe(pairs_table(one_sided), hide_index=True, width="stretch")
        ui.chart_extras("coordination_one_sided", pairs_export(one_sided), lang,
                        registry=registry, codes=[SENT, RECEIVED],
                        note=t("dash.coordination.one_sided_help", lang))
ui.disclosure_caption(lang, viewer_area)
