"""CALLCENTER-1 of the SimOpt testbed ("minimise staffing cost subject to service levels",
after Atlason, Epelman & Henderson 2008 and Pasupathy & Henderson 2011) as a ccsim scenario.

One day of 16.5 hours, t in hours from opening. Calls arrive as a nonhomogeneous Poisson
process with rate ``lambda(t) = 500 + 500 sin((3 pi t - 16 pi) / 32)`` per hour; service is
Gamma with shape 18 and mean 6 minutes (an Erlang-18), patience Gamma with shape 4 and mean
2 minutes (an Erlang-4); 150 trunk lines are held from arrival until the call leaves; agents
work 8.5-hour shifts starting every half hour from 0 to 8 h with one 30-minute paid lunch
3, 3.5, 4 or 4.5 hours in (68 shift types) at 18 USD an hour until they leave.

ccsim's arrival rates are constant within a reporting interval. Here the interval is
:data:`BIN` (5 minutes) and each bin's expected count is the exact integral of lambda over
it, so the number of calls in any hour (the constraint's unit) has exactly the benchmark's
Poisson law; only the times within a bin are spread evenly instead of following the sine.
The bin-mean rate differs from lambda(t) by at most ``max|lambda'| * BIN / 2``
(:func:`rate_error_bound`: 6.1 calls an hour against a rate of 0 to 1000).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from ccsim.model.loading import parse_scenario

__all__ = [
    "BIN",
    "DAY_HOURS",
    "HOURLY_COST",
    "LUNCH_AFTER_H",
    "SHIFT_HOURS",
    "SHIFT_STARTS_H",
    "ShiftType",
    "Day",
    "FULL_DAY",
    "expected_calls",
    "plan_from_scenario",
    "read_plan",
    "rate",
    "rate_error_bound",
    "scenario",
    "scenario_mapping",
    "plan_csv",
]

DAY_HOURS = 16.5
BIN = 5 / 60  # hours: the reporting interval of the scenario
SHIFT_HOURS = 8.5
SHIFT_STARTS_H = tuple(0.5 * k for k in range(17))  # 0, 0.5, ..., 8
LUNCH_AFTER_H = (3.0, 3.5, 4.0, 4.5)
LUNCH_HOURS = 0.5
HOURLY_COST = 18.0  # USD per paid hour
TRUNK_LINES = 150
THRESHOLD_S = 20.0
TARGET = 0.8


def rate(t: float) -> float:
    """lambda(t), calls per hour, t in hours from opening."""
    return 500.0 + 500.0 * math.sin((3 * math.pi * t - 16 * math.pi) / 32)


def expected_calls(a: float, b: float) -> float:
    """The exact integral of lambda over [a, b] (hours): the expected calls arriving then."""
    k = 3 * math.pi / 32

    def antiderivative(t: float) -> float:
        return 500.0 * t - 500.0 / k * math.cos(k * t - math.pi / 2)

    return antiderivative(b) - antiderivative(a)


def rate_error_bound() -> float:
    """Largest gap between lambda(t) and the constant rate of its bin, calls per hour:
    lambda is monotone or has one turning point in a bin, so the bin mean lies within
    ``max|lambda'| * BIN / 2`` of it."""
    return 500.0 * 3 * math.pi / 32 * BIN / 2


@dataclass(frozen=True, order=True)
class ShiftType:
    """One of the benchmark's shift types: its start and its lunch, hours."""

    start_h: float
    lunch_after_h: float


@dataclass(frozen=True)
class Day:
    """The benchmark's day and shift rules; a shorter day (with a lower rate and shorter
    shifts) gives the same problem at a size a unit test can staff."""

    hours: float = DAY_HOURS
    scale: float = 1.0  # multiplies lambda
    shift_hours: float = SHIFT_HOURS
    starts_h: tuple[float, ...] = SHIFT_STARTS_H
    lunch_after_h: tuple[float, ...] = LUNCH_AFTER_H
    lunch_hours: float = LUNCH_HOURS

    @property
    def full(self) -> bool:
        return self == FULL_DAY

    def shift_types(self) -> list[ShiftType]:
        """The shift types, by start then lunch: 68 for the benchmark's day."""
        return [ShiftType(s, a) for s in self.starts_h for a in self.lunch_after_h]

    def working(self, kind: ShiftType, t: float) -> bool:
        """An agent of ``kind`` is on the floor at time t (hours): in the shift, not at lunch."""
        lunch = kind.start_h + kind.lunch_after_h
        in_shift = kind.start_h <= t < kind.start_h + self.shift_hours
        return in_shift and not lunch <= t < lunch + self.lunch_hours

    def bin_means(self) -> list[float]:
        """Expected calls in each :data:`BIN` of the day (``hours`` a multiple of it)."""
        n = round(self.hours / BIN)
        return [self.scale * expected_calls(i * BIN, (i + 1) * BIN) for i in range(n)]

    def shift_cost(self) -> float:
        """Scheduled pay of one agent's shift (overruns come on top)."""
        return self.shift_hours * HOURLY_COST


#: The benchmark's own day.
FULL_DAY = Day()


def _clock(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def scenario_mapping(day: Day = FULL_DAY, headcounts: dict[ShiftType, int] | None = None) -> dict:
    """The scenario as a mapping (what ``scenario.yaml`` holds), durations in seconds;
    ``headcounts`` gives the agents per shift type (default: one on each, the templates to
    staff; a type left out has none)."""
    types = day.shift_types()
    if headcounts is None:
        headcounts = dict.fromkeys(types, 1)
    weights = day.bin_means()
    per_day = round(24 / BIN)
    shifts = [
        {
            "start": _clock(kind.start_h),
            "length": day.shift_hours * 3600,
            "headcount": int(headcounts.get(kind, 0)),
            # Lunch is paid: the benchmark pays from shift start until the agent leaves.
            "breaks": [
                {"after": kind.lunch_after_h * 3600, "length": day.lunch_hours * 3600, "paid": True}
            ],
        }
        for kind in types
    ]
    return {
        "name": "callcenter1" if day.full else "callcenter1-short",
        "start": "2026-03-02T00:00:00",
        # Past the close so that overruns of the last shifts are paid (pay and overrun are
        # tallied inside the horizon only); no call arrives in the extra hour.
        "horizon": (day.hours + 1.0) * 3600,
        "interval": BIN * 3600,
        "channels": {
            "voice": {
                "arrivals": {
                    "volume": sum(weights),
                    "profile": weights + [0.0] * (per_day - len(weights)),
                },
                "handle_time": {"dist": "erlang", "k": 18, "mean": 360.0},
                "patience": {"dist": "erlang", "k": 4, "mean": 120.0},
                "service_level": {"threshold": THRESHOLD_S, "target": TARGET},
            }
        },
        "trunks": {"lines": {"lines": TRUNK_LINES, "channels": ["voice"]}},
        "sites": [{"name": "centre", "cost_per_hour": HOURLY_COST, "shifts": shifts}],
    }


def scenario(day: Day = FULL_DAY, headcounts: dict[ShiftType, int] | None = None):
    """The validated scenario (see :func:`scenario_mapping`)."""
    return parse_scenario(scenario_mapping(day, headcounts))


def read_plan(path: Path) -> dict[ShiftType, int]:
    """A plan from its CSV file (``start_h, lunch_after_h, agents``)."""
    with Path(path).open() as handle:
        return {
            ShiftType(float(row["start_h"]), float(row["lunch_after_h"])): int(row["agents"])
            for row in csv.DictReader(handle)
        }


def plan_csv(plan: dict[ShiftType, int]) -> str:
    """The plan as CSV text, one row per shift type used."""
    rows = sorted((kind.start_h, kind.lunch_after_h, n) for kind, n in plan.items() if n > 0)
    lines = ["start_h,lunch_after_h,agents"] + [f"{s},{a},{n}" for s, a, n in rows]
    return "\n".join(lines) + "\n"


def plan_from_scenario(the_scenario, day: Day = FULL_DAY) -> dict[ShiftType, int]:
    """The plan a scenario of ``day`` staffs; ValueError naming the first thing that makes
    it another problem (only the headcounts may differ)."""
    (site,) = the_scenario.sites if len(the_scenario.sites) == 1 else (None,)
    if site is None or not site.shifts:
        raise ValueError("CALLCENTER-1 has one site with the 68 shift types")
    plan = {}
    for shift in site.shifts:
        if len(shift.breaks) != 1:
            raise ValueError(f"shift {shift.start}: CALLCENTER-1 shifts have one lunch")
        kind = ShiftType(shift.start_minute / 60, shift.breaks[0].after / 3600)
        plan[kind] = plan.get(kind, 0) + shift.headcount_on("mon")
    reference = scenario(day, plan)
    mine, theirs = the_scenario.model_dump(), reference.model_dump()
    for key in theirs:
        if key != "name" and mine.get(key) != theirs[key]:
            raise ValueError(f"'{key}' differs from CALLCENTER-1's")
    return {kind: n for kind, n in plan.items() if n > 0}
