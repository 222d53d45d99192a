"""The secretariat's decisions and the submitters' explanations (issue 7), written append-only.

A decision is one of:

* ``accept``: a validated, current (not superseded) submission becomes ``accepted``; its figures
  become final (``obs_status`` A) and its country x data set x quarter locks (intake's V07).
  A submission with WARNING findings must have been explained first.
* ``return``: a validated submission goes back to the ministry (``returned``) with a reason.
* ``explain``: the submitter writes why its WARNING findings are right (``raw.explanations``).
* ``grant_exception``: the secretariat lets a country x data set x quarter be sent again although
  it is locked or its window closed, until an end date (``raw.lock_exceptions``).

:func:`apply_decision` does the checks and the writes under the warehouse's writer lock (it runs
inside the Dagster ``review_job``, which then rebuilds with dbt and publishes: the one-writer rule
holds). The pages and the command line hand the decision to the orchestrator
(``pipelines.orchestrator.run_review``). Every refusal is a :class:`ReviewRefused` whose ``key``
is a translation key (``workflow.refused.*``), so the user reads why in their language.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import replace

from pipelines.lib.auth import AuthStore, PermissionDenied
from pipelines.lib.contracts import load_contracts
from pipelines.lib.decisions import (  # noqa: F401 (re-exported)
    ACTION_PERMISSION,
    ACTIONS,
    MAX_ACTOR,
    MAX_TEXT,
    TEXT_REQUIRED,
    Decision,
    ReviewRefused,
    authorize,
    check_text,
)
from pipelines.lib.warehouse import connect_writer, writer_lock
from pipelines.settings import Settings


def _current(con, submission_id: str) -> dict | None:
    row = con.execute(
        """
        with latest as (
            select submission_id, to_status,
                   row_number() over (partition by submission_id
                                      order by occurred_at desc, event_id desc) as rn
            from raw.audit_events where action = 'status' and submission_id = ?
        )
        select s.submission_id, s.file_sha256, s.country, s.dataset, s.period, s.version,
               coalesce(l.to_status, s.status), s.n_warnings
        from raw.submissions s left join latest l on l.submission_id = s.submission_id
                                                 and l.rn = 1
        where s.submission_id = ?
        """, [submission_id, submission_id]).fetchone()
    if row is None:
        return None
    keys = ("submission_id", "file_sha256", "country", "dataset", "period", "version", "status",
            "n_warnings")
    return dict(zip(keys, row, strict=True))


def _newer_version(con, unit: dict) -> int | None:
    """The newest later version of the unit that is not rejected (it supersedes this one)."""
    row = con.execute(
        """
        with statuses as (
            select s.submission_id, s.version,
                   coalesce((select e.to_status from raw.audit_events e
                             where e.action = 'status' and e.submission_id = s.submission_id
                             order by e.occurred_at desc, e.event_id desc limit 1),
                            s.status) as status
            from raw.submissions s
            where s.country = ? and s.dataset = ? and s.period = ? and s.version > ?
        )
        select max(version) from statuses where status <> 'rejected'
        """, [unit["country"], unit["dataset"], unit["period"], unit["version"]]).fetchone()
    return row[0] if row else None


def _audit(con, now, actor, action, *, sha=None, submission_id=None, from_status=None,
           to_status=None, reason=None, details=None) -> None:
    con.execute(
        "insert into raw.audit_events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4().hex, now, actor, action, sha, submission_id, from_status, to_status, reason,
         json.dumps(details, ensure_ascii=False) if details else None],
    )


def apply_decision(settings: Settings, decision: Decision) -> dict:
    """Check and write one decision under the writer lock; returns what was written.

    The author's role and country are the accounts store's, not the request's: a decision in the
    name of an unknown or disabled account, or claiming another role, is refused and the refusal
    goes into the audit trail.
    """
    settings.ensure_dirs()
    account = AuthStore(settings).active_user(decision.actor)
    claimed = (decision.actor_role, (decision.actor_country or "").upper() or None)
    if account is None or claimed != (account.role, account.country):
        key = "workflow.refused.unknown_actor" if account is None else "workflow.refused.forbidden"
        record_refusal(settings, actor=decision.actor, reason=key, submission_id=decision.submission_id,
                       details={"action": decision.action, "claimed_role": decision.actor_role,
                                "claimed_country": decision.actor_country})
        raise ReviewRefused(key, actor=decision.actor[:MAX_ACTOR])
    decision = replace(decision, actor=account.username)
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            return _apply(con, settings, decision)
        finally:
            con.close()


def record_refusal(settings: Settings, *, actor: str, reason: str, submission_id: str | None = None,
                   details: dict | None = None) -> None:
    """An audit event (action ``refused``) for a run that asked for what its author may not do."""
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            _audit(con, dt.datetime.now(dt.UTC), (actor or "")[:MAX_ACTOR], "refused",
                   submission_id=(submission_id or None) and submission_id[:MAX_ACTOR],
                   reason=reason, details=details)
        finally:
            con.close()


def _apply(con, settings: Settings, decision: Decision) -> dict:
    now = dt.datetime.now(dt.UTC)
    if decision.action == "grant_exception":
        return _grant_exception(con, settings, decision, now)
    if decision.action not in ACTIONS:
        raise ReviewRefused("workflow.refused.unknown_action", action=decision.action)
    unit = _current(con, decision.submission_id or "")
    if unit is None:
        # Say nothing about other countries' submissions: same answer as "not yours".
        raise ReviewRefused("workflow.refused.no_submission", submission=decision.submission_id)
    try:
        authorize(decision, unit["country"])
    except PermissionDenied as denied:
        raise ReviewRefused("workflow.refused.forbidden") from denied
    if unit["status"] != "validated":
        raise ReviewRefused("workflow.refused.not_validated", submission=unit["submission_id"],
                            status=unit["status"])
    newer = _newer_version(con, unit)
    if newer is not None:
        raise ReviewRefused("workflow.refused.superseded", submission=unit["submission_id"],
                            version=newer)
    explained = con.execute("select count(*) from raw.explanations where submission_id = ?",
                            [unit["submission_id"]]).fetchone()[0] > 0
    con.execute("begin transaction")
    try:
        if decision.action == "explain":
            if not unit["n_warnings"]:
                raise ReviewRefused("workflow.refused.nothing_to_explain",
                                    submission=unit["submission_id"])
            text = check_text(decision)
            con.execute("insert into raw.explanations values (?, ?, ?, ?, ?)",
                        [uuid.uuid4().hex, unit["submission_id"], text, decision.actor, now])
            _audit(con, now, decision.actor, "explanation", sha=unit["file_sha256"],
                   submission_id=unit["submission_id"], reason=text)
            written = {"explanation": text, "by": decision.actor, "at": now.isoformat()}
        else:
            if decision.action == "accept" and unit["n_warnings"] and not explained:
                raise ReviewRefused("workflow.refused.unexplained_warnings",
                                    submission=unit["submission_id"], warnings=unit["n_warnings"])
            to_status = "accepted" if decision.action == "accept" else "returned"
            reason = check_text(decision, required=decision.action == "return")
            _audit(con, now, decision.actor, "status", sha=unit["file_sha256"],
                   submission_id=unit["submission_id"], from_status=unit["status"],
                   to_status=to_status, reason=reason or None,
                   details={"decision": decision.action, "role": decision.actor_role})
            written = {"from_status": unit["status"], "to_status": to_status,
                       "reason": reason or None, "by": decision.actor, "at": now.isoformat()}
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {"action": decision.action, "submission_id": unit["submission_id"],
            "country": unit["country"], "dataset": unit["dataset"], "period": unit["period"],
            **written}


def _grant_exception(con, settings: Settings, decision: Decision, now) -> dict:
    contracts = load_contracts()
    country = (decision.country or "").upper()
    try:
        authorize(decision, country)
    except PermissionDenied as denied:
        raise ReviewRefused("workflow.refused.forbidden") from denied
    if not (contracts.country(country) or {}).get("member"):
        raise ReviewRefused("workflow.refused.bad_unit", value=country)
    if decision.dataset not in contracts.datasets:
        raise ReviewRefused("workflow.refused.bad_unit", value=decision.dataset)
    try:
        period = str(contracts.period(decision.dataset, decision.period or ""))
        until = dt.date.fromisoformat(decision.valid_until or "")
    except ValueError as error:
        raise ReviewRefused("workflow.refused.bad_unit", value=str(error)) from error
    if until < settings.today:
        raise ReviewRefused("workflow.refused.until_past", until=until.isoformat())
    reason = check_text(decision)
    exception_id = uuid.uuid4().hex
    con.execute("begin transaction")
    try:
        con.execute("insert into raw.lock_exceptions values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [exception_id, country, decision.dataset, period, until, reason,
                     decision.actor, now])
        _audit(con, now, decision.actor, "lock_exception", reason=reason,
               details={"exception_id": exception_id, "country": country,
                        "dataset": decision.dataset, "period": period,
                        "valid_until": until.isoformat()})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {"action": "grant_exception", "country": country, "dataset": decision.dataset,
            "period": period, "valid_until": until.isoformat()}
