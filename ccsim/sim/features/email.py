"""Email: deferred work (email, and messages left in a queue: ``<channel>:message``).
Items never abandon; they are worked when no live contact waits at
a higher priority (by default email comes after every live channel) or by dedicated sites.
The counter keeps items opened and taken per interval (the backlog); at the horizon the
items still open are carried over, unless journeys are followed after it
(``follow_journeys``): then they are worked on until the cut-off, and only those still open
then are carried over (by the core, at the end of the run)."""

from __future__ import annotations

from ccsim.sim.state import GONE, WAITING, attach

__all__ = ["Email"]


class Email:
    name = "email"

    @staticmethod
    def used(scenario) -> bool:
        return any(
            channel.kind == "email" or (channel.message is not None and channel.message.served)
            for channel in scenario.channels.values()
        )

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count = core, core.count
        # Items opened or taken after the horizon (when followed) are not the window's.
        self.counting_end = core.horizon if core.count.follow else float("inf")
        self.channels = [c for c in core.channels if c.counts.deferred]
        for channel in self.channels:
            attach(channel, "on_enter", self.opened)
            attach(channel, "on_answer", self.closed)

    def opened(self, contact, now: float) -> bool:
        if now < self.counting_end:
            self.count.opened(contact.channel)
        return True

    def closed(self, contact, site, handle_time: float, now: float) -> None:
        if now < self.counting_end:
            self.count.closed(contact.channel)

    def start(self) -> None:
        if not self.core.count.follow:
            self.core.after(self.core.horizon, self._close)

    def _close(self, event) -> None:
        """At the horizon, items still open are carried over: the backlog."""
        now = self.core.env._now
        for channel in self.channels:
            for lane in channel.lanes:
                for contact in lane.queue:
                    if contact.state == WAITING:
                        contact.state = GONE
                        self.count.carried_over(contact, now)
                        self.count.open_journey(contact)
                lane.queue.clear()
