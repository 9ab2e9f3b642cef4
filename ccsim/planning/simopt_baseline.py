"""The two-step method on CALLCENTER-1, the warm start of the simulation search, and the
bounds it reports.

Step one, a stationary requirement per half-hour: the fewest agents with which Erlang C
answers 80% of the calls within 20 s at the half-hour's mean rate (the exact integral of
lambda over it). Erlang C, not Erlang A: the benchmark's patience is an Erlang-4, whose
density at 0 is 0, and in heavy traffic a queue with abandonment behaves like Erlang A at
the patience density at 0 (Mandelbaum & Zeltyn 2007), here Erlang C. Erlang A with an
exponential patience of the same 2-minute mean loses its impatient callers at once and
asks for too few agents: its plan (134 shifts) misses the hours after the peak by up to
300 calls of 800 on simulation. Step two,
the covering integer program over the shift types (lunch choices among them): the fewest
shifts (all cost the same) with at least the requirement on the floor in every half-hour,
solved by HiGHS (``scipy.optimize.milp``).

Two lower bounds: the covering program's LP relaxation (a bound of the two-step model, not
of CALLCENTER-1: the requirement is an approximation), and the work bound, a true bound of
CALLCENTER-1's optimum: summing the hourly constraints, at least 0.8 of the day's expected
calls are answered, each takes an agent 6 minutes on average, and every agent-minute of
work is paid (on shift, where an agent's 8.5 paid hours hold 8 on the floor, or as overrun).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ccsim.planning.simopt_callcenter import HOURLY_COST, TARGET, THRESHOLD_S, Day, ShiftType
from ccsim.planning.simopt_callcenter import expected_calls as calls_between
from ccsim.planning.staffing import agents_for_service_level

__all__ = [
    "HANDLE_S",
    "cover",
    "coverage",
    "half_hour_requirement",
    "lp_bound",
    "work_bound",
]

HANDLE_S = 360.0


def _half_hours(day: Day) -> int:
    return math.ceil(day.hours * 2 - 1e-9)


def half_hour_requirement(day: Day) -> np.ndarray:
    """Erlang C agents per half-hour of the day."""
    required = []
    for i in range(_half_hours(day)):
        a, b = i / 2, min((i + 1) / 2, day.hours)
        per_second = day.scale * calls_between(a, b) / ((b - a) * 3600)
        required.append(agents_for_service_level(per_second, HANDLE_S, THRESHOLD_S, TARGET))
    return np.array(required, dtype=float)


def coverage(day: Day, types: list[ShiftType]) -> np.ndarray:
    """``A[i, j]`` = 1 where an agent of type j is on the floor all of half-hour i (shifts
    and lunches begin on half-hours)."""
    n = _half_hours(day)
    return np.array(
        [[1.0 if day.working(kind, i / 2 + 0.25) else 0.0 for kind in types] for i in range(n)]
    )


def cover(
    day: Day, required: np.ndarray, time_limit: float = 30.0
) -> tuple[dict[ShiftType, int], float]:
    """The cheapest integer plan with at least ``required`` agents on the floor in each
    half-hour, and the solver's gap."""
    types = day.shift_types()
    matrix = coverage(day, types)
    costs = np.full(len(types), day.shift_cost())
    result = milp(
        costs,
        constraints=LinearConstraint(matrix, lb=required, ub=np.inf),
        integrality=np.ones(len(types)),
        bounds=Bounds(0, np.inf),
        options={"time_limit": time_limit},
    )
    if result.x is None:
        raise ValueError(f"the covering program found no plan: {result.message}")
    counts = np.round(result.x).astype(int)
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    return {kind: int(n) for kind, n in zip(types, counts, strict=True) if n > 0}, gap


def lp_bound(day: Day, required: np.ndarray) -> float:
    """Cost of the covering program's LP relaxation (USD): a lower bound of every plan that
    covers ``required``, not of CALLCENTER-1 itself."""
    types = day.shift_types()
    costs = np.full(len(types), day.shift_cost())
    result = linprog(costs, A_ub=-coverage(day, types), b_ub=-required, bounds=(0, None))
    return float(result.fun)


def work_bound(day: Day) -> float:
    """A lower bound on CALLCENTER-1's expected daily cost (USD): pay for the expected work
    of the calls the constraints force to be answered (0.8 of all)."""
    calls = day.scale * calls_between(0.0, day.hours)
    return HOURLY_COST * TARGET * calls * HANDLE_S / 3600
