"""Read a submission file (CSV or XLSX in the layout of DOMAIN.md §3) into a frame of text cells.

Nothing is interpreted here beyond what reading needs: every cell stays text, so validation can
say exactly what was found. Each frame carries ``_sheet`` and ``_row`` (the row number a person
sees in the file: the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from pipelines.lib.contracts import DIMENSIONS, NOT_APPLICABLE, load_contracts
from pipelines.lib.findings import Finding

REQUIRED_COLUMNS = ("dataset", "country", "period", "indicator", "value")
# The template's columns for people (the row in words, whether it is mandatory): never read.
FOR_PEOPLE = ("label", "required")
# A workbook whose parts would unpack to more than this is refused before parsing (zip bombs).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
ZIP_SIGNATURE = b"PK\x03\x04"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls


def cell_text(value: object) -> str | None:
    """A workbook cell as the text a person typed: whole numbers without ``.0``, dates in ISO."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # a date typed in Excel
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def workbook_grids(data: bytes, first: str | None = None) -> Iterator[tuple[str, list[list[str | None]]]]:
    """Each sheet of an XLSX as rows of :func:`cell_text` (the sheet named ``first``, in any
    case, comes first): the reading shared by the side files (UNODC's history, the plan)."""
    import fastexcel  # only where a workbook is read

    workbook = fastexcel.read_excel(data)
    names = list(workbook.sheet_names)
    if first is not None:
        names.sort(key=lambda name: name.strip().lower() != first)
    for name in names:
        table = workbook.load_sheet(name, header_row=None, dtype_coercion="coerce",
                                    schema_sample_rows=None).to_polars()
        yield name, [[cell_text(v) for v in row] for row in table.iter_rows()]


@dataclass
class ReadResult:
    frame: pl.DataFrame | None = None  # all layout columns as text, plus _sheet and _row
    findings: list[Finding] = field(default_factory=list)
    file_format: str = ""  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def ok(self) -> bool:
        return self.frame is not None and not any(f.is_error for f in self.findings)


def read_submission(data: bytes, file_name: str) -> ReadResult:
    """Read the bytes of a submission; unreadable input gives V01 findings, never an exception."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        return ReadResult(findings=[Finding.make("V01", "finding.empty_file")])
    if data.startswith(ZIP_SIGNATURE):
        return _read_xlsx(data)
    if data.startswith(OLE2_SIGNATURE):
        return ReadResult(findings=[Finding.make("V01", "finding.legacy_xls")])
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        return ReadResult(findings=[Finding.make("V01", "finding.xlsx_not_zip")])
    return _read_csv(data)


# --- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str | None, str | None, Finding | None]:
    """Decode the bytes: a BOM is a declaration that must hold; otherwise UTF-8, then Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError as error:
            row = data[: error.start].count(b"\n") + 1
            return None, None, Finding.make(
                "V01", "finding.bom_not_utf8", row=row, value=_bytes_hex(data, error.start)
            )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", None
        except UnicodeDecodeError:
            return None, None, Finding.make("V01", "finding.bad_utf16")
    if b"\x00" in data[:65536] or _looks_binary(data[:65536]):
        return None, None, Finding.make("V01", "finding.binary_file")
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252", None
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", None


def _looks_binary(sample: bytes) -> bool:
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return control > max(8, len(sample) // 100)


def _bytes_hex(data: bytes, at: int) -> str:
    return data[at : at + 4].hex(" ")


def _sniff_delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def _read_csv(data: bytes) -> ReadResult:
    text, encoding, problem = _decode(data)
    if problem:
        return ReadResult(findings=[problem], file_format="csv")
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(header_line)
    result = ReadResult(file_format="csv", encoding=encoding, delimiter=delimiter)
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            separator=delimiter,
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError:
        frame = _read_csv_slowly(text, delimiter, result)
        if frame is None:
            return result
    result.frame = _frame_from_grid(frame, sheet=None, first_row=1, result=result)
    return result


def _read_csv_slowly(text: str, delimiter: str, result: ReadResult) -> pl.DataFrame | None:
    """Python's csv module: slower, but it says which row is malformed."""
    try:  # newline="": the csv module handles CR, LF and CRLF itself
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        result.findings.append(Finding.make("V01", "finding.csv_malformed", value=str(error)))
        return None
    if not rows:
        result.findings.append(Finding.make("V01", "finding.empty_file"))
        return None
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            result.findings.append(
                Finding.make("V01", "finding.cells_outside_table", row=number, value=row[width])
            )
    if result.findings:
        return None
    padded = [row[:width] + [""] * (width - len(row)) for row in rows]
    return pl.DataFrame(padded, schema=[f"column_{i + 1}" for i in range(width)], orient="row")


# --- XLSX ------------------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> ReadResult:
    import fastexcel  # imported here: only spreadsheets need it

    result = ReadResult(file_format="xlsx")
    problem = _zip_problem(data)
    if problem:
        result.findings.append(problem)
        return result
    try:
        workbook = fastexcel.read_excel(data)
        sheets = {}
        for name in workbook.sheet_names:
            sheet = workbook.load_sheet(name, header_row=None, dtypes="string")
            sheets[name] = (sheet.visible, sheet.to_polars())
    except Exception as error:  # fastexcel raises its own error types for broken files
        result.findings.append(Finding.make("V01", "finding.xlsx_unreadable", value=str(error)[:200]))
        return result
    frames = []
    for name, (visibility, grid) in sheets.items():
        if grid.height == 0 or not _is_data_sheet(grid):
            continue  # instructions and code-list sheets
        if _is_header_only(grid):
            # A template sheet left as downloaded (COORDINATION has no mandatory cell): nothing
            # reported for that data set, not an error. A workbook with no row at all still is.
            continue
        if visibility != "visible":
            # What a person cannot see, they cannot check: a hidden data sheet is not read.
            result.findings.append(Finding.make("V01", "finding.hidden_sheet", sheet=name))
            continue
        frame = _frame_from_grid(grid, sheet=name, first_row=1, result=result)
        if frame is not None:
            frames.append(frame)
    if not frames and not result.findings:
        result.findings.append(Finding.make("V01", "finding.no_data_sheet"))
        return result
    if frames:
        result.frame = pl.concat(frames, how="vertical")
    return result


def _zip_problem(data: bytes) -> Finding | None:
    """Refuse a workbook that is not a readable zip, carries macros or external links, or would
    unpack to far more than it weighs."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        return Finding.make("V01", "finding.xlsx_unreadable", value=str(error)[:200])
    active = _active_content(data, members)
    if active:
        return Finding.make("V01", active)
    unpacked = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if unpacked > MAX_UNPACKED_BYTES or (unpacked > 20 * 1024 * 1024
                                         and unpacked / packed > MAX_COMPRESSION_RATIO):
        return Finding.make("V01", "finding.xlsx_too_large", value=f"{unpacked // 2**20} MB",
                            limit=f"{MAX_UNPACKED_BYTES // 2**20} MB")
    return None


# What a workbook may declare (content types, relationship types) that is not figures: code
# (VBA, XLM macro sheets, ActiveX, embedded OLE objects) or a reach outside the file (links to
# other workbooks, data connections and queries that refresh on opening, external targets).
_MACRO_MARKERS = ("vbaproject", "macroenabled", "macrosheet", "dialogsheet", "activex",
                  "oleobject")
_LINK_MARKERS = ("externallink", "connections", "querytable")
_DECLARED = re.compile(rb'(?:ContentType|Type|TargetMode)\s*=\s*"([^"]*)"', re.IGNORECASE)


def _active_content(data: bytes, members) -> str | None:
    """The finding key of a workbook carrying macros or external links, else None. Read from
    the package's declarations (Excel finds parts through them, whatever their names), and from
    the part names as well."""
    import zipfile

    declared = [m.filename.lower().encode() for m in members]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in members:
            name = member.filename.lower()
            if (name == "[content_types].xml" or name.endswith(".rels")) \
                    and member.file_size < 2 * 2**20:
                content = archive.read(member)
                for rel in re.findall(rb"<Relationship\b[^>]*>", content):
                    values = [v.lower() for v in _DECLARED.findall(rel)]
                    if b"external" in values and not any(v.endswith(b"/hyperlink") for v in values):
                        return "finding.xlsx_external_links"
                declared += [v.lower() for v in _DECLARED.findall(content)]
    text = b"\n".join(declared)
    if any(marker.encode() in text for marker in _MACRO_MARKERS):
        return "finding.xlsx_macros"
    if any(marker.encode() in text for marker in _LINK_MARKERS):
        return "finding.xlsx_external_links"
    return None


def _is_header_only(grid: pl.DataFrame) -> bool:
    return all(value is None or not str(value).strip()
               for row in grid.slice(1).iter_rows() for value in row)


def _is_data_sheet(grid: pl.DataFrame) -> bool:
    header = {_normalise_header(v) for v in grid.row(0) if v is not None}
    return {"dataset", "indicator", "value"} <= header


# --- shared ----------------------------------------------------------------------------------


def _normalise_header(name: str | None) -> str:
    return (name or "").strip().lstrip("\ufeff").strip().lower()


def _frame_from_grid(
    grid: pl.DataFrame, *, sheet: str | None, first_row: int, result: ReadResult
) -> pl.DataFrame | None:
    """Header row → known layout columns; data rows → text cells with _sheet and _row."""
    known = list(load_contracts().columns)
    header = [_normalise_header(v) for v in grid.row(0)]
    findings = result.findings
    seen: dict[str, int] = {}
    keep: dict[str, str] = {}  # grid column -> layout column
    for position, (grid_column, name) in enumerate(zip(grid.columns, header, strict=True)):
        if not name:
            if grid.get_column(grid_column).slice(1).drop_nulls().str.strip_chars().str.len_chars().sum():
                findings.append(Finding.make(
                    "V01", "finding.cells_outside_table", sheet=sheet, row=first_row,
                    column=_column_letter(position),
                ))
            continue
        if name in FOR_PEOPLE:
            continue
        if name not in known:
            findings.append(Finding.make("V01", "finding.unknown_column", sheet=sheet,
                                         row=first_row, column=name, known=", ".join(known)))
            continue
        if name in seen:
            findings.append(Finding.make("V01", "finding.duplicate_column", sheet=sheet,
                                         row=first_row, column=name))
            continue
        seen[name] = position
        keep[grid_column] = name
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            findings.append(Finding.make("V01", "finding.missing_column", sheet=sheet,
                                         row=first_row, column=name))
    if any(f.is_error for f in findings):
        return None
    body = (
        grid.slice(1)
        .select([pl.col(c).alias(n) for c, n in keep.items()])
        .with_columns(pl.all().cast(pl.String).str.strip_chars())
        .with_columns(
            pl.lit(sheet, dtype=pl.String).alias("_sheet"),
            (pl.int_range(pl.len(), dtype=pl.Int64) + first_row + 1).alias("_row"),
        )
    )
    data_columns = [c for c in body.columns if not c.startswith("_")]
    body = body.filter(pl.any_horizontal(pl.col(c).fill_null("") != "" for c in data_columns))
    missing = [c for c in known if c not in body.columns]
    body = body.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    body = body.select(known + ["_sheet", "_row"])
    if body.height == 0:
        findings.append(Finding.make("V01", "finding.no_rows", sheet=sheet))
        return None
    body = _without_offered_blanks(body)
    if body.height == 0:
        if sheet is None:  # a CSV of nothing but empty offered rows
            findings.append(Finding.make("V01", "finding.no_rows", sheet=sheet))
        # A template sheet whose offered rows were all left empty: nothing reported for that
        # data set, as a sheet left as downloaded.
        return None
    return body


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _without_offered_blanks(body: pl.DataFrame) -> pl.DataFrame:
    """Without the rows the template offered and the ministry left empty (no value, no status,
    no comment, a cell that is not mandatory): such a row says nothing, as if it were not there.
    An empty mandatory cell stays, for validation to ask for its value or its status."""
    empty = body.filter(pl.all_horizontal(pl.col(c).fill_null("") == ""
                                          for c in ("value", "obs_status", "comment")))
    if empty.height == 0:
        return body
    contracts = load_contracts()
    mandatory: dict[tuple, set] = {}
    dropped = []
    for row in empty.iter_rows(named=True):
        unit = (row["dataset"], row["country"])
        if unit[0] not in contracts.datasets or not contracts.country(str(unit[1])):
            continue  # validation says what is wrong with it
        if unit not in mandatory:
            mandatory[unit] = {tuple(cell[c] for c in ("indicator", *DIMENSIONS))
                               for cell in contracts.mandatory_cells(*unit)}
        key = (row["indicator"], *((row[d] or NOT_APPLICABLE) for d in DIMENSIONS))
        if key not in mandatory[unit]:
            dropped.append(row["_row"])
    return body.filter(~pl.col("_row").is_in(dropped)) if dropped else body
