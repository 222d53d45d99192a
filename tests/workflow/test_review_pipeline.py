"""The workflow through the real pipeline: a downloaded template round-trips; warnings need an
explanation; the secretariat accepts through the Dagster review job (figures final, quarter
locked) or returns with a reason; a lock exception re-opens the quarter (never one ending in the
past); a submitter's window closes after 120 days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from conftest import QUARTER, UNKNOWN_VICTIMS, sign_in, template_file
from streamlit.testing.v1 import AppTest

from dashboards.workflow_ui import TOKEN_KEY
from pipelines import orchestrator
from pipelines.defs.local import run_here
from pipelines.lib.i18n import t
from pipelines.lib.intake import Delivery, take_in
from pipelines.lib.publish import current_snapshot
from pipelines.lib.reports import version_changes
from pipelines.lib.review import Decision, ReviewRefused, apply_decision
from pipelines.settings import get_settings


def run_review(settings, decision):
    """The review job run here: these tests are about the job; the orchestrated path is tested
    on a served instance (test_workflow_browser.py, tests/integration/test_make_run.py)."""
    return orchestrator.run_review(settings, decision, runner=run_here(settings))

VIEWS = Path(__file__).resolve().parents[2] / "dashboards" / "views"


def snapshot_rows(sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(current_snapshot(get_settings())), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def gtm_victims() -> tuple:
    return snapshot_rows(
        "select submission_id, file_sha256, current_status, n_warnings, is_ready_for_review "
        "from marts.submissions_status where country = 'GTM' and dataset = 'TIP_VICTIMS' "
        "order by version desc")[0]


def test_the_filled_template_is_taken_in_as_is_and_published(workflow_home):
    rows = snapshot_rows("select country, dataset, version, current_status, n_errors, channel, "
                         "submitted_by, file_name from marts.submissions_status order by 1, 2")
    assert {(r[0], r[1]) for r in rows} == {
        (c, d) for c in ("GTM", "HND")
        for d in ("SOM_JUSTICE", "SOM_MIGRANTS", "TIP_JUSTICE", "TIP_VICTIMS")}
    assert all(r[2] == 1 and r[3] == "validated" and r[4] == 0 and r[5] == "upload" for r in rows)
    assert {r[6] for r in rows if r[0] == "GTM"} == {"ana"}
    # The name the user uploaded, not the generated one the file was stored under.
    assert {(r[0], r[7]) for r in rows} == {("GTM", f"GTM {QUARTER}.xlsx"),
                                            ("HND", f"HND {QUARTER}.xlsx")}
    assert {r[0] for r in snapshot_rows("select file_name from marts.audit_trail "
                                        "where action = 'received'")} == {
        f"GTM {QUARTER}.xlsx", f"HND {QUARTER}.xlsx"}
    _, _, status, warnings, ready = gtm_victims()
    assert (status, warnings, ready) == ("validated", 3, False)  # V09 x3, not yet explained


def test_explain_then_accept_makes_the_quarter_final_and_locked(workflow_home, tmp_path):
    settings = get_settings()
    submission, sha, *_ = gtm_victims()
    reviewer = {"actor": "rita", "actor_role": "reviewer"}

    refused = run_review(settings, Decision("accept", submission_id=submission, **reviewer))
    assert (refused.ok, refused.key) == (False, "workflow.refused.unexplained_warnings")
    # Another country's submitter, and a submitter accepting: refused.
    assert run_review(settings, Decision("explain", "hugo", "submitter", "HND", submission,
                                         "no")).key == "workflow.refused.forbidden"
    assert run_review(settings, Decision("accept", "ana", "submitter", "GTM", submission)
                      ).key == "workflow.refused.forbidden"

    explained = run_review(settings, Decision("explain", "ana", "submitter", "GTM", submission,
                                              "The police registry does not record sex or age."))
    assert explained.ok and explained.published
    assert gtm_victims()[4] is True  # ready for review

    accepted = run_review(settings, Decision("accept", reason="ok", submission_id=submission,
                                             **reviewer))
    assert accepted.ok and accepted.published, accepted
    assert gtm_victims()[2] == "accepted"
    # the run says which unit it decided and what became of it (the operator's runs list)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name="review_job",
                                                tags={"observatory/result": "accepted"}))
        assert {k: run.tags[k] for k in ("observatory/countries", "observatory/datasets",
                                          "observatory/periods")} == {
            "observatory/countries": "GTM", "observatory/datasets": "TIP_VICTIMS",
            "observatory/periods": QUARTER}
    statuses = snapshot_rows(
        "select distinct obs_status from marts.indicator_values_published where ref_area = 'GTM' "
        "and time_period = ? and indicator_code = 'VIC_DETECTED'", [QUARTER])
    assert statuses == [("A",)]
    events = snapshot_rows("select action, actor, to_status from marts.audit_trail "
                           "where submission_id = ? order by occurred_at", [submission])
    assert events[-2:] == [("explanation", "ana", None), ("status", "rita", "accepted")]
    again = run_review(settings, Decision("return", reason="x", submission_id=submission,
                                          **reviewer))
    assert again.key == "workflow.refused.not_validated"

    # The accepted quarter is locked for its submitter ...
    resent = template_file(tmp_path, "GTM", UNKNOWN_VICTIMS + 1)
    [outcome] = take_in([Delivery(resent, channel="upload", actor="ana", submitter_country="GTM",
                                  role="submitter")], settings)
    victims = next(u for u in outcome.units if u.dataset == "TIP_VICTIMS")
    assert victims.status == "rejected"
    assert [f["rule"] for f in victims.findings if f["severity"] == "ERROR"] == ["V07"]
    # The file's other data sets, the same as before, are left as they were: no new version.
    others = {u.dataset: (u.status, u.version) for u in outcome.units if u.dataset != "TIP_VICTIMS"}
    assert others and {status for status, _ in others.values()} == {"unchanged"}, others
    # ... until the secretariat grants an exception.
    granted = apply_decision(settings, Decision(
        "grant_exception", "rita", "reviewer", country="GTM", dataset="TIP_VICTIMS",
        period=QUARTER, valid_until="2026-12-31", reason="typo in the police figures"))
    assert granted["valid_until"] == "2026-12-31"
    third = template_file(tmp_path, "GTM", UNKNOWN_VICTIMS + 2)
    [outcome] = take_in([Delivery(third, channel="upload", actor="ana", submitter_country="GTM",
                                  role="submitter")], settings)
    victims = next(u for u in outcome.units if u.dataset == "TIP_VICTIMS")
    assert (victims.status, victims.version) == ("validated", 3)
    changes = version_changes(settings, sha, outcome.sha256, "TIP_VICTIMS")
    assert {"cell": "VIC_DETECTED · sex=_U · age=_U · exploitation_form=_T · citizenship=_T · "
                    "identification_channel=_T", "before": "7", "after": "9"} in changes


def test_a_submitter_cannot_send_after_the_window_nor_for_another_country(workflow_home,
                                                                       fixture_path):
    settings = get_settings()
    [late] = take_in([Delivery(fixture_path("valid_gtm_2024q1_utf8.csv"), channel="upload",
                               actor="ana", submitter_country="GTM", role="submitter")], settings)
    assert {f["rule"] for u in late.units for f in u.findings if f["severity"] == "ERROR"} == {"V07"}
    [other] = take_in([Delivery(template_file(workflow_home, "HND"), channel="upload",
                                actor="ana", submitter_country="GTM", role="submitter")], settings)
    assert all(u.status == "rejected" for u in other.units)
    assert {f["rule"] for u in other.units for f in u.findings if f["severity"] == "ERROR"} == {"V02"}


def test_a_reviewer_returns_a_submission_with_a_reason(workflow_home):
    """Return: a reason is required (refused before any run starts, and again in the job); with
    one, the submission is 'returned', the reason is stored, audited and shown to the ministry."""
    settings = get_settings()
    [(submission,)] = snapshot_rows(
        "select submission_id from marts.submissions_status where country = 'HND' "
        "and dataset = 'TIP_JUSTICE'")
    reviewer = {"actor": "rita", "actor_role": "reviewer", "submission_id": submission}

    empty = run_review(settings, Decision("return", reason="  \n", **reviewer))
    assert (empty.ok, empty.key) == (False, "workflow.refused.reason_required")
    assert t(empty.key, "es") == "Escriba un motivo." and t(empty.key, "en") == "Write a reason."
    with pytest.raises(ReviewRefused) as refused:  # the job's own check, under the lock
        apply_decision(settings, Decision("return", reason="", **reviewer))
    assert refused.value.key == "workflow.refused.reason_required"

    reason = "=Las cifras de enjuiciamientos no cuadran con el informe anual 2026."
    returned = run_review(settings, Decision("return", reason=reason, **reviewer))
    assert returned.ok and returned.published, returned
    at = returned.written.pop("at")  # when it was recorded, for the pages to compare
    assert returned.written == {"action": "return", "submission_id": submission, "country": "HND",
                                "dataset": "TIP_JUSTICE", "period": QUARTER,
                                "from_status": "validated", "to_status": "returned",
                                "reason": reason, "by": "rita"}
    [(status, why, changed)] = snapshot_rows(
        "select current_status, status_reason, status_changed_at from marts.submissions_status "
        "where submission_id = ?", [submission])
    assert (status, why) == ("returned", reason)
    assert (changed if changed.tzinfo else changed.replace(tzinfo=dt.UTC)) \
        == dt.datetime.fromisoformat(at)
    assert snapshot_rows(
        "select actor, from_status, to_status, reason from marts.audit_trail "
        "where submission_id = ? and action = 'status' order by occurred_at desc limit 1",
        [submission]) == [("rita", "validated", "returned", reason)]

    # Shown to the ministry on "My submissions", in its language.
    at = AppTest.from_file(str(VIEWS / "my_submissions.py"), default_timeout=60)
    at.session_state["lang"] = "es"
    at.session_state[TOKEN_KEY] = sign_in("hugo")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    row = table[table[t("workflow.col.submission", "es")] == submission].iloc[0]
    assert row[t("workflow.col.status", "es")] == t("workflow.status.returned", "es")
    assert row[t("workflow.col.reason", "es")] == reason


def test_a_lock_exception_ending_in_the_past_is_refused(workflow_home):
    settings = get_settings()
    with pytest.raises(ReviewRefused) as refused:
        apply_decision(settings, Decision(
            "grant_exception", "rita", "reviewer", country="GTM", dataset="TIP_VICTIMS",
            period=QUARTER, valid_until="2026-11-27", reason="figures to correct"))
    assert (refused.value.key, refused.value.values) == ("workflow.refused.until_past",
                                                         {"until": "2026-11-27"})
    for lang in ("es", "en"):
        assert "2026-11-27" in t(refused.value.key, lang, **refused.value.values)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.lock_exceptions").fetchone() == (0,)
        assert con.execute("select count(*) from raw.audit_events "
                           "where action = 'lock_exception'").fetchone() == (0,)


def test_a_decision_still_queued_is_announced_as_coming_not_as_failed():
    """A page that stops following a run still queued behind other work must not tell the
    person it failed (they would send it again); a run that ended without a decision failed."""
    from pipelines.lib.decisions import outcome_of

    waiting = outcome_of(None, [], False, finished=False)
    assert not waiting.ok and waiting.key == "workflow.review.still_queued"
    assert outcome_of(None, [], False, finished=True).key == "workflow.refused.failed"
    recorded = outcome_of({"action": "accept"}, [], False, finished=False)
    assert recorded.ok and not recorded.published
    for lang in ("es", "en", "fr"):
        assert t(waiting.key, lang) != waiting.key

    def page():  # the page says it as a warning, a failure as an error
        from dashboards.workflow_ui import not_recorded
        from pipelines.lib.decisions import ReviewOutcome

        not_recorded(ReviewOutcome(False, "workflow.review.still_queued"), "fr")
        not_recorded(ReviewOutcome(False, "workflow.refused.failed"), "fr")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert [w.value for w in at.warning] == [t("workflow.review.still_queued", "fr")]
    assert [e.value for e in at.error] == [t("workflow.refused.failed", "fr")]
