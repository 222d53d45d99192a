"""dbt models as Dagster assets (staging → intermediate → marts), built under the writer lock."""


import importlib.metadata
import os
from functools import cached_property

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from packaging import version

from pipelines.lib.dbt import (
    DBT,
    TARGET_DIR,
    build_args,
    dbt_environment,
    keep_parse_state,
    prepare_manifest,
)
from pipelines.lib.warehouse import writer_lock
from pipelines.settings import DBT_PROJECT_DIR, get_settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=TARGET_DIR)
prepare_manifest()


# dbt's data tests run inside `dbt build` and a failing one fails the step, so nothing is
# published; they are not mirrored as Dagster asset checks, which cost three events each in the
# run's event log (about 450 writes and 3 s a run).
TRANSLATOR = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="dbt_models",
            dagster_dbt_translator=TRANSLATOR)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    settings = get_settings()
    os.environ.update(dbt_environment(settings))
    with writer_lock(settings):
        invocation = dbt.cli(build_args(), context=context)
        yield from invocation.stream()
    keep_parse_state(invocation.target_path)


class ObservatoryDbtCliResource(DbtCliResource):
    """dagster-dbt asks ``dbt --version`` before every build (4 s here: it also looks up the latest
    release online). The installed dbt-core package already says which version runs."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        """dagster-dbt also opens a dbt adapter in the run's own process before each build (about
        2 s: dbt's profile and project loaded a second time), used only to fetch column metadata
        and row counts, which this project does not ask for."""
        return None


dbt_resource = ObservatoryDbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(DBT_PROJECT_DIR),
    dbt_executable=str(DBT),
)
