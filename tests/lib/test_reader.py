"""Reading submission files: formats, encodings, delimiters, and what cannot be read."""

import pytest

from pipelines.lib.reader import read_submission


def read(fixture_path, name):
    path = fixture_path(name)
    return read_submission(path.read_bytes(), path.name)


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("valid_gtm_2024q1_utf8.csv", "utf-8", ","),
        ("valid_gtm_2024q1_utf8_bom.csv", "utf-8-sig", ","),
        ("valid_gtm_2024q1_cp1252_semicolon.csv", "cp1252", ";"),
    ],
)
def test_csv_encodings_and_delimiters_give_the_same_cells(fixture_path, name, encoding, delimiter):
    result = read(fixture_path, name)
    assert result.ok, result.findings
    assert (result.encoding, result.delimiter) == (encoding, delimiter)
    assert result.frame.height == 32
    first = result.frame.row(0, named=True)
    assert first["comment"] == "Cifras de la Fiscalía, revisión día 3"  # accents intact
    assert first["_row"] == 2  # the header is row 1, as in a spreadsheet
    assert first["value"] == "10"
    assert first["counterpart_area"] is None  # a layout column absent from the file


def test_xlsx_reads_the_data_sheet_and_ignores_instructions(fixture_path):
    result = read(fixture_path, "valid_blz_2024q1.xlsx")
    assert result.ok, result.findings
    assert result.file_format == "xlsx"
    assert set(result.frame["_sheet"]) == {"TIP_VICTIMS"}
    assert result.frame.height == 32
    assert result.frame["value"][0] == "10"  # a number cell, read as its text


@pytest.mark.parametrize(
    ("name", "message_start"),
    [
        ("bad_empty.csv", "The file is empty."),
        ("bad_binary.csv", "The file is neither CSV text nor an Excel workbook"),
        ("bad_bom_but_cp1252.csv", "The file declares UTF-8 encoding (a BOM at the start) but row 2"),
    ],
)
def test_unreadable_files_give_one_bilingual_v01_finding(fixture_path, name, message_start):
    result = read(fixture_path, name)
    assert result.frame is None
    assert [f.rule for f in result.findings] == ["V01"]
    finding = result.findings[0]
    assert finding.message_en.startswith(message_start)
    assert finding.message_es and finding.message_es != finding.message_en


def test_unknown_and_missing_headers():
    data = b"dataset,country,period,indicador,value,extra\nTIP_VICTIMS,GTM,2024-Q1,VIC_DETECTED,3,x\n"
    result = read_submission(data, "x.csv")
    assert result.frame is None
    found = sorted((f.rule, f.column) for f in result.findings)
    assert found == [("V01", "extra"), ("V01", "indicador"), ("V01", "indicator")]


def test_cells_outside_the_table_are_refused():
    data = b"dataset,country,period,indicator,value\nTIP_VICTIMS,GTM,2024-Q1,VIC_DETECTED,3,oops\n"
    result = read_submission(data, "x.csv")
    assert result.frame is None
    assert [(f.rule, f.row, f.value) for f in result.findings] == [("V01", 2, "oops")]


def test_a_file_named_xlsx_that_is_not_a_workbook():
    result = read_submission(b"dataset,country\n", "plantilla.xlsx")
    assert [f.rule for f in result.findings] == ["V01"]
    assert "not an Excel workbook" in result.findings[0].message_en


def test_header_matching_ignores_case_and_spaces():
    data = b" Dataset ;COUNTRY; period;Indicator ;Value\nTIP_JUSTICE;GTM;2024-Q1;TIP_CASES;4\n"
    result = read_submission(data, "x.csv")
    assert result.ok, result.findings
    assert result.frame.row(0, named=True)["indicator"] == "TIP_CASES"


@pytest.mark.parametrize(("member", "key"), [
    ("xl/vbaProject.bin", "finding.xlsx_macros"),  # an .xlsm renamed .xlsx
    ("xl/macrosheets/sheet2.xml", "finding.xlsx_macros"),  # an XLM macro sheet
    ("xl/embeddings/oleObject1.bin", "finding.xlsx_macros"),
    ("xl/externalLinks/externalLink1.xml", "finding.xlsx_external_links"),
    ("xl/connections.xml", "finding.xlsx_external_links"),  # refreshes on opening
    # Found through a declaration, whatever the part's name.
    ("xl/_rels/workbook.xml.rels", "finding.xlsx_macros"),
    ("xl/worksheets/_rels/sheet1.xml.rels", "finding.xlsx_external_links"),
])
def test_a_workbook_with_macros_or_external_links_is_refused_whole(fixture_path, member, key):
    import io
    import zipfile

    from pipelines.lib.findings import Finding

    buffer = io.BytesIO()
    with zipfile.ZipFile(fixture_path("valid_blz_2024q1.xlsx")) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        declarations = {
            "xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId9" Type="http://'
            b'schemas.microsoft.com/office/2006/relationships/vbaProject" Target="code.bin"/>'
            b'</Relationships>',
            "xl/worksheets/_rels/sheet1.xml.rels": b'<Relationships><Relationship Id="rId1" '
            b'Type="http://example/relationships/oleLink" Target="file:///C:/other.xlsx" '
            b'TargetMode="External"/></Relationships>',
        }
        for item in source.infolist():
            if item.filename != member:
                target.writestr(item, source.read(item))
        target.writestr(member, declarations.get(member, b"Attribute VB_Name = \"ThisWorkbook\""))
    result = read_submission(buffer.getvalue(), "GTM_2024-Q1.xlsx")
    assert not result.ok and result.frame is None
    assert [(f.rule, f.message_en) for f in result.findings] == [
        ("V01", Finding.make("V01", key).message_en)]
