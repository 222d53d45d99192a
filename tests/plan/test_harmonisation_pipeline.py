"""Harmonisation end to end (DOMAIN.md §9, aim 2): members report their legal and policy
framework (POLICY_FRAMEWORK) through the usual intake, a submitter's upload included; the
secretariat accepts through the review job; dbt publishes the matrix, the index and the gaps;
the harmonisation page shows them (es, en) and the export writes harmonisation.csv and its sheet.
A real warehouse, real dbt and a real snapshot in a temporary home. The index values expected
here are worked out by hand from the answers sent, not read from the SQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import openpyxl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pipelines.cli import main
from pipelines.lib.auth import AuthStore
from pipelines.lib.contracts import load_contracts
from pipelines.lib.i18n import t
from pipelines.lib.publish import current_snapshot
from pipelines.lib.template import template_rows, write_csv, write_xlsx
from pipelines.settings import get_settings
from tests.conftest import FIXTURES, module_home

pytestmark = pytest.mark.integration

DATASET = "POLICY_FRAMEWORK"
ITEMS = list(load_contracts().datasets[DATASET].indicators.values())
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PASSWORD = "harmonisation-pass-2026"


def report(country: str, year: int, answers: dict[str, str]) -> list[dict]:
    """A filled policy template: every item `yes` unless ``answers`` says otherwise."""
    rows = []
    for row in template_rows(DATASET, country, str(year)):
        item = next(i for i in ITEMS if i.code == row["indicator"])
        status = answers.get(item.code, "yes")
        row["value"] = status
        if status in ("yes", "partial"):
            row["reference"] = REFERENCES.get((country, year, item.code),
                                              f"Ley {item.code.lower()} {year}")
        if status == "yes" and item.date_required:
            row["date"] = "2004-04-01"
        if status == "yes" and item.until:
            row.update(date=f"{year}-01-01", valid_until=f"{year + 4}-12-31")
        rows.append(row)
    return rows


# A ministry's own text, shown as text: never a live link in the matrix's hover.
HOSTILE = '<a href="http://198.51.100.7/login">Ley 9</a><img src="http://198.51.100.7/x.png">'
REFERENCES = {("GTM", 2025, "PF_VICTIM_ASSISTANCE"): HOSTILE}
# GTM 2024: no action plan, referral mechanism partial. GTM 2025: both yes, statistics unknown.
# HND 2025: every item unknown but two (yes, no).
GTM_2024 = {"PF_ACTION_PLAN": "no", "PF_REFERRAL_MECHANISM": "partial"}
GTM_2025 = {"PF_STATISTICS_PUBLISHED": "unknown"}
HND_2025 = {item.code: "unknown" for item in ITEMS} | {
    "PF_TIP_PROTOCOL_PARTY": "yes", "PF_SPECIALISED_PROSECUTION": "no"}


def run(*args: str, lang: str = "en") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--lang", lang, *args])
    return code, out.getvalue(), err.getvalue()


def open_page(name: str, lang: str) -> AppTest:
    """The app in ``lang``, on one of its pages, run without an exception."""
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(f"views/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def snapshot_rows(sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(current_snapshot(get_settings())), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with module_home(tmp_path_factory, "harmonisation") as home:
        yield home


@pytest.fixture(scope="module")
def reported(home, tmp_path_factory):
    """GTM 2024 and HND 2025 sent by the operator (with a quarter of GTM's statistics, so the
    export has indicators); GTM 2025 uploaded by GTM's submitter as the XLSX template, then
    accepted by the secretariat's reviewer through the review job."""
    from pipelines.defs.local import run_here
    from pipelines.lib.decisions import Decision
    from pipelines.lib.upload import store_upload
    from pipelines.orchestrator import run_review, submit_upload

    folder = tmp_path_factory.mktemp("policy_files")
    write_csv(folder / "GTM_2024.csv", report("GTM", 2024, GTM_2024))
    write_csv(folder / "HND_2025.csv", report("HND", 2025, HND_2025), encoding="cp1252",
              delimiter=";")
    code, out, err = run("submit", str(FIXTURES / "valid_gtm_2024q1_utf8.csv"),
                         str(folder / "GTM_2024.csv"), str(folder / "HND_2025.csv"))
    assert code == 0, out + err
    settings = get_settings()
    store = AuthStore(settings)
    store.add_user("ana", "submitter", PASSWORD, "GTM")
    store.add_user("rita", "reviewer", PASSWORD, None)
    write_xlsx(folder / "GTM_2025.xlsx", {DATASET: report("GTM", 2025, GTM_2025)}, lang="es")
    uploaded = submit_upload(settings, store_upload(settings, (folder / "GTM_2025.xlsx").read_bytes(),
                                                    "xlsx"),
                             actor="ana", country="GTM", original_name="GTM 2025.xlsx",
                             runner=run_here(settings))
    assert uploaded.ok, uploaded.error
    [unit] = uploaded.outcome.units
    assert (unit.dataset, unit.period, unit.status) == (DATASET, "2025", "validated")
    accepted = run_review(settings, Decision("accept", "rita", "reviewer",
                                             submission_id=unit.submission_id, reason="ok"),
                          runner=run_here(settings))
    assert accepted.ok, accepted
    return unit.submission_id


@pytest.fixture(scope="module")
def planned(reported, tmp_path_factory):
    """A plan (XLSX, as the Plan page gives it) with two aim-2 targets: the region's
    harmonisation index 0.88 (2024) -> 1 (2027), and GTM's action plan no -> yes by 2026."""
    from pipelines.lib.plan import columns, plan_workbook_bytes

    def target(objective: str, indicator: str, area: str, baseline: tuple, goal: tuple) -> dict:
        row = dict.fromkeys(columns(), "")
        row.update(objective_id=objective, objective_es="Armonizar", objective_en="Harmonise",
                   objective_fr="Harmoniser", aim=2, indicator=indicator, ref_area=area,
                   direction="increase", baseline_period=baseline[0], baseline_value=baseline[1],
                   target_period=goal[0], target_value=goal[1])
        return row

    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    path.write_bytes(plan_workbook_bytes([
        target("H1", "HARMONISATION_INDEX", "REG", ("2024", 0.88), ("2027", 1)),
        target("H2", "PF_ACTION_PLAN", "GTM", ("2024", 0), ("2026", 1))]))
    code, out, err = run("plan", "import", str(path))
    assert code == 0, out + err


def test_a_plan_target_on_the_index_or_an_item_takes_its_actual_from_them(planned):
    rows = {r[0]: r[1:] for r in snapshot_rows(
        "select objective_id, actual_period, actual_value, progress, elapsed, status "
        "from marts.plan_progress order by 1")}
    region_2025 = (1.0 + 0.5) / 2  # GTM's index and HND's, worked out above
    progress = (region_2025 - 0.88) / (1 - 0.88)
    assert rows["H1"] == ("2025", pytest.approx(region_2025), pytest.approx(progress),
                          pytest.approx(1 / 3), "off_track")
    assert rows["H2"] == ("2025", 1.0, 1.0, 0.5, "achieved")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_plan_page_shows_the_aim_2_targets_by_name(planned, lang):
    at = open_page("plan", lang)
    text = " ".join(df.value.to_string() for df in at.dataframe)
    assert t("dash.harmonisation.index_name", lang) in text
    assert load_contracts().indicator_name("PF_ACTION_PLAN", lang) in text
    assert t("dash.plan.status.achieved", lang) in text
    assert t("dash.plan.status.off_track", lang) in text


def test_the_index_leaves_unknown_apart_and_the_region_averages_members(reported):
    rows = {(r[0], r[1]): r[2:] for r in snapshot_rows(
        "select ref_area, year, index_value, n_known, n_unknown, n_countries "
        "from marts.harmonisation_index")}
    n = len(ITEMS)
    gtm_2024 = (n - 2 + 0.5) / n  # one no, one partial
    gtm_2025 = 1.0  # every known item yes; statistics unknown, not 0
    hnd_2025 = 0.5  # one yes, one no, the rest unknown
    assert rows[("GTM", 2024)] == (pytest.approx(gtm_2024, abs=1e-4), n, 0, 1)
    assert rows[("GTM", 2025)] == (1.0, n - 1, 1, 1)
    assert rows[("HND", 2025)] == (0.5, 2, n - 2, 1)
    assert rows[("REG", 2025)][0] == pytest.approx((gtm_2025 + hnd_2025) / 2)
    assert rows[("REG", 2025)][3] == 2


def test_the_matrix_says_what_changed_and_the_gaps_who_differs(reported):
    changed = snapshot_rows("select item, previous_status, status from marts.harmonisation_matrix "
                            "where ref_area = 'GTM' and year = 2025 and changed order by item")
    # a move to or from "unknown" is a change in what is reported, shown like the others
    assert changed == [("PF_ACTION_PLAN", "no", "yes"), ("PF_REFERRAL_MECHANISM", "partial", "yes"),
                       ("PF_STATISTICS_PUBLISHED", "yes", "unknown")]
    # the accepted version is final (A); the operator's loads stay provisional (P)
    assert dict(snapshot_rows("select ref_area || year, min(obs_status) from "
                              "marts.harmonisation_matrix group by 1")) == {
        "GTM2024": "P", "GTM2025": "A", "HND2025": "P"}
    gaps = {r[0]: r[1:] for r in snapshot_rows(
        "select item, differs, members_not_aligned from marts.harmonisation_gaps "
        "where year = 2025")}
    assert gaps["PF_SPECIALISED_PROSECUTION"] == (True, "HND")
    assert gaps["PF_TIP_PROTOCOL_PARTY"] == (False, "")
    assert gaps["PF_NON_PUNISHMENT"] == (False, "")  # HND unknown: not a difference


def test_the_export_writes_harmonisation_csv_and_its_sheet(reported, planned, tmp_path):
    out = tmp_path / "export"
    code, stdout, err = run("export", "--format", "csv", "xlsx", "--out", str(out))
    assert code == 0, stdout + err
    with (out / "harmonisation.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["ref_area", "year", "item", "status", "reference", "date",
                             "valid_until", "index_value", "previous_status", "obs_status",
                             "is_illustrative"]
    assert len(rows) == 3 * len(ITEMS)
    plan = next(r for r in rows if r["ref_area"] == "GTM" and r["year"] == "2025"
                and r["item"] == "PF_ACTION_PLAN")
    assert (plan["status"], plan["date"], plan["valid_until"], plan["previous_status"]) == (
        "yes", "2025-01-01", "2029-12-31", "no")
    assert float(plan["index_value"]) == 1.0 and plan["is_illustrative"] == "false"
    book = openpyxl.load_workbook(out / next(p.name for p in out.iterdir()
                                             if p.suffix == ".xlsx"), read_only=True)
    assert t("export.sheet.harmonisation", "en") in book.sheetnames

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"harmonisation.csv", "plan_progress.csv"} <= {f["file"] for f in manifest["files"]}
    # the evaluator reads, per target, baseline, target, actual and status in the same export
    with (out / "plan_progress.csv").open(encoding="utf-8-sig") as f:
        targets = {r["objective_id"]: r for r in csv.DictReader(f)}
    assert (targets["H2"]["baseline_value"], targets["H2"]["target_value"],
            targets["H2"]["actual_period"], targets["H2"]["status"]) == ("0", "1", "2025",
                                                                        "achieved")
    assert manifest["plan"]["version"] == 1


def test_as_of_a_past_day_has_no_report_sent_after_it(reported, tmp_path):
    from pipelines.lib.vintage import build_vintage

    # receipts are stamped with the real clock: every report here came after yesterday (today's
    # vintage is the current snapshot, checked in the export above)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with duckdb.connect(str(build_vintage(get_settings(), yesterday, tmp_path)), read_only=True
                        ) as con:
        assert con.execute("select count(*) from raw.policy_reports").fetchone()[0] == 0
        assert con.execute("select count(*) from marts.harmonisation_matrix").fetchone()[0] == 0


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_harmonisation_page_shows_the_matrix_changes_and_gaps(reported, lang):
    at = open_page("harmonisation", lang)
    assert at.title[0].value == t("dash.harmonisation.title", lang)
    assert not at.warning  # real reports: no "illustrative" banner
    subheaders = [s.value for s in at.subheader]
    assert t("dash.harmonisation.matrix_heading", lang, year=2025) in subheaders
    text = " ".join(df.value.to_string() for df in at.dataframe)
    contracts = load_contracts()
    plan_name = contracts.indicator_name("PF_ACTION_PLAN", lang)
    assert plan_name in text  # what changed since 2024
    assert contracts.indicator_name("PF_SPECIALISED_PROSECUTION", lang) in text  # a gap
    yes = contracts.datasets[DATASET].status["yes"][lang]
    assert yes in text
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [matrix] = [spec for spec in specs if spec["data"][0]["type"] == "heatmap"]
    hover = json.dumps(matrix["data"][0]["customdata"])
    assert "&lt;a href=" in hover and "<a href" not in hover and "<img" not in hover


def test_the_reviewer_reads_a_policy_report_beside_the_year_before(reported):
    """GTM 2024 awaits review (sent by the operator): the review page shows its answers with
    their references and dates in the reader's language, not the statistics' figures table."""
    from dashboards.workflow_ui import TOKEN_KEY

    st.cache_data.clear()
    at = AppTest.from_file(str(APP.parent / "views" / "review.py"), default_timeout=60)
    at.session_state["lang"] = "fr"
    at.session_state[TOKEN_KEY] = AuthStore(get_settings()).sign_in("rita", PASSWORD)
    at.run()
    pick = at.selectbox(key="wf.review.pick")
    [gtm_2024] = [o for o in pick.options if o.startswith(f"GTM · {DATASET}")]
    pick.select(gtm_2024).run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("workflow.review.items", "fr") in [s.value for s in at.subheader]
    items = at.dataframe[-1].value
    contracts = load_contracts()
    by_item = items.set_index(t("dash.harmonisation.col.item", "fr"))
    plan = by_item.loc[contracts.indicator_name("PF_ACTION_PLAN", "fr")]
    assert plan[t("dash.harmonisation.col.now", "fr")] == "Non"
    referral = by_item.loc[contracts.indicator_name("PF_REFERRAL_MECHANISM", "fr")]
    assert referral[t("dash.harmonisation.col.reference", "fr")] == "Ley pf_referral_mechanism 2024"
    assert len(items) == len(ITEMS)


@pytest.mark.browser
def test_the_harmonisation_page_in_a_browser(reported, home, tmp_path):
    """Served by ``streamlit run`` in Debian's headless Chromium: the matrix drawn with each
    status written in its cell, in Spanish, then in French through the sidebar; a screenshot
    under test-artifacts/."""
    from playwright.sync_api import expect, sync_playwright

    from tests.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_MS, serve_dashboard

    status = load_contracts().datasets[DATASET].status
    ARTIFACTS.mkdir(exist_ok=True)
    with serve_dashboard(home, tmp_path / "streamlit.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.goto(f"{url}/harmonisation?lang=es")
            expect(page.get_by_role("heading", name=t("dash.harmonisation.title", "es"))
                   ).to_be_visible(timeout=RENDER_TIMEOUT_MS)
            matrix = page.locator(".st-key-harmonisation_matrix .js-plotly-plot")
            matrix.first.wait_for()
            expect(matrix.get_by_text(status["yes"]["es"], exact=True).first).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            expect(matrix.get_by_text(status["unknown"]["es"], exact=True).first).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
            page.locator(".st-key-harmonisation_index .js-plotly-plot").first.wait_for()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "dashboard_harmonisation_es.png"), full_page=True)

            page.get_by_test_id("stSidebar").get_by_role("radio", name="Français").click()
            expect(page.get_by_role("heading", name=t("dash.harmonisation.title", "fr"))
                   ).to_be_visible(timeout=RENDER_TIMEOUT_MS)
            expect(matrix.get_by_text(status["unknown"]["fr"], exact=True).first).to_be_visible(
                timeout=RENDER_TIMEOUT_MS)
        finally:
            browser.close()
