"""Silent abandonment: a ``share`` of chat customers who give up do not close the chat.
The chat stays in the queue, counted as abandoned (and ``silent_abandoned``), until an
agent picks it up and spends ``handle_time`` finding out."""

from __future__ import annotations

from ccsim.sim.state import GONE, SILENT, attach

__all__ = ["SilentAbandonment"]


class SilentAbandonment:
    name = "silent_abandonment"

    @staticmethod
    def used(scenario) -> bool:
        return any(c.silent_abandonment is not None for c in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.share: dict[int, float] = {}
        self.draw_silent = {}
        self.draw_time = {}
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.silent_abandonment is None:
                continue
            silent = config.silent_abandonment
            self.share[channel.index] = silent.share
            self.draw_silent[channel.index] = streams.uniforms("silent", channel.name)
            self.draw_time[channel.index] = streams.draws(
                "silent_time", channel.name, silent.handle_time
            )
            attach(channel, "on_abandon", self.abandoned)
            channel.pick_up = self.pick_up

    def abandoned(self, contact, now: float) -> None:
        index = contact.channel.index
        if self.draw_silent[index]() < self.share[index]:
            contact.state = SILENT  # stays in the queue until an agent picks it up
            self.core.count.outcome(contact, "silent_abandoned")

    def pick_up(self, contact, agent, now: float) -> None:
        """An agent takes a silently abandoned chat: already counted; busy a short while."""
        contact.state = GONE
        self.core.serve(agent, contact, self.draw_time[contact.channel.index](), now)
