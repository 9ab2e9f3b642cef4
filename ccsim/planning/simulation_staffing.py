"""Simulation staffing, iteratively (after Feldman, Mandelbaum, Massey & Whitt 2008): start
from the stationary staffing (:mod:`ccsim.planning.staffing`), simulate the whole time-varying
day with common random numbers, measure each interval's service level over the replications,
raise the intervals that miss the target and lower those comfortably above it, and repeat
until every interval with demand meets it. The staffing then carries the day's dynamics, and
any handle-time and patience distributions or day-to-day busyness the scenario has.

Each channel is simulated alone, on a dedicated pool whose staffing per interval is laid on
the simulation clock as shifts (:func:`staffed_scenario`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from ccsim.experiment.parallel import run_replications
from ccsim.experiment.stats import ratio_ci
from ccsim.model import ConfigError, Scenario, ServiceLevel, parse_scenario
from ccsim.model.calendar import WEEKDAYS
from ccsim.model.request_types import drop_escalation
from ccsim.planning.shares import channel_of, split_shares
from ccsim.planning.staffing import (
    SL_TOLERANCE,
    agents_for_occupancy,
    agents_for_service_level,
    channel_names,
    channel_objective,
    erlang_requirements,
    mean_patience,
    stationary_service_level,
)
from ccsim.planning.targets import Targets, interval_levels
from ccsim.sim.metrics import RATIO_KPIS

__all__ = ["interval_service_levels", "simulation_requirements", "staffed_scenario"]

#: Simulation staffing lays one shift pattern per weekday on a clock without daylight saving.
_WEEK = 7 * 86400.0


# --- a staffing laid on the simulation clock ----------------------------------------------------


def _runs(staffing: list[int]) -> list[tuple[int, int, int]]:
    """Split a staffing per interval into shifts ``(first, stop, agents)``: an agent stays
    from the interval where the staffing rises until the one where it falls back.

    The agents who joined last leave first, so every agent works one unbroken stretch.
    Cutting the day into one-interval shifts instead would send every busy agent home at
    each boundary, finishing the contact in hand as overtime while a fresh agent takes the
    next: that unplanned capacity would flatter every staffing the simulation tries.
    """
    runs, stack, previous = [], [], 0
    for k, level in enumerate([*staffing, 0]):
        if level > previous:
            stack.append([k, level - previous])
        drop = previous - level
        while drop > 0:
            first, count = stack[-1]
            leaving = min(count, drop)
            runs.append((first, k, leaving))
            drop -= leaving
            if leaving == count:
                stack.pop()
            else:
                stack[-1][1] -= leaving
        previous = level
    return runs


def staffed_scenario(
    scenario: Scenario,
    channel: str,
    staffing: Iterable[int],
    target: ServiceLevel | None = None,
    closing: float = 3600.0,
) -> Scenario:
    """A variant of ``scenario`` with only ``channel``, answered by one dedicated pool with
    ``staffing[k]`` agents available in reporting interval k (no shrinkage, no breaks).

    The staffing becomes shifts (:func:`_runs`) at a site on UTC, so that a shift start is
    never ambiguous around a daylight-saving change; shift patterns repeat weekly, so the
    horizon may be at most 7 days. Agents on duty when the staffing drops to zero (closing)
    or at the horizon stay ``closing`` seconds more (or until the staffing rises again) to
    answer the contacts still waiting, as agents with constant staffing do. ``target``
    replaces the channel's objective.
    """
    if scenario.horizon > _WEEK:
        raise ConfigError(
            "",
            "horizon",
            "simulation staffing lays one shift pattern per weekday and interval: use a horizon "
            "of at most 7 days",
        )
    staffing = [int(n) for n in staffing]
    calendar = scenario.calendar()
    slots = calendar.slots
    if len(staffing) != len(slots):
        raise ValueError(f"expected {len(slots)} staffing levels, one per interval")
    shifts: dict[tuple[str, str, float], int] = {}
    # Where the staffing rises again after a closing, so that staying on never adds agents.
    reopens = [scenario.horizon + closing] * (len(slots) + 1)
    for k in range(len(slots) - 1, -1, -1):
        reopens[k] = slots[k].start if staffing[k] > 0 else reopens[k + 1]
    for first, stop, count in _runs(staffing):
        end = slots[stop - 1].end
        if stop == len(slots) or staffing[stop] == 0:
            end = min(end + closing, reopens[stop])
        # Capped at a week: a longer shift would meet its own repeat a week earlier.
        length = min(end - slots[first].start, _WEEK)
        begins = calendar.origin + timedelta(seconds=slots[first].start)
        key = (f"{begins.hour:02d}:{begins.minute:02d}", WEEKDAYS[begins.weekday()], length)
        shifts[key] = shifts.get(key, 0) + count
    data = scenario.model_dump(mode="json")
    spec = data["channels"][channel]
    if target is not None:
        spec["service_level"] = target.model_dump(mode="json")
    spec["priority"] = 0
    if spec.get("escalation") is not None:  # transfers to another tier leave this pool
        drop_escalation(spec)
    data["channels"] = {channel: spec}
    data["routing"] = {}
    data["sites"] = [
        {
            "name": "staffing",
            "timezone": "UTC",
            "shifts": [
                {"start": start, "length": length, "headcount": count, "days": [day]}
                for (start, day, length), count in sorted(shifts.items())
            ]
            # a site needs a shift: a day without agents gets an empty one
            or [{"start": "00:00", "length": calendar.interval, "headcount": 0}],
        }
    ]
    return parse_scenario(data, source=f"<{scenario.name}: staffing of {channel}>")


def interval_service_levels(
    scenario: Scenario, reps: int, seed: int = 0, confidence: float = 0.95, n_jobs: int = 1
) -> pd.DataFrame:
    """The simulated service level per channel and reporting interval, over ``reps``
    replications: the ratio of totals with its delta-method interval (docs/metrics.md).

    One row per channel and interval inside the observation window: ``interval``,
    ``channel``, ``offered`` (mean per replication), ``sl``, ``sl_low``, ``sl_high``;
    the service level is NaN where no contact arrived.
    """
    _, every = run_replications(scenario, reps, seed=seed, n_jobs=n_jobs, intervals=True)
    rows = every[(every.site == "all") & every.channel.isin(list(scenario.channels))]
    numerator, denominator = RATIO_KPIS["service_level"]
    records = []
    for (channel, interval), group in rows.groupby(["channel", "interval"], sort=False):
        estimate = ratio_ci(
            group[list(numerator)].sum(axis=1), group[list(denominator)].sum(axis=1), confidence
        )
        records.append(
            {
                "interval": int(interval),
                "channel": channel,
                "offered": float(group["offered"].mean()),
                "sl": estimate.value,
                "sl_low": estimate.low,
                "sl_high": estimate.high,
            }
        )
    # Each share of a split channel as the search judges it (its name: channel@site).
    levels = interval_levels(every, Targets.of(scenario, confidence=confidence), scenario)
    shares = levels[levels.channel.map(channel_of) != levels.channel]
    records += shares.rename(columns={"low": "sl_low", "high": "sl_high"}).to_dict("records")
    return pd.DataFrame(
        records, columns=["interval", "channel", "offered", "sl", "sl_low", "sl_high"]
    )


# --- iterative simulation staffing -------------------------------------------------------------


@dataclass(frozen=True)
class _Queue:
    """The stationary model of one channel, used to size the steps of the iteration."""

    aht: float
    threshold: float
    target: float
    patience: float | None

    def service_level(self, rate: float, n: int) -> float:
        if n <= 0:
            return 0.0
        return stationary_service_level(rate, self.aht, n, self.threshold, self.patience)

    def effective_rate(self, observed: float, n: int) -> float:
        """The arrival rate at which n agents would give the ``observed`` service level in
        steady state: what the interval behaves like, its history included."""
        if n <= 0:
            return math.inf
        low, high = 0.0, n / self.aht  # Erlang C is unstable beyond n / aht
        if self.patience is not None:
            while self.service_level(high, n) > observed and high < 1e6 * n / self.aht:
                high *= 2
        for _ in range(60):
            middle = (low + high) / 2
            if middle <= 0 or self.service_level(middle, n) > observed:
                low = middle
            else:
                high = middle
        return (low + high) / 2

    def requirement(self, observed: float, n: int) -> int:
        """The stationary requirement at the effective rate of an interval that shows the
        service level ``observed`` with n agents, at most 2n + 1."""
        try:
            needed = agents_for_service_level(
                self.effective_rate(observed, n),
                self.aht,
                self.threshold,
                self.target,
                self.patience,
            )
        except ValueError:  # no finite staffing: the interval looks hopelessly overloaded
            needed = 2 * n + 1
        return min(needed, 2 * n + 1)


def _measure(levels: pd.DataFrame, n_intervals: int) -> tuple[np.ndarray, ...]:
    sl, low, high = (np.full(n_intervals, np.nan) for _ in range(3))
    index = levels["interval"].to_numpy(int)
    sl[index], low[index], high[index] = (
        levels[c].to_numpy(float) for c in ("sl", "sl_low", "sl_high")
    )
    return sl, low, high


def _iterate(
    scenario: Scenario,
    name: str,
    start: pd.DataFrame,
    target: ServiceLevel | None,
    max_occupancy: float | None,
    *,
    reps: int,
    seed: int,
    confidence: float,
    rule: str,
    max_iterations: int,
    n_jobs: int,
    closing: float,
) -> pd.DataFrame:
    """Simulation staffing of one channel, from the stationary staffing in ``start``."""
    channel = scenario.channels[name]
    objective = channel_objective(channel, target)
    model = _Queue(
        channel.handle_time.expected(),
        objective.threshold,
        objective.target,
        mean_patience(channel, "erlang-a"),
    )
    loads = start["offered_load"].to_numpy(float)
    staffing = start["required"].to_numpy(int).copy()
    # Never below the occupancy cap, nor below one agent where contacts arrive.
    capped = np.array([agents_for_occupancy(a, max_occupancy) for a in loads], dtype=int)
    floor = np.maximum(capped, (loads > 0).astype(int))
    table = start.copy()
    table["method"] = "simulation"
    table["erlang_required"] = staffing.copy()
    if not staffing.any():  # no demand at all: nothing to simulate
        nothing = np.full(len(staffing), np.nan)
        table["sl_required"], table["sl_required_low"], table["sl_required_high"] = (nothing,) * 3
        table["met"], table["iterations"] = True, 0
        return table
    frozen = np.zeros(len(staffing), dtype=bool)  # lowered once too far: not lowered again
    lowered = np.zeros(len(staffing), dtype=bool)  # by the step just simulated
    best = None  # (staffing, sl, low, high, iteration) of the last staffing that met everywhere
    last = None
    for iteration in range(1, max_iterations + 1):
        variant = staffed_scenario(scenario, name, staffing, target, closing)
        levels = interval_service_levels(variant, reps, seed, confidence, n_jobs)
        sl, low, high = _measure(levels, len(staffing))
        last = (staffing.copy(), sl, low, high, iteration)
        measured = ~np.isnan(sl)
        basis = sl if rule == "estimate" else low
        missing = measured & (basis < objective.target - SL_TOLERANCE)
        if missing.any():
            # A lowering that made any interval miss is not pushed further.
            frozen |= lowered
            lowered[:] = False
            for k in np.flatnonzero(missing):
                staffing[k] = max(model.requirement(basis[k], int(staffing[k])), staffing[k] + 1)
            continue
        best = last
        proposed = _lowered(model, staffing, low, measured & ~frozen, floor)
        lowered = proposed < staffing
        if not lowered.any():
            break
        staffing = proposed
    final, sl, low, high, _ = best if best is not None else last
    basis = sl if rule == "estimate" else low
    table["required"] = final
    table["limited_by"] = np.where(
        loads <= 0, "", np.where((capped > 0) & (final <= capped), "occupancy", "service_level")
    )
    table["sl_required"], table["sl_required_low"], table["sl_required_high"] = sl, low, high
    table["met"] = np.isnan(sl) | (basis >= objective.target - SL_TOLERANCE)
    table["iterations"] = last[-1]  # simulations run
    return table


def _lowered(model: _Queue, staffing, low, movable, floor) -> np.ndarray:
    """The staffing with each ``movable`` interval lowered with caution: on the evidence of
    the lower end of its interval, by at most sqrt(n) (the scale of the safety staffing above
    the offered load), never below ``floor``."""
    proposed = staffing.copy()
    for k in np.flatnonzero(movable):
        n = int(staffing[k])
        cut = max(model.requirement(low[k], n), n - max(1, math.ceil(math.sqrt(n))), floor[k])
        proposed[k] = min(n, cut)
    return proposed


def simulation_requirements(
    scenario: Scenario,
    target: ServiceLevel | None = None,
    max_occupancy: float | None = None,
    *,
    reps: int = 20,
    seed: int = 0,
    confidence: float = 0.95,
    rule: str = "lower_bound",
    channels: Iterable[str] | None = None,
    max_iterations: int = 20,
    n_jobs: int = 1,
    closing: float = 3600.0,
) -> pd.DataFrame:
    """Agents required per interval and channel by iterative simulation staffing.

    Starting from the stationary requirement (Erlang A where the channel abandons, else
    Erlang C), each iteration simulates the day (:func:`staffed_scenario`: the channel alone
    with a dedicated pool) over ``reps`` replications, always with the same seeds, so that
    successive staffings are compared on the same contacts. An interval **meets** the target
    when its service level (the ratio of totals over the replications) reaches it with the
    chosen ``confidence``: the lower end of its confidence interval does
    (``rule="lower_bound"``, the default), or, less safely, its point estimate does
    (``rule="estimate"``, which tunes the staffing to the noise of the replications it runs).

    An interval that misses is raised to the stationary requirement at its *effective* rate
    (the rate at which a stationary queue with the same agents shows the same service level),
    by one agent at least. Once every interval meets the target, each is lowered to the
    stationary requirement at the effective rate of the lower end of its interval, by at
    most sqrt(n) agents and never below the occupancy cap; if that makes any interval miss,
    the intervals just lowered are not lowered again. It stops when nothing changes or after
    ``max_iterations`` simulations, returning the last staffing that met the target
    everywhere (or, if none did, the last one tried, with ``met`` false where it misses).

    Extra columns: ``erlang_required`` (the start), ``sl_required`` with ``sl_required_low``
    and ``sl_required_high`` (the simulated service level of the returned staffing and its
    interval), ``met`` and ``iterations`` (simulations run). Intervals before the warm-up
    keep the start.
    """
    if rule not in ("estimate", "lower_bound"):
        raise ConfigError("", "rule", f"expected estimate or lower_bound, got {rule!r}")
    if reps < 2:
        raise ConfigError("", "reps", "simulation staffing needs at least 2 replications")
    if not 0 < confidence < 1:
        raise ConfigError("", "confidence", f"must be in (0, 1), got {confidence!r}")
    names = channel_names(scenario, channels)
    frames = []
    for name in names:
        if split_shares(scenario, name):  # sized here on one dedicated site
            raise ConfigError(
                "", "requirements", f"{name!r} is split: give a requirement per share"
            )
        method = "erlang-a" if scenario.channels[name].patience is not None else "erlang-c"
        start = erlang_requirements(scenario, target, max_occupancy, method, [name])
        frames.append(
            _iterate(
                scenario,
                name,
                start,
                target,
                max_occupancy,
                reps=reps,
                seed=seed,
                confidence=confidence,
                rule=rule,
                max_iterations=max_iterations,
                n_jobs=n_jobs,
                closing=closing,
            )
        )
    return pd.concat(frames, ignore_index=True)
