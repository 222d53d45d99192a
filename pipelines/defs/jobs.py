"""The jobs: intake → dbt build → publish (the sensor, ``observatory submit``, the upload page), and
review → dbt build → publish (the secretariat's decisions and the submitters' explanations)."""

import dagster as dg

from pipelines.defs.publish.assets import disclosure_audit, serving_snapshot
from pipelines.defs.transform.assets import dbt_models

submission_job = dg.define_asset_job(
    "submission_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("workflow", "reference", "plan"),
    executor_def=dg.in_process_executor,
    description="Take in submitted files, rebuild the marts with dbt, publish a serving snapshot.",
)

review_job = dg.define_asset_job(
    "review_job",
    selection=dg.AssetSelection.groups("workflow")
    | dg.AssetSelection.assets(dbt_models, disclosure_audit, serving_snapshot),
    executor_def=dg.in_process_executor,
    description="Record a review decision or an explanation, rebuild the marts, publish a snapshot.",
)

# Issue 6: UNODC's published figures as reference data, beside (never inside) the submissions.
reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.groups("reference")
    | dg.AssetSelection.assets(dbt_models, disclosure_audit, serving_snapshot),
    executor_def=dg.in_process_executor,
    description="Import UNODC's GLOTIP figures as a new vintage, rebuild the marts, publish a snapshot.",
)

# The regional plan (DOMAIN.md §9): the secretariat's plan file as a new version, then the marts
# (plan_progress) and a snapshot.
plan_job = dg.define_asset_job(
    "plan_job",
    selection=dg.AssetSelection.groups("plan")
    | dg.AssetSelection.assets(dbt_models, disclosure_audit, serving_snapshot),
    executor_def=dg.in_process_executor,
    description="Import a version of the regional plan, rebuild the marts, publish a snapshot.",
)
