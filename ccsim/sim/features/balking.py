"""Balking: a contact that finds no agent free may leave at once rather than wait.

When a contact of a channel with ``balking`` would have to wait (a wait hook, after the
free chat slots and the call-back offer), it balks with the channel's probability for the
number of its contacts already waiting (counted here, exactly: the lanes' deques keep
contacts that left until they reach the head), is counted as ``balked``, and a voice
caller may retry. Otherwise it joins the queue and is counted among those waiting until
it is answered, abandons or leaves (a message, a disconnection at close).

This is the last wait hook (:data:`ccsim.sim.features.FEATURES`): a contact it lets
through joins the queue.
"""

from __future__ import annotations

from ccsim.sim.state import QUEUED, attach

__all__ = ["Balking"]


class Balking:
    name = "balking"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.balking is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.probability: dict[int, tuple[float, ...]] = {}
        self.draw = {}
        self.waiting: dict[int, int] = {}  # channel index -> contacts waiting now
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.balking is None:
                continue
            self.probability[channel.index] = config.balking.by_waiting()
            self.draw[channel.index] = streams.uniforms("balk", channel.name)
            self.waiting[channel.index] = 0
            attach(channel, "on_wait", self.maybe_balk)
            attach(channel, "on_answer", self.answered)
            attach(channel, "on_abandon", self.left)
            attach(channel, "on_leave", self.left)

    def maybe_balk(self, contact, now: float) -> bool:
        """Balk, with the probability for the contacts already waiting, or join them."""
        index = contact.channel.index
        probability = self.probability[index]
        waiting = self.waiting[index]
        p = probability[waiting] if waiting < len(probability) else probability[-1]
        if p > 0.0 and self.draw[index]() < p:
            self.core.leave_queue(contact, now)  # its line, if any, is freed
            self.core.count.left(contact, "balked", now)
            returns = self.core.features.get("returns")
            if returns is not None:
                returns.maybe_retry(contact, now)
            return True
        self.waiting[index] = waiting + 1
        contact.followup |= QUEUED
        return False

    def answered(self, contact, site, handle_time: float, now: float) -> None:
        self.left(contact, now)

    def left(self, contact, now: float) -> None:
        """The contact no longer waits (answered, abandoned or taken out of the queue)."""
        if contact.followup & QUEUED:
            contact.followup &= ~QUEUED
            self.waiting[contact.channel.index] -= 1
