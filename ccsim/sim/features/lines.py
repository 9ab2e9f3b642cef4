"""Lines: a voice channel with ``lines`` holds at most that many calls, waiting or in
service; a caller who finds every line busy is blocked (and may retry: a retrial)."""

from __future__ import annotations

from ccsim.sim.state import LINE, attach

__all__ = ["Lines"]


class Lines:
    name = "lines"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.lines is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.capacity: dict[int, int] = {}
        self.in_use: dict[int, int] = {}
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.lines is None:
                continue
            self.capacity[channel.index] = config.lines
            self.in_use[channel.index] = 0
            attach(channel, "on_enter", self.take)
            for point in ("on_end", "on_abandon", "on_leave"):
                attach(channel, point, self.free)

    def take(self, contact, now: float) -> bool:
        index = contact.channel.index
        if self.in_use[index] >= self.capacity[index]:
            self.core.count.outcome(contact, "blocked")
            returns = self.core.features.get("returns")
            if returns is not None:
                returns.maybe_retry(contact, now)
            return False
        self.in_use[index] += 1
        contact.followup |= LINE
        return True

    def free(self, contact, *_) -> None:
        if contact.followup & LINE:
            contact.followup &= ~LINE
            self.in_use[contact.channel.index] -= 1
