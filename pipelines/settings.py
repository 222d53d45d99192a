"""Every path and setting of the platform, from environment variables with defaults.

All state lives under one folder: ``./data`` by default, or ``$OBSERVATORY_HOME``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    home: Path

    @classmethod
    def from_env(cls) -> Settings:
        return cls(home=Path(os.environ.get("OBSERVATORY_HOME", "data")).resolve())

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def archive_dir(self) -> Path:
        """Every file received, stored once under its SHA-256 (never the uploaded name)."""
        return self.home / "archive"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def writer_lock_path(self) -> Path:
        return self.home / "warehouse.lock"

    @property
    def serving_dir(self) -> Path:
        return self.home / "serving"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt_target"

    @cached_property
    def today(self) -> dt.date:
        """The date that decides which quarters are complete (OBSERVATORY_TODAY pins it for tests)."""
        pinned = os.environ.get("OBSERVATORY_TODAY")
        return dt.date.fromisoformat(pinned) if pinned else dt.date.today()

    @property
    def disclosure_gate(self) -> str:
        """``block`` (the default): cells are hidden until the audit passes, and a build that
        still fails is not published. ``record``: every build is only audited and the audit
        published with the snapshot, for a demonstration or a test that does not need the
        guarantee (OBSERVATORY_DISCLOSURE_GATE; README, "Disclosure control")."""
        mode = os.environ.get("OBSERVATORY_DISCLOSURE_GATE", "block")
        if mode not in ("record", "block"):
            raise ValueError(f"OBSERVATORY_DISCLOSURE_GATE must be record or block, not {mode!r}")
        return mode

    @property
    def disclosure_small_series(self) -> str:
        """``quarterly`` (default): every quarter and breakdown as the other rules allow;
        ``annual``: a member's small series has that year's breakdowns withheld (dbt:
        disclosure_withheld; README, "The disclosure audit", says why it is not the default)
        (OBSERVATORY_DISCLOSURE_SMALL_SERIES)."""
        mode = os.environ.get("OBSERVATORY_DISCLOSURE_SMALL_SERIES", "quarterly")
        if mode not in ("annual", "quarterly"):
            raise ValueError(
                f"OBSERVATORY_DISCLOSURE_SMALL_SERIES must be annual or quarterly, not {mode!r}")
        return mode

    def problem(self) -> tuple[str, str] | None:
        """What is wrong with the configuration from the environment, as (translation key,
        value), or None: the command line says it before doing anything, not half-way."""
        try:
            self.today  # noqa: B018 - parsed on first use
        except ValueError:
            return "cli.config.today", os.environ["OBSERVATORY_TODAY"]
        try:
            self.disclosure_gate  # noqa: B018
        except ValueError:
            return "cli.config.gate", os.environ["OBSERVATORY_DISCLOSURE_GATE"]
        try:
            self.disclosure_small_series  # noqa: B018
        except ValueError:
            return "cli.config.small_series", os.environ["OBSERVATORY_DISCLOSURE_SMALL_SERIES"]
        hours = os.environ.get("OBSERVATORY_SESSION_HOURS", "8")
        try:
            if not 0 < float(hours) <= 24 * 30:
                raise ValueError
        except ValueError:
            return "cli.config.session_hours", hours
        url = os.environ.get("OBSERVATORY_DAGSTER_POSTGRES_URL", "")
        if url and not url.startswith("postgresql+psycopg2://"):  # the driver dagster-postgres brings
            return "cli.config.postgres_url", url.split("@")[-1][:80]  # never the password
        return None

    def ensure_dirs(self) -> None:
        for path in (
            self.landing_dir,
            self.archive_dir,
            self.serving_dir,
            self.dagster_home,
            self.exports_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)
        # What ministries sent, before disclosure control, is for the platform's account only.
        for private in (self.landing_dir, self.archive_dir, self.dagster_home):
            private.chmod(0o700)


def get_settings() -> Settings:
    return Settings.from_env()
