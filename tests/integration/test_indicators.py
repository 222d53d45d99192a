"""The indicator catalogue through the real pipeline: a small fixed set of submissions (with a
resubmission and a rejected file) goes through ``observatory submit`` (intake, DuckDB, dbt,
Dagster, serving snapshot) in a temporary home, and the marts must hold exactly the values
worked out by hand below.

The submissions (written by ``write_submissions``; every unit stays validated, never accepted,
so every figure is provisional, ``P``):

* GTM TIP_VICTIMS 2024-Q1..Q4: the fixture unit of ``tests/fixtures/make_fixtures.py`` (44
  victims x scale; 30 x scale own nationals, 4 x scale unknown citizenship, so 10 x scale
  foreign) at scales 1, 1, 1, 3 = 44, 44, 44, 132 -> 264 in 2024. 2024-Q1 also itemises its 10
  foreign victims: HND 6 (a member), USA 4.
* GTM TIP_JUSTICE (persons by stage x sex):
    2024-Q1  PROS F1 M4 = 5,  CONV F1 M1 = 2
    2024-Q2  v1 PROS 5, CONV 2 -> resubmitted as v2: PROS F2 M6 = 8, CONV F1 M3 = 4
    2024-Q3  PROS 5, CONV 2; a v2 whose sex parts do not add up is rejected (V05)
    2024-Q4  PROS F2 M4 = 6,  CONV F0 M2 = 2
  -> 2024: prosecuted 5 + 8 + 5 + 6 = 24, convicted 2 + 4 + 2 + 2 = 10 (women 1 + 1 + 1 + 0 = 3).
* GTM COORDINATION 2024-Q1: sent 6 to MEX, 2 to HND. MEX COORDINATION 2024-Q1: received 4 from
  GTM. HND sends no COORDINATION.
* Every file arrives in 2026 (OBSERVATORY_TODAY), long after the due dates: all late.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.publish import current_snapshot
from pipelines.settings import Settings, get_settings
from tests.fixtures.make_fixtures import victims_rows

pytestmark = pytest.mark.integration

COLUMNS = ["dataset", "country", "period", "indicator", "sex", "age", "exploitation_form",
           "citizenship", "counterpart_area", "stage", "identification_channel", "value",
           "comment"]
GTM_POPULATION_2024 = 18_406_359  # shared/data/population.csv, GTM 2024 total


def justice_rows(country: str, period: str, stages: dict[str, dict[str, int]]) -> list[dict]:
    """TIP_PERSONS by stage x sex (X and _U 0), with the _T row of each stage."""
    rows = []
    for stage, by_sex in stages.items():
        cells = {"F": by_sex.get("F", 0), "M": by_sex.get("M", 0), "X": 0, "_U": 0}
        cells["_T"] = sum(cells.values())
        for sex, value in cells.items():
            rows.append({"dataset": "TIP_JUSTICE", "country": country, "period": period,
                         "indicator": "TIP_PERSONS", "stage": stage, "sex": sex, "age": "_T",
                         "citizenship": "_T", "value": value})
    return rows


def coordination_rows(country: str, period: str, rows: list[tuple[str, str, int]]) -> list[dict]:
    return [{"dataset": "COORDINATION", "country": country, "period": period,
             "indicator": indicator, "counterpart_area": counterpart, "value": value}
            for indicator, counterpart, value in rows]


def write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_submissions(folder: Path) -> list[Path]:
    """The scenario's files, in the order they are submitted."""
    folder.mkdir(parents=True, exist_ok=True)
    usual = {"SUSP": {"F": 2, "M": 8}, "PROS": {"F": 1, "M": 4}, "CONV": {"F": 1, "M": 1}}
    q1_victims = victims_rows("GTM", "2024-Q1")
    base = {k: v for k, v in q1_victims[-1].items() if k not in ("citizenship", "value")}
    q1_victims += [{**base, "citizenship": "HND", "value": 6},
                   {**base, "citizenship": "USA", "value": 4}]
    bad_q3 = justice_rows("GTM", "2024-Q3", usual)
    bad_q3[0]["value"] = 3  # SUSP F 2 -> 3: the sex parts no longer add up to _T (V05)
    files = [
        ("GTM_2024-Q1.csv", q1_victims + justice_rows("GTM", "2024-Q1", usual)
         + coordination_rows("GTM", "2024-Q1", [("REF_SENT", "MEX", 6), ("REF_SENT", "HND", 2)])),
        ("MEX_2024-Q1.csv", coordination_rows("MEX", "2024-Q1", [("REF_RECEIVED", "GTM", 4)])),
        ("GTM_2024-Q2.csv", victims_rows("GTM", "2024-Q2") + justice_rows("GTM", "2024-Q2", usual)),
        ("GTM_2024-Q2_TIP_JUSTICE_v2.csv", justice_rows("GTM", "2024-Q2", {
            "SUSP": {"F": 2, "M": 8}, "PROS": {"F": 2, "M": 6}, "CONV": {"F": 1, "M": 3}})),
        ("GTM_2024-Q3.csv", victims_rows("GTM", "2024-Q3") + justice_rows("GTM", "2024-Q3", usual)),
        ("GTM_2024-Q3_TIP_JUSTICE_v2_bad.csv", bad_q3),
        ("GTM_2024-Q4.csv", victims_rows("GTM", "2024-Q4", 3) + justice_rows("GTM", "2024-Q4", {
            "SUSP": {"F": 2, "M": 8}, "PROS": {"F": 2, "M": 4}, "CONV": {"F": 0, "M": 2}})),
    ]
    return [write(folder / name, rows) for name, rows in files]


# (indicator, area, period, sex, age, form) -> (value, unit, obs_status, n_countries), by hand.
EXPECTED = {
    ("VIC_DETECTED", "GTM", "2024", "_T", "_T", "_T"): (264.0, "PERSONS", "P", 1),
    ("VIC_FOREIGN_SHARE", "GTM", "2024-Q1", "_T", "_T", "_T"): (25.0, "PERCENT", "P", 1),  # 10 / 40
    ("VIC_DOMESTIC_SHARE", "GTM", "2024", "_T", "_T", "_T"): (75.0, "PERCENT", "P", 1),  # 180 / 240
    ("VIC_INTRAREG_SHARE", "GTM", "2024-Q1", "_T", "_T", "_T"): (60.0, "PERCENT", "P", 1),  # 6 / 10
    ("VIC_CITIZENSHIP_UNKNOWN_SHARE", "GTM", "2024-Q4", "_T", "_T", "_T"):
        (100 * 12 / 132, "PERCENT", "P", 1),
    # Four-way profile: per 44 x scale, F 10 girls + 20 women, M 4 boys + 6 men, X 0: 40 of known
    # sex and age; 2024 is scale 6 -> 240 known of 264.
    ("VIC_DETECTED", "GTM", "2024-Q4", "F", "Y0T17", "_T"): (30.0, "PERSONS", "P", 1),  # 10 x 3
    ("VIC_PROFILE_SHARE", "GTM", "2024", "F", "Y_GE18", "_T"): (50.0, "PERCENT", "P", 1),  # 120/240
    ("VIC_PROFILE_SHARE", "GTM", "2024", "M", "Y0T17", "_T"): (10.0, "PERCENT", "P", 1),  # 24/240
    ("VIC_PROFILE_UNKNOWN_SHARE", "GTM", "2024", "_T", "_T", "_T"):
        (100 * 24 / 264, "PERCENT", "P", 1),
    ("TIP_PROSECUTED", "GTM", "2024-Q2", "_T", "_T", "_T"): (8.0, "PERSONS", "P", 1),  # v2, not 5
    ("TIP_PROSECUTED", "GTM", "2024-Q2", "F", "_T", "_T"): (2.0, "PERSONS", "P", 1),
    ("TIP_CONVICTED", "GTM", "2024-Q3", "_T", "_T", "_T"): (2.0, "PERSONS", "P", 1),  # v2 rejected
    ("TIP_PROSECUTED", "GTM", "2024", "_T", "_T", "_T"): (24.0, "PERSONS", "P", 1),
    ("TIP_CONVICTED", "GTM", "2024", "_T", "_T", "_T"): (10.0, "PERSONS", "P", 1),
    ("TIP_CONVICTED", "REG", "2024", "_T", "_T", "_T"): (10.0, "PERSONS", "P", 1),
    ("TIP_CONVICTION_RATIO", "GTM", "2024", "_T", "_T", "_T"): (10 / 24, "RATIO", "P", 1),
    ("TIP_CONVICTION_RATIO", "GTM", "2024-Q4-R4Q", "_T", "_T", "_T"): (10 / 24, "RATIO", "P", 1),
    ("TIP_CONVICTED_PER_100_VIC", "GTM", "2024", "_T", "_T", "_T"): (1000 / 264, "PER_100", "P", 1),
    ("TIP_CONVICTED_FEMALE_SHARE", "GTM", "2024", "_T", "_T", "_T"): (30.0, "PERCENT", "P", 1),
    ("TIP_CONVICTED_FEMALE_SHARE", "GTM", "2024-Q2", "_T", "_T", "_T"): (25.0, "PERCENT", "P", 1),
    ("TIP_PROSECUTED_RATE_100K", "GTM", "2024", "_T", "_T", "_T"):
        (24 / GTM_POPULATION_2024 * 100_000, "PER_100K", "P", 1),
    ("REF_SENT", "GTM", "2024-Q1", "_T", "_T", "_T"): (8.0, "PERSONS", "P", 1),
    ("REF_RECEIVED", "MEX", "2024-Q1", "_T", "_T", "_T"): (4.0, "PERSONS", "P", 1),
    ("REF_SENT", "REG", "2024-Q1", "_T", "_T", "_T"): (8.0, "PERSONS", "P", 2),
    ("REF_MIRROR_GAP", "GTM", "2024-Q1", "_T", "_T", "_T"): (100 * 2 / 6, "PERCENT", "P", 1),
    ("REPORTING_RATE", "GTM", "2024-Q1", "_T", "_T", "_T"): (60.0, "PERCENT", "P", 1),  # 3 of 5
    ("REPORTING_RATE", "GTM", "2024", "_T", "_T", "_T"): (45.0, "PERCENT", "P", 1),  # 9 of 20
    ("REPORTING_RATE", "MEX", "2024-Q1", "_T", "_T", "_T"): (20.0, "PERCENT", "P", 1),
    ("REPORTING_RATE", "REG", "2024-Q1", "_T", "_T", "_T"): (10.0, "PERCENT", "P", 8),  # 4 of 40
    ("ON_TIME_RATE", "GTM", "2024", "_T", "_T", "_T"): (0.0, "PERCENT", "P", 1),  # all back-loaded
}
# Rows that must NOT exist.
ABSENT = [
    ("TIP_CONVICTION_RATIO", "GTM", "2024-Q2", "_T", "_T", "_T"),  # never quarterly
    ("TIP_PROSECUTED_RATE_100K", "GTM", "2024-Q4", "_T", "_T", "_T"),  # never quarterly
    ("VIC_INTRAREG_SHARE", "GTM", "2024-Q2", "_T", "_T", "_T"),  # foreign victims not itemised
    ("REF_SENT", "GTM", "2024-Q4-R4Q", "_T", "_T", "_T"),  # one quarter of COORDINATION only
    ("VIC_DETECTED_YOY", "GTM", "2024-Q4", "_T", "_T", "_T"),  # no base a year earlier
]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """Submit the scenario through the real pipeline once; yield the exit code and the snapshot."""
    root = tmp_path_factory.mktemp("indicators")
    mp = pytest.MonkeyPatch()
    mp.setenv("OBSERVATORY_HOME", str(root / "home"))
    mp.setenv("OBSERVATORY_TODAY", "2026-11-28")
    mp.setenv("DAGSTER_HOME", str(root / "home" / "dagster"))
    files = write_submissions(root / "submissions")
    code = main(["--lang", "en", "submit", *[str(path) for path in files]])
    path = current_snapshot(get_settings())
    con = duckdb.connect(str(path), read_only=True) if path else None
    yield code, con, root / "home"
    if con is not None:
        con.close()
    mp.undo()


def test_the_bad_version_is_rejected_and_the_rest_accepted(snapshot):
    code, con, _ = snapshot
    assert code == 1  # one file rejected
    assert con is not None


@pytest.fixture(scope="module")
def warehouse(snapshot):
    """The figures before disclosure control, which the public snapshot does not hold."""
    _, _, home = snapshot
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_indicator_values_match_the_hand_computed_table(snapshot, warehouse):
    _, con, _ = snapshot
    rows = warehouse.execute(
        "select indicator_code, ref_area, time_period, sex, age, exploitation_form, value, unit, "
        "obs_status, n_countries from marts.indicator_values").fetchall()
    table = {row[:6]: row[6:] for row in rows}
    assert len(table) == len(rows)
    got = {key: table.get(key) for key in EXPECTED}
    for key, (value, unit, status, n_countries) in EXPECTED.items():
        assert got[key] is not None, f"missing {key}"
        assert got[key][0] == pytest.approx(value, rel=1e-12), key
        assert got[key][1:] == (unit, status, n_countries), key
    for key in ABSENT:
        assert key not in table, key
    # Every code is in the registry, which is published beside the values.
    codes = {row[0] for row in rows}
    registry = {r[0] for r in con.execute("select indicator_code from marts.dim_indicator").fetchall()}
    assert codes <= registry


def test_a_year_with_quarters_not_yet_accepted_is_flagged_incomplete(snapshot, warehouse):
    # GTM has all four quarters of 2024, validated but never accepted: an incomplete year.
    _, con, _ = snapshot
    for mart, source in (("indicator_values", warehouse), ("indicator_values_published", con)):
        rows = source.execute(
            f"select ref_area, obs_status, is_complete_year from marts.{mart} "
            "where indicator_code = 'VIC_DETECTED' and time_period = '2024' and sex = '_T' "
            "and age = '_T' and exploitation_form = '_T' order by 1").fetchall()
        assert rows == [("GTM", "P", False), ("REG", "P", False)], mart


def test_coordination_mirror_pairs(warehouse):
    con = warehouse
    rows = con.execute(
        "select sender, receiver, sent_by_sender, received_by_receiver, sender_reported, "
        "receiver_reported, mirror_gap_percent, pair_status from marts.coordination_mirror "
        "where time_period = '2024-Q1' order by 1, 2").fetchall()
    assert rows == [
        ("GTM", "HND", 2.0, None, True, False, None, "sender_only"),
        ("GTM", "MEX", 6.0, 4.0, True, True, pytest.approx(100 * 2 / 6), "gap"),
    ]


def test_coordination_mirror_published_hides_small_pairs_and_their_complement(snapshot):
    """GTM sent 2 to HND (A) and 6 to MEX; its REF_SENT 8 is published, so the 6 is hidden too
    (D), or 8 - 6 would give the 2 back. MEX received 4 (A). Gaps and telling statuses go too."""
    _, con, _ = snapshot
    assert con.execute(
        "select conf_status from marts.indicator_values_published where indicator_code = "
        "'REF_SENT' and ref_area = 'GTM' and time_period = '2024-Q1'").fetchone() == ("F",)
    rows = con.execute(
        "select sender, receiver, sent_by_sender, sent_conf_status, received_by_receiver, "
        "received_conf_status, gap_persons, gap_conf_status, pair_status "
        "from marts.coordination_mirror_published where time_period = '2024-Q1' "
        "order by 1, 2").fetchall()
    assert rows == [
        ("GTM", "HND", None, "A", None, "F", None, "F", "sender_only"),
        ("GTM", "MEX", None, "D", None, "A", None, "D", "confidential"),
    ]


def test_flows_publish_only_five_or_more_and_keep_the_full_matrix_internal(snapshot):
    _, con, home = snapshot
    published = con.execute(
        "select origin_area, destination_area, victims, is_domestic, origin_is_member "
        "from marts.flows_victims where time_period = '2024-Q1' order by 1").fetchall()
    assert published == [("GTM", "GTM", 30.0, True, True), ("HND", "GTM", 6.0, False, True)]
    yearly = con.execute(
        "select victims from marts.flows_victims where time_period = '2024' "
        "and origin_area = 'GTM'").fetchall()
    assert yearly == [(30.0 * 6,)]
    schemas = {r[0] for r in con.execute(
        "select distinct table_schema from information_schema.tables").fetchall()}
    assert "internal" not in schemas  # the full matrix never leaves the warehouse
    warehouse = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        full = warehouse.execute(
            "select origin_area, victims from internal.flows_victims_full "
            "where time_period = '2024-Q1' order by 1").fetchall()
    finally:
        warehouse.close()
    assert full == [("GTM", 30.0), ("HND", 6.0), ("USA", 4.0), ("_U", 4.0)]


def test_data_quality_marts(snapshot):
    _, con, _ = snapshot
    revisions = con.execute(
        "select period, n_versions, n_rejected, n_validated, is_revised, selected_version "
        "from marts.dq_revisions where country = 'GTM' and dataset = 'TIP_JUSTICE' "
        "order by period").fetchall()
    assert revisions == [
        ("2024-Q1", 1, 0, 1, False, 1),
        ("2024-Q2", 2, 0, 2, True, 2),
        ("2024-Q3", 2, 1, 1, False, 1),
        ("2024-Q4", 1, 0, 1, False, 1),
    ]
    years = dict(con.execute(
        "select dataset, year_status from marts.dq_year_completeness "
        "where country = 'GTM' and time_period = '2024'").fetchall())
    assert years == {"TIP_VICTIMS": "complete_provisional", "TIP_JUSTICE": "complete_provisional",
                     "COORDINATION": "incomplete", "SOM_MIGRANTS": "incomplete",
                     "SOM_JUSTICE": "incomplete"}
    rates = con.execute(
        "select units_expected, units_reported, units_on_time, reporting_rate from "
        "marts.dq_reporting_rates where ref_area = 'GTM' and dataset = 'TIP_JUSTICE' "
        "and time_period = '2024'").fetchone()
    assert rates == (4, 4, 0, 100.0)
    rejected = con.execute(
        "select rule, severity, n_findings from marts.dq_submission_findings "
        "where current_status = 'rejected'").fetchall()
    assert [(rule, severity) for rule, severity, _ in rejected] == [("V05", "ERROR")]
    unknown = con.execute(
        "select unknown, total, unknown_share from marts.dq_unknown_shares where country = 'GTM' "
        "and period = '2024-Q4' and indicator = 'VIC_DETECTED' and dimension = 'sex'").fetchone()
    assert unknown == (6.0, 132.0, pytest.approx(100 * 6 / 132))


def test_the_annual_design_withholds_the_detail_of_small_series_and_narrows_less(
        snapshot, tmp_path, monkeypatch):
    """OBSERVATORY_DISCLOSURE_SMALL_SERIES=annual on the scenario's warehouse (a copy, rebuilt by
    dbt): GTM's victims of 2024 have small breakdowns (4 of unknown citizenship a quarter, among
    others), so their breakdowns, flows and quality shares are withheld (N, no value, no "<5")
    while the quarterly and annual totals stay; and the audit finds fewer cells an outsider can
    narrow than in the default design."""
    from pipelines.lib.dbt import build
    from pipelines.lib.disclosure.audit import audit
    from pipelines.lib.disclosure.gate import REBUILD, min_count
    from pipelines.lib.disclosure.relations import build_system

    _, _, home = snapshot
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(home / "warehouse.duckdb", warehouse)

    def failing(path: Path) -> tuple[int, int]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            system, _ = build_system(con, min_count())
        finally:
            con.close()
        result = audit(system, min_count())
        return result.failing, result.hidden

    before, hidden_before = failing(warehouse)
    monkeypatch.setenv("OBSERVATORY_DISCLOSURE_SMALL_SERIES", "annual")
    build(Settings(home=tmp_path), ["disclosure_withheld+", *REBUILD])  # on the copy

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        totals = con.execute(
            "select time_period, value, conf_status from marts.indicator_values_published "
            "where indicator_code = 'VIC_DETECTED' and ref_area = 'GTM' and sex = '_T' "
            "and age = '_T' and exploitation_form = '_T' and time_period in ('2024-Q1', '2024') "
            "order by 1").fetchall()
        assert totals == [("2024", 264.0, "F"), ("2024-Q1", 44.0, "F")]
        detail = con.execute(
            "select distinct conf_status, value from marts.indicator_values_published "
            "where indicator_code = 'VIC_DETECTED' and ref_area = 'GTM' "
            "and time_period in ('2024-Q1', '2024') and sex = 'F' and age = '_T' "
            "and exploitation_form = '_T'").fetchall()
        assert detail == [("N", None)]
        assert con.execute("select count(*) from marts.flows_victims").fetchone() == (0,)
        assert con.execute(
            "select conf_status, unknown from marts.dq_unknown_shares where country = 'GTM' "
            "and period = '2024-Q4' and indicator = 'VIC_DETECTED' and dimension = 'sex'"
        ).fetchone() == ("N", None)
    finally:
        con.close()
    after, hidden_after = failing(warehouse)
    assert hidden_after > hidden_before
    assert after < before, (before, after)
