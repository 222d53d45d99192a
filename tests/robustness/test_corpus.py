"""Every hostile or broken input ends with its documented outcome and never raises."""

import datetime as dt

import pytest

from pipelines.lib.reader import read_submission
from pipelines.lib.validate import MAX_FINDINGS_PER_RULE, ValidationContext, validate_frame
from tests.robustness.corpus import CASES

TODAY = dt.date(2026, 11, 28)


def outcome_of(units) -> tuple:
    rejected = [u for u in units if u.status == "rejected"]
    if rejected:
        return ("rejected", {f.rule for u in rejected for f in u.findings if f.is_error})
    return ("validated", len(units))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_ends_with_its_documented_outcome(case):
    data = case.build()
    read = read_submission(data, case.file_name)
    units = validate_frame(read.frame, read.findings, ValidationContext(today=TODAY))
    assert outcome_of(units) == case.outcome
    for unit in units:
        for finding in unit.findings:
            assert finding.message_es and finding.message_en
        if unit.status == "rejected":
            assert unit.errors > 0 and unit.observations is None  # nothing half-kept


def test_a_flood_of_findings_is_summarised():
    case = next(c for c in CASES if c.name == "many_duplicate_rows")
    read = read_submission(case.build(), case.file_name)
    [unit] = validate_frame(read.frame, read.findings, ValidationContext(today=TODAY))
    assert len(unit.findings) == MAX_FINDINGS_PER_RULE + 1
    assert "19900" in unit.findings[-1].message_en
