"""Staffing requirements: how many agents each reporting interval needs to meet its target.

The requirement of an interval is the number of agents *available* to take contacts (on
shift, not on break, not absent) that meets the channel's service-level objective, counted
before shrinkage; :mod:`ccsim.planning.scheduling` then turns requirements into paid shifts.

Two ways to get it:

- **Stationary, interval by interval** ("SIPP"): each interval is treated as if its arrival
  rate held for ever, and the smallest n meeting the target in steady state is taken from
  Erlang C (no abandonment) or Erlang A (exponential patience with the channel's mean), then
  raised to respect an occupancy cap, n >= offered load / max occupancy. Exact and instant,
  but blind to what comes before an interval: after a peak the reduced staff inherits the
  peak's queue and busy agents, and the target is missed (Green, Kolesar & Soares 2001).
- **Simulation, iteratively** (:mod:`ccsim.planning.simulation_staffing`): start from the
  stationary staffing, simulate the whole time-varying day, raise the intervals that miss the
  target and lower those comfortably above it, until every interval with demand meets it.

The service level is the one of ``docs/metrics.md``: answered within the threshold over all
counted contacts (answered, abandoned or carried over), ``S_t / (S + L)``, which in steady
state is :attr:`ccsim.theory.erlang.Performance.service_level`, P(served and W <= t).

Each channel is staffed as a dedicated pool of agents: pooling across channels (agents with
several skills) would need fewer, so requirements of several channels are conservative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
from pydantic import ValidationError

from ccsim.model import Channel, ConfigError, Scenario, ServiceLevel
from ccsim.model.units import parse_duration
from ccsim.planning.shares import channel_of, share_name, split_shares
from ccsim.sim.arrivals import interval_rates
from ccsim.theory import erlang as analytic

__all__ = [
    "METHODS",
    "REQUIREMENT_COLUMNS",
    "SL_TOLERANCE",
    "agents_for_occupancy",
    "agents_for_service_level",
    "channel_names",
    "channel_objective",
    "erlang_requirements",
    "mean_patience",
    "parse_target",
    "stationary_service_level",
]

METHODS = ("erlang-c", "erlang-a", "simulation")

#: Columns every requirements table starts with; the simulation method adds more.
REQUIREMENT_COLUMNS = (
    "interval",  # position in the scenario's calendar
    "interval_start",  # customers' wall clock, ISO 8601 with offset
    "channel",
    "method",
    "offered",  # expected contacts in the interval
    "offered_load",  # Erlangs: arrival rate x mean handle time
    "required",  # agents available, before shrinkage
    "limited_by",  # "service_level", "occupancy", or "" without demand
)

#: Floating-point slack when comparing a computed service level with its target.
SL_TOLERANCE = 1e-12


# --- the objective -----------------------------------------------------------------------------


def parse_target(text: str) -> ServiceLevel:
    """A service-level objective written ``80/20s``: 80% of contacts within 20 seconds."""
    share, slash, threshold = str(text).partition("/")
    if not slash:
        raise ValueError(f"expected a target like 80/20s (80% within 20 seconds), got {text!r}")
    try:
        percent = float(share.strip().rstrip("%"))
        return ServiceLevel(threshold=parse_duration(threshold.strip()), target=percent / 100)
    except (ValueError, ValidationError):
        raise ValueError(
            f"expected a target like 80/20s: a share in (0, 100] and a threshold, got {text!r}"
        ) from None


def channel_objective(channel: Channel, target: ServiceLevel | None) -> ServiceLevel:
    """The objective a channel is staffed for: ``target`` where given, else its own."""
    return target if target is not None else channel.service_level


# --- stationary staffing -----------------------------------------------------------------------


def stationary_service_level(
    rate: float, aht: float, n: int, threshold: float, patience: float | None = None
) -> float:
    """Steady-state P(served and W <= threshold) with n agents: Erlang C without patience,
    Erlang A with exponential patience of mean ``patience`` (seconds).

    The same figure as ``analytic.performance(...).service_level``, without the numerical
    integral that Erlang A's ASA needs (staffing searches evaluate it many times).
    """
    if patience is None:
        return analytic.erlang_c_performance(rate, aht, n, threshold).service_level
    model = analytic.ErlangA(rate, aht, n, patience)
    return min(max(0.0, 1.0 - model.p_abandon - model.p_served_wait_exceeds(threshold)), 1.0)


def agents_for_service_level(
    rate: float, aht: float, threshold: float, target: float, patience: float | None = None
) -> int:
    """The fewest agents whose steady-state service level reaches ``target`` (0 without
    demand). Rates per second, times in seconds."""
    if rate <= 0:
        return 0
    if not 0 < target < 1:
        raise ValueError(f"a stationary model cannot meet a target of {target:.0%}: use < 100%")
    load = rate * aht
    # Without abandonment the queue is stable only for n > a. With it, the served share is
    # at most n mu / lambda = n / a, so the service level cannot reach the target below
    # target x a agents.
    low = math.floor(load) + 1 if patience is None else max(1, math.ceil(target * load - 1e-9))
    agents = analytic.fewest_agents(
        lambda n: (
            stationary_service_level(rate, aht, n, threshold, patience) >= target - SL_TOLERANCE
        ),
        low,
    )
    if agents is None:
        raise ValueError(f"no staffing up to {analytic.MAX_AGENTS:,} agents meets the target")
    return agents


def agents_for_occupancy(load: float, max_occupancy: float | None) -> int:
    """The fewest agents that keep occupancy (offered load / agents) at or below the cap."""
    if max_occupancy is None or load <= 0:
        return 0
    return math.ceil(load / max_occupancy - 1e-9)


def _check_max_occupancy(max_occupancy: float | None) -> None:
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ConfigError("", "max_occupancy", f"must be in (0, 1], got {max_occupancy!r}")


def channel_names(scenario: Scenario, channels: Iterable[str] | None) -> list[str]:
    """The channels to staff (default: every one), each checked to be in ``scenario``."""
    names = list(scenario.channels) if channels is None else list(channels)
    for name in names:
        if name not in scenario.channels:
            raise ConfigError(
                "", "channel", f"no channel {name!r} (channels: {', '.join(scenario.channels)})"
            )
    return names


def mean_patience(channel: Channel, method: str) -> float | None:
    """The mean patience a stationary ``method`` reads (None: never abandons)."""
    # Erlang A reads patience as exponential with the channel's mean; a channel without
    # patience never abandons, which is Erlang C.
    if method == "erlang-c" or channel.patience is None:
        return None
    return channel.patience.expected()


def erlang_requirements(
    scenario: Scenario,
    target: ServiceLevel | None = None,
    max_occupancy: float | None = None,
    method: str = "erlang-c",
    channels: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Agents required per reporting interval and channel from a stationary model ("SIPP").

    ``method`` is ``"erlang-c"`` (no abandonment) or ``"erlang-a"`` (the channel's patience,
    read as exponential with its mean). ``target`` replaces every channel's own objective;
    ``max_occupancy`` adds the cap n >= offered load / max occupancy. Rates are the
    scenario's expected ones (day busyness has mean 1 and is left out). One row per channel
    and interval, columns :data:`REQUIREMENT_COLUMNS`.
    """
    if method not in ("erlang-c", "erlang-a"):
        raise ConfigError("", "method", f"expected erlang-c or erlang-a, got {method!r}")
    _check_max_occupancy(max_occupancy)
    calendar = scenario.calendar()
    rows = []
    for name in channel_names(scenario, channels):
        channel = scenario.channels[name]
        objective = channel_objective(channel, target)
        if channel.arrivals is None:
            raise ConfigError(
                "",
                f"channels.{name}",
                "is fed only by escalations: a stationary model needs arrivals of its own "
                "(leave it out with --channel)",
            )
        patience = mean_patience(channel, method)
        rates = interval_rates(channel.arrivals, calendar)
        for part, share, aht in _parts(scenario, name):
            rows.extend(
                _requirement_rows(
                    part,
                    method,
                    calendar,
                    [share * float(r) for r in rates],
                    aht,
                    patience,
                    objective,
                    max_occupancy,
                )
            )
    return pd.DataFrame(rows, columns=list(REQUIREMENT_COLUMNS))


def _parts(scenario: Scenario, name: str) -> list[tuple[str, float, float]]:
    """What a channel is staffed as: ``(name, share of its contacts, mean handle time)``,
    the whole channel at proficiency 1, or each share of a split channel at its site's
    handle time (so a share's requirement is in its own site's agents)."""
    channel = scenario.channels[name]
    aht = channel.handle_time.expected()
    shares = split_shares(scenario, name)
    if not shares:
        return [(name, 1.0, aht)]
    sites = {site.name: site for site in scenario.sites}
    return [
        (share_name(name, site), share, aht * sites[site].proficiency.get(name, 1.0))
        for site, share in shares.items()
    ]


def _requirement_rows(name, method, calendar, rates, aht, patience, objective, max_occupancy):
    """One channel's (or share's) rows: the stationary requirement of each interval."""
    rows = []
    needed: dict[float, int] = {}  # many intervals share a rate: solve each once
    for slot, rate in zip(calendar.slots, rates, strict=True):
        if rate not in needed:
            try:
                needed[rate] = agents_for_service_level(
                    rate, aht, objective.threshold, objective.target, patience
                )
            except ValueError as exc:
                where = f"channels.{channel_of(name)}.service_level"
                raise ConfigError("", where, str(exc)) from None
        load = rate * aht
        by_service, by_occupancy = needed[rate], agents_for_occupancy(load, max_occupancy)
        limited_by = (
            "" if rate <= 0 else "occupancy" if by_occupancy > by_service else "service_level"
        )
        rows.append(
            {
                "interval": slot.index,
                "interval_start": slot.local_start.isoformat(),
                "channel": name,
                "method": method,
                "offered": rate * (slot.end - slot.start),
                "offered_load": load,
                "required": max(by_service, by_occupancy),
                "limited_by": limited_by,
            }
        )
    return rows
