"""The Dagster code location: the asset graph, the sensor and the job, as reviewers expect them."""

import dagster as dg

from pipelines.definitions import defs
from pipelines.lib.dbt import build_args


def test_asset_graph_runs_from_raw_tables_through_dbt_to_the_snapshot():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    raw = {f"raw/{t}" for t in ("files", "submissions", "observations", "findings", "audit_events")}
    assert raw <= keys
    assert {"marts/indicator_values", "marts/dim_country", "seeds/population",
            "serving_snapshot"} <= keys
    # dbt, then the disclosure audit (which may hide more and rebuild), then the snapshot.
    assert graph.get(dg.AssetKey("serving_snapshot")).parent_keys == {dg.AssetKey("disclosure_audit")}
    upstream = graph.get(dg.AssetKey("disclosure_audit")).parent_keys
    assert dg.AssetKey(["marts", "indicator_values_published"]) in upstream
    staging = graph.get(dg.AssetKey(["staging", "stg_raw__observations"])).parent_keys
    assert staging == {dg.AssetKey(["raw", "observations"])}


def test_landing_sensor_runs_by_default_and_often():
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds <= 5
    assert sensor.job_name == "submission_job"


def test_submission_job_runs_in_process():
    job = defs.resolve_job_def("submission_job")
    assert job.executor_def.name == "in_process"


def test_dbt_build_arguments_leave_unit_tests_to_ci():
    args = build_args()
    assert args[0] == "build" and args[args.index("--exclude") + 1] == "test_type:unit"
    assert "--select" not in args
    assert build_args(["marts"]) == [*args, "--select", "marts"]


def test_the_plan_job_imports_then_builds_and_publishes():
    """The regional plan: plan_import -> raw.plan_* -> dbt (plan_progress) -> snapshot; the
    submission job never runs the plan's import."""
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_plan__versions"])).parent_keys
    assert staging == {dg.AssetKey(["raw", "plan_versions"])}
    job = defs.resolve_job_def("plan_job")
    assert job.executor_def.name == "in_process"
    assert {"plan_import", "dbt_models", "serving_snapshot"} <= {n.name for n in job.graph.nodes}
    submission = defs.resolve_job_def("submission_job")
    assert "plan_import" not in {n.name for n in submission.graph.nodes}
