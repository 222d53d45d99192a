"""Property tests of disclosure control: the compiled dbt SQL (the one implementation: the
counts' rules live in indicator_values_protected, which indicator_values_published passes on) run
on random additive tables (hypothesis).

A random table: victims detected by member country x quarter x sex x age (small counts, so that
suppression happens), with every margin the mart publishes: REG (sum of the members), the year
(sum of four quarters; and the R4Q ending in Q4, the same value), sex _T and age _T. After
protection:

* no published count lies in 1..4 (the primary threshold), and conf_status A marks exactly those,
  but a small total over two or more small parts of one of its groups, which is D (as A it
  would tell its parts apart from 1 or 4);
* every published value is the input value (never rounded); every hidden one is null;
* no additive group (a margin and its parts along one breakdown) holds exactly one hidden cell,
  margin included: a hidden part cannot be computed by subtracting the published parts from the
  published total, nor a hidden margin by adding up its published parts;
* the year and the R4Q ending in its Q4 (one cell, the same value) share one status.
"""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AREAS = ("CRI", "GTM")
QUARTERS = (("2024-Q1", dt.date(2024, 3, 31)), ("2024-Q2", dt.date(2024, 6, 30)),
            ("2024-Q3", dt.date(2024, 9, 30)), ("2024-Q4", dt.date(2024, 12, 31)))
SEXES = ("F", "M", "_U")
AGES = ("Y0T17", "Y_GE18")
LEAVES = list(itertools.product(AREAS, range(len(QUARTERS)), SEXES, AGES))


def cube(leaf_values: list[int]) -> list[tuple]:
    """Every cell of indicator_values for the random leaves, margins included."""
    leaves = dict(zip(LEAVES, leaf_values, strict=True))
    cells = {}
    for area in (*AREAS, "REG"):
        for period in (*range(len(QUARTERS)), "A"):
            for sex in (*SEXES, "_T"):
                for age in (*AGES, "_T"):
                    total = sum(
                        v for (a, q, s, g), v in leaves.items()
                        if area in (a, "REG") and period in (q, "A") and sex in (s, "_T")
                        and age in (g, "_T"))
                    if period == "A":
                        time_period, freq, end = "2024", "A", dt.date(2024, 12, 31)
                    else:
                        (time_period, end), freq = QUARTERS[period], "Q"
                    cells[(area, time_period, sex, age)] = (
                        "VIC_DETECTED", area, time_period, freq, end, sex, age, "_T", float(total),
                        "PERSONS", "A", 2 if area == "REG" else 1, 2 if area == "REG" else 1,
                        True if freq == "A" else None)
                    if period == "A":  # its twin: the R4Q ending in Q4
                        cells[(area, "2024-Q4-R4Q", sex, age)] = (
                            "VIC_DETECTED", area, "2024-Q4-R4Q", "R4Q", end, sex, age, "_T",
                            float(total), "PERSONS", "A", 2 if area == "REG" else 1,
                            2 if area == "REG" else 1, None)
    return list(cells.values())


def protect(sql: dict[str, str], rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect()
    try:
        con.execute("attach ':memory:' as warehouse")
        for schema in ("marts", "intermediate", "internal", "disclosure"):
            con.execute(f"create schema warehouse.{schema}")
        con.execute("create table warehouse.disclosure.repairs (cell_id varchar)")
        # the default design (every quarter published as the rules allow): nothing withheld
        con.execute("create table warehouse.internal.disclosure_withheld (cell_id varchar)")
        con.execute(
            "create table warehouse.marts.indicator_values (indicator_code varchar, ref_area varchar, "
            "time_period varchar, freq varchar, period_end date, sex varchar, age varchar, "
            "exploitation_form varchar, value double, unit varchar, obs_status varchar, "
            "n_countries integer, n_expected integer, is_complete_year boolean)")
        con.executemany("insert into warehouse.marts.indicator_values values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("create table warehouse.marts.dim_indicator as "
                    "select 'VIC_DETECTED' as indicator_code, 'PRIMARY_SMALL_COUNT' as disclosure_rule")
        con.execute("create table warehouse.marts.dim_country as select * from "
                    "(values ('CRI', true), ('GTM', true)) as t (iso3, member)")
        con.execute(
            "create table warehouse.intermediate.int_indicator_values_country (indicator_code varchar, "
            "ref_area varchar, time_period varchar, sex varchar, age varchar, exploitation_form varchar, "
            "numerator double, denominator double)")
        con.execute("create table warehouse.internal.disclosure_constraints as "
                    + sql["disclosure_constraints"])
        published = con.execute(
            "select ref_area, time_period, sex, age, value, conf_status from ("
            + sql["indicator_values_protected"] + ")").fetchall()
        constraints = con.execute(
            "select constraint_id, margin_id, part_id from warehouse.internal.disclosure_constraints"
        ).fetchall()
    finally:
        con.close()
    return published, constraints


def cell_id(area: str, period: str, sex: str, age: str) -> str:
    """As disclosure_cell_id: the year is written as the R4Q ending in its Q4 (one cell)."""
    if period == "2024":
        period = "2024-Q4-R4Q"
    return f"VIC_DETECTED|{area}|{period}|{sex}|{age}|_T"


small_counts = st.lists(
    st.one_of(st.integers(0, 6), st.integers(0, 30)), min_size=len(LEAVES), max_size=len(LEAVES))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leaf_values=small_counts)
def test_protection_properties(compiled_disclosure_sql: dict[str, str], leaf_values: list[int]) -> None:
    rows = cube(leaf_values)
    truth = {cell_id(r[1], r[2], r[5], r[6]): r[8] for r in rows}
    published, constraints = protect(compiled_disclosure_sql, rows)
    assert len(published) == len(rows)
    status = {}
    for area, period, sex, age, value, conf in published:
        key = cell_id(area, period, sex, age)
        assert status.setdefault(key, conf) == conf, f"{key}: the year and its R4Q-Q4 differ"
        if conf == "F":
            assert value == truth[key], "a published value must be the true value"
            assert not 1 <= value <= 4, f"{key}: published small count {value}"
        else:
            assert value is None
    # the constraint model found every additive group, and each one adds up
    groups: dict[str, tuple[str, list[str]]] = {}
    for constraint_id, margin, part in constraints:
        groups.setdefault(constraint_id, (margin, []))[1].append(part)
    small = {key for key, value in truth.items() if 1 <= value <= 4}
    small_over_small = {margin for margin, parts in groups.values()
                        if margin in small and len(small & set(parts)) >= 2}
    for key, conf in status.items():
        assert (conf == "A") == (key in small - small_over_small), key
        assert key not in small_over_small or conf == "D", key
    assert len(groups) == (
        # sex groups + age groups + REG groups + year groups
        3 * 5 * 3 + 3 * 5 * 4 + 5 * 4 * 3 + 3 * 4 * 3)
    for margin, parts in groups.values():
        assert len(set(parts)) == len(parts), f"{margin}: a part counted twice"
        assert sum(truth[p] for p in parts) == truth[margin]
        hidden = sum(status[p] != "F" for p in parts) + (status[margin] != "F")
        assert hidden != 1, f"{margin}: one hidden cell of the group can be recovered"


def test_a_single_small_cell_takes_the_next_smallest_with_it(compiled_disclosure_sql) -> None:
    """Hand-computed: one small leaf in an otherwise large table."""
    leaves = [20] * len(LEAVES)
    leaves[LEAVES.index(("CRI", 0, "F", "Y0T17"))] = 3
    leaves[LEAVES.index(("CRI", 0, "_U", "Y0T17"))] = 11  # the next-smallest in its sex group
    published, _ = protect(compiled_disclosure_sql, cube(leaves))
    status = {(a, p, s, g): c for a, p, s, g, _, c in published}
    assert status[("CRI", "2024-Q1", "F", "Y0T17")] == "A"
    assert status[("CRI", "2024-Q1", "_U", "Y0T17")] == "D"
    assert status[("CRI", "2024-Q1", "_T", "_T")] == "F"
    assert status[("REG", "2024", "_T", "_T")] == "F"
    assert sum(c == "A" for c in status.values()) == 1


@pytest.mark.parametrize("value", [1, 2, 3, 4])
def test_every_small_count_is_primary(compiled_disclosure_sql, value: int) -> None:
    leaves = [0] * len(LEAVES)
    leaves[0] = value
    published, _ = protect(compiled_disclosure_sql, cube(leaves))
    assert all(c == "A" for a, p, s, g, v, c in published if v is None and c == "A")
    # every cell equal to the small value is primary (the leaf and each margin it alone makes up)
    assert {c for a, p, s, g, v, c in published if v == value} == set()
