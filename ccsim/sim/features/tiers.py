"""Tiers: resolution, escalation to the next tier, and the customer behind the contacts.

A contact with a customer history (the bot's, a retrial's, a call back's, a transfer's)
carries a :class:`~ccsim.sim.state.Customer`; a first contact that reaches an agent of a
channel that is not plain gets one when it is answered (:meth:`_Tier.resolve`), with its
first arrival. When such a contact is answered it draws whether the site resolved it (the
site's probability, or the channel's): resolved (counted for the customer's first
arrival), escalated (it moves to the ``escalation`` channel's queue when its service ends:
:meth:`_Tier.transfer`) or unresolved (the customer may come back: a repeat). A first
contact of a plain channel (no bot, tiers or repeats, always resolved) is left to the
counter, which counts those from totals.

Each channel gets its own :class:`_Tier`, whose bound methods are its hooks: a contact's
resolution reads its channel's probabilities and stream as attributes, not by index.
"""

from __future__ import annotations

import math

from ccsim.sim.state import ESCALATE, Customer, attach

__all__ = ["Tiers"]


class _Tier:
    """One channel's resolution: probability per site index, its stream, the next tier."""

    __slots__ = ("core", "count", "draw", "escalation", "resolution", "returns")

    def __init__(self, core, resolution: list[float], draw, escalation) -> None:
        self.core, self.count = core, core.count
        self.resolution = resolution
        self.draw = draw
        self.escalation = escalation  # the next tier's channel, or None
        self.returns = None  # the returns feature, once every feature is built

    def resolve(self, contact, site, handle_time: float, now: float) -> None:
        """Whether the answered contact is resolved here, escalated or left unresolved;
        customer outcomes go to the customer's first arrival."""
        customer = contact.customer
        resolution = self.resolution[site.index]
        if customer is None:
            channel = contact.channel
            if channel.plain:
                return  # a plain first contact: counted from the totals
            if resolution >= 1.0 or self.draw() < resolution:
                # Resolved at its first contact: its own customer, which no one reads
                # again, so none is made (most first contacts end here).
                self.count.resolved_first(contact, now + handle_time)
                return
            # Not resolved: the customer goes on (an escalation, a repeat). The counter
            # counted it as one answered without a history.
            customer = contact.customer = Customer(contact, contact.arrival)
            customer.answered = True
        elif resolution >= 1.0 or self.draw() < resolution:
            self.count.resolved(contact, customer, now + handle_time)
            return
        customer.first = False
        if self.escalation is not None:
            contact.followup |= ESCALATE
            self.count.not_resolved(contact, customer, site, "escalated")
        else:
            self.count.not_resolved(contact, customer, site, "unresolved")
            if self.returns is not None:
                self.returns.maybe_repeat(customer, now + handle_time)

    def transfer(self, contact, agent) -> None:
        """An escalated contact goes to the next tier's queue when its service ends:
        counted there when counted here (after the horizon: in the last interval)."""
        if not contact.followup & ESCALATE:
            return
        target = self.escalation
        patience = target.draw_patience() if target.draw_patience is not None else math.inf
        self.core.bring(
            target, target.draw_handle_time(), patience, contact.tally is not None,
            contact.customer, "transfers_in",
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
            escalation = by_name[config.escalation] if config.escalation is not None else None
            tier = _Tier(core, resolution, streams.uniforms("resolution", channel.name), escalation)
            self.tiers[channel.index] = tier
            attach(channel, "on_answer", tier.resolve)
            if escalation is not None:
                attach(channel, "on_end", tier.transfer)

    def start(self) -> None:
        returns = self.core.features.get("returns")
        for tier in self.tiers.values():
            tier.returns = returns
