"""The persistent Dagster home under the observatory's home: run history, sensor cursors, run keys."""

from __future__ import annotations

import os

from pipelines.settings import Settings

DAGSTER_YAML = """\
# Written by the observatory (rewritten at each start). Runs that write the warehouse run one
# at a time; the queue is checked every second, not every five.
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
    dequeue_interval_seconds: 1
"""


def prepare_dagster_home(settings: Settings) -> None:
    """Create DAGSTER_HOME with its dagster.yaml and point the environment at it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
