"""Upload (issue 7): a submitter sends a filled template or CSV for its own country. The bytes are
checked before anything parses them (size, signature, zip bomb, sheet size), stored under a
generated name, and taken in by the submission job as channel 'upload', role 'submitter' (the
120-day window applies), which the orchestrator runs (never this server). The report shows as
soon as intake wrote it, in the reader's language; before that, within about a second, a first
check of the file (pipelines/lib/dryrun.py)."""

from __future__ import annotations

import time

import streamlit as st

from dashboards import ui, workflow_ui
from pipelines.lib.dryrun import dry_run
from pipelines.lib.i18n import t
from pipelines.lib.reports import report_for
from pipelines.lib.upload import MAX_UPLOAD_BYTES, check_upload, store_upload
from pipelines.orchestrator import (
    LaunchRefused,
    OrchestratorUnavailable,
    start_upload,
    wait_for_report,
)
from pipelines.settings import get_settings

LAST_REPORT = workflow_ui.LAST_REPORT
PENDING = "wf.submit.pending"  # the upload whose report is awaited

lang = ui.language()
user = workflow_ui.require("submit")
settings = get_settings()
dry_run().warm()  # while the user picks a file

st.title(t("workflow.submit.title", lang))
st.write(t("workflow.submit.intro", lang,
           country=f"{workflow_ui.country_name(user.country, lang)} ({user.country})"))

uploaded = ui.upload_form(t("workflow.submit.file", lang), "wf.submit.file", lang,
                          send=t("workflow.submit.send", lang),
                          limit_mb=MAX_UPLOAD_BYTES // 2**20, types=["xlsx", "csv"],
                          help=t("workflow.submit.file_limit", lang,
                                 limit=MAX_UPLOAD_BYTES // 2**20),
                          busy=PENDING in st.session_state)
first_check = None
if uploaded is not None:
    data = uploaded.getvalue()
    check = check_upload(uploaded.name, data)
    if not check.ok:
        st.error(t(check.key, lang, **(check.values or {})), icon=":material/block:")
        st.stop()
    # No Streamlit call from storing the file to keeping its run: a second click interrupts the
    # script only at one, and the run it starts must find the job this one launched.
    path = store_upload(settings, data, check.extension)
    first_check = dry_run().check(settings, data, uploaded.name, user.country)
    try:  # the orchestrator's daemon runs the job; this server only follows it
        st.session_state[PENDING] = start_upload(settings, path, actor=user.username,
                                                 country=user.country,
                                                 original_name=uploaded.name)
    except OrchestratorUnavailable:
        st.error(t("workflow.orchestrator_down", lang), icon=":material/cloud_off:")
        st.stop()
    except LaunchRefused as refused:
        st.error(t("workflow.submit.failed", lang, error=str(refused)[:300]))
        st.stop()

pending = st.session_state.get(PENDING)
if pending is not None:  # this run's send, or one an interrupted run launched
    first = st.empty()  # the quick check, until the full report replaces it
    if first_check is not None:
        with first.container():
            workflow_ui.show_report(first_check, first_check.units, lang, key="first",
                                    first_check=True)
    with st.spinner(t("workflow.submit.working", lang)):
        outcome = wait_for_report(settings, pending)
    if outcome is None:
        del st.session_state[PENDING]
        st.error(t("workflow.submit.failed", lang, error=pending.error or "-"))
        st.stop()
    # The report is read again below (and on every rerun): whether these bytes had been received
    # before is known only now, so it is kept with it.
    st.session_state[LAST_REPORT] = (outcome.sha256, outcome.duplicate)
    del st.session_state[PENDING]
    first.empty()
    seconds = time.perf_counter() - pending.started
    st.caption(t("workflow.submit.took", lang, seconds=ui.format_number(seconds, lang, 1)))

sha, duplicate = st.session_state.get(LAST_REPORT) or (None, False)
if sha:
    outcome = report_for(settings, sha, user.country)  # never another member's report
    if outcome is None:
        st.stop()
    outcome.duplicate = duplicate
    units = outcome.units
    workflow_ui.show_report(outcome, units, lang, key=sha[:12])
    to_explain = [u for u in units if u.status == "validated" and u.warnings and not u.explained]
    for unit in units:
        if unit.explained:
            st.caption(t("workflow.explain.carried", lang, unit=workflow_ui.unit_label(
                unit.dataset, unit.period, unit.version, lang)))
    if to_explain:
        st.subheader(t("workflow.explain.title", lang))
        st.caption(t("workflow.explain.help", lang))
        workflow_ui.explain_forms(user, {u.submission_id: workflow_ui.unit_label(
            u.dataset, u.period, u.version, lang, u.findings) for u in to_explain}, lang)
