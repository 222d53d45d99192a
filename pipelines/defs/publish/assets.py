"""Audit what the marts would publish, then publish them as a new read-only serving snapshot."""


import dagster as dg

from pipelines.defs.transform.assets import dbt_models
from pipelines.lib.disclosure.gate import run_gate
from pipelines.lib.publish import publish_snapshot
from pipelines.lib.warehouse import connect_writer, writer_lock
from pipelines.settings import get_settings


@dg.asset(group_name="publish", deps=[dbt_models],
          description="disclosure.audits: what arithmetic recovers from the marts about hidden cells")
def disclosure_audit(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = get_settings()
    with writer_lock(settings):
        gate = run_gate(settings, log=context.log.info)
    result = gate.result
    return dg.MaterializeResult(metadata={
        "passed": result.passed,
        "cells": result.cells,
        "hidden": result.hidden,
        "relations": result.relations,
        "failing": result.failing,
        "narrowest": str(result.narrowest),
        "repairs added": gate.repairs_added,
        "seconds": round(gate.seconds, 1),
    })


@dg.asset(group_name="publish", deps=[disclosure_audit], description="data/serving/<version>.duckdb")
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
