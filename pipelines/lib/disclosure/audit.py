"""The disclosure audit: what an attacker who does arithmetic can derive about each hidden cell.

The attacker (DOMAIN.md §6) holds every published figure and knows every relation between them:
parts add up to their totals, the region is the sum of its members, a year is its four quarters,
a share is part / total, a `<5` is 1..4, a count is never negative. Some attackers are insiders
who also know one member's own unsuppressed figures.

A :class:`System` states that knowledge as linear relations over cells. Published cells are
constants; hidden cells are variables with the bounds the attacker knows (a primary ``A`` cell in
1..min_count-1, anything else >= 0). Linear programming (HiGHS) then gives, for a hidden cell, the
smallest and the largest value consistent with everything published: its feasibility interval.

Protection standard: no hidden cell of a count other than 0 is pinned to one whole number, and
no primary cell's interval is narrower than 1..min_count-1 (an attacker cannot tell 1 from 4). A
withheld cell (status N, detail of a small series published without a "<5" flag) is known to the
attacker only as a count; where its true value is small it must reach 1 and min_count-1 like a
primary cell (:func:`no_secret`: which hidden cells need nothing).

Two LPs per hidden cell would take hours on a coalition's history, so cells are *certified* in
batches: every feasible point found shows the values a cell can take (the true figures are one
such point), and an LP that pushes many cells at once towards the bounds they still have to reach
certifies all of them that get there. Only the cells no batch certifies get LPs of their own, on
their own connected part of the system, and those give exact intervals: the leaks.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

PUBLISHED = "F"
PRIMARY = "A"
SECONDARY = "D"
# Detail of a small series that is not published at all (breakdowns, quarters, flows: no figure
# and no `<5` flag; dbt's disclosure_withheld). The attacker only knows it is a count; it must be protected
# like a primary cell where its true value is small, and needs nothing where it is 0 or large
# (such a value the primary rule would have published).
WITHHELD = "N"
# A flow the flows mart leaves out for being under its minimum (no figure and no flag): the
# attacker who knows that rule knows it is 0..min_count-1, and, like a withheld cell, it is a
# secret only where it is 1..min_count-1.
UNSHOWN = "S"
UNPUBLISHED = "X"  # a quantity no table shows, that a published figure rests on

# A hidden count the attacker can only bound by "it is a count": large enough never to bind.
UNBOUNDED = 1e9
TOLERANCE = 1e-6

# HiGHS lets go of Python's lock while it solves, and the connected parts of a system are
# independent LPs, so threads solve them side by side. What is found in a part depends on that
# part alone, never on which thread took it or when: the outcome is the same for any number of
# threads (a test compares one with several).
WORKERS = max(1, min(4, os.cpu_count() or 1))


def each_part(work: Callable, groups: Sequence, sizes: Sequence[int]) -> list:
    """``work`` on every group, the largest first, on up to WORKERS threads; results in the
    order of ``groups``."""
    if WORKERS == 1 or len(groups) < 2:
        return [work(group) for group in groups]
    order = sorted(range(len(groups)), key=lambda i: -sizes[i])
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = dict(zip(order, pool.map(lambda i: work(groups[i]), order), strict=True))
    return [done[i] for i in range(len(groups))]


@dataclass
class System:
    """Cells and the linear relations between them that every reader knows.

    ``relations``: sparse matrix, one row per relation ``row · cells (= or <=) rhs``; ``equality``
    says which rows are equalities (the others are ``<=``).
    """

    ids: list[str]
    truth: np.ndarray  # true values
    status: np.ndarray  # F, A, D or X per cell
    owner: np.ndarray  # the member whose own figure the cell is (ISO3), else ''
    relations: sparse.csr_matrix
    rhs: np.ndarray
    equality: np.ndarray
    relation_kinds: list[str] = field(default_factory=list)
    # Cells the attacker knows whatever this publication shows (an earlier one showed their
    # value): their status is F, and hiding them protects nothing. None: no such cell.
    fixed: np.ndarray | None = None

    @property
    def n_cells(self) -> int:
        return len(self.ids)


@dataclass
class CellLeak:
    cell_id: str
    status: str
    truth: float
    low: float
    high: float
    insider: str  # '' for an outsider


@dataclass
class AuditResult:
    cells: int
    hidden: int
    relations: int
    leaks: list[CellLeak]
    narrowest: tuple[str, float, float] | None  # (cell, low, high) of the narrowest interval
    narrowest_width: float | None
    lp_solves: int
    seconds: float
    attackers: list[str]
    # Cells no batch certified and left without an exact interval (``exact_limit``): they count
    # as failing, since the audit cannot show them protected.
    unexamined: set[str] = field(default_factory=set)

    @property
    def failing(self) -> int:
        """Distinct cells that fail the standard for some attacker (or could not be shown not to)."""
        return len({leak.cell_id for leak in self.leaks} | self.unexamined)

    @property
    def passed(self) -> bool:
        return not self.failing


def _bounds(status: np.ndarray, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.zeros(len(status))
    high = np.full(len(status), UNBOUNDED)
    primary = status == PRIMARY
    low[primary] = 1.0
    high[primary | (status == UNSHOWN)] = float(min_count - 1)
    return low, high


def no_secret(status: np.ndarray, truth: np.ndarray, min_count: int) -> np.ndarray:
    """Hidden cells that need no protection: a withheld or unshown cell of 0 or >= min_count (the
    primary rule would have published it), and a secondary cell of 0. A zero counts nobody: the
    primary rule publishes zeros, and where an insider's own `<5` equals a `<5` region, the other
    members' zeros follow whatever else is hidden. The cells it was hidden to protect are audited
    themselves."""
    small = (truth >= 1) & (truth < min_count)
    return (np.isin(status, (WITHHELD, UNSHOWN)) & ~small) | ((status == SECONDARY) & (truth < 1))


def _needs(status: np.ndarray, truth: np.ndarray, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """The values each hidden cell's interval must reach: 1 and min_count - 1 for a primary cell
    and for a withheld one whose true value is small (an attacker must not tell 1 from 4); NaN for
    any other hidden cell (two whole numbers are enough); a withheld cell of value 0 or >=
    min_count needs nothing (+inf, -inf)."""
    need_low = np.full(len(status), np.nan)
    need_high = np.full(len(status), np.nan)
    small = (truth >= 1) & (truth < min_count)
    secret = np.isin(status, (WITHHELD, UNSHOWN))
    reach = (status == PRIMARY) | (secret & small)
    need_low[reach], need_high[reach] = 1.0, float(min_count - 1)
    free = no_secret(status, truth, min_count)
    need_low[free], need_high[free] = np.inf, -np.inf
    return need_low, need_high


def _satisfied(low_seen, high_seen, need_low, need_high) -> np.ndarray:
    """Which cells the feasible points seen so far show to be protected."""
    reach = ~np.isnan(need_low)
    reaches = (low_seen <= need_low + TOLERANCE) & (high_seen >= need_high - TOLERANCE)
    # Two feasible values at least 1 apart: the interval holds two whole numbers (the true value
    # is a whole number and one of the points).
    spread = (high_seen - low_seen) >= 1 - TOLERANCE
    return np.where(reach, reaches, spread)


class _Lp:
    """One HiGHS model over a subset of the variables; the objective changes between solves."""

    def __init__(self, matrix: sparse.csr_matrix, rhs, equality, low, high):
        csc = matrix.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_ = csc.shape[1]
        lp.num_row_ = csc.shape[0]
        lp.col_cost_ = np.zeros(csc.shape[1])
        lp.col_lower_ = low
        lp.col_upper_ = high
        lp.row_lower_ = np.where(equality, rhs, -highspy.kHighsInf)
        lp.row_upper_ = rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr
        lp.a_matrix_.index_ = csc.indices
        lp.a_matrix_.value_ = csc.data
        lp.sense_ = highspy.ObjSense.kMaximize
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("random_seed", 0)
        # One thread each: parts are already solved side by side, several solvers at a time.
        self.highs.setOptionValue("threads", 1)
        self.highs.passModel(lp)
        self.n = csc.shape[1]

    def maximise(self, cost: np.ndarray) -> np.ndarray | None:
        self.highs.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(self.highs.getSolution().col_value)


def audit(
    system: System,
    min_count: int,
    insiders: list[str] | tuple[str, ...] = (),
    max_batch_rounds: int = 12,
    exact_limit: int | None = None,
) -> AuditResult:
    """Audit ``system`` for an outsider and for each insider member in ``insiders``.

    ``exact_limit``: per attacker, at most this many uncertified cells get exact intervals (two
    LPs each); the rest are counted in ``unexamined``. The pass / fail verdict is the same.
    """
    started = time.perf_counter()
    leaks: list[CellLeak] = []
    solves = 0
    unexamined: set[str] = set()
    narrowest: tuple[str, float, float] | None = None
    attackers = ["", *insiders]
    # Never a leak, nor the narrowest interval.
    free = no_secret(system.status, system.truth, min_count)
    for insider in attackers:
        known, targets = attacker_view(system, insider)
        targets &= ~free
        found, lows, highs, n, skipped = _audit_one(system, known, targets, min_count,
                                                     max_batch_rounds, exact_limit)
        solves += n
        unexamined |= {system.ids[i] for i in skipped}
        for index, (low, high) in found.items():
            leaks.append(CellLeak(system.ids[index], str(system.status[index]),
                                  float(system.truth[index]), low, high, insider))
        if not insider:
            narrowest, width_solves = _narrowest(system, known, targets, min_count, lows, highs)
            solves += width_solves
    return AuditResult(
        cells=system.n_cells,
        hidden=hidden_count(system),
        relations=system.relations.shape[0],
        leaks=leaks,
        narrowest=narrowest,
        narrowest_width=None if narrowest is None else narrowest[2] - narrowest[1],
        lp_solves=solves,
        seconds=time.perf_counter() - started,
        attackers=["outsider" if not a else a for a in attackers],
        unexamined=unexamined,
    )


def hidden_count(system: System) -> int:
    """Cells a reader sees as hidden (not the ones no table shows at all)."""
    return int(((system.status != PUBLISHED) & (system.status != UNPUBLISHED)).sum())


def blocks(system: System) -> np.ndarray:
    """The block of each hidden cell (-1 for a published one): hidden cells linked through the
    relations they share. What any attacker can derive about a hidden cell depends on its block
    alone, with the published figures in its relations (constants to every attacker: a relation
    between published cells alone, such as a change from one published year to the next, tells
    nobody anything, so it links no blocks). Knowing more (an insider's own cells) only splits a
    block."""
    labels = np.full(system.n_cells, -1)
    hidden = np.flatnonzero(system.status != PUBLISHED)
    links = system.relations[:, hidden].tocsr()
    links = links[np.diff(links.indptr) > 0]
    graph = sparse.bmat([[None, links.T], [links, None]], format="csr")
    if graph.shape[0]:
        _, parts = csgraph.connected_components(graph, directed=False)
        labels[hidden] = parts[:len(hidden)]
    return labels


def block_fingerprints(system: System, labels: np.ndarray, salt: str) -> dict[int, str]:
    """A digest of each block's content: its hidden cells and every relation they are in, with
    each term's figure and status, in an order that does not depend on how they were read. Two
    blocks with the same digest (under the same ``salt``: threshold, attackers, this module) get
    the same verdict from every attacker."""
    cells: dict[int, list[str]] = defaultdict(list)
    for index in np.flatnonzero(labels >= 0):
        cells[int(labels[index])].append(f"{system.ids[index]}\t{float(system.truth[index])!r}\t"
                                         f"{system.status[index]}\t{system.owner[index]}")
    rows: dict[int, list[str]] = defaultdict(list)
    matrix = system.relations.tocsr()
    for row in range(matrix.shape[0]):
        columns = matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]]
        inside = labels[columns]
        if not (inside >= 0).any():
            continue
        terms = sorted(f"{system.ids[c]}*{float(v)!r}@{float(system.truth[c])!r}:{system.status[c]}"
                       for c, v in zip(columns, matrix.data[matrix.indptr[row]:matrix.indptr[row + 1]],
                                       strict=True))
        rows[int(inside[inside >= 0][0])].append(
            f"{' '.join(terms)}{'=' if system.equality[row] else '<='}{float(system.rhs[row])!r}")
    prints = {}
    for label, texts in cells.items():
        digest = hashlib.sha256(salt.encode())
        for text in (*sorted(texts), "|", *sorted(rows.get(label, ()))):
            digest.update(text.encode())
            digest.update(b"\n")
        prints[label] = digest.hexdigest()
    return prints


def audit_salt(min_count: int, insiders) -> str:
    """What a block's verdict depends on besides its content: the threshold, the attackers and
    the standard and method (this module's code)."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return f"{min_count}|{','.join(sorted(insiders))}|{code}"


def subsystem(system: System, cells: np.ndarray) -> System:
    """The hidden cells where ``cells`` is true (whole blocks), every relation they are in and the
    published cells of those relations: the same intervals for them as in ``system``."""
    rows = np.flatnonzero(np.diff(system.relations[:, np.flatnonzero(cells)].tocsr().indptr) > 0)
    relations = system.relations[rows].tocsc()
    index = np.flatnonzero(cells | (np.diff(relations.indptr) > 0))
    kinds = system.relation_kinds
    return System(
        ids=[system.ids[i] for i in index], truth=system.truth[index],
        status=system.status[index], owner=system.owner[index],
        relations=relations[:, index].tocsr(), rhs=system.rhs[rows],
        equality=system.equality[rows], relation_kinds=[kinds[r] for r in rows] if kinds else [],
        fixed=None if system.fixed is None else system.fixed[index])


def attacker_view(system: System, insider: str) -> tuple[np.ndarray, np.ndarray]:
    """What an attacker knows (published cells, and an insider's own) and which cells it targets."""
    hidden = system.status != PUBLISHED
    known = ~hidden | ((system.owner == insider) if insider else np.zeros_like(hidden))
    targets = hidden & (system.status != UNPUBLISHED) & ~known
    if insider:
        # An insider learns nothing new about its own cells nor about the region (a sum over
        # several members); its targets are the other members' hidden cells.
        targets &= (system.owner != "") & (system.owner != insider)
    return known, targets


@dataclass
class _Sub:
    """The system restricted to the unknown cells, with its connected parts."""

    variables: np.ndarray  # cell index of each variable
    matrix: sparse.csr_matrix
    rhs: np.ndarray
    equality: np.ndarray
    low: np.ndarray
    high: np.ndarray
    need_low: np.ndarray  # what each variable's interval must reach (see _needs)
    need_high: np.ndarray
    part: np.ndarray  # connected part of each variable
    row_part: np.ndarray
    _members: dict | None = None
    _local: np.ndarray | None = None  # each variable's position among its part's variables

    def members(self, part: int) -> tuple[np.ndarray, np.ndarray]:
        """The variables (ascending positions) and the relations of one connected part."""
        self._index()
        entry = self._members.get(part, {})
        empty = np.zeros(0, dtype=np.int64)
        return entry.get("columns", empty), entry.get("rows", empty)

    def _index(self) -> None:
        """The parts' members and each variable's place in its part, built once and set whole:
        parts are read from several threads."""
        if self._members is not None:
            return
        members: dict[int, dict[str, np.ndarray]] = {}
        local = np.empty(len(self.variables), dtype=np.int64)
        for name, labels in (("columns", self.part), ("rows", self.row_part)):
            for label, chunk in group_by(labels, np.arange(len(labels))):
                members.setdefault(label, {})[name] = chunk
                if name == "columns":
                    local[chunk] = np.arange(len(chunk))
        self._local, self._members = local, members

    def by_part(self, positions: np.ndarray) -> list[np.ndarray]:
        """``positions`` grouped by connected part, each group in the given order, the groups
        in the order of their first position."""
        rank = {p: i for i, p in enumerate(positions.tolist())}
        groups = group_by(self.part[positions], positions)
        return [chunk for _, chunk in sorted(groups, key=lambda g: rank[int(g[1][0])])]

    def part_matrix(self, part: int) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """The relations of one part over its own variables, with their columns and rows: the
        part's rows sliced, their column indices renumbered within the part (every term of a
        part's relation is a variable of that part). Slicing the columns of the whole matrix
        instead costs its full width for every part."""
        columns, rows = self.members(part)
        block = self.matrix[rows]
        matrix = sparse.csr_matrix((block.data, self._local[block.indices], block.indptr),
                                   shape=(len(rows), len(columns)))
        return matrix, columns, rows


def group_by(labels: np.ndarray, values: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``values`` grouped by ``labels`` (a stable sort: each group keeps the values' order)."""
    if not len(labels):
        return []
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [(int(labels[chunk[0]]), values[chunk]) for chunk in np.split(order, cuts)]


def restrict(system: System, known: np.ndarray, min_count: int) -> _Sub:
    variables = np.flatnonzero(~known)
    matrix = system.relations
    rhs = system.rhs - matrix[:, np.flatnonzero(known)] @ system.truth[known]
    sub = matrix[:, variables].tocsr()
    keep = np.diff(sub.indptr) > 0
    sub, rhs, equality = sub[keep], rhs[keep], system.equality[keep]
    low, high = _bounds(system.status[variables], min_count)
    need_low, need_high = _needs(system.status[variables], system.truth[variables], min_count)
    n_var, n_row = len(variables), sub.shape[0]
    # Variables and relations as one bipartite graph: its connected parts are independent LPs.
    graph = sparse.bmat([[None, sub.T], [sub, None]], format="csr")
    if graph.shape[0]:
        _, labels = csgraph.connected_components(graph, directed=False)
    else:
        labels = np.zeros(0, dtype=np.int64)
    return _Sub(variables, sub, rhs, equality, low, high, need_low, need_high, labels[:n_var], labels[n_var:n_var + n_row])


def _lp_over(sub: _Sub, parts: int | list[int]) -> tuple[_Lp, np.ndarray]:
    """An LP over the variables of one or more connected parts, and their positions in ``sub``
    (ascending)."""
    blocks = [sub.part_matrix(part) for part in ([parts] if isinstance(parts, int) else parts)]
    matrix, columns, rows = blocks[0]
    if len(blocks) > 1:
        columns = np.concatenate([b[1] for b in blocks])
        rows = np.concatenate([b[2] for b in blocks])
        order = np.argsort(columns)
        matrix = sparse.block_diag([b[0] for b in blocks], format="csr")[:, order]
        columns = columns[order]
    return _Lp(matrix, sub.rhs[rows], sub.equality[rows], sub.low[columns], sub.high[columns]), columns


def _interval(lp: _Lp, column: int) -> tuple[float, float]:
    """The exact feasibility interval of one variable of ``lp`` (two solves)."""
    cost = np.zeros(lp.n)
    bounds = []
    for sign in (-1.0, 1.0):
        cost[column] = sign
        solution = lp.maximise(cost)
        bounds.append(float(solution[column]) if solution is not None else float("nan"))
    return bounds[0], bounds[1]


def _audit_one(system, known, targets, min_count, max_rounds, exact_limit=None):
    """Leaks (cell index -> exact interval) for one attacker, the intervals seen, the LP count and
    the uncertified cells left without an exact interval."""
    sub = restrict(system, known, min_count)
    pending, low_seen, high_seen, solves = certify(system, sub, targets, max_rounds)
    skipped = np.zeros(0, dtype=int)
    if exact_limit is not None and len(pending) > exact_limit:
        skipped = sub.variables[pending[exact_limit:]]
        pending = pending[:exact_limit]
    leaks, exact_solves = exact_leaks(sub, pending, low_seen, high_seen)
    lows = np.full(system.n_cells, np.nan)
    highs = np.full(system.n_cells, np.nan)
    lows[sub.variables] = low_seen
    highs[sub.variables] = high_seen
    return leaks, lows, highs, solves + exact_solves, skipped


def certify(system: System, sub: _Sub, targets: np.ndarray, max_rounds: int):
    """Batch certification: the target cells (positions in ``sub``) that no feasible point found
    shows to be protected, the values seen per variable and the LP count."""
    position = np.full(system.n_cells, -1)
    position[sub.variables] = np.arange(len(sub.variables))
    target_pos = position[np.flatnonzero(targets)]
    # The true figures are a feasible point: the first values seen.
    low_seen = system.truth[sub.variables].astype(float).copy()
    high_seen = low_seen.copy()
    pending = target_pos[~_satisfied(low_seen[target_pos], high_seen[target_pos],
                                     sub.need_low[target_pos], sub.need_high[target_pos])]
    if not len(pending):
        return pending, low_seen, high_seen, 0
    bins = _bins(sub, sub.by_part(pending))
    results = each_part(lambda group: _certify_bin(sub, group, low_seen, high_seen, max_rounds),
                        bins, [size for _, size in bins])
    left = np.concatenate([still for still, _ in results])
    return pending[np.isin(pending, left)], low_seen, high_seen, sum(n for _, n in results)


# Small parts are certified together, in one LP of about this many variables: a model per part
# costs more than its solves where a long history has tens of thousands of small parts. The bins
# follow the parts' order alone, so they are the same for any number of threads.
BIN_VARIABLES = 2000


def _bins(sub: _Sub, groups: list[np.ndarray]) -> list[tuple[list[np.ndarray], int]]:
    """Consecutive groups of pending positions (one per part) packed into bins of about
    BIN_VARIABLES variables; a large part is a bin of its own. Each bin with its size."""
    bins: list[tuple[list[np.ndarray], int]] = []
    current: list[np.ndarray] = []
    size = 0
    for group in groups:
        n = len(sub.members(int(sub.part[group[0]]))[0])
        if current and size + n > BIN_VARIABLES:
            bins.append((current, size))
            current, size = [], 0
        current.append(group)
        size += n
    if current:
        bins.append((current, size))
    return bins


def _certify_bin(sub: _Sub, item, low_seen, high_seen, max_rounds: int):
    """:func:`certify` on the parts of one bin: one model for every round, only the objective
    changes, so HiGHS starts each solve from the last basis. Writes the values seen of the bin's
    variables only."""
    groups, _ = item
    lp, columns = _lp_over(sub, [int(sub.part[g[0]]) for g in groups])
    pending = np.sort(np.concatenate(groups))
    solves = 0
    for _ in range(max_rounds):
        if not len(pending):
            break
        before = len(pending)
        primary = ~np.isnan(sub.need_low[pending])
        # Push each pending cell towards the bound it has not been seen at; the second solve
        # pushes the other cells (not yet spread) the other way.
        need_up = np.where(primary, high_seen[pending] < sub.need_high[pending] - TOLERANCE,
                           True)
        for flip in (False, True):
            direction = np.where(need_up, 1.0, -1.0)
            if flip:
                direction = np.where(primary, direction, -direction)
            cost = np.zeros(len(columns))
            cost[np.searchsorted(columns, pending)] = direction
            solution = lp.maximise(cost)
            solves += 1
            if solution is None:
                continue
            low_seen[columns] = np.minimum(low_seen[columns], solution)
            high_seen[columns] = np.maximum(high_seen[columns], solution)
        ok = _satisfied(low_seen[pending], high_seen[pending],
                        sub.need_low[pending], sub.need_high[pending])
        pending = pending[~ok]
        if len(pending) == before:
            break
    return pending, solves


def exact_leaks(sub: _Sub, pending: np.ndarray, low_seen, high_seen):
    """Exact intervals of the ``pending`` positions, one LP model per connected part (only the
    objective changes between its cells, so HiGHS starts from the last basis): the positions that
    fail the standard, with their intervals, and the LP count."""

    def one_part(positions: np.ndarray) -> list[tuple[int, float, float]]:
        lp, columns = _lp_over(sub, int(sub.part[positions[0]]))
        return [(int(pos), *_interval(lp, int(np.searchsorted(columns, pos))))
                for pos in positions]

    groups = sub.by_part(pending) if len(pending) else []
    leaks: dict[int, tuple[float, float]] = {}
    for found in each_part(one_part, groups, [len(g) for g in groups]):
        for pos, low, high in found:
            low_seen[pos], high_seen[pos] = min(low_seen[pos], low), max(high_seen[pos], high)
            if not _satisfied(np.array([low]), np.array([high]),
                              sub.need_low[[pos]], sub.need_high[[pos]])[0]:
                leaks[int(sub.variables[pos])] = (low, high)
    return leaks, 2 * len(pending)


def _narrowest(system, known, targets, min_count, lows, highs, limit: int = 40):
    """The narrowest feasibility interval among the outsider's targets, exactly.

    A width seen from feasible points is a lower bound of the true width, so exact intervals are
    computed in order of the width seen until the next width seen is no smaller than the best
    exact one (at most ``limit`` cells; beyond that the result is the best found).
    """
    indices = np.flatnonzero(targets)
    if not len(indices):
        return None, 0
    seen = np.minimum(highs[indices], UNBOUNDED) - lows[indices]
    order = indices[np.argsort(seen, kind="stable")]
    sub = restrict(system, known, min_count)
    position = np.full(system.n_cells, -1)
    position[sub.variables] = np.arange(len(sub.variables))
    best: tuple[str, float, float] | None = None
    solves = 0
    models: dict[int, tuple[_Lp, np.ndarray]] = {}
    for index in order[:limit]:
        width_seen = min(highs[index], UNBOUNDED) - lows[index]
        if best is not None and width_seen >= best[2] - best[1]:
            break
        pos = position[index]
        part = int(sub.part[pos])
        if part not in models:
            models[part] = _lp_over(sub, part)
        lp, columns = models[part]
        low, high = _interval(lp, int(np.searchsorted(columns, pos)))
        solves += 2
        if best is None or high - low < best[2] - best[1]:
            best = (system.ids[index], low, high)
    return best, solves
