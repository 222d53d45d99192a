"""The regional plan's contract (data_contracts/plan.yaml): reading a plan file, its cell-level
findings in es/en/fr, and its append-only storage as versions in a real DuckDB warehouse."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from pipelines.lib.i18n import LANGUAGES, messages
from pipelines.lib.plan import (
    PlanFileError,
    columns,
    parse_number,
    parse_period,
    read_plan,
    validate,
    write_plan_files,
)
from pipelines.lib.plan_store import import_plan
from pipelines.settings import Settings

GOOD = {
    "objective_id": "O1", "objective_es": "Asistir a más víctimas", "objective_en": "Assist more victims",
    "objective_fr": "Assister davantage de victimes", "aim": "3", "indicator": "VIC_ASSISTED_PER_VICTIM",
    "ref_area": "GTM", "direction": "increase", "baseline_period": "2024", "baseline_value": "0.5",
    "target_period": "2028", "target_value": "0.8", "milestones": "2026=0.6; 2027=0.7",
    "responsible": "Secretariat", "comment": "",
}


def write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns(), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def findings_of(tmp_path: Path, *rows: dict) -> list[tuple]:
    _, findings = validate(read_plan(write_csv(tmp_path / "plan.csv", list(rows))))
    return [(f.rule, f.severity, f.row, f.column, f.value) for f in findings]


def test_a_good_plan_has_no_finding(tmp_path):
    assert findings_of(tmp_path, GOOD, {**GOOD, "ref_area": "REG"}) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"indicator": "VIC_UNKNOWN"}, ("P03", "ERROR", 2, "indicator", "VIC_UNKNOWN")),
    ({"ref_area": "PAN"}, ("P04", "ERROR", 2, "ref_area", "PAN")),  # an observer, not a member
    ({"aim": "4"}, ("P02", "ERROR", 2, "aim", "4")),
    ({"direction": "grow"}, ("P05", "ERROR", 2, "direction", "grow")),
    ({"target_period": "2023", "milestones": ""},
     ("P08", "ERROR", 2, "target_period", "2023")),
    ({"target_period": "2024", "milestones": ""}, ("P08", "ERROR", 2, "target_period", "2024")),
    ({"target_period": "2028-Q4", "milestones": ""},
     ("P06", "ERROR", 2, "target_period", "2028-Q4")),
    ({"baseline_period": "24"}, ("P06", "ERROR", 2, "baseline_period", "24")),
    ({"target_value": "0.4"}, ("P09", "ERROR", 2, "direction", "increase")),
    ({"direction": "decrease"}, ("P09", "ERROR", 2, "direction", "decrease")),
    ({"target_value": "lots"}, ("P07", "ERROR", 2, "target_value", "lots")),
    ({"objective_en": ""}, ("P01", "ERROR", 2, "objective_en", None)),
    ({"milestones": "2026:0.6"}, ("P10", "ERROR", 2, "milestones", "2026:0.6")),
    ({"milestones": "2029=0.9"}, ("P10", "ERROR", 2, "milestones", "2029=0.9")),
    ({"indicator": "VIC_DETECTED", "direction": "increase"},
     ("P13", "WARNING", 2, "direction", "increase")),
])
def test_each_rule_names_the_cell(tmp_path, change, expected):
    assert findings_of(tmp_path, {**GOOD, **change}) == [expected]


def test_a_target_twice_and_differing_objective_texts(tmp_path):
    found = findings_of(tmp_path, GOOD, {**GOOD, "objective_en": "Assist victims"},
                        {**GOOD, "ref_area": "HND", "objective_en": "Assist victims"})
    assert ("P11", "ERROR", 3, "objective_id", "O1") in found
    assert ("P12", "WARNING", 3, "objective_id", "O1") in found
    assert ("P12", "WARNING", 4, "objective_id", "O1") in found
    assert [f for f in found if f[0] == "P11"] == [("P11", "ERROR", 3, "objective_id", "O1")]


def test_maintain_and_monitor_accept_any_target(tmp_path):
    assert findings_of(tmp_path, {**GOOD, "direction": "maintain", "target_value": "0.5"},
                       {**GOOD, "ref_area": "HND", "direction": "monitor",
                        "target_value": "0.1"}) == []


def test_findings_read_in_spanish_english_and_french(tmp_path):
    _, findings = validate(read_plan(write_csv(tmp_path / "p.csv", [{**GOOD, "ref_area": "XXX"}])))
    [finding] = findings
    assert "XXX" in finding.message_es and "XXX" in finding.message_en
    assert "XXX" in finding.message_fr
    assert len({finding.message_es, finding.message_en, finding.message_fr}) == 3
    plan_keys = [k for k in messages() if k.startswith("plan.")]
    assert len(plan_keys) > 20
    assert all(messages()[k].get(lang) for k in plan_keys for lang in LANGUAGES)


def test_periods_and_numbers():
    assert parse_period("2027") == ("A", 2027 * 4 + 3)
    assert parse_period("2027-Q2") == ("Q", 2027 * 4 + 1)
    assert parse_period("2027-Q5") is None
    assert parse_number("12,5") == 12.5
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("abc") is None
    assert parse_number("nan") is None


def test_semicolon_csv_in_windows_1252(tmp_path):
    path = tmp_path / "plan.csv"
    rows = [{**GOOD, "objective_es": "Protección", "baseline_value": "0,5"}]
    with path.open("w", encoding="cp1252", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns(), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    typed, findings = validate(read_plan(path))
    assert findings == []
    assert typed[0]["objective_es"] == "Protección" and typed[0]["baseline_value"] == 0.5


def test_the_exported_workbook_reads_back_the_same(tmp_path):
    typed, _ = validate(read_plan(write_csv(tmp_path / "plan.csv", [GOOD])))
    write_plan_files(typed, tmp_path / "out")
    again, findings = validate(read_plan(tmp_path / "out" / "plan.xlsx"))
    assert findings == []
    assert {k: again[0][k] for k in columns()} == {k: typed[0][k] for k in columns()}
    from_csv, _ = validate(read_plan(tmp_path / "out" / "plan.csv"))
    assert {k: from_csv[0][k] for k in columns()} == {k: typed[0][k] for k in columns()}


@pytest.mark.parametrize(("content", "key"), [
    (b"", "plan.file.empty"),
    (b"objective_id,aim\nO1,3\n", "plan.file.missing_columns"),
    (b"\x00\x01\x02binary", "plan.file.unreadable"),
    (b"PK\x03\x04 not really a zip", "plan.file.unreadable"),
])
def test_a_file_that_is_not_a_plan_is_refused_in_one_message(tmp_path, content, key):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    assert refused.value.key == key
    assert "\n" not in refused.value.text("fr")


def test_a_workbook_without_a_plan_sheet(tmp_path):
    path = tmp_path / "other.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("data").write_row(0, 0, ["dataset", "country"])
    workbook.close()
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    assert refused.value.key == "plan.file.no_plan_sheet"


def test_versions_are_appended_never_overwritten(tmp_path):
    settings = Settings(home=tmp_path / "home")
    first = write_csv(tmp_path / "v1.csv", [GOOD])
    second = write_csv(tmp_path / "v2.csv", [GOOD, {**GOOD, "ref_area": "HND"}])
    broken = write_csv(tmp_path / "v3.csv", [{**GOOD, "indicator": "NOPE"}])
    one = import_plan(first, settings)
    again = import_plan(first, settings)
    two = import_plan(second, settings, illustrative=True)
    three = import_plan(broken, settings)
    assert (one.version, one.status, one.duplicate) == (1, "accepted", False)
    assert (again.version, again.duplicate) == (1, True)
    assert (two.version, two.status, two.rows) == (2, "accepted", 2)
    assert (three.version, three.status, three.errors) == (3, "rejected", 1)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        versions = con.execute("select version, status, n_rows, illustrative "
                               "from raw.plan_versions order by 1").fetchall()
        targets = con.execute("select version, count(*) from raw.plan_targets "
                              "group by 1 order by 1").fetchall()
        findings = con.execute("select version, row_number, column_name, rule, message_fr "
                               "from raw.plan_findings").fetchall()
        events = con.execute("select actor, action, to_status, file_sha256 from raw.audit_events "
                             "order by occurred_at").fetchall()
    finally:
        con.close()
    assert versions == [(1, "accepted", 1, False), (2, "accepted", 2, True),
                        (3, "rejected", 1, False)]
    assert targets == [(1, 1), (2, 2), (3, 1)]
    assert [f[:4] for f in findings] == [(3, 2, "indicator", "P03")]
    assert "NOPE" in findings[0][4]
    assert (settings.archive_dir / one.sha256).read_bytes() == first.read_bytes()
    assert events == [("operator", "plan_version", "accepted", one.sha256),
                      ("operator", "plan_version", "accepted", two.sha256),
                      ("operator", "plan_version", "rejected", three.sha256)]


def test_detected_victims_are_monitor_by_default(tmp_path):
    rows = [{**GOOD, "indicator": "VIC_DETECTED", "direction": ""},
            {**GOOD, "indicator": "VIC_ASSISTED", "ref_area": "HND", "direction": ""}]
    typed, findings = validate(read_plan(write_csv(tmp_path / "plan.csv", rows)))
    assert typed[0]["direction"] == "monitor" and typed[1]["direction"] is None
    assert [(f.rule, f.row, f.column) for f in findings] == [("P01", 3, "direction")]
