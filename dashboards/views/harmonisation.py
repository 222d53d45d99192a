"""Harmonisation with the international instruments (DOMAIN.md §9, aim 2): where each member's
law and policy stand, item by item, against the Palermo Protocols and the coalition's regional
instruments, as the members reported them through the usual workflow (POLICY_FRAMEWORK).

Everything comes from ``marts.harmonisation_*`` in the serving snapshot and the items' definitions
from the data contract. Policy facts, not counts of people: shown as reported. Public, like the
analysts' pages; the page never reads the warehouse and never writes.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.contracts import load_contracts
from pipelines.lib.i18n import t

DATASET = "POLICY_FRAMEWORK"
# The matrix's colours (the status is also written in each cell: colour is never the only sign).
ORDER = ("no", "partial", "yes", "unknown")
COLOURS = {"no": "#C62828", "partial": "#FFD666", "yes": "#1A7F37", "unknown": "#D0D0D0"}
TEXT_COLOURS = {"no": "#FFFFFF", "partial": "#3D2B00", "yes": "#FFFFFF", "unknown": "#333333"}

lang = ui.language()
contracts = load_contracts()
contract = contracts.datasets[DATASET]


def status_label(status: str) -> str:
    labels = contract.status.get(status)
    return (labels.get(lang) or labels["en"]) if labels else status


def item_name(code: str) -> str:
    return contracts.indicator_name(code, lang)


def instrument(code: str) -> str:
    item = contract.indicators.get(code)
    return (item.instrument.get(lang) or item.instrument["en"]) if item and item.instrument else ""


def text_of(value) -> str:
    return "" if value is None or ui.is_missing(value) else str(value)


st.title(t("dash.harmonisation.title", lang))
st.caption(t("dash.harmonisation.intro", lang))

snapshot = ui.require_snapshot()
try:
    matrix, index, gaps = data.harmonisation(snapshot.path)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

if matrix.empty:
    st.info(t("dash.harmonisation.nothing", lang), icon=":material/balance:")
    st.stop()
if matrix["is_illustrative"].fillna(False).astype(bool).any():
    st.warning(t("dash.harmonisation.illustrative", lang), icon=":material/warning:")

years = sorted({int(y) for y in matrix["year"]}, reverse=True)
year = st.selectbox(t("dash.harmonisation.year", lang), years, key="harmonisation_year")
this_year = matrix[matrix["year"] == year]
items = [code for code in contract.indicators if code in set(this_year["item"])]
items += sorted(set(this_year["item"]) - set(items))  # an item since dropped from the list
members = [m for m in data.member_countries(snapshot.path) if m in set(this_year["ref_area"])]

# --- the matrix: members x items, coloured by status, the reference on hover --------------------

st.subheader(t("dash.harmonisation.matrix_heading", lang, year=year))
cells = {(r["ref_area"], r["item"]): r for _, r in this_year.iterrows()}
z, text, hover = [], [], []
for item in items:
    z_row, text_row, hover_row = [], [], []
    for member in members:
        row = cells.get((member, item))
        status = row["status"] if row is not None else None
        z_row.append(ORDER.index(status) if status in ORDER else None)
        text_row.append(status_label(status) if status else "")
        hover_row.append("<br>".join(part for part in (
            f"<b>{ui.area_label(member, lang)}</b> · {item_name(item)}",
            f"{t('dash.harmonisation.col.status', lang)}: {status_label(status)}" if status else "",
            # a ministry's own text: escaped, Plotly's hover would render tags and links
            f"{t('dash.harmonisation.col.reference', lang)}: {html.escape(text_of(row['reference']))}"
            if row is not None and text_of(row["reference"]) else "",
            f"{t('dash.harmonisation.col.date', lang)}: {text_of(row['date'])[:10]}"
            if row is not None and text_of(row["date"]) else "",
            f"{t('dash.harmonisation.col.valid_until', lang)}: {text_of(row['valid_until'])[:10]}"
            if row is not None and text_of(row["valid_until"]) else "",
        ) if part))
    z.append(z_row)
    text.append(text_row)
    hover.append(hover_row)
# A discrete scale: each status one flat colour band.
scale = []
for position, status in enumerate(ORDER):
    scale += [[position / len(ORDER), COLOURS[status]], [(position + 1) / len(ORDER), COLOURS[status]]]
fig = go.Figure(go.Heatmap(
    z=z, x=[ui.area_label(m, lang) for m in members], y=[ui.wrap(item_name(i), 60) for i in items],
    text=text, texttemplate="%{text}", customdata=hover, hovertemplate="%{customdata}<extra></extra>",
    colorscale=scale, zmin=-0.5, zmax=len(ORDER) - 0.5, showscale=False, xgap=2, ygap=2))
fig.update_layout(height=120 + 38 * len(items), yaxis={"autorange": "reversed"},
                  margin={"l": 10, "r": 10, "t": 30, "b": 10},
                  separators=ui.plotly_separators(lang))
ui.show_chart(fig, "harmonisation_matrix")
st.caption(" · ".join(f"{status_label(s)}" for s in ORDER) + " — "
           + t("dash.harmonisation.matrix_note", lang))

# --- the index over the years ------------------------------------------------------------------

st.subheader(t("dash.harmonisation.index_heading", lang))
fig = go.Figure()
for area in [data.REGION, *members]:
    series = index[index["ref_area"] == area].sort_values("year")
    if series.empty:
        continue
    fig.add_trace(go.Scatter(
        x=series["year"].astype(int), y=series["index_value"], mode="lines+markers",
        name=ui.area_label(area, lang),
        line={"width": 4 if area == data.REGION else 2},
        text=[t("dash.harmonisation.index_hover", lang, area=ui.area_label(area, lang), year=int(y),
                index=ui.format_number(v, lang, 2) if not ui.is_missing(v) else "–",
                known=int(k), unknown=int(u))
              for y, v, k, u in zip(series["year"], series["index_value"], series["n_known"],
                                    series["n_unknown"], strict=True)],
        hovertemplate="%{text}<extra></extra>"))
fig.update_layout(height=380, yaxis={"range": [0, 1.05], "title": t("dash.harmonisation.index_axis", lang)},
                  xaxis={"dtick": 1, "tickformat": "d"}, legend={"orientation": "h"},
                  separators=ui.plotly_separators(lang))
ui.show_chart(fig, "harmonisation_index")
st.caption(t("dash.harmonisation.index_note", lang))

# --- what changed since last year, and where members differ ------------------------------------

st.subheader(t("dash.harmonisation.changes_heading", lang, year=year))
changed = this_year[this_year["changed"].fillna(False).astype(bool)]
if changed.empty:
    st.caption(t("dash.harmonisation.no_changes", lang))
else:
    st.dataframe(pd.DataFrame([{
        t("dash.harmonisation.col.area", lang): ui.area_label(r["ref_area"], lang),
        t("dash.harmonisation.col.item", lang): item_name(r["item"]),
        t("dash.harmonisation.col.before", lang): status_label(r["previous_status"]),
        t("dash.harmonisation.col.now", lang): status_label(r["status"]),
        t("dash.harmonisation.col.reference", lang): text_of(r["reference"]),
    } for _, r in changed.iterrows()]), hide_index=True, width="stretch")

st.subheader(t("dash.harmonisation.gaps_heading", lang, year=year))
year_gaps = gaps[(gaps["year"] == year) & gaps["differs"].fillna(False).astype(bool)]
if year_gaps.empty:
    st.caption(t("dash.harmonisation.no_gaps", lang))
else:
    st.dataframe(pd.DataFrame([{
        t("dash.harmonisation.col.item", lang): item_name(r["item"]),
        status_label("yes"): int(r["n_yes"]), status_label("partial"): int(r["n_partial"]),
        status_label("no"): int(r["n_no"]), status_label("unknown"): int(r["n_unknown"]),
        t("dash.harmonisation.col.not_aligned", lang): ", ".join(
            ui.area_label(a.strip(), lang) for a in text_of(r["members_not_aligned"]).split(",")
            if a.strip()),
    } for _, r in year_gaps.iterrows()]), hide_index=True, width="stretch")

# --- each item's definition, citing the instrument ---------------------------------------------

with st.expander(t("dash.harmonisation.definitions", lang), icon=":material/menu_book:"):
    st.dataframe(pd.DataFrame([{
        t("dash.harmonisation.col.code", lang): code,
        t("dash.harmonisation.col.item", lang): item_name(code),
        t("dash.harmonisation.col.instrument", lang): instrument(code),
    } for code in contract.indicators]), hide_index=True, width="stretch")

from pipelines.lib.export import HARMONISATION_COLUMNS  # noqa: E402 (the export's own columns)

export = matrix[list(HARMONISATION_COLUMNS)]
ui.chart_extras("harmonisation", export, lang, note=t("dash.harmonisation.index_note", lang))
