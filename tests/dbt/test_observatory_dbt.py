"""dbt started in the warehouse's folder (`observatory-dbt`, and ``build`` in the run's own
process), so its parse state outlives a home."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from pipelines.lib.dbt import (
    DBT,
    PARSE_STATE,
    DbtBuildFailed,
    build,
    dbt_environment,
    prepare_manifest,
)
from pipelines.lib.i18n import t
from pipelines.settings import DBT_PROJECT_DIR, Settings


def test_another_home_reuses_the_parse_state(tmp_path):
    """The parse state left by a build in one home serves a build in another: the profile no
    longer changes with the warehouse's path, which made dbt parse the whole project again."""
    prepare_manifest()  # the state of the repository's own home (`make setup`)
    home = tmp_path / "elsewhere"  # not there yet, as a fresh clone's `data/`
    target = tmp_path / "target"
    target.mkdir()
    shutil.copyfile(PARSE_STATE, target / PARSE_STATE.name)
    env = {**os.environ, **dbt_environment(Settings(home=home))}
    completed = subprocess.run(
        [str(DBT), "parse", "--target-path", str(target), "--log-path", "logs"],
        env=env, cwd=tmp_path, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:]
    log = (tmp_path / "logs" / "dbt.log").read_text()  # a relative path kept its meaning
    assert "Partial parsing enabled" in log
    assert "Unable to do partial parsing" not in log
    assert not (home / "logs").exists()


def test_a_home_it_cannot_enter_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {**os.environ, "OBSERVATORY_WAREHOUSE": str(blocker / "home" / "warehouse.duckdb")}
    env.pop("OBSERVATORY_LANG", None)
    completed = subprocess.run([str(DBT), "parse"], env=env, capture_output=True, text=True)
    assert completed.returncode != 0
    assert completed.stderr.strip().count("\n") == 0
    assert completed.stderr.startswith("observatory-dbt: no se puede trabajar en")  # es by default


def test_a_warehouse_under_another_name_is_refused_in_one_line(tmp_path):
    env = {**os.environ, "OBSERVATORY_WAREHOUSE": str(tmp_path / "other.duckdb"),
           "OBSERVATORY_LANG": "fr"}
    completed = subprocess.run([str(DBT), "parse"], env=env, capture_output=True, text=True)
    assert completed.returncode != 0
    assert completed.stderr.strip().count("\n") == 0
    assert completed.stderr.strip() == t("cli.dbt.warehouse_name", "fr", expected="warehouse.duckdb",
                                          name="other.duckdb", path=tmp_path / "other.duckdb")
    assert not (tmp_path / "other.duckdb").exists()


def test_a_build_in_this_process_leaves_the_warehouse_folder_and_file_as_it_found_them(
        tmp_path, monkeypatch):
    """dbt in the run's own process: afterwards the working directory and the environment are the
    caller's again, and the warehouse is closed (another process can write to it at once). A
    dbt invocation before it in the process, on another file, that failed (a test of a seed
    without the other) leaves dbt-duckdb's database open there: the build still writes to its
    own."""
    from dbt.cli.main import dbtRunner

    build(Settings(home=tmp_path / "first"), ["countries", "population"])  # parsed, kept
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    dbtRunner().invoke(["build", "--select", "countries", "--project-dir", str(DBT_PROJECT_DIR),
                        "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path",
                        str(elsewhere / "target"), "--log-path", str(elsewhere), "--quiet"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OBSERVATORY_HOME", "home")  # relative, as a user may set it
    monkeypatch.delenv("OBSERVATORY_WAREHOUSE", raising=False)
    settings = Settings(home=tmp_path / "home")
    outcomes = build(settings, ["countries", "population"])  # seeds: no other table needed
    status = {o.unique_id: o.status for o in outcomes}
    assert status["seed.observatory.countries"] == status["seed.observatory.population"] == "success"
    assert os.getcwd() == str(tmp_path)
    assert os.environ["OBSERVATORY_HOME"] == "home"
    assert "OBSERVATORY_WAREHOUSE" not in os.environ
    writer = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute("
         "'select count(*) from seeds.countries').fetchone()", str(settings.warehouse_path)],
        capture_output=True, text=True)
    assert writer.returncode == 0, writer.stderr
    with duckdb.connect(str(elsewhere / "warehouse.duckdb"), read_only=True) as con:
        assert not con.execute("select count(*) from information_schema.tables "
                               "where table_name = 'population'").fetchone()[0]


def test_a_failed_build_names_its_failed_node(tmp_path):
    """An empty warehouse has no raw tables: the model that reads them fails, and says so."""
    with pytest.raises(DbtBuildFailed, match=r"model\.observatory\.stg_raw__submissions: error"):
        build(Settings(home=tmp_path / "home"), ["stg_raw__submissions"])
    assert os.getcwd() != str(tmp_path / "home")
