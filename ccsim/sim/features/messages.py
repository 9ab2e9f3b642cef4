"""Messages: a contact still waiting after the channel's ``message.max_wait`` leaves a
message and the queue.

When a contact of such a channel starts to wait (a wait hook, after balking), a timer is
set for the maximum wait, unless its patience runs out first. If it is still waiting when
the timer fires it leaves the queue, counted as ``messages`` (with its queue time). With
``served`` the message becomes a contact of the internal channel ``<channel>:message``:
deferred work like email (after every live channel unless given a priority, never
abandoned, open messages carried over at the horizon by the email feature), with the
caller's handle time, for the same customer (its resolution is the customer's).

A message channel is internal: no user channel can be named ``<channel>:message`` (user
names hold no ':'), as with call backs (:func:`ccsim.sim.features.callbacks.callback_name`).
"""

from __future__ import annotations

import math

from ccsim.sim.state import WAITING, InternalChannel, attach, new_customer

__all__ = ["Messages", "message_name"]


def message_name(channel: str) -> str:
    """The name of ``channel``'s message channel, in rows and contact records."""
    return f"{channel}:message"


class Messages:
    name = "messages"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.message is not None for channel in scenario.channels.values())

    @staticmethod
    def internal_channels(scenario) -> list[InternalChannel]:
        """The message channel of each channel whose messages are served: deferred work."""
        return [
            InternalChannel(
                message_name(name), name, config.kind, config.message.response_target, True
            )
            for name, config in scenario.channels.items()
            if config.message is not None and config.message.served
        ]

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count = core, core.count
        self.max_wait: dict[int, float] = {}
        self.target = {}  # channel index -> its message channel (served messages)
        by_name = {channel.name: channel for channel in core.channels}
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.message is None:
                continue
            self.max_wait[channel.index] = config.message.max_wait
            if config.message.served:
                self.target[channel.index] = by_name[message_name(channel.name)]
            attach(channel, "on_wait", self.start_waiting)

    def start_waiting(self, contact, now: float) -> bool:
        """Set the maximum-wait timer of a contact about to wait (it stays in the queue)."""
        max_wait = self.max_wait[contact.channel.index]
        if max_wait < contact.patience:
            self.core.after(max_wait, self._leave_message, contact)
        return False

    def _leave_message(self, event) -> None:
        contact = event._value
        if contact.state != WAITING:  # answered, abandoned or gone meanwhile
            return
        now = self.core.clock.now
        channel = contact.channel
        self.core.leave_queue(contact, now)
        self.count.left(contact, "messages", now)
        target = self.target.get(channel.index)
        if target is None:
            return
        customer = contact.customer
        if customer is None:
            customer = new_customer(contact, contact.arrival)
        self.core.bring(target, contact.handle_time, math.inf, contact.tally is not None, customer)
