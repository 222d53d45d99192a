"""Shared test set-up: a fixed 'today', fixture paths, an isolated observatory home."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
TODAY = dt.date(2026, 11, 28)

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture
def fixture_path():
    def _path(name: str) -> Path:
        return FIXTURES / name

    return _path


@pytest.fixture
def observatory_home(tmp_path, monkeypatch) -> Path:
    """An empty observatory home (``$OBSERVATORY_HOME``) with today pinned."""
    home = tmp_path / "home"
    monkeypatch.setenv("OBSERVATORY_HOME", str(home))
    monkeypatch.setenv("OBSERVATORY_TODAY", TODAY.isoformat())
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    return home
