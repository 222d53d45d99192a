"""The secretariat's upload of a plan version from the Plan page, for real: the plan job checks
who asks (the run's configuration can come from anyone who reaches the orchestrator) before it
reads a file, and the page hands the job to a real orchestrator (daemon and operator UI over a
temporary home), never writing the warehouse itself."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.workflow_ui import TOKEN_KEY
from pipelines.defs.local import run_here
from pipelines.lib.auth import AuthStore
from pipelines.lib.i18n import t
from pipelines.lib.inputs import inbox_dir, uploads_dir
from pipelines.lib.plan import columns
from pipelines.lib.warehouse import writer_lock
from pipelines.settings import get_settings
from tests.conftest import module_home

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PASSWORD = "correct horse battery"
ROW = {"objective_id": "O1", "objective_es": "Asistir", "objective_en": "Assist",
       "objective_fr": "Assister", "aim": "3", "indicator": "VIC_ASSISTED_PER_VICTIM",
       "ref_area": "REG", "direction": "increase", "baseline_period": "2024",
       "baseline_value": "0.5", "target_period": "2028", "target_value": "0.8"}


def plan_bytes(**change) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    writer.writerow({c: "" for c in columns()} | ROW | change)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with module_home(tmp_path_factory, "plan_upload") as home, pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home / "dagster"))
        settings = get_settings()
        settings.ensure_dirs()
        store = AuthStore(settings)
        for name, role in (("rita", "reviewer"), ("ana", "analyst"), ("adam", "admin")):
            store.add_user(name, role, PASSWORD)
        yield home


def in_uploads(name: str, data: bytes) -> Path:
    folder = uploads_dir(get_settings())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def versions(home: Path) -> list[tuple]:
    path = home / "warehouse.duckdb"
    if not path.exists():
        return []
    # The page shows the report before the job's rebuild and publication end: read once the
    # writer is done, as any reader of the warehouse must.
    with writer_lock(get_settings()), duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select version, status, imported_by from raw.plan_versions "
                           "order by 1").fetchall()


def refusals(home: Path) -> list[tuple]:
    with writer_lock(get_settings()), \
            duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select actor, reason from raw.audit_events where action = 'refused' "
                           "order by occurred_at").fetchall()


def run_plan_job(config: dict):
    return run_here(get_settings(), log_level="CRITICAL")(
        "plan_job", "plan_import", config, {"observatory/channel": config.get("channel", "plan")})


@pytest.mark.parametrize(("case", "reason"), [
    ("an analyst", "workflow.refused.forbidden"),
    ("no grant", "workflow.refused.unverified"),
    ("a borrowed role", "workflow.refused.forbidden"),
    ("the command line in a reviewer's name", "workflow.refused.forbidden"),
    ("an illustrative plan from the page", "workflow.refused.forbidden"),
    ("no such account", "workflow.refused.unknown_actor"),
])
def test_the_job_refuses_whoever_may_not_import_a_plan(home, case, reason):
    store = AuthStore(get_settings())
    path = in_uploads(f"{case.replace(' ', '_')}.csv", plan_bytes())
    config = {"file": str(path), "actor": "rita", "channel": "upload", "role": "reviewer",
              "grant": store.grant("rita", "manage_plan")}
    if case == "an analyst":
        config.update(actor="ana", role="analyst", grant=store.grant("ana", "manage_plan"))
    elif case == "no grant":
        config["grant"] = ""
    elif case == "a borrowed role":
        config["role"] = "admin"
    elif case == "the command line in a reviewer's name":
        config.update(channel="plan", role="operator")
    elif case == "an illustrative plan from the page":
        config["illustrative"] = True
    elif case == "no such account":
        config["actor"] = "mallory"
    before = len(refusals(home)) if (home / "warehouse.duckdb").exists() else 0
    state = run_plan_job(config)
    assert not state.success
    assert reason in state.first_error()
    assert versions(home) == []
    assert len(refusals(home)) == before + 1 and refusals(home)[-1][1] == reason


def test_a_page_run_reads_only_the_uploads_folder(home):
    store = AuthStore(get_settings())
    folder = inbox_dir(get_settings())
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / "plan.csv"
    staged.write_bytes(plan_bytes())
    state = run_plan_job({"file": str(staged), "actor": "rita", "channel": "upload",
                          "role": "reviewer", "grant": store.grant("rita", "manage_plan")})
    assert not state.success and "input.outside" in state.first_error()
    assert versions(home) == []


def test_a_grant_is_used_once(home):
    store = AuthStore(get_settings())
    grant = store.grant("rita", "manage_plan")
    broken = in_uploads("broken.xlsx", b"PK\x03\x04 not a workbook")
    state = run_plan_job({"file": str(broken), "actor": "rita", "channel": "upload",
                          "role": "reviewer", "grant": grant})
    assert state.success  # the report says the file is not a plan; nothing stored
    assert not broken.exists() and versions(home) == []
    again = in_uploads("again.csv", plan_bytes())
    state = run_plan_job({"file": str(again), "actor": "rita", "channel": "upload",
                          "role": "reviewer", "grant": grant})
    assert not state.success and "workflow.refused.unverified" in state.first_error()


def sign_in(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.query_params["lang"] = "en"
    at.session_state[TOKEN_KEY] = AuthStore(get_settings()).sign_in(name, PASSWORD)
    at.run()
    at.switch_page("views/plan.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_an_orchestrator_the_page_says_so_and_keeps_nothing(home):
    before = set(uploads_dir(get_settings()).iterdir())  # what the refused runs above left
    at = sign_in("rita")
    at.file_uploader(key="plan_upload").upload("plan.csv", plan_bytes(), "text/csv")
    at.button(key="plan_upload.send").click()
    at.run()
    assert t("workflow.orchestrator_down", "en") in [e.value for e in at.error]
    assert set(uploads_dir(get_settings()).iterdir()) == before
    assert versions(home) == []


def test_the_secretariat_uploads_a_version_from_the_page(home, tmp_path):
    """A reviewer's upload through the real orchestrator: the report on the page, a version
    stored in the reviewer's name, the upload's copy removed, then a bad file rejected with its
    cell-level finding."""
    from tests.served import orchestrating

    before = set(uploads_dir(get_settings()).iterdir())
    with orchestrating(home, tmp_path / "orchestrator.log"):
        at = sign_in("rita")
        at.file_uploader(key="plan_upload").upload("plan_2026.csv", plan_bytes(), "text/csv")
        at.button(key="plan_upload.send").click()
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        [report] = [c.value for c in at.code]
        assert "plan_2026.csv" in report
        assert t("plan.report.accepted", "en", version=1, rows=1, warnings=0) in report
        assert versions(home) == [(1, "accepted", "rita")]

        at.file_uploader(key="plan_upload").upload("plan_bad.csv", plan_bytes(ref_area="PAN"),
                                                   "text/csv")
        at.button(key="plan_upload.send").click()
        at.run()
        [report] = [c.value for c in at.code]
        assert t("plan.report.rejected", "en", version=2, rows=1, errors=1, warnings=0) in report
        assert "[P04" in report and "ref_area" in report
    assert versions(home) == [(1, "accepted", "rita"), (2, "rejected", "rita")]
    assert set(uploads_dir(get_settings()).iterdir()) == before  # the page's copies removed
