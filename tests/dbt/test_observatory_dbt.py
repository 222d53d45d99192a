"""`observatory-dbt`: dbt started in the warehouse's folder, so its parse state outlives a home."""

from __future__ import annotations

import os
import shutil
import subprocess

from pipelines.lib.dbt import DBT, PARSE_STATE, dbt_environment, prepare_manifest
from pipelines.lib.i18n import t
from pipelines.settings import Settings


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
