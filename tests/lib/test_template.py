"""The submission layout writers: XLSX template, CSV, blank template rows."""

from __future__ import annotations

import csv
import io

import openpyxl
import polars as pl
import pytest

from pipelines.lib.contracts import DIMENSIONS, load_contracts
from pipelines.lib.template import (
    COLUMNS,
    blank_template,
    layout_row,
    template_rows,
    write_csv,
    write_xlsx,
)

CONTRACTS = load_contracts()


def _filled(dataset: str, country: str = "GTM", period: str = "2024-Q2") -> list[dict]:
    rows = template_rows(dataset, country, period)
    for number, row in enumerate(rows):
        row["value"] = number
    return rows


@pytest.fixture()
def workbook_rows() -> dict[str, list[dict]]:
    victims = _filled("TIP_VICTIMS")
    victims[0]["comment"] = "Cifras preliminares de la Fiscalía"
    victims.append(
        layout_row(
            "TIP_VICTIMS",
            "GTM",
            "2024-Q2",
            "VIC_ASSISTED",
            None,
            obs_status="L",
            sex="_T",
            age="_T",
            exploitation_form="_T",
            citizenship="_T",
            identification_channel="_T",
        )
    )
    return {
        "TIP_VICTIMS": victims,
        "TIP_JUSTICE": _filled("TIP_JUSTICE"),
        "COORDINATION": [
            layout_row(
                "COORDINATION",
                "GTM",
                "2024-Q2",
                "REF_SENT",
                4,
                counterpart_area="MEX",
                comment="=1+1",
            )
        ],
    }


def test_columns_follow_the_contract():
    assert COLUMNS == tuple(CONTRACTS.columns)
    assert COLUMNS[:4] == ("dataset", "country", "period", "indicator")
    assert COLUMNS[-3:] == ("value", "obs_status", "comment")
    assert len(COLUMNS) == 15


def test_template_rows_are_the_mandatory_cells():
    rows = template_rows("TIP_VICTIMS", "GTM", "2024-Q2")
    cells = CONTRACTS.mandatory_cells("TIP_VICTIMS", "GTM")
    assert len(rows) == len(cells) == 32
    assert [{"indicator": r["indicator"], **{d: r[d] for d in DIMENSIONS}} for r in rows] == cells
    assert all(r["value"] is None and r["dataset"] == "TIP_VICTIMS" for r in rows)
    assert {(r["country"], r["period"]) for r in rows} == {("GTM", "2024-Q2")}
    assert any(r["citizenship"] == "GTM" for r in rows)
    assert len(template_rows("TIP_JUSTICE", "HND", "2025-Q1")) == 15
    assert template_rows("COORDINATION", "HND", "2025-Q1") == []


def test_xlsx_sheets_header_and_values(tmp_path, workbook_rows):
    path = write_xlsx(tmp_path / "GTM_2024-Q2.xlsx", workbook_rows)
    sheets = pl.read_excel(path, sheet_id=0)
    names = list(sheets)
    assert names[0] == "Instrucciones"
    assert names[1:4] == ["TIP_VICTIMS", "TIP_JUSTICE", "COORDINATION"]
    assert {
        "CL_SEX",
        "CL_AGE",
        "CL_EXPLOITATION_FORM",
        "CL_AREA",
        "CL_STAGE",
        "CL_IDENTIFICATION_CHANNEL",
        "CL_UNACCOMPANIED",
        "CL_OBS_STATUS",
    } <= set(names[4:])

    victims = sheets["TIP_VICTIMS"]
    assert victims.columns == list(COLUMNS)
    assert victims.height == 33
    assert victims.schema["value"].is_numeric()
    assert victims["value"].to_list()[:32] == list(range(32))
    assert victims["value"][32] is None and victims["obs_status"][32] == "L"
    # _Z dimensions are empty cells
    assert victims["counterpart_area"].null_count() == victims.height
    assert victims["stage"].null_count() == victims.height
    assert victims["comment"][0] == "Cifras preliminares de la Fiscalía"
    assert set(victims["sex"].to_list()) == {"F", "M", "X", "_U", "_T"}

    coordination = sheets["COORDINATION"]
    assert coordination.row(0)[COLUMNS.index("counterpart_area")] == "MEX"
    assert coordination["value"].to_list() == [4]


def test_xlsx_code_list_sheets(tmp_path, workbook_rows):
    path = write_xlsx(tmp_path / "t.xlsx", workbook_rows)
    sex = pl.read_excel(path, sheet_name="CL_SEX")
    assert sex.columns == ["code", "label_es", "label_en"]
    assert sex["code"].to_list() == ["F", "M", "X", "_U", "_T"]
    assert sex.filter(pl.col("code") == "F")["label_es"].item() == "Mujeres"
    area = pl.read_excel(path, sheet_name="CL_AREA")
    assert {"GTM", "XXA", "_U", "_T"} <= set(area["code"].to_list())


def test_xlsx_dropdowns_text_cells_and_instructions(tmp_path, workbook_rows):
    path = write_xlsx(tmp_path / "t.xlsx", workbook_rows, lang="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Instructions"
    instructions = [c.value for c in book["Instructions"]["A"] if c.value]
    assert instructions[0].startswith("Quarterly submission template")
    assert any(text.startswith("Plantilla de envío trimestral") for text in instructions)
    assert any(
        "GTM" in text and "2024-Q2" in text and "2024-08-14" in text for text in instructions
    )
    sheet = book["TIP_VICTIMS"]
    sources = {dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert "CL_SEX!$A$2:$A$6" in sources
    # a comment that looks like a formula stays text
    cell = book["COORDINATION"].cell(row=2, column=COLUMNS.index("comment") + 1)
    assert cell.data_type == "s" and cell.value == "=1+1"


def test_xlsx_is_deterministic(tmp_path, workbook_rows):
    first = write_xlsx(tmp_path / "a.xlsx", workbook_rows)
    second = write_xlsx(tmp_path / "b.xlsx", workbook_rows)
    assert first.read_bytes() == second.read_bytes()
    other = write_xlsx(tmp_path / "c.xlsx", {"TIP_JUSTICE": workbook_rows["TIP_JUSTICE"]})
    assert other.read_bytes() != first.read_bytes()


def _read_csv(path, encoding, delimiter):
    text = path.read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_csv_windows_1252_semicolon_round_trip(tmp_path, workbook_rows):
    rows = [r for rs in workbook_rows.values() for r in rs]
    path = write_csv(tmp_path / "HND.csv", rows, encoding="cp1252", delimiter=";")
    raw = path.read_bytes()
    assert raw.startswith(b"dataset;country;period;indicator;sex;age;")
    assert "Fiscalía".encode("cp1252") in raw and "Fiscalía".encode() not in raw
    back = _read_csv(path, "cp1252", ";")
    assert list(back[0]) == list(COLUMNS)
    assert len(back) == len(rows)
    assert back[0]["comment"] == "Cifras preliminares de la Fiscalía"
    assert back[0]["value"] == "0" and back[0]["stage"] == "" and back[0]["sex"] == "F"
    blank = back[32]
    assert blank["value"] == "" and blank["obs_status"] == "L"


def test_csv_utf8_with_and_without_bom(tmp_path, workbook_rows):
    rows = workbook_rows["TIP_VICTIMS"]
    plain = write_csv(tmp_path / "plain.csv", rows)
    bom = write_csv(tmp_path / "bom.csv", rows, delimiter=";", bom=True)
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbfdataset;country")
    assert _read_csv(plain, "utf-8", ",")[0]["comment"] == "Cifras preliminares de la Fiscalía"
    assert _read_csv(bom, "utf-8-sig", ";")[0]["comment"] == "Cifras preliminares de la Fiscalía"
    # polars reads the plain UTF-8 file as the same table
    frame = pl.read_csv(plain, infer_schema_length=0)
    assert frame.columns == list(COLUMNS) and frame.height == len(rows)
    assert write_csv(tmp_path / "again.csv", rows).read_bytes() == plain.read_bytes()


def test_csv_refuses_what_the_encoding_cannot_hold(tmp_path):
    row = layout_row("TIP_JUSTICE", "GTM", "2024-Q2", "TIP_CASES", 3, comment="casos → 3")
    with pytest.raises(UnicodeEncodeError):
        write_csv(tmp_path / "x.csv", [row], encoding="cp1252", delimiter=";")
    with pytest.raises(ValueError):
        write_csv(tmp_path / "y.csv", [row], encoding="cp1252", bom=True)


def test_blank_template_workbook(tmp_path):
    blank = blank_template("BLZ", "2025-Q3")
    assert list(blank) == CONTRACTS.reporting["expected_datasets"]
    assert [len(rows) for rows in blank.values()] == [32, 15, 20, 15, 0]
    path = write_xlsx(tmp_path / "BLZ_2025-Q3.xlsx", blank, lang="en")
    sheets = pl.read_excel(path, sheet_id=0)
    assert list(sheets)[:6] == ["Instructions", *blank]
    victims = sheets["TIP_VICTIMS"]
    assert victims.height == 32 and victims["value"].null_count() == 32
    assert "BLZ" in victims["citizenship"].to_list()
    assert sheets["COORDINATION"].columns == list(COLUMNS)
    assert sheets["COORDINATION"].height == 0


def test_the_template_command_writes_the_pages_workbook_and_refuses_bad_input(tmp_path, capsys):
    """``observatory template``: the same workbook the submitter's page builds (same rows, same
    bytes), read back as a submission; a bad country, quarter, data set or path is one line and
    exit 2, nothing written."""
    from pipelines.cli import main
    from pipelines.lib.reader import read_submission
    from pipelines.lib.template import template_rows, write_xlsx

    out = tmp_path / "GTM_2025-Q2.xlsx"
    assert main(["--lang", "en", "template", "--country", "gtm", "--period", "2025-Q2",
                 "--datasets", "TIP_VICTIMS", "TIP_JUSTICE", "--out", str(out)]) == 0
    page = write_xlsx(tmp_path / "page.xlsx", {d: template_rows(d, "GTM", "2025-Q2")
                                               for d in ("TIP_VICTIMS", "TIP_JUSTICE")}, lang="en")
    assert out.read_bytes() == page.read_bytes()
    read = read_submission(out.read_bytes(), out.name)
    assert read.frame is not None and set(read.frame["dataset"].unique()) == {
        "TIP_VICTIMS", "TIP_JUSTICE"}
    capsys.readouterr()
    for argv in (["--country", "PAN", "--period", "2025-Q2"],
                 ["--country", "GTM", "--period", "2025-Q5"],
                 ["--country", "GTM", "--period", "2025-Q2", "--datasets", "NOPE"]):
        assert main(["--lang", "es", "template", *argv, "--out", str(tmp_path / "x.xlsx")]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["template", "--country", "GTM", "--period", "2025-Q2", "--out", str(out)]) == 2
    assert not (tmp_path / "x.xlsx").exists()
