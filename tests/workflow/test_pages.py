"""Every workflow page × every role (and no sign-in), run in-process with AppTest against a
published home: each page checks the role on the server side itself, whatever the navigation
shows; a submitter only ever sees its own country."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ACCOUNTS, sign_in
from streamlit.testing.v1 import AppTest

from dashboards.workflow_ui import TOKEN_KEY
from pipelines.lib.auth import AuthStore, User, can
from pipelines.lib.i18n import t
from pipelines.settings import get_settings

VIEWS = Path(__file__).resolve().parents[2] / "dashboards" / "views"
APP = VIEWS.parent / "app.py"
PAGES = {  # page script: permission it needs
    "template.py": "download_template",
    "submit.py": "submit",
    "my_submissions.py": "my_submissions",
    "review.py": "review",
    "audit.py": "audit",
}
TITLES = {"template.py": "workflow.template.title", "submit.py": "workflow.submit.title",
          "my_submissions.py": "workflow.mine.title", "review.py": "workflow.review.title",
          "audit.py": "workflow.audit.title"}


def run_page(script: str, token: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(VIEWS / script), default_timeout=60)
    at.session_state["lang"] = lang
    if token:
        at.session_state[TOKEN_KEY] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("script", sorted(PAGES))
def test_every_page_refuses_without_sign_in(workflow_home, script):
    at = run_page(script)
    assert [w.value for w in at.warning] == [t("workflow.login.required", "en")]
    assert not at.title and not at.dataframe and not at.button


@pytest.mark.parametrize("account", sorted(ACCOUNTS))
@pytest.mark.parametrize("script", sorted(PAGES))
def test_page_by_role(workflow_home, script, account):
    role, country = ACCOUNTS[account]
    at = run_page(script, sign_in(account))
    if can(User(account, role, country), PAGES[script]):
        assert [x.value for x in at.title] == [t(TITLES[script], "en")]
        assert not at.error
    else:
        assert [e.value for e in at.error] == [
            t("workflow.login.forbidden", "en", role=t(f"workflow.role.{role}", "en"))]
        assert not at.title and not at.dataframe and not at.button


def test_my_submissions_shows_only_the_own_country(workflow_home):
    for account, country, other in (("ana", "GTM", "HND"), ("hugo", "HND", "GTM")):
        at = run_page("my_submissions.py", sign_in(account))
        table = at.dataframe[0].value
        assert len(table) == 4 and len(at.selectbox[0].options) == 4
        units = [x.value for x in [*at.success, *at.warning, *at.error]]
        assert any(f"· {country} ·" in u for u in units)
        assert not any(f"· {other} ·" in u for u in units)


def test_a_submitters_template_is_for_its_own_country_only(workflow_home):
    at = run_page("template.py", sign_in("hugo"))
    country = at.selectbox(key="wf.template.country")
    assert country.options == ["Honduras (HND)"] and country.disabled
    assert at.get("download_button")
    at = run_page("template.py", sign_in("rita"))
    assert len(at.selectbox(key="wf.template.country").options) == 8


def test_the_review_queue_and_the_audit_trail(workflow_home):
    at = run_page("review.py", sign_in("rita"), lang="es")
    queue = at.dataframe[0].value
    assert sorted(queue[t("workflow.col.country", "es")].unique()) == ["GTM", "HND"]
    assert len(queue) == 8
    at = run_page("audit.py", sign_in("adm"))
    events = at.dataframe[0].value
    assert {"received", "status"} <= set(events["action"])
    assert set(events.loc[events["action"] == "received", "actor"]) == {"ana", "hugo"}


def test_an_expired_or_ended_session_stops_every_page(workflow_home):
    store = AuthStore(get_settings())
    token = sign_in("rita")
    store.expire_session_now(token)
    assert [w.value for w in run_page("review.py", token).warning] == [
        t("workflow.login.required", "en")]
    token = sign_in("rita")
    store.sign_out(token)
    assert run_page("audit.py", token).warning


def test_the_app_lists_pages_by_role_and_logs_out(workflow_home):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["lang"] = "en"
    token = sign_in("ana")
    at.session_state[TOKEN_KEY] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("ana" in m.value for m in at.sidebar.markdown)
    at.sidebar.button(key="wf.logout").click().run()
    assert TOKEN_KEY not in at.session_state
    assert AuthStore(get_settings()).session_user(token) is None
