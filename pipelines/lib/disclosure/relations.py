"""What a reader of the published tables knows, as a :class:`~.audit.System` of linear relations.

Cells are the counts of ``marts.indicator_values`` (registry rule PRIMARY_SMALL_COUNT; a year and
the R4Q ending in its Q4 are one cell, as in dbt's ``disclosure_cell_id``) with their status in
``marts.indicator_values_published``, and the origin -> destination flows of
``internal.flows_victims_full`` (published when ``marts.flows_victims`` shows them).

Relations, each kept only where it holds on the true figures (a breakdown a member reported only in
part gives ``parts <= total``):

* the additive groups of ``internal.disclosure_constraints``: parts -> total along sex, age, form;
  members -> region; quarters -> rolling four quarters and year;
* every published rate, share, ratio and year-on-year change, through its definition
  (:data:`RATIOS`): numerator = value / multiplier x denominator;
* flows: the citizenships of the victims detected in a member add up to its total;
* the quality page's unknown shares (``marts.dq_unknown_shares``): unknown = share x total.

A cell withheld as detail of a small series (status N, ``internal.disclosure_withheld``) is in
every relation like any hidden cell, known only to be a count.

Rolling windows other than calendar years are not cells here. dbt publishes one (a count or a
flow) only where every quarter it spans is published, so a published window is the sum of
published quarters and every relation it enters (region, breakdown, rate) is the sum over its
quarters of relations stated here; a window over a hidden quarter is not published at all. Left
out, they no longer tie one year's quarters to the next, so the system falls apart by calendar
year: the audit's and the repair's linear programmes stay small however long the history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import duckdb
import numpy as np
from scipy import sparse

from pipelines.lib.disclosure.audit import PUBLISHED, UNSHOWN, WITHHELD, System

SAME = "="
REGION = "REG"

# Each ratio's definition in terms of cells of the same area and period: numerator and denominator
# terms (indicator, sex, age, form, sign); SAME takes the ratio row's own code; "flow:own",
# "flow:unknown", "flow:members" are the flows of the destination's own citizens, of unknown
# citizenship and of the other members' citizens. A denominator None is public (population), so a
# published rate gives its count away. ``lag``: the numerator's period less the denominator's, in
# years, for year-on-year changes (numerator: this year minus the base year).
VD, TC, TP, SD = "VIC_DETECTED", "TIP_CONVICTED", "TIP_PROSECUTED", "SOM_DETECTED"
PROFILE = [(VD, s, a, SAME, 1) for s in ("F", "M", "X") for a in ("Y0T17", "Y_GE18")]
RATIOS: dict[str, dict] = {
    "VIC_RATE_100K": {"num": [(VD, SAME, SAME, SAME, 1)], "den": None, "multiplier": 1e5},
    "VIC_FEMALE_SHARE": {"num": [(VD, "F", SAME, SAME, 1)],
                         "den": [(VD, s, SAME, SAME, 1) for s in ("F", "M", "X")]},
    "VIC_CHILD_SHARE": {"num": [(VD, SAME, "Y0T17", SAME, 1)],
                        "den": [(VD, SAME, a, SAME, 1) for a in ("Y0T17", "Y_GE18")]},
    "VIC_SEX_UNKNOWN_SHARE": {"num": [(VD, "_U", SAME, SAME, 1)], "den": [(VD, "_T", SAME, SAME, 1)]},
    "VIC_AGE_UNKNOWN_SHARE": {"num": [(VD, SAME, "_U", SAME, 1)], "den": [(VD, SAME, "_T", SAME, 1)]},
    "VIC_PROFILE_SHARE": {"num": [(VD, SAME, SAME, SAME, 1)], "den": PROFILE},
    "VIC_PROFILE_UNKNOWN_SHARE": {
        "num": [(VD, "_T", "_T", SAME, 1)] + [(c, s, a, f, -1) for c, s, a, f, _ in PROFILE],
        "den": [(VD, "_T", "_T", SAME, 1)]},
    "VIC_FORM_SHARE": {"num": [(VD, SAME, SAME, SAME, 1)],
                       "den": [(VD, SAME, SAME, "_T", 1), (VD, SAME, SAME, "_U", -1)]},
    "VIC_DOMESTIC_SHARE": {"num": [("flow:own", 1)],
                           "den": [(VD, "_T", "_T", "_T", 1), ("flow:unknown", -1)]},
    "VIC_FOREIGN_SHARE": {"num": [(VD, "_T", "_T", "_T", 1), ("flow:own", -1), ("flow:unknown", -1)],
                          "den": [(VD, "_T", "_T", "_T", 1), ("flow:unknown", -1)]},
    "VIC_INTRAREG_SHARE": {"num": [("flow:members", 1)],
                           "den": [(VD, "_T", "_T", "_T", 1), ("flow:own", -1), ("flow:unknown", -1)]},
    "VIC_CITIZENSHIP_UNKNOWN_SHARE": {"num": [("flow:unknown", 1)], "den": [(VD, "_T", "_T", "_T", 1)]},
    "VIC_ASSISTED_PER_VICTIM": {"num": [("VIC_ASSISTED", SAME, SAME, SAME, 1)],
                                "den": [(VD, SAME, SAME, SAME, 1)], "multiplier": 1.0},
    "TIP_PROSECUTED_RATE_100K": {"num": [(TP, SAME, SAME, SAME, 1)], "den": None, "multiplier": 1e5},
    "TIP_CONVICTED_RATE_100K": {"num": [(TC, SAME, SAME, SAME, 1)], "den": None, "multiplier": 1e5},
    "TIP_CONVICTION_RATIO": {"num": [(TC, SAME, SAME, SAME, 1)], "den": [(TP, SAME, SAME, SAME, 1)],
                             "multiplier": 1.0},
    "TIP_CONVICTED_PER_100_VIC": {"num": [(TC, SAME, SAME, SAME, 1)], "den": [(VD, SAME, SAME, SAME, 1)]},
    "TIP_CONVICTED_FEMALE_SHARE": {"num": [(TC, "F", SAME, SAME, 1)],
                                   "den": [(TC, s, SAME, SAME, 1) for s in ("F", "M", "X")]},
    "SOM_CHILD_SHARE": {"num": [(SD, SAME, "Y0T17", SAME, 1)],
                        "den": [(SD, SAME, a, SAME, 1) for a in ("Y0T17", "Y_GE18")]},
    "SOM_TIP_NEXUS_SHARE": {"num": [("SOM_TIP_VICTIMS", SAME, SAME, SAME, 1)],
                            "den": [(SD, SAME, SAME, SAME, 1)]},
    "SOM_CONVICTED_PER_1000_SOM": {"num": [("SOM_CONVICTED", SAME, SAME, SAME, 1)],
                                   "den": [(SD, SAME, SAME, SAME, 1)], "multiplier": 1e3},
}
for _code, _count in (("VIC_DETECTED_YOY", VD), ("TIP_PROSECUTED_YOY", TP),
                      ("TIP_CONVICTED_YOY", TC), ("SOM_DETECTED_YOY", SD)):
    RATIOS[_code] = {"num": [(_count, SAME, SAME, SAME, 1), (_count, SAME, SAME, SAME, -1, 1)],
                     "den": [(_count, SAME, SAME, SAME, 1, 1)]}
MULTIPLIERS = {"PERCENT": 100.0, "PER_100": 100.0, "PER_1000": 1e3, "RATIO": 1.0, "PER_100K": 1e5}
# Not in RATIOS (their terms are in no published table, so the ratio alone tells nothing more
# than its own numerator and denominator, which dbt's rule 3 keeps out of 1..4): VIC_SELF_ID_SHARE,
# TIP_CONVICTED_FOREIGN_SHARE, SOM_UNACC_CHILD_SHARE; REF_MIRROR_GAP is not linear (|sent -
# received|) and dbt hides it with any pair it rests on.


def cell_id(code: str, area: str, period: str, sex: str, age: str, form: str) -> str:
    """dbt's disclosure_cell_id: a year is written as the R4Q ending in its Q4."""
    if len(period) == 4:
        period = f"{period}-Q4-R4Q"
    return f"{code}|{area}|{period}|{sex}|{age}|{form}"


def flow_id(origin: str, destination: str, period: str) -> str:
    """FLOW|origin|destination|period|_T|_T|_T (flows_victims reads repairs by this id)."""
    return "FLOW|" + cell_id(origin, destination, period, "_T", "_T", "_T")


def is_window(period: str) -> bool:
    """A rolling window other than a calendar year ('2024-Q2-R4Q'; '2024-Q4-R4Q' is the year)."""
    return period.endswith("-R4Q") and not period.endswith("-Q4-R4Q")


def _shift_year(period: str, years: int) -> str:
    year = int(period[:4]) + years
    return f"{year}{period[4:]}"


class _Builder:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.truth: list[float] = []
        self.status: list[str] = []
        self.owner: list[str] = []
        self.rows: list[dict[int, float]] = []
        self.rhs: list[float] = []
        self.equality: list[bool] = []
        self.kinds: list[str] = []
        self.skipped: dict[str, int] = defaultdict(int)

    def add_cell(self, cid: str, truth: float, status: str, owner: str) -> None:
        if cid in self.index:  # a year and its R4Q twin: one cell
            # shown by either, it is known (and the same whichever row comes first)
            if status == PUBLISHED:
                self.status[self.index[cid]] = status
            return
        self.index[cid] = len(self.truth)
        self.truth.append(float(truth))
        self.status.append(status)
        self.owner.append(owner)

    def add_relation(self, terms: dict[str, float], rhs: float, kind: str) -> None:
        """``Σ coef · cell = rhs`` where it holds on the true figures; a sum of parts that falls
        short of its total (a breakdown reported in part) is kept as ``<=``."""
        if any(cid not in self.index for cid in terms):
            self.skipped[kind] += 1
            return
        row = {self.index[cid]: coef for cid, coef in terms.items() if coef}
        if not row:
            return
        value = sum(coef * self.truth[i] for i, coef in row.items())
        scale = max(1.0, abs(rhs), *(abs(coef * self.truth[i]) for i, coef in row.items()))
        if abs(value - rhs) <= 1e-7 * scale:
            equality = True
        elif value < rhs and kind.startswith("sum:"):
            equality = False
        else:
            self.skipped[kind] += 1
            return
        self.rows.append(row)
        self.rhs.append(rhs)
        self.equality.append(equality)
        self.kinds.append(kind)

    def system(self) -> System:
        """The cells in the order of their ids and the relations in an order of their own terms,
        whatever order the warehouse returned the rows in (a query without ``order by`` may
        change it from run to run): the LPs, and so the cells the repair picks, are the same
        for the same figures."""
        ids = list(self.index)
        order = sorted(range(len(ids)), key=ids.__getitem__)
        position = np.empty(len(ids), dtype=np.int64)
        position[order] = np.arange(len(ids))
        keyed = []
        for row, rhs, equality, kind in zip(self.rows, self.rhs, self.equality, self.kinds,
                                            strict=True):
            terms = sorted((int(position[c]), coef) for c, coef in row.items())
            keyed.append(((kind, terms, rhs, equality), terms))
        keyed.sort(key=lambda item: item[0])
        data, row_index, col_index = [], [], []
        for r, (_, terms) in enumerate(keyed):
            for c, coef in terms:
                row_index.append(r)
                col_index.append(c)
                data.append(coef)
        matrix = sparse.csr_matrix((data, (row_index, col_index)),
                                   shape=(len(keyed), len(ids)))
        return System(
            ids=[ids[i] for i in order], truth=np.array(self.truth)[order],
            status=np.array(self.status)[order], owner=np.array(self.owner)[order],
            relations=matrix, rhs=np.array([key[2] for key, _ in keyed]),
            equality=np.array([key[3] for key, _ in keyed], dtype=bool),
            relation_kinds=[key[0] for key, _ in keyed])


def build_system(con: duckdb.DuckDBPyConnection, min_count: int) -> tuple[System, dict[str, int]]:
    """The attacker's knowledge of what the warehouse's published marts show.

    Returns the system and, per kind of relation, how many were left out because they do not hold
    on the true figures (a definition in :data:`RATIOS` that disagrees with dbt shows up there).
    """
    builder = _Builder()
    members = {row[0] for row in con.execute("select iso3 from marts.dim_country where member").fetchall()}

    def owner_of(area: str) -> str:
        return "" if area == REGION else area

    counts = con.execute(
        """
        select v.indicator_code, v.ref_area, v.time_period, v.sex, v.age, v.exploitation_form,
               v.value, p.conf_status
        from marts.indicator_values as v
        inner join marts.dim_indicator as i
            on i.indicator_code = v.indicator_code and i.disclosure_rule = 'PRIMARY_SMALL_COUNT'
        inner join marts.indicator_values_published as p
            on p.indicator_code = v.indicator_code and p.ref_area = v.ref_area
            and p.time_period = v.time_period and p.sex = v.sex and p.age = v.age
            and p.exploitation_form = v.exploitation_form
        """).fetchall()
    for code, area, period, sex, age, form, value, status in counts:
        if is_window(period):
            continue
        builder.add_cell(cell_id(code, area, period, sex, age, form), value, status, owner_of(area))

    _add_flows(con, builder, min_count, owner_of)

    for margin, dimension, parts in con.execute(
        "select margin_id, dimension, list(part_id) from internal.disclosure_constraints "
        "group by margin_id, dimension"
    ).fetchall():
        if is_window(margin.split("|")[2]):
            continue  # a warehouse dbt has not rebuilt since windows left the groups
        terms = {part: 1.0 for part in parts}
        terms[margin] = terms.get(margin, 0.0) - 1.0
        builder.add_relation(terms, 0.0, f"sum:{dimension}")

    _add_ratios(con, builder, members)
    _add_unknown_shares(con, builder)
    return known_before(builder.system(), published_before(con)), dict(builder.skipped)


def published_before(con: duckdb.DuckDBPyConnection) -> set[tuple[str, float]]:
    """Every (cell, value) an earlier publication showed (``disclosure.published_values``, which
    the gate fills as it lets a build through); none in a warehouse without that table."""
    if not con.execute("select count(*) from information_schema.tables where table_catalog = "
                       "current_database() and table_schema = 'disclosure' "
                       "and table_name = 'published_values'").fetchone()[0]:
        return set()
    return {(cid, float(value)) for cid, value in
            con.execute("select cell_id, value from disclosure.published_values").fetchall()}


def known_before(system: System, published: set[tuple[str, float]]) -> System:
    """``system`` as a reader who kept every earlier snapshot sees it: a cell whose true value one
    of them showed is known (status F) even where this build hides it, and is ``fixed``: hiding it
    again protects nothing. A reader comparing two snapshots learns the parts that did not change;
    here they are constants, so a revision's differences are audited like any other margin.
    (The relations of the earlier snapshots among cells whose values changed are not kept.)"""
    fixed = np.array([(cid, float(value)) in published
                      for cid, value in zip(system.ids, system.truth, strict=True)], dtype=bool)
    if not fixed.any():
        return system
    return replace(system, status=np.where(fixed, PUBLISHED, system.status), fixed=fixed)


def _add_flows(con, builder: _Builder, min_count: int, owner_of) -> None:
    """Flow cells (citizenship -> member of detection) and their sum against the total."""
    flows = con.execute(
        """
        select f.origin_area, f.destination_area, f.time_period, f.victims,
               p.victims is not null as shown
        from internal.flows_victims_full as f
        left join marts.flows_victims as p
            on p.origin_area = f.origin_area and p.destination_area = f.destination_area
            and p.time_period = f.time_period
        """).fetchall()
    try:
        withheld = {row[0] for row in con.execute(
            "select cell_id from internal.disclosure_withheld where cell_id like 'FLOW|%'").fetchall()}
    except duckdb.CatalogException:  # a warehouse dbt has not built since the design came in
        withheld = set()
    by_destination: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_year: dict[str, list[str]] = defaultdict(list)
    for origin, destination, period, victims, shown in flows:
        if is_window(period):
            continue
        fid = flow_id(origin, destination, period)
        # A flow under 5 is left out of the mart, so its absence says 0..4 (UNSHOWN; a 0 is no
        # one's secret); unknown citizenship and a withheld destination's flows are left out
        # whatever their size (known only as counts), and a flow the repair hid is secondary.
        if shown:
            status = PUBLISHED
        elif fid in withheld or origin == "_U":
            status = WITHHELD
        else:
            status = UNSHOWN if victims < min_count else "D"
        builder.add_cell(fid, victims, status, owner_of(destination))
        by_destination[(destination, period)].append(fid)
        if len(period) == 7:  # a quarter: part of its calendar year
            by_year[flow_id(origin, destination, period[:4])].append(fid)
    # A flow with no victims has no row, but a reader cannot tell it from a small one left out:
    # a quarter of a flow whose year has victims is a cell like any unshown flow (0..4), and so
    # is unknown citizenship (never shown), or the attacker would seem to know they are 0.
    for year, quarters in by_year.items():
        if year not in builder.index:
            continue
        _, origin, destination, period = year.split("|")[:4]
        for q in range(1, 5):
            quarter = flow_id(origin, destination, f"{period[:4]}-Q{q}")
            if quarter not in builder.index:
                builder.add_cell(quarter, 0.0, WITHHELD if origin == "_U" else UNSHOWN,
                                 owner_of(destination))
                by_destination[(destination, quarter.split("|")[3])].append(quarter)
                quarters.append(quarter)
        terms = {fid: 1.0 for fid in set(quarters)}
        terms[year] = -1.0
        builder.add_relation(terms, 0.0, "sum:time_period")
    for (destination, period), parts in by_destination.items():
        unknown = flow_id("_U", destination, period)
        if unknown not in builder.index:
            builder.add_cell(unknown, 0.0, WITHHELD, owner_of(destination))
            parts.append(unknown)
        terms = {fid: 1.0 for fid in set(parts)}
        terms[cell_id(VD, destination, period, "_T", "_T", "_T")] = -1.0
        builder.add_relation(terms, 0.0, "sum:citizenship")


def _flow_terms(kind: str, area: str, period: str, members: set[str], builder: _Builder) -> list[str]:
    if kind == "flow:own":
        return [flow_id(area, area, period)]
    if kind == "flow:unknown":
        return [flow_id("_U", area, period)]
    return [fid for origin in sorted(members - {area})
            if (fid := flow_id(origin, area, period)) in builder.index]


def _add_ratios(con, builder: _Builder, members: set[str]) -> None:
    rows = con.execute(
        "select indicator_code, ref_area, time_period, sex, age, exploitation_form, value, unit "
        "from marts.indicator_values_published where conf_status = 'F' and value is not null "
        f"and indicator_code in ({', '.join('?' for _ in RATIOS)})",
        list(RATIOS),
    ).fetchall()
    for code, area, period, sex, age, form, value, unit in rows:
        if is_window(period):
            # Published only over published counts (rule 3; the shares resting on flows are not
            # published for these windows): the sum of what its quarters' counts say.
            continue
        definition = RATIOS[code]
        multiplier = definition.get("multiplier", MULTIPLIERS.get(unit, 100.0))
        own = {"sex": sex, "age": age, "form": form}

        def resolve(terms, area=area, period=period, own=own):
            out: dict[str, float] = defaultdict(float)
            for term in terms:
                if isinstance(term[0], str) and term[0].startswith("flow:"):
                    if area == REGION:
                        return None  # the region's citizenship mix: no flow cells
                    for fid in _flow_terms(term[0], area, period, members, builder):
                        out[fid] += term[1]
                    continue
                code_, s, a, f, sign = term[:5]
                lag = term[5] if len(term) > 5 else 0
                cid = cell_id(code_, area, _shift_year(period, -lag) if lag else period,
                              own["sex"] if s == SAME else s, own["age"] if a == SAME else a,
                              own["form"] if f == SAME else f)
                out[cid] += sign
            return out

        numerator = resolve(definition["num"])
        if numerator is None:
            continue
        if definition["den"] is None:
            # count = rate x population / multiplier: the population is public, so the count is
            # known to whoever reads the rate (its true value, when the relation holds).
            known = sum(coef * builder.truth[builder.index[c]] for c, coef in numerator.items()
                        if c in builder.index)
            builder.add_relation(dict(numerator), known, f"ratio:{code}")
            continue
        denominator = resolve(definition["den"])
        if denominator is None:
            continue
        factor = value / multiplier
        terms = dict(numerator)
        for cid, coef in denominator.items():
            terms[cid] = terms.get(cid, 0.0) - factor * coef
        builder.add_relation(terms, 0.0, f"ratio:{code}")


def _add_unknown_shares(con, builder: _Builder) -> None:
    """The quality page's unknown shares: unknown = share / 100 x total, for sex and age of the
    indicators the mart publishes as counts (citizenship: the flows of unknown citizenship)."""
    rows = con.execute(
        "select country, period, indicator, dimension, unknown_share from marts.dq_unknown_shares "
        "where unknown_share is not null").fetchall()
    for country, period, indicator, dimension, share in rows:
        if dimension == "citizenship":
            unknown = flow_id("_U", country, period)
            total = cell_id(indicator, country, period, "_T", "_T", "_T")
        else:
            codes = {"sex": ("_U", "_T"), "age": ("_T", "_U")}[dimension]
            unknown = cell_id(indicator, country, period, *codes, "_T")
            total = cell_id(indicator, country, period, "_T", "_T", "_T")
        builder.add_relation({unknown: 1.0, total: -share / 100.0}, 0.0, "share:dq_unknown")
