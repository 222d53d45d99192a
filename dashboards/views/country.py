"""Country profile (issue 4): one member on one page — the latest figure of every indicator it
has, grouped by data set (victims, justice, smuggling, coordination), its victims trend and its
data-quality status. Laid out to print from the browser (Ctrl+P).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

SECTIONS = ("TIP_VICTIMS", "TIP_JUSTICE", "SOM_MIGRANTS", "SOM_JUSTICE", "COORDINATION")
FREQ_PREFERENCE = ("R4Q", "Q", "A")  # the latest four quarters where the indicator has them
STATE_COUNTRY = "country.selected"
RATE_CODES = {"reporting_rate": "REPORTING_RATE", "on_time_rate": "ON_TIME_RATE"}
LINE_COLOR = "#0072B2"

lang = ui.language()


def latest_values(rows: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: the row of the latest period at the preferred frequency it has (in the
    order the indicators first appear in ``rows``). Vectorised: a loop over the indicators took
    ~0.1 s a run."""
    rank = rows["freq"].map({f: i for i, f in enumerate(FREQ_PREFERENCE)})
    preferred = rows[rank == rank.groupby(rows["indicator_code"]).transform("min")]
    latest = preferred.loc[preferred.groupby("indicator_code", sort=False)["period_end"].idxmax()]
    first_seen = {c: i for i, c in enumerate(rows["indicator_code"].drop_duplicates())}
    return latest.sort_values("indicator_code", key=lambda s: s.map(first_seen)).copy()


def section_table(rows: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        t("dash.country.col.indicator", lang): [ui.registry_text(registry, c, "name", lang)
                                                for c in rows["indicator_code"]],
        t("dash.col.period", lang): [f"{ui.period_label(p)} ({t(f'dash.freq.{f}', lang).lower()})"
                                     for p, f in zip(rows["time_period"], rows["freq"], strict=True)],
        t("dash.col.value", lang): [ui.format_value(v, u, lang, c) for v, u, c in
                                    zip(rows["value"], rows["unit"], rows["conf_status"], strict=True)],
        t("dash.col.status", lang): [ui.status_label(s, lang) for s in rows["obs_status"]],
    })


def victims_figure(rows: pd.DataFrame, country: str, registry: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Scatter(
        x=rows["time_period"], y=rows["value"], mode="lines+markers",
        name=ui.area_label(country, lang), line={"color": LINE_COLOR, "width": 2.5},
        marker={"color": LINE_COLOR, "size": 9, "line": {"width": 2, "color": LINE_COLOR},
                "symbol": [ui.PROVISIONAL_SYMBOL if s == "P" else ui.FINAL_SYMBOL
                           for s in rows["obs_status"]]},
        customdata=[[ui.format_value(v, "PERSONS", lang, c), ui.status_label(s, lang)]
                    for v, s, c in zip(rows["value"], rows["obs_status"], rows["conf_status"],
                                       strict=True)],
        hovertemplate="%{x}: %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
    ))
    fig.update_layout(
        title={"text": f"{ui.registry_text(registry, 'VIC_DETECTED', 'name', lang)} · "
                       f"{ui.area_label(country, lang)}",
               "subtitle": {"text": ui.wrap(ui.registry_text(registry, "VIC_DETECTED", "caveat",
                                                             lang))}},
        separators=ui.plotly_separators(lang), height=400, margin={"t": 100, "b": 40},
    )
    fig.update_xaxes(type="category", title_text=t("dash.trends.axis.Q", lang))
    fig.update_yaxes(title_text=t("dash.unit.PERSONS", lang))
    ui.whole_number_axis(fig)
    return fig


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.country.title", lang))
st.caption(t("dash.country.intro", lang))

snapshot = ui.require_snapshot()
viewer_area = ui.own_area()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    rates = data.reporting_rates(snapshot.path)
    reporting = set(data.indicator_frame(snapshot.path, ("VIC_DETECTED",), ("Q",),
                                         tuple(members))["ref_area"])
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

# Until the reader picks one: the first member with figures.
chosen = st.session_state.get(STATE_COUNTRY)
if chosen not in members:
    chosen = next((m for m in members if m in reporting), members[0] if members else None)
country = st.selectbox(
    t("dash.country.member", lang), options=members,
    index=members.index(chosen) if chosen in members else 0,
    format_func=lambda c: ui.area_label(c, lang), key=f"country_member.{lang}",
)
st.session_state[STATE_COUNTRY] = country
st.header(ui.area_label(country, lang), anchor=False)

codes = tuple(registry.index) if not registry.empty else ("VIC_DETECTED",)
try:
    rows = data.indicator_frame(snapshot.path, codes, ("Q", "R4Q", "A"), (country,), own_area=viewer_area)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

# --- data quality first: how far the figures below can be trusted ------------------------------
st.subheader(t("dash.country.quality_heading", lang))
own = rates[(rates["ref_area"] == country) & (rates["dataset"] == data.TOTAL)] if not rates.empty \
    else pd.DataFrame()
with st.container(key="country_quality"):
    if own.empty:
        st.info(t("dash.pages.no_quality", lang))
    else:
        columns = st.columns(4)
        for i, freq in enumerate(("Q", "A")):
            at = own[own["freq"] == freq].sort_values("period_end")
            if at.empty:
                continue
            last = at.iloc[-1]
            for j, measure in enumerate(("reporting_rate", "on_time_rate")):
                with columns[2 * i + j]:
                    st.metric(ui.registry_text(registry, RATE_CODES[measure], "name", lang)
                              + f", {last['time_period']}",
                              ui.format_value(last[measure], "PERCENT", lang), border=True)

if rows.empty:
    st.info(t("dash.country.no_values", lang, country=ui.area_label(country, lang)))
    st.stop()

st.warning(t("dash.caveat.detection", lang), icon=":material/info:")
victims = rows[(rows["indicator_code"] == "VIC_DETECTED") & (rows["freq"] == "Q")]
if not victims.empty:
    ui.show_chart(victims_figure(victims, country, registry), "country_victims")
    st.caption(t("dash.pages.provisional_markers", lang))
    ui.chart_extras("country_victims", ui.export_frame(victims, registry, lang), lang,
                    registry=registry, codes=["VIC_DETECTED"])

latest = latest_values(rows)
datasets = registry["dataset"] if "dataset" in registry else pd.Series(dtype=str)
latest["dataset"] = [datasets.get(c) if c in datasets.index else None
                     for c in latest["indicator_code"]]
for section in SECTIONS:
    part = latest[latest["dataset"] == section]
    if part.empty:
        continue
    st.subheader(t(f"dash.country.section.{section}", lang))
    with st.container(key=f"country_{section.lower()}"):
        st.dataframe(section_table(part, registry), hide_index=True, width="stretch")
    ui.chart_extras(f"country_{section.lower()}", ui.export_frame(part, registry, lang), lang,
                    registry=registry, codes=part["indicator_code"].tolist())
ui.disclosure_caption(lang, viewer_area)
st.caption(t("dash.country.print_hint", lang))
