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

import time
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
    cost, as asked) or ``"time limit"`` (the best found when time ran out; ``mip_gap`` says how
    far from the least it may be)."""

    headcounts: np.ndarray
    given: dict[tuple[str, str, int], float] = field(repr=False)
    cost: float
    status: str
    mip_gap: float
    solve_time: float

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
) -> Solution:
    """Solve the covering program.

    ``coverage`` has one row per template (agents available per agent scheduled, per
    interval), ``template_sites`` the site of each, ``costs`` the pay of one agent.
    ``part_time`` flags part-time templates; ``part_time_bounds`` maps a site to the lowest
    and highest share of its paid hours (``paid_hours`` per agent of each template) that may
    be part time. An infeasible program is a :class:`ConfigError`.
    """
    n_x, n_k = coverage.shape
    if paid_hours is None:
        paid_hours = np.zeros(n_x)
    useful = [j for j in range(n_x) if coverage[j].any()]
    allocation = [
        (s, d, int(k))
        for d, demand in enumerate(demands)
        for s in demand.speed
        if s in sites
        for k in np.flatnonzero(demand.required > 0)
    ]
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
    constraints = [
        optimize.LinearConstraint(demand_matrix.tocsr(), required, np.inf),
        optimize.LinearConstraint(capacity.tocsr(), -np.inf, 0.0),
    ]
    for site, (low, high) in (part_time_bounds or {}).items():
        if part_time is None or (low <= 0 and high >= 1):
            continue
        at_site = [c for c, j in enumerate(useful) if template_sites[j] == site]
        for share, lower, upper in ((high, -np.inf, 0.0), (low, 0.0, np.inf)):
            if (share >= 1 and upper == 0.0) or (share <= 0 and lower == 0.0):
                continue
            row = np.zeros(n_u + n_y)
            for c in at_site:
                j = useful[c]
                row[c] = (float(part_time[j]) - share) * paid_hours[j]
            constraints.append(optimize.LinearConstraint(row[None, :], lower, upper))
    low = np.zeros(n_u) if min_headcount is None else np.asarray(min_headcount)[useful]
    high = np.full(n_u, np.inf) if max_headcount is None else np.asarray(max_headcount)[useful]
    # Ties (sites that cost nothing, say) go to the fewest paid hours: a millionth of a
    # currency unit per hour changes no choice between different costs.
    objective = np.concatenate([costs[useful] + 1e-6 * paid_hours[useful], np.zeros(n_y)])
    started = time.perf_counter()
    result = optimize.milp(
        objective,
        integrality=np.array([1] * n_u + [0] * n_y),
        bounds=optimize.Bounds(
            np.concatenate([low, np.zeros(n_y)]), np.concatenate([high, np.full(n_y, np.inf)])
        ),
        constraints=constraints,
        options={"time_limit": time_limit, "mip_rel_gap": mip_gap, "disp": False},
    )
    solve_time = time.perf_counter() - started
    if result.x is None:
        reason = "infeasible" if result.status == 2 else result.message
        raise ConfigError(
            "",
            "shifts",
            f"no schedule within the headcount bounds (and part-time shares) covers the "
            f"requirement ({reason}); add templates or relax the bounds",
        )
    headcounts = np.zeros(n_x, dtype=int)
    headcounts[useful] = np.round(result.x[:n_u]).astype(int)
    given = {
        (sites_name, demands[d].name, k): float(value)
        for (sites_name, d, k), value in zip(allocation, result.x[n_u:], strict=True)
    }
    return Solution(
        headcounts=headcounts,
        given=given,
        cost=float(costs @ headcounts),
        status="optimal" if result.status == 0 else "time limit",
        mip_gap=float(getattr(result, "mip_gap", 0.0) or 0.0),
        solve_time=solve_time,
    )
