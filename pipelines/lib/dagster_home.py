"""The persistent Dagster home under the observatory's home: run history, sensor cursors, run keys."""

from __future__ import annotations

import os

from pipelines.settings import Settings

DAGSTER_YAML = """\
# Written by the observatory. Runs that write the warehouse run one at a time.
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 1
"""


def prepare_dagster_home(settings: Settings) -> None:
    """Create DAGSTER_HOME with its dagster.yaml and point the environment at it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
