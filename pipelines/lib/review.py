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
holds). :func:`run_review` starts that job in this process, as ``observatory submit`` does for
files; the dashboard and the CLI call it. Every refusal is a :class:`ReviewRefused` whose ``key``
is a translation key (``workflow.refused.*``), so the user reads why in their language.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, replace

from pipelines.lib.auth import AuthStore, PermissionDenied, User, require
from pipelines.lib.contracts import load_contracts
from pipelines.lib.periods import Quarter
from pipelines.lib.warehouse import connect_writer, writer_lock
from pipelines.settings import Settings

ACTIONS = ("accept", "return", "explain", "grant_exception")
ACTION_PERMISSION = {"accept": "review", "return": "review", "explain": "explain",
                     "grant_exception": "grant_exception"}
MAX_TEXT = 4000
MAX_ACTOR = 64  # an account name is at most 64 characters; a forged one is cut there
TEXT_REQUIRED = ("return", "explain", "grant_exception")  # a reason or explanation is required


class ReviewRefused(Exception):
    """A decision that cannot be applied; ``key`` is a ``workflow.refused.*`` translation key."""

    def __init__(self, key: str, **values: object):
        self.key = key
        self.values = values
        super().__init__(f"{key} {json.dumps(values, default=str)}")


@dataclass
class Decision:
    action: str
    actor: str
    actor_role: str
    actor_country: str | None = None
    submission_id: str | None = None
    reason: str = ""  # the reason (accept, return, exception) or the explanation text
    country: str | None = None  # grant_exception
    dataset: str | None = None
    period: str | None = None
    valid_until: str | None = None  # ISO date, inclusive

    @property
    def user(self) -> User:
        return User(self.actor, self.actor_role, self.actor_country)

    def as_config(self) -> dict:
        return asdict(self)


def authorize(decision: Decision, unit_country: str | None) -> None:
    """Raise :class:`PermissionDenied` unless the decision's author may take it for this country."""
    if decision.action not in ACTIONS:
        raise ReviewRefused("workflow.refused.unknown_action", action=decision.action)
    require(decision.user, ACTION_PERMISSION[decision.action], unit_country)


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


def _text(decision: Decision, required: bool = True) -> str:
    text = (decision.reason or "").strip()
    if required and not text:
        raise ReviewRefused("workflow.refused.reason_required")
    return text[:MAX_TEXT]


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
            text = _text(decision)
            con.execute("insert into raw.explanations values (?, ?, ?, ?, ?)",
                        [uuid.uuid4().hex, unit["submission_id"], text, decision.actor, now])
            _audit(con, now, decision.actor, "explanation", sha=unit["file_sha256"],
                   submission_id=unit["submission_id"], reason=text)
            written = {"explanation": text}
        else:
            if decision.action == "accept" and unit["n_warnings"] and not explained:
                raise ReviewRefused("workflow.refused.unexplained_warnings",
                                    submission=unit["submission_id"], warnings=unit["n_warnings"])
            to_status = "accepted" if decision.action == "accept" else "returned"
            reason = _text(decision, required=decision.action == "return")
            _audit(con, now, decision.actor, "status", sha=unit["file_sha256"],
                   submission_id=unit["submission_id"], from_status=unit["status"],
                   to_status=to_status, reason=reason or None,
                   details={"decision": decision.action, "role": decision.actor_role})
            written = {"from_status": unit["status"], "to_status": to_status}
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
        period = str(Quarter.parse(decision.period or ""))
        until = dt.date.fromisoformat(decision.valid_until or "")
    except ValueError as error:
        raise ReviewRefused("workflow.refused.bad_unit", value=str(error)) from error
    if until < settings.today:
        raise ReviewRefused("workflow.refused.until_past", until=until.isoformat())
    reason = _text(decision)
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


# --- running it as a Dagster job --------------------------------------------------------------


@dataclass
class ReviewOutcome:
    ok: bool  # the decision was recorded
    key: str = ""  # translation key of the refusal (workflow.refused.*) or of a failure
    values: dict | None = None
    written: dict | None = None
    published: bool = False  # the rebuild and the new snapshot succeeded too


def run_review(settings: Settings, decision: Decision) -> ReviewOutcome:
    """Run ``review_job`` (decision → dbt build → publish) in this process, in the Dagster
    instance of ``settings``. Permission and a required reason are checked here first as well,
    so a refused decision never starts a run (the job checks again, under the lock, against the
    warehouse's state)."""
    from pipelines.lib.dagster_home import run_job_in_process

    try:
        if decision.action != "grant_exception":
            # The country is only known inside the warehouse: check the role here, the country
            # in the job.
            require(decision.user, ACTION_PERMISSION.get(decision.action, "-"))
        else:
            authorize(decision, (decision.country or "").upper())
        if decision.action in TEXT_REQUIRED:
            _text(decision)  # an empty reason never starts a run
    except PermissionDenied:
        return ReviewOutcome(False, "workflow.refused.forbidden")
    except ReviewRefused as refused:
        return ReviewOutcome(False, refused.key, refused.values)

    # The caller vouches for the author (the page's signed-in session, the CLI's account lookup):
    # the job acts only with this single-use grant.
    grant = AuthStore(settings).grant(decision.actor.strip().lower(), "review")
    result = run_job_in_process(
        settings, "review_job", "review", {**decision.as_config(), "grant": grant},
        tags={"observatory/action": decision.action, "observatory/actor": decision.actor})
    written = None
    for event in result.all_events:
        if event.is_step_materialization and event.step_key == "review":
            entry = event.event_specific_data.materialization.metadata.get("decision")
            if entry is not None:
                written = json.loads(entry.value)
    if written is not None:
        # Recorded; if the rebuild failed, the next run publishes it (nothing is lost).
        return ReviewOutcome(True, written=written, published=result.success)
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None) if event.is_failure else None
        if error is None:
            continue
        for err in [error, *(error.cause and [error.cause] or [])]:
            text = err.message or ""
            marker = text.find("workflow.refused.")
            if marker >= 0:
                key, _, rest = text[marker:].partition(" ")
                try:
                    values = json.loads(rest.strip().splitlines()[0]) if rest.strip() else {}
                except (ValueError, IndexError):
                    values = {}
                return ReviewOutcome(False, key.strip(), values)
            if "PermissionDenied" in (err.cls_name or "") or "may not" in text:
                return ReviewOutcome(False, "workflow.refused.forbidden")
    return ReviewOutcome(False, "workflow.refused.failed")


# --- what changed between two versions --------------------------------------------------------


def version_changes(settings: Settings, old_sha: str, new_sha: str, dataset: str,
                    reader=None) -> list[dict]:
    """Cell by cell, what changed in ``dataset`` from the file ``old_sha`` to ``new_sha`` (both
    read again from the archive, never from the warehouse): one dict per cell added, removed or
    changed, with ``cell`` (indicator and its dimensions), ``before`` and ``after``.

    The dashboard calls this in the server process, so workbooks are parsed as intake parses
    them: in a child process with a memory cap and a time limit (``sandbox.CappedReader``, or
    ``reader`` if given). A file the child cannot read counts as having no cells."""
    from pipelines.lib.contracts import DIMENSIONS, NOT_APPLICABLE
    from pipelines.lib.sandbox import CappedReader

    if reader is None:
        with CappedReader() as capped:
            return version_changes(settings, old_sha, new_sha, dataset, reader=capped)

    def cells(sha: str) -> dict[str, str]:
        read = reader.read((settings.archive_dir / sha).read_bytes(), sha)
        if read.frame is None:
            return {}
        result = {}
        for row in read.frame.iter_rows(named=True):
            if (row.get("dataset") or "").strip() != dataset:
                continue
            parts = [(row.get("indicator") or "").strip()]
            parts += [f"{d}={(row.get(d) or '').strip() or NOT_APPLICABLE}" for d in DIMENSIONS
                      if (row.get(d) or "").strip() not in ("", NOT_APPLICABLE)]
            value = (row.get("value") or "").strip()
            if value.endswith(".0"):
                value = value[:-2]
            status = (row.get("obs_status") or "").strip()
            result[" · ".join(parts)] = value or status
        return result

    before, after = cells(old_sha), cells(new_sha)
    return [{"cell": cell, "before": before.get(cell, ""), "after": after.get(cell, "")}
            for cell in sorted(set(before) | set(after))
            if before.get(cell) != after.get(cell)]
