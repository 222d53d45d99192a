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
from pipelines.lib.plan_store import import_plan
from pipelines.settings import get_settings

PLAN_TABLES = ("plan_versions", "plan_targets")


class PlanImportConfig(dg.Config):
    """The plan file to import, who imports it, and whether it is the demo's illustrative plan."""

    file: str
    actor: str = "operator"
    illustrative: bool = False


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
    try:
        # The path may come from anyone who reaches the orchestrator: only the platform's folders.
        path = check_owned(settings, config.file, "plan")
    except InputRefused as refused:
        raise dg.Failure(description=refusal_text(refused.key, path=refused.path)) from None
    report = import_plan(path, settings, actor=config.actor, illustrative=config.illustrative)
    out = report_path(settings, context.run.run_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.to_json(), encoding="utf-8")
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
