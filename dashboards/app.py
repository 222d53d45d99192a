"""Entry point of the dashboard: ``streamlit run dashboards/app.py`` (from the repository root).

It holds the frame every page shares (page config, language switch, "data as of") and the
navigation. Each page lives in ``dashboards/views/``, deliberately not ``pages/``: a folder named
``pages`` beside the entry point switches Streamlit to its legacy multipage mode, which on reruns
runs the page script without this frame (the language switch vanished on the second rerun).
The reader's language is kept in ``st.session_state["lang"]`` and mirrored in the URL
(``?lang=en``) so a shared link keeps it.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboards import data, ui, workflow_ui
from pipelines.lib.auth import can
from pipelines.lib.i18n import LANGUAGES, t

run_started = time.perf_counter()  # for ui.log_script_run (off unless $OBSERVATORY_TIMING_LOG)
lang = ui.language()
st.session_state[ui.KEPT_LANGUAGE_KEY] = lang
st.set_page_config(
    page_title=t("dash.app.title", lang),
    page_icon=":material/bar_chart:",
    layout="wide",
)

with st.sidebar:
    lang = st.segmented_control(
        f"{t('dash.app.language', 'es')} / {t('dash.app.language', 'en')}",
        options=list(LANGUAGES),
        format_func=ui.LANGUAGE_NAMES.__getitem__,
        default=lang,
        required=True,
        key=ui.LANGUAGE_KEY,
    )
st.session_state[ui.KEPT_LANGUAGE_KEY] = lang
if st.query_params.get(ui.LANGUAGE_KEY) != lang:
    st.query_params[ui.LANGUAGE_KEY] = lang

# The workflow pages (issue 7) are listed by role; each page checks the role again itself.
user = workflow_ui.current_user()
WORKFLOW_PAGES = (  # (permission, script, title key, icon, url path)
    ("download_template", "views/template.py", "workflow.nav.template", ":material/table_view:",
     "template"),
    ("submit", "views/submit.py", "workflow.nav.submit", ":material/upload_file:", "submit"),
    ("my_submissions", "views/my_submissions.py", "workflow.nav.my_submissions",
     ":material/history:", "my-submissions"),
    ("review", "views/review.py", "workflow.nav.review", ":material/fact_check:", "review"),
    ("audit", "views/audit.py", "workflow.nav.audit", ":material/receipt_long:", "audit"),
    ("export", "views/export.py", "export.page.nav", ":material/download:", "export"),
)
# Pages the user may not open are registered hidden, not left out: their address (a bookmark,
# a link in an e-mail, a reload after signing out) then answers with the page's own "sign in"
# or "not for your role" message instead of Streamlit's English "Page not found".
workflow_pages = [
    st.Page(script, title=t(title, lang), icon=icon, url_path=url_path,
            visibility="visible" if can(user, permission) else "hidden")
    for permission, script, title, icon, url_path in WORKFLOW_PAGES
]
workflow_pages.append(st.Page("views/login.py", title=t("workflow.nav.login", lang),
                              icon=":material/login:", url_path="login",
                              visibility="visible" if user is None else "hidden"))

# The analysts' pages (issue 4): public like the victims page, no sign-in needed.
ANALYST_PAGES = (  # (script, title key, icon, url path)
    ("views/overview.py", "dash.nav.overview", ":material/dashboard:", "overview"),
    ("views/trends.py", "dash.nav.trends", ":material/show_chart:", "trends"),
    ("views/country.py", "dash.nav.country", ":material/flag:", "country"),
    ("views/flows.py", "dash.nav.flows", ":material/swap_horiz:", "flows"),
    ("views/justice.py", "dash.nav.justice", ":material/gavel:", "justice"),
    ("views/smuggling.py", "dash.nav.smuggling", ":material/directions_boat:", "smuggling"),
    ("views/coordination.py", "dash.nav.coordination", ":material/sync_alt:", "coordination"),
    ("views/quality.py", "dash.nav.quality", ":material/verified:", "quality"),
    ("views/plan.py", "dash.nav.plan", ":material/flag:", "plan"),
    ("views/harmonisation.py", "dash.nav.harmonisation", ":material/balance:", "harmonisation"),
)
analyst_pages = [
    st.Page(script, title=t(title, lang), icon=icon, url_path=url_path)
    for script, title, icon, url_path in ANALYST_PAGES
]

page = st.navigation(
    [
        # The default page answers at the root; Streamlit gives it no address of its own, so
        # /victims (as listed in the README and shared in links) is the same script, unlisted.
        # Its url_path must differ: Streamlit names a page's state after it.
        st.Page(
            "views/victims.py",
            title=t("dash.victims.nav", lang),
            icon=":material/groups:",
            url_path="start",
            default=True,
        ),
        st.Page("views/victims.py", title=t("dash.victims.nav", lang), icon=":material/groups:",
                url_path="victims", visibility="hidden"),
        *analyst_pages,
        *workflow_pages,
    ],
    # Every page listed: collapsed ("View more" past ten), a submitter's own pages would be
    # the ones hidden, below the analysts' pages.
    expanded=True,
)

if user is not None:
    with st.sidebar:
        st.markdown(t("workflow.login.signed_in_as", lang, name=user.username,
                      role=t(f"workflow.role.{user.role}", lang),
                      country=f", {user.country}" if user.country else ""))
        if st.button(t("workflow.login.logout", lang), icon=":material/logout:",
                     key="wf.logout"):
            workflow_ui.sign_out()
            st.rerun()

with st.sidebar:
    st.caption(t("dash.app.coalition", lang))
    snapshot = data.current_snapshot()
    if snapshot is not None:
        stamp = data.built_at(snapshot.path)
        st.caption(
            t(
                "dash.app.data_as_of",
                lang,
                built_at=stamp.strftime("%Y-%m-%d %H:%M UTC") if stamp else "–",
                snapshot=snapshot.name.removesuffix(".duckdb"),
            )
        )

with st.sidebar:
    workflow_ui.keep_session_cookie()  # after a sign-in or sign-out this run has seen

try:
    page.run()
finally:
    ui.log_script_run(page.url_path, run_started)
