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
def served_dashboard(observatory_home: Path, tmp_path: Path):
    """The dashboard served by ``streamlit run`` over ``observatory_home`` on a free port."""
    from tests.served import serve_dashboard

    with serve_dashboard(observatory_home, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def observatory_home(tmp_path, monkeypatch) -> Path:
    """An empty observatory home (``$OBSERVATORY_HOME``) with today pinned."""
    home = tmp_path / "home"
    monkeypatch.setenv("OBSERVATORY_HOME", str(home))
    monkeypatch.setenv("OBSERVATORY_TODAY", TODAY.isoformat())
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    return home


# `make test` runs the suite on two pytest-xdist workers (--dist loadgroup). A module's tests stay
# together on one worker, in order (module-scoped fixtures are built once and some modules' tests
# build on each other); modules that share a costly session fixture share a group too.
SHARED_GROUPS = {
    "tests/workflow/test_pages.py": "workflow-built-home",
    "tests/workflow/test_review_pipeline.py": "workflow-built-home",
    "tests/workflow/test_workflow_browser.py": "workflow-built-home",
}


# The longest groups are handed out first so the two workers end at about the same time.
LONGEST_FIRST = (
    "workflow-built-home",
    "tests/robustness/test_faults.py",
    "tests/robustness/test_concurrency.py",
    "tests/export/test_export.py",
    "tests/glotip/test_glotip_pipeline.py",
    "tests/integration/test_pipeline.py",
)


def pytest_collection_modifyitems(config, items):
    root = Path(str(config.rootpath))
    groups = {}
    for item in items:
        module = Path(str(item.path)).relative_to(root).as_posix()
        groups[item.nodeid] = SHARED_GROUPS.get(module, module)
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))

    def rank(item):
        group = groups[item.nodeid]
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: a module's tests keep their order
