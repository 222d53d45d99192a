"""My submissions (issue 7): every version a submitter's country sent, with status, time, who,
findings, explanation and what changed from the previous version, cell by cell. Only the
submitter's own country is ever queried."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import ui, workflow_ui
from pipelines.lib.auth import require as authorize
from pipelines.lib.i18n import messages, t
from pipelines.lib.reports import load_report, report_for, version_changes
from pipelines.settings import get_settings

lang = ui.language()
user = workflow_ui.require("my_submissions")
settings = get_settings()

st.title(t("workflow.mine.title", lang))
st.write(t("workflow.mine.intro", lang,
           country=f"{workflow_ui.country_name(user.country, lang)} ({user.country})"))
frame = workflow_ui.stop_without_workflow_data(workflow_ui.submissions(user))
frame = frame[frame["country"] == user.country]  # the query filters already; belt and braces
# The secretariat's decisions and explanations recorded since the snapshot was built, at once.
frame = workflow_ui.with_decisions(frame, workflow_ui.recent_decisions(user.country))
# A file sent in this session whose versions the published snapshot does not hold yet: the list
# is read from the snapshot, so say they are on their way rather than let them look lost.
last = st.session_state.get(workflow_ui.LAST_REPORT)
sent = report_for(settings, last[0], user.country) if last else None
published = set(frame["submission_id"])
waiting = [u for u in (sent.units if sent else [])
           if u.submission_id and u.submission_id not in published]
if waiting:
    st.info(t("workflow.mine.publishing", lang, units="; ".join(
        workflow_ui.unit_label(u.dataset, u.period, u.version, lang) for u in waiting)),
        icon=":material/hourglass_top:")
    # Listed at once, as the run recorded them (its report), not only once a snapshot holds them.
    fresh = pd.DataFrame([{
        "submission_id": u.submission_id, "country": user.country, "dataset": u.dataset,
        "period": u.period, "version": u.version, "current_status": u.status,
        "is_superseded": False, "received_at": sent.received_at, "submitted_by": user.username,
        "n_errors": u.errors, "n_warnings": u.warnings,
        # warnings explained for the previous version and carried over by the run
        "explanation": t("workflow.mine.carried_over", lang) if u.explained else None,
        "status_reason": None, "status_changed_at": None, "status_changed_by": None,
        "file_sha256": sent.sha256} for u in waiting])
    # a new usable version supersedes the earlier ones of its data set and quarter
    usable = fresh[fresh["current_status"] != "rejected"]
    newer = frame.merge(usable[["dataset", "period", "version"]], on=["dataset", "period"],
                        how="left", suffixes=("", "_new"))
    frame = frame.assign(is_superseded=frame["is_superseded"].to_numpy(dtype=bool)
                         | (newer["version_new"] > newer["version"]).to_numpy())
    frame = pd.concat([fresh.astype({"is_superseded": frame["is_superseded"].dtype}), frame],
                      ignore_index=True)
if frame.empty:
    st.info(t("workflow.mine.none", lang))
    st.stop()


def status_text(row) -> str:
    status = "superseded" if row["is_superseded"] and row["current_status"] == "validated" \
        else row["current_status"]
    return t(f"workflow.status.{status}", lang)


table = pd.DataFrame({
    t("workflow.col.submission", lang): frame["submission_id"],
    t("workflow.col.dataset", lang): frame["dataset"],
    t("workflow.col.period", lang): frame["period"],
    t("workflow.col.version", lang): frame["version"],
    t("workflow.col.status", lang): [status_text(r) for _, r in frame.iterrows()],
    t("workflow.col.received", lang): frame["received_at"].astype(str).str[:16],
    t("workflow.col.by", lang): frame["submitted_by"],
    t("workflow.col.errors", lang): frame["n_errors"],
    t("workflow.col.warnings", lang): frame["n_warnings"],
    t("workflow.col.explained", lang): frame["explanation"].notna(),
    t("workflow.col.reason", lang): frame["status_reason"].fillna(""),
})
st.dataframe(table, hide_index=True, width="stretch")

choice = st.selectbox(t("workflow.mine.pick", lang), frame["submission_id"].tolist(),
                      key="wf.mine.pick",
                      format_func=lambda s: " · ".join(
                          str(v) for v in frame.loc[frame["submission_id"] == s,
                                                    ["dataset", "period", "version"]].iloc[0]))
row = frame[frame["submission_id"] == choice].iloc[0]
authorize(user, "view_report", row["country"])

# Where the version stands now, in its own colour, with the secretariat's reason in full: the
# report below is what validation said when the file came in, not the review's outcome.
state = "superseded" if row["is_superseded"] and row["current_status"] == "validated" \
    else row["current_status"]
if state == "validated" and row["n_warnings"] and pd.isna(row["explanation"]):
    # explained in this session, not yet in the published snapshot
    state = "explained" if choice in st.session_state.get(workflow_ui.EXPLAINED, ()) \
        else "unexplained"
box, icon = {
    "accepted": (st.success, ":material/verified:"),
    "returned": (st.warning, ":material/undo:"),
    "rejected": (st.error, ":material/block:"),
    "unexplained": (st.warning, ":material/edit_note:"),
}.get(state, (st.info, ":material/hourglass_top:" if state in ("validated", "explained")
              else ":material/history:"))
changed = row["status_changed_at"]
if f"workflow.mine.now.{state}" in messages():  # every state the workflow has
    def said(value) -> str:
        return ui.plain(value) if isinstance(value, str) and value.strip() else "-"

    box(t(f"workflow.mine.now.{state}", lang, by=said(row["status_changed_by"]),
          at=str(changed)[:16] if not pd.isna(changed) else "-",
          reason=said(row["status_reason"])), icon=icon)
try:
    outcome = load_report(settings, row["file_sha256"])
except FileNotFoundError:
    outcome = None
if outcome is not None:
    units = [u for u in outcome.units if u.submission_id == choice]
    outcome.duplicate = False
    workflow_ui.show_report(outcome, units, lang, key=choice,
                            decided=state in ("accepted", "returned", "superseded"))
    if row["current_status"] == "validated" and not row["is_superseded"] and row["n_warnings"]:
        st.subheader(t("workflow.explain.title", lang))
        st.caption(t("workflow.explain.help", lang))
        workflow_ui.explain_forms(user, {choice: workflow_ui.unit_label(
            row["dataset"], row["period"], row["version"], lang,
            [f for u in units for f in u.findings])}, lang)

previous = frame[(frame["dataset"] == row["dataset"]) & (frame["period"] == row["period"])
                 & (frame["version"] < row["version"])]
if pd.isna(row["version"]) or previous.empty:
    st.caption(t("workflow.mine.first_version", lang))
else:
    before = previous.sort_values("version").iloc[-1]
    st.subheader(t("workflow.mine.changes", lang, version=int(before["version"])))
    changes = version_changes(settings, before["file_sha256"], row["file_sha256"], row["dataset"])
    if not changes:
        st.write(t("workflow.mine.no_changes", lang))
    else:
        changes = [{**c, "cell": workflow_ui.cell_in_words(c["cell"], lang)} for c in changes]
        st.dataframe(pd.DataFrame(changes).rename(columns={
            "cell": t("workflow.mine.col.cell", lang),
            "before": t("workflow.mine.col.before", lang),
            "after": t("workflow.mine.col.after", lang)}), hide_index=True, width="stretch")
