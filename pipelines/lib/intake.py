"""Intake: receive files, keep their bytes, validate them, store the outcome append-only.

One call handles a batch of files under the warehouse's writer lock. For each file:

1. its SHA-256 is computed; bytes already received are recognised and not stored twice;
2. the bytes are kept under ``archive/<sha256>`` before anything else (nothing is ever lost);
3. it is read and validated; each country × data set × quarter becomes a submission with the
   next version number, ``validated`` or ``rejected``;
4. file, submissions, observations, findings and audit events are written in ONE transaction, so
   nothing is ever half-loaded; a JSON report is written beside the archive;
5. a file that came from the landing folder leaves it only after all of that succeeded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.lib.contracts import load_contracts
from pipelines.lib.faults import fault_point
from pipelines.lib.findings import Finding
from pipelines.lib.inputs import read_regular
from pipelines.lib.publish import current_snapshot
from pipelines.lib.reader import ReadResult
from pipelines.lib.reports import (  # noqa: F401 (re-exported: the report lives there)
    FileOutcome,
    UnitOutcome,
    belongs_to,
    load_report,
    report_path,
    sha256_of,
    write_report,
)
from pipelines.lib.sandbox import CappedReader
from pipelines.lib.validate import (
    UnitResult,
    ValidationContext,
    check_cells_of_files,
    validate_frame,
)
from pipelines.lib.warehouse import connect_writer, writer_lock
from pipelines.settings import Settings

# Channels through which the system operator (not a ministry) loads files on the server.
OPERATOR_CHANNELS = ("cli", "landing")

OBSERVATION_COLUMNS = [
    "submission_id", "sheet", "row_number", "dataset", "country", "period", "indicator", "sex",
    "age", "exploitation_form", "citizenship", "counterpart_area", "stage",
    "identification_channel", "unaccompanied", "value", "obs_status", "comment",
]
# The rows of a data set whose value is a status (POLICY_FRAMEWORK): raw.policy_reports.
POLICY_COLUMNS = [
    "submission_id", "sheet", "row_number", "dataset", "country", "period", "item", "status",
    "reference", "item_date", "valid_until", "comment",
]


@dataclass
class Delivery:
    """A file to take in, and how it arrived."""

    path: Path
    channel: str = "cli"  # cli | landing | demo | upload
    actor: str = "operator"
    received_on: dt.date | None = None  # the receipt date on record (demo, documented back-load)
    submitter_country: str | None = None
    role: str = "operator"
    remove_after: bool = False  # landing files leave the folder once stored
    # The name the user gave (browser upload; the file itself has a generated name): recorded and
    # shown as text only, never used as a path.
    original_name: str | None = None
    # The folders the file must be read from (a job's own; empty: anywhere, for in-process use)
    confined_to: tuple[Path, ...] = ()


def _report_from_warehouse(con: duckdb.DuckDBPyConnection, sha: str) -> FileOutcome:
    """The report of a stored file, rebuilt from the warehouse: for a run killed after its commit
    but before it wrote the report (the warehouse is the record; the report is derived)."""
    name, received_at = con.execute(
        "select original_name, received_at from raw.files where file_sha256 = ?", [sha]
    ).fetchone()
    outcome = FileOutcome(file_name=name, sha256=sha, duplicate=False,
                          received_at=received_at.isoformat())
    units = con.execute(
        "select submission_id, dataset, country, period, version, status, n_errors, n_warnings,"
        " is_late from raw.submissions where file_sha256 = ? order by submission_id", [sha]
    ).fetchall()
    for row in units:
        findings = con.execute(
            "select rule, severity, message_es, message_en, sheet, row_number, column_name, value"
            " from raw.findings where submission_id = ? order by row_number nulls first, rule",
            [row[0]],
        ).fetchall()
        dataset = row[1]
        outcome.units.append(UnitOutcome(*row, findings=[
            Finding(*f, dataset=dataset).as_dict() for f in findings]))
    return outcome


def take_in(deliveries: list[Delivery], settings: Settings) -> list[FileOutcome]:
    """Take in a batch of files (see the module docstring). Returns one outcome per file."""
    settings.ensure_dirs()
    outcomes = []
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            with CappedReader() as reader:  # workbooks are parsed in a capped child process
                received = [_receive(con, delivery, reader, settings) for delivery in deliveries]
            # The per-cell suite runs once for the whole batch: its cost is mostly fixed.
            cells = check_cells_of_files([r.read.frame if r.read and r.read.ok else None
                                          for r in received])
            for item, cell_failures in zip(received, cells, strict=True):
                outcomes.append(_take_in_one(con, item, cell_failures, settings))
        finally:
            con.close()
    return outcomes


def published_is_current(settings: Settings) -> bool:
    """Whether the current snapshot was built after the warehouse's latest change (a file that
    made a version, a status, an explanation or an exception: not the duplicates, refusals and
    files whose every unit was unchanged, which change no figure)."""
    snapshot = current_snapshot(settings)
    if snapshot is None:
        return False
    with duckdb.connect(str(snapshot), read_only=True) as con:
        [(built_at,)] = con.execute("select max(built_at) from main.snapshot_info").fetchall()
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            [(changed,)] = con.execute(
                "select max(changed_at) from (select max(received_at) as changed_at "
                "from raw.files f where exists (select 1 from raw.submissions s "
                "where s.file_sha256 = f.file_sha256) union all select max(occurred_at) "
                "from raw.audit_events where action not in ('duplicate', 'refused', "
                "'received', 'unchanged')) as changes").fetchall()
        finally:
            con.close()
    return built_at is not None and (changed is None or changed <= built_at)


def run_tags(outcomes: list[FileOutcome]) -> dict[str, str]:
    """Tags for the run that took these files in: result, members, data sets, quarters."""
    units = [u for o in outcomes for u in o.units]
    statuses = {u.status for u in units}
    if outcomes and all(o.duplicate for o in outcomes):
        result = "duplicate"
    elif len(statuses) == 1:
        result = statuses.pop()
    else:
        result = "mixed" if statuses else "nothing"

    def listed(values) -> str:
        return ",".join(sorted({v for v in values if v}))[:200] or "-"

    return {"observatory/result": result,
            "observatory/countries": listed(u.country for u in units),
            "observatory/datasets": listed(u.dataset for u in units),
            "observatory/periods": listed(u.period for u in units)}


@dataclass
class _Received:
    delivery: Delivery
    data: bytes
    sha: str
    known: bool
    read: ReadResult | None  # None for bytes already received (unless foreign)
    foreign: bool = False  # received before from another member than the submitter's


def _receive(con: duckdb.DuckDBPyConnection, delivery: Delivery, reader: CappedReader,
             settings: Settings) -> _Received:
    data = read_regular(delivery.path, delivery.confined_to)
    sha = sha256_of(data)
    known = con.execute("select 1 from raw.files where file_sha256 = ?", [sha]).fetchone()
    foreign = bool(known) and delivery.submitter_country is not None and _foreign(
        con, settings, sha, delivery.submitter_country)
    read = reader.read(data, delivery.path.name) if foreign or not known else None
    return _Received(delivery, data, sha, bool(known), read, foreign)


def _foreign(con, settings: Settings, sha: str, country: str) -> bool:
    """Whether bytes received before say anything about another member: their report names
    another country (a file whose every unit was unchanged has a report but no submission), or,
    without a report, a submission of another country rests on them."""
    try:
        return not belongs_to(load_report(settings, sha), country)
    except (OSError, ValueError, TypeError):  # killed before its report was written
        return con.execute("select count(*) from raw.submissions where file_sha256 = ? and "
                           "country <> ?", [sha, country]).fetchone()[0] > 0


def _take_in_one(con: duckdb.DuckDBPyConnection, item: _Received, cell_failures,
                 settings: Settings) -> FileOutcome:
    delivery, data, sha, read = item.delivery, item.data, item.sha, item.read
    now = dt.datetime.now(dt.UTC)
    name = delivery.original_name or delivery.path.name
    known = item.known or con.execute(
        "select 1 from raw.files where file_sha256 = ?", [sha]).fetchone()
    if item.foreign:
        units = validate_frame(item.read.frame, item.read.findings,
                               _context(con, settings, delivery, item.read.frame), cell_failures)
        return _answer_not_stored(con, item, units, settings, now, name)
    if known:
        _audit(con, now, delivery.actor, "duplicate", sha, None,
               details={"file_name": name, "channel": delivery.channel})
        try:
            outcome = load_report(settings, sha)
        except (OSError, ValueError, TypeError):  # killed before its report was written
            outcome = _report_from_warehouse(con, sha)
            write_report(settings, outcome)
        outcome.duplicate = True
        outcome.file_name = name
        if delivery.remove_after:
            delivery.path.unlink(missing_ok=True)
        return outcome

    context = _context(con, settings, delivery, read.frame)
    units = validate_frame(read.frame, read.findings, context, cell_failures)
    if _holds_another_members_rows(delivery, units):
        return _answer_not_stored(con, item, units, settings, now, name)
    archive_path = _archive(data, sha, settings)
    fault_point("after_archive")
    received_on = delivery.received_on or now.date()
    outcome = FileOutcome(file_name=name, sha256=sha, duplicate=False, received_at=now.isoformat())

    con.execute("begin transaction")
    try:
        con.execute(
            "insert into raw.files values (?, ?, ?, ?, ?, ?, ?, ?)",
            [sha, name, len(data), now, delivery.received_on, delivery.channel, delivery.actor,
             str(archive_path.relative_to(settings.home))],
        )
        _audit(con, now, delivery.actor, "received", sha, None,
               details={"file_name": name, "channel": delivery.channel,
                        "received_on": received_on.isoformat(), "format": read.file_format,
                        "encoding": read.encoding, "delimiter": read.delimiter})
        for unit in units:
            outcome.units.append(_store_unit(con, unit, sha, name, now, received_on, delivery))
        fault_point("before_commit")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    fault_point("after_commit")
    outcome.stored = any(unit.status != "unchanged" for unit in outcome.units) or not outcome.units
    write_report(settings, outcome)
    if delivery.remove_after:
        delivery.path.unlink(missing_ok=True)
    return outcome


def _holds_another_members_rows(delivery: Delivery, units) -> bool:
    """validate._file_identity's "another country's rows" (V02 on the country column) naming
    another member: a typo or a non-member's code is the submitter's own mistake, stored and
    rejected as usual."""
    if delivery.submitter_country is None:
        return False
    others = set(load_contracts().members) - {delivery.submitter_country}
    return any(f.rule == "V02" and f.column == "country" and f.value in others
               for unit in units for f in unit.findings)


def _answer_not_stored(con, item: _Received, units, settings: Settings, now, name: str
                       ) -> FileOutcome:
    """A submitter's file that holds another member's rows, whether its bytes are new or that
    member sent them before. Storing one and not the other, or telling the second "already
    received", or showing the other member's report, would confirm the other country's file;
    so both get the report of their own check (another country's rows are errors), no version
    number, nothing stored in the warehouse or the archive, and an audit event for the
    secretariat. The same bytes a second time are "already received" for this member alike."""
    delivery, country = item.delivery, item.delivery.submitter_country
    _audit(con, now, delivery.actor, "duplicate" if item.foreign else "refused", item.sha, None,
           reason=None if item.foreign else "another member's rows",
           details={"file_name": name, "channel": delivery.channel, "other_member": True})
    seen = report_path(settings, item.sha, country).exists()
    outcome = FileOutcome(file_name=name, sha256=item.sha, duplicate=seen,
                          received_at=now.isoformat())
    for unit in units:
        u = unit.unit
        suffix = u.dataset if u.dataset in load_contracts().datasets else "FILE"
        outcome.units.append(UnitOutcome(
            submission_id=f"{item.sha[:12]}-{suffix}", dataset=u.dataset, country=u.country,
            period=u.period, version=None, status=unit.status, errors=unit.errors,
            warnings=unit.warnings, is_late=None, findings=[f.as_dict() for f in unit.findings]))
    write_report(settings, outcome, country)
    if delivery.remove_after:
        delivery.path.unlink(missing_ok=True)
    return outcome


def _version_and_lateness(con, u, received_on: dt.date):
    """The version a unit gets, its due date and whether it is late (None where unknown)."""
    if not (u.dataset and u.country and u.period):
        return None, None, None
    version = con.execute(
        "select coalesce(max(version), 0) + 1 from raw.submissions "
        "where country = ? and dataset = ? and period = ?",
        [u.country, u.dataset, u.period],
    ).fetchone()[0]
    contracts = load_contracts()
    try:
        period = contracts.period(u.dataset, u.period)
    except ValueError:
        return version, None, None
    due_on = period.due_date(contracts.due_days(u.dataset))
    return version, due_on, received_on > due_on


def _archive(data: bytes, sha: str, settings: Settings) -> Path:
    target = settings.archive_dir / sha
    if not target.exists():
        tmp = target.with_name(f".{sha}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


def _context(con, settings: Settings, delivery: Delivery, frame) -> ValidationContext:
    locked = con.execute(
        """
        with latest as (
            select submission_id, to_status,
                   row_number() over (partition by submission_id
                                      order by occurred_at desc, event_id desc) as rn
            from raw.audit_events where action = 'status'
        )
        select s.country, s.dataset, s.period
        from raw.submissions s join latest l using (submission_id)
        where l.rn = 1 and l.to_status = 'accepted'
        """
    ).fetchall()
    # Exceptions the secretariat granted (issue 7), still valid today: the unit may be sent
    # although it is locked or its window closed.
    excepted = con.execute(
        "select country, dataset, period from raw.lock_exceptions where valid_until >= ?",
        [settings.today],
    ).fetchall()
    country = delivery.submitter_country
    if country is None and frame is not None and frame.height:
        country = frame["country"].drop_nulls().mode().sort().first()
    history = con.sql(
        """
        with latest as (
            select submission_id, country, dataset, period,
                   row_number() over (partition by country, dataset, period
                                      order by version desc) as rn
            from raw.submissions
            where status = 'validated' and country = ?
        )
        select l.country, l.dataset, o.indicator, o.sex, o.age, o.exploitation_form,
               o.citizenship, o.counterpart_area, o.stage, o.identification_channel,
               o.unaccompanied, l.period, o.value
        from latest l join raw.observations o using (submission_id)
        where l.rn = 1 and o.value is not null
        """,
        params=[country],
    ).pl()
    return ValidationContext(
        today=settings.today,
        submitter_country=delivery.submitter_country,
        role=delivery.role,
        locked_units=frozenset(tuple(row) for row in locked),
        lock_exceptions=frozenset(tuple(row) for row in excepted),
        history=history,
    )


# What a unit's content is: every column of its observations but where they sat in the file and
# the submitter's comments. A new file whose unit has the same content as the version in use
# makes no new version of that unit.
CONTENT_COLUMNS = ("dataset", "country", "period", "indicator", "sex", "age", "exploitation_form",
                   "citizenship", "counterpart_area", "stage", "identification_channel",
                   "unaccompanied", "value", "obs_status")
POLICY_CONTENT_COLUMNS = ("dataset", "country", "period", "item", "status", "reference",
                          "item_date", "valid_until")


def _rows_table(dataset: str | None) -> tuple[str, list[str], tuple[str, ...]]:
    """Where a data set's rows are kept: table, its columns, the columns that are its content."""
    contract = load_contracts().datasets.get(dataset or "")
    if contract and contract.status:
        return "raw.policy_reports", POLICY_COLUMNS, POLICY_CONTENT_COLUMNS
    return "raw.observations", OBSERVATION_COLUMNS, CONTENT_COLUMNS


def _content_key(relation: str, columns: tuple[str, ...]) -> str:
    """One fingerprint of the rows of ``relation`` (a table name or a parameterised subquery),
    order-free, in SQL."""
    fields = ", ".join(f"coalesce(cast({c} as varchar), '\x00')" for c in columns)
    return (f"select count(*) as n, coalesce(md5(string_agg(k, chr(10) order by k)), '') "
            f"from (select concat_ws('|', {fields}) as k from {relation})")


def _kept_version(con, unit: UnitResult, rows) -> tuple[str, int, bool | None] | None:
    """The unit's version in use (validated or accepted, the latest validated one) when its
    observations are the same as ``rows``: (submission id, version, late)."""
    u = unit.unit
    current = con.execute(
        """
        with latest as (
            select submission_id, to_status,
                   row_number() over (partition by submission_id
                                      order by occurred_at desc, event_id desc) as rn
            from raw.audit_events where action = 'status'
        )
        select s.submission_id, s.version, s.is_late, l.to_status
        from raw.submissions s join latest l using (submission_id)
        where l.rn = 1 and s.status = 'validated'
          and s.country = ? and s.dataset = ? and s.period = ?
        order by s.version desc limit 1
        """, [u.country, u.dataset, u.period]).fetchone()
    if current is None or current[3] not in ("validated", "accepted"):
        return None
    # Both sides through the warehouse's own column types, so equal values print alike.
    table, _, content = _rows_table(u.dataset)
    con.execute(f"create or replace temp table incoming_content as select * from {table} limit 0")
    con.register("incoming_rows", rows.to_arrow())
    con.execute("insert into incoming_content select * from incoming_rows")
    con.unregister("incoming_rows")
    new = con.execute(_content_key("incoming_content", content)).fetchone()
    old = con.execute(_content_key(f"(select * from {table} where submission_id = ?)", content),
                      [current[0]]).fetchone()
    con.execute("drop table incoming_content")
    return (current[0], current[1], current[2]) if new == old else None


def _store_unit(con, unit: UnitResult, sha, file_name, now, received_on, delivery) -> UnitOutcome:
    u = unit.unit
    suffix = u.dataset if u.dataset in load_contracts().datasets else "FILE"
    submission_id = f"{sha[:12]}-{suffix}"
    table, columns, _ = _rows_table(u.dataset)
    rows = None if unit.observations is None else unit.observations.rename(
        {"_sheet": "sheet", "_row": "row_number"}).with_columns(
        pl.lit(submission_id).alias("submission_id")).select(columns)
    kept = _kept_version(con, unit, rows) if rows is not None else None
    if kept is not None:
        # The same figures as the version in use: that version stays (with its review, its
        # explanations and its place in the queue); the report says so.
        _audit(con, now, delivery.actor, "unchanged", sha, kept[0],
               reason=f"{u.country} {u.dataset} {u.period}: same content as version {kept[1]}",
               details={"file_name": file_name, "channel": delivery.channel})
        return UnitOutcome(
            submission_id=kept[0], dataset=u.dataset, country=u.country, period=u.period,
            version=kept[1], status="unchanged", errors=unit.errors, warnings=unit.warnings,
            is_late=kept[2], findings=[f.as_dict() for f in unit.findings])
    version, due_on, is_late = _version_and_lateness(con, u, received_on)
    if due_on is not None and delivery.role == "operator" and delivery.channel in OPERATOR_CHANNELS:
        contracts = load_contracts()
        if received_on > contracts.period(u.dataset, u.period).due_date(
                contracts.window_days(u.dataset)):
            # DOMAIN §2: a back-load has an audit event of its own; it counts as late
            is_late = True
            _audit(con, now, delivery.actor, "operator_back_load", sha, submission_id,
                   reason=f"{u.country} {u.dataset} {u.period} loaded after its window closed",
                   details={"channel": delivery.channel})
    status = unit.status
    contract = load_contracts().datasets.get(u.dataset)
    con.execute(
        "insert into raw.submissions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [submission_id, sha, u.dataset, u.country, u.period, version, status, now, received_on,
         due_on, is_late, 0 if unit.observations is None else unit.observations.height,
         unit.errors, unit.warnings, contract.contract_version if contract else None],
    )
    if rows is not None:
        con.register("incoming_observations", rows.to_arrow())
        con.execute(f"insert into {table} select * from incoming_observations")
        con.unregister("incoming_observations")
        superseded = con.execute(
            "select submission_id from raw.submissions where country = ? and dataset = ? "
            "and period = ? and status = 'validated' and version < ?",
            [u.country, u.dataset, u.period, version],
        ).fetchall()
        for (old_id,) in superseded:
            _audit(con, now, delivery.actor, "superseded", sha, old_id,
                   reason=f"version {version} received ({submission_id})")
    findings = [_finding_row(f, sha, submission_id, file_name) for f in unit.findings]
    if findings:
        con.executemany(
            "insert into raw.findings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", findings
        )
    # The counts are data, not a reason: pages show them in the reader's language from the
    # findings; a reason is what a person wrote (the secretariat's return, a lock exception).
    _audit(con, now, delivery.actor, "status", sha, submission_id, to_status=status,
           details={"errors": unit.errors, "warnings": unit.warnings})
    explained = status == "validated" and bool(unit.warnings) and _carry_explanation(
        con, now, sha, submission_id, u, version)
    return UnitOutcome(
        submission_id=submission_id, dataset=u.dataset, country=u.country, period=u.period,
        version=version, status=status, errors=unit.errors, warnings=unit.warnings,
        is_late=is_late, findings=[f.as_dict() for f in unit.findings], explained=explained,
    )


def _warning_set(con, submission_id: str) -> set[tuple]:
    """A version's warnings by what they say about which cell (not where the row sat)."""
    return set(con.execute(
        "select rule, coalesce(column_name, ''), coalesce(value, ''), message_en "
        "from raw.findings where submission_id = ? and severity = 'WARNING'",
        [submission_id]).fetchall())


def _carry_explanation(con, now, sha, submission_id: str, u, version: int) -> bool:
    """The explanation of the previous validated version, copied to this one when its warnings
    are the same (same rules on the same cells with the same figures): the submitter is not
    asked again to explain what it already explained. Recorded as an explanation event."""
    previous = con.execute(
        """
        select s.submission_id, e.text, e.written_by
        from raw.submissions s
        join raw.explanations e using (submission_id)
        where s.country = ? and s.dataset = ? and s.period = ? and s.status = 'validated'
          and s.version < ?
        order by s.version desc, e.written_at desc limit 1
        """, [u.country, u.dataset, u.period, version]).fetchone()
    if previous is None or _warning_set(con, previous[0]) != _warning_set(con, submission_id):
        return False
    con.execute("insert into raw.explanations values (?, ?, ?, ?, ?)",
                [uuid.uuid4().hex, submission_id, previous[1], previous[2], now])
    _audit(con, now, previous[2], "explanation", sha, submission_id, reason=previous[1],
           details={"carried_from": previous[0]})
    return True


def _finding_row(finding: Finding, sha, submission_id, file_name) -> list:
    return [uuid.uuid4().hex, sha, submission_id, file_name, finding.sheet, finding.row,
            finding.column, finding.value, finding.rule, finding.severity, finding.message_es,
            finding.message_en]


def _audit(con, at, actor, action, sha, submission_id, *, to_status=None, reason=None,
           details=None) -> None:
    con.execute(
        "insert into raw.audit_events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4().hex, at, actor, action, sha, submission_id, None, to_status, reason,
         json.dumps(details, ensure_ascii=False) if details else None],
    )
