"""Pools of agents and what each must supply: the seed requirement of the whole-scenario search
(:mod:`ccsim.planning.search`, step 1).

A **pool** is the channels that the same sites answer (a multi-skill site's channels form
one). Each channel's human traffic is what its bot leaves (true containment removed, handle
time and patience multiplied after a failed bot, agent assist), chats as ``concurrency`` slots
per agent each slowed by the stretch, tiers fed by what the channels before them leave
unresolved, returns of unresolved customers as a geometric series; its dedicated requirement
is Erlang A (email: its workload at 90% occupancy). A pool needs its total load plus the
square root of the sum of the squared safety staffings of its channels (the square-root law:
safety grows with the root of the load, so pooled channels share it), and never less than its
largest channel.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from ccsim.model import Scenario
from ccsim.model.request_types import human_mix, type_mean
from ccsim.planning.shares import service_sites, share_name, split_shares
from ccsim.planning.staffing import agents_for_service_level
from ccsim.planning.targets import Targets
from ccsim.sim.arrivals import interval_rates

__all__ = [
    "EMAIL_OCCUPANCY",
    "Pool",
    "Traffic",
    "human_traffic",
    "occupancy_floors",
    "pool_requirements",
    "pools",
    "replanning_factors",
]

#: Occupancy at which email (deferred work) is planned when it has a pool of its own.
EMAIL_OCCUPANCY = 0.9


@dataclass(frozen=True)
class Traffic:
    """What reaches the humans of one channel: arrival rate per interval (per second), mean
    handle time at proficiency 1, exponential patience (None: never abandons), chats held at
    once, and whether it is deferred work (email)."""

    rates: np.ndarray
    aht: float
    patience: float | None
    servers: int
    deferred: bool

    @property
    def loads(self) -> np.ndarray:
        """Offered load per interval, in agents."""
        return self.rates * self.aht / self.servers


def _resolution(scenario: Scenario, name: str, mix=None) -> float:
    """The lowest resolution among the sites that answer ``name`` (planning on the safe side)."""
    channel = scenario.channels[name]
    values = [
        site.resolution.get(name, channel.resolution) for site, _ in scenario.eligible_sites(name)
    ]
    lowest = min(values) if values else channel.resolution
    # Request types: their mean resolution, scaled by the site's as each type's is.
    mean = type_mean(channel, "resolution", channel.resolution, mix)
    if mean != channel.resolution and channel.resolution > 0:
        return min(1.0, mean * lowest / channel.resolution)
    return lowest


def human_traffic(scenario: Scenario) -> dict[str, Traffic]:
    """Per channel, the traffic that reaches its agents (see the module docstring)."""
    calendar = scenario.calendar()
    n = len(calendar.slots)
    inflow: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    traffic: dict[str, Traffic] = {}
    pending = list(scenario.channels)
    while pending:
        for name in list(pending):
            channel = scenario.channels[name]
            sources = [c for c, spec in scenario.channels.items() if spec.escalation_to == name]
            if any(source in pending for source in sources):
                continue  # a tier: after the channels that feed it
            pending.remove(name)
            handle, patience_factor, rates = channel.agent_assist, 1.0, inflow[name].copy()
            if channel.arrivals is not None:
                reach = 1.0
                bot = channel.bot
                if bot is not None:
                    # Falsely contained customers come back: only true containment is gone.
                    contained = type_mean(channel, "containment", bot.containment)
                    falsely = type_mean(channel, "false_containment", bot.false_containment)
                    reach = 1.0 - bot.share * contained
                    handed = bot.share * (1.0 - contained - falsely) / reach
                    handle *= handed * bot.handle_time_multiplier + (1.0 - handed)
                    patience_factor = handed * bot.patience_multiplier + (1.0 - handed)
                rates = (
                    rates + np.asarray(interval_rates(channel.arrivals, calendar), float) * reach
                )
            # Request types: the agents meet the mix the bot leaves them.
            mix = human_mix(channel)
            handle *= type_mean(channel, "handle_time_multiplier", 1.0, mix)
            unresolved = 1.0 - _resolution(scenario, name, mix)
            share = type_mean(channel, "escalation", channel.escalation_share, mix)
            if channel.escalation is not None and share is not None:
                # Escalation apart from non-resolution: the rest may come back.
                inflow[channel.escalation_to] += rates * share
                if channel.repeat is not None:
                    left = max(unresolved - share, 0.0)
                    rates = rates / (1.0 - left * channel.repeat.probability)
            elif channel.escalation is not None:
                inflow[channel.escalation_to] += rates * unresolved
            elif channel.repeat is not None:  # returns: a geometric series of contacts
                rates = rates / (1.0 - unresolved * channel.repeat.probability)
            aht = channel.handle_time.expected() * handle
            servers = channel.concurrency if channel.kind == "chat" else 1
            if servers > 1:
                aht *= 1.0 + channel.stretch * (servers - 1)
            patience = (
                channel.patience.expected() * patience_factor
                if channel.patience is not None
                else None
            )
            traffic[name] = Traffic(rates, aht, patience, servers, channel.kind == "email")
    return traffic


def _dedicated(traffic: Traffic, target) -> np.ndarray:
    """Agents a channel would need as a pool of its own, per interval (fractional for chats)."""
    if traffic.deferred:
        return np.ceil(traffic.loads / EMAIL_OCCUPANCY - 1e-9)
    needed, solved = np.zeros(len(traffic.rates)), {}
    for k, rate in enumerate(traffic.rates):
        rate = float(rate)
        if rate <= 0:
            continue
        if rate not in solved:
            try:
                solved[rate] = agents_for_service_level(
                    rate, traffic.aht, target.threshold, target.target, traffic.patience
                )
            except ValueError:  # a target of 100%: no stationary staffing meets it
                solved[rate] = math.ceil(2 * rate * traffic.aht + 1)
        needed[k] = solved[rate] / traffic.servers
    return needed


@dataclass(frozen=True)
class Pool:
    """Channels answered by the same sites: covered together by those sites' agents. A
    share of a ``split`` channel is a pool of its own: the channel, its site, and the
    ``share`` of the channel's work the routing sends there (:mod:`ccsim.planning.shares`)."""

    channels: tuple[str, ...]
    sites: tuple[str, ...]
    share: float | None = None

    @property
    def name(self) -> str:
        if self.share is not None:
            return share_name(self.channels[0], self.sites[0])
        return "+".join(self.channels)

    @property
    def judged(self) -> tuple[str, ...]:
        """The names its service is judged under: its channels, and its share's own."""
        return (*self.channels, self.name) if self.share is not None else self.channels

    def traffic(self, traffic: dict[str, Traffic]) -> dict[str, Traffic]:
        """Its channels' traffic, a share's scaled to the share."""
        if self.share is None:
            return {name: traffic[name] for name in self.channels}
        (name,) = self.channels
        whole = traffic[name]
        return {name: replace(whole, rates=whole.rates * self.share)}


def pools(scenario: Scenario) -> list[Pool]:
    """The scenario's channels grouped by the sites that may answer them within their
    thresholds; each share of a split channel a pool of its own."""
    grouped: dict[tuple[str, ...], list[str]] = defaultdict(list)
    shares = []
    for name in scenario.channels:
        split = split_shares(scenario, name)
        if split:
            shares.extend(Pool((name,), (site,), share) for site, share in split.items())
            continue
        sites = tuple(sorted(site.name for site in service_sites(scenario, name)))
        grouped[sites].append(name)
    return [Pool(tuple(channels), sites) for sites, channels in grouped.items()] + shares


def pool_requirements(
    scenario: Scenario, targets: Targets, traffic: dict[str, Traffic] | None = None
) -> dict[str, np.ndarray]:
    """The seed requirement of every pool, per interval: agents available at proficiency 1."""
    traffic = human_traffic(scenario) if traffic is None else traffic
    result = {}
    for pool in pools(scenario):
        loads, squares, largest = 0.0, 0.0, 0.0
        for name, own in pool.traffic(traffic).items():
            need = _dedicated(own, targets.channels[name].service_level)
            load = own.loads
            loads = loads + load
            squares = squares + np.maximum(need - load, 0.0) ** 2
            largest = np.maximum(largest, need)
        result[pool.name] = np.ceil(np.maximum(largest, loads + np.sqrt(squares)) - 1e-9)
    for name, floor in occupancy_floors(scenario, targets, traffic).items():
        result[name] = np.maximum(result[name], floor)
    return result


def occupancy_floors(
    scenario: Scenario, targets: Targets, traffic: dict[str, Traffic] | None = None
) -> dict[str, np.ndarray]:
    """The agents each pool needs per interval for its occupancy caps: live load (voice,
    chat) over ``max_occupancy``, and all load with deferred work over
    ``max_occupancy_deferred``. Zero without a cap."""
    traffic = human_traffic(scenario) if traffic is None else traffic
    n = len(scenario.calendar().slots)
    floors = {}
    for pool in pools(scenario):
        floor = np.zeros(n)
        if targets.max_occupancy is not None:
            own = pool.traffic(traffic).values()
            live = sum((t.loads for t in own if not t.deferred), np.zeros(n))
            every = sum((t.loads for t in own), np.zeros(n))
            floor = np.maximum(
                np.ceil(live / targets.max_occupancy - 1e-9),
                np.ceil(every / targets.max_occupancy_deferred - 1e-9),
            )
        floors[pool.name] = floor
    return floors


def _speed(scenario: Scenario, pool: Pool, site: str, loads: dict[str, float]) -> float:
    """The site's handle-time multiplier over the pool's channels, weighted by their load."""
    config = next(s for s in scenario.sites if s.name == site)
    total = sum(loads[c] for c in pool.channels)
    if total <= 0:
        return 1.0
    return sum(loads[c] * config.proficiency.get(c, 1.0) for c in pool.channels) / total


def replanning_factors(
    base: Scenario, variant: Scenario, before: dict[str, np.ndarray] | None = None
) -> dict[str, float]:
    """How ``variant`` of ``base`` would be staffed, per site: the ratio of the pool's seed
    requirement (:func:`pool_requirements`, summed over the week; ``before``: base's, when
    known) at the variant to that at base, times the ratio of the site's handle-time
    multiplier (``proficiency``, load-weighted over the pool's channels: the requirement is
    at proficiency 1, so a site whose agents get slower needs more of them); the largest
    over the pools the site serves, to 3 digits (one fingerprint a variant)."""
    before = pool_requirements(base, Targets.of(base)) if before is None else before
    after = pool_requirements(variant, Targets.of(variant))
    loads = {name: float(t.loads.sum()) for name, t in human_traffic(base).items()}
    factors: dict[str, float] = {}
    for pool in pools(base):
        old = float(before[pool.name].sum())
        new = float(after[pool.name].sum()) if pool.name in after else old
        ratio = new / old if old > 0 and new > 0 else 1.0
        for site in pool.sites:
            speed = _speed(variant, pool, site, loads) / _speed(base, pool, site, loads)
            factor = round(ratio * speed, 3)
            factors[site] = max(factors.get(site, factor), factor)
    return factors
