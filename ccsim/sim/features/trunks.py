"""Trunks: lines shared by several voice channels (the scenario's ``trunks``).

A call of a channel on a trunk takes one of its lines when it enters (an enter hook) and
holds it while it waits and is served; it frees it when its service ends, it abandons, or
a feature takes it out of the queue (a call back, a message, a balk, a disconnection). A
caller who finds every line of the trunk busy is blocked (and may retry: a retrial). With
as many agents as lines no admitted call waits, and each channel's blocking is Erlang B
of the lines and the channels' total offered load.
"""

from __future__ import annotations

from ccsim.sim.state import TRUNK, attach

__all__ = ["Trunks"]


class _Trunk:
    __slots__ = ("in_use", "lines")

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.in_use = 0


class Trunks:
    name = "trunks"

    @staticmethod
    def used(scenario) -> bool:
        return bool(scenario.trunks)

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.trunk: dict[int, _Trunk] = {}  # channel index -> its trunk
        by_name = {channel.name: channel for channel in core.channels}
        for config in scenario.trunks.values():
            trunk = _Trunk(config.lines)
            for name in config.channels:
                channel = by_name[name]
                self.trunk[channel.index] = trunk
                attach(channel, "on_enter", self.take)
                for point in ("on_end", "on_abandon", "on_leave"):
                    attach(channel, point, self.free)

    def take(self, contact, now: float) -> bool:
        trunk = self.trunk[contact.channel.index]
        if trunk.in_use >= trunk.lines:
            self.core.count.outcome(contact, "blocked")
            returns = self.core.features.get("returns")
            if returns is not None:
                returns.maybe_retry(contact, now)
            return False
        trunk.in_use += 1
        contact.followup |= TRUNK
        return True

    def free(self, contact, *_) -> None:
        if contact.followup & TRUNK:
            contact.followup &= ~TRUNK
            self.trunk[contact.channel.index].in_use -= 1
