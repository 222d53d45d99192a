"""The Plan page served by ``streamlit run`` in Debian's headless Chromium: the objectives'
traffic lights, the illustrative label, the series with its baseline → target path and the rule,
in Spanish, then in English through the sidebar; a screenshot under test-artifacts/."""

from __future__ import annotations

import pytest
from dashboard_snapshot import write_snapshot
from test_plan_page import write_plan

from pipelines.lib.i18n import t
from tests.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_MS, serve_dashboard


@pytest.mark.browser
def test_the_plan_page_in_a_browser(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    write_plan(write_snapshot(home / "serving"), illustrative=True)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve_dashboard(home, tmp_path / "streamlit.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 3000})
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.goto(f"{url}/plan?lang=es")
            expect(page.get_by_role("heading", name=t("dash.plan.title", "es"))).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            expect(page.get_by_text(t("dash.plan.illustrative", "es"))).to_be_visible()
            page.locator(".st-key-plan_path .js-plotly-plot").first.wait_for()
            expect(page.get_by_role("heading", name="O2 · Objetivo O2")).to_be_visible()
            expect(page.locator(".st-key-plan_path").get_by_text(
                t("dash.plan.path", "es"))).to_be_visible()
            expect(page.get_by_text(t("dash.plan.rule_heading", "es"))).to_be_visible()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "dashboard_plan_es.png"), full_page=True)

            page.get_by_test_id("stSidebar").get_by_role("radio", name="English").click()
            expect(page.get_by_role("heading", name=t("dash.plan.title", "en"))).to_be_visible()
            expect(page.get_by_role("heading", name="O2 · Objective O2")).to_be_visible()
            expect(page.get_by_text(t("dash.plan.illustrative", "en"))).to_be_visible()
        finally:
            browser.close()
