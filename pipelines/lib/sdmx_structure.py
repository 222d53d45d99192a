"""The observatory's own SDMX structures and data messages (SDMX-ML 2.1), built with ``sdmx1``.

Everything comes from the registry (``dbt_project/seeds/indicator_registry.csv``), the code lists
of ``data_contracts/`` and the members of ``countries.csv``: never written by hand. One data
structure definition holds every indicator value; each indicator family (the data set an
indicator is computed from) has its dataflow, restricted to its indicators by a content
constraint. Names are in es, en and fr.

    INDICATOR . REF_AREA . FREQ . SEX . AGE . EXPLOITATION_FORM   (then TIME_PERIOD)
    OBS_VALUE, with OBS_STATUS, CONF_STATUS and UNIT_MEASURE attached to each observation

A hidden cell is an observation without OBS_VALUE whose CONF_STATUS says why (A, D or N).
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache

import sdmx
from sdmx.message import DataMessage, StructureMessage
from sdmx.model import common
from sdmx.model import v21 as m

from pipelines.lib.contracts import CONTRACTS_DIR, load_contracts
from pipelines.lib.i18n import LANGUAGES, t
from pipelines.settings import DBT_PROJECT_DIR

AGENCY_ID = "RCTPSM"
VERSION = "1.0"
DSD_ID = "DSD_INDICATORS"
DIMENSIONS = ("INDICATOR", "REF_AREA", "FREQ", "SEX", "AGE", "EXPLOITATION_FORM")
COLUMNS = {"INDICATOR": "indicator_code", "REF_AREA": "ref_area", "FREQ": "freq", "SEX": "sex",
           "AGE": "age", "EXPLOITATION_FORM": "exploitation_form"}
ATTRIBUTES = ("OBS_STATUS", "CONF_STATUS", "UNIT_MEASURE")
REGION = "REG"
OTHER_FAMILY = "REPORTING"  # indicators computed from no one data set (reporting rates)
FLOW_PREFIX = "DF_"


def _names(key: str) -> dict[str, str]:
    return {lang: t(key, lang) for lang in LANGUAGES}


def _registry() -> list[dict]:
    with (DBT_PROJECT_DIR / "seeds" / "indicator_registry.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _members() -> list[dict]:
    with (CONTRACTS_DIR / "countries.csv").open(encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["member"] == "True"]


def family_of(row: dict) -> str:
    return row["dataset"] or OTHER_FAMILY


@cache
def structures() -> dict:
    """The artefacts by kind: agency, codelists, concept scheme, DSD, dataflows, constraints."""
    agency = m.Agency(id=AGENCY_ID, name=_names("sdmx.agency"))
    # is_external_reference written out: sdmx1 leaves it as "none", which the SDMX-ML 2.1 schema
    # refuses (tests/api validates every message against the official schemas).
    common_args = {"maintainer": agency, "version": VERSION, "is_final": True,
                   "is_external_reference": False}
    registry = _registry()
    contracts = load_contracts()

    def codelist(cl_id: str, codes: dict[str, dict[str, str]]) -> m.Codelist:
        cl = m.Codelist(id=cl_id, name=_names(f"sdmx.codelist.{cl_id}"), **common_args)
        for code, names in codes.items():
            cl.append(m.Code(id=code, name={lang: names.get(lang) or names["en"]
                                            for lang in LANGUAGES}))
        return cl

    def labels(name: str) -> dict[str, dict[str, str]]:
        return {code: dict(names) for code, names in contracts.codelists[name].labels.items()}

    codelists = {
        "CL_INDICATOR": codelist("CL_INDICATOR", {
            row["indicator_code"]: {lang: row[f"name_{lang}"] for lang in LANGUAGES}
            for row in registry}),
        "CL_AREA": codelist("CL_AREA", {
            **{row["iso3"]: {lang: row[f"name_{lang}"] for lang in LANGUAGES}
               for row in _members()},
            REGION: _names("sdmx.area.REG")}),
        "CL_FREQ": codelist("CL_FREQ", {code: _names(f"dash.freq.{code}")
                                        for code in ("Q", "R4Q", "A")}),
        "CL_SEX": codelist("CL_SEX", labels("SEX")),
        "CL_AGE": codelist("CL_AGE", labels("AGE")),
        "CL_EXPLOITATION_FORM": codelist("CL_EXPLOITATION_FORM", labels("EXPLOITATION_FORM")),
        "CL_OBS_STATUS": codelist("CL_OBS_STATUS", {code: _names(f"sdmx.obs_status.{code}")
                                                    for code in ("A", "P")}),
        "CL_CONF_STATUS": codelist("CL_CONF_STATUS", {code: _names(f"sdmx.conf_status.{code}")
                                                      for code in ("F", "A", "D", "N")}),
        "CL_UNIT_MEASURE": codelist("CL_UNIT_MEASURE", {
            unit: _names(f"sdmx.unit.{unit}") for unit in sorted({r["unit"] for r in registry})}),
    }
    concepts = m.ConceptScheme(id="CS_OBSERVATORY", name=_names("sdmx.concepts"), **common_args)
    for concept in (*DIMENSIONS, "TIME_PERIOD", "OBS_VALUE", *ATTRIBUTES):
        concepts.append(m.Concept(id=concept, name=_names(f"sdmx.concept.{concept}")))

    dsd = m.DataStructureDefinition(id=DSD_ID, name=_names("sdmx.dsd"), **common_args)
    # The lists' fixed ids (the schema refuses them empty).
    dsd.dimensions.id, dsd.attributes.id = "DimensionDescriptor", "AttributeDescriptor"
    dsd.measures.id = "MeasureDescriptor"
    enumerated = {"INDICATOR": "CL_INDICATOR", "REF_AREA": "CL_AREA", "FREQ": "CL_FREQ",
                  "SEX": "CL_SEX", "AGE": "CL_AGE", "EXPLOITATION_FORM": "CL_EXPLOITATION_FORM",
                  "OBS_STATUS": "CL_OBS_STATUS", "CONF_STATUS": "CL_CONF_STATUS",
                  "UNIT_MEASURE": "CL_UNIT_MEASURE"}
    for order, dim in enumerate(DIMENSIONS, start=1):
        dsd.dimensions.getdefault(dim, concept_identity=concepts[dim], order=order,
                                  local_representation=common.Representation(
                                      enumerated=codelists[enumerated[dim]]))
    dsd.dimensions.getdefault("TIME_PERIOD", cls=m.TimeDimension, order=len(DIMENSIONS) + 1,
                              concept_identity=concepts["TIME_PERIOD"],
                              local_representation=common.Representation(non_enumerated=[
                                  common.Facet(value_type=common.FacetValueType.observationalTimePeriod)]))
    dsd.measures.getdefault("OBS_VALUE", concept_identity=concepts["OBS_VALUE"])
    for attribute in ATTRIBUTES:
        dsd.attributes.getdefault(
            attribute, concept_identity=concepts[attribute],
            related_to=m.PrimaryMeasureRelationship(),
            usage_status=m.UsageStatus.conditional if attribute == "OBS_STATUS"
            else m.UsageStatus.mandatory,
            local_representation=common.Representation(
                enumerated=codelists[enumerated[attribute]]))

    flows, constraints = {}, {}
    for family in sorted({family_of(r) for r in registry}):
        flow = m.DataflowDefinition(id=f"{FLOW_PREFIX}{family}", structure=dsd,
                                    name=_names(f"sdmx.flow.{family}"), **common_args)
        flows[flow.id] = flow
        indicators = [r["indicator_code"] for r in registry if family_of(r) == family]
        region = m.CubeRegion(included=True, member={
            dsd.dimensions.get("INDICATOR"): m.MemberSelection(
                values_for=dsd.dimensions.get("INDICATOR"),
                values=[m.MemberValue(value=code) for code in indicators])})
        constraints[f"CC_{family}"] = m.ContentConstraint(
            id=f"CC_{family}", name=_names(f"sdmx.flow.{family}"),
            role=m.ConstraintRole(role=m.ConstraintRoleType.allowable),
            content={flow}, data_content_region=[region], **common_args)
    return {"agency": agency, "codelist": codelists, "concept_scheme": concepts, "dsd": dsd,
            "dataflow": flows, "constraint": constraints,
            "indicators": {f: [r["indicator_code"] for r in registry if family_of(r) == f]
                           for f in {family_of(r) for r in registry}}}


def structure_message(kind: str = "all", resource_id: str = "all") -> StructureMessage | None:
    """The structures a REST query asks for (kind: ``dataflow``, ``datastructure``,
    ``codelist``, ``conceptscheme`` or ``all``); with its references, as SDMX REST answers
    ``references=all`` (a client reading a dataflow gets its structure too). None: no such id."""
    s = structures()
    msg = StructureMessage()
    if kind in ("dataflow", "all"):
        flows = [f for i, f in s["dataflow"].items() if resource_id in ("all", i)]
        if not flows and kind == "dataflow":
            return None
        for flow in flows:
            msg.add(flow)
        for constraint in s["constraint"].values():
            if any(flow in constraint.content for flow in flows):
                msg.add(constraint)
    if kind == "datastructure" and resource_id not in ("all", DSD_ID):
        return None
    if kind == "codelist":
        lists = [c for i, c in s["codelist"].items() if resource_id in ("all", i)]
        if not lists:
            return None
        for cl in lists:
            msg.add(cl)
        return msg
    if kind == "conceptscheme":
        if resource_id not in ("all", s["concept_scheme"].id):
            return None
        msg.add(s["concept_scheme"])
        return msg
    if kind not in ("dataflow", "datastructure", "all"):
        return None
    msg.add(s["dsd"])
    msg.add(s["concept_scheme"])
    for cl in s["codelist"].values():
        msg.add(cl)
    return msg


def to_xml(message) -> bytes:
    xml = sdmx.to_xml(message, pretty_print=False)
    if isinstance(message, DataMessage):
        # SDMX-ML 2.1 requires dimensionAtObservation in a structure-specific header; sdmx1
        # writes it only for a single dimension, not for AllDimensions (a flat message).
        # Its namespace attribute is required too: the URN of the DSD's structure-specific schema.
        tag = f'<mes:Structure structureID="{DSD_ID}"'.encode()
        namespace = (f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY_ID}:"
                     f"{DSD_ID}({VERSION}):ObsLevelDim:AllDimensions")
        xml = xml.replace(tag, tag + f' namespace="{namespace}" '
                          'dimensionAtObservation="AllDimensions"'.encode(), 1)
    return xml


def data_message(flow_id: str, rows: list[dict]) -> DataMessage:
    """Published rows (the mart's columns) as a structure-specific data message of ``flow_id``."""
    s = structures()
    dsd = s["dsd"]
    flow = s["dataflow"][flow_id]
    measure = dsd.measures.get("OBS_VALUE")
    attributes = {a: dsd.attributes.get(a) for a in ATTRIBUTES}
    data = m.StructureSpecificDataSet(structured_by=dsd, described_by=flow)
    observations = []
    for row in rows:
        key = dsd.make_key(m.Key, {**{dim: row[column] for dim, column in COLUMNS.items()},
                                   "TIME_PERIOD": row["time_period"]})
        attached = {"CONF_STATUS": m.AttributeValue(value=row["conf_status"],
                                                    value_for=attributes["CONF_STATUS"]),
                    "UNIT_MEASURE": m.AttributeValue(value=row["unit"],
                                                     value_for=attributes["UNIT_MEASURE"])}
        if row.get("obs_status"):
            attached["OBS_STATUS"] = m.AttributeValue(value=row["obs_status"],
                                                      value_for=attributes["OBS_STATUS"])
        observations.append(m.Observation(dimension=key, value=row["value"], value_for=measure,
                                          attached_attribute=attached))
    data.add_obs(observations)
    return DataMessage(data=[data], dataflow=flow, observation_dimension=m.AllDimensions)


def sdmx_csv(flow_id: str, rows: list[dict]) -> bytes:
    """The same observations as SDMX-CSV 2.0 (one row each, hidden values empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "TIME_PERIOD",
                     "OBS_VALUE", *ATTRIBUTES])
    for row in rows:
        writer.writerow(["dataflow", f"{AGENCY_ID}:{flow_id}({VERSION})", "I",
                         *(row[COLUMNS[d]] for d in DIMENSIONS), row["time_period"],
                         "" if row["value"] is None else row["value"],
                         row.get("obs_status") or "", row["conf_status"], row["unit"]])
    return out.getvalue().encode("utf-8")


def sdmx_json(flow_id: str, rows: list[dict], lang: str, prepared: str,
              version: str = "1.0") -> bytes:
    """The same observations as an SDMX-JSON data message, flat (every dimension at the
    observation): 1.0.0 for the SDMX 2.1 REST API, 2.0.0 for 3.0. Written here, as no maintained
    Python library writes SDMX-JSON data (sdmx1 reads 1.0, which the tests use to read it back).
    Each observation is ``[value, OBS_STATUS, CONF_STATUS, UNIT_MEASURE]``, the last three as
    indexes into the attribute's values (null: none); a hidden value is null."""
    s = structures()
    names = {**{d: s["codelist"][f"CL_{'AREA' if d == 'REF_AREA' else d}"]
                for d in DIMENSIONS},
             "OBS_STATUS": s["codelist"]["CL_OBS_STATUS"],
             "CONF_STATUS": s["codelist"]["CL_CONF_STATUS"],
             "UNIT_MEASURE": s["codelist"]["CL_UNIT_MEASURE"]}
    concepts = s["concept_scheme"]

    def label(item) -> str:
        return item.name.localizations.get(lang) or item.name.localizations.get("en") or item.id

    def component(dim: str, values: list[str], position: int | None = None) -> dict:
        codes = names.get(dim)
        out = {"id": dim, "name": label(concepts[dim]),
               "values": [{"id": v, "name": label(codes[v]) if codes is not None and v in codes
                           else v} for v in values]}
        if position is not None:
            out["keyPosition"] = position
        if dim == "TIME_PERIOD":
            out["role"] = "time"
        return out

    fields = {**{d: COLUMNS[d] for d in DIMENSIONS}, "TIME_PERIOD": "time_period"}
    dims = [*DIMENSIONS, "TIME_PERIOD"]
    values = {d: sorted({row[fields[d]] for row in rows}) for d in dims}
    index = {d: {v: i for i, v in enumerate(values[d])} for d in dims}
    attribute_fields = {"OBS_STATUS": "obs_status", "CONF_STATUS": "conf_status",
                        "UNIT_MEASURE": "unit"}
    attr_values = {a: sorted({row.get(f) for row in rows if row.get(f)})
                   for a, f in attribute_fields.items()}
    attr_index = {a: {v: i for i, v in enumerate(vs)} for a, vs in attr_values.items()}
    observations = {}
    for row in rows:
        key = ":".join(str(index[d][row[fields[d]]]) for d in dims)
        observations[key] = [row["value"], *(attr_index[a].get(row.get(f))
                                             for a, f in attribute_fields.items())]
    header = {"id": f"{flow_id}-{''.join(c for c in prepared if c.isdigit())}", "test": False,
              "prepared": prepared, "sender": {"id": AGENCY_ID, "name": label(s["agency"])}}
    observation_dims = [component(d, values[d], position) for position, d in enumerate(dims)]
    observation_attrs = [component(a, attr_values[a]) for a in attribute_fields]
    data_set = {"action": "Information", "observations": observations}
    if version == "1.0":
        structure = {"name": label(s["dataflow"][flow_id]),
                     "dimensions": {"dataset": [], "series": [], "observation": observation_dims},
                     "attributes": {"dataset": [], "series": [], "observation": observation_attrs}}
        message = {"header": header, "structure": structure, "dataSets": [data_set]}
    else:
        urn = ("urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow="
               f"{AGENCY_ID}:{flow_id}({VERSION})")
        for attribute in observation_attrs:
            attribute["relationship"] = {"observation": {}}
        structure = {"name": label(s["dataflow"][flow_id]), "dataSets": [0],
                     "links": [{"rel": "dataflow", "urn": urn}],
                     "dimensions": {"observation": observation_dims},
                     "measures": {"observation": [{"id": "OBS_VALUE",
                                                   "name": label(concepts["OBS_VALUE"])}]},
                     "attributes": {"observation": observation_attrs}}
        message = {"meta": {**header, "contentLanguages": [lang],
                            "schema": "https://json.sdmx.org/2.0.0/sdmx-json-data-schema.json"},
                   "data": {"structures": [structure],
                            "dataSets": [{"structure": 0, "links": [{"rel": "dataflow",
                                                                    "urn": urn}],
                                          **data_set}]}}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- SDMX 3.0: the same structures and data as SDMX-ML 3.0 and SDMX-JSON 2.0 --------------------
# pysdmx (the BIS library) writes both; it reads the SDMX-ML 2.1 above (checking it against the
# official schemas), so the structures are defined once, in sdmx1's model.

@cache
def _pysdmx_structures() -> tuple:
    import msgspec
    from pysdmx.io import read_sdmx

    # The URNs read from 2.1 name its classes (ContentConstraint, ...); 3.0 names others, and a
    # writer derives them anyway.
    prefix = "urn:sdmx:org.sdmx.infomodel.datastructure."
    out = []
    for item in read_sdmx(to_xml(structure_message("all", "all")).decode("utf-8")).structures:
        item = msgspec.structs.replace(item, urn=None)
        if isinstance(getattr(item, "structure", None), str) and not item.structure.startswith("urn:"):
            item = msgspec.structs.replace(item, structure=prefix + item.structure)  # a full URN
        out.append(item)
    return tuple(out)


def _header(prepared: str):
    import datetime as dt

    from pysdmx.model import Organisation
    from pysdmx.model.message import Header

    return Header(id=f"{AGENCY_ID}-{''.join(c for c in prepared if c.isdigit())}",
                  sender=Organisation(id=AGENCY_ID),
                  prepared=dt.datetime.fromisoformat(prepared.replace("Z", "+00:00")))


def structure_message_30(kind: str, resource_id: str, prepared: str, json_format: bool) -> str | None:
    """The structures :func:`structure_message` selects, as SDMX-ML 3.0 or SDMX-JSON 2.0."""
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format

    selected = structure_message(kind, resource_id)
    if selected is None:
        return None
    wanted = {(type(o).__name__, o.id) for o in selected.iter_objects()}
    kinds = {"DataflowDefinition": "Dataflow", "DataStructureDefinition": "DataStructureDefinition",
             "Codelist": "Codelist", "ConceptScheme": "ConceptScheme",
             "ContentConstraint": "DataConstraint"}
    wanted = {(kinds.get(name, name), id_) for name, id_ in wanted}
    artefacts = [s for s in _pysdmx_structures() if (type(s).__name__, s.id) in wanted]
    if not json_format:
        return write_sdmx(artefacts, sdmx_format=Format.STRUCTURE_SDMX_ML_3_0, prettyprint=False,
                          header=_header(prepared))
    message = json.loads(write_sdmx(artefacts, sdmx_format=Format.STRUCTURE_SDMX_JSON_2_0_0,
                                    prettyprint=False, header=_header(prepared)))
    for dsd in message["data"].get("dataStructures", []):
        # pysdmx writes "groups": [] for a structure without groups; the schema wants it absent
        if not dsd.get("dataStructureComponents", {}).get("groups", True):
            del dsd["dataStructureComponents"]["groups"]
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def data_message_30(flow_id: str, rows: list[dict], prepared: str) -> str:
    """Published rows as an SDMX-ML 3.0 structure-specific data message of ``flow_id``."""
    import pandas as pd
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.io.pd import PandasDataset

    dsd = next(s for s in _pysdmx_structures() if type(s).__name__ == "DataStructureDefinition")
    frame = pd.DataFrame(
        [{**{dim: row[column] for dim, column in COLUMNS.items()},
          "TIME_PERIOD": row["time_period"],
          "OBS_VALUE": "" if row["value"] is None else str(row["value"]),
          "OBS_STATUS": row.get("obs_status") or "", "CONF_STATUS": row["conf_status"],
          "UNIT_MEASURE": row["unit"]} for row in rows],
        columns=[*DIMENSIONS, "TIME_PERIOD", "OBS_VALUE", *ATTRIBUTES], dtype=str)
    from pysdmx.model import Schema

    components = dsd.to_schema().components
    schema = Schema(context="dataflow", agency=AGENCY_ID, id=flow_id, version=VERSION,
                    components=components)
    dataset = PandasDataset(structure=schema, data=frame)
    return write_sdmx([dataset], sdmx_format=Format.DATA_SDMX_ML_3_0, prettyprint=False,
                      header=_header(prepared), dimension_at_observation="AllDimensions")
