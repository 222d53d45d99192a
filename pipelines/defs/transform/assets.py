"""dbt models as Dagster assets (staging → intermediate → marts), built under the writer lock."""


import importlib.metadata
import os
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from packaging import version

from pipelines.lib.dbt import (
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


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="dbt_models")
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


dbt_resource = ObservatoryDbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(DBT_PROJECT_DIR),
    dbt_executable=str(Path(sys.executable).with_name("dbt")),
)
