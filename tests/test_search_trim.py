"""The search's trim (issue #28: trimming shift by shift must not dominate): templates ranked
by their room in one simulation's per-interval figures, removals in doubling batches, and an
end after two templates in a row fail alone, however many templates are in use."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

import ccsim
from ccsim.planning.planner import Planner
from ccsim.planning.targets import Targets
from ccsim.planning.templates import ShiftOffer
from ccsim.planning.trim import PATIENCE, template_slack, trim

#: 06:00-22:00 with a midday peak: many templates in use, on a 1-hour grid.
PROFILE = [0] * 12 + [1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4] + [3] * 8 + [1] * 8 + [0] * 4
OFFER = ShiftOffer(part_time=(4 * 3600.0,), step=3600.0, part_time_share=(0.0, 1.0))


def _planner() -> tuple[Planner, np.ndarray]:
    scenario = ccsim.parse_scenario(
        {
            "name": "day",
            "start": "2026-03-02T00:00",
            "horizon": "24h",
            "channels": {
                "voice": {
                    "arrivals": {"volume": 3000, "profile": PROFILE},
                    "handle_time": {"dist": "exponential", "mean": "4min"},
                    "patience": {"dist": "exponential", "mean": "3min"},
                    "service_level": {"threshold": "20s", "target": 0.8},
                }
            },
            "sites": [{"name": "floor", "agents": 1, "cost_per_hour": 20}],
        }
    )
    planner = Planner(scenario, Targets.of(scenario), OFFER)
    return planner, planner.solve(10.0, 0.01).headcounts.astype(float)


def _figures(levels: np.ndarray, met: bool = True) -> SimpleNamespace:
    """An evaluation as the trim reads it: voice's level per interval, and its verdict."""
    intervals = pd.DataFrame({"channel": "voice", "interval": np.arange(len(levels)), "sl": levels})
    return SimpleNamespace(intervals=intervals, met=met)


class _Judge:
    """A search whose simulations pass while at most ``allowed`` agents are gone."""

    def __init__(self, planner: Planner, x: np.ndarray, allowed: int, levels) -> None:
        self.planner, self.start, self.allowed, self.levels = planner, x.sum(), allowed, levels
        self.simulations = 0

    def judge(self, x: np.ndarray, phase: str):
        self.simulations += 1
        return _figures(self.levels, met=self.start - x.sum() <= self.allowed)

    def say(self, line: str) -> None:
        pass

    def line(self, step: str, x, evaluation) -> str:
        return step


def test_room_is_the_least_level_above_target_times_agents_on_the_floor():
    planner, x = _planner()
    n = len(planner.calendar.slots)
    levels = np.full(n, 0.95)
    levels[14] = 0.82  # just above the 80% target
    levels[20] = np.nan  # no contact counted: no room known
    slack = template_slack(planner, x, _figures(levels))
    on_floor = planner.coverage.T @ x
    for j in np.flatnonzero(x > 0):
        covered = planner.coverage[j] > 0
        room = np.where(np.isnan(levels), 0.0, levels - 0.8) * on_floor
        assert math.isclose(slack[j], room[covered].min(), abs_tol=1e-9)
        if covered[20]:
            assert slack[j] == 0.0
        elif covered[14]:
            assert math.isclose(slack[j], 0.02 * on_floor[14], abs_tol=1e-9)


def test_the_trim_ends_after_two_failures_whatever_the_templates_in_use():
    planner, x = _planner()
    n = len(planner.calendar.slots)
    levels = 0.85 + 0.1 * np.arange(n) / n  # rooms that tell the templates apart
    search = _Judge(planner, x, allowed=0, levels=levels)
    kept, _, trimmed = trim(search, x, _figures(levels), None)
    assert trimmed and np.array_equal(kept, x)
    # Two failures, then those as roomy as the second (nothing tells them apart), no more.
    rooms = sorted(np.round(template_slack(planner, x, _figures(levels))[x > 0], 3))[::-1]
    tied = sum(1 for room in rooms[PATIENCE:] if room >= rooms[PATIENCE - 1])
    assert search.simulations == PATIENCE + tied < (x > 0).sum() - 2


def test_the_trim_removes_in_doubling_batches():
    planner, x = _planner()
    levels = np.full(len(planner.calendar.slots), 0.95)
    search = _Judge(planner, x, allowed=7, levels=levels)
    kept, _, trimmed = trim(search, x, _figures(levels), None)
    # 1, 2, 4 pass (7 gone), 8 fails, then 4, 2, 1 fail, 1 more fails alone: 8 simulations
    assert trimmed and x.sum() - kept.sum() == 7
    assert search.simulations == 3 + 1 + 2 + PATIENCE


def test_without_branch_and_bound_the_program_returns_the_rounded_plan_and_its_gap():
    """One interval needing one agent, covered 85% by an agent paid 10: the LP pays
    10 / 0.85, whole agents 20; branch and bound proves 20 least, the rounding alone says
    its gap against the LP, (20 - 10 / 0.85) / 20."""
    from ccsim.planning import program
    from ccsim.planning.program import Demand

    args = (["site"], ["site"], np.array([[0.85]]), np.array([10.0]))
    demands = [Demand("voice", np.array([1.0]), {"site": 1.0})]
    branched = program.solve(*args, demands, mip_gap=0.01)
    rounded = program.solve(*args, demands, mip_gap=0.01, branch=False)
    assert branched.cost == rounded.cost == 20.0
    assert branched.status == "optimal" and branched.branch_and_bound == "no better"
    assert rounded.status == "rounded" and rounded.branch_and_bound == "not run"
    assert not rounded.time_limited
    assert math.isclose(rounded.mip_gap, (20 - 10 / 0.85) / 20, rel_tol=1e-6)
