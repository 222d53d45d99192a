"""The quarterly round in a real headless Chromium (Debian's, driven by Playwright), as the people
in it live it: a submitter downloads the template, fills it (openpyxl) with two slips, is refused
in words, fixes them, explains the warnings; the secretariat returns the version with a reason,
which the submitter reads in full, corrects and explains again; the secretariat accepts; the
quarter's figures become final and a corrected figure for the locked quarter is refused in words;
an analyst finds the accepted figure on the trends page in Spanish, English and French, and an
evaluator working in French finds it final in the export.
Hostile files sent from the upload page are refused with their message, the server answering on."""

from __future__ import annotations

import csv
import json
import shutil
import time

import duckdb
import pytest
from conftest import PASSWORD, QUARTER
from filling import fill_template
from playwright.sync_api import expect

from benchmarks.upload import choose, upload
from dashboards import ui
from pipelines import orchestrator
from pipelines.lib.i18n import t
from pipelines.lib.publish import current_snapshot
from pipelines.lib.upload import MAX_UPLOAD_BYTES, check_upload
from pipelines.settings import get_settings
from tests.robustness.corpus import giant_dimension, huge_csv, workbook_zip_bomb
from tests.served import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    RENDER_TIMEOUT_MS,
    SERVER_PIDS,
    MemorySampler,
)

JOB_TIMEOUT_MS = 180_000  # a review runs dbt and publishes


@pytest.fixture
def served_dashboard(workflow_home, tmp_path):
    """The dashboard with the orchestrator (daemon and operator UI) over the workflow home: the
    pages hand their jobs to it, as under ``make run``."""
    from tests.served import serve_dashboard

    with serve_dashboard(workflow_home, tmp_path / "streamlit.log", orchestrator=True) as url:
        yield url


def sign_in(page, name: str, lang: str = "en") -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(t("workflow.nav.login", lang)).click()
    page.get_by_role("textbox", name=t("workflow.login.username", lang)).fill(name)
    page.get_by_role("textbox", name=t("workflow.login.password", lang)).fill(PASSWORD)
    page.get_by_role("button", name=t("workflow.login.submit", lang)).click()
    signed_in = t("workflow.login.signed_in_as", lang, name=name, role="", country="")
    page.get_by_test_id("stSidebar").get_by_text(signed_in.split("**")[0] + name).wait_for(
        timeout=RENDER_TIMEOUT_MS)


def published(quarter: str, condition: str, timeout: float = JOB_TIMEOUT_MS / 1000) -> None:
    """Wait until the serving snapshot shows GTM's victims submission for ``quarter`` meeting
    ``condition``: a decision's page answers once it is recorded, its publication follows."""
    deadline = time.monotonic() + timeout
    while True:
        with duckdb.connect(str(current_snapshot(get_settings())), read_only=True) as con:
            if con.execute(
                    "select count(*) from marts.submissions_status where country = 'GTM' and "
                    f"dataset = 'TIP_VICTIMS' and period = ? and not is_superseded and {condition}",
                    [quarter]).fetchone()[0]:
                return
        assert time.monotonic() < deadline, f"not published: {condition}"
        time.sleep(1)


def sign_out(page) -> None:
    """Sign out and wait for the page to say so: a navigation started before the click's rerun
    has ended would still carry the old session."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_test_id("stSidebarNav").get_by_text("Sign in").wait_for(timeout=RENDER_TIMEOUT_MS)


def go(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def send_file(page, path, version: int, name: str | None = None, double: bool = False) -> float:
    """Upload ``path`` on the submit page (as ``name``) and wait for the report of GTM's victims
    ``version`` (not the previous report, which stays on screen while the file is checked): the
    seconds."""
    send = page.get_by_role("button", name="Send and validate")
    # saved again under another name, as a spreadsheet program offers when the file is open
    copy = path.with_name(name or f"{path.stem} ({version}){path.suffix}")
    shutil.copyfile(path, copy)
    choose(page, copy, send)
    started = time.perf_counter()
    send.dblclick() if double else send.click()
    page.get_by_text(f"TIP_VICTIMS · GTM · {QUARTER} · version {version}").first.wait_for(
        timeout=JOB_TIMEOUT_MS)
    page.get_by_role("heading", name="Validation report").wait_for(timeout=JOB_TIMEOUT_MS)
    return time.perf_counter() - started


def explain(page, version: int, text: str) -> None:
    """Explain the warnings of GTM's victims ``version`` from its report, and wait until the
    reviewer can read the explanation."""
    # Labelled as the user names it, not by its internal id.
    page.get_by_label(f"Explanation for TIP_VICTIMS · {QUARTER} · version {version}").fill(text)
    page.get_by_role("button", name="Send the explanation").click()
    # The upload's own rebuild and publication may still run: the explanation waits for them,
    # but not for its own.
    page.get_by_text("Explanation recorded").wait_for(timeout=2 * JOB_TIMEOUT_MS)
    expect(page.get_by_text("updated once the rebuild ends")).to_be_visible(
        timeout=RENDER_TIMEOUT_MS)
    published(QUARTER, "explanation is not null")  # what the reviewer will read


def review(page, version: int) -> None:
    """Open GTM's victims ``version`` on the review page."""
    go(page, "Review")
    page.get_by_role("heading", name="Review of submissions").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=f"GTM · TIP_VICTIMS · {QUARTER} · {version}").click()


# Eight jobs through the orchestrator and a browser: several minutes on an idle 2-core machine,
# and nearly twice that when the concurrency test's readers and writers run on the other worker.
@pytest.mark.browser
@pytest.mark.timeout(1200)
def test_submit_explain_and_accept_in_a_real_browser(served_dashboard: str, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        began = time.time()  # the runs this journey launches are the ones created from now
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
            page.set_default_timeout(RENDER_TIMEOUT_MS)  # a loaded 2-core CI machine is slow
            page.goto(f"{served_dashboard}/?lang=en")
            page.get_by_test_id("stSidebarNav").wait_for(timeout=RENDER_TIMEOUT_MS)
            sign_in(page, "ana")

            # The template: downloaded, filled in a spreadsheet program, saved as it is.
            go(page, "Template")
            button = page.get_by_role("button", name=f"Download GTM_{QUARTER}.xlsx")
            button.wait_for(timeout=RENDER_TIMEOUT_MS)
            with page.expect_download() as download:
                button.click()
            template = tmp_path / download.value.suggested_filename
            download.value.save_as(template)

            # Two slips of a tired hand, a negative count and a fraction: the version is rejected,
            # each slip named in words.
            fill_template(template, unknown_victims=5, slips=True)
            go(page, "Submit data")
            # A double click: the second press interrupts the first run, and the report comes.
            send_file(page, template, 2, double=True)
            expect(page.get_by_text(t("dash.upload.choose_first", "en"))).to_have_count(0)
            expect(page.get_by_text(f"TIP_VICTIMS · GTM · {QUARTER} · version 2: rejected")
                   ).to_be_visible()
            expect(page.get_by_text("is negative. A count of people cannot be below zero").first
                   ).to_be_attached()
            expect(page.get_by_text("has decimals. A count of people must be a whole number").first
                   ).to_be_attached()
            page.screenshot(path=str(ARTIFACTS / "workflow_rejected_en.png"))

            # Fixed and sent again: validated, with the warnings to explain.
            # Under a file name written as markdown, which must show as typed, not as a link.
            fill_template(template, unknown_victims=5)
            hostile_name = f"{template.stem} **v3** [x](https:evil.example){template.suffix}"
            seconds = send_file(page, template, 3, name=hostile_name)
            print(f"upload -> report on screen: {seconds:.1f} s")
            expect(page.get_by_text(hostile_name).first).to_be_attached()
            assert page.locator('a[href*="evil.example"]').count() == 0
            expect(page.get_by_text("unknown 'sex'").first).to_be_attached()  # grid cell
            expect(page.get_by_role("button", name="Download the report (XLSX)")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "workflow_report_en.png"))
            pixel = "![x](http://127.0.0.1:9/pixel.png)"
            phishing = "[Sign in again](http://evil.example/login)"
            explain(page, 3, "The police registry does not record sex, age or citizenship yet. "
                             f"Details: www.evil.example/x or mail help@evil.example {pixel} "
                             f"{phishing}")
            # A reload (a new Streamlit session) keeps the user signed in; signing out ends it
            # for good, reload or not.
            page.reload()
            page.get_by_test_id("stSidebar").get_by_text("Signed in: ana").wait_for(
                timeout=RENDER_TIMEOUT_MS)
            sign_out(page)
            page.reload()
            page.get_by_test_id("stSidebarNav").get_by_text("Sign in").wait_for(
                timeout=RENDER_TIMEOUT_MS)
            assert page.get_by_text("Signed in: ana").count() == 0

            # The secretariat reads the explanation and returns the version with a reason.
            sign_in(page, "rita")
            review(page, 3)
            expect(page.get_by_text("Explanation by ana")).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            # What the submitter wrote is text, shown as typed: no link or image Streamlit's
            # markdown would make of it, nothing fetched from the address in it.
            expect(page.get_by_text(phishing).first).to_be_visible()
            assert page.locator('a[href*="evil.example"]').count() == 0
            assert page.locator('img[src*="127.0.0.1:9"]').count() == 0
            reason = "The police report of the quarter counts 6 victims, not 5: please correct."
            page.get_by_label("Reason (required to return)").fill(reason)
            page.get_by_role("button", name="Return").click()
            page.get_by_text("returned to the ministry").wait_for(timeout=JOB_TIMEOUT_MS)
            recorded = orchestrator.decisions_since(time.time() - 3600, "GTM")
            assert [(d["to_status"], d["reason"], d["by"]) for d in recorded
                    if d.get("to_status")] == [("returned", reason, "rita")]

            # The ministry finds the reason in full at once (read from the review run, while its
            # rebuild goes on), corrects, explains the new version.
            sign_out(page)
            sign_in(page, "ana")
            go(page, "My submissions")
            page.get_by_test_id("stSelectbox").filter(has_text="Show a submission").click()
            page.get_by_role("option", name=f"TIP_VICTIMS · {QUARTER} · 3").click()
            expect(page.get_by_text("Now: returned by rita on ")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
            expect(page.get_by_text(f"Reason: {reason}")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "workflow_returned_en.png"))
            go(page, "Submit data")
            fill_template(template, unknown_victims=6)
            send_file(page, template, 4)
            explain(page, 4, "Corrected to the police report: 6 victims, sex and age unknown.")

            # The secretariat accepts the corrected version.
            sign_out(page)
            sign_in(page, "rita")
            review(page, 4)
            expect(page.get_by_text("Explanation by ana")).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            page.get_by_role("button", name="Accept").click()
            page.get_by_text("accepted: its figures are final").wait_for(timeout=JOB_TIMEOUT_MS)
            # Out of the queue at once, before the snapshot that says so: no second decision.
            expect(page.get_by_text("updated once the rebuild ends")).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            page.get_by_test_id("stSelectbox").first.click()
            expect(page.get_by_role("option", name="HND · SOM_JUSTICE").first).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            expect(page.get_by_role("option", name=f"GTM · TIP_VICTIMS · {QUARTER} · 4")
                   ).to_have_count(0)
            page.keyboard.press("Escape")
            page.screenshot(path=str(ARTIFACTS / "workflow_review_accepted_en.png"))

            published(QUARTER, "current_status = 'accepted'")
            with duckdb.connect(str(current_snapshot(get_settings())), read_only=True) as con:
                final = con.execute(
                    "select distinct obs_status from marts.indicator_values_published "
                    "where ref_area = 'GTM' and time_period = ? and indicator_code = 'VIC_DETECTED'",
                    [QUARTER]).fetchall()
                total = con.execute(
                    "select value from marts.indicator_values_published where ref_area = 'GTM' "
                    "and time_period = ? and indicator_code = 'VIC_DETECTED' and sex = '_T' "
                    "and age = '_T' and exploitation_form = '_T'", [QUARTER]).fetchone()[0]
                names = dict(zip(("es", "en", "fr"), con.execute(
                    "select name_es, name_en, coalesce(name_fr, name_en) from marts.dim_indicator "
                    "where indicator_code = 'VIC_DETECTED'").fetchone(), strict=True))
            assert final == [("A",)] and total == 6

            # The quarter is locked: the ministry sending a corrected figure for it is told so in
            # words by the first check, and the full report refuses it.
            sign_out(page)
            sign_in(page, "ana")
            go(page, "Submit data")
            fill_template(template, unknown_victims=7)
            send = page.get_by_role("button", name="Send and validate")
            choose(page, template, send)
            send.click()
            locked = t("finding.locked", "en", value=QUARTER, dataset_code="TIP_VICTIMS")
            # (the first check says it within seconds; the full report may already replace it)
            expect(page.get_by_text(locked).first).to_be_attached(timeout=RENDER_TIMEOUT_MS)
            page.get_by_role("heading", name="Validation report").wait_for(timeout=JOB_TIMEOUT_MS)
            expect(page.get_by_text(f"TIP_VICTIMS · GTM · {QUARTER} · version 5: rejected")
                   ).to_be_visible(timeout=RENDER_TIMEOUT_MS)
            expect(page.get_by_text(locked).first).to_be_attached()
            page.screenshot(path=str(ARTIFACTS / "workflow_locked_en.png"))
            sign_out(page)

            # An analyst, signed in nowhere, finds the accepted figure on the trends page in each
            # language, written as that language writes it.
            for lang in ("es", "en", "fr"):
                page.goto(f"{served_dashboard}/trends?lang={lang}")
                expect(page.get_by_role("heading", name=t("dash.trends.title", lang))
                       ).to_be_visible(timeout=RENDER_TIMEOUT_MS)
                page.get_by_test_id("stSelectbox").filter(
                    has_text=t("dash.trends.indicator", lang)).click()
                page.get_by_role("option", name=names[lang], exact=True).click()
                chosen = page.get_by_test_id("stMultiSelect")
                chosen.get_by_role("button", name="Clear all").click()
                chosen.click()
                page.get_by_role("option", name="Guatemala").click()
                page.keyboard.press("Escape")
                metric = page.get_by_test_id("stMetric").filter(has_text=f"Guatemala, {QUARTER}")
                expect(metric.get_by_test_id("stMetricValue")).to_have_text(
                    ui.format_number(total, lang), timeout=RENDER_TIMEOUT_MS)
                page.screenshot(path=str(ARTIFACTS / f"workflow_trends_{lang}.png"))

            # An evaluator, in French, from the export page's own address: the accepted figure
            # is in the export, final.
            page.goto(f"{served_dashboard}/export?lang=fr")
            page.get_by_text(t("workflow.login.required", "fr")).wait_for()
            sign_in(page, "eva", "fr")
            go(page, t("export.page.nav", "fr"))
            page.get_by_role("button", name=t("export.page.run", "fr")).click()
            button = page.get_by_role("button", name=t("export.page.download", "fr",
                                                       name="indicators.csv"))
            button.wait_for(timeout=JOB_TIMEOUT_MS)
            with page.expect_download() as download:
                button.click()
            with open(download.value.path(), encoding="utf-8-sig", newline="") as f:
                [row] = [r for r in csv.DictReader(f) if (
                    r["ref_area"], r["time_period"], r["indicator_code"], r["sex"], r["age"],
                    r["exploitation_form"]) == ("GTM", QUARTER, "VIC_DETECTED", "_T", "_T", "_T")]
            assert (row["obs_status"], float(row["value"])) == ("A", total)
        finally:
            browser.close()

    # The uploads', the explanations' and the decisions' runs took turns (one writer): no two
    # dbt builds overlap. Each was launched for a person waiting at a page: ahead of the landing
    # folder's runs.
    from dagster import DagsterEventType, DagsterInstance

    ends = {DagsterEventType.STEP_SUCCESS.value, DagsterEventType.STEP_FAILURE.value}
    with DagsterInstance.from_config(str(get_settings().dagster_home)) as instance:
        records = [record for record in instance.get_run_records()
                   if record.create_timestamp.timestamp() >= began]
        priorities = {(record.dagster_run.job_name, record.dagster_run.tags.get("dagster/priority"))
                      for record in records}
        builds = []
        for record in records:
            steps = [(entry.dagster_event.event_type_value, entry.timestamp) for entry in
                     instance.all_logs(record.dagster_run.run_id, of_type={
                         DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                         DagsterEventType.STEP_FAILURE})
                     if entry.step_key == "dbt_models"]
            start = [at for kind, at in steps if kind == DagsterEventType.STEP_START.value]
            end = [at for kind, at in steps if kind in ends]
            if start and end:
                builds.append((start[0], end[0]))
    assert priorities == {("submission_job", "1"), ("review_job", "1")}, priorities
    builds.sort()
    assert len(builds) >= 3, builds
    assert all(a[1] <= b[0] for a, b in zip(builds, builds[1:], strict=False)), builds


@pytest.mark.browser
def test_hostile_files_are_refused_and_the_server_answers_on(served_dashboard: str, tmp_path):
    """A zip bomb, a sheet declaring a million rows and a CSV one and a half times the size cap, each
    uploaded on the page: each is refused with its message, and the server still serves pages.
    The server's memory (its process and children, sampled every 50 ms) and the time from the
    upload to the refusal on screen are printed, not asserted."""
    from playwright.sync_api import expect, sync_playwright

    hostile = [  # file name, bytes, the refusal expected
        ("GTM_zip_bomb.xlsx", workbook_zip_bomb(), "workflow.upload.zip_bomb"),
        ("GTM_million_rows.xlsx", giant_dimension(), "workflow.upload.too_many_rows"),
        ("GTM_huge.csv", huge_csv(MAX_UPLOAD_BYTES * 3 // 2), "workflow.upload.too_big"),
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright, \
            MemorySampler(SERVER_PIDS[served_dashboard]) as memory:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.goto(f"{served_dashboard}/?lang=en")
            page.get_by_test_id("stSidebarNav").wait_for(timeout=RENDER_TIMEOUT_MS)
            sign_in(page, "ana")
            go(page, "Submit data")
            page.get_by_role("heading", name=t("workflow.submit.title", "en")).wait_for()
            print(f"streamlit server before the hostile files: {memory.latest_mb():.0f} MB RSS")

            # A click while a new file is still on its way cannot send the one before it: the
            # button stays disabled until the server holds the new file.
            send = page.get_by_role("button", name=t("workflow.submit.send", "en"))
            held = []
            page.route("**/_stcore/upload_file/**", lambda route: held.append(route))  # it waits
            slow = tmp_path / "GTM_slow.csv"
            slow.write_bytes(b"dataset,country\n")
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(slow))
            page.locator(f'[data-testid="stFileChipName"][title="{slow.name}"]').wait_for()
            expect(send).to_be_disabled()
            for route in held:  # let it through, then stop holding
                route.continue_()
            page.unroute("**/_stcore/upload_file/**")
            expect(send).to_be_enabled()
            began = time.monotonic()
            for name, data, key in hostile:
                check = check_upload(name, data)
                assert check.key == key, check
                message = t(key, "en", **check.values)
                path = tmp_path / name
                path.write_bytes(data)
                started, uploaded = upload(page, path)  # the benchmark's own steps, in English
                refusal = page.get_by_test_id("stAlertContentError").filter(has_text=message)
                expect(refusal).to_be_visible(timeout=RENDER_TIMEOUT_MS)
                ended = time.monotonic()
                print(f"{name} ({len(data) / 2**20:.1f} MB, {key}): upload -> refusal on screen "
                      f"{ended - started:.2f} s (of which the upload {uploaded - started:.2f} s); "
                      f"server peak {memory.peak_mb(started, ended):.0f} MB RSS")
            page.screenshot(path=str(ARTIFACTS / "workflow_hostile_refused_en.png"))

            # The server still answers: another page, then back to the upload page.
            go(page, "Template")
            page.get_by_role("heading", name=t("workflow.template.title", "en")).wait_for()
            go(page, "Submit data")
            page.get_by_role("heading", name=t("workflow.submit.title", "en")).wait_for()
            print(f"streamlit server peak while the hostile files were handled: "
                  f"{memory.peak_mb(began):.0f} MB RSS (process and children)")

            # The uploader's own words follow the language: Streamlit's English button and its
            # transport cap (10 MB) are not what the reader sees, but the translations and the
            # platform's cap.
            page.get_by_test_id("stSidebar").get_by_role("radio", name="Français").click()
            page.get_by_role("heading", name=t("workflow.submit.title", "fr")).wait_for()
            dropzone = page.get_by_test_id("stFileUploaderDropzone")
            shown = dropzone.evaluate(
                """zone => [zone.querySelector('button[data-testid="stBaseButton-secondary"]'),
                            zone.querySelector('[data-testid="stFileUploaderDropzoneInstructions"]')
                           ].map(el => [el.innerText.trim(), getComputedStyle(el, '::after').content])""")
            assert shown == [["", json.dumps(t("dash.upload.button", "fr"), ensure_ascii=False)],
                             ["", json.dumps(t("dash.upload.note", "fr", types="XLSX, CSV",
                                               limit=MAX_UPLOAD_BYTES // 2**20),
                                             ensure_ascii=False)]], shown
        finally:
            browser.close()
    assert not list((get_settings().home / "uploads").glob("*"))  # nothing was stored
