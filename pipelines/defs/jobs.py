"""The one job: intake → dbt build → publish, run by the sensor and by ``observatory submit``."""

import dagster as dg

submission_job = dg.define_asset_job(
    "submission_job",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Take in submitted files, rebuild the marts with dbt, publish a serving snapshot.",
)
