"""Fixtures of the dashboard tests: a temporary ``$OBSERVATORY_HOME`` with or without a published
serving snapshot (see ``dashboard_snapshot.py``), with or without UNODC's history."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import streamlit as st
from dashboard_marts import PROFILE_GTM_2025Q2, write_history_marts
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


@pytest.fixture(scope="session")
def _shared_history_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dashboard_history_home")
    path = write_snapshot(home / "serving")
    with duckdb.connect(str(path)) as con:
        write_history_marts(con)
    return home


@pytest.fixture
def history_home(_shared_history_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Like ``snapshot_home``, with UNODC's history (issue 6) in the snapshot: two vintages of
    ``marts.history_values`` (see ``dashboard_marts.HISTORY``)."""
    monkeypatch.setenv("OBSERVATORY_HOME", str(_shared_history_home))
    return _shared_history_home


@pytest.fixture
def profile_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Like ``snapshot_home``, with GTM's four-way profile (``PROFILE_GTM_2025Q2``) added."""
    path = write_snapshot(tmp_path / "serving")
    with duckdb.connect(str(path)) as con:
        con.executemany(
            "insert into marts.indicator_values values ('VIC_PROFILE_SHARE', 'GTM', '2025-Q2', "
            "'Q', '2025-06-30', ?, ?, '_T', ?, 'PERCENT', 'P', 1, 1)",
            [(sex, age, value) for (sex, age), value in PROFILE_GTM_2025Q2.items()])
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$OBSERVATORY_HOME`` where the pipeline has not published anything yet."""
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path))
    return tmp_path
