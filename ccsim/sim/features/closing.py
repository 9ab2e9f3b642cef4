"""Closing: a channel with ``close`` disconnects its queue every day at that time of the
customers' day (in the scenario's time zone).

At each close the channel's contacts still waiting leave the queue, counted as
``disconnected`` with their queue time: not abandoned (their patience had not run out)
and not carried over to the next day. Silently abandoned chats still in the queue (counted
already) are dropped. Contacts arriving after the close queue as usual: a channel closed
until the next day has no arrivals in its profile then. Closes are scheduled each day
from the scenario's start up to the first at or after the horizon, so a queue still
waiting when the last arrivals are in is disconnected at that day's close too.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ccsim.sim.state import GONE, SILENT, WAITING

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
        self.core, self.count = core, core.count
        calendar = scenario.calendar()
        self.closes = {}  # channel -> iterator of its close times
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.close is None:
                continue
            self.closes[channel] = iter(closing_times(calendar, config.close, core.count.cutoff))

    def start(self) -> None:
        for channel in self.closes:
            self._next(channel)

    def _next(self, channel) -> None:
        t = next(self.closes[channel], None)
        if t is not None:
            self.core.after(t - self.core.env._now, self._close, channel)

    def _close(self, event) -> None:
        channel = event._value
        now = self.core.env._now
        for lane in channel.lanes:
            for contact in lane.queue:
                if contact.state == WAITING:
                    self.core.leave_queue(contact, now)
                    self.count.left(contact, "disconnected", now)
                elif contact.state == SILENT:
                    contact.state = GONE
            lane.queue.clear()
        self._next(channel)
