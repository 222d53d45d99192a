"""Workbooks are parsed in a child process with a memory cap and a time limit."""

from pipelines.lib.reader import read_submission
from pipelines.lib.sandbox import CappedReader
from tests.robustness.corpus import csv_bytes, data_sheet, justice_rows, xlsx_bytes

WORKBOOK = xlsx_bytes(lambda wb: data_sheet(wb))


def test_a_workbook_reads_the_same_in_the_child():
    with CappedReader() as reader:
        capped = reader.read(WORKBOOK, "plantilla.xlsx")
        again = reader.read(WORKBOOK, "plantilla.xlsx")  # the same child serves a batch
    direct = read_submission(WORKBOOK, "plantilla.xlsx")
    assert capped.ok and again.ok
    assert capped.frame.equals(direct.frame)


def test_over_the_time_limit_the_child_is_stopped_with_a_finding():
    with CappedReader(seconds=0.001) as reader:
        result = reader.read(WORKBOOK, "plantilla.xlsx")
    assert result.frame is None
    assert [f.rule for f in result.findings] == ["V01"]
    assert "took longer than 0.001 s" in result.findings[0].message_en


def test_over_the_memory_cap_the_child_fails_not_the_caller():
    big = xlsx_bytes(lambda wb: data_sheet(wb, rows=justice_rows() * 5000))
    with CappedReader(memory_mb=20) as reader:
        result = reader.read(big, "plantilla.xlsx")
    assert result.frame is None
    assert "needed more than 20 MB of memory" in result.findings[0].message_en
    with CappedReader() as reader:  # and the next reader works as usual
        assert reader.read(big, "plantilla.xlsx").frame.height == len(justice_rows()) * 5000


def test_csv_is_read_in_the_calling_process():
    with CappedReader(seconds=0.001) as reader:
        assert reader.read(csv_bytes(), "a.csv").ok
        assert reader._pool is None  # no child was started
