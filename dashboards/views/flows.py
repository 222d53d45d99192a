"""Flows of victims (issue 4, DOMAIN.md §5.5–6): citizenship → country of detection over a chosen
window, as a matrix (heat map) and a Sankey diagram, split into domestic, intra-regional and
extra-regional, and a map of the members with the victims each detected in the window. Reads
``marts.flows_victims``, where flows under 5 victims are already left out (the UNODC convention),
and the disclosure-controlled indicator mart for the map; nothing is recomputed here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

CATEGORIES = ("domestic", "intraregional", "extraregional")
CATEGORY_COLORS = {"domestic": "rgba(0,114,178,0.45)", "intraregional": "rgba(230,159,0,0.55)",
                   "extraregional": "rgba(204,121,167,0.55)"}
SHARE_CODES = ["VIC_DOMESTIC_SHARE", "VIC_INTRAREG_SHARE", "VIC_FOREIGN_SHARE"]
MAP_CODE = "VIC_DETECTED"
MAP_SCALE = [[0, "#DEEBF7"], [1, "#08519C"]]
MAP_GREY = "#D9D9D9"
MAP_HIDDEN = "#BDBDBD"

lang = ui.language()


def category(row) -> str:
    if row.is_domestic:
        return "domestic"
    return "intraregional" if row.origin_is_member else "extraregional"


def origin_label(code: str) -> str:
    return ui.area_label(code, lang)


def matrix_figure(rows: pd.DataFrame, origins: list[str], destinations: list[str],
                  period: str) -> go.Figure:
    matrix = rows.pivot_table(index="origin_area", columns="destination_area", values="victims",
                              aggfunc="sum").reindex(index=origins, columns=destinations)
    text = [[ui.format_number(v, lang) if pd.notna(v) else "" for v in line]
            for line in matrix.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=matrix.to_numpy(), x=[origin_label(d) for d in destinations],
        y=[origin_label(o) for o in origins], text=text, texttemplate="%{text}",
        colorscale="Blues", hoverongaps=False, colorbar={"title": {"text": t("dash.unit.PERSONS", lang)}},
        hovertemplate="%{y} → %{x}: %{text}<extra></extra>",
    ))
    fig.update_layout(
        title={"text": t("dash.flows.matrix_title", lang, period=period),
               "subtitle": {"text": ui.wrap(t("dash.caveat.detection", lang))}},
        separators=ui.plotly_separators(lang), height=max(360, 60 + 34 * len(origins)),
        margin={"t": 100, "b": 40},
    )
    fig.update_xaxes(title_text=t("dash.flows.destination", lang), side="bottom")
    fig.update_yaxes(title_text=t("dash.flows.origin", lang), autorange="reversed")
    return fig


def sankey_figure(rows: pd.DataFrame, origins: list[str], destinations: list[str],
                  period: str) -> go.Figure:
    labels = [origin_label(o) for o in origins] + [origin_label(d) for d in destinations]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": labels, "pad": 12, "thickness": 16, "color": "#8C99A6"},
        link={
            "source": [origins.index(o) for o in rows["origin_area"]],
            "target": [len(origins) + destinations.index(d) for d in rows["destination_area"]],
            "value": rows["victims"].tolist(),
            "color": [CATEGORY_COLORS[c] for c in rows["category"]],
            "customdata": [[ui.format_number(v, lang), t(f"dash.flows.{c}", lang)]
                           for v, c in zip(rows["victims"], rows["category"], strict=True)],
            "hovertemplate": "%{source.label} → %{target.label}: %{customdata[0]}"
                             "<br>%{customdata[1]}<extra></extra>",
        },
        valueformat=",d",
    ))
    fig.update_layout(
        title={"text": t("dash.flows.sankey_title", lang, period=period),
               "subtitle": {"text": ui.wrap(t("dash.caveat.detection", lang))}},
        separators=ui.plotly_separators(lang), height=max(420, 30 * len(origins)),
        margin={"t": 100, "b": 20},
    )
    return fig


def map_figure(members: list[str], values: pd.DataFrame, period: str,
               registry: pd.DataFrame) -> go.Figure:
    """The members on a map (Plotly geo, ISO3 codes; geometry served locally, see
    ``ui.TOPOJSON_URL``): shaded by the victims each detected in the window; a hidden figure in
    a hatched grey (never shaded as a number), a member without a figure in light grey. The
    members and the shares of foreign and intra-regional victims are in the hover."""
    by_area = {code: part.set_index("ref_area") for code, part in values.groupby("indicator_code")}

    def shown(code: str, area: str) -> str:
        part = by_area.get(code)
        if part is None or area not in part.index:
            return "–"
        row = part.loc[area]
        return ui.format_value(row["value"], row["unit"], lang, row["conf_status"])

    def hover(area: str) -> str:
        lines = [f"<b>{ui.area_label(area, lang)}</b>"]
        lines += [f"{ui.registry_text(registry, code, 'name', lang)}: {shown(code, area)}"
                  for code in [MAP_CODE, "VIC_FOREIGN_SHARE", "VIC_INTRAREG_SHARE"]
                  if code in by_area]
        return "<br>".join(lines)

    counts = by_area.get(MAP_CODE, pd.DataFrame(columns=["value", "conf_status"]))
    drawn = [m for m in members if m in counts.index and not ui.is_missing(counts.loc[m, "value"])]
    hidden = [m for m in members if m in counts.index and m not in drawn]
    absent = [m for m in members if m not in counts.index]
    fig = go.Figure()
    for areas, color, name in ((absent, MAP_GREY, t("dash.flows.map_no_data", lang)),
                               (hidden, MAP_HIDDEN, t("dash.flows.map_hidden", lang))):
        if areas:
            fig.add_trace(go.Choropleth(
                locations=areas, locationmode="ISO-3", z=[0] * len(areas),
                colorscale=[[0, color], [1, color]], showscale=False, name=name,
                marker={"line": {"color": "#FFFFFF", "width": 1}},
                customdata=[hover(a) for a in areas],
                hovertemplate="%{customdata}<extra></extra>",
            ))
    if drawn:
        fig.add_trace(go.Choropleth(
            locations=drawn, locationmode="ISO-3", z=[counts.loc[m, "value"] for m in drawn],
            colorscale=MAP_SCALE, zmin=0, zmax=max(counts.loc[m, "value"] for m in drawn),
            name=ui.registry_text(registry, MAP_CODE, "name", lang),
            marker={"line": {"color": "#FFFFFF", "width": 1}},
            colorbar={"title": {"text": t("dash.unit.PERSONS", lang)}, "tickformat": ",d"},
            customdata=[hover(a) for a in drawn],
            hovertemplate="%{customdata}<extra></extra>",
        ))
    # Mexico to the Dominican Republic (every member), a little wider than high.
    fig.update_geos(scope="north america", resolution=110, lonaxis_range=[-118, -66],
                    lataxis_range=[7, 33], showcountries=True, countrycolor="#FFFFFF", showland=True,
                    landcolor="#F2F2F2", showocean=True, oceancolor="#EAF2F8",
                    showcoastlines=False, showframe=False, projection_type="mercator")
    fig.update_layout(
        title={"text": t("dash.overview.members_title", lang,
                         indicator=ui.registry_text(registry, MAP_CODE, "name", lang),
                         period=ui.period_label(period)),
               "subtitle": {"text": ui.wrap(t("dash.caveat.detection", lang))}},
        separators=ui.plotly_separators(lang), height=480, margin={"t": 100, "b": 10,
                                                                   "l": 10, "r": 10},
        legend={"orientation": "h", "yanchor": "top", "y": 0, "x": 0},
    )
    return fig


def export(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "origin_area": rows["origin_area"].to_numpy(),
        "origin": [origin_label(o) for o in rows["origin_area"]],
        "destination_area": rows["destination_area"].to_numpy(),
        "destination": [origin_label(d) for d in rows["destination_area"]],
        "time_period": rows["time_period"].to_numpy(),
        "freq": rows["freq"].to_numpy(),
        "victims": rows["victims"].to_numpy(),
        "category": rows["category"].to_numpy(),
        "obs_status": rows["obs_status"].to_numpy(),
    })


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.flows.title", lang))
st.caption(t("dash.flows.intro", lang))

snapshot = ui.require_snapshot()
try:
    registry = data.indicator_registry(snapshot.path)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

st.warning(t("dash.caveat.detection", lang), icon=":material/info:")

left, right = st.columns(2)
with left:
    freq = st.segmented_control(
        t("dash.trends.freq", lang), options=["A", "R4Q", "Q"],
        format_func=lambda f: t(f"dash.freq.{f}", lang), default="A", required=True,
        key="flows_freq",
    )
try:
    flows = data.flows_frame(snapshot.path, freq)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)
if flows.empty:
    st.info(t("dash.flows.no_flows", lang))
    st.stop()
periods = flows.sort_values("period_end", ascending=False)["time_period"].unique().tolist()
with right:
    period = st.selectbox(t("dash.col.period", lang), options=periods, index=0,
                          key=f"flows_period.{freq}")

rows = flows[flows["time_period"] == period].copy()
rows["category"] = [category(r) for r in rows.itertuples()]
rows = rows.sort_values("victims", ascending=False)
totals = rows.groupby("category")["victims"].sum()
all_shown = totals.sum()
with st.container(key="flows_totals"):
    columns = st.columns(len(CATEGORIES))
    for column, name in zip(columns, CATEGORIES, strict=True):
        value = float(totals.get(name, 0))
        with column:
            st.metric(
                t(f"dash.flows.{name}", lang), ui.format_number(value, lang),
                t("dash.flows.share_of_shown", lang,
                  share=ui.format_value(100 * value / all_shown if all_shown else None,
                                        "PERCENT", lang)),
                delta_color="off", delta_arrow="off", border=True,
            )
provisional = rows["obs_status"].eq("P").any()
st.caption(t("dash.flows.rule", lang) + (" " + t("dash.flows.provisional", lang)
                                           if provisional else ""))

members = set(data.member_countries(snapshot.path))
by_origin = rows.groupby("origin_area")["victims"].sum().sort_values(ascending=False)
origins = sorted(by_origin.index, key=lambda o: (o not in members, -by_origin[o], o))
destinations = sorted(rows["destination_area"].unique())
note = t("dash.flows.definition", lang)

tab_matrix, tab_sankey = st.tabs([t("dash.flows.tab_matrix", lang), t("dash.flows.tab_sankey", lang)])
with tab_matrix:
    ui.show_chart(matrix_figure(rows, origins, destinations, period), "flows_matrix")
with tab_sankey:
    ui.show_chart(sankey_figure(rows, origins, destinations, period), "flows_sankey")
ui.chart_extras("flows", export(rows), lang, registry=registry, codes=SHARE_CODES, note=note)

# --- the members on a map: victims detected in the same window (disclosure-controlled) -------
st.subheader(t("dash.flows.map_heading", lang))
viewer_area = ui.own_area()
member_list = data.member_countries(snapshot.path)
try:
    map_rows = data.indicator_frame(snapshot.path, (MAP_CODE, "VIC_FOREIGN_SHARE",
                                                    "VIC_INTRAREG_SHARE"), (freq,),
                                    tuple(member_list), own_area=viewer_area)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)
map_rows = map_rows[map_rows["time_period"] == period]
ui.show_chart(map_figure(member_list, map_rows, period, registry), "flows_map")
st.caption(t("dash.flows.map_caption", lang))
ui.chart_extras("flows_map", ui.export_frame(map_rows, registry, lang), lang, registry=registry,
                codes=[MAP_CODE, "VIC_FOREIGN_SHARE", "VIC_INTRAREG_SHARE"])
ui.disclosure_caption(lang, viewer_area)
