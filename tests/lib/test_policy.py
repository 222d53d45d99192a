"""The annual legal and policy framework (POLICY_FRAMEWORK): its contract, template and rules
(H01-H06), read and validated as a ministry's file would be. The pipeline from file to page and
export is in tests/plan/test_harmonisation_pipeline.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.lib.contracts import load_contracts
from pipelines.lib.i18n import t
from pipelines.lib.periods import Quarter, Year, parse_period
from pipelines.lib.reader import read_submission
from pipelines.lib.template import columns_for, template_rows, write_csv, write_xlsx
from pipelines.lib.validate import ValidationContext, validate_frame

CONTRACTS = load_contracts()
DATASET = "POLICY_FRAMEWORK"
ITEMS = CONTRACTS.datasets[DATASET].indicators
TODAY = dt.date(2026, 3, 1)


def answered(country: str = "GTM", year: str = "2025", **changes: dict) -> list[dict]:
    """Every item answered yes with a reference, the dates each needs; ``changes`` per item."""
    rows = []
    for row in template_rows(DATASET, country, year):
        item = ITEMS[row["indicator"]]
        row.update(value="yes", reference="Decreto 9-2009, art. 2",
                   date="2004-04-01" if item.date_required else "",
                   valid_until="2029-12-31" if item.until else "")
        row.update(changes.get(item.code, {}))
        rows.append(row)
    return rows


def validate(path: Path, today: dt.date = TODAY):
    read = read_submission(path.read_bytes(), path.name)
    units = validate_frame(read.frame, read.findings, ValidationContext(today=today))
    assert len(units) == 1
    return units[0]


def rules(unit) -> list[tuple[str, str, int | None]]:
    return sorted((f.rule, f.severity, f.row) for f in unit.findings)


def test_the_contract_lists_every_item_with_its_instrument_in_three_languages():
    contract = CONTRACTS.datasets[DATASET]
    assert contract.annual and DATASET in CONTRACTS.annual_datasets
    assert DATASET not in CONTRACTS.reporting["expected_datasets"]  # not in quarterly rates
    assert set(contract.status) == {"yes", "partial", "no", "unknown"}
    for code in ("PF_TIP_PROTOCOL_PARTY", "PF_SOM_PROTOCOL_PARTY", "PF_TIP_CRIMINALISED",
                 "PF_CHILD_NO_MEANS", "PF_SOM_CRIMINALISED", "PF_NON_PUNISHMENT",
                 "PF_ACTION_PLAN", "PF_REFERRAL_MECHANISM", "PF_SPECIALISED_PROSECUTION",
                 "PF_VICTIM_ASSISTANCE", "PF_STATISTICS_PUBLISHED"):
        assert code in ITEMS
    # the regional instruments are a list the secretariat extends: one item each
    assert [c for c in ITEMS if c.startswith("RI_")]
    for item in ITEMS.values():
        for field in (item.name, item.instrument):
            assert set(field) == {"es", "en", "fr"} and all(field.values()), item.code
    assert ITEMS["PF_TIP_PROTOCOL_PARTY"].date_required and ITEMS["PF_ACTION_PLAN"].until
    # every item is a mandatory row: "unknown" is an answer, a missing row is not
    assert [c["indicator"] for c in CONTRACTS.mandatory_cells(DATASET, "GTM")] == list(ITEMS)


def test_periods_of_a_year_and_of_a_quarter():
    assert parse_period("2025") == Year(2025) and parse_period("2025-Q2") == Quarter(2025, 2)
    assert CONTRACTS.period(DATASET, "2025").end == dt.date(2025, 12, 31)
    with pytest.raises(ValueError):
        CONTRACTS.period(DATASET, "2025-Q2")
    with pytest.raises(ValueError):
        CONTRACTS.period("TIP_VICTIMS", "2025")
    assert CONTRACTS.due_days(DATASET) == CONTRACTS.reporting["annual"]["due_days_after_year_end"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_filled_policy_template_validates_and_keeps_every_answer(tmp_path, fmt):
    rows = answered(PF_VICTIM_ASSISTANCE={"value": "Partial"},  # case is ignored
                    PF_STATISTICS_PUBLISHED={"value": "no", "reference": ""},
                    PF_NON_PUNISHMENT={"value": "unknown", "reference": ""})
    path = tmp_path / f"gtm.{fmt}"
    if fmt == "xlsx":
        write_xlsx(path, {DATASET: rows}, lang="fr")
    else:
        write_csv(path, rows)
    unit = validate(path)
    assert unit.status == "validated", [f.message_en for f in unit.findings]
    kept = {r["item"]: r for r in unit.observations.to_dicts()}
    assert set(kept) == set(ITEMS)
    assert kept["PF_VICTIM_ASSISTANCE"]["status"] == "partial"
    assert kept["PF_NON_PUNISHMENT"]["status"] == "unknown"
    assert kept["PF_TIP_PROTOCOL_PARTY"]["item_date"] == dt.date(2004, 4, 1)
    assert kept["PF_ACTION_PLAN"]["valid_until"] == dt.date(2029, 12, 31)


def test_the_policy_sheet_has_its_own_columns_and_the_quarterly_ones_do_not():
    assert columns_for([DATASET]) == ("dataset", "country", "period", "indicator", "value",
                                      "reference", "date", "valid_until", "comment")
    quarterly = columns_for(CONTRACTS.reporting["expected_datasets"])
    assert "reference" not in quarterly and "sex" in quarterly and quarterly[-1] == "comment"


def test_each_rule_names_the_row_and_says_what_to_do(tmp_path):
    rows = answered(
        PF_TIP_CRIMINALISED={"reference": ""},                          # H02
        PF_REFERRAL_MECHANISM={"date": "2099-01-01"},                   # H03 after today
        PF_SPECIALISED_PROSECUTION={"date": "2025-02-30"},              # H03 not a date
        PF_SOM_PROTOCOL_PARTY={"date": ""},                             # H04
        PF_ACTION_PLAN={"valid_until": "2024-06-30"},                   # H05 ended before
    )
    path = tmp_path / "gtm.csv"
    write_csv(path, rows)
    unit = validate(path)
    row_of = {r["indicator"]: n for n, r in enumerate(rows, start=2)}
    assert rules(unit) == sorted([
        ("H02", "ERROR", row_of["PF_TIP_CRIMINALISED"]),
        ("H03", "ERROR", row_of["PF_REFERRAL_MECHANISM"]),
        ("H03", "ERROR", row_of["PF_SPECIALISED_PROSECUTION"]),
        ("H04", "ERROR", row_of["PF_SOM_PROTOCOL_PARTY"]),
        ("H05", "ERROR", row_of["PF_ACTION_PLAN"]),
    ])
    assert unit.status == "rejected" and unit.observations is None
    h02 = next(f for f in unit.findings if f.rule == "H02")
    name = ITEMS["PF_TIP_CRIMINALISED"].name
    assert name["es"] in h02.message_es and name["en"] in h02.message_en
    assert name["fr"] in h02.message_fr


def test_an_action_plan_that_ended_during_the_year_is_a_warning(tmp_path):
    path = tmp_path / "gtm.csv"
    write_csv(path, answered(PF_ACTION_PLAN={"valid_until": "2025-06-30"}))
    unit = validate(path)
    assert rules(unit) == [("H06", "WARNING", 8)] and unit.status == "validated"
    path = tmp_path / "gtm_no_end.csv"
    write_csv(path, answered(PF_ACTION_PLAN={"valid_until": ""}))
    assert [f.rule for f in validate(path).findings] == ["H05"]


@pytest.mark.parametrize(("change", "rule", "key"), [
    ({"value": "quizás"}, "H01", "finding.bad_status"),
    ({"value": ""}, "H01", "finding.blank_status"),
    ({"date": "01/04/2004"}, "H03", "finding.bad_date"),
])
def test_hostile_or_careless_cells_get_one_clear_finding(tmp_path, change, rule, key):
    path = tmp_path / "gtm.csv"
    write_csv(path, answered(PF_TIP_PROTOCOL_PARTY=change))
    unit = validate(path)
    assert [f.rule for f in unit.findings] == [rule]
    assert unit.findings[0].message_en.startswith(t(key, "en", value=change.get(
        "value", change.get("date", "")), column="date", indicator="x")[:12])


def test_a_missing_item_is_asked_for_and_a_quarter_is_not_a_year(tmp_path):
    rows = answered()
    path = tmp_path / "gtm.csv"
    write_csv(path, [r for r in rows if r["indicator"] != "PF_NON_PUNISHMENT"])
    unit = validate(path)
    assert [f.rule for f in unit.findings] == ["V08"]
    assert ITEMS["PF_NON_PUNISHMENT"].name["en"] in unit.findings[0].message_en
    write_csv(path, [{**r, "period": "2025-Q4"} for r in rows])
    assert {f.rule for f in validate(path).findings} == {"V02"}
    write_csv(path, answered(year="2026"))  # the year has not ended
    assert [f.message_en for f in validate(path).findings] == [
        t("finding.future_year", "en", value="2026", end="2026-12-31")]


def test_policy_columns_in_a_quarterly_row_are_refused(tmp_path):
    path = tmp_path / "gtm.csv"
    path.write_text("dataset,country,period,indicator,value,reference\n"
                    "SOM_JUSTICE,GTM,2025-Q1,SOM_CASES,3,Ley 1\n", encoding="utf-8")
    unit = validate(path, today=dt.date(2025, 5, 1))
    assert ("V02", "reference") in {(f.rule, f.column) for f in unit.findings}


def test_an_accepted_year_is_locked_and_a_submitters_window_closes_a_year_after(tmp_path):
    path = tmp_path / "gtm.csv"
    write_csv(path, answered())
    read = read_submission(path.read_bytes(), path.name)
    unit = ("GTM", DATASET, "2025")

    def findings(**context) -> list[str]:
        [result] = validate_frame(read.frame, read.findings, ValidationContext(**context))
        return [f.rule for f in result.findings]

    assert findings(today=TODAY, locked_units=frozenset({unit})) == ["V07"]
    assert findings(today=TODAY, locked_units=frozenset({unit}),
                    lock_exceptions=frozenset({unit})) == []
    closes = dt.date(2025, 12, 31) + dt.timedelta(
        days=CONTRACTS.reporting["annual"]["window_days_after_year_end"])
    assert findings(today=closes, submitter_country="GTM", role="submitter") == []
    assert findings(today=closes + dt.timedelta(days=1), submitter_country="GTM",
                    role="submitter") == ["V07"]


def test_a_hostile_file_of_misplaced_policy_columns_gets_a_capped_report(tmp_path):
    """20,000 quarterly rows each carrying a `reference`: a hundred findings and a count of the
    rest, never 20,000 messages built."""
    from pipelines.lib.validate import MAX_FINDINGS_PER_RULE

    path = tmp_path / "many.csv"
    path.write_text("dataset,country,period,indicator,value,reference\n" + "".join(
        f"SOM_JUSTICE,GTM,2025-Q1,SOM_CASES,{n},Ley {n}\n" for n in range(20_000)),
        encoding="utf-8")
    unit = validate(path, today=dt.date(2025, 5, 1))
    misplaced = [f for f in unit.findings if f.rule == "V02" and f.column == "reference"]
    assert len(misplaced) == MAX_FINDINGS_PER_RULE
    assert any(f.rule == "V02" and str(20_000 - MAX_FINDINGS_PER_RULE) in f.message_en
               for f in unit.findings if f.column is None)
