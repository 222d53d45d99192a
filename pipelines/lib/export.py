"""Evaluator exports (issue 5, DOMAIN.md §7): CSV, XLSX, Parquet and SDMX-CSV from the published,
disclosure-controlled mart ``marts.indicator_values_published``, with a manifest.

* Source: the current serving snapshot (read-only; never the warehouse), or, with ``as_of``, a
  *vintage*: a private copy of the warehouse taken under the writer lock, cut back to what the
  platform had received (``raw.submissions.received_at``) and decided (``raw.audit_events
  .occurred_at``) by the end of that day (UTC), rebuilt with dbt in a temporary folder.
* Deterministic bytes: rows sorted on the full key, no timestamps inside data files, a fixed
  XLSX creation date; only ``manifest.json`` says when the export was made.
* Text cells beginning with = + - @ tab or CR get a leading apostrophe (CSV, XLSX); numbers stay
  numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from pipelines.lib import sdmx
from pipelines.lib.i18n import t
from pipelines.settings import DBT_PROJECT_DIR, Settings

FORMATS = ("csv", "xlsx", "parquet", "sdmx")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows per sheet, less the header
FIXED_CREATED = dt.datetime(2000, 1, 1, 0, 0, 0)  # XLSX document property (byte-identical files)
PUBLISHED = "marts.indicator_values_published"
FILE_NAMES = {
    "csv": "indicators.csv",
    "xlsx": "indicators.xlsx",
    "parquet": "indicators.parquet",
    "sdmx": "sdg_16_2_2.sdmx.csv",
}
KEY = ("indicator_code", "ref_area", "freq", "time_period", "sex", "age", "exploitation_form")
LONG_COLUMNS = (
    "indicator_code", "indicator_name_es", "indicator_name_en", "family",
    "ref_area", "ref_area_name_es", "ref_area_name_en",
    "time_period", "freq", "period_end",
    "sex", "sex_label_es", "sex_label_en",
    "age", "age_label_es", "age_label_en",
    "exploitation_form", "exploitation_form_label_es", "exploitation_form_label_en",
    "value", "unit", "obs_status", "conf_status", "n_countries", "n_expected", "is_complete_year",
)
DEFINITION_COLUMNS = (
    "indicator_code", "family", "dataset", "name_es", "name_en", "definition_es", "definition_en",
    "formula", "unit", "numerator", "denominator", "sdg_series", "caveat_es", "caveat_en",
    "disclosure_rule", "frequencies",
)


def neutralise(value):
    """A text a spreadsheet would run as a formula gets a leading apostrophe; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass
class ExportData:
    rows: list[dict]
    definitions: list[dict]
    m49: dict[str, str]
    submissions: list[dict]
    source: dict
    notes: list[tuple[str, str]] = field(default_factory=list)


# --- reading --------------------------------------------------------------------------------


def disclosure_rules() -> dict:
    """The disclosure rule set in force (dbt vars), as recorded in every manifest."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as f:
        variables = yaml.safe_load(f)["vars"]
    return {key: value for key, value in sorted(variables.items()) if key.startswith("disclosure_")}


def read_export_data(database: Path, indicators: list[str] | None = None) -> ExportData:
    """Everything an export needs from a built database (a snapshot or a vintage), read-only."""
    from pipelines.lib.contracts import load_contracts

    contracts = load_contracts()
    con = duckdb.connect(str(database), read_only=True)
    try:
        where, params = "", []
        if indicators:
            where = f"where v.indicator_code in ({', '.join('?' for _ in indicators)})"
            params = list(indicators)
        cursor = con.execute(
            f"""select v.indicator_code, i.name_es, i.name_en, i.family, v.ref_area,
                       v.time_period, v.freq, v.period_end, v.sex, v.age, v.exploitation_form,
                       v.value, v.unit, v.obs_status, v.conf_status, v.n_countries, v.n_expected,
                       v.is_complete_year
                from {PUBLISHED} as v
                left join marts.dim_indicator as i on i.indicator_code = v.indicator_code
                {where}
                order by {', '.join('v.' + k for k in KEY)}""",
            params,
        )
        names = [d[0] for d in cursor.description]
        raw_rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
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
        info = con.execute("select built_at, snapshot from main.snapshot_info").fetchone() \
            if con.execute("select count(*) from information_schema.tables where table_name = 'snapshot_info'"
                           ).fetchone()[0] else None
    finally:
        con.close()
    names_by_iso3 = {iso3: (es, en) for iso3, _, es, en, _ in countries}
    m49 = {iso3: code for iso3, code, _, _, member in countries if member and code}
    region = (t("export.area.REG", "es"), t("export.area.REG", "en"))
    rows = []
    for r in raw_rows:
        area = region if r["ref_area"] == "REG" else names_by_iso3.get(r["ref_area"], (r["ref_area"],) * 2)
        rows.append({
            "indicator_code": r["indicator_code"], "indicator_name_es": r["name_es"],
            "indicator_name_en": r["name_en"], "family": r["family"],
            "ref_area": r["ref_area"], "ref_area_name_es": area[0], "ref_area_name_en": area[1],
            "time_period": r["time_period"], "freq": r["freq"], "period_end": r["period_end"],
            **{key: value for dim in ("sex", "age", "exploitation_form") for key, value in (
                (dim, r[dim]),
                (f"{dim}_label_es", contracts.label(dim, r[dim], "es")),
                (f"{dim}_label_en", contracts.label(dim, r[dim], "en")))},
            "value": r["value"], "unit": r["unit"], "obs_status": r["obs_status"],
            "conf_status": r["conf_status"], "n_countries": r["n_countries"],
            "n_expected": r["n_expected"], "is_complete_year": r["is_complete_year"],
        })
    source = {"snapshot": info[1] if info else database.name,
              "built_at": info[0].isoformat() if info else None}
    return ExportData(rows=rows, definitions=definitions, m49=m49, submissions=submissions, source=source)


# --- writers (each returns the bytes; the caller writes and hashes them) --------------------


def _text(value) -> str:
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


def csv_bytes(data: ExportData) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LONG_COLUMNS)
    for row in data.rows:
        writer.writerow([_text(row[c]) for c in LONG_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def parquet_bytes(data: ExportData) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"family": pa.int32(), "period_end": pa.date32(), "value": pa.float64(),
             "n_countries": pa.int32(), "n_expected": pa.int32(), "is_complete_year": pa.bool_()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in LONG_COLUMNS])
    table = pa.table({c: [row[c] for row in data.rows] for c in LONG_COLUMNS}, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def sdmx_bytes(data: ExportData) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(sdmx.sdmx_rows(data.rows, data.m49))
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(data: ExportData, lang: str) -> bytes:
    import xlsxwriter

    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    tmp.close()
    # constant_memory: rows are streamed to disk (large histories do not fit a sheet in memory)
    workbook = xlsxwriter.Workbook(tmp.name, {"constant_memory": True, "strings_to_formulas": False,
                                              "strings_to_numbers": False, "strings_to_urls": False})
    workbook.set_properties({"title": t("export.xlsx.title", lang), "created": FIXED_CREATED,
                             "author": t("export.xlsx.author", lang)})
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

    def table(sheet, columns, rows):
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

    notes = workbook.add_worksheet(t("export.sheet.notes", lang)[:31])
    notes.set_column(0, 0, 28)
    notes.set_column(1, 1, 110)
    for r, (key, text) in enumerate(data.notes):
        notes.write_string(r, 0, neutralise(key), bold)
        notes.write_string(r, 1, neutralise(text), wrap)
    definitions = workbook.add_worksheet(t("export.sheet.definitions", lang)[:31])
    table(definitions, DEFINITION_COLUMNS, data.definitions)
    families = sorted({row["family"] for row in data.rows if row["family"] is not None})
    for family in families:
        name = f"{family:02d} " + t(f"export.family.{family}", lang)
        rows = [row for row in data.rows if row["family"] == family]
        # a sheet holds XLSX_MAX_ROWS rows at most: continue on "(2)", "(3)", ...
        for part, start in enumerate(range(0, max(len(rows), 1), XLSX_MAX_ROWS), start=1):
            suffix = f" ({part})" if part > 1 else ""
            sheet = workbook.add_worksheet(_sheet_name(name[: 31 - len(suffix)] + suffix))
            table(sheet, LONG_COLUMNS, rows[start:start + XLSX_MAX_ROWS])
    workbook.close()
    try:
        return Path(tmp.name).read_bytes()
    finally:
        Path(tmp.name).unlink(missing_ok=True)


def _sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return name[:31]


# --- vintages (--as-of) ---------------------------------------------------------------------


def build_vintage(settings: Settings, as_of: dt.date, workdir: Path) -> Path:
    """A private warehouse as the platform knew it at the end of ``as_of`` (UTC), built by dbt."""
    from pipelines.lib.warehouse import writer_lock

    copy = workdir / "vintage.duckdb"
    with writer_lock(settings):  # no writer while the file is copied (never opened here)
        shutil.copyfile(settings.warehouse_path, copy)
        wal = Path(f"{settings.warehouse_path}.wal")
        if wal.exists():
            shutil.copyfile(wal, f"{copy}.wal")
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    con = duckdb.connect(str(copy))
    try:
        late = "select submission_id from raw.submissions where received_at >= ?"
        con.execute(f"delete from raw.observations where submission_id in ({late})", [cutoff])
        con.execute(f"delete from raw.findings where submission_id in ({late})", [cutoff])
        con.execute(f"delete from raw.explanations where submission_id in ({late}) or written_at >= ?",
                    [cutoff, cutoff])
        con.execute("delete from raw.submissions where received_at >= ?", [cutoff])
        con.execute("delete from raw.files where received_at >= ?", [cutoff])
        con.execute("delete from raw.audit_events where occurred_at >= ?", [cutoff])
        con.execute("delete from raw.lock_exceptions where granted_at >= ?", [cutoff])
        con.execute("delete from raw.glotip_values where vintage in "
                    "(select vintage from raw.glotip_releases where imported_at >= ?)", [cutoff])
        con.execute("delete from raw.glotip_releases where imported_at >= ?", [cutoff])
        con.execute("checkpoint")
    finally:
        con.close()
    env = {**os.environ, "OBSERVATORY_WAREHOUSE": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "build", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(workdir / "target"),
         "--log-path", str(workdir / "logs"), "--exclude", "test_type:unit",
         "--select", "+indicator_values_published", "+submissions_status"],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt build of the vintage failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return copy


# --- the export -----------------------------------------------------------------------------


def notes_for(data: ExportData, as_of: dt.date | None, rules: dict, lang: str) -> list[tuple[str, str]]:
    detection = next((d for d in data.definitions if d["indicator_code"] == "VIC_DETECTED"), None)
    caveat = detection[f"caveat_{lang}"] if detection else t("export.note.detection", lang)
    return [
        (t("export.note.title_key", lang), t("export.xlsx.title", lang)),
        (t("export.note.detection_key", lang), caveat),
        (t("export.note.methods_key", lang), t("export.note.methods", lang)),
        (t("export.note.disclosure_key", lang),
         t("export.note.disclosure", lang, min_count=rules.get("disclosure_min_count"),
           min_child=rules.get("disclosure_min_count_child_citizenship"),
           rule_set=rules.get("disclosure_rule_set"))),
        (t("export.note.status_key", lang), t("export.note.status", lang)),
        (t("export.note.as_of_key", lang),
         as_of.isoformat() if as_of else t("export.note.as_of_current", lang)),
        (t("export.note.manifest_key", lang), t("export.note.manifest", lang)),
    ]


def run_export(settings: Settings, formats: list[str], out_dir: Path, *,
               indicators: list[str] | None = None, as_of: dt.date | None = None,
               lang: str = "es", snapshot: Path | None = None) -> dict:
    """Write the requested formats and ``manifest.json`` into ``out_dir``; return the manifest."""
    from pipelines.lib.publish import current_snapshot

    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown formats: {unknown}")
    formats = [f for f in FORMATS if f in formats]
    rules = disclosure_rules()
    with tempfile.TemporaryDirectory(prefix="observatory-vintage-") as tmp:
        if as_of is not None:
            database = build_vintage(settings, as_of, Path(tmp))
        else:
            database = snapshot or current_snapshot(settings)
            if database is None:
                raise FileNotFoundError("no published snapshot yet")
        data = read_export_data(database, indicators)
    if as_of is not None:
        data.source = {"snapshot": None, "vintage_as_of": as_of.isoformat()}
    data.notes = notes_for(data, as_of, rules, lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {"csv": csv_bytes, "parquet": parquet_bytes, "sdmx": sdmx_bytes,
               "xlsx": lambda d: xlsx_bytes(d, lang)}
    files = []
    for fmt in formats:
        content = writers[fmt](data)
        path = out_dir / FILE_NAMES[fmt]
        tmp_path = path.with_name(f".{path.name}.tmp")
        tmp_path.write_bytes(content)
        os.replace(tmp_path, path)
        files.append({"file": path.name, "format": fmt, "bytes": len(content),
                      "sha256": hashlib.sha256(content).hexdigest()})
    manifest = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of": as_of.isoformat() if as_of else None,
        "request": {"formats": formats, "indicators": sorted(indicators) if indicators else None,
                    "lang": lang},
        "source": data.source,
        "table": PUBLISHED,
        "rows": len(data.rows),
        "disclosure": rules,
        "submission_versions": [
            {**s, "version": int(s["version"])} for s in data.submissions],
        "files": files,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return manifest


def indicator_codes(database: Path) -> list[str]:
    """The indicator codes of the published mart (choices of the export page)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return [r[0] for r in con.execute(
            f"select distinct indicator_code from {PUBLISHED} order by 1").fetchall()]
    finally:
        con.close()
