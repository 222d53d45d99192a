"""The export page (dashboards/views/export.py) by role, run in-process with AppTest: evaluator
and admin get it and can download the files; other roles are refused on the server side."""

from __future__ import annotations

import datetime as dt
import json
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


def as_of_page(accounts, monkeypatch, day) -> AppTest:
    """The page for an evaluator, an as-of export of ``day`` asked for (not yet run)."""
    monkeypatch.setenv("OBSERVATORY_HOME", str(accounts.home))
    st.cache_data.clear()
    at = AppTest.from_file(str(VIEW), default_timeout=300)
    at.session_state["lang"] = "en"
    at.session_state[TOKEN_KEY] = AuthStore(accounts).sign_in("user-evaluator", PASSWORD)
    at.run()
    at.multiselect(key="export.formats").set_value(["csv"])
    at.checkbox(key="export.use_as_of").check()
    at.run()
    at.date_input(key="export.as_of").set_value(day)
    return at


def test_an_as_of_export_without_the_orchestrator_says_so(accounts, monkeypatch):
    """The rebuild of a past day is queued work: with no orchestrator to take it, the page says
    so in words and nothing is built here."""
    at = as_of_page(accounts, monkeypatch, dt.date(2025, 5, 20))
    at.button(key="export.run").click()
    at.run()
    assert [e.value for e in at.error] == [t("workflow.orchestrator_down", "en")]
    assert "export.files" not in at.session_state
    assert not any(accounts.exports_dir.iterdir())


def test_an_as_of_export_from_the_page_gives_that_days_files(accounts, monkeypatch):
    """The page hands the day to the export job (run here in place of the orchestrator's
    daemon, which the served tests cover) and offers the files it wrote, stamped with the day."""
    from pipelines import orchestrator
    from pipelines.defs.local import run_here

    monkeypatch.setattr(orchestrator, "queued", lambda settings: run_here(settings))
    at = as_of_page(accounts, monkeypatch, dt.date(2025, 5, 20))
    at.button(key="export.run").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    files = at.session_state["export.files"]
    assert sorted(files) == ["flows_by_citizenship.csv", "indicators.csv", "manifest.json"]
    assert json.loads(files["manifest.json"])["as_of"] == "2025-05-20"
    assert at.get("download_button")  # offered for download
    assert not any(accounts.exports_dir.iterdir())  # the job's folder removed once read
