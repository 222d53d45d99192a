"""Fixtures of the dashboard tests: a temporary ``$OBSERVATORY_HOME`` with or without a published
serving snapshot (see ``dashboard_snapshot.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from dashboard_snapshot import write_snapshot


@pytest.fixture(autouse=True)
def _fresh_streamlit_cache():
    """AppTest runs in this process: never let one test's cached query answer another's."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def observatory_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$OBSERVATORY_HOME`` with one published snapshot in ``serving/``."""
    write_snapshot(tmp_path / "serving")
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def _shared_snapshot_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dashboard_home")
    write_snapshot(home / "serving")
    return home


@pytest.fixture
def snapshot_home(_shared_snapshot_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Like ``observatory_home``, but the snapshot is written once per session: for tests that
    only read it (never change a file under it; sign-ins need ``observatory_home``)."""
    monkeypatch.setenv("OBSERVATORY_HOME", str(_shared_snapshot_home))
    return _shared_snapshot_home


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$OBSERVATORY_HOME`` where the pipeline has not published anything yet."""
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path))
    return tmp_path
