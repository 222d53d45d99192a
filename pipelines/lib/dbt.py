"""How the pipeline runs dbt: one project, its manifest prepared once, the warehouse from settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.settings import DBT_PROJECT_DIR, Settings, get_settings

TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What dbt needs in its environment: where the warehouse is, the publication design for
    small series, and no telemetry."""
    return {
        "OBSERVATORY_WAREHOUSE": str(settings.warehouse_path),
        "OBSERVATORY_DISCLOSURE_SMALL_SERIES": settings.disclosure_small_series,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }


def build_args(select: list[str] | None = None) -> list[str]:
    """The arguments of the pipeline's dbt build (tested without Dagster).

    Unit tests check formulas, not data: they run in ``make test``, not on every submission.
    """
    args = ["build", "--exclude", "test_type:unit"]
    if select:
        args += ["--select", *select]
    return args


def prepare_manifest(force: bool = False) -> Path:
    """Parse the project once so Dagster can load its assets (``make`` does this at set-up).

    dbt's partial parsing is only reused while the profile is unchanged, and the warehouse path is
    part of it: parse with the same ``OBSERVATORY_HOME`` the pipeline will run with.
    """
    if force or not MANIFEST_PATH.exists():
        env = {**os.environ, **dbt_environment(get_settings())}
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(TARGET_DIR)],
            check=True, env=env,
        )
    return MANIFEST_PATH


def keep_parse_state(run_target: Path) -> None:
    """After a build in its own target folder: keep dbt's parse state for the next run (so it
    parses only what changed) and remove the folder (several MB a run otherwise)."""
    state = run_target / "partial_parse.msgpack"
    if state.exists():
        tmp = TARGET_DIR / f".partial_parse.{os.getpid()}.tmp"
        shutil.copyfile(state, tmp)
        os.replace(tmp, TARGET_DIR / "partial_parse.msgpack")
    if run_target.resolve().parent == TARGET_DIR.resolve():
        shutil.rmtree(run_target, ignore_errors=True)
