"""SDMX-CSV 2.0 of the SDG 16.2.2 series (DOMAIN.md §7): every code mapping in this one place.

Structure: the global SDG data structure (IAEG-SDGs:SDG 1.14, dataflow DF_SDG_GLH), kept in
``reference/sdg/SDG_DSD_1.14.xml`` with its source; :func:`dsd_problems` checks every file
against it before it is written, so a code or a column the DSD does not have stops the export.
Columns follow the SDMX-CSV 2.0 field guide: ``STRUCTURE`` (``dataflow``), ``STRUCTURE_ID``
(agency:id(version)), ``ACTION`` (``I``: information), the fifteen dimensions and TIME_PERIOD in
DSD order, ``OBS_VALUE``, then the attributes reported (the mandatory OBS_STATUS, UNIT_MULT and
UNIT_MEASURE, and NATURE).

* Series: the counts of victims detected (VIC_DETECTED, calendar years) and their rates per
  100,000 (VIC_RATE_100K): in total, for sexual exploitation, forced labour, organ removal, and
  "other purposes" (the sum of forced criminality, forced marriage, begging, illegal adoption,
  mixed and other forms), each by sex and age where published.
* A value hidden by disclosure control is an empty OBS_VALUE with OBS_STATUS ``Q`` (missing
  value; suppressed). "Other purposes" is written only where all six forms it adds up are in
  the mart, and hidden (Q) unless every one is published, so it tells nothing the other rows
  do not.
* REF_AREA: the members' M49 codes as the SDG area list writes them (no leading zeros).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

STRUCTURE = "dataflow"
DSD_FILE = Path(__file__).resolve().parents[2] / "reference" / "sdg" / "SDG_DSD_1.14.xml"
STRUCTURE_ID = "IAEG-SDGs:DF_SDG_GLH(1.14)"
ACTION = "I"

DIMENSIONS = ("FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION",
              "INCOME_WEALTH_QUANTILE", "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN",
              "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY", "PRODUCT", "TIME_PERIOD")
NOT_BROKEN_DOWN = DIMENSIONS[6:15]  # "_T": breakdowns 16.2.2 does not use
ATTRIBUTES = ("OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE", "NATURE")
COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", *ATTRIBUTES)

# The observatory's indicators that feed the series (SDG data are annual: calendar years).
SOURCE_FREQ = "A"
SOURCES = {"VIC_DETECTED": ("", "NUMBER"), "VIC_RATE_100K": ("R", "PER_100000_POP")}
FREQ = "A"
REPORTING_TYPE = "N"  # national figures reported by the members
UNIT_MULT = "0"       # units
NATURE = "C"          # country data
SUPPRESSED = "Q"      # CL_OBS_STATUS: missing value; suppressed

# exploitation_form -> SERIES stem (DOMAIN.md §3); the rate series add "R".
SERIES_BY_FORM = {"_T": "VC_HTF_DETV", "SEX": "VC_HTF_DETVSX", "FLAB": "VC_HTF_DETVFL",
                  "ORG": "VC_HTF_DETVOG"}
OTHER_PURPOSES = ("FCRIM", "FMAR", "BEG", "ADOPT", "MIXED", "OTH")
OTHER_PURPOSES_SERIES = "VC_HTF_DETVOP"
SEX = {"_T": "_T", "F": "F", "M": "M"}                   # X and _U: no SDG counterpart
AGE = {"_T": "_T", "Y0T17": "Y0T17", "Y_GE18": "Y_GE18"}  # _U: no SDG counterpart
OBS_STATUS = {"A": "A", "P": "P"}                          # normal, provisional


def sdmx_frame(rows: pl.DataFrame, m49: dict[str, str]) -> pl.DataFrame:
    """The SDMX-CSV body (``COLUMNS``, all text, nulls for empty cells) from the published rows
    (a frame with the mart's columns). Only members (REF_AREA as M49) and only codes with an SDG
    counterpart. Sorted on series, area, sex, age and period."""
    def mapped(column: str, mapping: dict[str, str]) -> pl.Expr:
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)

    areas = {iso3: str(int(code)) for iso3, code in m49.items()}
    source = (
        rows.lazy()
        .filter(pl.col("indicator_code").is_in(list(SOURCES)) & (pl.col("freq") == SOURCE_FREQ))
        .select("indicator_code", "ref_area", "exploitation_form", "sex", "age", "time_period",
                "value", "obs_status", "conf_status")
        .with_columns(REF_AREA=mapped("ref_area", areas), SEX=mapped("sex", SEX),
                      AGE=mapped("age", AGE),
                      hidden=pl.col("conf_status") != "F")
        .drop_nulls(["REF_AREA", "SEX", "AGE"])
        .collect()
    )
    keys = ["indicator_code", "REF_AREA", "SEX", "AGE", "time_period"]
    forms = source.filter(pl.col("exploitation_form").is_in(list(SERIES_BY_FORM))).with_columns(
        stem=mapped("exploitation_form", SERIES_BY_FORM))
    # "Other purposes": a sum of published cells only; hidden where any of its forms is.
    other = (source.filter(pl.col("exploitation_form").is_in(OTHER_PURPOSES))
             .group_by(keys)
             .agg(value=pl.col("value").sum(), hidden=pl.col("hidden").any(),
                  provisional=(pl.col("obs_status") == "P").any(),
                  forms=pl.col("exploitation_form").n_unique())
             # a sum over only some of its forms would be another figure: left out
             .filter(pl.col("forms") == len(OTHER_PURPOSES)).drop("forms")
             .with_columns(stem=pl.lit(OTHER_PURPOSES_SERIES),
                           obs_status=pl.when("provisional").then(pl.lit("P"))
                           .otherwise(pl.lit("A")))
             .drop("provisional"))
    body = pl.concat([forms.select(*keys, "stem", "value", "hidden", "obs_status"),
                      other.select(*keys, "stem", "value", "hidden", "obs_status")])
    suffix = pl.col("indicator_code").replace_strict({c: s for c, (s, _) in SOURCES.items()})
    unit = pl.col("indicator_code").replace_strict({c: u for c, (_, u) in SOURCES.items()})
    body = body.with_columns(SERIES=pl.col("stem") + suffix, UNIT_MEASURE=unit,
                             value=pl.when("hidden").then(None).otherwise("value"))
    return body.select(
        STRUCTURE=pl.lit(STRUCTURE), STRUCTURE_ID=pl.lit(STRUCTURE_ID), ACTION=pl.lit(ACTION),
        FREQ=pl.lit(FREQ), REPORTING_TYPE=pl.lit(REPORTING_TYPE), SERIES="SERIES",
        REF_AREA="REF_AREA", SEX="SEX", AGE="AGE",
        **{dim: pl.lit("_T") for dim in NOT_BROKEN_DOWN},
        TIME_PERIOD="time_period",
        OBS_VALUE=format_numbers(body["value"]),
        OBS_STATUS=pl.when("hidden").then(pl.lit(SUPPRESSED))
        .otherwise(pl.col("obs_status").replace_strict(OBS_STATUS, return_dtype=pl.String)),
        UNIT_MULT=pl.lit(UNIT_MULT), UNIT_MEASURE="UNIT_MEASURE", NATURE=pl.lit(NATURE),
    ).sort("SERIES", "REF_AREA", "SEX", "AGE", "TIME_PERIOD")


@cache
def sdg_structure():
    """The kept SDG DSD (sdmx1's model)."""
    import sdmx

    return sdmx.read_sdmx(DSD_FILE).structure["SDG"]


def dsd_problems(body: pl.DataFrame, limit: int = 20) -> list[str]:
    """What in an SDMX-CSV body the kept SDG DSD does not allow: columns out of its order, a
    mandatory attribute missing or empty, a code outside its code list, a value that is not a
    number (an empty value only as suppressed). Empty: the file conforms."""
    dsd = sdg_structure()
    dims = [d.id for d in dsd.dimensions]
    attributes = {a.id: a for a in dsd.attributes}
    columns = body.columns
    expected = ["STRUCTURE", "STRUCTURE_ID", "ACTION", *dims, "OBS_VALUE"]
    problems = []
    if columns[:len(expected)] != expected:
        problems.append(f"columns {columns[:len(expected)]} are not the DSD's {expected}")
    extra = [c for c in columns[len(expected):] if c not in attributes]
    problems += [f"column {c} is not an attribute of the DSD" for c in extra]
    mandatory = [a.id for a in dsd.attributes if a.usage_status.name == "mandatory"]
    problems += [f"mandatory attribute {a} is missing" for a in mandatory if a not in columns]
    for component in [*dsd.dimensions, *(attributes[c] for c in columns if c in attributes)]:
        representation = component.local_representation
        if component.id not in columns or representation is None or not representation.enumerated:
            continue
        allowed = {code.id for code in representation.enumerated}
        values = set(body[component.id].drop_nulls().unique().to_list())
        if component.id in mandatory and body[component.id].null_count():
            problems.append(f"{component.id} is empty in {body[component.id].null_count()} rows")
        problems += [f"{component.id}={v!r} is not in {representation.enumerated.id}"
                     for v in sorted(values - allowed)]
    if "OBS_VALUE" in columns:
        empty = body.filter(pl.col("OBS_VALUE").is_null() & (pl.col("OBS_STATUS") != SUPPRESSED))
        problems += [f"an empty OBS_VALUE that is not suppressed: {r}" for r in empty.head(3).rows()]
        numbers = body["OBS_VALUE"].drop_nulls().cast(pl.Float64, strict=False)
        if numbers.null_count():
            problems.append(f"{numbers.null_count()} OBS_VALUE are not numbers")
    for header, fixed in (("STRUCTURE", STRUCTURE), ("ACTION", ACTION)):
        if header in columns and set(body[header].unique().to_list()) - {fixed}:
            problems.append(f"{header} is not {fixed!r} in every row")
    return problems[:limit]


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
