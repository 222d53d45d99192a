"""dbt models as Dagster assets (staging → intermediate → marts), built under the writer lock."""

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets
from dagster_dbt.dbt_manifest import validate_manifest

from pipelines.lib import dbt
from pipelines.lib.warehouse import writer_lock
from pipelines.settings import DBT_PROJECT_DIR, get_settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=dbt.TARGET_DIR)
dbt.prepare_manifest()


# dbt's data tests run inside `dbt build` and a failing one fails the step, so nothing is
# published; they are not mirrored as Dagster asset checks, which cost three events each in the
# run's event log (about 450 writes and 3 s a run).
TRANSLATOR = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))
_MANIFEST = validate_manifest(dbt_project.manifest_path)  # dagster-dbt's own (cached) copy
# Each dbt node that is an asset, by its unique id, and its name in dbt's selection syntax.
ASSET_KEYS = {uid: TRANSLATOR.get_asset_spec(_MANIFEST, uid, dbt_project).key
              for uid, node in _MANIFEST["nodes"].items()
              if node["resource_type"] in ("model", "seed", "snapshot")}
NAMES = {uid: _MANIFEST["nodes"][uid]["name"] for uid in ASSET_KEYS}


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="dbt_models",
            dagster_dbt_translator=TRANSLATOR)
def dbt_models(context: dg.AssetExecutionContext):
    """dbt runs in the run's own process (``pipelines.lib.dbt.build``), not in a dbt process of
    its own as dagster-dbt's resource starts one; each model and seed built is reported as its
    asset's materialisation."""
    settings = get_settings()
    select = None
    if context.is_subset:  # an operator's choice of some models in the UI
        wanted = set(context.selected_asset_keys)
        select = [NAMES[uid] for uid, key in ASSET_KEYS.items() if key in wanted]
    with writer_lock(settings):
        outcomes = dbt.build(settings, select, log=context.log.info)
    for outcome in outcomes:
        if outcome.unique_id in ASSET_KEYS and outcome.status == "success":
            yield dg.MaterializeResult(asset_key=ASSET_KEYS[outcome.unique_id])
