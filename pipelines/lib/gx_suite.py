"""Per-cell rules (V01–V03) as a Great Expectations suite generated from the data contracts.

GX 1.x validates pandas frames (it has no polars backend): it is given each column's distinct
values, not the whole submission (see :func:`check_cells`). It is imported
lazily: the import alone takes seconds, and only validation needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd
import polars as pl

from pipelines.lib.contracts import NOT_APPLICABLE, load_contracts

KEY = "_key"
DATASET_INDICATOR = "_dataset_indicator"
PAIR = "|"
# ASCII digits only: Python's \\d also matches other scripts' digits (such as ٣).
PERIOD_REGEX = r"^[0-9]{4}-Q[1-4]$"  # as periods.PERIOD_PATTERN, without groups (GX warns)
YEAR_REGEX = r"^[0-9]{4}$"
DATE_REGEX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Columns checked in place of another: a count or a status in `value`, a quarter or a year in
# `period`, depending on the row's data set (a data set whose value is a status is annual).
COUNT_VALUE, STATUS_VALUE = "_count_value", "_status_value"
QUARTER_PERIOD, YEAR_PERIOD = "_quarter_period", "_year_period"
CHECKED_AS = {DATASET_INDICATOR: "indicator", COUNT_VALUE: "value", STATUS_VALUE: "value",
              QUARTER_PERIOD: "period", YEAR_PERIOD: "period"}


@dataclass(frozen=True)
class CellFailure:
    """Rows that broke one expectation: the rule, the finding's translation key, the column."""

    rule: str
    key: str
    column: str
    rows: tuple[int, ...]  # values of KEY
    values: tuple[object, ...]


def _expectations() -> list[tuple[str, str, object]]:
    """(rule, finding key, expectation) for every per-cell rule of the contracts."""
    import great_expectations as gx

    contracts = load_contracts()
    dims = [c for c, spec in contracts.columns.items() if spec.get("codelist") and c != "obs_status"]
    pairs = [f"{d}{PAIR}{i}" for d, ds in contracts.datasets.items() for i in ds.indicators]
    reporters = [c["iso3"] for c in contracts.countries if c["member"] or c["observer"]]
    E = gx.expectations
    items: list[tuple[str, str, object]] = [
        ("V01", "finding.unknown_dataset",
         E.ExpectColumnValuesToBeInSet(column="dataset", value_set=sorted(contracts.datasets))),
        ("V02", "finding.unknown_country",
         E.ExpectColumnValuesToBeInSet(column="country", value_set=sorted(reporters))),
        ("V02", "finding.bad_period",
         E.ExpectColumnValuesToMatchRegex(column=QUARTER_PERIOD, regex=PERIOD_REGEX)),
        ("V02", "finding.bad_year",
         E.ExpectColumnValuesToMatchRegex(column=YEAR_PERIOD, regex=YEAR_REGEX)),
        # GX's column-pair expectation iterates rows in Python (minutes on 10^6 rows): the pair
        # is checked as one column instead.
        ("V02", "finding.unknown_indicator",
         E.ExpectColumnValuesToBeInSet(column=DATASET_INDICATOR, value_set=pairs)),
        ("V03", "finding.bad_value",
         E.ExpectColumnValuesToMatchRegex(column=COUNT_VALUE, regex=r"^[0-9]{1,15}$")),
        ("H01", "finding.bad_status",
         E.ExpectColumnValuesToBeInSet(column=STATUS_VALUE, value_set=sorted(
             {code for d in contracts.datasets.values() for code in d.status}))),
        ("H03", "finding.bad_date",
         E.ExpectColumnValuesToMatchRegex(column="date", regex=DATE_REGEX)),
        ("H03", "finding.bad_date",
         E.ExpectColumnValuesToMatchRegex(column="valid_until", regex=DATE_REGEX)),
        ("V02", "finding.unknown_code",
         E.ExpectColumnValuesToBeInSet(column="obs_status",
                                       value_set=contracts.codes_for("obs_status"))),
    ]
    for required in ("dataset", "country", "period", "indicator"):
        items.append(("V01" if required == "dataset" else "V02", "finding.required_cell",
                      E.ExpectColumnValuesToNotBeNull(column=required)))
    for dim in dims:
        items.append(("V02", "finding.unknown_code", E.ExpectColumnValuesToBeInSet(
            column=dim, value_set=contracts.codes_for(dim) + [NOT_APPLICABLE])))
    return items


@cache
def _validator():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("submissions")
        .add_dataframe_asset("submission")
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = gx.ExpectationSuite(name="submission_cells")
    for rule, key, expectation in _expectations():
        expectation.meta = {"rule": rule, "key": key}
        suite.add_expectation(expectation)
    return batch_definition, context.suites.add(suite)


def check_cells(frame: pl.DataFrame) -> list[CellFailure]:
    """Run the suite over the frame (text cells, empty dimensions as ``_Z``, a ``KEY`` column).

    Every per-cell rule judges one cell by its value alone, so Great Expectations validates each
    column's distinct values (a 10^6-row file holds a few hundred per column; shorter columns are
    repeated to the length of the longest, which adds no new value), and the rows holding a value
    it rejected are found afterwards, in file order. Same findings, a fraction of the rows.
    """
    batch_definition, suite = _validator()
    both = pl.col("dataset").is_not_null() & pl.col("indicator").is_not_null()
    contracts = load_contracts()
    by_status = pl.col("dataset").is_in([c for c, d in contracts.datasets.items() if d.status])
    annual = pl.col("dataset").is_in(contracts.annual_datasets)
    frame = frame.with_columns(
        pl.when(both).then(pl.col("dataset") + PAIR + pl.col("indicator")).alias(DATASET_INDICATOR),
        pl.when(~by_status).then(pl.col("value")).alias(COUNT_VALUE),
        pl.when(by_status).then(pl.col("value").str.to_lowercase()).alias(STATUS_VALUE),
        pl.when(~annual).then(pl.col("period")).alias(QUARTER_PERIOD),
        pl.when(annual).then(pl.col("period")).alias(YEAR_PERIOD),
    )
    distinct = {c: frame[c].unique(maintain_order=True).to_list() for c in frame.columns
                if c != KEY}
    size = max((len(values) for values in distinct.values()), default=0)
    domain = pd.DataFrame({c: pd.Series([values[i % len(values)] for i in range(size)],
                                        dtype=object)
                           for c, values in distinct.items()})
    batch = batch_definition.get_batch(batch_parameters={"dataframe": domain})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failures = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        rule, key = config.meta["rule"], config.meta["key"]
        checked = config.kwargs.get("column")
        column = CHECKED_AS.get(checked, checked)
        rejected = set(outcome.result.get("unexpected_list") or [])
        values = [v for v in rejected if v is not None]
        holds = pl.col(checked).is_in(values)
        if None in rejected:
            holds = holds | pl.col(checked).is_null()
        rows = frame.filter(holds).select(KEY, checked)
        failures.append(CellFailure(rule=rule, key=key, column=column,
                                    rows=tuple(rows[KEY].to_list()),
                                    values=tuple(rows[checked].to_list())))
    return failures


def warm_up() -> None:
    """Import Great Expectations and build the suite now (seconds), not at the first file."""
    _validator()
