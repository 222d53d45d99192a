"""Every workflow page × every role (and no sign-in), run in-process with AppTest against a
published home: each page checks the role on the server side itself, whatever the navigation
shows; a submitter only ever sees its own country."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
import streamlit as st
from conftest import ACCOUNTS, sign_in
from streamlit.testing.v1 import AppTest

from dashboards.workflow_ui import TOKEN_KEY, audit_csv, report_xlsx
from pipelines.lib.auth import AuthStore, User, can
from pipelines.lib.findings import Finding
from pipelines.lib.i18n import t
from pipelines.lib.intake import FileOutcome, UnitOutcome
from pipelines.lib.publish import current_snapshot
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
    from dashboards.ui import plain

    for account, country, other in (("ana", "GTM", "HND"), ("hugo", "HND", "GTM")):
        at = run_page("my_submissions.py", sign_in(account))
        table = at.dataframe[0].value
        assert len(table) == 4 and len(at.selectbox[0].options) == 4
        units = [x.value for x in [*at.success, *at.warning, *at.error]]
        # The country as the file states it, shown as text (a code span)
        assert any(f"· {plain(country)} ·" in u for u in units)
        assert not any(other in u for u in units)


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_my_submissions_says_where_each_version_stands_in_its_own_colour(workflow_home, lang):
    """The report below is what validation said on receipt; the box above it is the version's
    state now (GTM's victims: warnings not yet explained; its other data sets: waiting)."""
    at = run_page("my_submissions.py", sign_in("ana"), lang=lang)
    seen = {}
    for option in at.selectbox[0].options:
        at.selectbox[0].set_value(option).run()
        dataset = option.split(" · ")[0]
        seen[dataset] = ([w.value for w in at.warning], [i.value for i in at.info])
    warnings, _ = seen["TIP_VICTIMS"]
    assert t("workflow.mine.now.unexplained", lang) in warnings
    for dataset, (_, infos) in seen.items():
        if dataset != "TIP_VICTIMS":
            assert t("workflow.mine.now.validated", lang) in infos, dataset


def test_a_submitters_template_is_for_its_own_country_only(workflow_home):
    at = run_page("template.py", sign_in("hugo"))
    country = at.selectbox(key="wf.template.country")
    assert country.options == ["Honduras (HND)"] and country.disabled
    assert at.get("download_button")
    # Only the quarters it can still send (2026-Q2's window closed on 2026-10-28).
    assert at.selectbox(key="wf.template.quarter").options == ["2026-Q3"]
    assert at.caption[0].value.startswith(
        "82 mandatory cells and 206 rows offered for other figures in 5 sheets.")
    # The annual legal and policy framework: a year, the one whose window is still open.
    at.radio(key="wf.template.kind").set_value(True).run()
    assert at.selectbox(key="wf.template.year").options == ["2025"]
    assert at.multiselect(key="wf.template.datasets.annual").value == ["POLICY_FRAMEWORK"]
    assert at.caption[0].value.startswith("13 mandatory cells and 0 rows offered")
    at = run_page("template.py", sign_in("rita"))
    assert len(at.selectbox(key="wf.template.country").options) == 8
    quarters = at.selectbox(key="wf.template.quarter").options
    assert quarters[:2] == ["2026-Q3", "2026-Q2 (closed: only under an exception)"]
    at.radio(key="wf.template.kind").set_value(True).run()
    assert at.selectbox(key="wf.template.year").options[:2] == [
        "2025", "2024 (closed: only under an exception)"]


def test_the_review_queue_and_the_audit_trail(workflow_home):
    at = run_page("review.py", sign_in("rita"), lang="es")
    queue = at.dataframe[0].value
    assert sorted(queue[t("workflow.col.country", "es")].unique()) == ["GTM", "HND"]
    assert len(queue) == 8
    # Lateness of the version, and the quarter's timeliness as every on-time rate counts it:
    # read from the same mart as the overview's and the quality page's.
    assert t("workflow.col.version_late", "es") in queue.columns
    assert t("workflow.review.late_note", "es") in [c.value for c in at.caption]
    snapshot = current_snapshot(get_settings())
    with duckdb.connect(str(snapshot), read_only=True) as con:
        mart = {(c, d, p): bool(n) for c, d, p, n in con.execute(
            "select ref_area, dataset, time_period, units_on_time from marts.dq_reporting_rates "
            "where freq = 'Q' and ref_area <> 'REG' and dataset <> '_T'").fetchall()}
    shown = {(r[t("workflow.col.country", "es")], r[t("workflow.col.dataset", "es")],
              r[t("workflow.col.period", "es")]): r[t("workflow.col.quarter_on_time", "es")]
             for _, r in queue.iterrows()}
    assert len(shown) == 8 and shown == {key: mart[key] for key in shown}
    at = run_page("audit.py", sign_in("adm"))
    events = at.dataframe[0].value
    assert {"received", "status"} <= set(events["action"])
    assert set(events.loc[events["action"] == "received", "actor"]) == {"ana", "hugo"}


def test_the_reviewer_reads_the_figures_beside_the_previous_version(workflow_home, tmp_path):
    """The first version: its cells beside the four quarters before (none yet). A second version
    with two more victims of unknown sex: the changed cells are marked, counted, and can be shown
    alone; the figures come from the member's own store, not the public snapshot."""
    from conftest import QUARTER, UNKNOWN_VICTIMS, template_file

    from pipelines.defs.local import run_here
    from pipelines.lib.upload import store_upload
    from pipelines.orchestrator import submit_upload

    at = run_page("review.py", sign_in("rita"), lang="es")
    at.selectbox(key="wf.review.pick").select_index(0)  # first in the queue
    label = at.selectbox(key="wf.review.pick").value
    figures = at.dataframe[-1].value
    assert figures.columns[:2].tolist() == ["Indicador", "Desglose"]
    assert figures.columns[-1] == "2025-Q3 (un año antes)"
    assert figures.iloc[:, 2].notna().all() and figures.iloc[:, -4:].isna().all().all()
    assert any(c.value.startswith("Primera versión válida de 2026-Q3") for c in at.caption), label

    settings = get_settings()
    data = template_file(tmp_path, "GTM", UNKNOWN_VICTIMS + 2).read_bytes()
    result = submit_upload(settings, store_upload(settings, data, "xlsx"), actor="ana",
                           country="GTM", runner=run_here(settings))
    assert result.ok, result.error
    st.cache_data.clear()
    at = run_page("review.py", sign_in("rita"), lang="fr")
    pick = at.selectbox(key="wf.review.pick")
    [second] = [o for o in pick.options if o.startswith("GTM · TIP_VICTIMS")]
    pick.select(second).run()
    figures = at.dataframe[-1].value
    assert {"Indicateur", "Ventilation", f"{QUARTER} · v2", "v1", "Changement"} <= set(figures)
    unknown_sex = figures[(figures["Ventilation"].str.startswith("Inconnu"))
                          & (figures["Indicateur"] == "Victimes de la traite détectées")]
    assert (unknown_sex[f"{QUARTER} · v2"] - unknown_sex["v1"] == 2).any()
    assert set(figures["Changement"]) == {"", "modifiée"}
    [caption] = [c.value for c in at.caption if c.value.startswith("Par rapport à la version 1")]
    changed = (figures["Changement"] == "modifiée").sum()
    assert f"modifiées {changed} · nouvelles 0 · retirées 0" in caption
    at.toggle(key=f"wf.review.changed.{at.session_state['wf.review.pick']}").set_value(True).run()
    assert len(at.dataframe[-1].value) == changed


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


def test_the_validation_report_downloads_as_xlsx_in_the_users_language():
    """The XLSX report holds each finding with its sheet, row, column, value and the message in
    the reader's language (no pipeline needed: the report of one unit with a known finding)."""
    negative = Finding.make("V03", "finding.value_negative", sheet="TIP_VICTIMS", row=12,
                            column="value", value="-3", dataset="TIP_VICTIMS").as_dict()
    unknowns = Finding.make("V09", "finding.value_negative", severity="WARNING", value="=1+1",
                            dataset="TIP_VICTIMS").as_dict()
    unit = UnitOutcome("s1", "TIP_VICTIMS", "GTM", "2026-Q3", 1, "rejected", 1, 1, False,
                       [negative, unknowns])
    outcome = FileOutcome("GTM 2026-Q3.xlsx", "ab" * 32, False, "2026-11-28T10:00:00",
                          units=[unit])
    for lang in ("es", "en"):
        workbook = openpyxl.load_workbook(io.BytesIO(report_xlsx(outcome, [unit], lang)))
        assert workbook.sheetnames == [t("workflow.report.title", lang)[:31]]
        rows = list(workbook.active.iter_rows(values_only=True))
        assert rows[0][0] == t("workflow.report.file", lang, name="GTM 2026-Q3.xlsx",
                               sha="ab" * 8)
        header = [t(f"workflow.report.col.{c}", lang) for c in (
            "severity", "rule", "dataset", "sheet", "row", "column", "value", "message")]
        assert rows[3] == tuple(header)
        assert rows[4] == (t("workflow.severity.ERROR", lang), "V03", "TIP_VICTIMS",
                           "TIP_VICTIMS", 12, "value", "-3",
                           t("finding.value_negative", lang, value="-3"))
        assert rows[5][:2] == (t("workflow.severity.WARNING", lang), "V09")
        assert rows[5][3:7] == ("", None, "", "=1+1")  # no sheet or row
        assert workbook.active.cell(6, 7).data_type == "s"  # text, not a formula
        assert len(rows) == 6
    assert negative["message_es"].startswith("El valor -3 es negativo")
    assert negative["message_en"].startswith("The value -3 is negative")


def test_the_audit_page_filters_and_exports_what_it_shows(workflow_home, monkeypatch):
    downloads = []
    real_download = st.download_button

    def recording_download(label, data, *args, **kwargs):
        downloads.append(data)
        return real_download(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording_download)
    at = run_page("audit.py", sign_in("rita"))
    everything = at.dataframe[0].value
    assert {"ana", "hugo"} <= set(everything["actor"])
    at.text_input(key="wf.audit.actor").input("HUGO").run()
    at.multiselect(key="wf.audit.actions").set_value(["received"]).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.dataframe[0].value
    assert len(shown) == 1 and shown.iloc[0]["actor"] == "hugo"
    assert shown.iloc[0]["action"] == "received"
    assert at.caption[0].value == t("workflow.audit.count", "en", shown=1,
                                    total=len(everything))
    exported = list(csv.DictReader(io.StringIO(downloads[-1].decode("utf-8-sig"))))
    assert [(r["actor"], r["action"]) for r in exported] == [("hugo", "received")]
    assert exported[0]["event_id"] and json.loads(exported[0]["details"])["channel"] == "upload"


def test_the_tables_own_csv_download_is_off_as_streamlit_reads_the_settings(monkeypatch):
    """The tables' hover toolbar would write cells raw (a user's "=HYPERLINK(...)"): it is off
    in .streamlit/config.toml, under the name this Streamlit reads (it ignores unknown ones)."""
    from streamlit import config

    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # where `streamlit run` starts
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("client.disableDataExport") is True
    finally:
        config.get_config_options(force_reparse=True)


def test_the_audit_export_neutralises_formula_cells():
    events = pd.DataFrame({"actor": ["rita", "@evil"], "version": [1, -2],
                           "reason": ['=HYPERLINK("http://x","y")', "fine - really"],
                           "details": ["+1", "\tcmd"]})
    rows = list(csv.reader(io.StringIO(audit_csv(events).decode("utf-8-sig"))))
    assert rows == [["actor", "version", "reason", "details"],
                    ["rita", "1", "'=HYPERLINK(\"http://x\",\"y\")", "'+1"],
                    ["'@evil", "-2", "fine - really", "'\tcmd"]]


def test_the_submit_page_keeps_saying_a_resent_file_was_received_before(workflow_home):
    """The page reads the report again on every rerun: the 'already received' note must stay."""
    import duckdb as db

    from pipelines.settings import get_settings

    with db.connect(str(get_settings().warehouse_path), read_only=True) as con:
        [(sha,)] = con.execute("select distinct file_sha256 from raw.submissions "
                               "where country = 'GTM'").fetchall()
    for duplicate in (True, False):
        at = AppTest.from_file(str(VIEWS / "submit.py"), default_timeout=60)
        at.session_state["lang"] = "en"
        at.session_state[TOKEN_KEY] = sign_in("ana")
        at.session_state["wf.submit.last_report"] = (sha, duplicate)
        at.run()
        assert not at.exception
        notes = [i.value for i in at.info]
        assert (t("workflow.report.duplicate", "en") in notes) is duplicate


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_a_decision_with_no_orchestrator_says_so_and_records_nothing(workflow_home, monkeypatch,
                                                                      lang):
    """The page hands its job to the orchestrator; when none answers (or one serving another
    home), the reviewer reads why in their language, and the warehouse is untouched."""
    import duckdb as db

    from pipelines.settings import get_settings
    from tests.served import free_port

    monkeypatch.setenv("OBSERVATORY_OPERATOR_URL", f"http://127.0.0.1:{free_port()}")
    warehouse = get_settings().warehouse_path
    before = warehouse.read_bytes()
    at = run_page("review.py", sign_in("rita"), lang=lang)
    at.text_area(key="wf.review.reason").input("Faltan los datos de Petén")
    at.button(key="wf.review.return").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("workflow.orchestrator_down", lang)]
    assert warehouse.read_bytes() == before
    with db.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.audit_events "
                           "where action = 'status' and to_status = 'returned'").fetchone() == (0,)


def test_an_explanation_is_labelled_by_its_unit_and_the_rules_to_explain():
    from dashboards.workflow_ui import unit_label

    findings = [{"rule": "V10", "severity": "WARNING"}, {"rule": "V09", "severity": "WARNING"},
                {"rule": "V10", "severity": "WARNING"}, {"rule": "V05", "severity": "ERROR"}]
    assert unit_label("TIP_VICTIMS", "2026-Q3", 2, "es", findings) == (
        "TIP_VICTIMS · 2026-Q3 · versión 2 · advertencias V09, V10")
    assert unit_label("TIP_VICTIMS", "2026-Q3", 2, "fr") == "TIP_VICTIMS · 2026-Q3 · version 2"


def test_a_changed_cell_is_shown_in_words():
    from dashboards.workflow_ui import cell_in_words

    cell = ("VIC_DETECTED · sex=_U · age=Y0T17 · exploitation_form=_T · citizenship=_T · "
            "identification_channel=_T")
    assert cell_in_words(cell, "es") == "Víctimas de trata detectadas · Desconocido · " \
        "Niñas y niños (menores de 18)"
    assert cell_in_words("REF_SENT · counterpart_area=HND", "fr").endswith("· Honduras")


def test_my_submissions_shows_an_explanation_just_recorded(workflow_home):
    """An explanation recorded in this session shows at once, before the snapshot that holds it
    (the page keeps the ids it explained): not "warnings not yet explained"."""
    from dashboards.workflow_ui import EXPLAINED

    at = run_page("my_submissions.py", sign_in("ana"), lang="fr")
    option = next(o for o in at.selectbox[0].options if o.startswith("TIP_VICTIMS"))
    at.selectbox[0].set_value(option).run()
    assert t("workflow.mine.now.unexplained", "fr") in [w.value for w in at.warning]
    at.session_state[EXPLAINED] = {at.selectbox[0].value}
    at.run()
    assert t("workflow.mine.now.explained", "fr") in [i.value for i in at.info]
    assert t("workflow.mine.now.unexplained", "fr") not in [w.value for w in at.warning]


def test_my_submissions_says_a_file_just_sent_is_on_its_way(workflow_home):
    """A version the published snapshot does not hold yet (here: the report of a file as if just
    received, with a submission id no snapshot has) is announced, not silently missing."""
    import json

    import duckdb as db

    from pipelines.lib.reports import report_path
    from pipelines.settings import get_settings

    settings = get_settings()
    with db.connect(str(settings.warehouse_path), read_only=True) as con:
        [(sha,)] = con.execute("select distinct file_sha256 from raw.submissions "
                               "where country = 'GTM'").fetchall()
    at = run_page("my_submissions.py", sign_in("ana"))
    at.session_state["wf.submit.last_report"] = (sha, False)
    at.run()
    assert not [i for i in at.info if "dashboard is updated" in i.value]  # all published

    report = json.loads(report_path(settings, sha).read_text(encoding="utf-8"))
    for unit in report["units"]:
        if unit.get("submission_id"):
            unit["submission_id"] = "new-" + unit["submission_id"]
            unit["version"] += 1
    fresh = "f" * 64
    report["sha256"] = fresh
    report_path(settings, fresh).write_text(json.dumps(report), encoding="utf-8")
    (settings.archive_dir / fresh).write_bytes((settings.archive_dir / sha).read_bytes())
    at.session_state["wf.submit.last_report"] = (fresh, False)
    at.run()
    assert not at.exception
    [note] = [i.value for i in at.info if "dashboard is updated" in i.value]
    assert note.startswith("Your last file is being published: ")
    # ... and listed at once with what the run recorded; the versions it replaces say so
    table = at.dataframe[0].value.set_index(t("workflow.col.submission", "en"))
    status = t("workflow.col.status", "en")
    for unit in report["units"]:
        if not unit.get("submission_id"):
            continue
        new_id = unit["submission_id"]
        assert table.loc[new_id, status] == t(f"workflow.status.{unit['status']}", "en")
        assert table.loc[new_id, t("workflow.col.version", "en")] == unit["version"]
        if unit["status"] != "rejected":
            assert table.loc[new_id.removeprefix("new-"), status] == t(
                "workflow.status.superseded", "en")
    at.selectbox[0].set_value(new_id).run()  # its report, from the run
    assert not at.exception and at.selectbox[0].value == new_id
    assert t("workflow.report.title", "en") in [h.value for h in at.subheader]
    report_path(settings, fresh).unlink()
    (settings.archive_dir / fresh).unlink()


def test_my_submissions_shows_a_decision_recorded_before_its_snapshot(workflow_home, monkeypatch):
    """The secretariat returned GTM's victims version a moment ago: its run recorded the decision
    but the snapshot that holds it is not built yet. The ministry reads it at once, from the
    run (``pipelines.orchestrator.decisions_since``, served for real in the browser journey)."""
    import datetime as dt

    from dashboards.ui import plain
    from pipelines import orchestrator

    at = run_page("my_submissions.py", sign_in("ana"), lang="es")
    option = next(o for o in at.selectbox[0].options if o.startswith("TIP_VICTIMS"))
    at.selectbox[0].set_value(option).run()
    submission = at.selectbox[0].value
    asked = []

    def recorded(since, country):
        asked.append((since, country))
        return [{"action": "return", "submission_id": submission, "country": "GTM",
                 "to_status": "returned", "reason": "Faltan 6 víctimas", "by": "rita",
                 "at": dt.datetime.now(dt.UTC).isoformat()}]

    monkeypatch.setattr(orchestrator, "decisions_since", recorded)
    at.run()
    assert asked and asked[0][1] == "GTM"
    [now] = [w.value for w in at.warning if w.value.startswith("Ahora: devuelta por")]
    assert plain("rita") in now and f"Motivo: {plain('Faltan 6 víctimas')}" in now
    table = at.dataframe[0].value
    assert t("workflow.status.returned", "es") in set(table[t("workflow.col.status", "es")])
    # What validation said on receipt stays below, but not in the colours of a state.
    assert not [w for w in at.warning if "TIP_VICTIMS" in w.value]
    assert [i for i in at.info if "TIP_VICTIMS" in i.value]


def test_a_decision_older_than_the_snapshots_changes_nothing():
    """Only what a run recorded after the snapshot's own state replaces it; naive and aware
    times compare as UTC; a decision about a submission not listed is left out."""
    import pandas as pd

    from dashboards.workflow_ui import with_decisions

    frame = pd.DataFrame({
        "submission_id": ["a", "b"], "current_status": ["accepted", "validated"],
        "status_changed_at": [pd.Timestamp("2026-12-07 10:00"), pd.NaT],
        "status_reason": [None, None], "status_changed_by": ["rita", None],
        "explanation": [None, None], "explained_at": [pd.NaT, pd.NaT], "explained_by": [None, None]})
    decisions = [
        {"submission_id": "a", "to_status": "returned", "reason": "old", "by": "rita",
         "at": "2026-12-07T09:00:00+00:00"},  # before the snapshot's acceptance
        {"submission_id": "b", "explanation": "registro policial", "by": "ana",
         "at": "2026-12-07T11:00:00+00:00"},
        {"submission_id": "c", "to_status": "accepted", "by": "rita",
         "at": "2026-12-07T11:00:00+00:00"}]
    shown = with_decisions(frame, decisions)
    assert list(shown["current_status"]) == ["accepted", "validated"]
    assert list(shown["explanation"]) == [None, "registro policial"]
    assert shown.at[1, "explained_by"] == "ana"
    assert len(shown) == 2
    assert frame.at[1, "explanation"] is None  # the snapshot's own frame is left as it was
