"""Publish the marts as a new read-only serving snapshot."""


import dagster as dg

from pipelines.defs.transform.assets import dbt_models
from pipelines.lib.publish import publish_snapshot
from pipelines.lib.warehouse import connect_writer, writer_lock
from pipelines.settings import get_settings


@dg.asset(group_name="publish", deps=[dbt_models], description="data/serving/<version>.duckdb")
def serving_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = get_settings()
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            published = publish_snapshot(con, settings)
        finally:
            con.close()
    context.log.info(f"published {published['snapshot']}")
    return dg.MaterializeResult(metadata={
        "snapshot": published["snapshot"],
        **{f"rows {table}": n for table, n in published["tables"].items()},
    })
