"""What one replication may cost: bounds checked when a scenario is read, before any run.

A scenario can ask for a run that never ends or fills the memory: a billion agents, a rate
of a billion a minute, a horizon of centuries cut into half hours, callers who retry every
microsecond. Such a file is refused up front with one line naming the field and the limit,
from an estimate of what the run would cost: reporting intervals, agents at once, chats one
agent holds, and contacts over the horizon, counting the most returns (retrials, repeats,
false containment) each first contact could make. The default limits leave every shipped
scenario far inside; a scenario that really needs more says so in its ``limits`` mapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ccsim.model.arrivals import PROFILE_BYTES
from ccsim.model.calendar import WEEKDAYS
from ccsim.model.errors import ConfigError
from ccsim.model.units import format_duration

if TYPE_CHECKING:
    from ccsim.model.channel import Channel
    from ccsim.model.distributions import Distribution
    from ccsim.model.site import Site

__all__ = ["Limits", "Operation", "check_limits", "contact_bound", "loop_returns"]


class Limits(BaseModel):
    """Upper bounds on the size of one replication; raise one in a scenario's ``limits``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    contacts: int = Field(
        10_000_000, ge=1, description="contacts over the horizon, with the most returns"
    )
    agents: int = Field(100_000, ge=1, description="agents on the floor at once")
    intervals: int = Field(100_000, ge=1, description="reporting intervals over the horizon")
    concurrency: int = Field(100, ge=1, description="chats one agent holds at once")
    profile_bytes: int = Field(PROFILE_BYTES, ge=1, description="size of a profile file")


class Operation(Protocol):
    """What the bounds read of a :class:`~ccsim.model.scenario.Scenario`. The scenario
    checks itself against its limits when it is validated, so it imports this module, and
    this one names only the parts it reads."""

    @property
    def horizon(self) -> float: ...

    @property
    def interval(self) -> float: ...

    @property
    def channels(self) -> Mapping[str, Channel]: ...

    @property
    def sites(self) -> Sequence[Site]: ...

    @property
    def limits(self) -> Limits: ...

    @property
    def model_fields_set(self) -> set[str]: ...


def loop_returns(probability: float, delay: Distribution, horizon: float) -> float:
    """The most times one contact may come back through a loop taken with ``probability``
    after ``delay``, within ``horizon``.

    A geometric number of returns, p / (1 - p), when p < 1; in any case no more than a
    renewal process with that delay fits in the horizon, whose expected count is at most
    t/mu + E[X^2]/mu^2 (Lorden's inequality), however the delays are distributed."""
    if probability <= 0:
        return 0.0
    mean = delay.expected()
    renewals = horizon / mean + delay.mean_square() / mean**2
    return renewals if probability >= 1 else min(probability / (1 - probability), renewals)


def _returns_factor(channel: Channel, horizon: float) -> float:
    """Contacts per first contact of a channel at worst: each loop multiplies."""
    factor = 1.0
    if channel.retrial is not None:
        factor *= 1 + loop_returns(channel.retrial.probability, channel.retrial.delay, horizon)
    if channel.repeat is not None:
        factor *= 1 + loop_returns(channel.repeat.probability, channel.repeat.delay, horizon)
    bot = channel.bot
    if bot is not None and bot.return_delay is not None:
        factor *= 1 + loop_returns(bot.false_containment, bot.return_delay, horizon)
    if channel.callback is not None:
        factor *= 2  # the call back is a contact of its own
    return factor


def _first_contacts(scenario: Operation, channel: Channel) -> float:
    """Expected first contacts of a channel over the horizon, from above: a constant rate
    times the horizon; a daily volume (busiest weekday) times the days the horizon touches,
    or times the busiest interval's share for each interval, whichever is less."""
    dialing = channel.dialing
    if dialing is not None:  # an outbound channel: every attempt of every record
        if dialing.rate is not None:
            return dialing.rate * scenario.horizon * dialing.attempts
        return dialing.records * (scenario.horizon / 86400 + 1) * dialing.attempts
    arrivals = channel.arrivals
    if arrivals is None:
        return 0.0
    if arrivals.rate is not None:
        return arrivals.rate * scenario.horizon
    volume = max(arrivals.daily_volume(day) for day in range(7))
    profile = arrivals.profile
    busiest = max(profile) / sum(profile) if profile is not None else scenario.interval / 86400
    n_intervals = math.ceil(scenario.horizon / scenario.interval) + 2  # two for daylight saving
    return volume * min(scenario.horizon / 86400 + 1, n_intervals * busiest)


def contact_bound(scenario: Operation) -> float:
    """Contacts one replication handles at most, in expectation: first contacts of every
    channel, each with the most returns it may make, passed down every tier it may reach."""
    total = 0.0
    for name, channel in scenario.channels.items():
        contacts = _first_contacts(scenario, channel) * _returns_factor(channel, scenario.horizon)
        seen = {name}
        step = channel.escalation_to
        tiers = 1
        while step is not None and step not in seen:  # tiers are checked for loops elsewhere
            seen.add(step)
            tiers += 1
            step = scenario.channels[step].escalation_to if step in scenario.channels else None
        total += contacts * tiers
    return total


def check_limits(scenario: Operation) -> None:
    """Raise a :class:`ConfigError` naming the field when the scenario exceeds a limit."""
    limits = scenario.limits
    intervals = scenario.horizon / scenario.interval
    if intervals > limits.intervals:
        # Name the field the user wrote: a short interval, or a long horizon.
        field = "interval" if "interval" in scenario.model_fields_set else "horizon"
        raise ConfigError(
            "",
            field,
            f"gives {_count(intervals)} reporting intervals of "
            f"{format_duration(scenario.interval)}, more than the limit of "
            f"{limits.intervals:,} intervals (limits.intervals): use a longer interval or a "
            "shorter horizon",
        )
    at_once = [
        (site.agents or 0)
        + sum(max(map(shift.headcount_on, WEEKDAYS)) for shift in site.shifts or ())
        for site in scenario.sites
    ]
    if sum(at_once) > limits.agents:
        index = max(range(len(at_once)), key=at_once.__getitem__)
        field = "agents" if scenario.sites[index].agents is not None else "shifts"
        raise ConfigError(
            "",
            f"sites.{index}.{field}",
            f"{sum(at_once):,} agents at once over all sites, above limits.agents = "
            f"{limits.agents:,}",
        )
    for name, channel in scenario.channels.items():
        if channel.concurrency > limits.concurrency:
            raise ConfigError(
                "",
                f"channels.{name}.concurrency",
                f"{channel.concurrency:,} chats per agent, above limits.concurrency = "
                f"{limits.concurrency:,}",
            )
    per_channel = {
        name: _first_contacts(scenario, channel) * _returns_factor(channel, scenario.horizon)
        for name, channel in scenario.channels.items()
    }
    contacts = contact_bound(scenario)
    if not contacts <= limits.contacts:
        busiest = max(per_channel, key=per_channel.__getitem__)
        first = _first_contacts(scenario, scenario.channels[busiest])
        raise ConfigError(
            "",
            f"channels.{busiest}",
            f"about {_count(contacts)} contacts per replication ({_count(first)} arrivals "
            "here, with the most retrials, repeats and returns they may make), above "
            f"limits.contacts = {limits.contacts:,}",
        )


def _count(value: float) -> str:
    return f"{value:,.0f}" if value < 1e15 else f"{value:.3g}"
