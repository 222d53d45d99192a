"""Upgrades that keep the data: a home written by the release of 2026-11-30 (commit 89699f0, kept
as it left the files in tests/fixtures/state_2026-11-30, see make_state.sh there) is brought to
this code's schema, keeps its figures, versions, decisions and accounts, and takes a new
submission; migrating twice changes nothing; a state newer than the code is refused untouched;
a migration that fails half-way leaves the version where it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib import auth, warehouse
from pipelines.lib.auth import AuthStore
from pipelines.lib.i18n import t
from pipelines.lib.migrations import Migration, migrate_warehouse, warehouse_version
from pipelines.settings import get_settings

STATE = Path(__file__).resolve().parents[1] / "fixtures" / "state_2026-11-30"
SUBMISSIONS = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
PASSWORD = "correct horse battery"  # make_state.sh's


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def old_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in ("warehouse.duckdb", "auth.sqlite"):
        shutil.copy(STATE / name, home / name)
    shutil.copytree(STATE / "archive", home / "archive")
    monkeypatch.setenv("OBSERVATORY_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("OBSERVATORY_TODAY", "2025-01-20")
    return home


FIGURES = ("select indicator_code, ref_area, time_period, sex, age, exploitation_form, value "
           "from marts.indicator_values where ref_area = 'GTM' and time_period = '2024-Q1' "
           "order by all")
DECISIONS = "select submission_id, actor, action, to_status, reason from raw.audit_events where actor = 'rita' order by all"


def test_an_older_home_keeps_its_figures_decisions_and_accounts_and_takes_new_data(old_home, capsys):
    warehouse_path = old_home / "warehouse.duckdb"
    figures, decisions = rows(warehouse_path, FIGURES), rows(warehouse_path, DECISIONS)
    submissions = rows(warehouse_path, "select * from raw.submissions order by submission_id")
    assert figures and len(decisions) == 2 and len(submissions) == 3
    with sqlite3.connect(old_home / "auth.sqlite") as con:
        assert con.execute("pragma user_version").fetchone()[0] == 0

    assert main(["--lang", "en", "migrate"]) == 0
    out = capsys.readouterr().out
    assert t("state.migrated", "en", store="Warehouse", found=0,
             now=warehouse.MIGRATIONS[-1].version) in out
    assert t("state.migrated", "en", store="Accounts store", found=0, now=2) in out
    assert [v for v, in rows(warehouse_path, "select version from raw.schema_version order by 1")] \
        == [m.version for m in warehouse.MIGRATIONS]
    assert rows(warehouse_path, "select count(*) from raw.plan_versions") == [(0,)]
    assert rows(warehouse_path, "select count(*) from raw.policy_reports") == [(0,)]
    assert rows(warehouse_path, "select * from raw.submissions order by submission_id") == submissions
    assert rows(warehouse_path, DECISIONS) == decisions
    store = AuthStore(get_settings())
    assert store.sign_in("rita", PASSWORD) and store.sign_in("gaby", PASSWORD)
    assert store.grant("rita", "review")  # a table the old store did not have

    # A new submission goes through, and the rebuilt figures of the old quarter are the same.
    assert main(["--lang", "en", "submit", str(SUBMISSIONS / "scenario_gtm_2024q3.csv")]) == 0
    assert rows(warehouse_path, FIGURES) == figures
    assert rows(warehouse_path, "select count(*) from marts.indicator_values "
                                "where ref_area = 'GTM' and time_period = '2024-Q3'")[0][0] > 0
    status = dict(rows(warehouse_path, "select submission_id, current_status from "
                                       "marts.submissions_status"))
    assert status["8f0aa25ae9f4-TIP_VICTIMS"] == "accepted"
    assert status["7fbb3b00ee8f-TIP_VICTIMS"] == "returned"
    assert main(["--lang", "en", "verify"]) == 0

    # Twice is once: nothing more to do, nothing written.
    applied = rows(warehouse_path, "select * from raw.schema_version order by 1")
    capsys.readouterr()
    assert main(["--lang", "es", "migrate"]) == 0
    assert t("state.current", "es", store="Almacén de datos",
             now=warehouse.MIGRATIONS[-1].version) in capsys.readouterr().out
    assert rows(warehouse_path, "select * from raw.schema_version order by 1") == applied


@pytest.mark.parametrize("store", ["warehouse", "accounts"])
def test_a_state_newer_than_the_code_is_refused_untouched(old_home, capsys, store):
    assert main(["migrate"]) == 0
    if store == "warehouse":
        with duckdb.connect(str(old_home / "warehouse.duckdb")) as con:
            con.execute("insert into raw.schema_version values (99, 'from the future', now())")
    else:
        with sqlite3.connect(old_home / "auth.sqlite") as con:
            con.execute("pragma user_version = 99")
    # (SQLite's shared-memory index, -shm, changes on any read: it holds no data)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in old_home.iterdir() if p.is_file() and not p.name.endswith("-shm")}
    capsys.readouterr()
    name = t(f"state.store.{store}", "fr")
    supported = (warehouse.MIGRATIONS if store == "warehouse" else auth.MIGRATIONS)[-1].version
    for argv in (["migrate"], ["submit", str(SUBMISSIONS / "scenario_gtm_2024q3.csv")]):
        assert main(["--lang", "fr", *argv]) == 1
        err = capsys.readouterr().err
        assert err.strip() == t("state.too_new", "fr", store=name, found=99, supported=supported)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in old_home.iterdir() if p.is_file() and not p.name.endswith("-shm")}
    assert after == before


def test_a_migration_that_fails_half_way_leaves_the_version_where_it_was():
    con = duckdb.connect()
    good = Migration(1, "a table", "create table if not exists raw.t (a integer)")
    bad = Migration(2, "a column, then a mistake",
                    "alter table raw.t add column b integer; select * from no_such_table")
    assert migrate_warehouse(con, (good,)) == (0, 1)
    with pytest.raises(duckdb.Error):
        migrate_warehouse(con, (good, bad))
    assert warehouse_version(con) == 1
    assert [c[0] for c in con.execute("describe raw.t").fetchall()] == ["a"]
    fixed = Migration(2, "a column", "alter table raw.t add column b integer")
    assert migrate_warehouse(con, (good, fixed)) == (1, 2)
    assert [c[0] for c in con.execute("describe raw.t").fetchall()] == ["a", "b"]
