"""SDMX-CSV 2.0 of the SDG 16.2.2 series (DOMAIN.md §7): every code mapping in this one place.

Structure: the global SDG data structure (IAEG-SDGs), dataflow DF_SDG_GLH. Columns follow the
SDMX-CSV 2.0 field guide: ``STRUCTURE`` (``dataflow``), ``STRUCTURE_ID`` (agency:id(version)),
``ACTION`` (``I``: information), then the dimensions in DSD order, ``OBS_VALUE`` and the
attributes. Confirm the AGE codes and the DSD version against the current SDG code lists before a
release (DOMAIN.md §7); change them here only.
"""

from __future__ import annotations

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


def sdmx_rows(rows: list[dict], m49: dict[str, str]) -> list[list[str]]:
    """SDMX-CSV rows (header first) from published indicator rows (dicts of the published mart).

    Only member countries (REF_AREA as M49) and only codes with an SDG counterpart; rows whose
    form is broken down together with sex or age are left out (the SDG series are one-way).
    """
    out = [list(COLUMNS)]
    body = []
    for row in rows:
        if row["indicator_code"] != SOURCE_INDICATOR or row["freq"] != SOURCE_FREQ:
            continue
        area = m49.get(row["ref_area"])
        series = SERIES_BY_FORM.get(row["exploitation_form"])
        sex, age = SEX.get(row["sex"]), AGE.get(row["age"])
        if area is None or series is None or sex is None or age is None:
            continue
        if row["exploitation_form"] != "_T" and (sex != "_T" or age != "_T"):
            continue
        value = row["value"]
        body.append([
            STRUCTURE, STRUCTURE_ID, ACTION, FREQ, REPORTING_TYPE, series, area, sex, age,
            row["time_period"],
            "" if value is None else format_number(value),
            OBS_STATUS[row["obs_status"]], UNIT_MEASURE, CONF_STATUS[row["conf_status"]],
        ])
    body.sort(key=lambda r: (r[5], r[6], r[7], r[8], r[9]))
    return out + body


def format_number(value: float) -> str:
    """A number as text: counts without a decimal part, other values in full (never rounded)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
