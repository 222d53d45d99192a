"""Reference data as a Dagster asset (issue 6): UNODC's published GLOTIP figures.

``glotip_import`` reads one file (``pipelines.lib.glotip.import_glotip``, under the writer lock)
and appends it to ``raw.glotip_releases`` / ``raw.glotip_values`` as a new vintage. It is not a
submission: it never goes through intake or touches the submitted tables. In ``reference_job``
the dbt build and the publication run after it. When the file was imported before (same bytes)
nothing is materialised, so dbt and the publication are skipped: a re-import is a no-op.
"""

import dagster as dg

from pipelines.lib.glotip import import_glotip, report_path
from pipelines.lib.i18n import refusal_text
from pipelines.lib.inputs import InputRefused, check_owned
from pipelines.lib.reports import write_atomically
from pipelines.settings import get_settings

GLOTIP_TABLES = ("glotip_releases", "glotip_values")


class GlotipImportConfig(dg.Config):
    """The file to import (UNODC's data_glotip.xlsx or its CSV extract) and who imports it."""

    file: str
    actor: str = "operator"


@dg.multi_asset(
    name="glotip_import",
    group_name="reference",
    specs=[
        dg.AssetSpec(dg.AssetKey(["raw", table]), skippable=True,
                     description=f"raw.{table}: UNODC GLOTIP reference data, one vintage per file")
        for table in GLOTIP_TABLES
    ],
)
def glotip_import(context: dg.AssetExecutionContext, config: GlotipImportConfig):
    """Import the file as a new vintage; the import report is left for the CLI to print."""
    settings = get_settings()
    try:
        # The path may come from anyone who reaches the orchestrator: only the platform's folders.
        path = check_owned(settings, config.file, "reference")
    except InputRefused as refused:
        raise dg.Failure(description=refusal_text(refused.key, path=refused.path)) from None
    report = import_glotip(path, settings, actor=config.actor)
    write_atomically(report_path(settings, context.run.run_id), report.to_json())  # polled
    context.log.info(
        f"{report.file_name} ({report.sha256[:12]}): vintage {report.vintage}"
        f"{' (already imported)' if report.duplicate else ''}, {report.rows_imported} rows")
    if report.duplicate:
        return
    metadata = {"vintage": report.vintage, "rows_read": report.rows_read,
                "rows_imported": report.rows_imported, "rows_suppressed": report.rows_suppressed,
                "labels_unmapped": len(report.unmapped), "values_flagged": len(report.flagged),
                "file_sha256": report.sha256, "seconds": report.seconds}
    for table in GLOTIP_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=metadata)
