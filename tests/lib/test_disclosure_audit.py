"""The disclosure audit (pipelines/lib/disclosure/audit.py) on hand-built tables with known leaks.

Each table is published the way simple secondary suppression leaves it (no group with a single
hidden cell), and the audit must find what an attacker works out from it with linear
programming; the same table with the cells a careful statistician would hide must pass. A
property test checks the audit's intervals against scipy's own LP, cell by cell.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from pipelines.lib.disclosure.audit import UNBOUNDED, UNSHOWN, System, audit

MIN_COUNT = 5


def make_system(cells: dict[str, tuple[float, str, str]], sums: list[tuple[str, list[str]]],
                extra: list[tuple[dict[str, float], float]] = ()) -> System:
    """cells: id -> (true value, status, owner); sums: (margin, parts) with margin = Σ parts;
    extra: (terms, rhs) equalities."""
    ids = list(cells)
    index = {cid: i for i, cid in enumerate(ids)}
    rows = [{**{p: 1.0 for p in parts}, margin: -1.0} for margin, parts in sums]
    rows += [terms for terms, _ in extra]
    rhs = [0.0] * len(sums) + [r for _, r in extra]
    data, r_idx, c_idx = [], [], []
    for r, row in enumerate(rows):
        for cid, coef in row.items():
            r_idx.append(r)
            c_idx.append(index[cid])
            data.append(coef)
    return System(
        ids=ids,
        truth=np.array([cells[c][0] for c in ids], dtype=float),
        status=np.array([cells[c][1] for c in ids]),
        owner=np.array([cells[c][2] for c in ids]),
        relations=sparse.csr_matrix((data, (r_idx, c_idx)), shape=(len(rows), len(ids))),
        rhs=np.array(rhs, dtype=float),
        equality=np.ones(len(rows), dtype=bool),
    )


def leaked(result) -> set[str]:
    return {leak.cell_id for leak in result.leaks}


def rolling_chain(hide_windows: bool, extra_hidden: tuple[str, ...] = ()) -> System:
    """A rolling chain like the one found on the dashboard: 2023 = 28, 2023-Q1 = 16, 2023-Q2 = 0 published, Q3 = 6 and Q4 = 6
    hidden; the rolling windows ending 2023-Q4 .. 2024-Q4 = 28, 24, 29, 27, 23 and 2024 = 23
    published; 2024-Q1 = 12, Q2 = 5 published, Q3 = 4 (primary), Q4 = 2 (primary)."""
    quarters = {"23Q1": 16, "23Q2": 0, "23Q3": 6, "23Q4": 6,
                "24Q1": 12, "24Q2": 5, "24Q3": 4, "24Q4": 2}
    hidden = {"23Q3": "D", "23Q4": "D", "24Q3": "A", "24Q4": "A", **{q: "D" for q in extra_hidden}}
    cells = {q: (v, hidden.get(q, "F"), "HND") for q, v in quarters.items()}
    order = list(quarters)
    sums = []
    for end in range(3, 8):
        window = order[end - 3:end + 1]
        name = f"R4Q-{order[end]}"
        total = sum(quarters[q] for q in window)
        is_year = order[end].endswith("Q4")
        status = "F"
        if hide_windows and not is_year and any(q in hidden for q in window):
            status = "D"
        cells[name] = (total, status, "HND")
        sums.append((name, window))
    return make_system(cells, sums)


def test_rolling_windows_beside_hidden_quarters_give_them_away():
    result = audit(rolling_chain(hide_windows=False), MIN_COUNT)
    # Differences of windows: 24Q3 + 24Q4 = 6 (2024 less Q1 and Q2) and 23Q4 + 24Q3 = 10, so
    # both small quarters lie in 2..4: an attacker can tell they are not 1.
    assert {"24Q3", "24Q4"} <= leaked(result)
    exact = {leak.cell_id: (leak.low, leak.high) for leak in result.leaks}
    assert exact["24Q3"] == pytest.approx((2, 4))
    assert exact["24Q4"] == pytest.approx((2, 4))


def test_small_quarters_need_windows_and_a_large_companion_hidden():
    # Hiding the windows beside the hidden quarters is not enough while 2024 (23) and its
    # published Q1 and Q2 leave Q3 + Q4 = 6; hiding Q2 (5) too gives the small quarters room.
    assert {"24Q3", "24Q4"} <= leaked(audit(rolling_chain(hide_windows=True), MIN_COUNT))
    result = audit(rolling_chain(hide_windows=True, extra_hidden=("24Q2",)), MIN_COUNT)
    assert not [leak for leak in result.leaks if leak.status == "A"], result.leaks


def cross(statuses: dict[str, str]) -> System:
    """Sex x age, 2 x 2, with both margins and the total: F-child = 2 is the small cell."""
    values = {"F.C": 2, "F.A": 10, "M.C": 8, "M.A": 7}
    cells = {k: (v, statuses.get(k, "F"), "CRI") for k, v in values.items()}
    cells.update({"F.T": (12, statuses.get("F.T", "F"), "CRI"), "M.T": (15, "F", "CRI"),
                  "T.C": (10, statuses.get("T.C", "F"), "CRI"), "T.A": (17, "F", "CRI"),
                  "T.T": (27, "F", "CRI")})
    sums = [("F.T", ["F.C", "F.A"]), ("M.T", ["M.C", "M.A"]), ("T.C", ["F.C", "M.C"]),
            ("T.A", ["F.A", "M.A"]), ("T.T", ["F.T", "M.T"]), ("T.T", ["T.C", "T.A"])]
    return make_system(cells, sums)


def test_a_small_cell_of_a_cross_with_one_companion_per_margin_is_recovered():
    # Each row and each column holds two hidden cells, but the fourth corner is published.
    result = audit(cross({"F.C": "A", "F.A": "D", "M.C": "D"}), MIN_COUNT)
    assert {"F.C", "F.A", "M.C"} <= leaked(result)


def test_a_small_cell_of_a_cross_hidden_with_its_rectangle_passes():
    result = audit(cross({"F.C": "A", "F.A": "D", "M.C": "D", "M.A": "D"}), MIN_COUNT)
    assert result.passed, result.leaks


def region(statuses: dict[str, str], region_status: str = "F") -> System:
    """Three members and their region: BLZ = 1 (primary), CRI = 3 (primary), GTM = 40."""
    values = {"BLZ": 1, "CRI": 3, "GTM": 40}
    cells = {m: (v, statuses.get(m, "F"), m) for m, v in values.items()}
    cells["REG"] = (44, region_status, "")
    return make_system(cells, [("REG", list(values))])


def test_two_small_members_under_a_published_region_are_narrowed():
    # BLZ + CRI = 4 with both in 1..4: each lies in 1..3, so 4 is ruled out.
    result = audit(region({"BLZ": "A", "CRI": "A"}), MIN_COUNT)
    assert {"BLZ", "CRI"} <= leaked(result)
    leak = next(leak for leak in result.leaks if leak.cell_id == "BLZ")
    assert (leak.low, leak.high) == pytest.approx((1, 3))


def test_small_members_with_a_large_companion_pass_for_an_outsider():
    result = audit(region({"BLZ": "A", "CRI": "A", "GTM": "D"}), MIN_COUNT)
    assert result.passed, result.leaks


def test_an_insider_subtracts_its_own_figures_from_the_region():
    system = region({"BLZ": "A", "CRI": "A", "GTM": "D"})
    result = audit(system, MIN_COUNT, insiders=["GTM"])
    # GTM knows its own 40: BLZ + CRI = 4 again, and each is narrowed to 1..3.
    assert {(leak.cell_id, leak.insider) for leak in result.leaks} >= {("BLZ", "GTM"), ("CRI", "GTM")}
    assert not [leak for leak in result.leaks if leak.insider == ""]
    # Hiding the region too leaves the insider only REG - 40 = BLZ + CRI, with REG unknown.
    protected = region({"BLZ": "A", "CRI": "A", "GTM": "D"}, region_status="D")
    assert audit(protected, MIN_COUNT, insiders=["GTM", "BLZ", "CRI"]).passed


def share_system(count_status: str, share_published: bool) -> System:
    """Victims by sex: F = 1 (hidden), M = 19, total 20; the share of women 5 % over the
    published total gives F = 0.05 x 20 = 1."""
    cells = {"F": (1, count_status, "SLV"), "M": (19, "D", "SLV"), "T": (20, "F", "SLV")}
    extra = [({"F": 1.0, "T": -0.05}, 0.0)] if share_published else []
    return make_system(cells, [("T", ["F", "M"])], extra)


def test_a_share_over_a_published_total_gives_the_hidden_count_away():
    result = audit(share_system("A", share_published=True), MIN_COUNT)
    assert "F" in leaked(result)


def test_the_share_hidden_with_its_count_passes():
    assert audit(share_system("A", share_published=False), MIN_COUNT).passed


def scipy_interval(system: System, index: int, min_count: int) -> tuple[float, float]:
    """The feasibility interval by scipy's linprog: an implementation independent of ours."""
    known = system.status == "F"
    variables = np.flatnonzero(~known)
    matrix = system.relations.toarray()
    rhs = system.rhs - matrix[:, known] @ system.truth[known]
    a_eq = matrix[:, variables]
    keep = np.abs(a_eq).sum(axis=1) > 0
    bounds = [(1, min_count - 1) if system.status[v] == "A" else (0, UNBOUNDED) for v in variables]
    column = int(np.flatnonzero(variables == index)[0])
    out = []
    for sign in (1.0, -1.0):
        cost = np.zeros(len(variables))
        cost[column] = sign
        res = linprog(cost, A_eq=a_eq[keep] if keep.any() else None,
                      b_eq=rhs[keep] if keep.any() else None, bounds=bounds, method="highs")
        out.append(sign * res.fun)
    return out[0], out[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(min_value=0, max_value=12), min_size=6, max_size=6),
    hidden=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_audit_agrees_with_an_independent_lp(values, hidden):
    """A 2 x 3 table with its margins: every leak the audit reports is the exact interval, and
    every cell it passes really has an interval that meets the standard."""
    rows, cols = ("r0", "r1"), ("c0", "c1", "c2")
    leaves = {f"{r}.{c}": values[i * 3 + j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    cells = {}
    for k, (leaf, v) in enumerate(leaves.items()):
        status = "A" if 1 <= v < MIN_COUNT else ("D" if hidden[k] else "F")
        cells[leaf] = (v, status, "")
    sums = []
    for r in rows:
        cells[r] = (sum(leaves[f"{r}.{c}"] for c in cols), "F", "")
        sums.append((r, [f"{r}.{c}" for c in cols]))
    for c in cols:
        cells[c] = (sum(leaves[f"{r}.{c}"] for r in rows), "F", "")
        sums.append((c, [f"{r}.{c}" for r in rows]))
    system = make_system(cells, sums)
    result = audit(system, MIN_COUNT)
    reported = {leak.cell_id: leak for leak in result.leaks}
    for index, cid in enumerate(system.ids):
        status = system.status[index]
        if status == "F":
            continue
        low, high = scipy_interval(system, index, MIN_COUNT)
        if status == "A":
            protected = low <= 1 + 1e-6 and high >= MIN_COUNT - 1 - 1e-6
        else:  # a secondary 0 counts nobody (audit.no_secret)
            protected = system.truth[index] < 1 or np.floor(high + 1e-6) - np.ceil(low - 1e-6) >= 1
        assert (cid not in reported) == protected, (cid, low, high, reported.get(cid))
        if cid in reported:
            assert (reported[cid].low, reported[cid].high) == pytest.approx((low, high), abs=1e-6)


def small_year(flagged: bool) -> System:
    """A member's year of 7 victims over four quarters 3, 0, 4, 0: published beside its quarters
    as "<5" cells (flagged) or withheld as detail of a small series (status N, no flag)."""
    quarters = {"Q1": 3, "Q2": 0, "Q3": 4, "Q4": 0}
    cells = {"Y": (7, "F", "BLZ")}
    for name, value in quarters.items():
        status = ("A" if value else "F") if flagged else "N"
        cells[name] = (value, status, "BLZ")
    return make_system(cells, [("Y", list(quarters))])


def test_small_quarters_flagged_beside_their_year_are_narrowed():
    # "<5" says each is at least 1: Q1 + Q3 = 7 puts both in 3..4.
    assert leaked(audit(small_year(flagged=True), MIN_COUNT)) == {"Q1", "Q3"}


def test_withheld_quarters_of_a_small_year_are_protected():
    # Withheld, each quarter is only known to be a count: 0..7, which holds 1..4; the zero
    # quarters need nothing (0 is no one's secret), so the narrowest interval is not theirs.
    result = audit(small_year(flagged=False), MIN_COUNT)
    assert result.passed and result.hidden == 4
    assert result.narrowest[0] in {"Q1", "Q3"} and result.narrowest_width == 7


def test_a_withheld_small_count_must_not_be_bounded_below_4():
    # The same year of 7 where a published Q2 of 4 leaves Q1 + Q3 + Q4 = 3: Q1 (true 3) lies in
    # 0..3, so an attacker can tell it is not 4.
    cells = {"Y": (7, "F", "BLZ"), "Q1": (3, "N", "BLZ"), "Q2": (4, "F", "BLZ"),
             "Q3": (0, "N", "BLZ"), "Q4": (0, "N", "BLZ")}
    result = audit(make_system(cells, [("Y", ["Q1", "Q2", "Q3", "Q4"])]), MIN_COUNT)
    assert leaked(result) == {"Q1"}
    assert [(leak.low, leak.high) for leak in result.leaks] == [(0.0, 3.0)]


def test_a_flow_left_out_for_being_small_is_known_to_be_0_to_4_not_1_to_4():
    """Victims of a member (2, a "<5") by citizenship: two flows of 1 and one of 0, all left out
    of the flows table for being under 5. Read as "<5" flags (1..4 each), the two flows would pin
    the total at 2 or more; their absence says only 0..4, so the total can be 1."""
    def system(flow_status):
        cells = {"T": (2, "A", "GTM"), "GTM>GTM": (1, flow_status, "GTM"),
                 "HND>GTM": (1, flow_status, "GTM"), "_U>GTM": (0, flow_status, "GTM")}
        return make_system(cells, [("T", ["GTM>GTM", "HND>GTM", "_U>GTM"])])

    assert "T" in leaked(audit(system("A"), MIN_COUNT))
    result = audit(system(UNSHOWN), MIN_COUNT)
    assert result.passed


def two_blocks(order: int = 1, gtm: float = 40, cri_status: str = "A") -> System:
    """A region block (members and region) beside an unrelated sex x age cross, with cells and
    relations listed in either order (``order`` 1 or -1)."""
    values = {"BLZ": 1, "CRI": 3, "GTM": gtm}
    cells = {m: (v, {"BLZ": "A", "CRI": cri_status, "GTM": "D"}[m], m) for m, v in values.items()}
    cells["REG"] = (4 + gtm, "F", "")
    crossed = cross({"F.C": "A", "F.A": "D", "M.C": "D", "M.A": "D"})
    cells.update({cid: (float(v), str(s), str(o)) for cid, v, s, o in zip(
        crossed.ids, crossed.truth, crossed.status, crossed.owner, strict=True)})
    sums = [("REG", list(values)), ("F.T", ["F.C", "F.A"]), ("M.T", ["M.C", "M.A"]),
            ("T.C", ["F.C", "M.C"]), ("T.A", ["F.A", "M.A"]), ("T.T", ["F.T", "M.T"]),
            ("T.T", ["T.C", "T.A"])]
    return make_system(dict(list(cells.items())[::order]), sums[::order])


def test_a_block_is_known_by_its_content_and_a_change_reopens_it_alone():
    """The gate audits again only the blocks whose digest changed: a digest must not depend on
    the order cells and relations were read in, must change with any figure, status or attacker,
    and a block audited alone gets the verdict it gets within the whole."""
    from pipelines.lib.disclosure.audit import audit_salt, block_fingerprints, blocks, subsystem

    def digests(system: System, insiders=("GTM",)) -> dict[str, str]:
        labels = blocks(system)
        prints = block_fingerprints(system, labels, audit_salt(MIN_COUNT, insiders))
        return {cid: prints[int(label)] for cid, label in zip(system.ids, labels, strict=True)
                if label >= 0}  # published cells are constants, in no block

    before = digests(two_blocks())
    assert len(set(before.values())) == 2 and "REG" not in before
    assert digests(two_blocks(order=-1)) == before
    changed = digests(two_blocks(gtm=41))  # a member's hidden figure (and the region) change
    assert changed["GTM"] != before["GTM"] and changed["F.C"] == before["F.C"]
    published = two_blocks()
    published.truth[published.ids.index("F.T")] += 1  # a published figure in its relations
    assert digests(published)["F.C"] != before["F.C"]
    assert digests(two_blocks(cri_status="D"))["CRI"] != before["CRI"]
    assert digests(two_blocks(), insiders=("GTM", "CRI"))["F.C"] != before["F.C"]

    # The region block alone leaks to the insider GTM (BLZ + CRI = 4) exactly as in the whole.
    system = two_blocks()
    whole = audit(system, MIN_COUNT, insiders=["GTM"])
    labels = blocks(system)
    part = subsystem(system, labels == labels[system.ids.index("GTM")])
    assert sorted(part.ids) == ["BLZ", "CRI", "GTM", "REG"] and part.relations.shape[0] == 1
    alone = audit(part, MIN_COUNT, insiders=["GTM"])
    assert {(leak.cell_id, leak.low, leak.high) for leak in alone.leaks} == {
        (leak.cell_id, leak.low, leak.high) for leak in whole.leaks} != set()
