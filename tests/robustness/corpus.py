"""The hostile and broken inputs corpus: each case builds its bytes and states its outcome.

An outcome is ("validated", number of units) or ("rejected", the set of rules found). Every case
must end with exactly that outcome; none may raise. Bytes are built here (not committed) so the
large and binary cases cost nothing in the repository.
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import xlsxwriter

HEADER = ["dataset", "country", "period", "indicator", "stage", "sex", "age", "citizenship",
          "value", "comment"]


def justice_rows(values: dict | None = None) -> list[list[str]]:
    """A complete, consistent TIP_JUSTICE unit for GTM 2024-Q1 (15 mandatory cells + cases)."""
    rows = []
    for stage, (f, m) in {"SUSP": (3, 5), "PROS": (2, 4), "CONV": (1, 2)}.items():
        for sex, n in (("F", f), ("M", m), ("X", 0), ("_U", 0), ("_T", f + m)):
            rows.append(["TIP_JUSTICE", "GTM", "2024-Q1", "TIP_PERSONS", stage, sex, "_T", "_T",
                         str(n), ""])
    rows.append(["TIP_JUSTICE", "GTM", "2024-Q1", "TIP_CASES", "", "", "", "", "4", ""])
    for (r, c), v in (values or {}).items():
        rows[r][c] = v
    return rows


def csv_bytes(rows=None, *, header=HEADER, delimiter=",", encoding="utf-8", bom=b"",
              line="\r\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line)
    writer.writerow(header)
    writer.writerows(justice_rows() if rows is None else rows)
    return bom + buffer.getvalue().encode(encoding)


def with_value(text: str) -> bytes:
    return csv_bytes(justice_rows({(0, 8): text}))


def xlsx_bytes(build: Callable[[xlsxwriter.Workbook], None]) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    build(workbook)
    workbook.close()
    return out.getvalue()


def data_sheet(workbook, name="TIP_JUSTICE", rows=None, header=HEADER, hidden=False):
    sheet = workbook.add_worksheet(name)
    sheet.write_row(0, 0, header)
    for r, row in enumerate(justice_rows() if rows is None else rows, start=1):
        for c, cell in enumerate(row):
            if header[c] == "value" and cell.isdigit():
                sheet.write_number(r, c, int(cell))
            elif cell:
                sheet.write_string(r, c, cell)
    if hidden:
        sheet.hide()
    return sheet


def zip_bomb() -> bytes:
    """A workbook whose sheet XML unpacks to 300 MB (it compresses to a few hundred KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"<row>" + b" " * (1024 * 1024 - 11) + b"</row>"
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


def workbook_zip_bomb(megabytes: int = 300) -> bytes:
    """A real small workbook (it passes the upload's signature check) with one more sheet whose
    XML unpacks to ``megabytes`` MB of blanks; a few hundred KB on the wire."""
    data = xlsx_bytes(lambda wb: data_sheet(wb))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        with dst.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as member:
            chunk = b"<row>" + b" " * (1024 * 1024 - 11) + b"</row>"
            for _ in range(megabytes):
                member.write(chunk)
    return out.getvalue()


def huge_csv(at_least: int) -> bytes:
    """A well-formed CSV of at least ``at_least`` bytes: the same unit's rows over and over."""
    one = csv_bytes()
    header, body = one.split(b"\r\n", 1)
    return header + b"\r\n" + body * (at_least // len(body) + 1)


def giant_dimension() -> bytes:
    """A valid small workbook whose sheet claims the largest possible dimension."""
    data = xlsx_bytes(lambda wb: data_sheet(wb))
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = content.replace(b'<dimension ref="A1:J17"/>',
                                          b'<dimension ref="A1:XFD1048576"/>')
            dst.writestr(item, content)
    return out.getvalue()


def many_duplicates(n: int) -> bytes:
    rows = justice_rows() + [["TIP_JUSTICE", "GTM", "2024-Q1", "TIP_CASES", "", "", "", "", "4",
                              ""]] * n
    return csv_bytes(rows)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    outcome: tuple
    file_name: str = "submission.csv"


V = ("validated", 1)

CASES = [
    # Encodings, byte-order marks, delimiters.
    Case("utf8_comma", lambda: csv_bytes(), V),
    Case("utf8_bom", lambda: csv_bytes(bom=codecs.BOM_UTF8), V),
    Case("cp1252_semicolon_accents", lambda: csv_bytes(
        justice_rows({(0, 9): "Fiscalía: cifras revisadas – año"}), delimiter=";",
        encoding="cp1252"), V),
    Case("latin1_undefined_in_cp1252", lambda: csv_bytes().replace(b"4\r\n", b"4\x81\r\n", 0)
         .replace(b",\r\n", b",caf\x81\r\n", 1), V),
    Case("utf16_tab_excel_unicode_text", lambda: csv_bytes(delimiter="\t", encoding="utf-16"), V),
    Case("tab_delimited_utf8", lambda: csv_bytes(delimiter="\t"), V),
    Case("lf_line_endings", lambda: csv_bytes(line="\n"), V),
    Case("bom_declared_but_cp1252", lambda: csv_bytes(
        justice_rows({(0, 9): "Fiscalía"}), encoding="cp1252", bom=codecs.BOM_UTF8),
         ("rejected", {"V01"})),
    Case("utf16_bom_then_garbage", lambda: codecs.BOM_UTF16_LE + b"\x00\xd8a", ("rejected", {"V01"})),
    # Empty, truncated, not a table at all.
    Case("empty", lambda: b"", ("rejected", {"V01"})),
    Case("only_blank_lines", lambda: b"\r\n\r\n  \r\n", ("rejected", {"V01"})),
    Case("header_only", lambda: csv_bytes([]), ("rejected", {"V01"})),
    Case("random_binary", lambda: random.Random(7).randbytes(4096), ("rejected", {"V01"})),
    Case("png_named_csv", lambda: b"\x89PNG\r\n\x1a\n" + bytes(200), ("rejected", {"V01"})),
    Case("legacy_xls", lambda: bytes.fromhex("d0cf11e0a1b11ae1") + bytes(500), ("rejected", {"V01"}),
         "plantilla.xls"),
    Case("text_named_xlsx", lambda: csv_bytes(), ("rejected", {"V01"}), "plantilla.xlsx"),
    Case("truncated_xlsx", lambda: xlsx_bytes(lambda wb: data_sheet(wb))[:1500],
         ("rejected", {"V01"}), "plantilla.xlsx"),
    Case("xlsx_zip_bomb", zip_bomb, ("rejected", {"V01"}), "plantilla.xlsx"),
    # Spreadsheet structure.
    Case("xlsx_valid_with_instructions", lambda: xlsx_bytes(
        lambda wb: (wb.add_worksheet("Instrucciones").write(0, 0, "Lea esto"), data_sheet(wb))),
         V, "plantilla.xlsx"),
    Case("xlsx_giant_dimension", giant_dimension, V, "plantilla.xlsx"),
    Case("xlsx_hidden_data_sheet", lambda: xlsx_bytes(lambda wb: (
        wb.add_worksheet("Instrucciones"), data_sheet(wb, hidden=True))),
         ("rejected", {"V01"}), "plantilla.xlsx"),
    Case("xlsx_formula_with_cached_value", lambda: xlsx_bytes(lambda wb: data_sheet(wb)
         .write_formula(16, 8, "=2+2", None, 4)), V, "plantilla.xlsx"),
    # Merging value+comment headers leaves the comment column unnamed: its notes are outside.
    Case("xlsx_merged_header", lambda: xlsx_bytes(lambda wb: data_sheet(
        wb, rows=justice_rows({(0, 9): "nota"}), header=HEADER[:9] + [""]
    ).merge_range(0, 8, 0, 9, "value")),
         ("rejected", {"V01"}), "plantilla.xlsx"),
    Case("xlsx_no_data_sheet", lambda: xlsx_bytes(lambda wb: wb.add_worksheet("Hoja1")
         .write(0, 0, "hola")), ("rejected", {"V01"}), "plantilla.xlsx"),
    # Headers and the table's edges.
    Case("header_case_and_spaces", lambda: csv_bytes(header=[f" {h.upper()} " for h in HEADER]), V),
    Case("unknown_header", lambda: csv_bytes(header=HEADER[:-1] + ["comentario"]),
         ("rejected", {"V01"})),
    Case("duplicate_header", lambda: csv_bytes(header=HEADER[:-1] + ["value"]),
         ("rejected", {"V01"})),
    Case("ragged_row_with_extra_cell", lambda: csv_bytes().replace(b",4,\r\n", b",4,,extra\r\n"),
         ("rejected", {"V01"})),
    Case("quoted_newline_in_comment", lambda: csv_bytes(
        justice_rows({(0, 9): "línea uno\nlínea dos"})), V),
    Case("control_characters_in_comment", lambda: csv_bytes(justice_rows({(0, 9): "a\x07b\x1bc"})), V),
    Case("formula_text_in_comment", lambda: csv_bytes(justice_rows({(0, 9): "=HYPERLINK(\"x\")"})), V),
    Case("path_tricks_in_name", lambda: csv_bytes(), V, "../../etc/passwd;rm -rf.csv"),
    # Values.
    Case("value_decimal_comma", lambda: with_value("1,5"), ("rejected", {"V03"})),
    Case("value_thousands_dot", lambda: with_value("1.234"), ("rejected", {"V03"})),
    Case("value_thousands_comma", lambda: with_value("1,234"), ("rejected", {"V03"})),
    Case("value_exponent", lambda: with_value("1e3"), ("rejected", {"V03"})),
    Case("value_nan", lambda: with_value("NaN"), ("rejected", {"V03"})),
    Case("value_infinity", lambda: with_value("-inf"), ("rejected", {"V03"})),
    Case("value_arabic_indic_digit", lambda: with_value("٣"), ("rejected", {"V03"})),
    Case("value_surrounding_spaces", lambda: with_value("  3 "), V),
    Case("value_non_breaking_space", lambda: with_value("1\u00a0234"), ("rejected", {"V03"})),
    Case("value_negative", lambda: with_value("-3"), ("rejected", {"V03"})),
    Case("value_formula_text", lambda: with_value("=SUM(A1:A3)"), ("rejected", {"V03"})),
    Case("value_huge", lambda: with_value("9" * 30), ("rejected", {"V03"})),
    Case("value_blank_without_status", lambda: with_value(""), ("rejected", {"V03"})),
    # Codes.
    Case("country_lower_case", lambda: csv_bytes([r[:1] + ["gtm"] + r[2:] for r in justice_rows()]),
         ("rejected", {"V02"})),
    Case("period_without_dash", lambda: csv_bytes([r[:2] + ["2024Q1"] + r[3:] for r in justice_rows()]),
         ("rejected", {"V02"})),
    Case("mixed_datasets_in_one_file", lambda: csv_bytes(justice_rows() + [
        ["SOM_JUSTICE", "GTM", "2024-Q1", "SOM_CASES", "", "", "", "", "2", ""]]),
         ("rejected", {"V08"})),  # SOM_JUSTICE lacks its mandatory cells; TIP_JUSTICE passes
    Case("many_duplicate_rows", lambda: many_duplicates(20_000), ("rejected", {"V04"})),
]
