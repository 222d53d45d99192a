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

# Production option (deploy/README.md): Dagster's runs, event logs and schedules in PostgreSQL
# instead of the SQLite files under DAGSTER_HOME, when OBSERVATORY_DAGSTER_POSTGRES_URL is set
# (postgresql+psycopg2://user:password@host:port/database; read from the environment at each start, so
# the password is never written here).
POSTGRES_STORAGE = """\
storage:
  postgres:
    postgres_url:
      env: OBSERVATORY_DAGSTER_POSTGRES_URL
"""


def dagster_yaml() -> str:
    if os.environ.get("OBSERVATORY_DAGSTER_POSTGRES_URL"):
        return DAGSTER_YAML + POSTGRES_STORAGE
    return DAGSTER_YAML


def prepare_dagster_home(settings: Settings) -> None:
    """Create DAGSTER_HOME with its dagster.yaml and point the environment at it."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    wanted = dagster_yaml()
    if not config.exists() or config.read_text(encoding="utf-8") != wanted:
        config.write_text(wanted, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
