"""A published observatory home built once per test session through the real pipeline (Dagster
submission job, dbt, publish), with one account per role; each test gets its own copy."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import streamlit as st

sys.path.insert(0, str(Path(__file__).parent))

from filling import fill_template  # noqa: E402

from pipelines.lib.auth import AuthStore  # noqa: E402
from pipelines.lib.template import blank_template, write_xlsx  # noqa: E402

TODAY = "2026-11-28"
QUARTER = "2026-Q3"  # the last complete quarter on TODAY: its window is open
PASSWORD = "correct horse battery"
ACCOUNTS = {  # username: (role, country)
    "ana": ("submitter", "GTM"),
    "hugo": ("submitter", "HND"),
    "rita": ("reviewer", None),
    "alba": ("analyst", None),
    "eva": ("evaluator", None),
    "adm": ("admin", None),
}
UNKNOWN_VICTIMS = 7  # GTM reports 7 victims of unknown sex, age, form, citizenship: V09 warnings


def template_file(folder: Path, country: str, unknown_victims: int = 0) -> Path:
    path = write_xlsx(folder / f"{country}_{QUARTER}.xlsx", blank_template(country, QUARTER))
    return fill_template(path, unknown_victims=unknown_victims)


def _environment(home: Path) -> dict[str, str]:
    return {"OBSERVATORY_HOME": str(home), "OBSERVATORY_TODAY": TODAY,
            "DAGSTER_HOME": str(home / "dagster")}


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """GTM's and HND's 2026-Q3 templates uploaded by their submitters, published."""
    from pipelines.defs.local import run_here
    from pipelines.lib.upload import store_upload
    from pipelines.orchestrator import submit_upload
    from pipelines.settings import get_settings

    root = tmp_path_factory.mktemp("workflow")
    home = root / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _environment(home).items():
            patch.setenv(name, value)
        settings = get_settings()
        store = AuthStore(settings)
        for name, (role, country) in ACCOUNTS.items():
            store.add_user(name, role, PASSWORD, country)
        for user, country, unknown in (("ana", "GTM", UNKNOWN_VICTIMS), ("hugo", "HND", 0)):
            data = template_file(root, country, unknown).read_bytes()
            result = submit_upload(settings, store_upload(settings, data, "xlsx"), actor=user,
                                   country=country, original_name=f"{country} {QUARTER}.xlsx",
                                   runner=run_here(settings))
            assert result.ok, result.error
            assert all(u.status == "validated" for u in result.outcome.units), result.outcome
    return home


@pytest.fixture
def workflow_home(built_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    for name, value in _environment(home).items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    yield home
    st.cache_data.clear()


def sign_in(name: str) -> str:
    from pipelines.settings import get_settings

    token = AuthStore(get_settings()).sign_in(name, PASSWORD)
    assert token
    return token
