"""The neighbourhood of a CALLCENTER-1 plan: which hours each shift type covers, what one
agent is worth in each hour, and the cost-neutral moves that carry an agent's floor time
from hours with room to hours that miss.

A move takes one agent from a type to a neighbour: the lunch half an hour or an hour
earlier or later, or the start half an hour earlier or later. What one agent is worth in
hour h is Erlang C's slope there, ``calls(h) * (SL(n + 1) - SL(n))`` at the hour's mean
rate and its n agents on the floor: a guide to rank moves, never the judge (the simulated
days are). A move is offered only where every hour that loses floor time keeps room for
more than one agent's worth (``keep``) by its bound.
"""

from __future__ import annotations

import math

import numpy as np

from ccsim.planning.simopt_baseline import HANDLE_S
from ccsim.planning.simopt_callcenter import THRESHOLD_S, Day, ShiftType
from ccsim.planning.simopt_callcenter import expected_calls as calls_between
from ccsim.planning.staffing import stationary_service_level

__all__ = ["Neighbourhood"]


class Neighbourhood:
    """Coverage and worth of agents per hour, and the moves between shift types."""

    def __init__(self, day: Day) -> None:
        self.day = day
        self.types = day.shift_types()
        self.index = {kind: j for j, kind in enumerate(self.types)}
        hours = math.ceil(day.hours - 1e-9)
        self.length = np.array([min(h + 1.0, day.hours) - h for h in range(hours)])
        self.calls = np.array(
            [day.scale * calls_between(h, h + self.length[h]) for h in range(hours)]
        )
        # coverage[h, j]: hours an agent of type j is on the floor in hour h (0, 0.5 or 1)
        self.coverage = np.array(
            [
                [0.5 * (day.working(k, h + 0.25) + day.working(k, h + 0.75)) for k in self.types]
                for h in range(hours)
            ]
        )

    def hours_of(self, kind: ShiftType) -> np.ndarray:
        return np.flatnonzero(self.coverage[:, self.index[kind]] > 0)

    def on_floor(self, plan: dict[ShiftType, int]) -> np.ndarray:
        """Mean agents on the floor in each hour."""
        x = np.array([plan.get(kind, 0) for kind in self.types], dtype=float)
        return self.coverage @ x / self.length

    def worth(self, plan: dict[ShiftType, int]) -> np.ndarray:
        """Erlang C's drop in each hour's constraint for one more agent all that hour."""
        worth = []
        for calls, length, n in zip(self.calls, self.length, self.on_floor(plan), strict=True):
            rate = calls / (length * 3600)
            agents = max(int(round(n)), 1)
            gain = stationary_service_level(rate, HANDLE_S, agents + 1, THRESHOLD_S)
            gain -= stationary_service_level(rate, HANDLE_S, agents, THRESHOLD_S)
            worth.append(calls * max(gain, 0.0))
        return np.array(worth)

    def neighbours(self, kind: ShiftType) -> list[ShiftType]:
        near = [ShiftType(kind.start_h, kind.lunch_after_h + d) for d in (-1, -0.5, 0.5, 1)]
        near += [ShiftType(kind.start_h + d, kind.lunch_after_h) for d in (-0.5, 0.5)]
        return [other for other in near if other in self.index]

    def removal_order(self, plan: dict[ShiftType, int], room: np.ndarray) -> list[ShiftType]:
        """Types in use, the one whose tightest hour has most room (in agents' worth) first."""
        worth = np.maximum(self.worth(plan), 1e-6)

        def spare(kind: ShiftType) -> float:
            hours = self.hours_of(kind)
            return float(np.min(room[hours] / worth[hours])) if len(hours) else math.inf

        return sorted(plan, key=spare, reverse=True)

    def moves(
        self, plan: dict[ShiftType, int], upper: np.ndarray, keep: float = 1.0
    ) -> list[dict[ShiftType, int]]:
        """Plans one move away that add floor time where an hour misses, best first: by
        the missing calls of the hours gaining time; none takes time from an hour with
        less than ``keep`` agents' worth of room."""
        worth = self.worth(plan)
        missing = np.maximum(upper, 0.0)
        scored = []
        for kind in plan:
            for other in self.neighbours(kind):
                delta = self.coverage[:, self.index[other]] - self.coverage[:, self.index[kind]]
                losing = delta < 0
                if np.any(-upper[losing] < keep * worth[losing] * -delta[losing]):
                    continue
                gain = float(np.sum(np.maximum(delta, 0.0) * missing))
                if gain > 0:
                    trial = {**plan, kind: plan[kind] - 1, other: plan.get(other, 0) + 1}
                    scored.append((gain, {k: n for k, n in trial.items() if n > 0}))
        scored.sort(key=lambda item: -item[0])
        return [trial for _, trial in scored]
