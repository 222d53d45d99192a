"""The export page (dashboards/views/export.py) by role, run in-process with AppTest: evaluator
and admin get it and can download the files; other roles are refused on the server side."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards.workflow_ui import TOKEN_KEY
from pipelines.lib.auth import AuthStore, can
from pipelines.lib.i18n import t

VIEW = Path(__file__).resolve().parents[2] / "dashboards" / "views" / "export.py"
PASSWORD = "correct horse battery"
ROLES = ("evaluator", "admin", "analyst", "reviewer")


@pytest.fixture(scope="module")
def accounts(small_home):
    store = AuthStore(small_home)
    for role in ROLES:
        store.add_user(f"user-{role}", role, PASSWORD)
    return small_home


@pytest.mark.parametrize("role", ROLES)
def test_export_page_by_role(accounts, role, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_HOME", str(accounts.home))
    st.cache_data.clear()
    token = AuthStore(accounts).sign_in(f"user-{role}", PASSWORD)
    at = AppTest.from_file(str(VIEW), default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state[TOKEN_KEY] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if role in ("evaluator", "admin"):
        assert [x.value for x in at.title] == [t("export.page.title", "en")]
        at.multiselect(key="export.formats").set_value(["csv", "sdmx"])
        at.button(key="export.run").click()
        at.run()
        assert not at.exception and not at.error
        assert sorted(at.session_state["export.files"]) == [
            "flows_by_citizenship.csv", "indicators.csv", "manifest.json", "sdg_16_2_2.sdmx.csv"]
    else:
        assert not at.title and not at.button
        assert [e.value for e in at.error] == [
            t("workflow.login.forbidden", "en", role=t(f"workflow.role.{role}", "en"))]


def test_only_evaluator_and_admin_may_export():
    from pipelines.lib.auth import ROLES as ALL
    from pipelines.lib.auth import User

    assert {r for r in ALL if can(User("x", r, "GTM" if r == "submitter" else None), "export")} == {
        "evaluator", "admin"}
