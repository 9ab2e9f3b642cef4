"""Tiers: resolution, escalation to the next tier, and the customer behind the contacts.

A contact of a channel with a bot, tiers, partial resolution or repeats gets a
:class:`~ccsim.sim.state.Customer` on arrival (first arrival, entry channel); retrials and
call backs give one to theirs. When such a contact is answered (:meth:`Tiers.resolve`) it
draws whether the site resolved it (the site's probability, or the channel's): resolved
(counted for the customer's first arrival), escalated (it moves to the ``escalation``
channel's queue when its service ends: :meth:`Tiers.transfer`) or unresolved (the customer
may come back: a repeat). A plain first contact of an always-resolving channel is left to
the counter, which counts those from totals.
"""

from __future__ import annotations

import math

from ccsim.sim.state import ESCALATE, Customer, attach

__all__ = ["Tiers"]


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
        self.core, self.count = core, core.count
        self.env = core.env
        self.resolution = {}  # channel index -> probability per site index
        self.draw = {}
        self.escalation = {}  # channel index -> the next tier's channel
        by_name = {channel.name: channel for channel in core.channels}
        for channel in core.channels:
            config = scenario.channels[channel.served_as]
            self.resolution[channel.index] = [
                site.config.resolution.get(channel.served_as, config.resolution)
                for site in core.sites
            ]
            self.draw[channel.index] = streams.uniforms("resolution", channel.name)
            if config.staged and not channel.internal:
                attach(channel, "on_arrive", self.new_customer)
            attach(channel, "on_answer", self.resolve)
            if config.escalation is not None:
                self.escalation[channel.index] = by_name[config.escalation]
                attach(channel, "on_end", self.transfer)

    def new_customer(self, contact, now: float) -> bool:
        contact.customer = Customer(now, contact.tally, contact.channel)
        return False  # the contact goes on (to the bot or the queue)

    def resolve(self, contact, site, handle_time: float, now: float) -> None:
        """Whether the answered contact is resolved here, escalated or left unresolved;
        customer outcomes go to the customer's first arrival."""
        channel = contact.channel
        customer = contact.customer
        if customer is None:
            if channel.always_resolved:
                return  # a plain first contact: counted from the totals
            customer = contact.customer = Customer(contact.arrival, contact.tally, channel)
            customer.answered = True  # counted as a plain first contact
        ends = now + handle_time
        resolution = self.resolution[channel.index][site.index]
        if resolution >= 1.0 or self.draw[channel.index]() < resolution:
            self.count.resolution(customer, ends)
            return
        customer.first = False
        if channel.index in self.escalation:
            contact.followup |= ESCALATE
            self.count.not_resolved(contact, site, "escalated")
        else:
            self.count.not_resolved(contact, site, "unresolved")
            returns = self.core.features.get("returns")
            if returns is not None:
                returns.maybe_repeat(customer, ends)

    def transfer(self, contact, agent) -> None:
        """An escalated contact goes to the next tier's queue when its service ends:
        counted there when counted here (after the horizon: in the last interval)."""
        if not contact.followup & ESCALATE:
            return
        target = self.escalation[contact.channel.index]
        patience = target.draw_patience() if target.draw_patience is not None else math.inf
        self.core.bring(
            target, target.draw_handle_time(), patience, contact.tally is not None,
            contact.customer, "transfers_in",
        )  # fmt: skip
