"""Review (secretariat): the queue of validated, current submissions; for the one picked, its
validation report, its figures beside its previous version and the country's four quarters
before, and its explanation; accept (figures final, quarter locked) or return with a reason;
lock exceptions with a reason and an end date. Every decision runs the review job (write under
the writer lock → dbt → publish)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboards import data, ui, workflow_ui
from pipelines.lib.contracts import load_contracts
from pipelines.lib.decisions import Decision
from pipelines.lib.i18n import t
from pipelines.lib.periods import Quarter, quarter_range
from pipelines.lib.reports import load_report
from pipelines.settings import get_settings

lang = ui.language()
user = workflow_ui.require("review")
settings = get_settings()
contracts = load_contracts()

st.title(t("workflow.review.title", lang))
st.write(t("workflow.review.intro", lang))

notice = st.session_state.pop("wf.review.notice", None)
if notice:
    st.success(notice, icon=":material/check_circle:")
    st.caption(t("workflow.review.publishing", lang))
# Submissions decided in this session: out of the queue before the snapshot that says so is
# published, so a second click does not send a decision the job would refuse.
DECIDED = "wf.review.decided"


DIMENSIONS = ("sex", "age", "exploitation_form", "citizenship", "counterpart_area", "stage",
              "identification_channel", "unaccompanied")
NOT_A_BREAKDOWN = (None, "", "_T", "_Z")


def _breakdown(cell, lang: str) -> str:
    """The cell's breakdown in words ("Female, 0-17 years"); empty for a total."""
    return ", ".join(contracts.label(dim, cell[dim], lang) for dim in DIMENSIONS
                     if not pd.isna(cell[dim]) and cell[dim] not in NOT_A_BREAKDOWN)


def show_figures(row) -> None:
    """The version's cells beside its previous version and the country's four quarters before
    (``marts.review_cells``, from the member's own store: figures before disclosure control, for
    the secretariat only)."""
    snapshot = data.current_snapshot()
    cells = None if snapshot is None else data.review_cells(snapshot.path, row["country"],
                                                             row["submission_id"])
    st.subheader(t("workflow.review.figures", lang))
    if cells is None or cells.empty:
        st.caption(t("workflow.review.figures_missing", lang))
        return
    period = Quarter.parse(str(row["period"]))
    earlier = [period]
    for _ in range(4):
        earlier.append(earlier[-1].previous())
    previous = cells["previous_version"].dropna()
    this = f"{period} · v{int(row['version'])}"
    names = {code: ind.name.get(lang, code) for dataset in contracts.datasets.values()
             for code, ind in dataset.indicators.items()}
    table = pd.DataFrame({
        t("workflow.review.col.indicator", lang): [names.get(c, c) for c in cells["indicator"]],
        t("workflow.review.col.breakdown", lang): [_breakdown(c, lang) for _, c in cells.iterrows()],
        this: cells["value"].astype("Int64"),
    })
    added = removed = changed = 0
    if previous.empty:
        st.caption(t("workflow.review.figures_first", lang, period=str(period)))
    else:
        before = int(previous.iloc[0])
        table[f"v{before}"] = cells["previous_value"].astype("Int64")
        kinds = []
        for _, c in cells.iterrows():
            if not c["in_this_version"]:
                kinds.append(t("workflow.review.change.removed", lang))
                removed += 1
            elif pd.isna(c["previous_value"]):
                kinds.append(t("workflow.review.change.new", lang))
                added += 1
            elif pd.isna(c["value"]) or c["value"] != c["previous_value"]:
                kinds.append(t("workflow.review.change.changed", lang))
                changed += 1
            else:
                kinds.append("")
        table[t("workflow.review.col.change", lang)] = kinds
        st.caption(t("workflow.review.figures_compared", lang, version=before, changed=changed,
                     added=added, removed=removed))
    for n, quarter in enumerate(earlier[1:], start=1):
        label = str(quarter) if n < 4 else t("workflow.review.col.year_before", lang,
                                             period=str(quarter))
        table[label] = cells[f"value_{n}q_before"].astype("Int64")
    shown = table
    if (added or removed or changed) and st.toggle(t("workflow.review.only_changed", lang),
                                                   key=f"wf.review.changed.{row['submission_id']}"):
        shown = table[table[t("workflow.review.col.change", lang)] != ""]
    st.dataframe(shown, hide_index=True, width="stretch")


def show_policy_items(row) -> None:
    """An annual policy report's items as reported in this version beside the member's previous
    year (``marts.harmonisation_matrix``: policy facts, published as reported)."""
    snapshot = data.current_snapshot()
    matrix = pd.DataFrame() if snapshot is None else data.harmonisation(snapshot.path)[0]
    st.subheader(t("workflow.review.items", lang))
    items = matrix[matrix["submission_id"] == row["submission_id"]] if not matrix.empty else matrix
    if items.empty:
        st.caption(t("workflow.review.figures_missing", lang))
        return
    contract = contracts.datasets[row["dataset"]]

    def status(code) -> str:
        labels = contract.status.get(code) if isinstance(code, str) else None
        return (labels.get(lang) or labels["en"]) if labels else ""

    def day(value) -> str:
        return "" if value is None or pd.isna(value) else str(value)[:10]

    st.dataframe(pd.DataFrame({
        t("dash.harmonisation.col.item", lang): [contracts.indicator_name(c, lang)
                                                 for c in items["item"]],
        t("dash.harmonisation.col.now", lang): [status(c) for c in items["status"]],
        t("dash.harmonisation.col.reference", lang): ["" if pd.isna(v) else str(v)
                                                      for v in items["reference"]],
        t("dash.harmonisation.col.date", lang): [day(v) for v in items["date"]],
        t("dash.harmonisation.col.valid_until", lang): [day(v) for v in items["valid_until"]],
        t("dash.harmonisation.col.before", lang): [status(c) for c in items["previous_status"]],
        t("workflow.review.col.change", lang): [
            t("workflow.review.change.changed", lang) if bool(c) else ""
            for c in items["changed"].fillna(False)],
    }), hide_index=True, width="stretch")


def decide(decision: Decision, done_key: str, **values) -> None:
    outcome = workflow_ui.decide(settings, decision, lang)
    if outcome is None:
        return
    if outcome.ok:
        st.session_state["wf.review.notice"] = t(done_key, lang, **values,
                                                  **(outcome.written or {}))
        if decision.submission_id:
            st.session_state.setdefault(DECIDED, set()).add(decision.submission_id)
        st.rerun()
    workflow_ui.not_recorded(outcome, lang)


frame = workflow_ui.stop_without_workflow_data(workflow_ui.submissions(user))
queue = frame[(frame["current_status"] == "validated") & ~frame["is_superseded"]
              & frame["dataset"].notna()
              & ~frame["submission_id"].isin(st.session_state.get(DECIDED, set()))]
if queue.empty:
    st.info(t("workflow.review.empty", lang))
else:
    st.dataframe(pd.DataFrame({
        t("workflow.col.submission", lang): queue["submission_id"],
        t("workflow.col.country", lang): queue["country"],
        t("workflow.col.dataset", lang): queue["dataset"],
        t("workflow.col.period", lang): queue["period"],
        t("workflow.col.version", lang): queue["version"],
        t("workflow.col.received", lang): queue["received_at"].astype(str).str[:16],
        t("workflow.col.version_late", lang): queue["is_late"],
        t("workflow.col.quarter_on_time", lang): workflow_ui.quarters_on_time(queue),
        t("workflow.col.warnings", lang): queue["n_warnings"],
        t("workflow.col.ready", lang): queue["is_ready_for_review"],
    }), hide_index=True, width="stretch")
    st.caption(t("workflow.review.late_note", lang))
    choice = st.selectbox(
        t("workflow.review.pick", lang), queue["submission_id"].tolist(), key="wf.review.pick",
        format_func=lambda s: " · ".join(str(v) for v in queue.loc[
            queue["submission_id"] == s, ["country", "dataset", "period", "version"]].iloc[0]))
    row = queue[queue["submission_id"] == choice].iloc[0]
    try:
        outcome = load_report(settings, row["file_sha256"])
        outcome.duplicate = False
        workflow_ui.show_report(outcome, [u for u in outcome.units if u.submission_id == choice],
                                lang, key=choice)
    except FileNotFoundError:
        pass
    if row["dataset"] in contracts.annual_datasets:
        show_policy_items(row)
    else:
        show_figures(row)
    if isinstance(row["explanation"], str):
        st.info(t("workflow.explain.current", lang, who=ui.plain(row["explained_by"]),
                  when=str(row["explained_at"])[:16], text=ui.plain(row["explanation"])))
    elif row["n_warnings"]:
        st.warning(t("workflow.review.not_ready", lang, warnings=int(row["n_warnings"])))
    reason = st.text_area(t("workflow.review.reason", lang), key="wf.review.reason",
                          max_chars=4000)
    accept_col, return_col = st.columns(2)
    base = {"actor": user.username, "actor_role": user.role, "actor_country": user.country,
            "submission_id": choice, "reason": reason}
    if accept_col.button(t("workflow.review.accept", lang), type="primary",
                         disabled=not bool(row["is_ready_for_review"]), key="wf.review.accept"):
        decide(Decision(action="accept", **base), "workflow.review.done_accept", submission=choice)
    if return_col.button(t("workflow.review.return", lang), key="wf.review.return"):
        decide(Decision(action="return", **base), "workflow.review.done_return", submission=choice)

# --- lock exceptions ---
st.header(t("workflow.exception.title", lang))
st.caption(t("workflow.exception.help", lang))
last = Quarter.last_complete(settings.today)
quarters = [str(q) for q in reversed(quarter_range(
    Quarter.parse(contracts.reporting["first_period"]), last))]
# the years of the annual data sets (POLICY_FRAMEWORK) after the quarters
quarters += [str(y) for y in range(last.year, Quarter.parse(
    contracts.reporting["first_period"]).year - 1, -1)]
with st.form("wf.exception"):
    c1, c2, c3, c4 = st.columns(4)
    country = c1.selectbox(t("workflow.col.country", lang), contracts.members,
                           key="wf.exception.country")
    dataset = c2.selectbox(t("workflow.col.dataset", lang),
                           [*contracts.reporting["expected_datasets"], *contracts.annual_datasets],
                           key="wf.exception.dataset")
    period = c3.selectbox(t("workflow.col.period", lang), quarters, key="wf.exception.period")
    until = c4.date_input(t("workflow.exception.until", lang),
                          value=settings.today + dt.timedelta(days=14),
                          min_value=settings.today, key="wf.exception.until")
    why = st.text_input(t("workflow.exception.reason", lang), key="wf.exception.reason")
    grant = st.form_submit_button(t("workflow.exception.grant", lang))
if grant:
    decide(Decision(action="grant_exception", actor=user.username, actor_role=user.role,
                    country=country, dataset=dataset, period=period,
                    valid_until=until.isoformat(), reason=why), "workflow.exception.done")

events = workflow_ui.audit_trail()
granted = None if events is None else events[events["action"] == "lock_exception"]
if granted is None or granted.empty:
    st.caption(t("workflow.exception.none", lang))
else:
    details = [json.loads(d) for d in granted["details"]]
    st.dataframe(pd.DataFrame({
        t("workflow.col.country", lang): [d["country"] for d in details],
        t("workflow.col.dataset", lang): [d["dataset"] for d in details],
        t("workflow.col.period", lang): [d["period"] for d in details],
        t("workflow.exception.until", lang): [d["valid_until"] for d in details],
        t("workflow.exception.reason", lang): granted["reason"].tolist(),
        t("workflow.col.by", lang): granted["actor"].tolist(),
    }), hide_index=True, width="stretch")
