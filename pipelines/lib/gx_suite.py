"""Per-cell rules (V01–V03) as a Great Expectations suite generated from the data contracts.

GX 1.x validates a pandas copy of the submission frame (it has no polars backend). It is imported
lazily: the import alone takes seconds, and only validation needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from pipelines.lib.contracts import NOT_APPLICABLE, load_contracts

KEY = "_key"
DATASET_INDICATOR = "_dataset_indicator"
PAIR = "|"
# ASCII digits only: Python's \\d also matches other scripts' digits (such as ٣).
PERIOD_REGEX = r"^[0-9]{4}-Q[1-4]$"  # as periods.PERIOD_PATTERN, without groups (GX warns)


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
         E.ExpectColumnValuesToMatchRegex(column="period", regex=PERIOD_REGEX)),
        # GX's column-pair expectation iterates rows in Python (minutes on 10^6 rows): the pair
        # is checked as one column instead.
        ("V02", "finding.unknown_indicator",
         E.ExpectColumnValuesToBeInSet(column=DATASET_INDICATOR, value_set=pairs)),
        ("V03", "finding.bad_value",
         E.ExpectColumnValuesToMatchRegex(column="value", regex=r"^[0-9]{1,15}$")),
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


def check_cells(frame: pd.DataFrame) -> list[CellFailure]:
    """Run the suite over the frame (text cells, empty dimensions as ``_Z``, a ``KEY`` column)."""
    batch_definition, suite = _validator()
    both = frame["dataset"].notna() & frame["indicator"].notna()
    frame = frame.assign(**{DATASET_INDICATOR: (frame["dataset"] + PAIR + frame["indicator"])
                            .where(both, None)})
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [KEY]}
    )
    failures = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        rule, key = config.meta["rule"], config.meta["key"]
        checked = config.kwargs.get("column")
        column = "indicator" if checked == DATASET_INDICATOR else checked
        indexed = outcome.result.get("unexpected_index_list") or []
        failures.append(CellFailure(
            rule=rule,
            key=key,
            column=column,
            rows=tuple(int(item[KEY]) for item in indexed),
            values=tuple(item.get(checked) for item in indexed),
        ))
    return failures


def warm_up() -> None:
    """Import Great Expectations and build the suite now (seconds), not at the first file."""
    _validator()
