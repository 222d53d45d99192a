"""Audit trail (issue 7; admin and reviewer): every event, filterable, exportable as CSV."""

from __future__ import annotations

import streamlit as st

from dashboards import ui, workflow_ui
from pipelines.lib.i18n import t

lang = ui.language()
user = workflow_ui.require("audit")

st.title(t("workflow.audit.title", lang))
st.write(t("workflow.audit.intro", lang))
events = workflow_ui.stop_without_workflow_data(workflow_ui.audit_trail())

c1, c2, c3 = st.columns([2, 1, 1])
actions = sorted(events["action"].dropna().unique().tolist())
chosen = c1.multiselect(t("workflow.audit.actions", lang), actions, default=actions,
                        key="wf.audit.actions")
countries = sorted(events["country"].dropna().unique().tolist())
country = c2.selectbox(t("workflow.col.country", lang), ["*", *countries], key="wf.audit.country")
actor = c3.text_input(t("workflow.audit.actor", lang), key="wf.audit.actor").strip().lower()

shown = events[events["action"].isin(chosen)]
if country != "*":
    shown = shown[shown["country"] == country]
if actor:
    shown = shown[shown["actor"].str.lower().str.contains(actor, regex=False)]
st.caption(t("workflow.audit.count", lang, shown=len(shown), total=len(events)))
columns = ["occurred_at", "actor", "action", "country", "dataset", "period", "version",
           "submission_id", "from_status", "to_status", "reason", "file_name"]
st.dataframe(shown[columns], hide_index=True, width="stretch")

st.download_button(t("workflow.audit.download", lang),
                   data=workflow_ui.audit_csv(shown[[*columns, "event_id", "details"]]),
                   file_name="audit_trail.csv", mime="text/csv", icon=":material/download:",
                   key="wf.audit.download")

# Failed sign-ins live beside the accounts (auth.sqlite), not in the warehouse: the sign-in page
# records them without writing the warehouse.
st.header(t("workflow.audit.failures_title", lang))
failures = workflow_ui.store().failures()
if not failures:
    st.caption(t("workflow.audit.failures_none", lang))
else:
    st.dataframe([{t(f"workflow.audit.failures_col.{k}", lang): v for k, v in row.items()}
                  for row in failures], hide_index=True, width="stretch")
