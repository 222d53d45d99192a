"""What the audit takes a reader to know (pipelines/lib/disclosure/relations.py), read from a
hand-made warehouse holding only the tables it reads.

HND's victims are the rolling chain the disclosure issue found (2023: 16, 0, 6, 6; 2024: 12, 5, 4,
2), with the windows ending 2024-Q1..Q3 in the mart. CRI's victims of Guatemalan citizenship:
2023-Q1 5 (shown), 2023-Q2 2 (under 5, left out), none in Q3 and Q4, the year 7 (shown).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from pipelines.lib.disclosure.audit import attacker_view, audit, restrict
from pipelines.lib.disclosure.relations import build_system, flow_id

MIN_COUNT = 5
QUARTERS = {"2023-Q1": (16, "F"), "2023-Q2": (0, "F"), "2023-Q3": (6, "D"), "2023-Q4": (6, "D"),
            "2024-Q1": (12, "F"), "2024-Q2": (5, "F"), "2024-Q3": (4, "A"), "2024-Q4": (2, "A")}
WINDOWS = {"2024-Q1-R4Q": 24, "2024-Q2-R4Q": 29, "2024-Q3-R4Q": 27}


def cid(period: str) -> str:
    return f"VIC_DETECTED|HND|{period}|_T|_T|_T"


@pytest.fixture
def con():
    con = duckdb.connect()
    for schema in ("marts", "internal"):
        con.execute(f"create schema {schema}")
    con.execute("create table marts.dim_country as select * from (values ('HND', true), "
                "('CRI', true), ('GTM', true)) t(iso3, member)")
    con.execute("create table marts.dim_indicator as select 'VIC_DETECTED' as indicator_code, "
                "'PRIMARY_SMALL_COUNT' as disclosure_rule")
    rows = [(p, v, s) for p, (v, s) in QUARTERS.items()]
    rows += [("2023", 28, "F"), ("2023-Q4-R4Q", 28, "F"), ("2024", 23, "F"), ("2024-Q4-R4Q", 23, "F")]
    rows += [(p, v, "F") for p, v in WINDOWS.items()]
    con.execute("create table marts.indicator_values (indicator_code varchar, ref_area varchar, "
                "time_period varchar, sex varchar, age varchar, exploitation_form varchar, "
                "value double)")
    con.execute("create table marts.indicator_values_published as select *, '' as conf_status, "
                "'PERSONS' as unit from marts.indicator_values")
    for period, value, status in rows:
        key = ("VIC_DETECTED", "HND", period, "_T", "_T", "_T")
        con.execute("insert into marts.indicator_values values (?, ?, ?, ?, ?, ?, ?)", [*key, value])
        con.execute("insert into marts.indicator_values_published values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [*key, value if status == "F" else None, status, "PERSONS"])
    con.execute("create table internal.disclosure_constraints (margin_id varchar, dimension varchar, "
                "part_id varchar)")
    for year in ("2023", "2024"):
        for quarter in range(1, 5):
            con.execute("insert into internal.disclosure_constraints values (?, 'time_period', ?)",
                        [cid(f"{year}-Q4-R4Q"), cid(f"{year}-Q{quarter}")])
    flows = [("GTM", "CRI", "2023-Q1", 5.0), ("GTM", "CRI", "2023-Q2", 2.0), ("GTM", "CRI", "2023", 7.0)]
    con.execute("create table internal.flows_victims_full (origin_area varchar, "
                "destination_area varchar, time_period varchar, victims double)")
    con.executemany("insert into internal.flows_victims_full values (?, ?, ?, ?)", flows)
    con.execute("create table marts.flows_victims as select * from internal.flows_victims_full "
                "where victims >= 5")
    con.execute("create table internal.disclosure_withheld (cell_id varchar)")
    con.execute("create table marts.dq_unknown_shares (country varchar, period varchar, "
                "indicator varchar, dimension varchar, unknown_share double)")
    yield con
    con.close()


def test_rolling_windows_are_no_cells_and_the_years_fall_apart(con):
    system, _ = build_system(con, MIN_COUNT)
    assert not [c for c in system.ids if c.split("|")[2] in WINDOWS]
    # dbt publishes a window only where its quarters are (its dbt test), so without them nothing
    # ties 2023's hidden quarters to 2024's: two separate linear programmes.
    known, _ = attacker_view(system, "")
    sub = restrict(system, known, MIN_COUNT)
    part = dict(zip((system.ids[i] for i in sub.variables), sub.part, strict=True))
    assert part[cid("2023-Q3")] == part[cid("2023-Q4")]
    assert part[cid("2023-Q3")] != part[cid("2024-Q3")]
    # What the windows gave away is gone; what the years give (Q3 + Q4 = 6 in 2024) stays.
    leaks = {leak.cell_id: (leak.low, leak.high) for leak in audit(system, MIN_COUNT).leaks}
    assert leaks[cid("2024-Q3")] == pytest.approx((2, 4))
    assert cid("2023-Q3") not in leaks


def test_a_flow_year_less_its_shown_quarters_gives_a_small_one_away(con):
    system, _ = build_system(con, MIN_COUNT)
    quarter = flow_id("GTM", "CRI", "2023-Q2")
    assert system.status[system.ids.index(quarter)] == "S"
    # Q3 and Q4 have no victims, hence no row; a reader cannot tell them from small flows left
    # out, so they are cells too (0..4): Q2 + Q3 + Q4 = 7 - 5 leaves Q2 in 0..2, never 4.
    empty = flow_id("GTM", "CRI", "2023-Q3")
    assert system.status[system.ids.index(empty)] == "S"
    assert system.truth[system.ids.index(empty)] == 0
    leaks = {leak.cell_id: (leak.low, leak.high) for leak in audit(system, MIN_COUNT).leaks}
    assert leaks[quarter] == pytest.approx((0, 2))
    assert empty not in leaks  # a 0 is no one's secret
    assert np.isclose(system.truth[system.ids.index(flow_id("GTM", "CRI", "2023"))], 7)


def test_the_system_is_the_same_whatever_order_the_warehouse_returns_rows_in(con):
    """A query without ``order by`` may return rows in another order from run to run; the cells
    and relations (so the LPs, and the cells the repair picks) must not follow it."""
    first = build_system(con, MIN_COUNT)[0]
    for table in ("marts.indicator_values", "marts.indicator_values_published",
                  "internal.disclosure_constraints", "internal.flows_victims_full"):
        con.execute(f"create or replace table {table} as select * from {table} "
                    "order by all desc")
    second = build_system(con, MIN_COUNT)[0]
    assert first.ids == second.ids and first.ids == sorted(first.ids)
    assert first.relation_kinds == second.relation_kinds
    for field in ("truth", "status", "owner", "rhs", "equality"):
        assert np.array_equal(getattr(first, field), getattr(second, field)), field
    assert (first.relations != second.relations).nnz == 0
