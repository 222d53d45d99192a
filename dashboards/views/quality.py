"""Data quality (issue 4, DOMAIN.md §5.14–15): reporting and on-time rates as a member × quarter
heat map (``marts.dq_reporting_rates``), unknown shares (``marts.dq_unknown_shares``), the
validation findings per member and quarter (``marts.dq_submission_findings``) and the data-quality
score per member and quarter with its parts (``marts.dq_country_quarter``).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from pipelines.lib.i18n import t

RATE_CODES = {"reporting_rate": "REPORTING_RATE", "on_time_rate": "ON_TIME_RATE"}
UNKNOWN_CODES = {"sex": "VIC_SEX_UNKNOWN_SHARE", "age": "VIC_AGE_UNKNOWN_SHARE",
                 "citizenship": "VIC_CITIZENSHIP_UNKNOWN_SHARE"}
# Colour-blind-safe sequential scales: low reporting is dark orange, full reporting dark blue.
RATE_SCALE = [[0, "#B35806"], [0.5, "#F7F7F7"], [1, "#2166AC"]]
UNKNOWN_SCALE = [[0, "#F7F7F7"], [1, "#B35806"]]

lang = ui.language()


def heatmap(frame: pd.DataFrame, members: list[str], value: str, period: str, title: str,
            scale, zmax: float, *, unit: str = "PERCENT", colorbar: str = "%",
            hover: str | None = None) -> go.Figure:
    """Members × quarters; ``hover``: a column of text shown under the value on hover."""
    matrix = frame.pivot_table(index="area", columns=period, values=value, aggfunc="first")
    periods = sorted(matrix.columns)
    matrix = matrix.reindex(index=members, columns=periods)
    text = [[ui.format_value(v, unit, lang) if pd.notna(v) else "" for v in line]
            for line in matrix.to_numpy()]
    extra = {"hovertemplate": "%{y}, %{x}: %{text}<extra></extra>"}
    if hover:
        details = frame.pivot(index="area", columns=period, values=hover)
        extra = {"customdata": details.reindex(index=members, columns=periods).fillna("").to_numpy(),
                 "hovertemplate": "%{y}, %{x}: %{text}<br>%{customdata}<extra></extra>"}
    fig = go.Figure(go.Heatmap(
        z=matrix.to_numpy(), x=periods, y=[ui.area_label(m, lang) for m in members], text=text,
        texttemplate="%{text}", zmin=0, zmax=zmax, colorscale=scale, hoverongaps=False,
        xgap=2, ygap=2, colorbar={"title": {"text": colorbar}}, **extra,
    ))
    fig.update_layout(title={"text": title}, separators=ui.plotly_separators(lang),
                      height=max(320, 80 + 36 * len(members)), margin={"t": 60, "b": 40})
    fig.update_xaxes(type="category", title_text=t("dash.quality.quarter_axis", lang))
    fig.update_yaxes(autorange="reversed")
    return fig


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.quality.title", lang))
st.caption(t("dash.quality.intro", lang))

snapshot = ui.require_snapshot()
try:
    registry = data.indicator_registry(snapshot.path)
    members = data.member_countries(snapshot.path)
    rates = data.reporting_rates(snapshot.path)
    unknown = data.unknown_shares(snapshot.path)
    findings = data.findings_summary(snapshot.path)
    scores = data.quality_scores(snapshot.path)
    disclosure = data.disclosure_audit(snapshot.path)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

if rates.empty:
    st.info(t("dash.pages.no_quality", lang))
    st.stop()

# --- reporting and on-time rates --------------------------------------------------------------
st.subheader(t("dash.quality.reporting_heading", lang))
quarterly = rates[rates["freq"] == "Q"]
left, right = st.columns(2)
with left:
    measure = st.segmented_control(
        t("dash.quality.measure", lang), options=list(RATE_CODES),
        format_func=lambda m: ui.registry_text(registry, RATE_CODES[m], "name", lang),
        default="reporting_rate", required=True, key="quality_measure",
    )
with right:
    datasets = [data.TOTAL, *sorted(d for d in quarterly["dataset"].unique() if d != data.TOTAL)]
    dataset = st.selectbox(
        t("dash.quality.dataset", lang), options=datasets,
        format_func=lambda d: t("dash.quality.all_datasets", lang) if d == data.TOTAL else d,
        key=f"quality_dataset.{lang}",
    )

shown = quarterly[quarterly["dataset"] == dataset].rename(columns={"ref_area": "area"})
latest_period = shown.sort_values("period_end")["time_period"].iloc[-1]
region = shown[(shown["area"] == data.REGION) & (shown["time_period"] == latest_period)]
with st.container(key="quality_region"):
    columns = st.columns(2)
    for column, name in zip(columns, RATE_CODES, strict=True):
        with column:
            st.metric(
                t("dash.quality.region_metric", lang,
                  measure=ui.registry_text(registry, RATE_CODES[name], "name", lang),
                  period=latest_period),
                ui.format_value(region.iloc[0][name], "PERCENT", lang) if not region.empty else "–",
                help=t("dash.quality.region_help", lang,
                       reported=int(region.iloc[0]["units_reported"]) if not region.empty else 0,
                       on_time=int(region.iloc[0]["units_on_time"]) if not region.empty else 0,
                       expected=int(region.iloc[0]["units_expected"]) if not region.empty else 0),
                border=True,
            )
member_rows = shown[shown["area"].isin(members)]
title = t("dash.quality.heatmap_title", lang,
          measure=ui.registry_text(registry, RATE_CODES[measure], "name", lang),
          dataset=t("dash.quality.all_datasets", lang) if dataset == data.TOTAL else dataset)
ui.show_chart(heatmap(member_rows, members, measure, "time_period", title, RATE_SCALE, 100),
              "quality_reporting")
ui.chart_extras("quality_reporting", member_rows.rename(columns={"area": "ref_area"}), lang,
                registry=registry, codes=list(RATE_CODES.values()))

# --- unknown shares ---------------------------------------------------------------------------
st.subheader(t("dash.quality.unknown_heading", lang))
if unknown.empty:
    st.info(t("dash.pages.no_quality", lang))
else:
    pairs = unknown[["dataset", "indicator", "dimension"]].drop_duplicates()
    pairs = pairs.sort_values(["dataset", "indicator", "dimension"]).itertuples(index=False)
    options = [f"{p.dataset}|{p.indicator}|{p.dimension}" for p in pairs]
    default = "TIP_VICTIMS|VIC_DETECTED|sex"
    choice = st.selectbox(
        t("dash.quality.unknown_choice", lang), options=options,
        index=options.index(default) if default in options else 0,
        format_func=lambda o: "{} · {}".format(
            ui.registry_text(registry, o.split("|")[1], "name", lang)
            if o.split("|")[1] in registry.index else o.split("|")[1],
            t(f"dash.quality.dimension.{o.split('|')[2]}", lang)),
        key=f"quality_unknown.{lang}",
    )
    ds, indicator, dimension = choice.split("|")
    rows = unknown[(unknown["dataset"] == ds) & (unknown["indicator"] == indicator)
                   & (unknown["dimension"] == dimension)].rename(columns={"country": "area"})
    title = t("dash.quality.unknown_title", lang,
              dimension=t(f"dash.quality.dimension.{dimension}", lang).lower())
    ui.show_chart(heatmap(rows, members, "unknown_share", "period", title, UNKNOWN_SCALE,
                          max(50.0, float(rows["unknown_share"].max() or 0))),
                  "quality_unknown")
    st.caption(t("dash.quality.unknown_note", lang))
    code = UNKNOWN_CODES.get(dimension)
    # The share and its conf_status: the counts behind it are in the victims pages already.
    ui.chart_extras("quality_unknown",
                    rows.rename(columns={"area": "country"}).drop(columns=["unknown", "total"],
                                                                  errors="ignore"),
                    lang, registry=registry, codes=[code] if code else [])

# --- validation findings ----------------------------------------------------------------------
st.subheader(t("dash.quality.findings_heading", lang))
if findings.empty:
    st.success(t("dash.quality.no_findings", lang))
else:
    table = findings.sort_values(["period", "country"], ascending=[False, True])
    shown_table = pd.DataFrame({
        t("dash.col.area", lang): [ui.area_label(c, lang) for c in table["country"]],
        t("dash.col.period", lang): table["period"].to_numpy(),
        t("dash.quality.warnings", lang): [ui.format_number(v, lang)
                                           for v in table["warnings_in_use"]],
        t("dash.quality.attempts", lang): [ui.format_number(v, lang)
                                           for v in table["rejected_attempts"]],
        t("dash.quality.errors", lang): [ui.format_number(v, lang)
                                         for v in table["errors_in_attempts"]],
    })
    with st.container(key="quality_findings"):
        st.dataframe(shown_table, hide_index=True, width="stretch")
    ui.chart_extras("quality_findings", table, lang, note=t("dash.quality.findings_note", lang))

# --- data-quality score -----------------------------------------------------------------------
st.subheader(t("dash.quality.score_heading", lang))
if scores.empty:
    st.info(t("dash.pages.no_quality", lang))
else:
    rows = scores[scores["country"].isin(members)]
    parts = [t("dash.quality.score_parts", lang,
               reported=r.datasets_reported, expected=r.datasets_expected, on_time=r.datasets_on_time,
               errors=r.n_errors, warnings=r.n_warnings,
               unknown=ui.format_value(r.max_unknown_share, "PERCENT", lang),
               suppressed=ui.format_number(r.cells_suppressed, lang),
               published=ui.format_number(r.cells_published, lang))
             for r in rows.itertuples()]
    ui.show_chart(heatmap(rows.rename(columns={"country": "area"}).assign(parts=parts), members,
                          "quality_score", "period", t("dash.quality.score_title", lang),
                          RATE_SCALE, 100, unit="SCORE", colorbar="0–100", hover="parts"),
                  "quality_score")
    ui.chart_extras("quality_score", rows, lang, note=t("dash.quality.score_definition", lang))

# --- disclosure audit -------------------------------------------------------------------------
st.subheader(t("dash.quality.audit_heading", lang))
if disclosure.empty:
    st.info(t("dash.quality.audit_none", lang))
else:
    run = disclosure.iloc[0]
    with st.container(key="quality_disclosure_audit"):
        if run["passed"]:
            st.success(t("dash.quality.audit_passed", lang))
        else:
            st.warning(t("dash.quality.audit_failed", lang,
                         failing=ui.format_number(run["failing"], lang)))
        narrowest = ("–" if pd.isna(run["narrowest_width"]) else
                     ui.format_number(float(run["narrowest_width"]), lang, decimals=1))
        st.caption(t("dash.quality.audit_summary", lang,
                     cells=ui.format_number(run["cells"], lang),
                     hidden=ui.format_number(run["hidden"], lang),
                     relations=ui.format_number(run["relations"], lang),
                     attackers=run["attackers"], narrowest=narrowest,
                     repairs=ui.format_number(run["repairs_total"], lang),
                     seconds=ui.format_number(round(float(run["seconds"]), 1), lang)))
