"""The dbt project, built for real on a small hand-made warehouse.

Two members report TIP_VICTIMS:

* CRI, 2024-Q1 .. 2025-Q1, totals 10, 20, 30, 40, 50. Its 2024 quarters are accepted by the
  secretariat (a 'status' audit event each); 2025-Q1 is only validated. 2024-Q2 has a v2 that
  was rejected at intake (its 1000 victims must never show).
  Every quarter: F 50 %, M 30 %, X 0, _U 20 %; children 30 %, adults 50 %, age _U 20 %;
  SEX 70 %, FLAB 30 %.
* GTM, 2024-Q2 .. 2025-Q1 (no 2024-Q1, so no year 2024), all validated, totals 100 except
  2024-Q3, whose v1 (100) is replaced by a validated v2 (120).
  Per 100: F 45, M 30, X 5, _U 20; children 25, adults 75, age _U 0; SEX 60, FLAB 40.

Every expected value below is worked out by hand from these numbers and the population seed.
"""

from __future__ import annotations

import datetime as dt
import filecmp
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse import connect_writer

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

FORMS = ("SEX", "FLAB", "FCRIM", "FMAR", "BEG", "ORG", "ADOPT", "MIXED", "OTH", "_U")

# Mid-year population from dbt_project/seeds/population.csv (rows copied by hand).
POP_CRI_2024_TOTAL = 5129910
POP_CRI_2024_FEMALE = 2595182
POP_CRI_2024_CHILDREN = 1180598
POP_CRI_2025_TOTAL = 5152950
POP_GTM_2025_TOTAL = 18687881


def victim_cells(
    country: str, sex: dict[str, int], age: dict[str, int], form: dict[str, int]
) -> list[dict]:
    """The mandatory VIC_DETECTED cells of one unit (sex, age, form and citizenship breakdowns)."""
    total = sum(sex.values())
    assert total == sum(age.values()) == sum(form.values()), "the test data must add up"
    cells = [{"sex": code, "value": value} for code, value in sex.items()]
    cells.append({"value": total})
    cells += [{"age": code, "value": value} for code, value in age.items()]
    cells += [{"exploitation_form": code, "value": form.get(code, 0)} for code in FORMS]
    cells += [{"citizenship": country, "value": total}, {"citizenship": "_U", "value": 0}]
    return cells


def cri_cells(total: int) -> list[dict]:
    tenth = total // 10
    return victim_cells(
        "CRI",
        sex={"F": 5 * tenth, "M": 3 * tenth, "X": 0, "_U": 2 * tenth},
        age={"Y0T17": 3 * tenth, "Y_GE18": 5 * tenth, "_U": 2 * tenth},
        form={"SEX": 7 * tenth, "FLAB": 3 * tenth},
    )


def gtm_cells(total: int) -> list[dict]:
    scale = total // 20  # per 20 victims: F 9, M 6, X 1, _U 4 ...
    return victim_cells(
        "GTM",
        sex={"F": 9 * scale, "M": 6 * scale, "X": 1 * scale, "_U": 4 * scale},
        age={"Y0T17": 5 * scale, "Y_GE18": 15 * scale, "_U": 0},
        form={"SEX": 12 * scale, "FLAB": 8 * scale},
    )


# (country, period, version, intake status, accepted by the secretariat?, cells)
UNITS = [
    ("CRI", "2024-Q1", 1, "validated", True, cri_cells(10)),
    ("CRI", "2024-Q2", 1, "validated", True, cri_cells(20)),
    ("CRI", "2024-Q2", 2, "rejected", False, cri_cells(1000)),
    ("CRI", "2024-Q3", 1, "validated", True, cri_cells(30)),
    ("CRI", "2024-Q4", 1, "validated", True, cri_cells(40)),
    ("CRI", "2025-Q1", 1, "validated", False, cri_cells(50)),
    ("GTM", "2024-Q2", 1, "validated", False, gtm_cells(100)),
    ("GTM", "2024-Q3", 1, "validated", False, gtm_cells(100)),
    ("GTM", "2024-Q3", 2, "validated", False, gtm_cells(120)),
    ("GTM", "2024-Q4", 1, "validated", False, gtm_cells(100)),
    ("GTM", "2025-Q1", 1, "validated", False, gtm_cells(100)),
]


def load_raw(path: Path) -> None:
    con = connect_writer(path)
    try:
        received = dt.datetime(2025, 5, 1, 9, 0, tzinfo=dt.UTC)
        for n, (country, period, version, status, accepted, cells) in enumerate(UNITS):
            sha = f"{n:02d}" * 32
            submission_id = f"{sha[:12]}-TIP_VICTIMS"
            at = received + dt.timedelta(hours=n)
            con.execute(
                "insert into raw.submissions values (?, ?, 'TIP_VICTIMS', ?, ?, ?, ?, ?, ?, "
                "null, false, ?, ?, 0, '1.0.0')",
                [
                    submission_id,
                    sha,
                    country,
                    period,
                    version,
                    status,
                    at,
                    at.date(),
                    len(cells),
                    0 if status == "validated" else 1,
                ],
            )
            for row_number, cell in enumerate(cells, start=2):
                con.execute(
                    "insert into raw.observations values (?, 'TIP_VICTIMS', ?, 'TIP_VICTIMS', ?, ?, "
                    "'VIC_DETECTED', ?, ?, ?, ?, '_Z', '_Z', '_T', '_Z', ?, null, null)",
                    [
                        submission_id,
                        row_number,
                        country,
                        period,
                        cell.get("sex", "_T"),
                        cell.get("age", "_T"),
                        cell.get("exploitation_form", "_T"),
                        cell.get("citizenship", "_T"),
                        cell["value"],
                    ],
                )
            if accepted:
                con.execute(
                    "insert into raw.audit_events values (?, ?, 'secretariat', 'status', ?, ?, "
                    "'validated', 'accepted', 'reviewed', null)",
                    [f"ev-{n:02d}", at + dt.timedelta(days=10), sha, submission_id],
                )
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dbt.cli.main import dbtRunner

    tmp = tmp_path_factory.mktemp("dbt")
    path = tmp / "warehouse.duckdb"
    load_raw(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OBSERVATORY_WAREHOUSE", str(path))
        mp.chdir(tmp)  # what observatory-dbt does: the profile names the file relative to it
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        result = dbtRunner().invoke(
            [
                "build",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(tmp / "target"),
                "--log-path",
                str(tmp / "logs"),
            ]
        )
    assert result.success, f"dbt build failed: {result.exception or result.result}"
    return path


@pytest.fixture(scope="module")
def values(warehouse: Path) -> dict[tuple, tuple]:
    """indicator_values keyed by (indicator, area, period, sex, age, form)."""
    con = duckdb.connect(str(warehouse))
    try:
        rows = con.execute(
            "select indicator_code, ref_area, time_period, sex, age, exploitation_form, "
            "value, unit, obs_status, n_countries, n_expected, freq, period_end "
            "from marts.indicator_values"
        ).fetchall()
    finally:
        con.close()
    table = {row[:6]: row[6:] for row in rows}
    assert len(table) == len(rows), "the key of indicator_values is not unique"
    return table


def value(values: dict, indicator: str, area: str, period: str, sex="_T", age="_T", form="_T"):
    return values[(indicator, area, period, sex, age, form)][0]


def test_models_land_in_plain_schemas(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        tables = set(
            con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        )
    finally:
        con.close()
    expected = {
        "staging.stg_raw__submissions",
        "intermediate.int_units_latest_selected",
        "marts.indicator_values",
        "marts.dim_country",
    }
    assert expected <= {t[0] for t in tables}


def test_no_published_table_crosses_age_with_citizenship(warehouse: Path) -> None:
    """The stricter minimum for tables crossing children and citizenship
    (var disclosure_min_count_child_citizenship) has no table to apply to today; a published mart
    that crosses them must apply it (indicator_values_published's header)."""
    with duckdb.connect(str(warehouse)) as con:
        columns = con.execute(
            "select table_name, list(column_name) from information_schema.columns "
            "where table_schema = 'marts' group by table_name").fetchall()
    from pipelines.lib.publish import UNCONTROLLED

    citizenship = {"citizenship", "origin_area", "nationality", "counterpart_area"}
    crossing = [table for table, cols in columns if "age" in cols and citizenship & set(cols)
                and table != "history_values"  # UNODC's own published figures (GLOTIP)
                and table not in UNCONTROLLED]  # never published: the member's own store only
    assert len(columns) > 5 and not crossing, crossing


def test_quarterly_counts_use_the_latest_usable_version(values: dict) -> None:
    # CRI 2024-Q2: v2 was rejected, so v1 (20) stands; accepted by the secretariat -> A.
    assert values[("VIC_DETECTED", "CRI", "2024-Q2", "_T", "_T", "_T")][:5] == (
        20.0,
        "PERSONS",
        "A",
        1,
        1,
    )
    # GTM 2024-Q3: v2 (120) replaces v1 (100); validated only -> P.
    assert values[("VIC_DETECTED", "GTM", "2024-Q3", "_T", "_T", "_T")][:3] == (
        120.0,
        "PERSONS",
        "P",
    )
    assert value(values, "VIC_DETECTED", "CRI", "2025-Q1", sex="F") == 25
    assert value(values, "VIC_DETECTED", "GTM", "2024-Q3", age="Y0T17") == 30
    assert value(values, "VIC_DETECTED", "CRI", "2024-Q1", form="SEX") == 7
    assert value(values, "VIC_DETECTED", "CRI", "2024-Q1", form="ORG") == 0
    # The freq and the last day of the period.
    assert values[("VIC_DETECTED", "CRI", "2024-Q2", "_T", "_T", "_T")][5:] == (
        "Q",
        dt.date(2024, 6, 30),
    )


def test_rolling_four_quarters_only_when_all_four_present(values: dict) -> None:
    # CRI: 10 + 20 + 30 + 40, all accepted.
    assert values[("VIC_DETECTED", "CRI", "2024-Q4-R4Q", "_T", "_T", "_T")][:3] == (
        100.0,
        "PERSONS",
        "A",
    )
    # CRI: 20 + 30 + 40 + 50, 2025-Q1 provisional.
    assert values[("VIC_DETECTED", "CRI", "2025-Q1-R4Q", "_T", "_T", "_T")][:3] == (
        140.0,
        "PERSONS",
        "P",
    )
    # GTM: 100 + 120 + 100 + 100.
    assert value(values, "VIC_DETECTED", "GTM", "2025-Q1-R4Q") == 420
    # Not four quarters yet.
    assert ("VIC_DETECTED", "CRI", "2024-Q3-R4Q", "_T", "_T", "_T") not in values
    assert ("VIC_DETECTED", "GTM", "2024-Q4-R4Q", "_T", "_T", "_T") not in values
    # By form: CRI 70 % of 140 + GTM 60 + 72 + 60 + 60.
    assert value(values, "VIC_DETECTED", "REG", "2025-Q1-R4Q", form="SEX") == 98 + 252
    assert values[("VIC_DETECTED", "CRI", "2025-Q1-R4Q", "_T", "_T", "_T")][5:] == (
        "R4Q",
        dt.date(2025, 3, 31),
    )


def test_annual_only_when_the_year_is_complete(values: dict) -> None:
    assert values[("VIC_DETECTED", "CRI", "2024", "_T", "_T", "_T")] == (
        100.0,
        "PERSONS",
        "A",
        1,
        1,
        "A",
        dt.date(2024, 12, 31),
    )
    assert ("VIC_DETECTED", "GTM", "2024", "_T", "_T", "_T") not in values
    # The region's year 2024 only counts CRI, the one member with four quarters.
    assert values[("VIC_DETECTED", "REG", "2024", "_T", "_T", "_T")][:5] == (
        100.0,
        "PERSONS",
        "A",
        1,
        8,
    )


def test_annual_rows_say_whether_the_year_is_complete(warehouse: Path) -> None:
    """CRI's four quarters of 2024 are accepted: a complete year, for CRI and for the region (CRI
    is its only member with the year). Quarterly and R4Q rows carry no flag."""
    con = duckdb.connect(str(warehouse))
    try:
        flags = dict(con.execute(
            "select ref_area || ' ' || time_period, is_complete_year from marts.indicator_values "
            "where indicator_code = 'VIC_DETECTED' and sex = '_T' and age = '_T' "
            "and exploitation_form = '_T'").fetchall())
        published = con.execute(
            "select is_complete_year from marts.indicator_values_published where "
            "indicator_code = 'VIC_RATE_100K' and ref_area = 'CRI' and time_period = '2024' "
            "and sex = '_T' and age = '_T' and exploitation_form = '_T'").fetchone()
    finally:
        con.close()
    assert flags["CRI 2024"] is True and flags["REG 2024"] is True
    assert flags["CRI 2024-Q4"] is None and flags["CRI 2024-Q4-R4Q"] is None
    assert published == (True,)


def test_regional_sums(values: dict) -> None:
    # 2024-Q3: CRI 30 (accepted) + GTM 120 (provisional) -> provisional.
    assert values[("VIC_DETECTED", "REG", "2024-Q3", "_T", "_T", "_T")][:5] == (
        150.0,
        "PERSONS",
        "P",
        2,
        8,
    )
    # 2024-Q1: CRI alone, accepted.
    assert values[("VIC_DETECTED", "REG", "2024-Q1", "_T", "_T", "_T")][:5] == (
        10.0,
        "PERSONS",
        "A",
        1,
        8,
    )
    assert values[("VIC_DETECTED", "REG", "2025-Q1-R4Q", "_T", "_T", "_T")][:5] == (
        560.0,
        "PERSONS",
        "P",
        2,
        8,
    )


def test_rates_per_100k(values: dict) -> None:
    rate = values[("VIC_RATE_100K", "CRI", "2024", "_T", "_T", "_T")]
    assert rate[0] == pytest.approx(100 / POP_CRI_2024_TOTAL * 100_000, rel=1e-12)
    assert rate[1:3] == ("PER_100K", "A")
    assert value(values, "VIC_RATE_100K", "CRI", "2024", sex="F") == pytest.approx(
        (5 + 10 + 15 + 20) / POP_CRI_2024_FEMALE * 100_000, rel=1e-12
    )
    assert value(values, "VIC_RATE_100K", "CRI", "2024", age="Y0T17") == pytest.approx(
        (3 + 6 + 9 + 12) / POP_CRI_2024_CHILDREN * 100_000, rel=1e-12
    )
    assert value(values, "VIC_RATE_100K", "CRI", "2024-Q4-R4Q") == pytest.approx(
        100 / POP_CRI_2024_TOTAL * 100_000, rel=1e-12
    )
    # Regional rate: ratio of sums, population of the ending quarter's year (2025).
    regional = values[("VIC_RATE_100K", "REG", "2025-Q1-R4Q", "_T", "_T", "_T")]
    assert regional[0] == pytest.approx(
        (140 + 420) / (POP_CRI_2025_TOTAL + POP_GTM_2025_TOTAL) * 100_000, rel=1e-12
    )
    assert regional[1:5] == ("PER_100K", "P", 2, 8)
    # Never for a single quarter; never for sex X or unknown.
    assert not any(key[0] == "VIC_RATE_100K" and row[5] == "Q" for key, row in values.items())
    assert ("VIC_RATE_100K", "CRI", "2024", "_U", "_T", "_T") not in values


def test_shares(values: dict) -> None:
    # Unknown sex left out: 5 / (5 + 3 + 0).
    assert values[("VIC_FEMALE_SHARE", "CRI", "2024-Q1", "_T", "_T", "_T")][:3] == (
        62.5,
        "PERCENT",
        "A",
    )
    # GTM v2: 54 / (54 + 36 + 6).
    assert value(values, "VIC_FEMALE_SHARE", "GTM", "2024-Q3") == 56.25
    # Region: (15 + 54) / (24 + 96), not the mean of 62.5 and 56.25.
    assert values[("VIC_FEMALE_SHARE", "REG", "2024-Q3", "_T", "_T", "_T")][:5] == (
        57.5,
        "PERCENT",
        "P",
        2,
        8,
    )
    assert value(values, "VIC_CHILD_SHARE", "CRI", "2024") == 37.5  # 30 / 80
    assert value(values, "VIC_CHILD_SHARE", "GTM", "2025-Q1") == 25.0
    assert value(values, "VIC_SEX_UNKNOWN_SHARE", "CRI", "2024-Q2") == 20.0
    assert value(values, "VIC_AGE_UNKNOWN_SHARE", "CRI", "2025-Q1-R4Q") == 20.0  # 28 / 140
    assert value(values, "VIC_AGE_UNKNOWN_SHARE", "GTM", "2024-Q2") == 0.0


def test_countries_seed_matches_contract() -> None:
    """The dbt seed is a copy of data_contracts/countries.csv; they must never drift."""
    assert filecmp.cmp(
        REPO_ROOT / "data_contracts" / "countries.csv",
        DBT_PROJECT_DIR / "seeds" / "countries.csv",
        shallow=False,
    ), "copy data_contracts/countries.csv to dbt_project/seeds/countries.csv"


def test_new_families_on_the_hand_made_warehouse(values: dict) -> None:
    # Every CRI victim is Costa Rican (citizenship CRI = total, _U 0): domestic 100 %, foreign 0 %.
    assert value(values, "VIC_DOMESTIC_SHARE", "CRI", "2024") == 100.0
    assert value(values, "VIC_FOREIGN_SHARE", "CRI", "2024-Q2") == 0.0
    # Year on year: CRI 2025-Q1 50 against 2024-Q1 10 (a base of 10 is enough): +400 %.
    assert values[("VIC_DETECTED_YOY", "CRI", "2025-Q1", "_T", "_T", "_T")][:3] == (
        400.0,
        "PERCENT",
        "P",
    )
    # The region had 1 member in 2024-Q1 and 2 in 2025-Q1: no regional change.
    assert ("VIC_DETECTED_YOY", "REG", "2025-Q1", "_T", "_T", "_T") not in values
    # Form distribution with unknown form excluded: SEX 70 % of the known forms.
    assert value(values, "VIC_FORM_SHARE", "CRI", "2024", form="SEX") == 70.0
    # Reporting: quarters 2024-Q1..2025-Q1 expected; CRI sent 1 of 5 data sets each quarter,
    # GTM nothing in 2024-Q1 (0 %, still a row); the region 1 of 40 units in 2024-Q1.
    assert value(values, "REPORTING_RATE", "CRI", "2024-Q1") == 20.0
    assert value(values, "REPORTING_RATE", "GTM", "2024-Q1") == 0.0
    assert value(values, "REPORTING_RATE", "REG", "2024-Q1") == 2.5


def test_every_indicator_code_is_in_the_registry(values: dict) -> None:
    import csv

    with (DBT_PROJECT_DIR / "seeds" / "indicator_registry.csv").open(encoding="utf-8") as handle:
        registry = {row["indicator_code"]: row for row in csv.DictReader(handle)}
    assert {key[0] for key in values} <= set(registry)
    for code in ("VIC_DETECTED", "VIC_RATE_100K", "VIC_FEMALE_SHARE", "VIC_CHILD_SHARE",
                 "VIC_FOREIGN_SHARE", "TIP_PROSECUTED", "TIP_CONVICTED", "TIP_CONVICTION_RATIO",
                 "SOM_DETECTED", "SOM_TIP_NEXUS_SHARE", "REF_SENT", "REF_RECEIVED",
                 "REF_MIRROR_GAP", "REPORTING_RATE", "ON_TIME_RATE"):
        row = registry[code]
        assert row["name_es"] and row["name_en"] and row["definition_es"] and row["formula_es"]
    assert "not a cohort conviction rate" in registry["TIP_CONVICTION_RATIO"]["caveat_en"]


def test_registry_has_french_texts() -> None:
    """Every indicator has a name, definition and formula in each language; a French caveat
    exactly where the English one is (the dashboard shows them with ?lang=fr)."""
    import csv

    with (DBT_PROJECT_DIR / "seeds" / "indicator_registry.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        code = row["indicator_code"]
        assert row["name_fr"].strip() and row["definition_fr"].strip(), code
        assert all(row[f"formula_{lang}"].strip() for lang in ("es", "en", "fr")), code
        assert bool(row["caveat_fr"].strip()) == bool(row["caveat_en"].strip()), code


def test_expected_datasets_var_matches_contract() -> None:
    """The reporting-rate denominator in dbt_project.yml is data_contracts/reporting.yaml's list."""
    import yaml

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    reporting = yaml.safe_load(
        (REPO_ROOT / "data_contracts" / "reporting.yaml").read_text(encoding="utf-8")
    )
    assert project["vars"]["expected_datasets"] == reporting["expected_datasets"]


def test_annual_datasets_and_status_scores_vars_match_the_contracts() -> None:
    """dbt's list of annual data sets and the harmonisation scores are the contracts' own."""
    import yaml

    from pipelines.lib.contracts import load_contracts

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    contracts = load_contracts()
    assert project["vars"]["annual_datasets"] == contracts.annual_datasets
    [policy] = contracts.annual_datasets
    assert project["vars"]["policy_status_scores"] == {
        code: spec["score"] for code, spec in contracts.datasets[policy].status.items()
        if "score" in spec}
