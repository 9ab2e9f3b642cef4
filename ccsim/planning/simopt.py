"""Simulation-optimised staffing and scheduling of CALLCENTER-1 in one loop.

The two-step method (:mod:`ccsim.planning.simopt_baseline`) sizes each half-hour as if it
lasted for ever, then covers the sizes with shifts. Simulation shows where that is wrong:
the hours around the peak after their staffing falls inherit its queue, others have room,
and hours 8-10 are covered by every shift whatever they need. The search works on the
simulated days themselves, with common random numbers (every plan meets the same callers)
and each hour judged by its one-sided upper confidence bound on the sample:

1. *Requirement loop.* From the Erlang C requirement, raise by one agent the half-hour that
   misses more in each hour whose bound is above 0, lower by one the half-hour with more
   room in each hour with more than ``slack`` calls of room, re-solve the covering program
   (the lunches are its decisions too) and simulate. Stop when a requirement repeats or
   after ``max_rounds``.
2. *Remove and repair.* From the cheapest plan met (the one with most room among equals),
   take one agent off a shift type, the one whose tightest hour has most room, and repair
   the hours left short by cost-neutral moves (:mod:`ccsim.planning.simopt_moves`); up to
   ``tries`` removals and ``tries`` moves a step, until no removal can be repaired or the
   simulations (``budget``) are spent.
3. *Confirmation.* The plans met on the sample, cheapest first, are judged again on
   ``confirm_days`` independent days; the first met there too is the result.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from ccsim.planning.simopt_baseline import cover, half_hour_requirement
from ccsim.planning.simopt_callcenter import FULL_DAY, Day, ShiftType
from ccsim.planning.simopt_days import Days, day_seeds, simulate_days
from ccsim.planning.simopt_moves import Neighbourhood

__all__ = ["SimOptPlan", "simopt"]


@dataclass
class SimOptPlan:
    """What the search found: the plan, its days on the sample, the warm start's, and where
    the time went."""

    plan: dict[ShiftType, int]
    days: Days
    start: dict[ShiftType, int]
    start_days: Days
    simulations: int = 0
    history: list[tuple[str, int, bool]] = field(default_factory=list)  # phase, shifts, met
    seconds: dict[str, float] = field(default_factory=dict)  # wall seconds per phase

    @property
    def shifts(self) -> int:
        return sum(self.plan.values())


class _Search:
    def __init__(self, day, seeds, confidence, pool, budget):
        self.day, self.seeds, self.confidence, self.pool = day, seeds, confidence, pool
        self.budget, self.simulations = budget, 0
        self.history: list[tuple[str, int, bool]] = []
        self.best: tuple[dict[ShiftType, int], Days] | None = None
        self.moves = Neighbourhood(day)
        self.met: list[tuple[dict[ShiftType, int], Days]] = []  # plans met on the sample

    def judge(self, plan: dict[ShiftType, int], phase: str) -> Days:
        days = simulate_days(self.day, plan, self.seeds, self.pool)
        self.simulations += 1
        met = days.feasible(self.confidence)
        self.history.append((phase, sum(plan.values()), met))
        if met:
            self.met.append((dict(plan), days))
            if self.best is None or _cost(plan) < _cost(self.best[0]):
                self.best = (dict(plan), days)
        return days

    @property
    def spent(self) -> bool:
        return self.simulations >= self.budget

    def room(self, days: Days) -> np.ndarray:
        return -days.upper(self.confidence)


def _cost(plan: dict[ShiftType, int]) -> int:
    return sum(plan.values())


def _requirement_loop(search: _Search, max_rounds: int, slack: float) -> None:
    day = search.day
    required = half_hour_requirement(day)
    seen: set[tuple[int, ...]] = set()
    for _ in range(max_rounds):
        key = tuple(int(r) for r in required)
        if key in seen or search.spent:
            return
        seen.add(key)
        plan, _ = cover(day, required)
        days = search.judge(plan, "requirement")
        halves = days.halves.mean(axis=0)
        for hour, spare in enumerate(search.room(days)):
            pair = [i for i in (2 * hour, 2 * hour + 1) if i < len(required)]
            # one agent an hour a round, in the half that misses more or has more room
            if spare < 0:
                required[max(pair, key=lambda i: halves[i])] += 1
            elif spare > slack:
                lowest = min(pair, key=lambda i: halves[i])
                required[lowest] = max(required[lowest] - 1, 0)


def _missing(upper: np.ndarray) -> float:
    return float(np.sum(np.maximum(upper, 0.0)))


def _repair(search: _Search, plan, days, tries: int) -> tuple[dict, Days] | None:
    """Cost-neutral moves until every hour is met: each time the first of the ``tries``
    best-ranked moves that lowers the calls missing (summed over the hours' bounds)."""
    while not days.feasible(search.confidence):
        upper = days.upper(search.confidence)
        for trial in search.moves.moves(plan, upper)[:tries]:
            if search.spent:
                return None
            trial_days = search.judge(trial, "move")
            if _missing(trial_days.upper(search.confidence)) < _missing(upper):
                plan, days = trial, trial_days
                break
        else:
            return None
    return plan, days


def _remove_and_repair(search: _Search, plan, days, tries: int) -> tuple[dict, Days] | None:
    """One shift fewer: take an agent off a type, the one with most room first, and repair
    the hours it leaves short by moves; the first removal that can be repaired wins."""
    room = search.room(days)
    for kind in search.moves.removal_order(plan, room)[:tries]:
        if search.spent:
            return None
        trial = {k: n - (k == kind) for k, n in plan.items()}
        trial = {k: n for k, n in trial.items() if n > 0}
        found = _repair(search, trial, search.judge(trial, "removal"), tries)
        if found is not None:
            return found
    return None


def _confirmed(search: _Search, seeds, confirmations: int) -> tuple[dict, Days]:
    """The cheapest plan met on the sample that is also met on days it was not chosen on.

    The search keeps the plans that pass on its sample, and the cheapest of many tries near
    the edge passes partly by the sample's luck (its bounds are optimistic for the plan
    chosen). Judged again on independent days, a plan that fails gives way to the next
    cheapest (the most room first among equals); the last resort is the dearest met."""
    ranked = sorted(search.met, key=lambda item: (_cost(item[0]), -min(search.room(item[1]))))
    tried: set[tuple] = set()
    for plan, days in ranked:
        key = tuple(sorted(plan.items()))
        if key in tried:
            continue
        if len(tried) == confirmations:
            break
        tried.add(key)
        again = simulate_days(search.day, plan, seeds, search.pool)
        search.simulations += 1
        search.history.append(("confirmation", _cost(plan), again.feasible(search.confidence)))
        if again.feasible(search.confidence):
            return plan, days
    return ranked[-1]


def simopt(
    day: Day = FULL_DAY,
    *,
    n_days: int = 60,
    seed: int = 1,
    confidence: float = 0.95,
    slack: float = 10.0,
    max_rounds: int = 12,
    budget: int = 45,
    tries: int = 3,
    confirm_days: int = 100,
    confirmations: int = 6,
    pool: Executor | None = None,
) -> SimOptPlan:
    """Staff ``day`` by simulation on ``n_days`` days of ``seed`` (see the module)."""
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    search = _Search(day, day_seeds(seed, n_days), confidence, pool, budget)
    start, _ = cover(day, half_hour_requirement(day))
    start_days = search.judge(start, "two-step")
    seconds["two-step"] = time.perf_counter() - clock
    _requirement_loop(search, max_rounds, slack)
    seconds["requirement loop"] = time.perf_counter() - clock - sum(seconds.values())
    if search.best is None:
        raise ValueError("no plan tried meets every hour; raise max_rounds")
    # From the cheapest plan met with the most room in its tightest hour: the first met at
    # a cost is often met by the sample's luck, and leaves no removal to repair.
    found = min(search.met, key=lambda item: (_cost(item[0]), -min(search.room(item[1]))))
    while found is not None and not search.spent:
        found = _remove_and_repair(search, *found, tries)
    seconds["removal and moves"] = time.perf_counter() - clock - sum(seconds.values())
    plan, days = _confirmed(search, day_seeds(seed + 1, confirm_days), confirmations)
    seconds["confirmation"] = time.perf_counter() - clock - sum(seconds.values())
    return SimOptPlan(plan, days, start, start_days, search.simulations, search.history, seconds)
