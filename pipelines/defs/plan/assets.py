"""The regional plan as a Dagster asset (DOMAIN.md §9): the secretariat's plan file, a new version.

``plan_import`` validates one file against ``data_contracts/plan.yaml`` and appends it to
``raw.plan_versions`` / ``raw.plan_targets`` / ``raw.plan_findings`` (``pipelines.lib.plan``,
under the writer lock). In ``plan_job`` the dbt build (``marts.plan_progress``) and the
publication run after it. The same bytes again, or a version rejected for ERROR findings,
materialise nothing, so dbt and the publication are skipped: the plan in force did not change.
"""

import dagster as dg

from pipelines.lib.i18n import refusal_text
from pipelines.lib.inputs import InputRefused, check_owned
from pipelines.lib.plan import report_path
from pipelines.lib.plan_store import import_plan, plan_actor_refusal
from pipelines.lib.reports import write_atomically
from pipelines.lib.review import MAX_ACTOR, record_refusal
from pipelines.settings import get_settings

PLAN_TABLES = ("plan_versions", "plan_targets")


class PlanImportConfig(dg.Config):
    """The plan file to import, who imports it, and whether it is the demo's illustrative plan."""

    file: str
    actor: str = "operator"
    illustrative: bool = False
    # "plan": the command line and the demo (files staged in the inbox, the operator's role);
    # "upload": the Plan page (files in uploads/, a reviewer's or admin's account and grant).
    channel: str = "plan"
    role: str = "operator"
    grant: str = ""


@dg.multi_asset(
    name="plan_import",
    group_name="plan",
    specs=[
        dg.AssetSpec(dg.AssetKey(["raw", table]), skippable=True,
                     description=f"raw.{table}: the regional plan, one version per imported file")
        for table in PLAN_TABLES
    ],
)
def plan_import(context: dg.AssetExecutionContext, config: PlanImportConfig):
    """Validate and store the file as a new plan version; the report is left for the CLI."""
    settings = get_settings()
    # The configuration may come from anyone who reaches the orchestrator: its author first.
    refusal = plan_actor_refusal(channel=config.channel, actor=config.actor, role=config.role,
                                 grant=config.grant, illustrative=config.illustrative)
    if refusal:
        record_refusal(settings, actor=config.actor, reason=refusal,
                       details={"job": "plan_job", "channel": config.channel,
                                "claimed_role": config.role})
        raise dg.Failure(description=refusal_text(refusal, actor=config.actor[:MAX_ACTOR]))
    try:
        # Only the channel's own folder: the inbox (command line, demo) or uploads/ (the page).
        path = check_owned(settings, config.file, config.channel)
    except InputRefused as refused:
        raise dg.Failure(description=refusal_text(refused.key, path=refused.path)) from None
    actor = config.actor.strip().lower()
    try:
        report = import_plan(path, settings, actor=actor, illustrative=config.illustrative)
    finally:
        if config.channel == "upload":
            path.unlink(missing_ok=True)  # archived under its hash; the upload copy goes
    write_atomically(report_path(settings, context.run.run_id), report.to_json())  # polled
    context.log.info(f"{report.file_name} ({report.sha256[:12]}): version {report.version} "
                     f"{report.status}{' (already imported)' if report.duplicate else ''}, "
                     f"{report.rows} rows, {report.errors} errors")
    if report.duplicate or report.status != "accepted":
        return
    metadata = {"version": report.version, "rows": report.rows, "errors": report.errors,
                "warnings": report.warnings, "file_sha256": report.sha256,
                "illustrative": config.illustrative, "seconds": report.seconds}
    for table in PLAN_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=metadata)
