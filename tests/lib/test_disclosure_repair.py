"""Complementary suppression driven by the audit (pipelines/lib/disclosure/repair.py).

Every table with a known leak from test_disclosure_audit fails the audit as published and passes
it once :func:`protect` has hidden more; it hides only published cells, and a property test puts
random small tables through primary suppression, the repair and the audit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.disclosure.audit import audit
from pipelines.lib.disclosure.repair import cell_cost, protect
from tests.lib.test_disclosure_audit import (
    MIN_COUNT,
    cross,
    make_system,
    region,
    rolling_chain,
    share_system,
)


def repaired_passes(system, insiders=()):
    before = audit(system, MIN_COUNT, insiders=insiders)
    assert not before.passed
    repair = protect(system, MIN_COUNT, insiders=insiders)
    assert repair.passed, repair.remaining
    after = audit(repair.system, MIN_COUNT, insiders=insiders)
    assert after.passed, after.leaks
    published = {cid for cid, status in zip(system.ids, system.status, strict=True) if status == "F"}
    assert repair.hidden and set(repair.hidden) <= published
    return repair


def test_the_rolling_chain_is_repaired():
    repaired_passes(rolling_chain(hide_windows=False))


def test_a_cross_with_one_companion_per_margin_is_repaired_with_its_fourth_corner():
    repair = repaired_passes(cross({"F.C": "A", "F.A": "D", "M.C": "D"}))
    assert "M.A" in repair.hidden


def test_two_small_members_under_a_published_region_are_repaired():
    repaired_passes(region({"BLZ": "A", "CRI": "A"}))


def test_an_insider_subtracting_its_own_figures_is_stopped():
    system = region({"BLZ": "A", "CRI": "A", "GTM": "D"})
    assert audit(system, MIN_COUNT).passed  # an outsider learns nothing
    repair = repaired_passes(system, insiders=("GTM", "BLZ", "CRI"))
    assert repair.hidden == ["REG"]


def test_a_share_over_a_published_total_is_withdrawn_with_a_count_it_rests_on():
    system = share_system("A", share_published=True)
    system = replace(system, relation_kinds=["sum:sex", "ratio:VIC_FEMALE_SHARE"])
    repair = repaired_passes(system)
    # Hiding the total withdraws the share (dbt's rule 3): only the sum is left.
    assert repair.hidden == ["T"]
    assert repair.system.relation_kinds == ["sum:sex"]


def test_detail_gives_way_before_annual_totals_and_the_region():
    year = "VIC_DETECTED|GTM|2024-Q4-R4Q|_T|_T|_T"
    quarter_by_sex = "VIC_DETECTED|GTM|2024-Q2|F|_T|_T"
    quarter = "VIC_DETECTED|GTM|2024-Q2|_T|_T|_T"
    region_year = "VIC_DETECTED|REG|2024-Q4-R4Q|_T|_T|_T"
    costs = [cell_cost(c) for c in (quarter_by_sex, quarter, year, region_year)]
    assert costs == sorted(costs) and len(set(costs)) == 4


def table_system(values: list[int]):
    """A 2 x 3 table, its row and column margins and its total, through primary suppression."""
    rows, cols = ("r0", "r1"), ("c0", "c1", "c2")
    leaves = {f"{r}.{c}": values[i * 3 + j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    groups = [(r, [f"{r}.{c}" for c in cols]) for r in rows]
    groups += [(c, [f"{r}.{c}" for r in rows]) for c in cols]
    groups += [("T", list(rows)), ("T", list(cols))]
    truth = dict(leaves)
    for margin, parts in groups:
        truth[margin] = sum(truth[p] for p in parts)
    return make_system(primary_suppressed(truth, groups, lambda cid: ""), groups)


def primary_suppressed(truth: dict, groups: list, owner) -> dict:
    """Cells through primary suppression as dbt does it: a count of 1..4 is A, except a total
    over two or more A parts, which is D."""
    def small(v):
        return 1 <= v < MIN_COUNT

    status = {cid: "A" if small(v) else "F" for cid, v in truth.items()}
    for margin, parts in groups:
        if small(truth[margin]) and sum(small(truth[p]) for p in parts) >= 2:
            status[margin] = "D"
    return {cid: (v, status[cid], owner(cid)) for cid, v in truth.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.integers(min_value=0, max_value=9), min_size=6, max_size=6))
def test_random_small_tables_pass_the_audit_after_the_repair(values):
    system = table_system(values)
    repair = protect(system, MIN_COUNT)
    result = audit(repair.system, MIN_COUNT)
    assert repair.passed and result.passed, (values, result.leaks)
    hidden_before = system.status != "F"
    assert np.all(repair.system.status[hidden_before] == system.status[hidden_before])


def regional_system(values: list[int]):
    """Three members (A, B, C) x two quarters x sex (F, M), with each member's year and the region
    (R) as their sums, through primary suppression; each member owns its cells."""
    members, truth, groups = ("A", "B", "C"), {}, []
    values = iter(values)
    for m in members:
        for q in ("q1", "q2"):
            truth[f"{m}.{q}.F"], truth[f"{m}.{q}.M"] = next(values), next(values)
            truth[f"{m}.{q}"] = truth[f"{m}.{q}.F"] + truth[f"{m}.{q}.M"]
            groups.append((f"{m}.{q}", [f"{m}.{q}.F", f"{m}.{q}.M"]))
        for s in ("", ".F", ".M"):
            truth[f"{m}.y{s}"] = truth[f"{m}.q1{s}"] + truth[f"{m}.q2{s}"]
            groups.append((f"{m}.y{s}", [f"{m}.q1{s}", f"{m}.q2{s}"]))
        groups.append((f"{m}.y", [f"{m}.y.F", f"{m}.y.M"]))
    for q in ("q1", "q2", "y"):
        for s in ("", ".F", ".M"):
            truth[f"R.{q}{s}"] = sum(truth[f"{m}.{q}{s}"] for m in members)
            groups.append((f"R.{q}{s}", [f"{m}.{q}{s}" for m in members]))
        groups.append((f"R.{q}", [f"R.{q}.F", f"R.{q}.M"]))
    groups += [(f"R.y{s}", [f"R.q1{s}", f"R.q2{s}"]) for s in ("", ".F", ".M")]
    cells = primary_suppressed(truth, groups, lambda cid: "" if cid.startswith("R.") else cid[0])
    return make_system(cells, groups), list(members)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.sampled_from([0, 0, 1, 2, 3, 6, 8, 9]), min_size=12, max_size=12))
def test_random_regional_tables_pass_for_every_insider_after_the_repair(values):
    system, members = regional_system(values)
    repair = protect(system, MIN_COUNT, insiders=members)
    result = audit(repair.system, MIN_COUNT, insiders=members)
    assert repair.passed and result.passed, (values, result.leaks)


def test_a_reader_who_kept_the_earlier_snapshot_is_stopped_by_hiding_what_changed():
    """A revision: CRI went from 7 to 3. The new snapshot hides CRI (primary) and GTM (its
    companion) and publishes BLZ and the region: on its own it gives nothing away. But the
    earlier snapshot showed GTM = 40, still its value, so CRI = 63 - 20 - 40. GTM cannot be
    hidden from that reader any more: the repair hides the region, whose value is new."""
    from pipelines.lib.disclosure.relations import known_before

    today = make_system({"BLZ": (20, "F", "BLZ"), "CRI": (3, "A", "CRI"), "GTM": (40, "D", "GTM"),
                         "REG": (63, "F", "")}, [("REG", ["BLZ", "CRI", "GTM"])])
    assert audit(today, MIN_COUNT).passed
    earlier = {("BLZ", 20.0), ("CRI", 7.0), ("GTM", 40.0), ("REG", 67.0)}
    seen = known_before(today, earlier)
    assert list(seen.fixed) == [True, False, True, False] and seen.status[2] == "F"
    repair = repaired_passes(seen)
    assert repair.hidden == ["REG"]
    assert known_before(today, set()) is today  # nothing published before: nothing changes


def side_by_side(tables: list[list[int]]):
    """Several regional tables in one system, each its own connected part (ids prefixed)."""
    cells: dict = {}
    groups: list = []
    members: list[str] = []
    for k, values in enumerate(tables):
        system, members = regional_system(values)
        ids = [f"t{k}:{cid}" for cid in system.ids]
        for cid, truth, status, owner in zip(ids, system.truth, system.status, system.owner,
                                             strict=True):
            cells[cid] = (float(truth), str(status), str(owner))
        matrix = system.relations.tocsr()
        for r in range(matrix.shape[0]):
            row = matrix.indices[matrix.indptr[r]:matrix.indptr[r + 1]]
            coefs = matrix.data[matrix.indptr[r]:matrix.indptr[r + 1]]
            margin = [ids[c] for c, v in zip(row, coefs, strict=True) if v < 0]
            parts = [ids[c] for c, v in zip(row, coefs, strict=True) if v > 0]
            groups.append((margin[0], parts))
    return make_system(cells, groups), members


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 6, 9]), min_size=12, max_size=12),
                       min_size=3, max_size=5))
def test_the_repair_and_the_audit_are_the_same_on_one_thread_or_several(tables):
    """The parts of a system are solved on several threads; what each part gets must not depend
    on which thread took it, or when."""
    from pipelines.lib.disclosure import audit as audit_module

    system, members = side_by_side(tables)
    outcomes = []
    for workers in (1, 4):
        saved, audit_module.WORKERS = audit_module.WORKERS, workers
        try:
            repair = protect(system, MIN_COUNT, insiders=members)
            result = audit(system, MIN_COUNT, insiders=members)
        finally:
            audit_module.WORKERS = saved
        outcomes.append((repair.hidden, repair.remaining, repair.lp_solves,
                         sorted((leak.cell_id, leak.insider, leak.low, leak.high)
                                for leak in result.leaks)))
    assert outcomes[0] == outcomes[1]
