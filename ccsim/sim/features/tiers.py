"""Tiers: resolution, escalation to the next tier, and the customer behind the contacts.

A contact with a customer history (the bot's, a retrial's, a call back's, a transfer's)
carries a :class:`~ccsim.sim.state.Customer`; a first contact that reaches an agent of a
channel that is not plain gets one when it is answered (:meth:`_Tier.resolve`), with its
first arrival. When such a contact is answered it draws one uniform against the site's
probability of resolution (or the channel's): resolved (counted for the customer's first
arrival), escalated (it moves to the ``escalation`` channel's queue when its service ends:
:meth:`_Tier.transfer`) or unresolved (the customer may come back: a repeat). With
``escalation: tier2`` every unresolved contact escalates; with ``{to, share}`` a uniform
from the resolution up to the resolution plus the share escalates, and above it the contact
is left unresolved. A contact with a request type reads its type's probabilities
(:meth:`_Tier.resolve_typed`, attached only when the scenario has types). A first
contact of a plain channel (no bot, tiers or repeats, always resolved) is left to the
counter, which counts those from totals.

Each channel gets its own :class:`_Tier`, whose bound methods are its hooks: a contact's
resolution reads its channel's probabilities and stream as attributes, not by index.
"""

from __future__ import annotations

import math

from ccsim.sim.features.request_types import resolution_limits
from ccsim.sim.state import ESCALATE, attach, new_customer

__all__ = ["Tiers"]


class _Tier:
    """One channel's resolution: probability per site index, its stream, the next tier."""

    __slots__ = (
        "core", "count", "draw", "escalates", "escalation", "resolution", "returns", "survey",
        "types",
    )  # fmt: skip

    def __init__(self, core, resolution: list[float], escalates, draw, escalation) -> None:
        self.core, self.count, self.survey = core, core.count, core.survey
        self.resolution = resolution
        self.escalates = escalates  # per site: a uniform below it, not resolved, escalates
        self.draw = draw
        self.escalation = escalation  # the next tier's channel, or None
        self.returns = None  # the returns feature, once every feature is built
        self.types = None  # the request types feature, in a scenario with types

    def resolve(self, contact, site, handle_time: float, now: float, rates=None) -> str:
        """Whether the answered contact is resolved here, escalated or left unresolved;
        customer outcomes go to the customer's first arrival. ``rates``: (resolution,
        escalation) of the contact's request type here, else the site's. Returns the
        outcome (``resolved_first``: at a first contact that needs no customer; ``""``: a
        plain first contact, counted from the totals)."""
        customer = contact.customer
        fresh = customer is None  # its survey was counted as one resolved at its answer
        resolution = self.resolution[site.index] if rates is None else rates[0]
        # A plain channel resolves at every site: it draws nothing, as one resolving always.
        draw = self.draw() if resolution < 1.0 else 0.0
        if customer is None:
            channel = contact.channel
            if channel.plain:
                return ""  # a plain first contact: counted from the totals
            if draw < resolution:
                # Resolved at its first contact: its own customer, which no one reads
                # again, so none is made (most first contacts end here).
                self.count.resolved_first(contact, now + handle_time)
                return "resolved_first"
            # Not resolved: the customer goes on (an escalation, a repeat). The counter
            # counted it as one answered without a history.
            customer = contact.customer = new_customer(contact, contact.arrival)
            customer.answered = True
        elif draw < resolution:
            self.count.resolved(contact, customer, site, now, now + handle_time)
            return "resolved"
        customer.first = False
        if draw < (self.escalates[site.index] if rates is None else rates[1]):
            contact.followup |= ESCALATE
            self.count.not_resolved(contact, customer, site, now, fresh, True)
            return "escalated"
        self.count.not_resolved(contact, customer, site, now, fresh, False)
        if self.returns is not None:
            self.returns.maybe_repeat(customer, now + handle_time)
        return "unresolved"

    def resolve_typed(self, contact, site, handle_time: float, now: float) -> None:
        """:meth:`resolve` for a contact with a request type: its type's probabilities
        here (the channel's for a type this channel does not declare), and the outcome
        counted for the type."""
        request = contact.request
        if request is None:
            self.resolve(contact, site, handle_time, now)
            return
        kinds = contact.channel.types
        kind = kinds.get(request) if kinds is not None else None
        rates = (kind.resolution[site.index], kind.escalates[site.index]) if kind else None
        outcome = self.resolve(contact, site, handle_time, now, rates)
        if not outcome or contact.tally is None:
            return  # a plain first contact: counted for its type by RequestTypes.answered
        # Added to the request types' table inline (TypeCounts.add, without its call).
        table, channel = self.core.request_types.table, contact.channel
        if outcome == "resolved_first":
            table[channel, request, "resolved"] += 1.0
            table[channel, request, "first_contact_resolutions"] += 1.0
            return
        table[channel, request, outcome] += 1.0
        if outcome == "resolved" and contact.customer.first:  # first is kept when resolved
            table[channel, request, "first_contact_resolutions"] += 1.0

    def transfer(self, contact, agent) -> None:
        """An escalated contact goes to the next tier's queue when its service ends:
        counted there when counted here (after the horizon: in the last interval)."""
        if not contact.followup & ESCALATE:
            return
        target = self.escalation
        patience = target.draw_patience() if target.draw_patience is not None else math.inf
        handle_time = target.draw_handle_time()
        if self.types is not None:  # the tier's handle time for this type
            handle_time *= self.types.multiplier(target, contact.request)
        self.core.bring(
            target, handle_time, patience, contact.tally is not None, contact.customer,
            "transfers_in",
        )  # fmt: skip


class Tiers:
    name = "tiers"

    @staticmethod
    def used(scenario) -> bool:
        # Customers exist with a bot, tiers, partial resolution, repeats, retrials, call
        # backs or messages served; any of them makes answered contacts resolve here.
        return any(
            c.staged
            or c.retrial is not None
            or c.callback is not None
            or (c.message is not None and c.message.served)
            for c in scenario.channels.values()
        ) or any(site.resolution for site in scenario.sites)

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.tiers: dict[int, _Tier] = {}  # channel index -> its resolution
        by_name = {channel.name: channel for channel in core.channels}
        for channel in core.channels:
            config = scenario.channels[channel.served_as]
            resolution = [
                site.config.resolution.get(channel.served_as, config.resolution)
                for site in core.sites
            ]
            escalation = by_name[config.escalation_to] if config.escalation is not None else None
            escalates = resolution_limits(
                resolution, config.escalation_share, escalation is not None
            )
            tier = _Tier(
                core, resolution, escalates, streams.uniforms("resolution", channel.name),
                escalation,
            )  # fmt: skip
            self.tiers[channel.index] = tier
            typed = core.request_types is not None
            attach(channel, "on_answer", tier.resolve_typed if typed else tier.resolve)
            if escalation is not None:
                attach(channel, "on_end", tier.transfer)

    def start(self) -> None:
        returns = self.core.features.get("returns")
        types = self.core.features.get("request_types")
        for tier in self.tiers.values():
            tier.returns, tier.types = returns, types
