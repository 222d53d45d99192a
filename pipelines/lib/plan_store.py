"""Storing a regional plan file as a new version (the writer's side of ``pipelines.lib.plan``).

Append-only: ``raw.plan_versions`` (one row per file), ``raw.plan_targets`` (its rows, typed),
``raw.plan_findings`` (its findings in es/en/fr), under the warehouse's writer lock; the bytes are
archived under their SHA-256 like every file received. The same bytes again are recognised, not
stored twice. Called by the Dagster plan job only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

from pipelines.lib.findings import Finding
from pipelines.lib.plan import PlanFileError, PlanReport, contract, read_plan, validate
from pipelines.settings import Settings

TARGET_COLUMNS = ("version", "sheet", "row_number", *(c for c in (
    "objective_id", "objective_es", "objective_en", "objective_fr", "aim", "indicator", "ref_area",
    "direction", "baseline_period", "baseline_value", "target_period", "target_value",
    "milestones", "responsible", "comment")))


def import_plan(path: Path, settings: Settings, *, actor: str = "operator",
                illustrative: bool = False) -> PlanReport:
    """Validate one plan file and store it as a new version (or recognise the same bytes).

    Takes the warehouse's writer lock: call it from the Dagster plan job only.
    """
    from pipelines.lib.warehouse import connect_writer, writer_lock

    started = time.perf_counter()
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    report = PlanReport(file_name=path.name, sha256=sha)
    try:
        rows = read_plan(path)  # outside the lock: reading needs no warehouse
    except PlanFileError as error:  # not a plan at all: said in the report, nothing stored
        report.status = "unreadable"
        report.errors = 1
        report.findings = [Finding.make("P00", error.key, **error.values).as_dict()]
        report.imported_at = dt.datetime.now(dt.UTC).isoformat()
        report.seconds = round(time.perf_counter() - started, 3)
        return report
    typed, findings = validate(rows)
    report.rows = len(typed)
    report.errors = sum(f.is_error for f in findings)
    report.warnings = len(findings) - report.errors
    report.findings = [f.as_dict() for f in findings]
    report.status = "rejected" if report.errors or not typed else "accepted"
    if not typed:
        report.findings.append(Finding.make("P01", "plan.finding.no_rows").as_dict())
        report.errors += 1
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            known = con.execute("select version, imported_at, status from raw.plan_versions "
                                "where file_sha256 = ?", [sha]).fetchone()
            if known:
                report.duplicate = True
                report.version, imported_at, report.status = known
                report.imported_at = imported_at.isoformat()
                report.seconds = round(time.perf_counter() - started, 3)
                return report
            version = (con.execute("select max(version) from raw.plan_versions").fetchone()[0]
                       or 0) + 1
            report.version = version
            archive = settings.archive_dir / sha
            settings.archive_dir.mkdir(parents=True, exist_ok=True)
            if not archive.exists():
                tmp = archive.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(archive)
            imported_at = dt.datetime.now(dt.UTC)
            report.imported_at = imported_at.isoformat()
            report.seconds = round(time.perf_counter() - started, 3)
            con.execute("begin")
            for row in typed:
                values = {**row, "version": version}
                con.execute(f"insert into raw.plan_targets ({', '.join(TARGET_COLUMNS)}) values "
                            f"({', '.join('?' for _ in TARGET_COLUMNS)})",
                            [values[c] for c in TARGET_COLUMNS])
            for finding in report.findings:
                con.execute("insert into raw.plan_findings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [version, finding["sheet"], finding["row"], finding["column"],
                             finding["value"], finding["rule"], finding["severity"],
                             finding["message_es"], finding["message_en"],
                             finding.get("message_fr")])
            con.execute(
                "insert into raw.plan_versions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [version, sha, path.name, len(data), imported_at, actor, illustrative,
                 report.status, report.rows, report.errors, report.warnings,
                 contract()["contract_version"], str(archive), report.to_json()])
            # Every state change is an audit event (the audit page lists it with the others).
            con.execute(
                "insert into raw.audit_events values (?, ?, ?, 'plan_version', ?, null, null, ?, "
                "null, ?)",
                [f"plan-v{version}-{sha[:12]}", imported_at, actor, sha, report.status,
                 json.dumps({"plan_version": version, "file_name": path.name,
                             "rows": report.rows, "errors": report.errors,
                             "warnings": report.warnings, "illustrative": illustrative})])
            con.execute("commit")
        finally:
            con.close()
    return report


# The platform's own channels that may import a plan: the operator's command line and the demo.
PLAN_SYSTEM_ACTORS = ("operator", "demo-generator")


def plan_actor_refusal(*, channel: str, actor: str, role: str, grant: str,
                       illustrative: bool) -> str | None:
    """Why a plan run may not run as it says (a ``workflow.refused.*`` key), else None.

    A run's configuration can come from anyone who reaches the orchestrator. From the Plan page
    (channel ``upload``) it runs as an active reviewer or admin account, with the single-use
    grant the page made for it (purpose ``manage_plan``), never as the demo's illustrative
    plan; from the command line or the demo (channel ``plan``) under the platform's own names.
    """
    from pipelines.lib.auth import PERMISSIONS, AuthStore
    from pipelines.settings import get_settings

    if channel == "upload":
        store = AuthStore(get_settings())
        user = store.active_user(actor)
        if user is None:
            return "workflow.refused.unknown_actor"
        if user.role not in PERMISSIONS["manage_plan"] or role != user.role or illustrative:
            return "workflow.refused.forbidden"
        if not store.redeem(grant, user.username, "manage_plan"):
            return "workflow.refused.unverified"
        return None
    if channel != "plan" or actor not in PLAN_SYSTEM_ACTORS or role != "operator":
        return "workflow.refused.forbidden"
    return None
