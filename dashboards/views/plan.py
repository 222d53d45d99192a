"""The regional plan (DOMAIN.md §9, aim 1): each objective with its targets as traffic lights per
member and region, filters by aim, member and status, one target's series with its baseline →
target path, and the status rule beneath. Public, like the analysts' pages.

Everything comes from ``marts.plan_progress`` in the serving snapshot (dbt computes the actual,
progress, elapsed time and status from the published indicators only) and, for the series, from
the disclosure-controlled indicator mart. The page never reads the warehouse and never writes.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
import yaml

from dashboards import data, ui, workflow_ui
from pipelines.lib.auth import can
from pipelines.lib.contracts import load_contracts
from pipelines.lib.i18n import t
from pipelines.settings import CONTRACTS_DIR

HARMONISATION_INDEX = "HARMONISATION_INDEX"  # pipelines.lib.plan's, not imported at page load
STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data", "confidential", "monitor")
# The traffic lights: a cell's background (the status is also written in it, so the colour is
# never the only sign). Green for achieved and on track, amber at risk, red off track.
LIGHTS = {"achieved": ("#1A7F37", "#FFFFFF"), "on_track": ("#8FD19E", "#0B2E13"),
          "at_risk": ("#FFD666", "#3D2B00"), "off_track": ("#C62828", "#FFFFFF"),
          "no_data": ("#E0E0E0", "#333333"), "confidential": ("#B0B0B0", "#1F1F1F"),
          "monitor": ("#BBD7EE", "#0B2540")}
PATH_COLOR = "#D55E00"
SERIES_COLOR = "#0072B2"

lang = ui.language()


def monitor_by_default() -> list[str]:
    """The indicators the plan's contract keeps at `monitor` by default (detected victims)."""
    with (CONTRACTS_DIR / "plan.yaml").open(encoding="utf-8") as f:
        return list(yaml.safe_load(f)["monitor_by_default"])


def text_of(value) -> str:
    """A text cell of the mart ("" when empty: pandas gives None or NaN)."""
    return "" if value is None or ui.is_missing(value) else str(value)


def status_of(row) -> str:
    return "monitor" if row["direction"] == "monitor" else (text_of(row["status"]) or "no_data")


def status_text(status: str) -> str:
    return t(f"dash.plan.status.{status}", lang)


def lit(frame: pd.DataFrame, statuses: pd.DataFrame):
    """``frame`` with each status cell coloured as its traffic light (``statuses``: the codes)."""
    def colours(_):
        return statuses.map(lambda s: "" if not s else
                            f"background-color: {LIGHTS[s][0]}; color: {LIGHTS[s][1]}")
    return frame.style.apply(colours, axis=None)


def period_end(period: str) -> dt.date:
    """The last day of ``2027`` or ``2027-Q2``."""
    year = int(period[:4])
    if len(period) == 4:
        return dt.date(year, 12, 31)
    quarter = int(period[-1])
    return (dt.date(year + (quarter == 4), 3 * quarter % 12 + 1, 1) - dt.timedelta(days=1))


def value_text(value, unit: str, conf_status=None) -> str:
    return ui.format_value(None if ui.is_missing(value) else float(value), unit, lang,
                           conf_status or "F")


def share_text(value) -> str:
    return "–" if ui.is_missing(value) else f"{ui.format_number(100 * float(value), lang)}\u00a0%"


def rule_text(plan: pd.DataFrame) -> str:
    first = plan.iloc[0] if not plan.empty else None
    on_track = first["rule_on_track_margin"] if first is not None else 0.10
    at_risk = first["rule_at_risk_margin"] if first is not None else 0.30
    tolerance = first["rule_maintain_tolerance"] if first is not None else 0.05
    return t("dash.plan.rule", lang, on_track=ui.format_number(100 * on_track, lang),
             at_risk=ui.format_number(100 * at_risk, lang),
             tolerance=ui.format_number(100 * tolerance, lang))


PLAN_REPORT = "plan.last_report"
PLAN_PENDING = "plan.pending"  # the upload whose report is awaited


def manage_plan_section(plan: pd.DataFrame) -> None:
    """For the secretariat (reviewer, admin; checked here on the server): the plan in force as
    the XLSX the import reads, and the upload of a new version. The upload is checked before
    anything parses it, stored under a generated name and handed to the orchestrator's plan job
    (this server never writes the warehouse), which checks the account and its grant again."""
    user = workflow_ui.current_user()
    if not can(user, "manage_plan"):
        return
    from pipelines.lib.plan import columns as plan_columns
    from pipelines.lib.plan import plan_workbook_bytes, render_report
    from pipelines.lib.upload import MAX_UPLOAD_BYTES, check_upload, store_upload
    from pipelines.orchestrator import (
        LaunchRefused,
        OrchestratorUnavailable,
        start_plan_upload,
        wait_for_plan_report,
    )
    from pipelines.settings import get_settings

    st.subheader(t("dash.plan.manage_heading", lang))
    st.markdown(t("dash.plan.manage_text", lang))
    editable = [{c: (None if ui.is_missing(r[c]) else r[c].item() if hasattr(r[c], "item")
                     else r[c]) for c in plan_columns()} for _, r in plan.iterrows()]
    version = int(plan["plan_version"].iloc[0]) if not plan.empty else 0
    st.download_button(
        t("dash.plan.download_plan", lang), plan_workbook_bytes(editable),
        file_name=f"plan_v{version}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="plan_download", icon=":material/download:", on_click="ignore")
    settings = get_settings()
    uploaded = ui.upload_form(t("dash.plan.upload", lang), "plan_upload", lang,
                              send=t("dash.plan.send", lang),
                              limit_mb=MAX_UPLOAD_BYTES // 2**20, types=["xlsx", "csv"],
                              busy=PLAN_PENDING in st.session_state)
    if uploaded is not None:
        data_bytes = uploaded.getvalue()
        check = check_upload(uploaded.name, data_bytes)
        if not check.ok:
            st.error(t(check.key, lang, **(check.values or {})), icon=":material/block:")
            return
        # No Streamlit call from storing the file to keeping its run (see the submit page).
        path = store_upload(settings, data_bytes, check.extension)
        try:  # the orchestrator's daemon runs the job; this server only follows it
            run_id = start_plan_upload(settings, path, actor=user.username, role=user.role)
        except OrchestratorUnavailable:
            st.error(t("workflow.orchestrator_down", lang), icon=":material/cloud_off:")
            return
        except LaunchRefused as refused:
            st.error(t("dash.plan.failed", lang, error=str(refused)[:300]))
            return
        st.session_state[PLAN_PENDING] = (run_id, uploaded.name)
    pending = st.session_state.get(PLAN_PENDING)
    if pending is not None:  # this run's send, or one an interrupted run launched
        with st.spinner(t("dash.plan.working", lang)):
            report, error = wait_for_plan_report(settings, pending[0])
        del st.session_state[PLAN_PENDING]
        if report is None:
            st.error(t("dash.plan.failed", lang, error=error or "-"))
            return
        report.file_name = pending[1]
        st.session_state[PLAN_REPORT] = report
    report = st.session_state.get(PLAN_REPORT)
    if report is not None:
        # A code block: the file's name and values are shown as text, never as markdown.
        st.code("\n".join(render_report(report, lang)), language=None)


# --- the page ---------------------------------------------------------------------------------

st.title(t("dash.plan.title", lang))
st.caption(t("dash.plan.intro", lang))

if data.current_snapshot() is None:  # nothing published yet: the secretariat may still upload
    manage_plan_section(pd.DataFrame())
snapshot = ui.require_snapshot()
try:
    plan = data.plan_progress(snapshot.path)
    registry = data.indicator_registry(snapshot.path)
except data.SnapshotUnreadable as error:
    ui.stop_unreadable(snapshot.name, error)

if plan.empty:
    st.info(t("dash.plan.no_plan", lang), icon=":material/flag:")
    st.caption(rule_text(plan))
    manage_plan_section(plan)
    st.stop()

if plan["plan_is_illustrative"].fillna(False).astype(bool).any():
    st.warning(t("dash.plan.illustrative", lang), icon=":material/warning:")
version = int(plan["plan_version"].iloc[0])
imported = pd.Timestamp(plan["plan_imported_at"].iloc[0])
st.caption(t("dash.plan.version", lang, version=version,
             imported=imported.strftime("%Y-%m-%d %H:%M UTC") if not pd.isna(imported) else "–"))

plan = plan.assign(shown_status=[status_of(r) for _, r in plan.iterrows()])
areas_in_plan = [a for a in [data.REGION, *data.member_countries(snapshot.path)]
                 if a in set(plan["ref_area"])]

left, middle, right = st.columns(3)
with left:
    aims = st.multiselect(t("dash.plan.filter_aim", lang), options=[1, 2, 3],
                          format_func=lambda a: t(f"dash.plan.aim.{a}", lang), key="plan_aim",
                          placeholder=t("dash.plan.all_areas", lang))
with middle:
    area = st.selectbox(t("dash.plan.filter_area", lang), options=["*", *areas_in_plan],
                        format_func=lambda a: t("dash.plan.all_areas", lang) if a == "*"
                        else ui.area_label(a, lang), key="plan_area")
with right:
    statuses = st.multiselect(t("dash.plan.filter_status", lang), options=list(STATUSES),
                              format_func=status_text, key="plan_status",
                              placeholder=t("dash.plan.all_areas", lang))

shown = plan
if aims:
    shown = shown[shown["aim"].isin(aims)]
if area != "*":
    shown = shown[shown["ref_area"] == area]
if statuses:
    shown = shown[shown["shown_status"].isin(statuses)]

counts = shown["shown_status"].value_counts()
st.markdown(" · ".join(f"{status_text(s)}: **{int(counts[s])}**" for s in STATUSES
                       if s in counts))

if set(shown["indicator"]) & set(monitor_by_default()):
    st.info(t("dash.plan.detection_note", lang), icon=":material/info:")

if shown.empty:
    st.info(t("dash.plan.nothing_shown", lang))


def indicator_name(code: str) -> str:
    if code in registry.index:
        return ui.registry_text(registry, code, "name", lang)
    if code == HARMONISATION_INDEX:
        return t("dash.harmonisation.index_name", lang)
    return load_contracts().indicator_name(code, lang)  # a policy item (aim 2)


def harmonisation_series(code: str, area: str) -> pd.DataFrame:
    """The harmonisation index or one policy item's score by year, as the chart reads a series
    (policy facts, published as reported)."""
    matrix, index, _ = data.harmonisation(snapshot.path)
    if code == HARMONISATION_INDEX:
        rows = index[index["ref_area"] == area][["year", "index_value"]].rename(
            columns={"index_value": "value"})
    else:
        rows = matrix[(matrix["ref_area"] == area) & (matrix["item"] == code)][["year", "score"]
                                                                               ].rename(columns={"score": "value"})
    return pd.DataFrame({
        "freq": "A", "period_end": [dt.date(int(y), 12, 31) for y in rows["year"]],
        "time_period": [str(int(y)) for y in rows["year"]], "value": rows["value"].tolist(),
        "conf_status": "F"})


def unit_of(code: str) -> str:
    return str(registry.loc[code, "unit"]) if code in registry.index else ""


for objective_id, targets in shown.groupby("objective_id", sort=False):
    first = targets.iloc[0]
    text = text_of(first[f"objective_{lang}"]) or text_of(first["objective_en"])
    with st.container(key=f"plan_objective_{objective_id}", border=True):
        st.subheader(f"{objective_id} · {text}")
        st.caption(t(f"dash.plan.aim.{int(first['aim'])}", lang))
        columns = [a for a in areas_in_plan if a in set(targets["ref_area"])]
        lights, codes = [], []
        for code, rows in targets.groupby("indicator", sort=False):
            direction = t(f"dash.plan.direction.{rows.iloc[0]['direction']}", lang)
            by_area = dict(zip(rows["ref_area"], rows["shown_status"], strict=True))
            label = t("dash.plan.col.indicator", lang)
            lights.append({label: f"{indicator_name(code)} ({direction})",
                           **{ui.area_label(a, lang): status_text(by_area[a]) if a in by_area
                              else "" for a in columns}})
            codes.append({label: "", **{ui.area_label(a, lang): by_area.get(a, "")
                                        for a in columns}})
        st.dataframe(lit(pd.DataFrame(lights), pd.DataFrame(codes)), hide_index=True,
                     width="stretch")
        detail_codes = pd.DataFrame([{t("dash.plan.col.status", lang): r["shown_status"]}
                                     for _, r in targets.iterrows()])
        details = pd.DataFrame([{
            t("dash.plan.col.indicator", lang): indicator_name(r["indicator"]),
            t("dash.plan.col.area", lang): ui.area_label(r["ref_area"], lang),
            t("dash.plan.col.baseline", lang):
                f"{r['baseline_period']}: {value_text(r['baseline_value'], unit_of(r['indicator']))}",
            t("dash.plan.col.target", lang):
                f"{r['target_period']}: {value_text(r['target_value'], unit_of(r['indicator']))}",
            t("dash.plan.col.actual", lang): "–" if not text_of(r["actual_period"]) else
                f"{ui.period_label(r['actual_period'])}: "
                f"{value_text(r['actual_value'], unit_of(r['indicator']), r['conf_status'])}",
            t("dash.plan.col.progress", lang): share_text(r["progress"]),
            t("dash.plan.col.elapsed", lang): share_text(r["elapsed"]),
            t("dash.plan.col.status", lang): status_text(r["shown_status"]),
            t("dash.plan.col.responsible", lang): text_of(r["responsible"]),
        } for _, r in targets.iterrows()])
        with st.expander(t("dash.plan.details", lang), icon=":material/table:"):
            st.dataframe(lit(details, detail_codes.reindex(columns=details.columns,
                                                           fill_value="")),
                         hide_index=True, width="stretch")

# --- one target's series with its baseline -> target path ---------------------------------------

if not shown.empty:
    st.subheader(t("dash.plan.series_heading", lang))
    keys = [(r["objective_id"], r["indicator"], r["ref_area"]) for _, r in shown.iterrows()]
    chosen = st.selectbox(t("dash.plan.series_choice", lang), options=keys,
                          format_func=lambda k: f"{k[0]} · {indicator_name(k[1])} · "
                          f"{ui.area_label(k[2], lang)}", key="plan_series")
    row = shown[(shown["objective_id"] == chosen[0]) & (shown["indicator"] == chosen[1])
                & (shown["ref_area"] == chosen[2])].iloc[0]
    try:
        series = (data.indicator_totals(snapshot.path, row["indicator"], ("A", "R4Q"),
                                        areas=(row["ref_area"],))
                  if row["indicator"] in registry.index
                  else harmonisation_series(row["indicator"], row["ref_area"]))
    except data.SnapshotUnreadable as error:
        ui.stop_unreadable(snapshot.name, error)
    import plotly.graph_objects as go

    fig = go.Figure()
    for freq, dash_style in (("A", "solid"), ("R4Q", "dot")):
        part = series[series["freq"] == freq]
        if not part.empty:
            fig.add_trace(go.Scatter(
                x=pd.to_datetime(part["period_end"]), y=part["value"], mode="lines+markers",
                name=t(f"dash.plan.series_{freq}", lang),
                line={"color": SERIES_COLOR, "dash": dash_style}, connectgaps=False,
                text=[f"{ui.period_label(p)}: {value_text(v, unit_of(row['indicator']), c)}"
                      for p, v, c in zip(part["time_period"], part["value"], part["conf_status"],
                                         strict=True)],
                hovertemplate="%{text}<extra></extra>"))
    path_x = [period_end(row["baseline_period"]), period_end(row["target_period"])]
    path_y = [row["baseline_value"], row["target_value"]]
    fig.add_trace(go.Scatter(x=path_x, y=path_y, mode="lines+markers",
                             name=t("dash.plan.path", lang),
                             line={"color": PATH_COLOR, "dash": "dash"}))
    milestones = [part.split("=") for part in text_of(row["milestones"]).split(";") if "=" in part]
    if milestones:
        fig.add_trace(go.Scatter(
            x=[period_end(p.strip()) for p, _ in milestones],
            y=[float(v.strip().replace(",", ".")) for _, v in milestones], mode="markers",
            name=t("dash.plan.milestones", lang),
            marker={"color": PATH_COLOR, "symbol": "diamond", "size": 10}))
    fig.update_layout(
        title=ui.wrap(f"{indicator_name(row['indicator'])} · {ui.area_label(row['ref_area'], lang)}"
                      f" · {status_text(row['shown_status'])}"),
        separators=ui.plotly_separators(lang), height=420, legend={"orientation": "h"},
        xaxis_title=t("dash.plan.axis_end", lang))
    ui.show_chart(fig, "plan_path")
    st.caption(t("dash.plan.series_note", lang))

manage_plan_section(plan)

# --- the status rule and the data ---------------------------------------------------------------

st.subheader(t("dash.plan.rule_heading", lang))
rule = rule_text(plan)
st.markdown(rule)
export = shown[["objective_id", "aim", "indicator", "ref_area", "direction", "baseline_period",
                "baseline_value", "target_period", "target_value", "actual_period",
                "actual_value", "progress", "elapsed", "status", "conf_status"]]
ui.chart_extras("plan_progress", export, lang, note=rule)
