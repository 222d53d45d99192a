"""Complementary suppression driven by the audit: hide published cells until no attacker can narrow
a hidden one below the standard (see :mod:`.audit`).

dbt's rules (primary, then one more cell in any additive group left with a single hidden cell) are
local: they cannot see that years, regions, crosses and ratios combine. So the audit runs on what
they leave, and for each cell that fails it the protection LP (:class:`_Protection`) finds the
cheapest set of published cells whose hiding lets it move as far as it must. The picks are written
to ``disclosure.repairs``; dbt hides them like any secondary cell and withdraws the ratios resting
on them, and the next build starts from them (the pattern of hidden cells stays stable).

The price of a cell (:func:`cell_cost`) spends the loss on detail first (quarters, fine
breakdowns, flows) and last on each member's annual totals and the region."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from pipelines.lib.disclosure.audit import (
    PRIMARY,
    PUBLISHED,
    SECONDARY,
    TOLERANCE,
    UNSHOWN,
    WITHHELD,
    System,
    attacker_view,
    certify,
    each_part,
    exact_leaks,
    group_by,
    restrict,
)

# Exact intervals are worth their LPs only when few cells are left uncertified; above this many,
# every uncertified cell is repaired as if it failed (certification only misses cells that are
# hard to move, which is where a complementary cell helps anyway).
EXACT_LIMIT = 300


def cell_cost(cell_id: str) -> float:
    """What hiding a published cell costs the readers: detail cheap, annual totals and the region dear."""
    parts = cell_id.split("|")
    if parts[0] == "FLOW":
        return 3.0
    if len(parts) != 6:
        return 1.0  # not an indicator cell (hand-built tables): all alike
    _, area, period, sex, age, form = parts
    # Rolling windows are never hidden one by one: dbt publishes them where their quarters are
    # (relations.py leaves them out of the system).
    cost = 6.0 if period.endswith("-Q4-R4Q") else 2.0  # a calendar year (and its R4Q twin)
    detail = sum(code != "_T" for code in (sex, age, form))
    cost += 3.0 if detail == 0 else 1.0 / detail
    if area == "REG":
        cost += 8.0
    return cost


@dataclass
class Repair:
    """What :func:`protect` hid and whether the audit passes after it."""

    system: System  # the system with the repairs hidden and the ratios on them withdrawn
    hidden: list[str] = field(default_factory=list)  # cell ids hidden by the repair, in order
    remaining: list[str] = field(default_factory=list)  # cells still failing (empty: passes)
    rounds: int = 0
    lp_solves: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.remaining


def withdrawn_with(system: System) -> sparse.csr_matrix:
    """Relation x cell: the published ratio a relation stands for is withdrawn (dbt's rule 3) when
    that cell is hidden. Rates, shares, ratios and changes rest on their counts; the quality
    page's unknown shares also on the unknown citizenship flow."""
    matrix = system.relations.tocsr(copy=True)
    kinds = system.relation_kinds or [""] * matrix.shape[0]
    is_flow = np.array([cid.startswith("FLOW|") for cid in system.ids], dtype=bool)
    keep_row = np.array([k.startswith(("ratio:", "share:")) for k in kinds], dtype=bool)
    share_row = np.array([k.startswith("share:") for k in kinds], dtype=bool)
    coo = matrix.tocoo()
    mask = keep_row[coo.row] & (~is_flow[coo.col] | share_row[coo.row])
    return sparse.csr_matrix((np.ones(mask.sum()), (coo.row[mask], coo.col[mask])), shape=matrix.shape)


def protect(
    system: System,
    min_count: int,
    insiders: list[str] | tuple[str, ...] = (),
    max_rounds: int = 80,
    max_batch_rounds: int = 12,
    cost=cell_cost,
    log=None,
    targets: np.ndarray | None = None,
) -> Repair:
    """Hide published cells of ``system`` until the audit passes for an outsider and each insider.

    ``targets``: the cells to look at first (default: every cell), when the others are known to
    pass as they are; cells hidden on the way are looked at too."""
    started = time.perf_counter()
    status = system.status.copy()
    active = np.ones(system.relations.shape[0], dtype=bool)
    withdraw_rows = withdrawn_with(system)
    withdraw = withdraw_rows.tocsc()
    costs = np.array([cost(cid) for cid in system.ids])
    series = np.array([_series(cid) for cid in system.ids])
    hidden: list[str] = []
    solves = 0
    remaining: list[int] = []
    rounds = 0
    # Hiding a cell or withdrawing a relation only widens what the others can be (every feasible
    # point stays feasible), so a cell shown protected stays protected: each attacker looks again
    # only at the cells that failed for it and at the ones hidden since.
    attackers = ("", *insiders)
    start = np.ones(system.n_cells, dtype=bool) if targets is None else targets.astype(bool)
    open_cells = {insider: start.copy() for insider in attackers}
    previous = {insider: status.copy() for insider in attackers}
    for rounds in range(1, max_rounds + 1):
        remaining = []
        added = 0
        # Attackers one after the other, each on what the ones before it left hidden: an
        # insider mostly fails where the outsider did, and the outsider's picks settle most of it.
        for insider in attackers:
            current = _current(system, status, active)
            open_cells[insider] |= (status != PUBLISHED) & (previous[insider] == PUBLISHED)
            previous[insider] = status.copy()
            known, targets = attacker_view(current, insider)
            targets &= open_cells[insider]
            sub = restrict(current, known, min_count)
            pending, low_seen, high_seen, n = certify(current, sub, targets, max_batch_rounds)
            solves += n
            if len(pending) <= EXACT_LIMIT:
                found, n = exact_leaks(sub, pending, low_seen, high_seen)
                solves += n
                failing = [(cell, low, high) for cell, (low, high) in found.items()]
            else:
                failing = [(int(sub.variables[p]), np.nan, np.nan) for p in pending]
            remaining += [cell for cell, _, _ in failing]
            open_cells[insider][:] = False
            open_cells[insider][[cell for cell, _, _ in failing]] = True
            if not failing:
                continue
            # Cheaper, and the same, to hide near what is already hidden: a series with a
            # hidden cell in some period keeps its pattern.
            hidden_series = set(series[status != PUBLISHED])
            price = costs - 0.5 * np.array([s in hidden_series for s in series])
            protection = _Protection(current, withdraw_rows[active], known, min_count, price,
                                     insider)
            by_part: dict[int, list] = {}
            for item in failing:
                by_part.setdefault(int(protection.part[item[0]]), []).append(item)
            groups = list(by_part.values())
            picks = set().union(*each_part(protection.cover, groups, [len(g) for g in groups]))
            solves += protection.solves
            for cell in sorted(picks):
                if status[cell] == PUBLISHED:
                    status[cell] = SECONDARY
                    hidden.append(system.ids[cell])
                    active[_column(withdraw, cell)] = False
                    added += 1
        if log:
            log(f"round {rounds}: {len(set(remaining))} cells fail, hiding {added} more "
                f"({time.perf_counter() - started:.1f} s)")
        if not remaining or not added:
            break
    return Repair(
        system=_current(system, status, active),
        hidden=hidden,
        remaining=sorted({system.ids[c] for c in remaining}),
        rounds=rounds,
        lp_solves=solves,
        seconds=time.perf_counter() - started,
    )


def _column(csc: sparse.csc_matrix, cell: int) -> np.ndarray:
    return csc.indices[csc.indptr[cell]:csc.indptr[cell + 1]]


def _series(cell_id: str) -> str:
    parts = cell_id.split("|")
    return "|".join(parts[:2] + parts[4:]) if parts[0] != "FLOW" else "|".join(parts[:3])


def _current(system: System, status: np.ndarray, active: np.ndarray) -> System:
    kinds = [k for k, a in zip(system.relation_kinds, active, strict=False) if a] \
        if system.relation_kinds else []
    return replace(system, status=status.copy(), relations=system.relations[active],
                   rhs=system.rhs[active], equality=system.equality[active], relation_kinds=kinds)


def _moves(current: System, cell: int, low: float, high: float, min_count: int) -> list[float]:
    """The moves a failing cell must be able to make: a primary (or small withheld) cell to 1 and
    to min_count - 1 where its interval does not reach them; any other hidden cell one unit."""
    upper = float(min_count - 1)
    truth = current.truth[cell]
    if current.status[cell] in (PRIMARY, WITHHELD, UNSHOWN):
        moves = []
        if np.isnan(high) or high < upper - TOLERANCE:
            moves.append(upper - truth)
        if np.isnan(low) or low > 1 + TOLERANCE:
            moves.append(1.0 - truth)
        return [m for m in moves if m]
    return [1.0]


class _Protection:
    """The classic protection LP of complementary suppression (Kelly, Golden and Assad): for a
    failing cell that must move by ``m``, the cheapest perturbation of the figures that keeps
    every relation, moves that cell by ``m`` and moves hidden cells only within what the attacker
    knows of them. Published cells it moves are the cells to hide: once hidden, the perturbed
    figures are a feasible point the attacker cannot tell from the truth, so the cell reaches the
    value it must. Unlike :func:`_choose`, which looks at one relation at a time, it always finds
    a set when one exists (hiding every figure the attacker does not already know is one), so the
    repair cannot stall.

    Columns: a rise and a fall per cell, then a rise and a fall per ratio relation that hiding a
    published cell would withdraw (priced as hiding the cheapest such cell). Such a relation is
    soft, so it does not join cells into one problem: one LP per connected part of the other
    relations (an indicator's cells, or detected victims with their flows), built when first
    needed, about a tenth of the whole.

    Parts are solved side by side (:func:`.audit.each_part`), so each keeps its own state: what
    it has picked (free to move from then on) and what its solves moved. What one part picks
    never changes another's LPs, whatever the order the threads take them in.
    """

    def __init__(self, current: System, withdraw: sparse.csr_matrix, known: np.ndarray,
                 min_count: int, costs: np.ndarray, insider: str):
        status, truth = current.status, current.truth
        self.current, self.min_count = current, min_count
        self.costs = costs
        self.hideable = (status == PUBLISHED) & ((current.owner != insider) if insider else True)
        if current.fixed is not None:  # shown by an earlier publication: known anyway
            self.hideable &= ~current.fixed
        fixed = known & ~self.hideable  # an insider's own figures, hidden or not
        primary = status == PRIMARY
        up = np.where(primary | (status == UNSHOWN), float(min_count - 1) - truth,
                      highspy.kHighsInf)
        down = np.where(primary, truth - 1.0, truth)
        up[fixed] = down[fixed] = 0.0
        self.up, self.down = np.maximum(up, 0.0), np.maximum(down, 0.0)
        self.matrix = current.relations.tocsr()
        self.room = np.where(current.equality, 0.0, np.maximum(current.rhs - self.matrix @ truth, 0.0))
        self.equality = current.equality
        slack_of = withdraw.multiply(self.hideable[np.newaxis, :]).tocsr()
        slack_of.eliminate_zeros()
        self.slack_of = slack_of
        self.soft = np.diff(slack_of.indptr) > 0
        # A cell that cannot move (an insider's own figure, one shown before) links nothing: a
        # relation through it holds whatever the others do. Else an insider's own changes from
        # year to year would join every year of an indicator into one large LP.
        movable = (self.up > 0) | (self.down > 0)
        hard = (self.matrix[~self.soft] @ sparse.diags(movable.astype(float))).tocsr()
        hard.eliminate_zeros()
        graph = sparse.bmat([[None, hard.T], [hard, None]], format="csr")
        _, labels = csgraph.connected_components(graph, directed=False)
        self.part = labels[:current.n_cells]
        self.columns = dict(group_by(self.part, np.arange(current.n_cells)))
        self.csc = self.matrix.tocsc()
        self.models: dict[int, tuple] = {}
        self.picked: dict[int, set[int]] = {}  # per part: cells it chose, free from then on
        self.part_solves: dict[int, int] = {}
        # How far each cell has moved up and down in the perturbations found so far. Each stays
        # feasible once its picks are hidden (more hidden cells only widen what is feasible), so
        # a failing cell that one of them already moved as far as it must go needs no LP of its
        # own: most do, since one perturbation moves every hidden cell of its relations.
        self.up_seen = np.zeros(current.n_cells)
        self.down_seen = np.zeros(current.n_cells)
        self.either = ~np.isin(status, (PRIMARY, WITHHELD, UNSHOWN))

    def _model(self, part: int):
        if part in self.models:
            return self.models[part]
        columns = self.columns[part]
        # The part's columns (a slice along the CSC's major axis costs only their terms), and
        # the relations they are in, numbered among themselves.
        block = self.csc[:, columns]
        rows = np.unique(block.indices)
        sub = sparse.csc_matrix((block.data, np.searchsorted(rows, block.indices), block.indptr),
                                shape=(len(rows), len(columns))).tocsr()
        soft = np.flatnonzero(self.soft[rows])
        k = len(soft)
        slack = sparse.csr_matrix((np.ones(k), (soft, np.arange(k))), shape=(len(rows), k))
        a = sparse.hstack([sub, -sub, slack, -slack]).tocsc()
        price = np.where(self.hideable[columns], self.costs[columns], 0.0)
        soft_price = np.array([self.costs[self._withdrawing(r)].min() for r in rows[soft]])
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.concatenate([price, price, soft_price, soft_price])
        lp.col_lower_ = np.zeros(a.shape[1])
        upper = np.concatenate([self.up[columns], self.down[columns], np.full(2 * k, highspy.kHighsInf)])
        lp.col_upper_ = upper
        lp.row_lower_ = np.where(self.equality[rows], 0.0, -highspy.kHighsInf)
        lp.row_upper_ = self.room[rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("random_seed", 0)
        highs.setOptionValue("threads", 1)  # as the audit's solvers (see audit._Lp)
        highs.passModel(lp)
        local = {int(c): i for i, c in enumerate(columns)}
        self.models[part] = (highs, columns, local, rows[soft], upper)
        return self.models[part]

    def cover(self, failing: list[tuple[int, float, float]]) -> set[int]:
        """The cells to hide so that each failing cell of one part (with its interval, NaN when
        not computed) can make the moves it must, taken in order."""
        chosen: set[int] = set()
        for cell, low, high in failing:
            for move in _moves(self.current, cell, low, high, self.min_count):
                if not self.reached(cell, move):
                    chosen |= self.picks(cell, move) or set()
        return chosen

    @property
    def solves(self) -> int:
        return sum(self.part_solves.values())

    def _withdrawing(self, row: int) -> np.ndarray:
        """The published cells whose hiding withdraws a soft relation."""
        return self.slack_of.indices[self.slack_of.indptr[row]:self.slack_of.indptr[row + 1]]

    def reached(self, cell: int, move: float) -> bool:
        """Whether a perturbation found this round moves ``cell`` by ``move`` (any hidden cell
        other than a small one: by ``move`` either way, two whole numbers are enough)."""
        up, down = self.up_seen[cell], self.down_seen[cell]
        if self.either[cell]:
            return max(up, down) >= abs(move) - TOLERANCE
        return (up if move > 0 else down) >= abs(move) - TOLERANCE

    def picks(self, cell: int, move: float) -> set[int] | None:
        """Published cells to hide so that ``cell`` can move by ``move``; None if nothing can."""
        part = int(self.part[cell])
        highs, columns, local, soft_rows, upper = self._model(part)
        picked = self.picked.setdefault(part, set())
        n = len(columns)
        column = local[cell] if move > 0 else n + local[cell]
        opposite = column + n if move > 0 else column - n
        if upper[column] < abs(move) - TOLERANCE:
            return None
        highs.changeColBounds(column, abs(move), upper[column])
        highs.changeColBounds(opposite, 0.0, 0.0)  # the move is net of the cell's other way
        highs.run()
        self.part_solves[part] = self.part_solves.get(part, 0) + 1
        optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        values = np.asarray(highs.getSolution().col_value) if optimal else None
        for restore in (column, opposite):
            highs.changeColBounds(restore, 0.0, upper[restore])
        if values is None:
            return None
        moved = values[:n] + values[n:2 * n]
        net = values[:n] - values[n:2 * n]
        self.up_seen[columns] = np.maximum(self.up_seen[columns], net)
        self.down_seen[columns] = np.maximum(self.down_seen[columns], -net)
        out = {int(c) for c in columns[(moved > TOLERANCE) & self.hideable[columns]]}
        k = len(soft_rows)
        for i in np.flatnonzero(values[2 * n:2 * n + k] + values[2 * n + k:] > TOLERANCE):
            cells = self._withdrawing(soft_rows[i])
            if not out.intersection(cells.tolist()):
                price = [0.0 if c in picked else self.costs[c] for c in cells.tolist()]
                out.add(int(cells[np.argmin(price)]))
        # Hidden from now on: free to move in the next solves of this part.
        picked |= out
        for chosen in out:
            if chosen in local:
                position = local[chosen]
                highs.changeColCost(position, 0.0)
                highs.changeColCost(position + n, 0.0)
        return out
