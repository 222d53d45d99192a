"""The Dagster code location: assembles definitions; the work lives in pipelines/lib."""

import dagster as dg

from pipelines.defs.ingest.assets import intake
from pipelines.defs.ingest.sensors import landing_sensor
from pipelines.defs.jobs import submission_job
from pipelines.defs.publish.assets import serving_snapshot
from pipelines.defs.transform.assets import dbt_models, dbt_resource

defs = dg.Definitions(
    assets=[intake, dbt_models, serving_snapshot],
    jobs=[submission_job],
    sensors=[landing_sensor],
    resources={"dbt": dbt_resource},
)
