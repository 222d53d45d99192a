"""The analysts' pages served by ``streamlit run`` in Debian's headless Chromium (issue 4): pick an
indicator and a member on the trends page and read the figure the fixture holds; open every new
page and keep a screenshot of each under test-artifacts/ (git-ignored)."""

from __future__ import annotations

import pytest
from test_dashboard_browser import (  # noqa: F401  (served_dashboard is a fixture)
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    RENDER_TIMEOUT_MS,
    served_dashboard,
)

from dashboards import ui
from pipelines.lib.i18n import t

PAGE_CHARTS = {  # url path -> a chart every page draws (keyed container)
    "overview": "overview_members_chart",
    "trends": "trends_chart",
    "country": "country_victims_chart",
    "flows": "flows_matrix_chart",
    "quality": "quality_reporting_chart",
}


@pytest.mark.browser
def test_trends_figure_equals_the_mart_and_every_page_renders(served_dashboard: str):  # noqa: F811
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{served_dashboard}/trends?lang=en")
            page.locator(".st-key-trends_chart .js-plotly-plot").first.wait_for(timeout=RENDER_TIMEOUT_MS)
            expect(page.get_by_role("heading", name=t("dash.trends.title", "en"))).to_be_visible()

            # Indicator: persons prosecuted (the registry's English name).
            page.get_by_test_id("stSelectbox").filter(
                has_text=t("dash.trends.indicator", "en")).click()
            page.get_by_role("option", name="Persons prosecuted for trafficking").click()
            metric = page.get_by_test_id("stMetric").filter(has_text="Region (member countries)")
            expect(metric.get_by_test_id("stMetricValue")).to_have_text("58")

            # Member: Guatemala instead of the region.
            chosen = page.get_by_test_id("stMultiSelect")
            chosen.get_by_role("button", name="Clear all").click()
            chosen.click()
            page.get_by_role("option", name="Guatemala").click()
            page.keyboard.press("Escape")
            metric = page.get_by_test_id("stMetric").filter(has_text="Guatemala, 2025-Q2")
            expect(metric.get_by_test_id("stMetricValue")).to_have_text("47")  # fixture: GTM 2025-Q2

            # Back to victims detected: 1,268 for Guatemala in 2025-Q2, as the mart holds it.
            page.get_by_test_id("stSelectbox").filter(
                has_text=t("dash.trends.indicator", "en")).click()
            page.get_by_role("option", name="Victims of trafficking detected").click()
            metric = page.get_by_test_id("stMetric").filter(has_text="Guatemala, 2025-Q2")
            expect(metric.get_by_test_id("stMetricValue")).to_have_text(
                ui.format_number(1268, "en"))
            page.locator(".st-key-trends_chart .js-plotly-plot").first.wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "dashboard_trends_en.png"))

            for path, chart in PAGE_CHARTS.items():
                page.goto(f"{served_dashboard}/{path}?lang=es")
                page.locator(f".st-key-{chart} .js-plotly-plot").first.wait_for(timeout=RENDER_TIMEOUT_MS)
                expect(page.get_by_role("heading", name=t(f"dash.{path}.title", "es"))).to_be_visible()
                page.wait_for_timeout(500)  # let Plotly finish its transition before the picture
                page.screenshot(path=str(ARTIFACTS / f"dashboard_{path}_es.png"))
        finally:
            browser.close()
