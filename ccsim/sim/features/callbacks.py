"""Call backs: a voice caller facing a long expected wait may accept to be called back.

When no agent is free (a wait hook), the expected wait is estimated as contacts ahead x
mean handle time / agents logged on; above the channel's ``callback.threshold`` the caller
accepts with probability ``acceptance``, leaves the queue (counted as ``callbacks``) and
becomes a contact of the channel's call-back channel: served by the same sites after every
live contact, with the caller's handle time, and abandoned (a missed call back) if not
called within the ``deadline``.

A call-back channel is internal: it is named ``<voice>:callback``, a name no user channel
can have (user names hold no ':'), so it never takes the place of a channel of the user's.
"""

from __future__ import annotations

from ccsim.sim.state import Customer, attach

__all__ = ["Callbacks", "callback_name"]


def callback_name(voice: str) -> str:
    """The name of ``voice``'s call-back channel, in rows and contact records."""
    return f"{voice}:callback"


class Callbacks:
    name = "callbacks"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.callback is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.config = {}
        self.target = {}
        self.draw = {}
        by_name = {channel.name: channel for channel in core.channels}
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.callback is None:
                continue
            self.config[channel.index] = config.callback
            self.target[channel.index] = by_name[callback_name(channel.name)]
            self.draw[channel.index] = streams.uniforms("callback", channel.name)
            attach(channel, "on_wait", self.offer)

    def offer(self, contact, now: float) -> bool:
        """Offer a call back when the expected wait exceeds the threshold; an accepting
        caller leaves the queue for the call-back channel."""
        channel = contact.channel
        callback = self.config[channel.index]
        agents = sum(site.n_on for site, _ in channel.steps) or 1
        ahead = sum(len(lane.queue) for lane in channel.lanes)
        if (ahead + 1) * channel.mean_handle_time / agents <= callback.threshold:
            return False
        if self.draw[channel.index]() >= callback.acceptance:
            return False
        self.core.leave_queue(contact, now)
        self.core.count.outcome(contact, "callbacks")
        # The call back serves the same customer: its outcome is the customer's.
        customer = contact.customer
        if customer is None:
            customer = Customer(contact.arrival, contact.tally, channel)
        self.core.bring(
            self.target[channel.index], contact.handle_time, callback.deadline,
            contact.tally is not None, customer,
        )  # fmt: skip
        return True
