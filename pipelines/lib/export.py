"""Evaluator exports (issue 5, DOMAIN.md §7): CSV, XLSX, Parquet and SDMX-CSV from the published,
disclosure-controlled mart ``marts.indicator_values_published``, with a manifest.

* Source: the current serving snapshot (read-only; never the warehouse), or, with ``as_of``, a
  *vintage*: a private copy of the warehouse taken under the writer lock, cut back to what the
  platform had received (``raw.submissions.received_at``) and decided (``raw.audit_events
  .occurred_at``) by the end of that day (UTC), rebuilt with dbt in a temporary folder.
* Column-wise: one DuckDB query returns the published rows sorted on the full key (Arrow, into
  polars); names and labels are mapped per distinct code; the writers work on whole columns
  (polars, pyarrow, DuckDB, zlib), never on a Python object per row, and write files, not
  bytes in memory (a large history is millions of rows: ``benchmarks/export_large.py``).
* Deterministic bytes: rows sorted on the full key (explicit ORDER BY everywhere), no timestamps
  inside data files, a fixed XLSX creation date; only ``manifest.json`` says when the export was
  made.
* Text cells beginning with = + - @ tab or CR get a leading apostrophe (CSV, XLSX); numbers stay
  numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import yaml

from pipelines.lib import sdmx
from pipelines.lib.i18n import t
from pipelines.settings import DBT_PROJECT_DIR, Settings

FORMATS = ("csv", "xlsx", "parquet", "sdmx")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = r"^[=+\-@\t\r]"  # FORMULA_START as a (Rust) regular expression, for polars
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows per sheet, less the header
XLSX_CHUNK_ROWS = 50_000  # rows of sheet XML rendered at a time (bounded memory)
XLSX_RENDERERS = 2  # chunks rendered at once (threads), while another is compressed
# zlib level of the XLSX package: 1 compresses the sheet XML about 3.5 times faster than
# XlsxWriter's default (6); with the shared strings the file is about a fifth larger than
# XlsxWriter's own (inline strings, level 6)
XLSX_COMPRESSLEVEL = 1
XLSX_MAX_TEXT = 32_767  # Excel's longest cell text, in UTF-16 units (XlsxWriter truncates to it)
FIXED_CREATED = dt.datetime(2000, 1, 1, 0, 0, 0)  # XLSX document property (byte-identical files)
PUBLISHED = "marts.indicator_values_published"
FILE_NAMES = {
    "csv": "indicators.csv",
    "xlsx": "indicators.xlsx",
    "parquet": "indicators.parquet",
    "sdmx": "sdg_16_2_2.sdmx.csv",
}
KEY = ("indicator_code", "ref_area", "freq", "time_period", "sex", "age", "exploitation_form")
LABELLED = ("sex", "age", "exploitation_form")  # code-list dimensions with labels es/en
LONG_COLUMNS = (
    "indicator_code", "indicator_name_es", "indicator_name_en",
    "family", "family_name_es", "family_name_en",  # the XLSX sheet an indicator is on
    "ref_area", "ref_area_name_es", "ref_area_name_en",
    "time_period", "freq", "period_end",
    "sex", "sex_label_es", "sex_label_en",
    "age", "age_label_es", "age_label_en",
    "exploitation_form", "exploitation_form_label_es", "exploitation_form_label_en",
    "value", "unit", "obs_status", "conf_status", "n_countries", "n_expected", "is_complete_year",
    "source",  # whose figures: COALITION (the members'); UNODC's history is in its own file
)
COALITION = "COALITION"
MART_COLUMNS = (  # of the published mart, in the export
    "indicator_code", "ref_area", "time_period", "freq", "period_end", "sex", "age",
    "exploitation_form", "value", "unit", "obs_status", "conf_status", "n_countries", "n_expected",
    "is_complete_year",
)
_TYPES = {"family": pa.int32(), "period_end": pa.date32(), "value": pa.float64(),
          "n_countries": pa.int32(), "n_expected": pa.int32(), "is_complete_year": pa.bool_()}
# the typed long table: what every writer reads, and the Parquet file's schema
ROW_SCHEMA = pa.schema([(c, _TYPES.get(c, pa.string())) for c in LONG_COLUMNS])
# The regional plan's progress (DOMAIN.md §9, marts.plan_progress): plan_progress.csv in a CSV
# export and a sheet in the XLSX, when a plan is published; the manifest records its version.
PLAN_TABLE = "marts.plan_progress"
PLAN_FILE = "plan_progress.csv"
PLAN_COLUMNS = (
    "objective_id", "aim", "indicator", "ref_area", "direction", "baseline_period",
    "baseline_value", "target_period", "target_value", "actual_period", "actual_value",
    "progress", "elapsed", "status", "conf_status",
)
# Tables beside the indicators, each written (a CSV file in a CSV export, a sheet in the XLSX)
# when the snapshot has rows for it: UNODC's published history, latest vintage, with its source
# and vintage (the dashboard shows it beside the members' figures); and the referral pairs
# under the same disclosure control as the dashboard's coordination page.
HARMONISATION_COLUMNS = ("ref_area", "year", "item", "status", "reference", "date", "valid_until",
                         "index_value", "previous_status", "obs_status", "is_illustrative")
SIDE_TABLES = {
    "history": ("unodc_history.csv", "marts.history_values", (
        "source", "vintage", "indicator_code", "stage", "ref_area", "year", "breakdown", "sex",
        "age", "exploitation_form", "citizenship", "counterpart_area", "value", "value_text",
        "suppressed_at_source", "flag"), "is_latest_vintage",
        "indicator_code, ref_area, year, breakdown, sex, age"),
    "pairs": ("referral_pairs.csv", "marts.coordination_mirror_published", (
        "sender", "receiver", "time_period", "freq", "period_end", "sent_by_sender",
        "sent_conf_status", "received_by_receiver", "received_conf_status", "sender_reported",
        "receiver_reported", "gap_persons", "mirror_gap_percent", "gap_conf_status",
        "pair_status", "obs_status"), None, "sender, receiver, period_end, freq"),
    # The members' legal and policy framework (DOMAIN.md §9): policy facts as reported.
    "harmonisation": ("harmonisation.csv", "marts.harmonisation_matrix", HARMONISATION_COLUMNS,
                      None, "ref_area, year, item"),
    # Victims by citizenship and country of detection, as the flows map shows them: flows of 5
    # or more that disclosure control leaves published; a flow not listed is smaller, of
    # unknown citizenship, or hidden.
    "flows": ("flows_by_citizenship.csv", "marts.flows_victims", (
        "origin_area", "destination_area", "time_period", "freq", "period_end", "victims",
        "is_domestic", "origin_is_member", "obs_status"), None,
        "destination_area, origin_area, period_end, freq"),
}
# The indicators a side table belongs with (an --indicators export leaves the others out; the
# policy framework has none).
SIDE_INDICATORS = {"pairs": ("REF_SENT", "REF_RECEIVED", "REF_MIRROR_GAP"), "harmonisation": (),
                   "flows": ("VIC_DETECTED",)}
DEFINITION_COLUMNS = (
    "indicator_code", "family", "dataset", "name_es", "name_en", "definition_es", "definition_en",
    "formula_es", "formula_en", "unit", "numerator", "denominator", "sdg_series", "caveat_es", "caveat_en",
    "disclosure_rule", "frequencies",
)


def neutralise(value):
    """A text a spreadsheet would run as a formula gets a leading apostrophe; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _neutralised(column: pl.Expr) -> pl.Expr:
    """``neutralise`` over a text column."""
    return pl.when(column.str.contains(FORMULA_PATTERN)).then(pl.lit("'") + column).otherwise(column)


_POLARS_TYPES = {pa.string(): pl.String, pa.int32(): pl.Int32, pa.date32(): pl.Date,
                 pa.float64(): pl.Float64, pa.bool_(): pl.Boolean}
POLARS_SCHEMA = pl.Schema({f.name: _POLARS_TYPES[f.type] for f in ROW_SCHEMA})


@dataclass
class ExportData:
    rows: pl.DataFrame  # LONG_COLUMNS typed as POLARS_SCHEMA, sorted on KEY (dicts are converted)
    definitions: list[dict]
    m49: dict[str, str]
    submissions: list[dict]
    source: dict
    notes: list[tuple[str, str]] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)  # PLAN_COLUMNS of the plan in force
    plan_info: dict | None = None  # its version, whether illustrative, the status rule
    side: dict[str, tuple[tuple[str, ...], list[dict]]] = field(default_factory=dict)  # SIDE_TABLES

    def __post_init__(self) -> None:
        if not isinstance(self.rows, pl.DataFrame):
            self.rows = pl.from_dicts(list(self.rows), schema=POLARS_SCHEMA)


# --- reading --------------------------------------------------------------------------------


def disclosure_rules() -> dict:
    """The disclosure rule set in force (dbt vars), as recorded in every manifest."""
    from pipelines.settings import get_settings

    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as f:
        variables = yaml.safe_load(f)["vars"]
    rules = {key: value for key, value in variables.items() if key.startswith("disclosure_")}
    # This one is a template over the environment: the manifest says what it renders to.
    rules.pop("disclosure_small_series_annual_only", None)
    rules["disclosure_small_series"] = get_settings().disclosure_small_series
    return dict(sorted(rules.items()))


def _mapped(column: str, mapping: dict, dtype, default=None) -> pl.Expr:
    return pl.col(column).replace_strict(mapping, default=default, return_dtype=dtype)


def read_export_data(database: Path, indicators: list[str] | None = None) -> ExportData:
    """Everything an export needs from a built database (a snapshot or a vintage), read-only.

    The published rows come from one DuckDB query sorted on the full key, as Arrow, into a polars
    frame; names and labels are joined column-wise (a code is looked up once, with
    ``contracts.label`` for the code-list labels); nothing becomes a Python object per row.
    """
    from pipelines.lib.contracts import load_contracts

    contracts = load_contracts()
    con = duckdb.connect(str(database), read_only=True)
    try:
        where, params = "", None
        if indicators:
            where = "where list_contains($indicators, indicator_code)"
            params = {"indicators": list(indicators)}
        published = pl.from_arrow(con.sql(
            f"select {', '.join(c for c in LONG_COLUMNS if c in MART_COLUMNS)} from {PUBLISHED} "
            f"{where} order by {', '.join(KEY)}", params=params,
        ).to_arrow_table())
        names = {code: (es, en, family) for code, es, en, family in con.execute(
            "select indicator_code, name_es, name_en, family from marts.dim_indicator").fetchall()}
        cursor = con.execute(
            f"select {', '.join(DEFINITION_COLUMNS)} from marts.dim_indicator order by family, indicator_code")
        definitions = [dict(zip(DEFINITION_COLUMNS, r, strict=True)) for r in cursor.fetchall()]
        if indicators:
            definitions = [d for d in definitions if d["indicator_code"] in indicators]
        countries = con.execute("select iso3, m49, name_es, name_en, member from marts.dim_country").fetchall()
        submissions = [
            dict(zip(("submission_id", "country", "dataset", "period", "version", "status"), r, strict=True))
            for r in con.execute(
                """select submission_id, country, dataset, period, version, current_status
                   from (select *, row_number() over (partition by country, dataset, period
                                                      order by version desc, submission_id desc) as rank
                         from marts.submissions_status
                         where current_status in ('validated', 'accepted'))
                   where rank = 1
                   order by country, dataset, period""").fetchall()
        ]
        plan, plan_info = _read_plan(con, indicators)
        side = _read_side_tables(con, indicators)
        info = con.execute("select built_at, snapshot from main.snapshot_info").fetchone() \
            if con.execute("select count(*) from information_schema.tables where table_name = 'snapshot_info'"
                           ).fetchone()[0] else None
    finally:
        con.close()
    m49 = {iso3: code for iso3, code, _, _, member in countries if member and code}
    columns = {name: pl.col(name) for name in published.columns}
    for n, lang in enumerate(("es", "en")):
        columns[f"indicator_name_{lang}"] = _mapped(
            "indicator_code", {code: v[n] for code, v in names.items()}, pl.String)
        area_names = {iso3: (es, en)[n] for iso3, _, es, en, _ in countries}
        area_names["REG"] = t("export.area.REG", lang)
        columns[f"ref_area_name_{lang}"] = _mapped("ref_area", area_names, pl.String,
                                                   default=pl.col("ref_area"))
        for dim in LABELLED:
            codes = published[dim].drop_nulls().unique().to_list()
            columns[f"{dim}_label_{lang}"] = _mapped(
                dim, {code: contracts.label(dim, code, lang) for code in codes}, pl.String)
        columns[f"family_name_{lang}"] = _mapped(
            "indicator_code", {code: t(f"export.family.{v[2]}", lang) for code, v in names.items()},
            pl.String)
    columns["family"] = _mapped("indicator_code", {code: v[2] for code, v in names.items()}, pl.Int32)
    columns["source"] = pl.lit(COALITION)
    # one chunk a column (DuckDB hands over batches): cheaper slices, casts and copies later
    rows = published.select(columns[c].cast(POLARS_SCHEMA[c]).alias(c) for c in LONG_COLUMNS).rechunk()
    source = {"snapshot": info[1] if info else database.name,
              "built_at": info[0].isoformat() if info else None}
    return ExportData(rows=rows, definitions=definitions, m49=m49, submissions=submissions,
                      source=source, plan=plan, plan_info=plan_info, side=side)


def _read_side_tables(con: duckdb.DuckDBPyConnection, indicators: list[str] | None
                      ) -> dict[str, tuple[tuple[str, ...], list[dict]]]:
    """SIDE_TABLES that hold rows, with the columns this snapshot has (in SIDE_TABLES' order)."""
    out = {}
    for key, (_, table, wanted, where, order) in SIDE_TABLES.items():
        schema, name = table.split(".")
        present = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? "
            "and table_name = ?", [schema, name]).fetchall()}
        if not present:
            continue
        if indicators and key in SIDE_INDICATORS and not set(indicators) & set(SIDE_INDICATORS[key]):
            continue
        columns = tuple(c for c in wanted if c in present)
        clauses, params = [where] if where else [], []
        if indicators and "indicator_code" in present:
            clauses.append("list_contains(?, indicator_code)")
            params.append(list(indicators))
        sql = (f"select {', '.join(columns)} from {table} "
               + (f"where {' and '.join(clauses)} " if clauses else "")
               + f"order by {', '.join(c for c in order.split(', ') if c in present)}")
        cursor = con.execute(sql, params)
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        if rows:
            out[key] = (columns, rows)
    return out


def _read_plan(con: duckdb.DuckDBPyConnection, indicators: list[str] | None
               ) -> tuple[list[dict], dict | None]:
    """The plan in force as published (``marts.plan_progress``), sorted on its key, and what the
    manifest and notes say of it; ([], None) when no plan is published."""
    if not con.execute("select count(*) from information_schema.tables where table_schema = "
                       "'marts' and table_name = 'plan_progress'").fetchone()[0]:
        return [], None
    where, params = "", []
    if indicators:
        where, params = "where list_contains(?, indicator)", [list(indicators)]
    cursor = con.execute(
        f"select {', '.join(PLAN_COLUMNS)}, plan_version, plan_is_illustrative, plan_imported_at, "
        f"rule_on_track_margin, rule_at_risk_margin, rule_maintain_tolerance from {PLAN_TABLE} "
        f"{where} order by objective_id, indicator, ref_area", params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    if not rows:
        return [], None
    first = rows[0]
    info = {"table": PLAN_TABLE, "version": first["plan_version"],
            "illustrative": bool(first["plan_is_illustrative"]),
            "imported_at": first["plan_imported_at"].isoformat()
            if first["plan_imported_at"] else None,
            "targets": len(rows),
            "status_rule": {"plan_on_track_margin": first["rule_on_track_margin"],
                            "plan_at_risk_margin": first["rule_at_risk_margin"],
                            "plan_maintain_tolerance": first["rule_maintain_tolerance"]}}
    return [{c: r[c] for c in PLAN_COLUMNS} for r in rows], info


def write_table_parquet(columns, rows: list[dict], path: Path) -> None:
    """A table beside the indicators as Parquet: the types of its values (counts stay whole)."""
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([{c: row[c] for c in columns} for row in rows],
                                 schema=None if rows else pa.schema([(c, pa.string())
                                                                     for c in columns]))
    pq.write_table(table, path, compression="zstd")


def write_table_csv(columns, rows: list[dict], path: Path) -> None:
    """A table beside the indicators: UTF-8 with BOM, CRLF, numbers as ``sdmx.format_number``
    (counts as whole numbers), dates ISO, texts neutralised (as indicators.csv)."""
    import csv

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float):
            return sdmx.format_number(float(value))
        if isinstance(value, dt.date):
            return value.isoformat()
        return neutralise(str(value))

    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row[c]) for c in columns])


# --- writers (each writes one file; the ``*_bytes`` forms return its bytes) -----------------


def write_csv(data: ExportData, path: Path) -> None:
    """Long CSV: UTF-8 with BOM, CRLF, RFC 4180 quoting where needed; numbers as
    ``sdmx.format_number``, dates ISO, texts neutralised; an empty text and a null are both an
    empty field."""
    frame = data.rows
    columns = []
    for name in LONG_COLUMNS:
        kind = ROW_SCHEMA.field(name).type
        column = pl.col(name)
        if name == "value":
            columns.append(sdmx.format_numbers(frame["value"]))
        elif pa.types.is_string(kind):
            # an empty text is written as a null is (polars would quote it)
            columns.append(pl.when(column != "").then(_neutralised(column)).alias(name))
        elif pa.types.is_date(kind):
            columns.append(column.dt.to_string("%Y-%m-%d"))
        else:
            columns.append(column.cast(pl.String))
    frame.select(columns).write_csv(path, include_bom=True, line_terminator="\r\n",
                                    quote_style="necessary")


def write_parquet(data: ExportData, path: Path) -> None:
    import pyarrow.parquet as pq

    # one chunk per column, as a table built in one piece: the same bytes however it was read
    table = data.rows.to_arrow()
    table = pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in ROW_SCHEMA], schema=ROW_SCHEMA)
    pq.write_table(table.combine_chunks(), path, compression="zstd")


def write_sdmx(data: ExportData, path: Path) -> None:
    """SDMX-CSV 2.0 (UTF-8 without BOM, CRLF) of the SDG 16.2.2 series, checked against the kept
    SDG DSD first: a file the DSD does not accept is not written."""
    body = sdmx.sdmx_frame(data.rows, data.m49)
    problems = sdmx.dsd_problems(body)
    if problems:
        raise ValueError("the SDG 16.2.2 file does not conform to the SDG DSD "
                         f"({sdmx.DSD_FILE.name}): " + "; ".join(problems))
    body.select(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in body.columns).write_csv(
        path, include_bom=False, line_terminator="\r\n", quote_style="necessary")


def write_xlsx(data: ExportData, path: Path, lang: str) -> None:
    """XLSX: notes, definitions, then a sheet per indicator family (continued on "(2)", ... past
    Excel's row limit): a bold, frozen header row, then one row per published value.

    XlsxWriter (constant_memory) writes the workbook with each family sheet holding its header
    row only. The rows are then rendered column-wise (polars, ``_XlsxCells``) as the sheet XML,
    texts in a shared-string table, and spliced in while the package is copied entry by entry
    (same names, dates and permissions; zlib level ``XLSX_COMPRESSLEVEL``). Writing 60 million
    cells one call at a time through XlsxWriter took minutes.
    """
    import xlsxwriter

    frame = data.rows
    frame = frame.with_columns(_value=_XlsxCells.numbers(frame["value"]))
    with tempfile.TemporaryDirectory(prefix="observatory-xlsx-") as tmp:
        skeleton = Path(tmp) / "skeleton.xlsx"
        # constant_memory: rows are streamed to disk (large histories do not fit a sheet in memory)
        workbook = xlsxwriter.Workbook(str(skeleton), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False})
        workbook.set_properties({"title": t("export.xlsx.title", lang), "created": FIXED_CREATED,
                                 "author": t("export.xlsx.author", lang)})
        bold = workbook.add_format({"bold": True})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

        notes = workbook.add_worksheet(t("export.sheet.notes", lang)[:31])
        notes.set_column(0, 0, 28)
        notes.set_column(1, 1, 110)
        for r, (key, text) in enumerate(data.notes):
            notes.write_string(r, 0, neutralise(key), bold)
            notes.write_string(r, 1, neutralise(text), wrap)
        definitions = workbook.add_worksheet(t("export.sheet.definitions", lang)[:31])
        _xlsx_table(definitions, DEFINITION_COLUMNS, data.definitions, bold)
        if data.plan:
            plan_sheet = workbook.add_worksheet(_sheet_name(t("export.sheet.plan", lang)))
            _xlsx_table(plan_sheet, PLAN_COLUMNS, data.plan, bold)
        for key, (columns, rows) in data.side.items():
            _xlsx_table(workbook.add_worksheet(_sheet_name(t(f"export.sheet.{key}", lang))),
                        columns, rows, bold)
        parts: dict[str, tuple[int, int]] = {}  # sheet XML -> (family, first row)
        for family, count in frame.group_by("family").len().drop_nulls().sort("family").rows():
            name = f"{family:02d} " + t(f"export.family.{family}", lang)
            # a sheet holds XLSX_MAX_ROWS rows at most: continue on "(2)", "(3)", ...
            for part, start in enumerate(range(0, max(count, 1), XLSX_MAX_ROWS), start=1):
                suffix = f" ({part})" if part > 1 else ""
                sheet = workbook.add_worksheet(_sheet_name(name[: 31 - len(suffix)] + suffix))
                sheet.write_row(0, 0, LONG_COLUMNS, bold)
                sheet.freeze_panes(1, 0)
                # XlsxWriter's packager names the n-th worksheet xl/worksheets/sheet<n>.xml
                parts[f"xl/worksheets/sheet{len(workbook.worksheets())}.xml"] = (family, start)
        workbook.close()
        cells = _XlsxCells(frame) if parts else None
        with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(
                path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as package:
            for info in source.infolist():
                entry = _entry_like(info, info.filename)
                part = parts.pop(info.filename, None)
                content = source.read(info)
                if cells is not None and info.filename in _SHARED_STRINGS_LINKS:
                    content = _SHARED_STRINGS_LINKS[info.filename](content)
                if part is None:
                    package.writestr(entry, content)
                    continue
                family, start = part
                rows = frame.filter(pl.col("family") == family).slice(start, XLSX_MAX_ROWS)
                bound, chunks = cells.sheet(content, rows)
                entry.file_size = bound  # ZipFile decides ZIP64 from it (never needed below 2 GB)
                _write_entry(package, entry, chunks)
            if cells is not None:
                package.writestr(_entry_like(info, "xl/sharedStrings.xml"), cells.shared_strings())
        if parts:
            raise RuntimeError(f"XLSX sheets not found in XlsxWriter's package: {sorted(parts)}")


def _entry_like(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    """A new zip entry with the date, permissions and system of an entry of XlsxWriter's."""
    entry = zipfile.ZipInfo(name, info.date_time)
    entry.compress_type = info.compress_type
    entry.external_attr = info.external_attr
    entry.create_system = info.create_system
    entry._compresslevel = XLSX_COMPRESSLEVEL  # ZipFile's own level is not used for a ZipInfo
    return entry


def _link_shared_strings(content: bytes, closing: bytes, element: bytes) -> bytes:
    if b"sharedStrings" in content or content.count(closing) != 1:
        raise RuntimeError("unexpected XLSX package layout from XlsxWriter")
    return content.replace(closing, element + closing)


_SHARED_STRINGS_LINKS = {  # the two parts that declare the shared-string table
    "[Content_Types].xml": lambda content: _link_shared_strings(
        content, b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'),
    "xl/_rels/workbook.xml.rels": lambda content: _link_shared_strings(
        content, b"</Relationships>", b'<Relationship Id="rId%d" Type="http://schemas.openxml'
        b'formats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        % (1 + max(int(n) for n in re.findall(rb'Id="rId(\d+)"', content)))),
}


def _write_entry(package: zipfile.ZipFile, entry: zipfile.ZipInfo, chunks) -> None:
    """Write the chunks into one zip entry, compressing a chunk (zlib, in a thread) while the
    next one is rendered (polars): both release the GIL. One writer, in order: same bytes."""
    with package.open(entry, "w") as target, ThreadPoolExecutor(max_workers=1) as compressor:
        pending = None
        for chunk in chunks:
            if pending is not None:
                pending.result()
            pending = compressor.submit(target.write, chunk)
        if pending is not None:
            pending.result()


def _xlsx_table(sheet, columns, rows: list[dict], bold) -> None:
    """A small table (definitions) cell by cell, with XlsxWriter's own writers."""
    sheet.write_row(0, 0, columns, bold)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(columns):
            value = row[column]
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif isinstance(value, dt.date):
                sheet.write_string(r, c, value.isoformat())
            else:
                sheet.write_string(r, c, neutralise(str(value)))


_XLSX_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_XLSX_CONTROL = re.compile("([\x00-\x08\x0b-\x1f])")
_LEADING_SPACE, _TRAILING_SPACE = re.compile(r"^\s"), re.compile(r"\s$")


def _xlsx_t(text: str) -> str:
    """A text as the ``<t>`` element XlsxWriter writes for it (inline or shared): neutralised,
    cut to Excel's limit, control characters as ``_xHHHH_``, XML-escaped, spaces kept."""
    text = neutralise(text)
    if len(text) > XLSX_MAX_TEXT // 2 and len(text.encode("utf-16-le", "surrogatepass")) // 2 > XLSX_MAX_TEXT:
        units = 0
        for index, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > XLSX_MAX_TEXT:
                text = text[:index]
                break
    text = _XLSX_ESCAPE.sub(r"_x005F\1", text)
    text = _XLSX_CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if _LEADING_SPACE.search(text) or _TRAILING_SPACE.search(text) else ""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{space}>{text}</t>"


BOOLEAN_CELL = ('" t="b"><v>', "</v></c>")


class _XlsxCells:
    """The cells of the family sheets as XML, column by column.

    Texts are few distinct values (codes, labels, periods): each is escaped once, stored once in
    the shared-string table (``xl/sharedStrings.xml``, Excel's own layout) and mapped to its
    index. Numbers are written as XlsxWriter writes them (``%.16G``: DuckDB's printf gives the
    same text); integers as they are. A null is no cell at all.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        from xlsxwriter.utility import xl_col_to_name

        self.letters = [xl_col_to_name(i) for i in range(len(LONG_COLUMNS))]
        self.shared: dict[str, int] = {}  # <t> element -> index in the shared-string table
        self.references = 0  # text cells written (the table's count)
        self.texts: dict[str, dict[str, str]] = {}
        for name in LONG_COLUMNS:
            kind = ROW_SCHEMA.field(name).type
            if pa.types.is_string(kind) or pa.types.is_date(kind):
                values = frame.select(_as_text(name)).to_series().drop_nulls().unique().sort()
                self.texts[name] = {
                    v: f'" t="s"><v>{self.shared.setdefault(_xlsx_t(v), len(self.shared))}</v></c>'
                    for v in values.to_list()}
        # the longest cell of each column after its reference, in bytes (for a size bound)
        self.widths = [
            max((len(v.encode()) for v in self.texts[name].values()), default=0)
            if name in self.texts else len("".join(BOOLEAN_CELL)) + 1 if self._boolean(name)
            else len('"><v></v></c>') + (frame.select(
                self._number(name).str.len_bytes().max()).item() or 0)
            for name in LONG_COLUMNS]

    @staticmethod
    def numbers(values: pl.Series) -> pl.Series:
        """``value`` as XlsxWriter writes a number (``%.16G``), row by row in order."""
        if not values.drop_nulls().is_finite().all():
            raise TypeError("NAN/INF not supported in an XLSX number cell")
        con = duckdb.connect()
        try:
            con.register("numbers", pl.DataFrame({"v": values}).with_row_index("i").to_arrow())
            return con.sql("select printf('%.16G', v) as g from numbers order by i").pl()["g"]
        finally:
            con.close()

    def sheet(self, skeleton: bytes, rows: pl.DataFrame) -> tuple[int, Iterator[bytes]]:
        """The sheet XML -- XlsxWriter's (header only) with ``rows`` after the header row -- as
        chunks, and an upper bound of its size."""
        last = self.letters[-1]
        head, tail = skeleton.split(b"</sheetData>", 1)
        before = f'<dimension ref="A1:{last}1"/>'.encode()
        if head.count(before) != 1:
            raise RuntimeError("unexpected XLSX sheet layout from XlsxWriter")
        if rows.height:
            head = head.replace(before, f'<dimension ref="A1:{last}{rows.height + 1}"/>'.encode())
        digits = len(str(rows.height + 1))
        per_row = len('<row r=""></row>') + digits + sum(
            len('<c r=""') + len(letter) + digits + width
            for letter, width in zip(self.letters, self.widths, strict=True))
        tail = b"</sheetData>" + tail
        bound = len(head) + rows.height * per_row + len(tail)
        self.references += sum(rows.height - rows[name].null_count() for name in self.texts)

        def chunks() -> Iterator[bytes]:
            """The chunks in order; two are rendered at a time (polars releases the GIL)."""
            yield head
            starts = iter(range(0, rows.height, XLSX_CHUNK_ROWS))
            with ThreadPoolExecutor(max_workers=XLSX_RENDERERS) as renderers:
                def render(start: int) -> Future:
                    return renderers.submit(self._rows, rows.slice(start, XLSX_CHUNK_ROWS), start + 2)

                pending = deque(render(start) for start in islice(starts, XLSX_RENDERERS))
                while pending:
                    chunk = pending.popleft().result()
                    start = next(starts, None)
                    if start is not None:
                        pending.append(render(start))
                    yield chunk
            yield tail

        return bound, chunks()

    def _rows(self, rows: pl.DataFrame, first: int) -> memoryview:
        """Rows ``first``, ``first + 1``, ... as XML, back to back.

        One flat ``concat_str`` over the chunk (nested ones cost an intermediate column each): a
        column with no null in the chunk is literal, row number and value; a column with nulls
        is one nested piece, null (no cell) where the value is null."""
        number = pl.col("_row")
        pieces: list[str | pl.Expr] = ['<row r="', number, '">']
        for letter, name in zip(self.letters, LONG_COLUMNS, strict=True):
            if name in self.texts:
                value = [_as_text(name).replace_strict(self.texts[name], return_dtype=pl.String)]
            elif self._boolean(name):  # as XlsxWriter's write_boolean: t="b", 1 or 0
                value = [BOOLEAN_CELL[0], pl.col(name).cast(pl.Int8).cast(pl.String),
                         BOOLEAN_CELL[1]]
            else:
                value = ['"><v>', self._number(name), "</v></c>"]
            cell = [f'<c r="{letter}', number, *value]
            if rows[name].null_count():
                cell = [pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in cell])]
            pieces += cell
        pieces.append("</row>")
        merged: list[str | pl.Expr] = []
        for piece in pieces:  # adjacent literals as one
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            else:
                merged.append(piece)
        xml = rows.with_columns(
            _row=pl.int_range(first, first + rows.height, eager=False).cast(pl.String),
        ).select(pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in merged],
                               ignore_nulls=True)).to_series().to_arrow()
        if isinstance(xml, pa.ChunkedArray):
            xml = xml.combine_chunks()
        xml = xml.cast(pa.large_string())
        # the rows back to back, as they lie in the Arrow array (no copy; rows are never null)
        offsets = memoryview(xml.buffers()[1]).cast("q")
        return memoryview(xml.buffers()[2])[offsets[xml.offset]:offsets[xml.offset + len(xml)]]

    def shared_strings(self) -> bytes:
        """``xl/sharedStrings.xml``, as XlsxWriter writes it."""
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{self.references}" uniqueCount="{len(self.shared)}">'
            + "".join(f"<si>{element}</si>" for element in self.shared) + "</sst>").encode()

    @staticmethod
    def _boolean(name: str) -> bool:
        return pa.types.is_boolean(ROW_SCHEMA.field(name).type)

    @staticmethod
    def _number(name: str) -> pl.Expr:
        return pl.col("_value") if name == "value" else pl.col(name).cast(pl.String)


def _as_text(name: str) -> pl.Expr:
    """A text or date column as text (dates ISO, as ``date.isoformat``)."""
    if pa.types.is_date(ROW_SCHEMA.field(name).type):
        return pl.col(name).dt.to_string("%Y-%m-%d")
    return pl.col(name)


def _sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return name[:31]


def csv_bytes(data: ExportData) -> bytes:
    return _bytes_of(write_csv, data)


def parquet_bytes(data: ExportData) -> bytes:
    return _bytes_of(write_parquet, data)


def sdmx_bytes(data: ExportData) -> bytes:
    return _bytes_of(write_sdmx, data)


def xlsx_bytes(data: ExportData, lang: str) -> bytes:
    return _bytes_of(lambda d, p: write_xlsx(d, p, lang), data)


def _bytes_of(writer, data: ExportData) -> bytes:
    with tempfile.TemporaryDirectory(prefix="observatory-export-") as tmp:
        path = Path(tmp) / "file"
        writer(data, path)
        return path.read_bytes()


# --- the export -----------------------------------------------------------------------------


def notes_for(data: ExportData, as_of: dt.date | None, rules: dict, lang: str) -> list[tuple[str, str]]:
    detection = next((d for d in data.definitions if d["indicator_code"] == "VIC_DETECTED"), None)
    # the definitions carry es/en texts: another language (fr) reads the English caveat
    caveat = (detection.get(f"caveat_{lang}") or detection["caveat_en"] if detection
              else t("export.note.detection", lang))
    return [
        (t("export.note.title_key", lang), t("export.xlsx.title", lang)),
        (t("export.note.detection_key", lang), caveat),
        (t("export.note.methods_key", lang), t("export.note.methods", lang)),
        (t("export.note.history_key", lang), t("export.note.history", lang)),
        (t("export.note.disclosure_key", lang),
         t("export.note.disclosure", lang,
           max_small=int(rules.get("disclosure_min_count", 5)) - 1,
           max_small_child=int(rules.get("disclosure_min_count_child_citizenship", 10)) - 1,
           rule_set=rules.get("disclosure_rule_set"))),
        (t("export.note.status_key", lang), t("export.note.status", lang)),
        (t("export.note.as_of_key", lang),
         as_of.isoformat() if as_of else t("export.note.as_of_current", lang)),
        (t("export.note.manifest_key", lang), t("export.note.manifest", lang)),
        *_plan_notes(data, lang),
    ]


def _plan_notes(data: ExportData, lang: str) -> list[tuple[str, str]]:
    """The regional plan's status rule with its thresholds (dbt vars), and whether the plan is
    the demo's illustrative one; nothing when no plan is published."""
    info = data.plan_info
    if info is None:
        return []
    rule = info["status_rule"]
    notes = [(t("export.note.plan_key", lang),
              t("export.note.plan", lang, version=info["version"],
                on_track=f"{100 * rule['plan_on_track_margin']:g}",
                at_risk=f"{100 * rule['plan_at_risk_margin']:g}",
                tolerance=f"{100 * rule['plan_maintain_tolerance']:g}"))]
    if info["illustrative"]:
        notes.append((t("export.note.plan_key", lang), t("export.note.plan_illustrative", lang)))
    return notes


class NothingToExport(LookupError):
    """No published figure matches the request: nothing is written."""

    def __init__(self, indicators, as_of):
        super().__init__(f"no published figure for indicators={indicators} as_of={as_of}")
        self.indicators, self.as_of = indicators, as_of


def run_export(settings: Settings, formats: list[str], out_dir: Path, *,
               indicators: list[str] | None = None, as_of: dt.date | None = None,
               lang: str = "es", snapshot: Path | None = None,
               timings: dict[str, float] | None = None) -> dict:
    """Write the requested formats and ``manifest.json`` into ``out_dir``; return the manifest.

    ``timings``, when given, receives the seconds spent reading, writing each format (with its
    SHA-256) and writing them all (the XLSX runs beside the others): benchmarks/export_large.py."""
    from pipelines.lib.publish import current_snapshot

    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown formats: {unknown}")
    formats = [f for f in FORMATS if f in formats]
    timings = {} if timings is None else timings
    rules = disclosure_rules()
    started = time.perf_counter()
    if as_of is not None and snapshot is None:
        raise ValueError("an as-of export reads a vintage: pipelines.lib.vintage.export_as_of")
    database = snapshot or current_snapshot(settings)
    if database is None:
        raise FileNotFoundError("no published snapshot yet")
    data = read_export_data(database, indicators)
    audit_summary = _audit_summary(database)
    timings["read"] = time.perf_counter() - started
    if not len(data.rows):
        raise NothingToExport(indicators, as_of)
    if as_of is not None:
        data.source = {"snapshot": None, "vintage_as_of": as_of.isoformat()}
    data.notes = notes_for(data, as_of, rules, lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {"csv": write_csv, "parquet": write_parquet, "sdmx": write_sdmx,
               "xlsx": lambda d, p: write_xlsx(d, p, lang)}

    def write(fmt: str) -> dict:
        begun = time.perf_counter()
        path = out_dir / FILE_NAMES[fmt]
        tmp_path = path.with_name(f".{path.name}.tmp")
        try:
            writers[fmt](data, tmp_path)
            with tmp_path.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
            size = tmp_path.stat().st_size
            os.replace(tmp_path, path)
        finally:
            tmp_path.unlink(missing_ok=True)
        timings[fmt] = time.perf_counter() - begun
        return {"file": path.name, "format": fmt, "bytes": size, "sha256": digest}

    # the XLSX (the longest) is written beside the others, which follow one another; each file
    # is written by one thread alone, so the bytes do not depend on the scheduling
    lanes = [[f for f in formats if f == "xlsx"], [f for f in formats if f != "xlsx"]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = [pool.submit(lambda lane: [write(f) for f in lane], lane) for lane in lanes]
        written = {entry["format"]: entry for lane in running for entry in lane.result()}
    files = [written[f] for f in formats]
    tables = [(PLAN_FILE, PLAN_COLUMNS, data.plan)] if data.plan else []
    tables += [(SIDE_TABLES[key][0], columns, rows) for key, (columns, rows) in data.side.items()]
    # The tables beside the indicators, as CSV and, with the Parquet export, as Parquet too.
    tables = ([(name, columns, rows, "csv", write_table_csv) for name, columns, rows in tables]
              * ("csv" in formats)
              + [(name.removesuffix(".csv") + ".parquet", columns, rows, "parquet",
                  write_table_parquet) for name, columns, rows in tables] * ("parquet" in formats))
    for name, columns, rows, fmt, writer in tables:
        begun = time.perf_counter()
        path = out_dir / name
        tmp_path = path.with_name(f".{path.name}.tmp")
        try:
            writer(columns, rows, tmp_path)
            with tmp_path.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
            size = tmp_path.stat().st_size
            os.replace(tmp_path, path)
        finally:
            tmp_path.unlink(missing_ok=True)
        timings[name] = time.perf_counter() - begun
        files.append({"file": name, "format": fmt, "bytes": size, "sha256": digest})
    timings["write"] = time.perf_counter() - started - timings["read"]
    manifest = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of": as_of.isoformat() if as_of else None,
        "request": {"formats": formats, "indicators": sorted(indicators) if indicators else None,
                    "lang": lang},
        "source": data.source,
        "table": PUBLISHED,
        "rows": len(data.rows),
        "disclosure": rules,
        "disclosure_audit": audit_summary,
        "submission_versions": [
            {**s, "version": int(s["version"])} for s in data.submissions],
        "plan": data.plan_info,
        # Whose figures each file holds: the members' (COALITION) or UNODC's published history.
        "sources": {entry["file"]: "UNODC" if entry["file"].startswith(
            SIDE_TABLES["history"][0].removesuffix(".csv")) else COALITION for entry in files},
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return manifest


def _audit_summary(database: Path) -> dict | None:
    """The disclosure audit of the build the data come from: a snapshot's, or the vintage's own
    (None for snapshots published before the audit existed)."""
    from pipelines.lib.publish import latest_audit

    audit = latest_audit(database)
    if audit is None:
        return None
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in audit.items()}


def indicator_codes(database: Path) -> list[str]:
    """The indicator codes of the published mart (choices of the export page)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return [r[0] for r in con.execute(
            f"select distinct indicator_code from {PUBLISHED} order by 1").fetchall()]
    finally:
        con.close()
