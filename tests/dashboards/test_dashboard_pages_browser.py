"""The analysts' pages served by ``streamlit run`` in Debian's headless Chromium (issue 4): pick an
indicator and a member on the trends page and read the figure the fixture holds; open every new
page and keep a screenshot of each under test-artifacts/ (git-ignored); the map of the flows page
drawn with every request outside the server blocked; switch to French on the justice page and
download the data behind a chart."""

from __future__ import annotations

import csv
import re

import pytest
from dashboard_marts import MEMBERS

from dashboards import ui
from pipelines.lib.i18n import t
from tests.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_MS

PAGE_CHARTS = {  # url path -> a chart every page draws (keyed container)
    "overview": "overview_members_chart",
    "trends": "trends_chart",
    "country": "country_victims_chart",
    "flows": "flows_map_chart",
    "quality": "quality_reporting_chart",
    "smuggling": "smuggling_nexus_chart",
    "coordination": "coordination_matrix_chart",
    "justice": "justice_members_chart",  # last: the language switch and the download follow
}


@pytest.mark.browser
def test_trends_figure_equals_the_mart_and_every_page_renders(served_dashboard: str, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400},
                                    accept_downloads=True)
            page.set_default_timeout(RENDER_TIMEOUT_MS)  # a loaded 2-core CI machine is slow
            # Nothing may come from outside the server (the machines may have no internet): block
            # it all and keep what was asked (a regex, so the server's own requests are not
            # routed through Python), and prove the map's geometry came from the server.
            outside, asked = [], []
            page.route(re.compile(rf"^(?!{re.escape(served_dashboard)}/)"),
                       lambda route: outside.append(route.request.url) or route.abort())
            page.on("request", lambda request: asked.append(request.url))
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
                if path == "overview":
                    page.goto(f"{served_dashboard}/{path}?lang=es")
                else:  # through the sidebar: quicker than loading the whole app again
                    page.get_by_test_id("stSidebarNav").get_by_role(
                        "link", name=t(f"dash.nav.{path}", "es")).click()
                page.locator(f".st-key-{chart} .js-plotly-plot").first.wait_for(timeout=RENDER_TIMEOUT_MS)
                expect(page.get_by_role("heading", name=t(f"dash.{path}.title", "es"),
                                        exact=True)).to_be_visible()
                if path == "flows":  # the map: one shape per member, drawn offline
                    expect(page.locator(f".st-key-{chart} .choroplethlocation")).to_have_count(
                        len(MEMBERS), timeout=RENDER_TIMEOUT_MS)
                page.wait_for_timeout(500)  # let Plotly finish its transition before the picture
                page.screenshot(path=str(ARTIFACTS / f"dashboard_{path}_es.png"))
            assert f"{served_dashboard}/app/static/topojson/north-america_110m.json" in asked
            assert not [u for u in outside if "plot.ly" in u or "topojson" in u], outside

            # Justice in French (the sidebar switch): the page, its numbers and its labels follow.
            page.get_by_test_id("stSidebar").get_by_role("radio", name="Français").click()
            expect(page.get_by_role("heading", name=t("dash.justice.title", "fr"))).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            members = page.locator(".st-key-justice_members_chart .js-plotly-plot")
            expect(members.get_by_text(t("dash.justice.stage.TIP_CONVICTED", "fr"))).to_be_visible()
            # Hidden cells: no bar, a label in its place (GTM's 30 confidential, SLV's 3 <5).
            expect(members.locator(".annotation-text")).to_have_text(
                [t("dash.pages.confidential", "fr"), "<5"])
            # The last line of the page: the rerun in French is over, no element will be replaced.
            expect(page.get_by_text(t("dash.pages.disclosure_note", "fr"))).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard_justice_fr.png"))
            # Every indicator's name reads whole on its card, on a narrow screen too (Streamlit
            # cuts a metric's label to one line with an ellipsis).
            page.set_viewport_size({"width": 900, "height": 2400})
            labels = page.get_by_test_id("stMetricLabel")
            expect(labels).to_have_count(5)
            page.wait_for_timeout(300)  # the columns take their new width
            cut = labels.evaluate_all(
                "els => els.flatMap(e => [e, ...e.querySelectorAll('*')])"
                ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)")
            assert cut == [], cut
            page.set_viewport_size({"width": 1400, "height": 2400})

            # The data behind the per-member chart, as CSV: the published figures, the hidden
            # ones empty with their confidentiality status (A: El Salvador's 3, D: Guatemala's 30).
            extras = page.get_by_test_id("stExpander").filter(
                has=page.locator(".st-key-justice_members-csv"))
            extras.locator("summary").click()
            button = extras.locator(".st-key-justice_members-csv button")
            expect(button).to_be_visible()
            # On a loaded 2-core machine a click sometimes starts no download (seen in CI about
            # one run in three, no error on either side; not understood yet): a user would click
            # again, and so does the test, at most three times.
            for attempt in range(3):
                try:
                    with page.expect_download(timeout=30_000) as download:
                        button.click()
                    break
                except PlaywrightTimeout:  # say what the page and the server showed (no screen)
                    if attempt == 2:
                        page.screenshot(
                            path=str(ARTIFACTS / "dashboard_justice_download_failed.png"))
                        pytest.fail("no download; the expander read: "
                                    f"{extras.inner_text()!r}\nserver log:\n"
                                    f"{(tmp_path / 'streamlit.log').read_text()[-4000:]}")
            assert download.value.suggested_filename == "justice_members.csv"
            with open(download.value.path(), encoding="utf-8-sig", newline="") as f:
                rows = {(r["indicator_code"], r["ref_area"]): r for r in csv.DictReader(f)}
            assert len(rows) == 6
            # Counts as whole numbers, not 260.0.
            assert rows["TIP_SUSPECTED", "GTM"]["value"] == "260"
            assert rows["TIP_PROSECUTED", "SLV"]["value"] == "34"
            assert (rows["TIP_CONVICTED", "SLV"]["value"], rows["TIP_CONVICTED", "SLV"][
                "conf_status"]) == ("", "A")
            assert (rows["TIP_CONVICTED", "GTM"]["value"], rows["TIP_CONVICTED", "GTM"][
                "conf_status"]) == ("", "D")
            assert rows["TIP_CONVICTED", "SLV"]["area"] == "Salvador"  # the French label
        finally:
            browser.close()
