"""Sign-in (issue 7): username and password against the account store; a session token is kept
in this browser session only. Logout is in the sidebar (dashboards/app.py)."""

from __future__ import annotations

import math

import streamlit as st

from dashboards import ui, workflow_ui
from pipelines.lib.auth import SignInThrottled
from pipelines.lib.i18n import t

lang = ui.language()
st.title(t("workflow.login.title", lang))
signed_in = workflow_ui.current_user()
if signed_in is not None:  # just signed in, or the address opened again: nothing to do here
    st.info(t("workflow.login.already", lang, name=ui.plain(signed_in.username)),
            icon=":material/person:")
    st.stop()
st.write(t("workflow.login.intro", lang))
if st.session_state.pop(workflow_ui.EXPIRED_KEY, False):
    st.warning(t("workflow.login.expired", lang), icon=":material/schedule:")

with st.form("wf.login_form"):
    username = st.text_input(t("workflow.login.username", lang), key="wf.login.username")
    password = st.text_input(t("workflow.login.password", lang), type="password",
                             key="wf.login.password")
    sent = st.form_submit_button(t("workflow.login.submit", lang))
if sent:
    try:
        user = workflow_ui.sign_in(username, password)
    except SignInThrottled as throttled:
        wait = math.ceil(throttled.seconds)
        st.error(t("workflow.login.throttled_minutes" if wait > 90 else "workflow.login.throttled",
                   lang, seconds=wait, minutes=math.ceil(wait / 60)), icon=":material/timer:")
    else:
        if user is None:
            st.error(t("workflow.login.failed", lang), icon=":material/lock:")
        else:
            st.rerun()
