"""The GLOTIP importer's parts without Dagster: values, mappings, the XLSX layout, and the full
reference file (reference/unodc/) imported into a real DuckDB warehouse."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.contracts import load_contracts
from pipelines.lib.glotip import (
    GlotipFileError,
    import_glotip,
    load_mappings,
    parse_value,
    prepare,
    read_glotip,
)
from pipelines.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "glotip" / "glotip_subset.csv"
SHARED_FILE = REPO_ROOT / "reference" / "unodc" / "glotip_coalition_2003_2020.csv"
HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Year", "Unit of measurement", "txtVALUE", "Source"]


def headline_values(path: Path) -> dict[tuple[str, int], str]:
    """Detected victims, every breakdown at total, per country and year, read with csv only."""
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["Iso3_code"], int(r["Year"])): r["txtVALUE"] for r in csv.DictReader(f)
                if r["Indicator"] == "Detected trafficking victims" and r["Dimension"] == "Total"
                and r["Sex"] == "Total" and r["Age"] == "Total"}


@pytest.mark.parametrize(("text", "expected"), [
    ("<5", (None, True, True)), (" <5 ", (None, True, True)), ("7", (7, False, True)),
    ("1,023", (1023, False, True)), ("12,345,678", (12345678, False, True)),
    ("2015.0", (2015, False, True)), ("1,5", (None, False, False)), ("n/a", (None, False, False)),
    (None, (None, False, False)),
])
def test_values_keep_suppression_and_parse_thousands_commas(text, expected):
    assert parse_value(text) == expected


def test_mapping_table_uses_only_project_codes():
    contracts = load_contracts()
    mappings = load_mappings()
    iso3 = {c["iso3"] for c in contracts.countries}
    for spec in mappings.indicators.values():
        assert spec["stage"] in [*contracts.codes_for("stage"), "_Z"]
        assert spec["breakdown"] in ("total", "exploitation_form", "citizenship", "counterpart_area")
    assert set(mappings.forms.values()) <= set(contracts.codes_for("exploitation_form"))
    assert set(mappings.sex.values()) <= set(contracts.codes_for("sex"))
    assert set(mappings.age.values()) <= set(contracts.codes_for("age"))
    for targets in mappings.country_labels.values():
        for code, _ in targets:
            assert code in iso3 | {"_T", "_U", "$OWN"}, code


def test_labels_map_in_spanish_english_and_with_lost_accents():
    typed = prepare(read_glotip(FIXTURE))
    mapped = {(r["category_label"], r["dimension_label"]): r["citizenship"]
              if r["breakdown"] == "citizenship" else r["counterpart_area"]
              for r in typed.filter(typed["breakdown"].is_in(["citizenship", "counterpart_area"]))
              .iter_rows(named=True)}
    assert mapped[("BELICE\ufffdA", "by citizenship")] == "BLZ"
    assert mapped[("Rep\ufffdblica Dominicana", "by country of repatriation")] == "DOM"
    assert mapped[("Hodruanian", "by citizenship")] == "HND"
    # "Nationals" by citizenship is the reporting country; as a repatriation country it is left
    # unmapped (ambiguous) and reported, never guessed.
    own = typed.filter((typed["category_label"] == "Nationals")
                       & (typed["dimension_label"] == "by citizenship"))
    assert own.height and (own["citizenship"] == own["ref_area"]).all()
    assert mapped[("Nationals", "by country of repatriation")] is None
    assert mapped[("Abroad", "by country of repatriation")] is None


def write_unodc_xlsx(path: Path, rows: list[list[str]]) -> None:
    """UNODC's data_glotip.xlsx layout: two title rows, the header, then text cells."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("data_glotip")
    sheet.write(0, 0, "UNODC: Global Report on Trafficking in Persons data")
    sheet.write(1, 0, "dataUNODC export, released 14/04/2025")
    for col, name in enumerate(HEADER):
        sheet.write_string(2, col, name)
    for r, row in enumerate(rows, start=3):
        for col, value in enumerate(row):
            sheet.write_string(r, col, value)
    workbook.close()


XLSX_ROWS = [
    ["GTM", "Guatemala", "Americas", "LAC", "Detected trafficking victims", "Total", "Total",
     "Total", "Total", "2018", "Counts", "1,250", "GLOTIP"],
    ["GTM", "Guatemala", "Americas", "LAC", "Detected trafficking victims", "Total", "Total",
     "Total", "Total", "2019", "Counts", "<5", "GLOTIP"],
    ["GTM", "Guatemala", "Americas", "LAC", "Detected trafficking victims", "by citizenship",
     "GUATEMALTECA", "Total", "Total", "2019", "Counts", "2,019", "GLOTIP"],
    ["GTM", "Guatemala", "Americas", "LAC", "Detected trafficking victims", "by citizenship",
     "Marciana", "Total", "Total", "2019", "Counts", "6", "GLOTIP"],
]


def test_xlsx_with_title_rows_and_text_values_is_read(tmp_path):
    path = tmp_path / "data_glotip.xlsx"
    write_unodc_xlsx(path, XLSX_ROWS)
    typed = prepare(read_glotip(path))
    assert typed["row_number"].to_list() == [4, 5, 6, 7]  # header on row 3, as Excel shows
    assert typed["value"].to_list() == [1250, None, 2019, 6]
    assert typed["suppressed_at_source"].to_list() == [False, True, False, False]
    assert typed["citizenship"].to_list() == ["_T", "_T", "GTM", None]
    assert typed["flag"].to_list()[2] == "value_equals_year"


def test_impossible_values_are_flagged(tmp_path):
    """More persons than live in the country, or a hundred times the cell's median over the other
    years (UNODC's 2021 row of 6,112,019 persons convicted in El Salvador by citizenship, in a
    series of tens): flagged, with the numbers behind it."""
    rows = [["SLV", "El Salvador", "Americas", "LAC", "Persons convicted", "by citizenship",
             "Salvadoran", "Total", "Total", str(year), "Counts", value, "GLOTIP"]
            for year, value in ((2017, "40"), (2018, "52"), (2019, "61"), (2020, "48"),
                                (2021, "6,112,019"))]
    rows.append(["GTM", "Guatemala", "Americas", "LAC", "Detected trafficking victims", "Total",
                 "Total", "Total", "Total", "2020", "Counts", "25,000,000", "GLOTIP"])
    path = tmp_path / "data_glotip.xlsx"
    write_unodc_xlsx(path, rows)
    typed = prepare(read_glotip(path))
    flags = dict(zip(typed["value"].to_list(), typed["flag"].to_list(), strict=True))
    assert flags[6_112_019] == "impossible_median" and flags[61] is None
    assert flags[25_000_000] == "above_population"
    details = dict(zip(typed["value"].to_list(), typed["flag_detail"].to_list(), strict=True))
    assert "median 50" in details[6_112_019] and "population" in details[25_000_000]


def test_a_file_in_another_layout_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("dataset,country,period,value\nTIP_VICTIMS,GTM,2024-Q1,4\n", encoding="utf-8")
    with pytest.raises(GlotipFileError):
        read_glotip(path)


def test_full_shared_file_imports_exactly(tmp_path):
    """UNODC's whole extract for the coalition, as kept in reference/unodc/."""
    settings = Settings(home=tmp_path / "home")
    report = import_glotip(SHARED_FILE, settings)
    with SHARED_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert report.rows_read == report.rows_imported == len(rows)
    assert report.rows_suppressed == sum(r["txtVALUE"] == "<5" for r in rows)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    stored = {(a, y): (v, s) for a, y, v, s in con.execute(
        "select ref_area, year, value, suppressed_at_source from raw.glotip_values "
        "where indicator_code = 'VIC_DETECTED' and breakdown = 'total' and sex = '_T' "
        "and age = '_T'").fetchall()}
    expected = headline_values(SHARED_FILE)
    assert set(stored) == set(expected)
    for key, text in expected.items():
        value, suppressed = stored[key]
        if text == "<5":
            assert (value, suppressed) == (None, True), key
        else:
            assert (value, suppressed) == (int(text.replace(",", "")), False), key
    # Nothing dropped: every label that did not map is in the report and in the warehouse.
    unmapped = {(u["dimension"], u["label"]) for u in report.unmapped}
    assert unmapped == {("by country of repatriation", "Abroad"), ("by citizenship", None),
                        ("by country of repatriation", "Nationals"),
                        ("by country of repatriation", None),
                        ("by country of repatriation", "Ciudadanos de su pa\ufffds")}
    null_codes = con.execute("select count(*) from raw.glotip_values "
                             "where category_mapping = 'unmapped'").fetchone()[0]
    assert null_codes == sum(u["rows"] for u in report.unmapped)
    # The values equal to their year are flagged (MEX 2015, DOM 2019 and 2020).
    same_year = {(f["country"], f["year"]) for f in report.flagged
                 if "value_equals_year" in f["reason"]}
    assert same_year == {("MEX", 2015), ("DOM", 2019), ("DOM", 2020)}
    con.close()


@pytest.mark.parametrize(("content", "message"), [
    (bytes(range(256)) * 8, "cannot be read as an Excel workbook or a CSV"),
    (b"a,b\n1,2\n", "not in UNODC's GLOTIP layout"),
    (b"PK\x03\x04 not really a zip", "cannot be read as an Excel workbook or a CSV"),
])
def test_the_import_command_refuses_a_file_that_is_not_unodcs_in_one_line(
        observatory_home, tmp_path, capsys, content, message):
    from pipelines.cli import main

    path = tmp_path / "data_glotip.xlsx"
    path.write_bytes(content)
    assert main(["--lang", "en", "import-glotip", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err, err
    assert not (observatory_home / "warehouse.duckdb").exists()  # no run started
