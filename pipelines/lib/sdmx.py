"""SDMX-CSV 2.0 of the SDG 16.2.2 series (DOMAIN.md §7): every code mapping in this one place.

Structure: the global SDG data structure (IAEG-SDGs), dataflow DF_SDG_GLH. Columns follow the
SDMX-CSV 2.0 field guide: ``STRUCTURE`` (``dataflow``), ``STRUCTURE_ID`` (agency:id(version)),
``ACTION`` (``I``: information), then the dimensions in DSD order, ``OBS_VALUE`` and the
attributes. Confirm the AGE codes and the DSD version against the current SDG code lists before a
release (DOMAIN.md §7); change them here only.
"""

from __future__ import annotations

import polars as pl

STRUCTURE = "dataflow"
STRUCTURE_ID = "IAEG-SDGs:DF_SDG_GLH(1.19)"
ACTION = "I"

DIMENSIONS = ("FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "TIME_PERIOD")
ATTRIBUTES = ("OBS_STATUS", "UNIT_MEASURE", "CONF_STATUS")
COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", *ATTRIBUTES)

# The observatory's indicator and frequency that feed the series (annual counts of victims
# detected; SDG data are annual).
SOURCE_INDICATOR = "VIC_DETECTED"
SOURCE_FREQ = "A"
FREQ = "A"
REPORTING_TYPE = "N"  # national figures reported by the members
UNIT_MEASURE = "NUMBER"

# exploitation_form -> SERIES (DOMAIN.md §3). Forms that roll up into VC_HTF_DETVOP ("other
# purposes": FCRIM, FMAR, BEG, ADOPT, MIXED, OTH) need a sum built in dbt before disclosure
# control; until that mart exists they are not exported (see the README).
SERIES_BY_FORM = {
    "_T": "VC_HTF_DETV",
    "SEX": "VC_HTF_DETVSX",
    "FLAB": "VC_HTF_DETVFL",
    "ORG": "VC_HTF_DETVOG",
}
SEX = {"_T": "_T", "F": "FEMALE", "M": "MALE"}          # X and _U have no SDG code
AGE = {"_T": "_T", "Y0T17": "Y0T17", "Y_GE18": "Y_GE18"}  # _U has no SDG code
OBS_STATUS = {"A": "A", "P": "P"}                       # SDMX CL_OBS_STATUS: normal, provisional
CONF_STATUS = {"F": "F", "A": "A", "D": "D"}            # SDMX CL_CONF_STATUS


def sdmx_frame(rows: pl.DataFrame, m49: dict[str, str]) -> pl.DataFrame:
    """The SDMX-CSV body (``COLUMNS``, all text, nulls for empty cells) from the published rows
    (a frame with the mart's columns, in the export's row order).

    Only member countries (REF_AREA as M49) and only codes with an SDG counterpart; rows whose
    form is broken down together with sex or age are left out (the SDG series are one-way).
    Sorted on series, area, sex, age and period (ties keep the input order).
    """
    def mapped(column: str, mapping: dict[str, str]) -> pl.Expr:
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)

    def strict(column: str, mapping: dict[str, str]) -> pl.Expr:  # an unknown code is an error
        return pl.col(column).replace_strict(mapping, return_dtype=pl.String)

    body = (
        rows.lazy()
        .select("indicator_code", "freq", "ref_area", "exploitation_form", "sex", "age",
                "time_period", "value", "obs_status", "conf_status")
        .with_row_index("_order")
        .filter((pl.col("indicator_code") == SOURCE_INDICATOR) & (pl.col("freq") == SOURCE_FREQ))
        .with_columns(SERIES=mapped("exploitation_form", SERIES_BY_FORM),
                      REF_AREA=mapped("ref_area", m49), SEX=mapped("sex", SEX),
                      AGE=mapped("age", AGE))
        .drop_nulls(["SERIES", "REF_AREA", "SEX", "AGE"])
        .filter((pl.col("exploitation_form") == "_T")
                | ((pl.col("SEX") == "_T") & (pl.col("AGE") == "_T")))
        .collect()
    )
    return body.select(
        STRUCTURE=pl.lit(STRUCTURE), STRUCTURE_ID=pl.lit(STRUCTURE_ID), ACTION=pl.lit(ACTION),
        FREQ=pl.lit(FREQ), REPORTING_TYPE=pl.lit(REPORTING_TYPE), SERIES="SERIES",
        REF_AREA="REF_AREA", SEX="SEX", AGE="AGE", TIME_PERIOD="time_period",
        OBS_VALUE=format_numbers(body["value"]),
        OBS_STATUS=strict("obs_status", OBS_STATUS), UNIT_MEASURE=pl.lit(UNIT_MEASURE),
        CONF_STATUS=strict("conf_status", CONF_STATUS), _order="_order",
    ).sort("SERIES", "REF_AREA", "SEX", "AGE", "TIME_PERIOD", "_order").drop("_order")


def format_number(value: float) -> str:
    """A number as text: counts without a decimal part, other values in full (never rounded)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_numbers(values: pl.Series) -> pl.Series:
    """``format_number`` over a column (nulls stay null), column-wise in DuckDB.

    DuckDB's double -> text cast writes the shortest text that reads back to the same double,
    with Python's exponent form (``1e-05``, ``1e+16``): the same as ``repr``. Integral values go
    through BIGINT; the rare rest (non-finite, or integral beyond 1e18) through
    ``format_number`` itself.
    """
    import duckdb

    frame = pl.DataFrame({"v": values.cast(pl.Float64)}).with_row_index("i")
    con = duckdb.connect()
    try:
        con.register("frame", frame.to_arrow())
        text = con.sql(
            """select case when isfinite(v) and v = trunc(v) and abs(v) < 1e18
                           then cast(cast(v as bigint) as varchar)
                           when isfinite(v) and v <> trunc(v) then cast(v as varchar) end as text
               from frame order by i""").pl()["text"]
    finally:
        con.close()
    rare = frame.filter(text.is_null() & pl.col("v").is_not_null())
    if rare.height:
        text = text.scatter(rare["i"], [format_number(v) for v in rare["v"]])
    return text.rename(values.name)
