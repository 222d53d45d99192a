"""Fixtures of the export tests: the compiled disclosure SQL, and a small built observatory home.

The small home reuses the hand-made warehouse of tests/dbt/test_dbt_models.py (CRI and GTM
victims, 2024-Q1 .. 2025-Q1), built with the real dbt project and published as a snapshot.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from pipelines.lib.dbt import DBT, build
from pipelines.settings import DBT_PROJECT_DIR, Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def dbt_models_module():
    spec = importlib.util.spec_from_file_location(
        "dbt_models_fixture", REPO_ROOT / "tests" / "dbt" / "test_dbt_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dbt(args: list[str], warehouse: Path, tmp: Path) -> None:
    env = {"OBSERVATORY_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp)}
    result = subprocess.run(
        [str(DBT), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def build_and_publish(settings: Settings, tmp: Path) -> None:
    from pipelines.lib.publish import publish_snapshot
    from pipelines.lib.warehouse import connect_writer

    build(settings)
    con = connect_writer(settings.warehouse_path)
    try:
        publish_snapshot(con, settings)
    finally:
        con.close()


@pytest.fixture(scope="session")
def compiled_disclosure_sql(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The compiled SQL of the two disclosure models (relations "warehouse"."schema"."table")."""
    tmp = tmp_path_factory.mktemp("compile")
    dbt(["compile", "--select", "disclosure_constraints", "indicator_values_protected"],
        tmp / "warehouse.duckdb", tmp)
    folder = tmp / "target" / "compiled" / "observatory" / "models" / "marts" / "disclosure"
    return {name: (folder / f"{name}.sql").read_text(encoding="utf-8")
            for name in ("disclosure_constraints", "indicator_values_protected")}


@pytest.fixture(scope="module")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    settings.ensure_dirs()
    dbt_models_module().load_raw(settings.warehouse_path)
    build_and_publish(settings, tmp_path_factory.mktemp("dbt"))
    return settings
