"""Request types: each new contact of a channel with ``request_types`` draws its type.

The type is drawn at arrival from the channel's stream ``("request_type", channel)``, which
exists only for a channel with types, so a scenario without them draws exactly as before.
It multiplies the contact's handle time (the same handle-time draw as without types) and
travels with the contact: the customer keeps it (:class:`~ccsim.sim.state.Customer`), so
a retrial, a repeat, a call back, a message and a transfer to the next tier are of the same
type. Where it differs, the bot's containment (:mod:`.bot`) and the resolution and
escalation of an answered contact (:mod:`.tiers`) read the type's values from the
channel's ``types``: a :class:`Kind` per type, the channel's values filling what the type
leaves out. A site's resolution scales a type's: type resolution x (site's / channel's).

Counts per channel and type (:class:`~ccsim.sim.type_counts.TypeCounts`) are the core's
``request_types``; a channel a typed contact reaches counts it there too (a tier 2).
"""

from __future__ import annotations

import math
from itertools import accumulate

import numpy as np

from ccsim.sim.state import attach
from ccsim.sim.streams import batched_draws
from ccsim.sim.type_counts import TypeCounts

__all__ = ["Kind", "RequestTypes", "resolution_limits"]


class Kind:
    """What one request type is at one channel: its handle-time multiplier, resolution
    and escalation limit per site index (a uniform below ``resolution`` resolves, below
    ``escalates`` escalates) and the bot's containment limits."""

    __slots__ = ("containment", "escalates", "false_limit", "multiplier", "resolution")

    def __init__(self, multiplier, resolution, escalates, containment, false_limit) -> None:
        self.multiplier = multiplier
        self.resolution, self.escalates = resolution, escalates
        self.containment, self.false_limit = containment, false_limit


def resolution_limits(resolution: list[float], share: float | None, escalates: bool) -> list[float]:
    """Per site, the uniform below which an unresolved contact escalates: every one
    (``share`` None: the string form), the resolved share plus ``share``, or none."""
    if not escalates:
        return [-math.inf] * len(resolution)
    if share is None:
        return [math.inf] * len(resolution)
    return [r + share for r in resolution]


def _kinds(channel: str, own, sites) -> dict[str, Kind]:
    """The types of the channel named ``channel`` (configuration ``own``) as its contacts
    meet them at its sites."""
    base = [site.config.resolution.get(channel, own.resolution) for site in sites]
    kinds = {}
    for name, kind in own.request_types.items():
        fcr = kind.resolution if kind.resolution is not None else own.resolution
        # A site's resolution penalty (or gain) applies relative to the channel's.
        resolution = [min(1.0, fcr * b / own.resolution) if own.resolution > 0 else b for b in base]
        share = kind.escalation if kind.escalation is not None else own.escalation_share
        escalates = resolution_limits(resolution, share, own.escalation is not None)
        bot = own.bot
        containment = false_limit = 0.0
        if bot is not None:
            containment = kind.containment if kind.containment is not None else bot.containment
            false = (
                kind.false_containment
                if kind.false_containment is not None
                else bot.false_containment
            )
            false_limit = containment + false
        kinds[name] = Kind(
            kind.handle_time_multiplier, resolution, escalates, containment, false_limit
        )
    return kinds


class _Drawn:
    """One request type of one channel as its new contacts draw it: its name, its
    handle-time multiplier there and the key of its offered count."""

    __slots__ = ("multiplier", "name", "offered")

    def __init__(self, name: str, multiplier: float, offered: tuple) -> None:
        self.name, self.multiplier, self.offered = name, multiplier, offered


class _Draw:
    """One channel's type draw at arrival, from its own stream.

    The types are drawn in batches, as the streams draw their uniforms (each uniform
    falls between the types' cumulative shares, numpy's ``searchsorted`` for one
    ``bisect_right`` each), so that a contact's type is one ``next``: the same uniforms,
    the same types, no Python work per contact but reading what was drawn."""

    __slots__ = ("draw", "table")

    def __init__(self, channel, config, kinds, rng, counts: TypeCounts) -> None:
        self.table = counts.table
        names = list(config.request_types)
        types = [_Drawn(n, kinds[n].multiplier, (channel, n, "offered")) for n in names]
        bounds = np.array(list(accumulate(t.share for t in config.request_types.values()))[:-1])

        def sample(rng, size: int) -> np.ndarray:
            # The object array is made per batch and dropped with it: numpy's arrays are
            # not seen by the cycle collector, so one kept here (its types hold the
            # channel, which holds this draw) would keep the whole run alive after it.
            drawn = np.empty(len(types), dtype=object)
            drawn[:] = types
            return drawn[np.searchsorted(bounds, rng.random(size), side="right")]

        self.draw = batched_draws(sample, rng)

    def arrive(self, contact, now: float) -> bool:
        """Give the new contact its type; it goes on to the bot or the queue."""
        kind = self.draw()
        contact.request = kind.name
        contact.handle_time *= kind.multiplier
        if contact.tally is not None:
            self.table[kind.offered] += 1.0
        return False


class RequestTypes:
    name = "request_types"

    @staticmethod
    def used(scenario) -> bool:
        return any(c.request_types for c in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        # Every type of every channel: a typed contact may reach a channel without types.
        requests = {name for c in scenario.channels.values() for name in c.request_types or ()}
        self.counts = core.request_types = TypeCounts(core.channels, sorted(requests))
        self.table = self.counts.table
        for channel in core.channels:
            config = scenario.channels[channel.served_as]
            if config.request_types:
                channel.types = _kinds(channel.served_as, config, core.sites)
            if config.request_types and not channel.internal and config.arrivals is not None:
                draw = _Draw(
                    channel,
                    config,
                    channel.types,
                    streams.generator("request_type", channel.name),
                    self.counts,
                )
                attach(channel, "on_arrive", draw.arrive)
            attach(channel, "on_answer", self.answered)

    def answered(self, contact, site, handle_time: float, now: float) -> None:
        """Count an answered contact of a type (any channel a typed contact reaches), on
        the counts' table inline: this runs for every contact answered."""
        request = contact.request
        if request is not None and contact.tally is not None:
            channel, table = contact.channel, self.table
            table[channel, request, "answered"] += 1.0
            table[channel, request, "handle_time"] += handle_time
            if channel.plain and contact.customer is None:  # resolved there and then
                table[channel, request, "resolved"] += 1.0
                table[channel, request, "first_contact_resolutions"] += 1.0

    def multiplier(self, channel, request) -> float:
        """A new handle-time draw's multiplier for a contact of type ``request`` brought to
        ``channel`` (a transfer, a repeat): the type's there, or 1."""
        kinds = channel.types
        if request is None or kinds is None or request not in kinds:
            return 1.0
        return kinds[request].multiplier
