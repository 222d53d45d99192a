"""Intake: bytes kept, nothing half-loaded, duplicates recognised, hostile names harmless."""

import duckdb
import pytest

from pipelines.lib import intake
from pipelines.lib.intake import Delivery, take_in
from pipelines.settings import get_settings
from tests.robustness.corpus import csv_bytes, justice_rows


def counts(home):
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                for t in ("files", "submissions", "observations", "findings", "audit_events")}
    finally:
        con.close()


def test_a_hostile_file_name_is_kept_as_metadata_only(observatory_home, tmp_path):
    weird = tmp_path / "..;rm -rf ~;$(reboot)..csv"
    weird.write_bytes(csv_bytes())
    [outcome] = take_in([Delivery(weird)], get_settings())
    assert outcome.accepted
    stored = sorted(p.name for p in (observatory_home / "archive").iterdir())
    assert stored == [outcome.sha256, f"{outcome.sha256}.report.json"]
    con = duckdb.connect(str(observatory_home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select original_name from raw.files").fetchone()[0] == weird.name
    con.close()


def test_a_failure_while_storing_leaves_nothing_half_loaded(observatory_home, tmp_path, monkeypatch):
    landing = tmp_path / "two_units.csv"
    landing.write_bytes(csv_bytes(justice_rows() + [
        ["SOM_JUSTICE", "GTM", "2024-Q1", "SOM_CASES", "", "", "", "", "2", ""]]))
    calls = {"n": 0}
    real = intake._store_unit

    def failing_store(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "_store_unit", failing_store)
    with pytest.raises(OSError):
        take_in([Delivery(landing, remove_after=True)], get_settings())
    assert counts(observatory_home) == dict.fromkeys(
        ("files", "submissions", "observations", "findings", "audit_events"), 0)
    assert landing.exists()  # still in the landing folder: the next run takes it in
    monkeypatch.setattr(intake, "_store_unit", real)
    [outcome] = take_in([Delivery(landing, remove_after=True)], get_settings())
    assert [u.status for u in outcome.units] == ["validated", "rejected"]
    assert not landing.exists()
    assert counts(observatory_home)["files"] == 1


def test_same_bytes_in_one_batch_are_stored_once(observatory_home, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(csv_bytes())
    second.write_bytes(csv_bytes())
    outcomes = take_in([Delivery(first), Delivery(second)], get_settings())
    assert [o.duplicate for o in outcomes] == [False, True]
    assert counts(observatory_home)["submissions"] == 1


def test_an_operator_load_after_the_window_is_an_audited_back_load(observatory_home, tmp_path):
    old = tmp_path / "old.csv"
    old.write_bytes(csv_bytes())  # GTM 2024-Q1: its window closed on 2024-07-29
    [outcome] = take_in([Delivery(old, channel="cli", actor="operator")], get_settings())
    assert outcome.accepted and outcome.units[0].is_late is True
    demo = tmp_path / "demo.csv"
    # Other figures (one more case): the same figures would keep the version in use.
    demo.write_bytes(csv_bytes(justice_rows({(0, 9): "demo", (15, 8): "5"})))
    import datetime as dt

    take_in([Delivery(demo, channel="demo", received_on=dt.date(2024, 4, 20))], get_settings())
    con = duckdb.connect(str(observatory_home / "warehouse.duckdb"), read_only=True)
    events = con.execute("select actor, reason from raw.audit_events "
                         "where action = 'operator_back_load'").fetchall()
    late = con.execute("select is_late from raw.submissions order by version").fetchall()
    con.close()
    assert events == [("operator", "GTM TIP_JUSTICE 2024-Q1 loaded after its window closed")]
    assert late == [(True,), (False,)]  # the demo's receipt date on record was on time
