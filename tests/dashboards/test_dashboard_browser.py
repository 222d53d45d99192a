"""The served dashboard in a real headless Chromium: ``streamlit run`` as a subprocess against a
fixture snapshot, driven with Playwright (Debian's chromium; never ``playwright install``)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipelines.lib.i18n import t

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless",
]
START_TIMEOUT_S = 60
RENDER_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture
def served_dashboard(observatory_home: Path, tmp_path: Path):
    """The dashboard served by ``streamlit run`` on a free port; stopped whatever happens."""
    port = free_port()
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "OBSERVATORY_HOME": str(observatory_home)}
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "dashboards/app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(server, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.mark.browser
def test_victims_page_in_a_real_browser(served_dashboard: str):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
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
