"""The Dagster code location: assembles definitions; the work lives in pipelines/lib."""

import dagster as dg

from pipelines.defs.ingest.assets import intake
from pipelines.defs.ingest.sensors import landing_sensor
from pipelines.defs.jobs import plan_job, reference_job, review_job, submission_job
from pipelines.defs.plan.assets import plan_import
from pipelines.defs.publish.assets import disclosure_audit, serving_snapshot
from pipelines.defs.publish.backups import backup_job, backup_schedule
from pipelines.defs.publish.exports import export_job
from pipelines.defs.reference.assets import glotip_import
from pipelines.defs.transform.assets import dbt_models
from pipelines.defs.workflow.assets import review

defs = dg.Definitions(
    assets=[intake, dbt_models, disclosure_audit, serving_snapshot, review, glotip_import,
            plan_import],
    jobs=[submission_job, review_job, reference_job, plan_job, export_job,
          backup_job],
    schedules=[backup_schedule],
    sensors=[landing_sensor],
)
