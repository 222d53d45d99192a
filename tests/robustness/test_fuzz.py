"""Fuzzing the reader and the validators: random bytes and almost-valid files never raise, and
every rejection carries at least one ERROR finding with both languages."""

import datetime as dt

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.lib.reader import read_submission
from pipelines.lib.validate import ValidationContext, validate_frame
from tests.robustness.corpus import HEADER, csv_bytes, justice_rows

TODAY = dt.date(2026, 11, 28)
CONTEXT = ValidationContext(today=TODAY)


def check(data: bytes, name: str) -> None:
    read = read_submission(data, name)
    if read.frame is None:
        assert any(f.is_error for f in read.findings)
        return
    for unit in validate_frame(read.frame, read.findings, CONTEXT):
        if unit.status == "rejected":
            assert any(f.is_error and f.message_es and f.message_en for f in unit.findings)
        else:
            assert unit.observations is not None and unit.observations.height > 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(["a.csv", "a.xlsx", "a.txt"]))
@example(b'\r"\n', "a.csv")  # found by CI: a lone CR before an open quote crashed the CSV reader
def test_random_bytes_are_read_or_refused_with_a_finding(data, name):
    read = read_submission(data, name)
    assert read.frame is not None or any(f.is_error for f in read.findings)


CELL = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "_T", "_Z", "_U", "F", "M", "GTM", "HND", "2024-Q1", "-1", "1.5",
                     "TIP_JUSTICE", "TIP_PERSONS", "SUSP", "=1+1", "٣", " 7 ", "1e3"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, len(HEADER) - 1), CELL),
                min_size=1, max_size=6),
       st.sampled_from([",", ";", "\t"]))
def test_almost_valid_files_never_raise(edits, delimiter):
    rows = justice_rows()
    for r, c, value in edits:
        rows[r][c] = value
    check(csv_bytes(rows, delimiter=delimiter), "almost.csv")
