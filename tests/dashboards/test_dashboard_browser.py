"""The served dashboard in a real headless Chromium: ``streamlit run`` as a subprocess against a
fixture snapshot, driven with Playwright (Debian's chromium; never ``playwright install``)."""

from __future__ import annotations

import re

import pytest

from pipelines.lib.i18n import t
from tests.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_MS


@pytest.mark.browser
def test_victims_page_in_a_real_browser(served_dashboard: str):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.goto(served_dashboard)

            # Spanish by default: the chart, the caveat and the headline number of the fixture.
            page.locator(".st-key-victims_trend_chart .js-plotly-plot").wait_for(
                timeout=RENDER_TIMEOUT_MS
            )
            page.locator(".st-key-victims_rate_chart .js-plotly-plot").wait_for(
                timeout=RENDER_TIMEOUT_MS
            )
            caveat_es = t("dash.caveat.detection", "es")
            expect(page.get_by_test_id("stAlert").filter(has_text=caveat_es)).to_be_visible()
            expect(page.get_by_role("heading", name="Víctimas de trata detectadas")).to_be_visible()
            expect(page.get_by_test_id("stMetricValue").first).to_have_text("1.388")
            assert page.locator(".js-plotly-plot").count() == 2
            # The chart carries the caveat too (in its subtitle), so a downloaded image keeps it.
            expect(
                page.locator(".st-key-victims_trend_chart .js-plotly-plot").get_by_text(
                    "Víctimas detectadas por trimestre"
                )
            ).to_be_visible()
            page.wait_for_timeout(500)  # let Plotly finish its transition before the picture
            page.screenshot(path=str(ARTIFACTS / "dashboard_victims_es.png"))

            # Switch to English in the sidebar: texts and number format follow, the URL keeps it.
            page.get_by_test_id("stSidebar").get_by_role("radio", name="English").click()
            expect(
                page.get_by_role("heading", name="Victims of trafficking detected")
            ).to_be_visible(timeout=RENDER_TIMEOUT_MS)
            caveat_en = t("dash.caveat.detection", "en")
            expect(page.get_by_test_id("stAlert").filter(has_text=caveat_en)).to_be_visible()
            expect(page.get_by_test_id("stMetricValue").first).to_have_text("1,388")
            chosen = page.get_by_test_id("stMultiSelect")
            expect(chosen.get_by_text("Region (member countries)")).to_be_visible()
            expect(chosen.get_by_text("Región (países miembros)")).to_have_count(0)
            expect(page).to_have_url(re.compile(r"[?&]lang=en"))
            page.locator(".st-key-victims_rate_chart .js-plotly-plot").wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "dashboard_victims_en.png"))
        finally:
            browser.close()


@pytest.mark.browser
def test_every_page_answers_at_its_own_address(served_dashboard: str):
    """A bookmarked or shared address opens its page, in the language it names: the default page
    at /victims too, and a workflow page opened signed out says to sign in (in that language)
    rather than Streamlit's English "Page not found"."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.goto(f"{served_dashboard}/victims?lang=fr")
            expect(page.get_by_role("heading", name=t("dash.victims.title", "fr"))).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)  # expect's own timeout, not the page's: 5 s
            page.locator(".st-key-victims_trend_chart .js-plotly-plot").wait_for()
            assert page.get_by_text("Page not found").count() == 0
            for path in ("review", "submit", "my-submissions", "audit", "export", "template"):
                page.goto(f"{served_dashboard}/{path}?lang=fr")
                expect(page.get_by_text(t("workflow.login.required", "fr"))).to_be_visible(
                    timeout=RENDER_TIMEOUT_MS)
                # Not listed for a reader who is signed out: only its address opens it.
                expect(page.get_by_test_id("stSidebarNav").get_by_text(
                    t("workflow.nav.review", "fr"), exact=True)).to_have_count(0)
                assert page.get_by_text("Page not found").count() == 0, path
        finally:
            browser.close()
