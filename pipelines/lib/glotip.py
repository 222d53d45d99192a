"""UNODC's published GLOTIP figures as a reference source: read, map, flag, store as a vintage.

The input is UNODC's ``data_glotip.xlsx`` as published (title rows above the header) or a CSV
extract with the same columns (``Iso3_code, Country, ..., Year, Unit of measurement, txtVALUE``).
Nothing here touches what members submitted: the figures go to ``raw.glotip_releases`` and
``raw.glotip_values`` (source = UNODC), one vintage per distinct file.

* ``<5`` is kept as *suppressed at source*: no number is invented (value null, flag true).
* Thousands commas are parsed (``1,023`` → 1023); any other text is kept and flagged unreadable.
* Labels map to codes through ``data_contracts/glotip_mappings.yaml``, then
  :func:`pipelines.lib.validate.country_hint`; an unmapped label keeps a null code and is listed.
* Suspicious values are flagged, never changed: a value equal to its own year, a value far
  outside the country's own series (modified z-score, as rule V10 for submissions), the same cell
  published twice, an unreadable value.
* The same bytes again are a no-op; a different file is a new vintage and the report lists what
  changed against the previous one. Earlier vintages stay in the warehouse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from pipelines.lib.contracts import OWN_COUNTRY
from pipelines.lib.reader import workbook_grids
from pipelines.lib.validate import (
    IMPOSSIBLE_MEDIAN_FACTOR,
    MODIFIED_Z_LIMIT,
    _fold,
    country_hint,
    population,
)
from pipelines.settings import CONTRACTS_DIR, Settings

SOURCE = "UNODC"
MAPPINGS_PATH = CONTRACTS_DIR / "glotip_mappings.yaml"
SUPPRESSED_TEXT = "<5"
MIN_SERIES = 4  # other years needed before the outlier rule speaks (as V10: four past quarters)
HEADER_SCAN_ROWS = 20

# UNODC's column names (matched ignoring case and spaces) → the importer's names.
COLUMNS = {
    "iso3_code": "iso3_code",
    "country": "country",
    "indicator": "indicator",
    "dimension": "dimension",
    "category": "category",
    "sex": "sex",
    "age": "age",
    "year": "year",
    "unitofmeasurement": "unit",
    "txtvalue": "value_text",
    "value": "value_numeric",
    "source": "source",
}
REQUIRED = ("iso3_code", "indicator", "dimension", "category", "sex", "age", "year")
# The cell a value belongs to (what a vintage comparison matches on).
CELL = ("ref_area", "indicator_label", "dimension_label", "category_label", "sex_label",
        "age_label", "year")
BREAKDOWNS = ("exploitation_form", "citizenship", "counterpart_area")

FLAG_YEAR = "value_equals_year"
FLAG_OUTLIER = "outlier"
FLAG_DUPLICATE = "duplicate_cell"
FLAG_UNREADABLE = "unreadable_value"
FLAG_POPULATION = "above_population"  # more persons than live in the country (V12 for submissions)
FLAG_IMPOSSIBLE = "impossible_median"  # over 100 times the cell's median of other years (as V12)


class GlotipFileError(ValueError):
    """The file is not in UNODC's GLOTIP layout (no header row with the expected columns), or
    cannot be read at all (``unreadable``); :meth:`text` says so in a user's language."""

    def __init__(self, detail: str, unreadable: bool = False):
        super().__init__(detail)
        self.key = "glotip.file.unreadable" if unreadable else "glotip.file.not_glotip"

    def text(self, lang: str) -> str:
        from pipelines.lib.i18n import t

        return t(self.key, lang, detail=str(self))


# --- mappings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mappings:
    indicators: dict[tuple[str, str], dict]
    forms: dict[str, str]
    sex: dict[str, str]
    age: dict[str, str]
    # folded label -> list of (code, dimension or None)
    country_labels: dict[str, list[tuple[str, str | None]]]


@cache
def load_mappings(path: Path = MAPPINGS_PATH) -> Mappings:
    with path.open(encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    labels: dict[str, list[tuple[str, str | None]]] = {}
    for row in raw["country_labels"]:
        labels.setdefault(_fold(row["label"]), []).append(
            (row["code"], _fold(row["dimension"]) if row.get("dimension") else None))
    return Mappings(
        indicators={(_fold(r["indicator"]), _fold(r["dimension"])): r for r in raw["indicators"]},
        forms={_fold(r["label"]): r["code"] for r in raw["forms"]},
        sex={_fold(r["label"]): r["code"] for r in raw["sex"]},
        age={_fold(r["label"]): r["code"] for r in raw["age"]},
        country_labels=labels,
    )


def map_country_label(label: str | None, dimension: str, reporter: str | None,
                      mappings: Mappings) -> tuple[str | None, str]:
    """(code, how) for a citizenship / repatriation label; how is table | country_hint | unmapped."""
    if label is None or not label.strip():
        return None, "unmapped"
    for code, only_in in mappings.country_labels.get(_fold(label), []):
        if only_in is None or only_in == _fold(dimension):
            return (reporter if code == OWN_COUNTRY else code), "table"
    hint = country_hint(label)
    return (hint, "country_hint") if hint else (None, "unmapped")


# --- reading -----------------------------------------------------------------------------------


def _key(name: object) -> str:
    return "".join(str(name or "").lower().split())


def _from_grid(rows: list[list[str | None]], sheet: str | None) -> pl.DataFrame:
    """Find the header row (the first with Iso3_code and Year) and return the rows below it."""
    index = next((i for i, row in enumerate(rows[:HEADER_SCAN_ROWS])
                  if {"iso3_code", "year"} <= {_key(c) for c in row}), None)
    if index is None:
        raise GlotipFileError("no header row with Iso3_code and Year in the first "
                              f"{HEADER_SCAN_ROWS} rows: not UNODC's GLOTIP layout")
    names = {}
    for position, key in enumerate(_key(c) for c in rows[index]):
        if key in COLUMNS and COLUMNS[key] not in names.values():
            names[position] = COLUMNS[key]
    missing = [c for c in REQUIRED if c not in names.values()]
    if missing or not {"value_text", "value_numeric"} & set(names.values()):
        raise GlotipFileError(f"columns missing: {', '.join(missing) or 'txtVALUE / VALUE'}")
    body = rows[index + 1:]
    data = {name: [(r[p] if p < len(r) else None) for r in body] for p, name in names.items()}
    frame = pl.DataFrame(data, schema={n: pl.String for n in names.values()})
    frame = frame.with_columns(
        pl.Series("row_number", range(index + 2, index + 2 + len(body)), dtype=pl.Int32),
        pl.lit(sheet, dtype=pl.String).alias("sheet"),
    )
    # Rows that are entirely empty (trailing lines, notes) are not data.
    return frame.filter(pl.any_horizontal(pl.col(n).is_not_null() for n in names.values()))


def read_glotip(path: Path) -> pl.DataFrame:
    """UNODC's rows as text, with the row number a person sees in the file (header row + 1...).
    Anything that is not such a file raises :class:`GlotipFileError`."""
    try:
        return _read_glotip(path.read_bytes())
    except GlotipFileError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken workbook or binary: one clear refusal
        detail = " ".join(str(error).split())[:200]  # one line: it is printed as one
        raise GlotipFileError(f"{type(error).__name__}: {detail}", unreadable=True) from error


def _read_glotip(data: bytes) -> pl.DataFrame:
    if data[:4] == b"PK\x03\x04":
        for sheet, grid in workbook_grids(data):
            try:
                return _from_grid(grid, sheet)
            except GlotipFileError:
                continue
        raise GlotipFileError("no sheet in UNODC's GLOTIP layout (header with Iso3_code, Year)")
    if b"\x00" in data[:65536]:
        raise GlotipFileError("binary content", unreadable=True)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    import csv
    import io

    grid = [[c.strip() or None for c in row] for row in csv.reader(io.StringIO(text))]
    return _from_grid(grid, None)


# --- values, codes, flags ----------------------------------------------------------------------


def parse_value(text: str | None) -> tuple[int | None, bool, bool]:
    """(value, suppressed at source, readable) of one txtVALUE cell."""
    if text is None:
        return None, False, False
    cleaned = text.strip()
    if cleaned.replace(" ", "") == SUPPRESSED_TEXT:
        return None, True, True
    if "," in cleaned and not _well_grouped(cleaned.split(".")[0]):
        return None, False, False  # "1,5": a decimal comma or a typo, not a thousands group
    digits = cleaned.replace(",", "")
    if digits.isdigit():
        return int(digits), False, True
    try:
        number = float(digits)
    except ValueError:
        return None, False, False
    return (int(number), False, True) if number.is_integer() and number >= 0 else (None, False, False)


def _well_grouped(text: str) -> bool:
    """``1,023`` and ``12,345,678`` are thousands groups; ``1,5`` is not."""
    head, *groups = text.split(",")
    return 1 <= len(head) <= 3 and all(len(g) == 3 for g in groups)


def prepare(frame: pl.DataFrame, mappings: Mappings | None = None) -> pl.DataFrame:
    """Typed rows with project codes and flags (nothing dropped, nothing recoded silently)."""
    mappings = mappings or load_mappings()
    if "value_text" not in frame.columns:
        frame = frame.with_columns(pl.col("value_numeric").alias("value_text"))
    records = []
    for row in frame.iter_rows(named=True):
        value, suppressed, readable = parse_value(row["value_text"])
        year_text = (row["year"] or "").strip()
        year = int(float(year_text)) if year_text.replace(".", "", 1).isdigit() else None
        reporter = (row["iso3_code"] or "").strip().upper() or None
        indicator_label, dimension_label = row["indicator"], row["dimension"]
        spec = mappings.indicators.get((_fold(indicator_label or ""), _fold(dimension_label or "")))
        category = row["category"]
        codes = {"exploitation_form": "_T", "citizenship": "_T", "counterpart_area": "_Z"}
        how = "unmapped"
        category_code = None
        if spec:
            breakdown = spec["breakdown"]
            if breakdown == "total":
                category_code = "_T" if _fold(category or "") == "total" else None
                how = "table" if category_code else "unmapped"
            elif breakdown == "exploitation_form":
                category_code = mappings.forms.get(_fold(category or ""))
                how = "table" if category_code else "unmapped"
            else:
                category_code, how = map_country_label(category, dimension_label, reporter,
                                                       mappings)
            if breakdown != "total":
                codes[breakdown] = category_code
        records.append({
            "sheet": row["sheet"],
            "row_number": row["row_number"],
            "ref_area": reporter,
            "country_label": row.get("country"),
            "indicator_label": indicator_label,
            "dimension_label": dimension_label,
            "category_label": category,
            "sex_label": row["sex"],
            "age_label": row["age"],
            "year": year,
            "unit_label": row.get("unit"),
            "value_text": row["value_text"],
            "value": value,
            "suppressed_at_source": suppressed,
            "readable": readable,
            "indicator_code": spec["indicator_code"] if spec else None,
            "stage": spec["stage"] if spec else None,
            "breakdown": spec["breakdown"] if spec else None,
            "sex": mappings.sex.get(_fold(row["sex"] or "")),
            "age": mappings.age.get(_fold(row["age"] or "")),
            **codes,
            "category_code": category_code,
            "category_mapping": how,
        })
    schema = {"row_number": pl.Int32, "year": pl.Int32, "value": pl.Int64,
              "suppressed_at_source": pl.Boolean, "readable": pl.Boolean}
    typed = pl.DataFrame(records, schema={k: schema.get(k, pl.String) for k in records[0]}
                         if records else None, infer_schema_length=None)
    if not records:
        return typed
    return flag(typed)


def flag(typed: pl.DataFrame) -> pl.DataFrame:
    """Add ``flag`` (reason codes, comma-separated) and ``flag_detail`` (the numbers behind it)."""
    reasons: dict[int, list[tuple[str, str]]] = {}

    def add(index: int, reason: str, detail: str) -> None:
        reasons.setdefault(index, []).append((reason, detail))

    indexed = typed.with_row_index("_i")
    for row in indexed.filter(~pl.col("readable")).iter_rows(named=True):
        add(row["_i"], FLAG_UNREADABLE, f"value {row['value_text']!r} is not a count")
    for row in indexed.filter(pl.col("value") == pl.col("year")).iter_rows(named=True):
        add(row["_i"], FLAG_YEAR, f"value {row['value']} = year {row['year']}")
    for row in indexed.filter(pl.col("value").is_not_null()).iter_rows(named=True):
        people = (population(row["ref_area"], row["year"])
                  if row["ref_area"] and row["year"] is not None else None)
        if people and row["value"] > people:
            add(row["_i"], FLAG_POPULATION,
                f"value {row['value']:g} > population {people} in {row['year']}")
    # Every cell (any breakdown) against its own series over the other years: a value a hundred
    # times their median is a typing slip (V12), where the z-score above needs a spread.
    series_key = [c for c in CELL if c != "year"]
    numeric = indexed.filter(pl.col("value").is_not_null())
    for _, group in numeric.group_by(series_key):
        if group.height < MIN_SERIES + 1:
            continue
        values = group["value"].to_list()
        for i, row in enumerate(group.iter_rows(named=True)):
            median = float(pl.Series(values[:i] + values[i + 1:], dtype=pl.Float64).median())
            if median > 0 and row["value"] > IMPOSSIBLE_MEDIAN_FACTOR * median:
                add(row["_i"], FLAG_IMPOSSIBLE,
                    f"value {row['value']:g} > {IMPOSSIBLE_MEDIAN_FACTOR} x the median "
                    f"{median:g} of the cell's other {len(values) - 1} years")
    duplicates = indexed.filter(pl.len().over(list(CELL)) > 1)
    for row in duplicates.iter_rows(named=True):
        add(row["_i"], FLAG_DUPLICATE, "the same cell is published more than once in the file")
    # Headline figures (every breakdown at total) against the country's own series of the same
    # indicator over the other years: rule V10 for submissions, on annual data.
    numeric = indexed.filter(pl.col("value").is_not_null() & (pl.col("breakdown") == "total")
                             & (pl.col("sex") == "_T") & (pl.col("age") == "_T"))
    for _, group in numeric.group_by(series_key):
        if group.height < MIN_SERIES + 1:
            continue
        values = group["value"].to_list()
        for i, row in enumerate(group.iter_rows(named=True)):
            others = pl.Series(values[:i] + values[i + 1:], dtype=pl.Float64)
            median = float(others.median())
            mad = float((others - median).abs().median())
            if mad > 0:
                z = 0.6745 * (row["value"] - median) / mad
                if abs(z) > MODIFIED_Z_LIMIT:
                    add(row["_i"], FLAG_OUTLIER,
                        f"modified z-score {z:.1f} against the median {median:g} of the "
                        f"country's other {len(others)} years")
    flags = [reasons.get(i) for i in range(typed.height)]
    return typed.with_columns(
        pl.Series("flag", [",".join(r for r, _ in f) if f else None for f in flags],
                  dtype=pl.String),
        pl.Series("flag_detail", ["; ".join(d for _, d in f) if f else None for f in flags],
                  dtype=pl.String),
    )


# --- the report --------------------------------------------------------------------------------


@dataclass
class ImportReport:
    file_name: str
    sha256: str
    vintage: int | None = None
    previous_vintage: int | None = None
    duplicate: bool = False  # the same bytes were imported before: nothing changed
    imported_at: str = ""
    rows_read: int = 0
    rows_imported: int = 0
    rows_suppressed: int = 0
    unmapped: list[dict] = field(default_factory=list)  # field, dimension, label, rows
    flagged: list[dict] = field(default_factory=list)  # country, year, indicator, category, value, reason
    changes: dict = field(default_factory=dict)  # added, removed, changed counts + examples
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ImportReport:
        return cls(**json.loads(text))


def _unmapped(typed: pl.DataFrame) -> list[dict]:
    counts: Counter = Counter()
    for row in typed.iter_rows(named=True):
        if row["indicator_code"] is None:
            counts[("indicator", row["indicator_label"], row["dimension_label"])] += 1
        elif row["category_code"] is None:
            counts[(row["breakdown"], row["dimension_label"], row["category_label"])] += 1
        if row["sex"] is None:
            counts[("sex", None, row["sex_label"])] += 1
        if row["age"] is None:
            counts[("age", None, row["age_label"])] += 1
        if row["ref_area"] is None:
            counts[("ref_area", None, row["country_label"])] += 1
    return [{"field": f, "dimension": d, "label": label, "rows": n}
            for (f, d, label), n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def _flagged(typed: pl.DataFrame) -> list[dict]:
    rows = typed.filter(pl.col("flag").is_not_null()).sort("ref_area", "year", "row_number")
    return [{"country": r["ref_area"], "year": r["year"], "indicator": r["indicator_label"],
             "dimension": r["dimension_label"], "category": r["category_label"],
             "sex": r["sex_label"], "age": r["age_label"], "value": r["value_text"],
             "reason": r["flag"], "detail": r["flag_detail"], "row": r["row_number"]}
            for r in rows.iter_rows(named=True)]


MAX_CHANGE_EXAMPLES = 50


def compare_vintages(old: pl.DataFrame, new: pl.DataFrame) -> dict:
    """What changed between two vintages, cell by cell (the value text as published)."""
    def cells(frame: pl.DataFrame) -> dict[tuple, str]:
        grouped = frame.group_by(list(CELL)).agg(pl.col("value_text").fill_null("").sort())
        return {tuple(r[c] for c in CELL): " + ".join(r["value_text"])
                for r in grouped.iter_rows(named=True)}

    before, after = cells(old), cells(new)
    added = sorted(set(after) - set(before), key=str)
    removed = sorted(set(before) - set(after), key=str)
    changed = sorted((k for k in set(before) & set(after) if before[k] != after[k]), key=str)

    def example(key: tuple, kind: str) -> dict:
        cell = dict(zip(CELL, key, strict=True))
        return {"kind": kind, "country": cell["ref_area"], "year": cell["year"],
                "indicator": cell["indicator_label"], "dimension": cell["dimension_label"],
                "category": cell["category_label"], "sex": cell["sex_label"],
                "age": cell["age_label"], "before": before.get(key), "after": after.get(key)}

    examples = ([example(k, "changed") for k in changed] + [example(k, "added") for k in added]
                + [example(k, "removed") for k in removed])
    return {"added": len(added), "removed": len(removed), "changed": len(changed),
            "unchanged": len(set(before) & set(after)) - len(changed),
            "examples": examples[:MAX_CHANGE_EXAMPLES]}


# --- storing -----------------------------------------------------------------------------------

VALUE_COLUMNS = (
    "vintage", "sheet", "row_number", "ref_area", "country_label", "indicator_label",
    "dimension_label", "category_label", "sex_label", "age_label", "year", "unit_label",
    "value_text", "value", "suppressed_at_source", "indicator_code", "stage", "breakdown", "sex",
    "age", "exploitation_form", "citizenship", "counterpart_area", "category_mapping", "flag",
    "flag_detail",
)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_glotip(path: Path, settings: Settings, *, actor: str = "operator") -> ImportReport:
    """Import one GLOTIP file as a new vintage (or recognise it); return the import report.

    Takes the warehouse's writer lock: call it from the Dagster reference job only.
    """
    from pipelines.lib.warehouse import connect_writer, writer_lock

    started = time.perf_counter()
    data = path.read_bytes()
    sha = sha256_of(data)
    report = ImportReport(file_name=path.name, sha256=sha)
    frame = read_glotip(path)  # outside the lock: reading needs no warehouse
    typed = prepare(frame)
    report.rows_read = typed.height
    report.rows_suppressed = int(typed["suppressed_at_source"].sum()) if typed.height else 0
    report.unmapped = _unmapped(typed) if typed.height else []
    report.flagged = _flagged(typed) if typed.height else []
    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            known = con.execute(
                "select vintage, imported_at from raw.glotip_releases where file_sha256 = ?",
                [sha]).fetchone()
            if known:
                report.duplicate = True
                report.vintage = known[0]
                report.imported_at = known[1].isoformat()
                report.seconds = round(time.perf_counter() - started, 3)
                return report
            previous = con.execute("select max(vintage) from raw.glotip_releases").fetchone()[0]
            vintage = (previous or 0) + 1
            report.vintage, report.previous_vintage = vintage, previous
            if previous is not None:
                old = pl.DataFrame(
                    con.execute(f"select {', '.join(CELL)}, value_text from raw.glotip_values "
                                "where vintage = ?", [previous]).fetchall(),
                    schema={**{c: pl.String for c in CELL}, "year": pl.Int32,
                            "value_text": pl.String}, orient="row")
                report.changes = compare_vintages(old, typed)
            archive = settings.archive_dir / f"{sha}"
            settings.archive_dir.mkdir(parents=True, exist_ok=True)
            if not archive.exists():
                tmp = archive.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(archive)
            imported_at = dt.datetime.now(dt.UTC)
            report.imported_at = imported_at.isoformat()
            report.rows_imported = typed.height
            rows = typed.with_columns(pl.lit(vintage, dtype=pl.Int32).alias("vintage")).select(
                VALUE_COLUMNS)
            con.execute("begin")
            con.register("glotip_rows", rows)
            con.execute(f"insert into raw.glotip_values ({', '.join(VALUE_COLUMNS)}) "
                        f"select {', '.join(VALUE_COLUMNS)} from glotip_rows")
            con.unregister("glotip_rows")
            report.seconds = round(time.perf_counter() - started, 3)
            con.execute(
                "insert into raw.glotip_releases values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [vintage, SOURCE, sha, path.name, len(data), imported_at, actor, str(archive),
                 report.rows_read, report.rows_imported, report.rows_suppressed,
                 len(report.unmapped), len(report.flagged), previous,
                 json.dumps(report.changes, ensure_ascii=False), report.to_json()])
            con.execute("commit")
        finally:
            con.close()
    return report


def report_path(settings: Settings, run_id: str) -> Path:
    """Where the reference job leaves the report of its run (the CLI prints it)."""
    return settings.home / "reference" / f"{run_id}.report.json"


MAX_CHANGES_SHOWN = 20


def render_report(report: ImportReport, lang: str, snapshot: str = "-",
                  total_seconds: float | None = None) -> list[str]:
    """The import report as the CLI prints it (every unmapped label, every flagged value)."""
    from pipelines.lib.i18n import t

    lines = [t("glotip.report.file", lang, name=report.file_name, sha=report.sha256[:16])]
    if report.duplicate:
        lines.append(t("glotip.report.duplicate", lang, vintage=report.vintage,
                       when=report.imported_at[:19].replace("T", " ")))
    else:
        lines.append(t("glotip.report.vintage", lang, vintage=report.vintage,
                       previous=report.previous_vintage or "-"))
    lines.append(t("glotip.report.counts", lang, read=report.rows_read,
                   imported=report.rows_imported, suppressed=report.rows_suppressed,
                   unmapped=len(report.unmapped), flagged=len(report.flagged)))
    if report.unmapped:
        lines.append(t("glotip.report.unmapped_title", lang))
        empty = t("glotip.report.empty_label", lang)
        for item in report.unmapped:
            lines.append(t("glotip.report.unmapped", lang, field=item["field"],
                           dimension=item["dimension"] or "-",
                           label=item["label"] if item["label"] is not None else empty,
                           rows=item["rows"]))
    if report.flagged:
        lines.append(t("glotip.report.flagged_title", lang))
        for item in report.flagged:
            reasons = "; ".join(t(f"glotip.reason.{r}", lang) for r in item["reason"].split(","))
            category = " / ".join(str(x) for x in (item["dimension"], item["category"],
                                                   item["sex"], item["age"]))
            lines.append(t("glotip.report.flagged", lang, country=item["country"],
                           year=item["year"], indicator=item["indicator"], category=category,
                           value=item["value"], reason=reasons, row=item["row"]))
    if not report.duplicate:
        if report.previous_vintage is None:
            lines.append(t("glotip.report.changes_first", lang))
        else:
            changes = report.changes
            lines.append(t("glotip.report.changes", lang, previous=report.previous_vintage,
                           changed=changes["changed"], added=changes["added"],
                           removed=changes["removed"], unchanged=changes["unchanged"]))
            for item in changes["examples"][:MAX_CHANGES_SHOWN]:
                lines.append(t("glotip.report.change", lang,
                               kind=t(f"glotip.change.{item['kind']}", lang),
                               **{k: ("-" if item[k] is None else item[k]) for k in (
                                   "country", "year", "indicator", "dimension", "category",
                                   "sex", "age", "before", "after")}))
            total = changes["changed"] + changes["added"] + changes["removed"]
            if total > MAX_CHANGES_SHOWN:
                lines.append(t("glotip.report.more_changes", lang,
                               count=total - MAX_CHANGES_SHOWN))
    lines.append(t("glotip.report.summary", lang, seconds=report.seconds, snapshot=snapshot,
                   total="-" if total_seconds is None else round(total_seconds, 1)))
    return lines
