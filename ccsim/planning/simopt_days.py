"""Simulated days of CALLCENTER-1 for a plan: each hour's constraint value and the day's
cost, day by day, and the confidence bounds that judge a plan on them.

A plan is a headcount per shift type. Its days are simulated with seeds spawned from one
root, the same for every plan a search compares (common random numbers: two plans meet
the same callers). The constraint of hour h is ``0.8 calls(h) - answered within 20 s(h)``,
calls counted by the hour they arrive in, blocked and abandoned included: ccsim's
``offered`` (no retrials here, so offered calls are customers) less its
``answered_within_threshold``, both tallied by arrival interval.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ccsim.planning.simopt_callcenter import BIN, TARGET, Day, ShiftType, scenario
from ccsim.sim.engine import simulate

__all__ = ["Days", "day_seeds", "simulate_days"]


def day_seeds(root: int, n_days: int) -> list[np.random.SeedSequence]:
    """The seeds of ``n_days`` days from ``root``: spawned, so two roots give disjoint
    streams and the same root the same days."""
    return np.random.SeedSequence(root).spawn(n_days)


def _one_day(args) -> tuple[np.ndarray, float]:
    """A day's constraint per half-hour (hours are pairs of them) and its pay."""
    the_scenario, seed, halves = args
    result = simulate(the_scenario, seed)
    tallies = result.interval_tallies[("voice", "all")]
    per_half = round(0.5 / BIN)
    g = np.zeros(halves)
    for k, tally in enumerate(tallies):
        half = k // per_half
        if half < halves:
            g[half] += TARGET * tally.offered - tally.answered_within_threshold
    return g, float(sum(tally.labour_cost for tally in tallies))


@dataclass(frozen=True)
class Days:
    """A plan's simulated days: ``halves[d, i]`` the constraint's part from the calls of
    half-hour i on day d, ``cost[d]`` the day's pay (scheduled shifts and overruns, USD)."""

    halves: np.ndarray
    cost: np.ndarray

    @property
    def g(self) -> np.ndarray:
        """``g[d, h]``: the constraint of hour h on day d (the last hour may be a half)."""
        n = self.halves.shape[1]
        padded = np.pad(self.halves, ((0, 0), (0, n % 2)))
        return padded[:, 0::2] + padded[:, 1::2]

    @property
    def n_days(self) -> int:
        return len(self.cost)

    def upper(self, confidence: float = 0.95) -> np.ndarray:
        """Each hour's one-sided upper confidence bound on E[g_h] (Student t): an hour is
        met at that confidence when its bound is at most 0."""
        n = self.n_days
        sd = self.g.std(axis=0, ddof=1)
        return self.g.mean(axis=0) + stats.t.ppf(confidence, n - 1) * sd / math.sqrt(n)

    def interval(self, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each hour's mean constraint with its two-sided interval."""
        n = self.n_days
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * self.g.std(axis=0, ddof=1)
        half = half / math.sqrt(n)
        mean = self.g.mean(axis=0)
        return mean, mean - half, mean + half

    def cost_interval(self, confidence: float = 0.95) -> tuple[float, float, float]:
        n = self.n_days
        mean = float(self.cost.mean())
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * float(self.cost.std(ddof=1))
        return mean, mean - half / math.sqrt(n), mean + half / math.sqrt(n)

    def feasible(self, confidence: float = 0.95) -> bool:
        return bool(np.all(self.upper(confidence) <= 0.0))


def simulate_days(
    day: Day,
    plan: dict[ShiftType, int],
    seeds: list[np.random.SeedSequence],
    pool: Executor | None = None,
) -> Days:
    """Simulate ``plan`` on the days of ``seeds`` (in ``pool``'s workers if given)."""
    the_scenario = scenario(day, plan)
    halves = math.ceil(2 * day.hours - 1e-9)
    work = [(the_scenario, seed, halves) for seed in seeds]
    if pool is None:
        results = [_one_day(item) for item in work]
    else:
        results = list(pool.map(_one_day, work, chunksize=max(1, len(work) // 8)))
    return Days(np.array([g for g, _ in results]), np.array([c for _, c in results]))
