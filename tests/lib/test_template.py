"""The submission layout writers: XLSX template, CSV, blank template rows."""

from __future__ import annotations

import csv
import io

import openpyxl
import polars as pl
import pytest

from pipelines.lib.contracts import DIMENSIONS, load_contracts
from pipelines.lib.template import (
    POLICY_COLUMNS,
    blank_template,
    columns_for,
    layout_row,
    template_rows,
    write_csv,
    write_xlsx,
)

CONTRACTS = load_contracts()
ALL_COLUMNS = tuple(CONTRACTS.columns)
# The quarterly data sets' layout (the annual policy data set's own columns are left out).
COLUMNS = columns_for(CONTRACTS.reporting["expected_datasets"])


def _filled(dataset: str, country: str = "GTM", period: str = "2024-Q2") -> list[dict]:
    rows = [r for r in template_rows(dataset, country, period) if r["required"]]
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
    assert COLUMNS == tuple(c for c in CONTRACTS.columns if c not in POLICY_COLUMNS)
    assert COLUMNS[:4] == ("dataset", "country", "period", "indicator")
    assert COLUMNS[-3:] == ("value", "obs_status", "comment")
    assert len(COLUMNS) == 15 and len(ALL_COLUMNS) == 18


def test_template_rows_are_the_mandatory_cells_then_the_offered_ones():
    rows = template_rows("TIP_VICTIMS", "GTM", "2024-Q2")
    cells = CONTRACTS.mandatory_cells("TIP_VICTIMS", "GTM")
    required = [r for r in rows if r["required"]]
    assert len(required) == len(cells) == 32 and rows[:32] == required
    assert [{"indicator": r["indicator"], **{d: r[d] for d in DIMENSIONS}}
            for r in required] == cells
    assert all(r["value"] is None and r["dataset"] == "TIP_VICTIMS" for r in rows)
    assert {(r["country"], r["period"]) for r in rows} == {("GTM", "2024-Q2")}
    assert any(r["citizenship"] == "GTM" for r in rows)
    # Every indicator of the contract has a row: a ministry loses no series it may send.
    assert {r["indicator"] for r in rows[32:]} == {"VIC_DETECTED", "VIC_ASSISTED",
                                                   "VIC_REPATRIATED"}
    for dataset, contract in CONTRACTS.datasets.items():
        assert {r["indicator"] for r in template_rows(dataset, "HND", "2025-Q1")} == set(
            contract.indicators), dataset
    justice = template_rows("TIP_JUSTICE", "HND", "2025-Q1")
    # persons by stage: the total and by age and by each member's nationals (and unknown)
    assert sum(r["required"] for r in justice) == 15 and len(justice) == 15 + 3 * (1 + 2 + 9) + 1
    coordination = template_rows("COORDINATION", "HND", "2025-Q1")
    assert not any(r["required"] for r in coordination)
    assert {r["counterpart_area"] for r in coordination} == set(CONTRACTS.members) - {"HND"}
    assert len(coordination) == 3 * 7  # referrals sent, received, joint work × each member


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
    assert victims.columns == ["label", "required", *COLUMNS]
    assert victims["label"][0] == "Víctimas de trata detectadas · Mujeres · Niñas y niños (menores de 18)"
    assert victims["required"].to_list()[:32] == ["✓"] * 32
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
    assert coordination["counterpart_area"].to_list() == ["MEX"]
    assert coordination["label"].to_list() == ["Víctimas remitidas a otro miembro · México"]
    assert coordination["value"].to_list() == [4]


def test_xlsx_code_list_sheets(tmp_path, workbook_rows):
    path = write_xlsx(tmp_path / "t.xlsx", workbook_rows)
    sex = pl.read_excel(path, sheet_name="CL_SEX")
    assert sex.columns == ["code", "label_es", "label_en", "label_fr"]
    assert sex["code"].to_list() == ["F", "M", "X", "_U", "_T"]
    assert sex.filter(pl.col("code") == "F")["label_es"].item() == "Mujeres"
    assert sex.filter(pl.col("code") == "F")["label_fr"].item() == "Femmes"
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
    # The value column takes whole numbers of 0 or more, or nothing, and says so.
    [value_rule] = [dv for dv in sheet.data_validations.dataValidation if dv.type == "whole"]
    value_column = openpyxl.utils.get_column_letter(2 + COLUMNS.index("value") + 1)
    assert str(value_rule.sqref).startswith(f"{value_column}2:")
    assert (value_rule.operator, value_rule.formula1, value_rule.allow_blank) == (
        "greaterThanOrEqual", "0", True)
    assert value_rule.error.startswith("Type a whole number of 0 or more")
    # a comment that looks like a formula stays text
    cell = book["COORDINATION"].cell(row=2, column=2 + COLUMNS.index("comment") + 1)
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
    assert [sum(r["required"] for r in rows) for rows in blank.values()] == [32, 15, 20, 15, 0]
    path = write_xlsx(tmp_path / "BLZ_2025-Q3.xlsx", blank, lang="en")
    sheets = pl.read_excel(path, sheet_id=0)
    assert list(sheets)[:6] == ["Instructions", *blank]
    victims = sheets["TIP_VICTIMS"]
    assert victims.height == 32 + 71 and victims["value"].null_count() == 32 + 71
    assert victims["required"].null_count() == 71  # the offered rows
    assert victims["label"][32] == "Victims of trafficking detected · Costa Rica"
    assisted = victims.filter(pl.col("indicator") == "VIC_ASSISTED")
    assert assisted["label"][:2].to_list() == ["Victims who received assistance",
                                               "Victims who received assistance · Female"]
    assert "BLZ" in victims["citizenship"].to_list()
    assert sheets["COORDINATION"].columns == ["label", "required", *COLUMNS]
    assert sheets["COORDINATION"].height == 21


def test_a_template_filled_in_every_row_round_trips_every_series(tmp_path):
    """Every row the template gives, mandatory and offered, typed in: each comes back as the
    same cell with its value and the file validates; left empty, the offered rows are ignored
    (the sheet of referrals, all offered, reports nothing) and the mandatory ones are asked for."""
    import datetime as dt

    from pipelines.lib.reader import read_submission
    from pipelines.lib.validate import ValidationContext, validate_frame

    blank = blank_template("HND", "2025-Q3")
    path = write_xlsx(tmp_path / "blank.xlsx", blank, lang="fr")
    empty = read_submission(path.read_bytes(), path.name)
    assert set(empty.frame["dataset"].unique()) == {"TIP_VICTIMS", "TIP_JUSTICE", "SOM_MIGRANTS",
                                                    "SOM_JUSTICE"}
    assert empty.frame.height == sum(r["required"] for rows in blank.values() for r in rows)

    book = openpyxl.load_workbook(path)
    typed = {}
    for sheet in book.worksheets[1:6]:
        header = [c.value for c in sheet[1]]
        for number, row in enumerate(sheet.iter_rows(min_row=2), start=1):
            # 0 keeps every breakdown consistent with its total; the referrals, one row per
            # counterpart with no total, get numbers
            value = number if sheet.title == "COORDINATION" else 0
            row[header.index("value")].value = value
            key = tuple(row[header.index(c)].value or "_Z" for c in ("dataset", "indicator",
                                                                    *DIMENSIONS))
            typed[key] = value
    book.save(path)
    read = read_submission(path.read_bytes(), path.name)
    back = {tuple(r[c] or "_Z" for c in ("dataset", "indicator", *DIMENSIONS)): int(r["value"])
            for r in read.frame.iter_rows(named=True)}
    assert back == typed and len(back) == sum(len(rows) for rows in blank.values())
    units = validate_frame(read.frame, read.findings,
                           ValidationContext(today=dt.date(2025, 10, 20)))
    assert {u.unit.dataset: u.status for u in units} == {
        d: "validated" for d in CONTRACTS.reporting["expected_datasets"]}


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


def test_the_template_offers_every_series_ministries_send_but_extraregional_nationalities():
    """Every cell of the demo's files (shaped on what ministries send) is a row of the
    template, except nationalities and counterparts from outside the region, which a ministry
    adds as rows of its own (the instructions say how): nothing it sent before is lost by
    filling the template as given."""
    from pipelines.lib.demo import demo_rows, load_calibration
    from pipelines.lib.periods import Quarter

    calibration = load_calibration()
    region = set(CONTRACTS.members) | {"_T", "_U", "_Z"}
    for country in CONTRACTS.members:
        for quarter in (Quarter(2020, 3), Quarter(2025, 2)):
            for dataset, rows in demo_rows(country, quarter, calibration).items():
                offered = {tuple(r[d] for d in ("indicator", *DIMENSIONS))
                           for r in template_rows(dataset, country, quarter)}
                for row in rows:
                    if {row["citizenship"], row["counterpart_area"]} <= region:
                        assert tuple(row[d] for d in ("indicator", *DIMENSIONS)) in offered, row
    offered = template_rows("TIP_VICTIMS", "GTM", "2025-Q2")
    assisted_by_sex = {r["sex"] for r in offered if r["indicator"] == "VIC_ASSISTED"
                       and r["age"] == "_T" and r["exploitation_form"] == "_T"
                       and r["citizenship"] == "_T" and r["identification_channel"] == "_T"}
    assert assisted_by_sex == {"F", "M", "X", "_U", "_T"}
