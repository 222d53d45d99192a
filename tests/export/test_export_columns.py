"""The column-wise writers (pipelines.lib.export) against the row-by-row rendering they replaced:
tricky texts and numbers, XLSX sheets continued past the row limit and rows rendered in chunks.
No warehouse needed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from pipelines.lib import export as export_lib
from pipelines.lib import sdmx
from pipelines.lib.export import ExportData, csv_bytes, neutralise, xlsx_bytes
from pipelines.lib.i18n import t

TEXTS = ["plain", "", "a,b", 'say "hi"', "line\nbreak", "cr\rx", "=1+1", "-x", " lead", "trail ",
         "tab\tx", "Costa Rica & <Panamá>", "_x000D_ literal", "bell\x07", "ñandú"]
NUMBERS = [None, 0.0, -0.0, 12.0, -12.5, 0.1, 1 / 3, 1e-05, 1.5e-07, 123456.789, 2.5e15, 1e17]


def rows() -> list[dict]:
    out = []
    for n in range(30):
        row = {c: f"{c[:3]}{n % 4}" for c in export_lib.LONG_COLUMNS}
        row.update(indicator_code=f"I{n:02d}", indicator_name_es=TEXTS[n % len(TEXTS)],
                   ref_area_name_en=TEXTS[(n * 7) % len(TEXTS)], family=1 + n % 2,
                   period_end=dt.date(2024, 3, 31) + dt.timedelta(days=n),
                   value=NUMBERS[n % len(NUMBERS)], n_countries=n, n_expected=None if n == 3 else 30,
                   sex_label_en=None if n % 5 == 0 else "Female",
                   is_complete_year=(True, False, None)[n % 3])
        out.append(row)
    return out


def data() -> ExportData:
    return ExportData(rows=rows(), definitions=[], m49={}, submissions=[], source={})


def row_by_row_csv(rows: list[dict]) -> bytes:
    """The CSV as the former writer made it: csv.writer over each row's texts."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return sdmx.format_number(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, int):
            return str(value)
        return neutralise(str(value))

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export_lib.LONG_COLUMNS)
    for row in rows:
        writer.writerow([text(row[c]) for c in export_lib.LONG_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def test_csv_is_the_row_by_row_rendering() -> None:
    assert csv_bytes(data()) == row_by_row_csv(rows())


def test_format_numbers_is_format_number() -> None:
    import polars as pl

    values = [*NUMBERS, float("nan"), float("inf"), -float("inf"), 1e300, 2.0**63, 5e-324]
    assert sdmx.format_numbers(pl.Series(values)).to_list() == [
        None if v is None else sdmx.format_number(v) for v in values]


def test_xlsx_sheets_continue_and_chunks_join(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(export_lib, "XLSX_MAX_ROWS", 7)
    monkeypatch.setattr(export_lib, "XLSX_CHUNK_ROWS", 3)
    path = tmp_path / "x.xlsx"
    path.write_bytes(xlsx_bytes(data(), "en"))
    workbook = openpyxl.load_workbook(path, read_only=True)
    expected = {family: [r for r in rows() if r["family"] == family] for family in (1, 2)}
    sheets = workbook.worksheets[2:]
    # 15 rows a family, 7 a sheet: three sheets each, "(2)" and "(3)" after the first
    names = [f"{family:02d} " + t(f"export.family.{family}", "en") for family in (1, 2)]
    assert [s.title for s in sheets] == [
        export_lib._sheet_name(name[: 31 - len(suffix)] + suffix)
        for name in names for suffix in ("", " (2)", " (3)")]
    for family, parts in zip((1, 2), (sheets[:3], sheets[3:]), strict=True):
        got = []
        for sheet in parts:
            values = list(sheet.iter_rows(values_only=True))
            assert values[0] == export_lib.LONG_COLUMNS
            got += values[1:]
        assert len(got) == len(expected[family])
        for row, want in zip(got, expected[family], strict=True):
            for column, cell in zip(export_lib.LONG_COLUMNS, row, strict=True):
                value = want[column]
                if isinstance(value, str):
                    # control characters are escaped as _xHHHH_ (openpyxl leaves them so), a
                    # literal "_x000D_" as "_x005F_x000D_" (openpyxl drops the "x005F_")
                    value = neutralise(value).replace("\r", "_x000D_").replace("\x07", "_x0007_")
                    assert cell == value, column  # an empty text too (a cell holding "")
                elif isinstance(value, dt.date):
                    assert cell == value.isoformat()
                else:
                    assert cell == (value if value is None else pytest.approx(value, rel=1e-15))


def test_xlsx_same_bytes_twice() -> None:
    assert xlsx_bytes(data(), "es") == xlsx_bytes(data(), "es")


def test_every_family_sheet_name_fits_excel_whole_in_every_language() -> None:
    """Excel allows 31 characters and no []:*?/\\ : a name that needs cutting or mending reads
    badly ("02 Tasa por 100.000 (ODS 16.2"), so each is written to fit."""
    from pipelines.lib.i18n import LANGUAGES, messages

    families = [key.rsplit(".", 1)[1] for key in messages() if key.startswith("export.family.")]
    for lang in LANGUAGES:
        for family in families:
            name = f"{int(family):02d} " + t(f"export.family.{family}", lang)
            assert export_lib._sheet_name(name) == name, (lang, name)


def test_the_disclosure_note_says_its_numbers_in_words() -> None:
    rules = export_lib.disclosure_rules()
    small = int(rules["disclosure_min_count"]) - 1
    for lang, words in (("es", f"de 1 a {small};"), ("en", f"from 1 to {small};"),
                        ("fr", f"de 1 à {small} ;")):
        note = dict(export_lib.notes_for(data(), None, rules, lang))[
            t("export.note.disclosure_key", lang)]
        assert words in note and " - 1" not in note, (lang, note)
