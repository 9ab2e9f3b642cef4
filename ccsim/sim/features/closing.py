"""Closing: a channel with ``close`` disconnects its queue every day at that time of the
customers' day (in the scenario's time zone).

At each close the channel's contacts still waiting leave the queue, counted as
``disconnected`` with their queue time: not abandoned (their patience had not run out)
and not carried over to the next day. Silently abandoned chats still in the queue (counted
already) are dropped. Contacts arriving after the close queue as usual: a channel closed
until the next day has no arrivals in its profile then. Closes are scheduled each day
from the scenario's start up to the first at or after the horizon, so a queue still
waiting when the last arrivals are in is disconnected at that day's close too.

``close_rule: at_end_of_service`` is ContactCenters' rule instead: at the close the queue
stays; each service of the channel that was in hand at the close disconnects the contacts
waiting when it ends (before its agent would take one), so the queue goes at the first
such end and those who queued since at the later ones. Until then a waiting contact may
still abandon, or be taken by an agent who comes free without ending one of those services
(a shift start, another channel's service). With no service of the channel in hand at the
close, the queue is disconnected at the close.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

from ccsim.sim.state import CLOSING, GONE, SILENT, WAITING, attach

__all__ = ["Closing", "closing_times"]


def closing_times(calendar, close: str, until: float | None = None) -> list[float]:
    """The simulated times of a daily ``close`` ("HH:MM", customers' wall clock) from the
    start up to and including the first at or after ``until`` (default: the horizon)."""
    until = calendar.horizon if until is None else until
    hour, minute = close.split(":")  # validated as "HH:MM"
    at = time(int(hour), int(minute))
    first_day = calendar.start.date()
    times: list[float] = []
    day = 0
    while True:
        local = datetime.combine(first_day + timedelta(days=day), at, tzinfo=calendar.zone)
        t = (local.astimezone(UTC) - calendar.origin).total_seconds()
        day += 1
        if t <= 0.0:
            continue  # before the start: nobody waits yet
        times.append(t)
        if t >= until:
            return times


class Closing:
    name = "closing"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.close is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        calendar = scenario.calendar()
        self.channels: list[_Close] = []
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.close is None:
                continue
            times = closing_times(calendar, config.close, core.count.cutoff)
            close = _Close(core, channel, times)
            self.channels.append(close)
            if config.close_rule == "at_end_of_service":
                close.waits_for_services = True
                attach(channel, "on_answer", close.answered)
                attach(channel, "on_end", close.ended)

    def start(self) -> None:
        for close in self.channels:
            close.schedule()


class _Close:
    """One channel's daily close: when it comes, and (``at_end_of_service``) how many of
    its services in hand end after a close, each end disconnecting the queue."""

    __slots__ = (
        "channel",
        "core",
        "count",
        "next_close",
        "spanning",
        "times",
        "waits_for_services",
    )

    def __init__(self, core, channel, times: list[float]) -> None:
        self.core, self.count, self.channel = core, core.count, channel
        self.times = iter(times)
        self.next_close = math.inf
        self.waits_for_services = False
        self.spanning = 0  # services in hand that end after a close (CLOSING flag)

    def schedule(self) -> None:
        t = next(self.times, None)
        self.next_close = math.inf if t is None else t
        if t is not None:
            self.core.after(t - self.core.clock.now, self._close, self)

    @staticmethod
    def _close(event) -> None:
        close = event._value
        # ContactCenters' rule waits for the services in hand to end; with none in hand
        # there is no end to wait for, and the queue goes at the close itself.
        if not close.waits_for_services or close.spanning == 0:
            close.disconnect(close.core.clock.now)
        close.schedule()

    def answered(self, contact, site, handle_time: float, now: float) -> None:
        """A service that will still be in hand at the next close is marked: its end
        disconnects the queue."""
        if now + handle_time > self.next_close:
            contact.followup |= CLOSING
            self.spanning += 1

    def ended(self, contact, agent) -> None:
        if contact.followup & CLOSING:
            contact.followup &= ~CLOSING
            self.spanning -= 1
            # Before the agent looks at the queue (Core.release runs the end hooks first).
            self.disconnect(self.core.clock.now)

    def disconnect(self, now: float) -> None:
        """Every contact still waiting leaves, counted ``disconnected``."""
        for lane in self.channel.lanes:
            for contact in lane.queue:
                if contact.state == WAITING:
                    self.core.leave_queue(contact, now)
                    self.count.left(contact, "disconnected", now)
                elif contact.state == SILENT:
                    contact.state = GONE
            lane.queue.clear()
