"""Validation of a submission against the data contracts: rules V01–V11 of DOMAIN.md §4, and
V12 (impossible numbers: above the population, or a hundred times the country's own median).

Per-cell rules run as a Great Expectations suite (:mod:`pipelines.lib.gx_suite`); rules over sets
of rows (duplicates, additivity, mandatory cells, history) run here in polars. The outcome is one
:class:`UnitResult` per country × data set × quarter found in the file: ``rejected`` when it has
an ERROR finding, else ``validated`` with its typed observations.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from pipelines.lib.contracts import DIMENSIONS, NOT_APPLICABLE, Contracts, load_contracts
from pipelines.lib.findings import ERROR, WARNING, Finding, InWords
from pipelines.lib.gx_suite import KEY, check_cells
from pipelines.lib.i18n import t
from pipelines.lib.periods import Quarter, parse_period

CODE_COLUMNS = ("dataset", "country", "period", "indicator", *DIMENSIONS, "obs_status")
POLICY_COLUMNS = ("reference", "date", "valid_until")  # annual policy data sets only
UNKNOWN_SHARE_LIMIT = 0.30
HISTORY_QUARTERS = 8
MODIFIED_Z_LIMIT = 3.5
# V12: a figure no country can have. More people than live in it, or, from 1,000 up, a hundred
# times its own median of the last quarters (a typing slip: 6,112,019 for 61): an error, with the
# reason. Below 1,000 a real operation can multiply a small series (150 victims of one raid in a
# country that detects one a quarter): V10 warns and the ministry explains.
IMPOSSIBLE_MEDIAN_FACTOR = 100
IMPOSSIBLE_MEDIAN_FROM = 1_000
MAX_FINDINGS_PER_RULE = 100  # past this, one summary finding: a report a person can read


@dataclass(frozen=True)
class Unit:
    country: str | None
    dataset: str | None
    period: str | None


@dataclass
class ValidationContext:
    """What validation needs beyond the file: who sends it, when, and what the warehouse knows."""

    today: dt.date
    submitter_country: str | None = None  # None: the operator, who may send for any member
    role: str = "operator"  # operator | submitter
    locked_units: frozenset[tuple[str, str, str]] = frozenset()  # accepted (country, dataset, period)
    lock_exceptions: frozenset[tuple[str, str, str]] = frozenset()
    # Earlier figures of the same country for V10: country, dataset, indicator, stage, period, value.
    history: pl.DataFrame | None = None


@dataclass
class UnitResult:
    unit: Unit
    findings: list[Finding] = field(default_factory=list)
    observations: pl.DataFrame | None = None  # typed; None when rejected

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def status(self) -> str:
        return "rejected" if self.errors else "validated"


def validate_frame(
    frame: pl.DataFrame | None,
    read_findings: list[Finding],
    context: ValidationContext,
    cell_failures: list[tuple] | None = None,
) -> list[UnitResult]:
    """Validate one file's frame (from :func:`pipelines.lib.reader.read_submission`).

    ``cell_failures`` are this frame's per-cell failures when they were computed for a batch of
    files at once by :func:`check_cells_of_files` (Great Expectations has a fixed cost per run).
    """
    contracts = load_contracts()
    if frame is None or any(f.is_error for f in read_findings):
        return [UnitResult(Unit(None, None, None), findings=list(read_findings))]
    frame = _normalise(frame)
    if cell_failures is None:
        [cell_failures] = check_cells_of_files([frame])
    findings = list(read_findings)
    findings += _cell_findings(frame, contracts, cell_failures)
    file_country, file_period, file_level = _file_identity(frame, context, contracts)
    findings += file_level
    results = []
    datasets = [d for d in frame["dataset"].unique(maintain_order=True).to_list()
                if d in contracts.datasets]
    for dataset in datasets:
        unit = Unit(file_country, dataset, file_period)
        rows = frame.filter(pl.col("dataset") == dataset)
        unit_findings = [f for f in findings if f.dataset in (None, dataset)]
        if not any(f.is_error for f in unit_findings):
            unit_findings += _set_findings(rows, unit, contracts, context)
        result = UnitResult(unit, _capped(unit_findings))
        if not result.errors:
            result.observations = _typed(rows, contracts.datasets[dataset])
        results.append(result)
    if not results:  # no row of a known data set
        results.append(UnitResult(Unit(file_country, None, file_period), _capped(findings)))
    return results


@dataclass(frozen=True)
class _Omitted:
    """Stands for ``count`` more findings of ``rule`` past the cap: counted, never built (a
    10^6-row file can break a rule hundreds of thousands of times)."""

    rule: str
    severity: str
    count: int
    dataset: str | None = None  # the file's, for every unit found in it

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def _capped(findings: list[Finding | _Omitted]) -> list[Finding]:
    kept: list[Finding] = []
    extra: dict[tuple[str, str], int] = {}
    counts: dict[str, int] = {}
    for finding in findings:
        if isinstance(finding, _Omitted):
            key = (finding.rule, finding.severity)
            counts[finding.rule] = counts.get(finding.rule, 0) + finding.count
            extra[key] = extra.get(key, 0) + finding.count
            continue
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
        if counts[finding.rule] <= MAX_FINDINGS_PER_RULE:
            kept.append(finding)
        else:
            key = (finding.rule, finding.severity)
            extra[key] = extra.get(key, 0) + 1
    for (rule, severity), count in extra.items():
        kept.append(Finding.make(rule, "finding.too_many", severity=severity, count=count))
    return kept


def check_cells_of_files(frames: list[pl.DataFrame | None]) -> list[list[tuple] | None]:
    """Run the per-cell suite ONCE over several files' frames; per frame, its failures as
    (rule, key, column, row key, value). Frames may be raw reader output or normalised."""
    prepared = [None if f is None else (f if KEY in f.columns else _normalise(f)) for f in frames]
    parts = [_with_policy_columns(f).select([KEY, *CODE_COLUMNS, "value", "date", "valid_until"])
             .with_columns(pl.lit(i).alias("_file"))
             for i, f in enumerate(prepared) if f is not None]
    per_file: list[list[tuple] | None] = [None if f is None else [] for f in prepared]
    if not parts:
        return per_file
    cells = pl.concat(parts).with_columns(pl.col(KEY).alias("_local")).drop(KEY).with_row_index(KEY)
    located = cells.select("_file", "_local")
    for failure in check_cells(cells.drop("_file", "_local")):
        where = located[list(failure.rows)].iter_rows()  # KEY is the row's position in cells
        for (file_index, local), value in zip(where, failure.values, strict=True):
            per_file[file_index].append((failure.rule, failure.key, failure.column, local, value))
    return per_file


# --- preparation -----------------------------------------------------------------------------


def _with_policy_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame built before the policy columns existed (or by hand) gets them empty."""
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(c)
                              for c in POLICY_COLUMNS if c not in frame.columns)


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty cells are missing; an empty dimension means 'not applicable' (codes are compared
    exactly, as written: nothing is recoded)."""
    return _with_policy_columns(frame).with_columns(
        [pl.col(c).replace("", None)
         for c in ("dataset", "country", "period", "indicator", "obs_status", *POLICY_COLUMNS)]
        + [pl.col(d).replace("", None).fill_null(NOT_APPLICABLE) for d in DIMENSIONS]
        + [pl.col("value").replace("", None)]
    ).with_row_index(KEY)


def _typed(rows: pl.DataFrame, dataset=None) -> pl.DataFrame:
    if dataset is not None and dataset.status:
        # A status, not a count: kept as its code, with the item's dates as dates.
        return rows.with_columns(
            pl.col("value").str.to_lowercase().alias("status"),
            pl.col("indicator").alias("item"),
            pl.col("date").str.to_date("%Y-%m-%d", strict=False).alias("item_date"),
            pl.col("valid_until").str.to_date("%Y-%m-%d", strict=False),
            pl.col("valid_until").alias("valid_until_text"),
        ).drop(KEY)
    return rows.with_columns(
        pl.col("value").cast(pl.Float64).cast(pl.Int64)
    ).drop(KEY)


def _ref(row: dict) -> dict:
    return {"sheet": row.get("_sheet"), "row": row.get("_row")}


def _describe(row: dict, dims: tuple[str, ...] | list[str]) -> InWords:
    """A cell in words, in each message's language: the indicator's name, then each breakdown
    as "sex: Female" (codes a contract does not know stay as they are)."""
    contracts = load_contracts()
    dataset = contracts.datasets.get(str(row.get("dataset")))
    indicator = dataset.indicators.get(str(row.get("indicator"))) if dataset else None

    def render(lang: str) -> str:
        parts = []
        for dim in dims:
            if dim == "indicator":
                parts.append(indicator.name.get(lang) or indicator.name["en"] if indicator
                             else str(row["indicator"]))
            else:
                parts.append(f"{t(f'dimension.{dim}', lang)}: "
                             f"{contracts.label(dim, str(row[dim]), lang)}")
        return ", ".join(parts) or "-"

    return InWords(render)


def _dimension(dim: str) -> InWords:
    return InWords(lambda lang: t(f"dimension.{dim}", lang))


def _code(dim: str, code: str) -> InWords:
    return InWords(lambda lang: load_contracts().label(dim, code, lang))


def _indicator(code: object) -> InWords:
    """An indicator's name in each message's language (its code when no contract has it)."""
    return InWords(lambda lang: load_contracts().indicator_name(str(code), lang))


# --- per-cell rules (Great Expectations) -----------------------------------------------------


def _cell_findings(frame: pl.DataFrame, contracts: Contracts, failures) -> list[Finding]:
    by_key = {row[KEY]: row for row in frame.iter_rows(named=True)} if failures else {}
    findings: list[Finding] = []
    for rule, key, column, row_key, value in failures:
        row = by_key[row_key]
        dataset = row["dataset"] if row["dataset"] in contracts.datasets else None
        if key == "finding.unknown_indicator" and dataset is None:
            continue  # already said: the data set is unknown
        findings.append(_cell_finding(rule, key, column, value, row, dataset, contracts))
    # Blank values need an observation status, and a status goes with a blank value. In a data
    # set whose value is a status, "unknown" is the answer for what is not known.
    by_status = pl.col("dataset").is_in([c for c, d in contracts.datasets.items() if d.status])
    for row in frame.filter(pl.col("value").is_null() & pl.col("obs_status").is_null()
                            & ~by_status).iter_rows(named=True):
        findings.append(Finding.make("V03", "finding.blank_value", column="value", value="",
                                     dataset=row["dataset"], **_ref(row)))
    blank = frame.filter(by_status & pl.col("value").is_null())
    for row in blank.head(MAX_FINDINGS_PER_RULE).iter_rows(named=True):
        findings.append(Finding.make("H01", "finding.blank_status", column="value", value="",
                                     dataset=row["dataset"], **_ref(row)))
    if blank.height > MAX_FINDINGS_PER_RULE:  # counted, never built (a hostile 10^6 rows)
        findings.append(_Omitted("H01", ERROR, blank.height - MAX_FINDINGS_PER_RULE))
    misplaced = frame.filter(~by_status & pl.any_horizontal(pl.col(c).is_not_null()
                                                           for c in POLICY_COLUMNS))
    for row in misplaced.head(MAX_FINDINGS_PER_RULE).iter_rows(named=True):
        column = next(c for c in POLICY_COLUMNS if row[c] is not None)
        findings.append(Finding.make("V02", "finding.policy_column_not_used", column=column,
                                     value=row[column], dataset=row["dataset"], **_ref(row)))
    if misplaced.height > MAX_FINDINGS_PER_RULE:
        findings.append(_Omitted("V02", ERROR, misplaced.height - MAX_FINDINGS_PER_RULE))
    for row in frame.filter(pl.col("value").is_not_null() & pl.col("obs_status").is_in(["L", "M"])).iter_rows(named=True):
        findings.append(Finding.make("V03", "finding.status_with_value", column="obs_status",
                                     value=row["obs_status"], dataset=row["dataset"], **_ref(row)))
    findings += _applicability(frame, contracts)
    return findings


def _cell_finding(rule, key, column, value, row, dataset, contracts) -> Finding:
    ref = _ref(row)
    if key == "finding.bad_value":
        kind = _value_problem(str(value))
        return Finding.make(rule, f"finding.value_{kind}", column=column, value=value,
                            dataset=dataset, **ref)
    if key == "finding.unknown_code" and column in ("citizenship", "counterpart_area"):
        hint = country_hint(str(value))
        if hint:
            return Finding.make(rule, "finding.free_text_country", column=column, value=value,
                                dataset=dataset, code=hint,
                                name=contracts.label("citizenship", hint, "es"),
                                name_en=contracts.label("citizenship", hint, "en"), **ref)
    if key == "finding.unknown_code":
        codes = contracts.codes_for(column)
        shown = ", ".join(codes) if len(codes) <= 15 else "ISO 3166-1 alpha-3, XXA, _U, _T"
        return Finding.make(rule, key, column=column, value=value, dataset=dataset,
                            codes=shown, **ref)
    if key == "finding.unknown_dataset":
        return Finding.make(rule, key, column=column, value=value, dataset=None,
                            codes=", ".join(contracts.datasets), **ref)
    if key == "finding.unknown_indicator":
        return Finding.make(rule, key, column=column, value=row["indicator"], dataset=dataset,
                            dataset_code=row["dataset"],
                            codes=", ".join(contracts.datasets[row["dataset"]].indicators), **ref)
    if key == "finding.unknown_country":
        hint = country_hint(str(value or ""))
        return Finding.make(rule, key, column=column, value=value, dataset=None,
                            codes=", ".join(contracts.members),
                            hint=f" ({hint}?)" if hint else "", **ref)
    return Finding.make(rule, key, column=column, value=value, dataset=dataset, **ref)


def _value_problem(text: str) -> str:
    cleaned = text.strip()
    try:
        number = float(cleaned.replace(",", "."))
    except ValueError:
        return "text"
    if not math.isfinite(number):  # "NaN", "inf": words to a person, not numbers
        return "text"
    if number < 0:
        return "negative"
    if "," in cleaned or (cleaned.count(".") == 1 and len(cleaned.split(".")[1]) == 3):
        return "separator"
    if number != int(number):
        return "fraction"
    return "format"


def _applicability(frame: pl.DataFrame, contracts: Contracts) -> list[Finding]:
    """An indicator's own dimensions need a code; the others must stay empty."""
    uses = pl.DataFrame([
        {"dataset": code, "indicator": ind.code,
         **{f"_uses_{dim}": dim in ind.dimensions for dim in DIMENSIONS}}
        for code, dataset in contracts.datasets.items() for ind in dataset.indicators.values()
    ])
    rows = frame.join(uses, on=["dataset", "indicator"], how="inner")
    findings = []
    for dim in DIMENSIONS:
        empty = pl.col(dim) == NOT_APPLICABLE
        bad = rows.filter(pl.when(pl.col(f"_uses_{dim}")).then(empty).otherwise(~empty))
        for row in bad.iter_rows(named=True):
            findings.append(Finding.make(
                "V02", "finding.dimension_missing" if row[f"_uses_{dim}"]
                else "finding.dimension_not_used",
                column=dim, value=row[dim], dataset=row["dataset"], indicator=row["indicator"],
                **_ref(row)))
    for dataset_code, dataset in contracts.datasets.items():
        for indicator in dataset.indicators.values():
            if not indicator.age_codes:
                continue
            wrong_age = rows.filter((pl.col("dataset") == dataset_code)
                                    & (pl.col("indicator") == indicator.code)
                                    & ~pl.col("age").is_in(list(indicator.age_codes)))
            for row in wrong_age.iter_rows(named=True):
                findings.append(Finding.make("V02", "finding.unknown_code", column="age",
                                             value=row["age"], dataset=dataset_code,
                                             codes=", ".join(indicator.age_codes), **_ref(row)))
    return findings


# --- the file as a whole (V02, V07) ----------------------------------------------------------


def _file_identity(frame: pl.DataFrame, context: ValidationContext, contracts: Contracts):
    findings = []
    countries = frame["country"].drop_nulls().value_counts(sort=True)
    periods = frame["period"].drop_nulls().value_counts(sort=True)
    country = countries["country"][0] if countries.height else None
    period = periods["period"][0] if periods.height else None
    expected = context.submitter_country or country
    for row in frame.filter(pl.col("country") != expected).iter_rows(named=True):
        findings.append(Finding.make("V02", "finding.wrong_country", column="country",
                                     value=row["country"], expected=expected, **_ref(row)))
    if context.submitter_country:
        country = context.submitter_country
    for row in frame.filter(pl.col("period") != period).iter_rows(named=True):
        findings.append(Finding.make("V02", "finding.mixed_periods", column="period",
                                     value=row["period"], expected=period, **_ref(row)))
    try:
        quarter = parse_period(period) if period else None  # a quarter, or a year
    except ValueError:
        quarter = None  # the per-cell rule already said so
    if quarter and not quarter.is_complete(context.today):
        findings.append(Finding.make("V02", "finding.future_period" if isinstance(quarter, Quarter)
                                     else "finding.future_year", column="period",
                                     value=period, end=quarter.end.isoformat()))
    if quarter and country:
        findings += _lock_and_window(frame, country, quarter, context, contracts)
    return country, period, findings


def _lock_and_window(frame, country, quarter, context, contracts) -> list[Finding]:
    findings = []
    for dataset in frame["dataset"].unique().to_list():
        closes = quarter.end + dt.timedelta(days=contracts.window_days(dataset))
        key = (country, dataset, str(quarter))
        excepted = key in context.lock_exceptions
        if key in context.locked_units and not excepted:
            findings.append(Finding.make("V07", "finding.locked", dataset=dataset,
                                         value=str(quarter), dataset_code=dataset))
        elif context.role == "submitter" and context.today > closes and not excepted:
            findings.append(Finding.make("V07", "finding.window_closed", dataset=dataset,
                                         value=str(quarter), closed=closes.isoformat()))
    return findings


# --- rules over sets of rows (V04–V06, V08–V11) ----------------------------------------------


def _set_findings(rows, unit, contracts, context) -> list[Finding]:
    dataset = contracts.datasets[unit.dataset]
    typed = _typed(rows, dataset)
    findings = _duplicates(typed, unit)
    if findings:
        return findings  # additivity over duplicated cells would only repeat the problem
    if dataset.status:
        return _mandatory(typed, unit, contracts) + _policy(typed, dataset, unit, context)
    for indicator in dataset.indicators.values():
        cells = typed.filter(pl.col("indicator") == indicator.code)
        if cells.height:
            findings += _additivity(cells, indicator, contracts, unit)
    findings += _same_total(typed, dataset, contracts, unit)
    findings += _mandatory(typed, unit, contracts)
    findings += _unknown_shares(typed, dataset, unit)
    findings += _above_population(typed, unit)
    findings += _outliers(typed, unit, context)
    findings += _plausibility(typed, unit)
    return findings


@cache
def _populations() -> dict[str, dict[int, int]]:
    """Total mid-year population by country and year (the dbt seed, UN WPP 2024 based)."""
    import csv

    from pipelines.settings import DBT_PROJECT_DIR

    totals: dict[str, dict[int, int]] = {}
    with (DBT_PROJECT_DIR / "seeds" / "population.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["sex"] == "total" and row["age_group"] == "total":
                totals.setdefault(row["iso3"], {})[int(row["year"])] = round(
                    float(row["population"]))
    return totals


def population(country: str | None, year: int) -> int | None:
    """The country's population that year (the nearest year the seed has), or None."""
    by_year = _populations().get(country or "")
    if not by_year:
        return None
    return by_year[min(by_year, key=lambda y: (abs(y - year), -y))]


def _policy(typed, dataset, unit, context) -> list[Finding]:
    """The rules of a policy data set (H02-H06, data_contracts/policy_framework.yaml)."""
    findings = []
    year = int(unit.period) if str(unit.period).isdigit() else None
    for row in typed.iter_rows(named=True):
        item = dataset.indicators.get(row["indicator"])
        if item is None or row["status"] not in dataset.status:
            continue  # already said (V02, H01)
        said = {"indicator": _indicator(row["indicator"]), "dataset": unit.dataset, **_ref(row)}
        asserted = row["status"] in ("yes", "partial")
        if asserted and not row["reference"]:
            findings.append(Finding.make("H02", "finding.reference_missing", column="reference",
                                         value="", status=row["status"], **said))
        for column, typed_column in (("date", "item_date"), ("valid_until", "valid_until")):
            if row[column] and row[typed_column] is None:
                findings.append(Finding.make("H03", "finding.bad_date", column=column,
                                             value=row[column], **said))
        if row["item_date"] is not None and row["item_date"] > context.today:
            findings.append(Finding.make("H03", "finding.future_date", column="date",
                                         value=row["date"], **said))
        if item.date_required and row["status"] == "yes" and not row["date"]:
            findings.append(Finding.make("H04", "finding.date_missing", column="date", value="",
                                         what=InWords(lambda lang, item=item: item.date_label.get(
                                             lang) or item.date_label["en"]), **said))
        if item.until and row["status"] == "yes" and year is not None:
            until = row["valid_until"]
            if until is None and not row["valid_until_text"]:
                findings.append(Finding.make("H05", "finding.until_missing", column="valid_until",
                                             value="", **said))
            elif until is not None and until.year < year:
                findings.append(Finding.make("H05", "finding.ended_before", column="valid_until",
                                             value=str(until), year=year, **said))
            elif until is not None and until < dt.date(year, 12, 31):
                findings.append(Finding.make("H06", "finding.ended_during", severity=WARNING,
                                             column="valid_until", value=str(until), year=year,
                                             **said))
    return findings


def _above_population(typed, unit) -> list[Finding]:
    try:
        people = population(unit.country, Quarter.parse(unit.period).year)
    except ValueError:
        return []
    if not people:
        return []
    return [Finding.make("V12", "finding.above_population", column="value", value=row["value"],
                         population=people, country=unit.country, indicator=_indicator(row["indicator"]),
                         dataset=unit.dataset, **_ref(row))
            for row in typed.filter(pl.col("value") > people).iter_rows(named=True)]


def _duplicates(typed: pl.DataFrame, unit: Unit) -> list[Finding]:
    key = ["indicator", *DIMENSIONS]
    dupes = typed.with_columns(
        pl.col("_row").min().over(key).alias("_first"), pl.len().over(key).alias("_n")
    ).filter((pl.col("_n") > 1) & (pl.col("_row") != pl.col("_first")))
    return [Finding.make("V04", "finding.duplicate_row", value=row["value"], first=row["_first"],
                         cell=_describe(row, ["indicator", *_used(row)]), dataset=unit.dataset,
                         **_ref(row))
            for row in dupes.iter_rows(named=True)]


def _used(row: dict) -> list[str]:
    return [d for d in DIMENSIONS if row[d] != NOT_APPLICABLE]


def _additivity(cells, indicator, contracts, unit) -> list[Finding | _Omitted]:
    findings, built = [], 0
    for dim in indicator.dimensions:
        codelist = contracts.codelist_for(dim)
        if not codelist:
            continue
        others = ["indicator", *[d for d in DIMENSIONS if d != dim]]
        for level in codelist.hierarchy:
            parts = (level.parts if level.parts != ("*",)
                     else [c for c in codelist.codes if c != level.parent])
            parents = cells.filter(pl.col(dim) == level.parent)
            children = cells.filter(pl.col(dim).is_in(list(parts)))
            if parents.height == 0 or children.height == 0:
                continue
            sums = children.group_by(others).agg(
                pl.col("value").sum().alias("_parts"), pl.col("value").null_count().alias("_blank")
            )
            joined = parents.join(sums, on=others, how="inner").filter(
                (pl.col("_blank") == 0) & pl.col("value").is_not_null()
            )
            bad = (joined.filter(pl.col("_parts") != pl.col("value")) if level.rule == "exact"
                   else joined.filter(pl.col("_parts") > pl.col("value"))).sort("_row")
            room = max(MAX_FINDINGS_PER_RULE - built, 0)  # only V05 comes from here
            omitted = max(bad.height - room, 0)
            built += bad.height - omitted
            for row in bad.head(room).iter_rows(named=True):
                findings.append(Finding.make(
                    "V05", f"finding.not_additive_{level.rule}", column="value", value=row["value"],
                    dimension=_dimension(dim), total=row["value"], parts=row["_parts"],
                    parent=_code(dim, level.parent), cell=_describe(row, ["indicator", *[
                        d for d in indicator.dimensions if d != dim]]),
                    dataset=unit.dataset, **_ref(row)))
            if omitted:
                findings.append(_Omitted("V05", ERROR, omitted))
    return findings


def _same_total(typed, dataset, contracts, unit) -> list[Finding]:
    findings = []
    for spec in dataset.same_total:
        indicator = dataset.indicators[spec["indicator"]]
        cells = typed.filter(pl.col("indicator") == indicator.code)
        totals = {}
        for dim in spec["breakdowns"]:
            top = next(h for h in contracts.codelist_for(dim).hierarchy if h.parent == "_T")
            others = [d for d in indicator.dimensions if d != dim]
            parts = cells.filter(pl.col(dim).is_in(list(top.parts))
                                 & pl.all_horizontal(pl.col(d) == "_T" for d in others))
            if parts.height and parts["value"].null_count() == 0:
                totals[dim] = int(parts["value"].sum())
        if len(set(totals.values())) > 1:
            first, first_total = next(iter(totals.items()))
            for dim, total in totals.items():
                if total != first_total:
                    findings.append(Finding.make(
                        "V06", "finding.totals_disagree", column=dim, value=total,
                        indicator=_indicator(indicator.code), dimension=_dimension(dim),
                        total=total, other_dimension=_dimension(first), other_total=first_total,
                        dataset=unit.dataset))
    return findings


def _mandatory(typed, unit, contracts) -> list[Finding]:
    cells = contracts.mandatory_cells(unit.dataset, unit.country)
    if not cells:
        return []
    expected = pl.DataFrame(cells)
    missing = expected.join(typed.select(expected.columns), on=expected.columns, how="anti")
    dataset = contracts.datasets[unit.dataset]
    return [Finding.make("V08", "finding.missing_cell", dataset=unit.dataset,
                         cell=_describe({**row, "dataset": unit.dataset}, ["indicator", *dataset.indicators[
                             row["indicator"]].dimensions]))
            for row in missing.iter_rows(named=True)]


def _unknown_shares(typed, dataset, unit) -> list[Finding]:
    findings = []
    for indicator in dataset.indicators.values():
        for dim in ("sex", "age", "citizenship"):
            if dim not in indicator.dimensions:
                continue
            others = [d for d in indicator.dimensions if d != dim]
            base = typed.filter((pl.col("indicator") == indicator.code)
                                & pl.all_horizontal(pl.col(d) == "_T" for d in others))
            unknown = base.filter(pl.col(dim) == "_U")["value"].sum()
            total = base.filter(pl.col(dim) == "_T")["value"].sum()
            if total and unknown / total > UNKNOWN_SHARE_LIMIT:
                findings.append(Finding.make(
                    "V09", "finding.unknown_share", severity=WARNING, column=dim,
                    value=unknown, share=round(100 * unknown / total), indicator=_indicator(indicator.code),
                    dataset=unit.dataset))
    return findings


TOTALS = ("_T", NOT_APPLICABLE)


def _headline(typed: pl.DataFrame) -> pl.DataFrame:
    """Rows that are a total over every dimension but the stage: one figure per indicator."""
    others = [d for d in DIMENSIONS if d != "stage"]
    return typed.filter(
        pl.all_horizontal(pl.col(d).is_in(TOTALS) for d in others)
        & pl.col("value").is_not_null()
    ).select("indicator", "stage", "value", "_sheet", "_row")


def _outliers(typed, unit, context) -> list[Finding]:
    if context.history is None or context.history.height == 0:
        return []
    quarter = Quarter.parse(unit.period)
    earliest = str(Quarter.parse(unit.period))
    for _ in range(HISTORY_QUARTERS):
        earliest = str(Quarter.parse(earliest).previous())
    past = context.history.filter(
        (pl.col("country") == unit.country) & (pl.col("dataset") == unit.dataset)
        & (pl.col("period") < str(quarter)) & (pl.col("period") >= earliest)
    )
    # V12 on every cell, not only the totals: a slip in one breakdown is as impossible, and the
    # total it also inflates may stay under the threshold.
    keys = ["indicator", *DIMENSIONS]
    slips = typed.filter(pl.col("value") >= IMPOSSIBLE_MEDIAN_FROM).join(
        past.group_by(keys).agg(pl.col("value").median().alias("_median"),
                                pl.len().alias("_n")), on=keys,
    ).filter((pl.col("_n") >= 4) & (pl.col("_median") > 0)
             & (pl.col("value") > IMPOSSIBLE_MEDIAN_FACTOR * pl.col("_median")))
    findings = [Finding.make(
        "V12", "finding.impossible_median", column="value", value=row["value"],
        indicator=_describe({**row, "dataset": unit.dataset},
                            ["indicator", *[d for d in DIMENSIONS if row[d] not in TOTALS]]),
        median=round(row["_median"]), factor=IMPOSSIBLE_MEDIAN_FACTOR, dataset=unit.dataset,
        **_ref(row)) for row in slips.iter_rows(named=True)]
    slipped = set(zip(slips["_sheet"], slips["_row"], strict=True))
    # The warnings (V10) on the headline figures only: small cells jump for real reasons.
    past = past.filter(pl.all_horizontal(pl.col(d).is_in(TOTALS)
                                         for d in DIMENSIONS if d != "stage"))
    for row in _headline(typed).iter_rows(named=True):
        if (row["_sheet"], row["_row"]) in slipped:
            continue
        series = past.filter((pl.col("indicator") == row["indicator"])
                             & (pl.col("stage") == row["stage"])).sort("period")
        values = series["value"].to_list()
        if len(values) < 4:
            continue
        value = row["value"]
        median = float(pl.Series(values).median())
        mad = float((pl.Series(values) - median).abs().median())
        previous = values[-1]
        reason = None
        if mad > 0 and abs(0.6745 * (value - median) / mad) > MODIFIED_Z_LIMIT:
            reason = "z"
        elif previous >= 10 and value > 3 * previous:
            reason = "jump"
        if reason:
            findings.append(Finding.make(
                "V10", f"finding.outlier_{reason}", severity=WARNING, column="value", value=value,
                indicator=_indicator(row["indicator"]), median=round(median), previous=previous,
                dataset=unit.dataset, **_ref(row)))
    return findings


def _plausibility(typed, unit) -> list[Finding]:
    heads = {(r["indicator"], r["stage"]): r for r in _headline(typed).iter_rows(named=True)}
    findings = []
    pairs = [(("SOM_TIP_VICTIMS", NOT_APPLICABLE), ("SOM_DETECTED", NOT_APPLICABLE), 1, 0)]
    for indicator in ("TIP_PERSONS", "SOM_PERSONS"):
        pairs.append(((indicator, "CONV"), (indicator, "PROS"), 2, 10))
    for part_key, whole_key, factor, floor in pairs:
        part, whole = heads.get(part_key), heads.get(whole_key)
        if part and whole and part["value"] > factor * whole["value"] and part["value"] >= floor:
            findings.append(Finding.make(
                "V11", f"finding.implausible_{part_key[0].lower()}", severity=WARNING,
                column="value", value=part["value"], whole=whole["value"],
                dataset=unit.dataset, **_ref(part)))
    return findings


# --- hints -----------------------------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _country_names() -> dict[str, str]:
    import yaml

    from pipelines.settings import CONTRACTS_DIR

    contracts = load_contracts()
    names = {}
    for country in contracts.countries:
        for lang in ("en", "es", "fr"):
            names[_fold(country[f"name_{lang}"])] = country["iso3"]
            names[_fold(country[f"name_{lang}"].split(",")[0])] = country["iso3"]
    with (CONTRACTS_DIR / "country_names.yaml").open(encoding="utf-8") as f:
        for iso3, variants in yaml.safe_load(f).items():
            for variant in variants:
                names[_fold(variant)] = iso3
    return names


def country_hint(text: str) -> str | None:
    """The ISO3 code a free-text country name or nationality probably means (a hint only)."""
    return _country_names().get(_fold(text))
