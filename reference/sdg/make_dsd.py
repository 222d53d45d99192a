"""Writes SDG_DSD_1.14.xml: the global SDG data structure (IAEG-SDGs:SDG, version 1.14, as the
SDMX Global Registry publishes it and the "Guidelines for the Global Data Structure Definition
for Sustainable Development Goals Indicators" describe it), with its code lists cut to the codes
indicator 16.2.2 and the coalition's members use.

Kept as written (``uv run python reference/sdg/make_dsd.py``), never generated at run time: the
export is checked against it (pipelines/lib/sdmx.py), so a code that is not in it fails. What was
kept from the published DSD, and how:

* every dimension, in its order and with its code list's id: FREQ, REPORTING_TYPE, SERIES,
  REF_AREA, SEX, AGE, URBANISATION, INCOME_WEALTH_QUANTILE, EDUCATION_LEV, OCCUPATION,
  CUST_BREAKDOWN, COMPOSITE_BREAKDOWN, DISABILITY_STATUS, ACTIVITY, PRODUCT, then TIME_PERIOD;
* every attribute, with its status (mandatory: OBS_STATUS, UNIT_MULT, UNIT_MEASURE; the rest
  conditional) and its attachment (UNIT_MEASURE, COMMENT_TS, GEO_INFO_*, CUST_BREAKDOWN_LB and
  DATA_LAST_UPDATE to the series, the rest to the observation);
* codes: the ten series of 16.2.2 (counts and rates per 100,000), the members' M49 codes as the
  SDG area list writes them (no leading zeros), SEX and AGE as published, ``_T`` for the
  breakdowns 16.2.2 does not use, and the codes of OBS_STATUS, UNIT_MULT, UNIT_MEASURE and NATURE
  the series can carry.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sdmx
from sdmx.message import StructureMessage
from sdmx.model import common
from sdmx.model import v21 as m

HERE = Path(__file__).resolve().parent
COUNTRIES = HERE.parents[1] / "data_contracts" / "countries.csv"
AGENCY, DSD_ID, VERSION = "IAEG-SDGs", "SDG", "1.14"

DIMENSIONS = {  # id: code list id
    "FREQ": "CL_FREQ", "REPORTING_TYPE": "CL_REPORTING_TYPE", "SERIES": "CL_SERIES",
    "REF_AREA": "CL_AREA", "SEX": "CL_SEX", "AGE": "CL_AGE", "URBANISATION": "CL_URBANISATION",
    "INCOME_WEALTH_QUANTILE": "CL_QUANTILE", "EDUCATION_LEV": "CL_EDUCATION_LEV",
    "OCCUPATION": "CL_OCCUPATION", "CUST_BREAKDOWN": "CL_CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN": "CL_COMP_BREAKDOWN", "DISABILITY_STATUS": "CL_DISABILITY",
    "ACTIVITY": "CL_ACTIVITY", "PRODUCT": "CL_PRODUCT",
}
ATTRIBUTES = {  # id: (mandatory, attached to the series, code list id or None: text)
    "OBS_STATUS": (True, False, "CL_OBS_STATUS"), "UNIT_MULT": (True, False, "CL_UNIT_MULT"),
    "UNIT_MEASURE": (True, True, "CL_UNIT_MEASURE"), "BASE_PER": (False, False, None),
    "NATURE": (False, False, "CL_NATURE"), "TIME_DETAIL": (False, False, None),
    "COMMENT_OBS": (False, False, None), "TIME_COVERAGE": (False, False, None),
    "UPPER_BOUND": (False, False, None), "LOWER_BOUND": (False, False, None),
    "SOURCE_DETAIL": (False, False, None), "COMMENT_TS": (False, True, None),
    "GEO_INFO_URL": (False, True, None), "GEO_INFO_TYPE": (False, True, "CL_GEO_INFO_TYPE"),
    "CUST_BREAKDOWN_LB": (False, True, None), "DATA_LAST_UPDATE": (False, True, None),
}
NOT_BROKEN_DOWN = {"_T": "Total or no breakdown"}


def codes() -> dict[str, dict[str, str]]:
    with COUNTRIES.open(encoding="utf-8") as f:
        areas = {str(int(r["m49"])): r["name_en"] for r in csv.DictReader(f)
                 if r["member"] == "True"}
    series = {
        "VC_HTF_DETV": "Detected victims of human trafficking (number)",
        "VC_HTF_DETVFL": "Detected victims of human trafficking for forced labour, servitude "
                         "and slavery (number)",
        "VC_HTF_DETVSX": "Detected victims of human trafficking for sexual exploitation, by "
                         "age and sex (number)",
        "VC_HTF_DETVOG": "Detected victims of human trafficking for removal of organ (number)",
        "VC_HTF_DETVOP": "Detected victims of human trafficking for other purposes (number)",
        "VC_HTF_DETVR": "Detected victims of human trafficking, by age and sex (per 100,000 "
                        "population)",
        "VC_HTF_DETVFLR": "Detected victims of human trafficking for forced labour, servitude "
                          "and slavery, by age and sex (per 100,000 population)",
        "VC_HTF_DETVSXR": "Detected victims of human trafficking for sexual exploitation, by "
                          "age and sex (per 100,000 population)",
        "VC_HTF_DETVOGR": "Detected victims of human trafficking for removal of organ, by age "
                          "and sex (per 100,000 population)",
        "VC_HTF_DETVOPR": "Detected victims of human trafficking for other purposes, by age and "
                          "sex (per 100,000 population)",
    }
    return {
        "CL_FREQ": {"A": "Annual"},
        "CL_REPORTING_TYPE": {"G": "Global", "N": "National", "R": "Regional"},
        "CL_SERIES": series,
        "CL_AREA": areas,
        "CL_SEX": {"_T": "Both sexes or no breakdown by sex", "F": "Female", "M": "Male",
                   "_N": "Not applicable", "_O": "Other", "_U": "Unknown", "_X": "Not reported"},
        "CL_AGE": {"_T": "All age ranges or no breakdown by age", "Y0T17": "Under 18 years old",
                   "Y_GE18": "18 years old and over"},
        **{cl: NOT_BROKEN_DOWN for cl in (
            "CL_URBANISATION", "CL_QUANTILE", "CL_EDUCATION_LEV", "CL_OCCUPATION",
            "CL_CUST_BREAKDOWN", "CL_COMP_BREAKDOWN", "CL_DISABILITY", "CL_ACTIVITY",
            "CL_PRODUCT")},
        "CL_OBS_STATUS": {"A": "Normal value", "E": "Estimated value", "P": "Provisional value",
                          "Q": "Missing value; suppressed"},
        "CL_UNIT_MULT": {"0": "Units"},
        "CL_UNIT_MEASURE": {"NUMBER": "Number", "PER_100000_POP": "Per 100,000 population"},
        "CL_NATURE": {"C": "Country data", "CA": "Country adjusted data", "E": "Estimated",
                      "G": "Global monitoring data", "M": "Modeled", "N": "Non-relevant",
                      "_X": "Not available"},
        "CL_GEO_INFO_TYPE": {"_T": "Not applicable"},
    }


def message() -> StructureMessage:
    agency = m.Agency(id=AGENCY)
    args = {"maintainer": agency, "version": VERSION, "is_final": True,
            "is_external_reference": False}
    lists = {}
    for cl_id, items in codes().items():
        cl = m.Codelist(id=cl_id, name={"en": cl_id}, **args)
        for code, name in items.items():
            cl.append(m.Code(id=code, name={"en": name}))
        lists[cl_id] = cl
    concepts = m.ConceptScheme(id="CS_SDG", name={"en": "SDG concepts"}, **args)
    for concept in (*DIMENSIONS, "TIME_PERIOD", "OBS_VALUE", *ATTRIBUTES):
        concepts.append(m.Concept(id=concept, name={"en": concept}))
    dsd = m.DataStructureDefinition(id=DSD_ID, name={"en": "SDG"}, **args)
    dsd.dimensions.id, dsd.attributes.id = "DimensionDescriptor", "AttributeDescriptor"
    dsd.measures.id = "MeasureDescriptor"
    for order, (dim, cl_id) in enumerate(DIMENSIONS.items(), start=1):
        dsd.dimensions.getdefault(dim, concept_identity=concepts[dim], order=order,
                                  local_representation=common.Representation(
                                      enumerated=lists[cl_id]))
    dsd.dimensions.getdefault(
        "TIME_PERIOD", cls=m.TimeDimension, order=len(DIMENSIONS) + 1,
        concept_identity=concepts["TIME_PERIOD"],
        local_representation=common.Representation(non_enumerated=[
            common.Facet(value_type=common.FacetValueType.observationalTimePeriod)]))
    dsd.measures.getdefault("OBS_VALUE", concept_identity=concepts["OBS_VALUE"])
    series_key = m.DimensionRelationship(dimensions=list(dsd.dimensions.components[:-1]))
    for attribute, (mandatory, on_series, cl_id) in ATTRIBUTES.items():
        representation = (common.Representation(enumerated=lists[cl_id]) if cl_id else
                          common.Representation(non_enumerated=[
                              common.Facet(value_type=common.FacetValueType.string)]))
        dsd.attributes.getdefault(
            attribute, concept_identity=concepts[attribute],
            related_to=series_key if on_series else m.PrimaryMeasureRelationship(),
            usage_status=m.UsageStatus.mandatory if mandatory else m.UsageStatus.conditional,
            local_representation=representation)
    flow = m.DataflowDefinition(id="DF_SDG_GLH", structure=dsd,
                                name={"en": "SDG indicators, global and national"}, **args)
    msg = StructureMessage()
    for item in (*lists.values(), concepts, dsd, flow):
        msg.add(item)
    return msg


if __name__ == "__main__":
    (HERE / "SDG_DSD_1.14.xml").write_bytes(sdmx.to_xml(message(), pretty_print=True))
