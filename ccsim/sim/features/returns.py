"""Customers coming back: retrials and repeats.

A voice caller who abandoned, was blocked or balked calls again with the channel's
``retrial`` probability after its delay (:meth:`Returns.maybe_retry`): a retrial, the same
customer, with a new patience or, with ``keep_patience``, the first attempt's; the
customer's queue time adds up over the attempts (``service_level_total_wait``). A
customer left unresolved comes back with the entry channel's ``repeat`` probability after
its delay (:meth:`Returns.maybe_repeat`), and a customer falsely contained by the bot
after the bot's ``return_delay`` (:meth:`Returns.come_back_at`): a repeat contact, straight
to the humans. Returns due at or after the cut-off (the horizon, or with
``follow_journeys`` the end of the follow-up) are not simulated: the customer's journey is
counted as censored, neither resolved nor dropped. Returning contacts draw
their handle time and patience from streams of their own (``return_handle_time``,
``return_patience``), so new arrivals keep the same draws whatever the returns do; a
repeat's handle time is multiplied by its request type's, as a new contact's is.
"""

from __future__ import annotations

import math

from ccsim.sim.state import attach, new_customer

__all__ = ["Returns"]


class Returns:
    name = "returns"

    @staticmethod
    def used(scenario) -> bool:
        return any(
            c.retrial is not None
            or c.repeat is not None
            or (c.bot is not None and c.bot.false_containment > 0)
            for c in scenario.channels.values()
        )

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.streams = core, streams
        self.after, self.clock, self.count = core.after, core.clock, core.count
        self.cutoff = core.count.cutoff
        self.configs = scenario.channels
        self.retrial = {}  # channel index -> (probability, draw uniform, draw delay)
        self.repeat = {}
        self._returning = {}  # channel index -> (draw handle time, draw patience or None)
        self.keep_patience: set[int] = set()  # channels whose retrials keep their patience
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None:
                continue
            if config.retrial is not None:
                self.retrial[channel.index] = (
                    config.retrial.probability,
                    streams.uniforms("retrial", channel.name),
                    streams.draws("retrial_delay", channel.name, config.retrial.delay),
                )
                if config.retrial.keep_patience:
                    self.keep_patience.add(channel.index)
                attach(channel, "on_abandon", self.maybe_retry)
            if config.repeat is not None:
                self.repeat[channel.index] = (
                    config.repeat.probability,
                    streams.uniforms("repeat", channel.name),
                    streams.draws("repeat_delay", channel.name, config.repeat.delay),
                )

    def _draws(self, channel):
        if channel.index not in self._returning:
            config = self.configs[channel.name]
            patience = config.patience
            self._returning[channel.index] = (
                self.streams.draws(
                    "return_handle_time", channel.name, config.handle_time, config.agent_assist
                ),
                self.streams.draws("return_patience", channel.name, patience)
                if patience is not None
                else None,
            )
        return self._returning[channel.index]

    def maybe_retry(self, contact, now: float) -> None:
        """A voice caller who abandoned, was blocked or balked may call again later."""
        channel = contact.channel
        retrial = self.retrial.get(channel.index)
        if retrial is None:
            return
        probability, uniform, delay = retrial
        if uniform() >= probability:
            return
        back = now + delay()
        customer = contact.customer
        if back >= self.cutoff:
            self.count.censored(customer.tally if customer is not None else contact.tally)
            return
        if customer is None:
            customer = contact.customer = new_customer(contact, contact.arrival)
        if channel is customer.entry:
            customer.wait += now - contact.arrival  # this attempt's queue time
        self.after(back - now, self._retry, contact)

    def _retry(self, event) -> None:
        contact = event._value
        channel = contact.channel
        now = self.clock.now
        if channel.index in self.keep_patience:
            patience = contact.patience
        else:
            draw_patience = self._draws(channel)[1]
            patience = draw_patience() if draw_patience is not None else math.inf
        self.core.bring(
            channel, contact.handle_time, patience, now >= self.core.warmup,
            contact.customer, "retrials",
        )  # fmt: skip

    def maybe_repeat(self, customer, ends: float) -> None:
        """An unresolved customer may contact the entry channel again."""
        repeat = self.repeat.get(customer.entry.index)
        if repeat is None:
            return
        probability, uniform, delay = repeat
        if uniform() >= probability:
            return
        self.come_back_at(customer, ends + delay())

    def come_back_at(self, customer, back: float) -> None:
        if back < self.cutoff:
            self.after(back - self.clock.now, self._come_back, customer)
        else:
            self.count.censored(customer.tally)

    def _come_back(self, event) -> None:
        """A customer not (truly) resolved contacts the centre again: a repeat contact,
        straight to the humans."""
        customer = event._value
        channel = customer.entry
        now = self.clock.now
        draw_handle_time, draw_patience = self._draws(channel)
        patience = draw_patience() if draw_patience is not None else math.inf
        handle_time = draw_handle_time()
        if customer.request is not None and channel.types is not None:  # the type's time
            handle_time *= channel.types[customer.request].multiplier
        self.core.bring(
            channel, handle_time, patience, now >= self.core.warmup, customer,
            "repeat_contacts",
        )  # fmt: skip
