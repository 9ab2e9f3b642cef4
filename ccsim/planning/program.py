"""The covering program: headcounts per shift template that put enough agents on the floor in
every interval, at least cost, solved as an integer program with HiGHS
(:func:`scipy.optimize.milp`)::

    minimise    sum_j cost_j x_j
    subject to  sum_s speed[s,d] y[s,d,k]  >= required[d,k]          each demand d, interval k
                sum_d y[s,d,k]  <=  sum_{j at s} coverage[j,k] x_j     each site s, interval k
                lo_s <= part-time paid hours / paid hours at s <= hi_s    each site s with bounds
                min_j <= x_j <= max_j integer,   y >= 0

A **demand** is what one pool of agents must supply: one channel, or several channels that
the same sites answer (a multi-skill site's agents take whichever contact comes, so its
channels are covered together, crediting the pooling). x_j is the headcount of template j;
y[s,d,k] the agents of site s given to demand d in interval k, only where the site answers
it; speed[s,d] is 1 / proficiency (a site whose agents take 25% longer needs 1.25 times the
agents).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse

from ccsim.model import ConfigError

__all__ = ["Demand", "Solution", "solve"]


@dataclass(frozen=True)
class Demand:
    """Agents (at proficiency 1) one pool must have available in each interval, and the
    sites that supply it with their speed (1 / proficiency)."""

    name: str
    required: np.ndarray
    speed: dict[str, float]


@dataclass(frozen=True)
class Solution:
    """What the solver returned: headcount per template, agents given to each demand, cost,
    and how the solve ended. ``status`` is ``"optimal"`` (within ``mip_gap`` of the least
    cost, as asked), ``"time limit"`` (the best found when time ran out; ``mip_gap`` says how
    far from the least it may be) or ``"rounded"`` (the rounded relaxation, branch and bound
    not asked for)."""

    headcounts: np.ndarray
    given: dict[tuple[str, str, int], float] = field(repr=False)
    cost: float
    status: str
    mip_gap: float
    solve_time: float
    #: Branch and bound ``"not run"`` (the rounding was within the gap, or not asked for),
    branch_and_bound: str = "not run"  # or ``"improved"`` the rounding, or ``"no better"``

    @property
    def time_limited(self) -> bool:
        return self.status == "time limit"


def solve(
    sites: list[str],
    template_sites: list[str],
    coverage: np.ndarray,
    costs: np.ndarray,
    demands: list[Demand],
    *,
    paid_hours: np.ndarray | None = None,
    part_time: np.ndarray | None = None,
    part_time_bounds: dict[str, tuple[float, float]] | None = None,
    min_headcount: np.ndarray | None = None,
    max_headcount: np.ndarray | None = None,
    time_limit: float = 60.0,
    mip_gap: float = 0.01,
    branch: bool = True,
) -> Solution:
    """Solve the covering program (``branch``: run branch and bound where the rounded
    relaxation is not within ``mip_gap``; without it, the rounded plan and its gap).

    ``coverage`` has one row per template (agents available per agent scheduled, per
    interval), ``template_sites`` the site of each, ``costs`` the pay of one agent.
    ``part_time`` flags part-time templates; ``part_time_bounds`` maps a site to the lowest
    and highest share of its paid hours (``paid_hours`` per agent of each template) that may
    be part time. An infeasible program is a :class:`ConfigError`.
    """
    if paid_hours is None:
        paid_hours = np.zeros(coverage.shape[0])
    bounded = [  # (site, low, high) of the sites whose part-time share is bounded
        (site, low, high)
        for site, (low, high) in (part_time_bounds or {}).items()
        if part_time is not None and not (low <= 0 and high >= 1)
    ]
    model = _Model.build(
        sites,
        template_sites,
        coverage,
        costs,
        demands,
        paid_hours=paid_hours,
        part_time=part_time,
        bounded=bounded,
        min_headcount=min_headcount,
        max_headcount=max_headcount,
        time_limit=time_limit,
        mip_gap=mip_gap,
    )
    started = time.perf_counter()
    chosen, status, gap, branched = _headcounts(model, template_sites, coverage, demands, branch)
    allocation_of = model.run(False, fixed=chosen)  # the agents of each site given to each demand
    solve_time = time.perf_counter() - started
    headcounts = np.zeros(coverage.shape[0], dtype=int)
    headcounts[model.useful] = np.round(chosen).astype(int)
    given = {
        (site, demands[d].name, k): float(value)
        for (site, d, k), value in zip(model.allocation, allocation_of.x[model.n_u :], strict=True)
    }
    return Solution(
        headcounts=headcounts,
        given=given,
        cost=float(costs @ headcounts),
        status=status,
        mip_gap=float(gap),
        solve_time=solve_time,
        branch_and_bound=branched,
    )


@dataclass(frozen=True)
class _Model:
    """The covering program in scipy's terms: one column per template that covers anything
    (``useful``) and one per allocation (site, demand, interval) where the site answers the
    demand and the demand needs agents; the covering and part-time constraints, the bounds and
    the objective."""

    useful: list[int]
    allocation: list[tuple[str, int, int]]
    constraints: list[optimize.LinearConstraint]
    share_rows: list[tuple[np.ndarray, np.ndarray, float, float]]
    objective: np.ndarray
    bounds: tuple[np.ndarray, np.ndarray]
    time_limit: float
    mip_gap: float

    @property
    def n_u(self) -> int:
        return len(self.useful)

    @property
    def n_y(self) -> int:
        return len(self.allocation)

    @classmethod
    def build(
        cls,
        sites,
        template_sites,
        coverage,
        costs,
        demands,
        *,
        paid_hours,
        part_time,
        bounded,
        min_headcount,
        max_headcount,
        time_limit,
        mip_gap,
    ) -> _Model:
        """The program's columns, constraints, bounds and objective."""
        useful = [j for j in range(coverage.shape[0]) if coverage[j].any()]
        allocation = [
            (s, d, int(k))
            for d, demand in enumerate(demands)
            for s in demand.speed
            if s in sites
            for k in np.flatnonzero(demand.required > 0)
        ]
        constraints = _covering(useful, allocation, template_sites, coverage, demands)
        share_rows = []  # per bounded site: paid hours, part-time paid hours, bounds
        for site, low, high in bounded:
            at_site = np.array([template_sites[j] == site for j in useful])
            hours = np.where(at_site, paid_hours[useful], 0.0)
            share_rows.append((hours, hours * part_time[useful], low, high))
            for share, lower, upper in ((high, -np.inf, 0.0), (low, 0.0, np.inf)):
                if (share >= 1 and upper == 0.0) or (share <= 0 and lower == 0.0):
                    continue
                row = np.zeros(len(useful) + len(allocation))
                for c, j in enumerate(useful):
                    if template_sites[j] == site:
                        row[c] = (float(part_time[j]) - share) * paid_hours[j]
                constraints.append(optimize.LinearConstraint(row[None, :], lower, upper))
        n_u, n_y = len(useful), len(allocation)
        low = np.zeros(n_u) if min_headcount is None else np.asarray(min_headcount)[useful]
        high = np.full(n_u, np.inf) if max_headcount is None else np.asarray(max_headcount)[useful]
        # Ties (sites that cost nothing, say) go to the fewest paid hours: a millionth of a
        # currency unit per hour changes no choice between different costs.
        objective = np.concatenate([costs[useful] + 1e-6 * paid_hours[useful], np.zeros(n_y)])
        bounds = (
            np.concatenate([low, np.zeros(n_y)]),
            np.concatenate([high, np.full(n_y, np.inf)]),
        )
        return cls(
            useful, allocation, constraints, share_rows, objective, bounds, time_limit, mip_gap
        )

    def run(
        self, integral: bool, fixed: np.ndarray | None = None, at_least: np.ndarray | None = None
    ):
        """HiGHS on the program: the LP relaxation or the integer program, with the headcounts
        ``fixed`` or raised to ``at_least``."""
        lower, upper = self.bounds[0].copy(), self.bounds[1].copy()
        if fixed is not None:
            lower[: self.n_u] = upper[: self.n_u] = fixed
        if at_least is not None:
            lower[: self.n_u] = np.maximum(lower[: self.n_u], at_least)
        return optimize.milp(
            self.objective,
            integrality=np.array([int(integral)] * self.n_u + [0] * self.n_y),
            bounds=optimize.Bounds(lower, upper),
            constraints=self.constraints,
            options={"time_limit": self.time_limit, "mip_rel_gap": self.mip_gap, "disp": False},
        )

    def shares_hold(self, x: np.ndarray) -> bool:
        """Whether headcounts ``x`` keep every bounded site's part-time share within bounds."""
        for hours, part, low_share, high_share in self.share_rows:
            paid, on_part = hours @ x, part @ x
            if paid > 0 and not low_share - 1e-9 <= on_part / paid <= high_share + 1e-9:
                return False
        return True


def _covering(useful, allocation, template_sites, coverage, demands) -> list:
    """The demand rows (each demand's agents at their speed, per interval, at least the
    requirement) and the capacity rows (a site gives no more agents than its templates put on
    the floor, per interval)."""
    n_u, n_y = len(useful), len(allocation)
    demand_rows = {
        (d, int(k)): i
        for i, (d, k) in enumerate(
            (d, k) for d, demand in enumerate(demands) for k in np.flatnonzero(demand.required > 0)
        )
    }
    capacity_rows = {key: i for i, key in enumerate(sorted({(s, k) for s, _, k in allocation}))}
    demand_matrix = sparse.lil_array((len(demand_rows), n_u + n_y))
    capacity = sparse.lil_array((len(capacity_rows), n_u + n_y))
    for column, (s, d, k) in enumerate(allocation, start=n_u):
        demand_matrix[demand_rows[(d, k)], column] = demands[d].speed[s]
        capacity[capacity_rows[(s, k)], column] = 1.0
    for column, j in enumerate(useful):
        for k in np.flatnonzero(coverage[j]):
            row = capacity_rows.get((template_sites[j], int(k)))
            if row is not None:
                capacity[row, column] = -coverage[j, k]
    required = np.array([demands[d].required[k] for d, k in demand_rows])
    return [
        optimize.LinearConstraint(demand_matrix.tocsr(), required, np.inf),
        optimize.LinearConstraint(capacity.tocsr(), -np.inf, 0.0),
    ]


def _headcounts(model: _Model, template_sites, coverage, demands, branch: bool = True):
    """The chosen headcounts, the status, the gap to the bound and what branch and bound
    did. HiGHS can take long to find a good integer solution of a large covering program
    whose LP relaxation is near-integral: round the relaxation up and drop what is not
    needed; branch and bound only if that is not within the gap (and ``branch``)."""
    relaxed = model.run(False)
    if relaxed.x is None:
        reason = "infeasible" if relaxed.status == 2 else relaxed.message
        raise ConfigError(
            "",
            "shifts",
            f"no schedule within the headcount bounds (and part-time shares) covers the "
            f"requirement ({reason}); add templates or relax the bounds",
        )
    bound = float(relaxed.fun)
    costs, n_u = model.objective[: model.n_u], model.n_u
    rounded = _round(
        _dive(relaxed.x[:n_u], model.run),
        model.useful,
        template_sites,
        coverage,
        demands,
        model.bounds[0][:n_u],
        costs,
        model.shares_hold,
    )
    if rounded is not None and not model.shares_hold(rounded):
        rounded = None
    chosen, status, gap, branched = None, "time limit", math.inf, "not run"
    if rounded is not None:
        cost = float(costs @ rounded)
        chosen, gap = rounded, (cost - bound) / cost if cost > 0 else 0.0
        status = "optimal" if gap <= model.mip_gap + 1e-12 else "time limit"
    if status != "optimal" and (branch or chosen is None):
        result, branched = model.run(True), "no better"
        if result.x is not None:
            exact = np.round(result.x[:n_u])
            cost = float(costs @ exact)
            proven = float(getattr(result, "mip_dual_bound", bound) or bound)
            bound = max(bound, proven if math.isfinite(proven) else bound)
            if chosen is None or cost < float(costs @ chosen):
                chosen, branched = exact, "improved"
            cost = float(costs @ chosen)
            gap = max(0.0, (cost - bound) / cost) if cost > 0 else 0.0
            optimal = result.status == 0 or gap <= model.mip_gap + 1e-12
            status = "optimal" if optimal else "time limit"
    if chosen is None:
        raise ConfigError("", "shifts", "the integer program found no schedule in its time limit")
    rounded_only = branched == "not run" and status != "optimal"
    return chosen, "rounded" if rounded_only else status, gap, branched


def _interval_feasible(capacity: dict[str, float], needs: list[tuple[float, dict]]) -> bool:
    """Whether sites with ``capacity`` agents in one interval can supply every demand
    ``(required, speed per site)``: a transportation problem, trivial when each site serves
    one demand."""
    served = defaultdict(int)
    for _, speed in needs:
        for s in speed:
            served[s] += 1
    if all(served[s] == 1 for _, speed in needs for s in speed):
        return all(
            sum(speed[s] * capacity.get(s, 0.0) for s in speed) >= required - 1e-6
            for required, speed in needs
        )
    pairs = [(d, s) for d, (_, speed) in enumerate(needs) for s in speed]
    sites = sorted({s for _, s in pairs})
    a_ub, b_ub = [], []
    for d, (required, speed) in enumerate(needs):
        a_ub.append([-speed[s] if dd == d else 0.0 for dd, s in pairs])
        b_ub.append(-required)
    for site in sites:
        a_ub.append([1.0 if s == site else 0.0 for _, s in pairs])
        b_ub.append(capacity.get(site, 0.0))
    result = optimize.linprog(np.zeros(len(pairs)), A_ub=a_ub, b_ub=b_ub, method="highs")
    return result.status == 0


def _dive(x: np.ndarray, run, rounds: int = 60) -> np.ndarray:
    """An integral point near the LP optimum: keep every headcount at least at its integer
    part, round up the fractions of one half or more (or, when none is, those of at least half the
    largest), re-solve, repeat."""
    at_least = np.zeros(len(x))
    for _ in range(rounds):
        fraction = x - np.floor(x + 1e-7)
        fraction[fraction < 1e-7] = 0.0
        if not fraction.any():
            break
        up = fraction >= min(0.5, 0.5 * fraction.max())  # the largest fractions at least
        at_least = np.maximum(at_least, np.floor(x + 1e-7))
        at_least[up] = np.ceil(x[up] - 1e-7)
        result = run(False, at_least=at_least)
        if result.x is None:
            break
        x = result.x[: len(x)]
    return x


def _round(
    x, useful, template_sites, coverage, demands, low, costs, shares_hold
) -> np.ndarray | None:
    """The LP solution rounded up, then, dearest template first, each headcount lowered while
    every interval stays covered (None if rounding up does not cover, which cannot happen
    unless the relaxation was solved loosely)."""
    x = np.ceil(np.asarray(x) - 1e-6)
    rows = coverage[useful]
    sites = sorted({template_sites[j] for j in useful})
    site_of = np.array([sites.index(template_sites[j]) for j in useful])
    capacity = np.zeros((len(sites), rows.shape[1]))
    for c in range(len(useful)):
        capacity[site_of[c]] += rows[c] * x[c]
    needs = [
        [(float(d.required[k]), d.speed) for d in demands if d.required[k] > 0]
        for k in range(rows.shape[1])
    ]

    def covered(k: int) -> bool:
        return _interval_feasible({s: capacity[i, k] for i, s in enumerate(sites)}, needs[k])

    if not all(covered(k) for k in range(rows.shape[1]) if needs[k]):
        return None
    for c in np.argsort(-np.asarray(costs), kind="stable"):
        touched = np.flatnonzero(rows[c])
        while x[c] > low[c]:
            capacity[site_of[c]] -= rows[c]
            x[c] -= 1
            if all(covered(int(k)) for k in touched if needs[k]) and shares_hold(x):
                continue
            x[c] += 1
            capacity[site_of[c]] += rows[c]
            break
    return x
