"""Shared test set-up: a fixed 'today', fixture paths, an isolated observatory home."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
TODAY = dt.date(2026, 11, 28)

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# The suite's many small builds only record the disclosure audit: block mode (the default) adds a
# repair and a dbt rebuild to each, some 20 s. Its own tests set it: the gate's (test_pipeline)
# and `make run`'s demo (test_make_run).
os.environ.setdefault("OBSERVATORY_DISCLOSURE_GATE", "record")


@contextlib.contextmanager
def module_home(tmp_path_factory, name: str, **env: str) -> Iterator[Path]:
    """A fresh home for a module's tests: OBSERVATORY_HOME and TODAY set (and ``env``) until
    the module ends."""
    home = tmp_path_factory.mktemp(name) / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("OBSERVATORY_HOME", str(home))
    mp.setenv("OBSERVATORY_TODAY", TODAY.isoformat())
    for key, value in env.items():
        mp.setenv(key, value)
    try:
        yield home
    finally:
        mp.undo()


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


# `make test` runs the suite on two pytest-xdist workers. A module's tests stay together on one
# worker, in order (module-scoped fixtures are built once and some modules' tests build on each
# other); modules that share a costly session fixture share a group too, and the longest groups
# are handed out first so the two workers end at about the same time.
SHARED_GROUPS = {
    "tests/workflow/test_pages.py": "workflow-built-home",
    "tests/workflow/test_review_pipeline.py": "workflow-built-home",
    "tests/workflow/test_workflow_browser.py": "workflow-built-home",
    "tests/workflow/test_integrity.py": "workflow-built-home",
    "tests/workflow/test_dryrun.py": "workflow-built-home",
    "tests/workflow/test_backup.py": "workflow-built-home",
}
LONGEST_FIRST = (
    "workflow-built-home",
    "tests/robustness/test_faults.py",
    "tests/robustness/test_concurrency.py",
    "tests/export/test_export.py",
    "tests/glotip/test_glotip_pipeline.py",
    "tests/integration/test_pipeline.py",
    "tests/plan/test_plan_upload.py",  # a real orchestrator and plan runs (about 5 min alone)
    "tests/plan/test_plan_pipeline.py",
    "tests/plan/test_harmonisation_pipeline.py",  # four pipeline runs and a browser
)


def group_of(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return SHARED_GROUPS.get(module, module)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        group = group_of(item.nodeid)
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: a module's tests keep their order


def pytest_xdist_make_scheduler(config, log):
    """Under ``-n``: whole groups (see ``group_of``) to a worker, in collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)
