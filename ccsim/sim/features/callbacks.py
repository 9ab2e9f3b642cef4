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

from ccsim.sim.state import InternalChannel, attach, new_customer

__all__ = ["Callbacks", "callback_name"]


def callback_name(voice: str) -> str:
    """The name of ``voice``'s call-back channel, in rows and contact records."""
    return f"{voice}:callback"


class _Offer:
    """One voice channel's call-back offer: its settings, stream and call-back channel."""

    __slots__ = ("callback", "channel", "core", "draw", "lanes", "sites", "target")

    def __init__(self, core, channel, callback, target, draw) -> None:
        self.core, self.channel, self.callback = core, channel, callback
        self.target, self.draw = target, draw
        self.sites = [site for site, _ in channel.steps]
        self.lanes = channel.lanes

    def offer(self, contact, now: float) -> bool:
        """Offer a call back when the expected wait exceeds the threshold; an accepting
        caller leaves the queue for the call-back channel."""
        channel, callback, sites, lanes = self.channel, self.callback, self.sites, self.lanes
        # One site and one lane (the common case) without a generator.
        agents = (sites[0].n_on if len(sites) == 1 else sum(site.n_on for site in sites)) or 1
        ahead = len(lanes[0].queue) if len(lanes) == 1 else sum(len(lane.queue) for lane in lanes)
        if (ahead + 1) * channel.mean_handle_time / agents <= callback.threshold:
            return False
        if self.draw() >= callback.acceptance:
            return False
        self.core.leave_queue(contact, now)
        self.core.count.outcome(contact, "callbacks")
        # The call back serves the same customer: its outcome is the customer's.
        customer = contact.customer
        if customer is None:
            customer = new_customer(contact, contact.arrival)
        self.core.bring(
            self.target, contact.handle_time, callback.deadline, contact.tally is not None,
            customer,
        )  # fmt: skip
        return True


class Callbacks:
    name = "callbacks"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.callback is not None for channel in scenario.channels.values())

    @staticmethod
    def internal_channels(scenario) -> list[InternalChannel]:
        """Each voice channel's call-back channel, its patience the deadline."""
        return [
            InternalChannel(callback_name(name), name, "voice", config.callback.deadline, False)
            for name, config in scenario.channels.items()
            if config.callback is not None
        ]

    def __init__(self, core, scenario, streams) -> None:
        self.offers: dict[int, _Offer] = {}  # channel index -> its offer
        by_name = {channel.name: channel for channel in core.channels}
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.callback is None:
                continue
            offer = self.offers[channel.index] = _Offer(
                core, channel, config.callback, by_name[callback_name(channel.name)],
                streams.uniforms("callback", channel.name),
            )  # fmt: skip
            attach(channel, "on_wait", offer.offer)
