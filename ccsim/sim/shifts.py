"""Shifts: a site's schedule in its local time, laid on the simulation clock, and its pay.

A shift template says "40 agents start at 21:00 Manila time Monday to Friday for 9 hours".
:func:`roster` turns the templates of a site into shift instances in simulated seconds,
day by day in the *site's* time zone: Manila does not observe daylight saving and New York
does, so the same Manila shift starts an hour earlier on the New York clock after the
March change. A shift lasts its length in elapsed time, whatever the clocks do.

Pay is by the schedule: every scheduled agent is paid for the shift less its unpaid breaks
(absent agents, the site's shrinkage, are paid too), plus any overrun: the time an agent
spends finishing the contact in hand after the shift has ended (counted by the engine).
Hours inside the site's local night window earn the night differential on top.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ccsim.model import Break, NightDifferential, Site
from ccsim.model.calendar import WEEKDAYS, Calendar

__all__ = ["PayScale", "ShiftInstance", "interval_pieces", "roster", "schedule_tallies"]


@dataclass(frozen=True)
class ShiftInstance:
    """One shift on one day: ``headcount`` agents scheduled over ``[start, end)``."""

    start: float  # simulated seconds; below 0 when the shift began before the run
    end: float  # math.inf for constant staffing
    headcount: int
    breaks: tuple[Break, ...] = ()

    def agent_breaks(self, agent: int, n_agents: int) -> list[tuple[float, float, bool]]:
        """``(start, end, paid)`` of the breaks of agent ``agent`` of ``n_agents``: each
        break's starts are spread evenly over its ``within`` window."""
        spread = [item.within * agent / n_agents if n_agents else 0.0 for item in self.breaks]
        return [
            (
                self.start + item.after + offset,
                self.start + item.after + offset + item.length,
                item.paid,
            )
            for item, offset in zip(self.breaks, spread, strict=True)
        ]


def _local_instant(day, minute: int, zone: ZoneInfo, origin: datetime) -> float:
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return (local.astimezone(UTC) - origin).total_seconds()


def _local_days(zone: ZoneInfo, origin: datetime, first: float, last: float):
    """Local calendar dates whose days may touch simulated times ``[first, last]``."""
    day = (origin + timedelta(seconds=first)).astimezone(zone).date() - timedelta(days=1)
    end = (origin + timedelta(seconds=last)).astimezone(zone).date() + timedelta(days=1)
    while day <= end:
        yield day
        day += timedelta(days=1)


def site_zone(site: Site, customer_zone: str) -> ZoneInfo:
    return ZoneInfo(site.timezone or customer_zone)


def roster(site: Site, calendar: Calendar, until: float | None = None) -> list[ShiftInstance]:
    """The shifts of ``site`` that overlap ``[0, until)`` (default: the horizon), in order
    of start. Past the horizon (journeys followed after it) the schedule goes on as it
    would: each local day's shifts with that weekday's headcount.

    Constant staffing is one shift from 0 that never ends (its agents see the queue out).
    A shift's headcount may differ by local weekday; a shift without breaks of its own takes
    the site's break rule for its length.
    A local start time that does not exist (inside a spring-forward gap) is read as
    :mod:`zoneinfo` does, an hour later on the wall clock.
    """
    if site.shifts is None:
        return [ShiftInstance(0.0, math.inf, site.agents or 0)]
    until = calendar.horizon if until is None else until
    zone = site_zone(site, str(calendar.zone))
    longest = max((shift.length for shift in site.shifts), default=0.0)
    instances = []
    for day in _local_days(zone, calendar.origin, -longest, until):
        weekday = WEEKDAYS[day.weekday()]
        for shift in site.shifts:
            headcount = shift.headcount_on(weekday)
            if headcount == 0:
                continue
            start = _local_instant(day, shift.start_minute, zone, calendar.origin)
            end = start + shift.length
            if end > 0 and start < until:
                breaks = tuple(site.shift_breaks(shift))
                instances.append(ShiftInstance(start, end, headcount, breaks))
    instances.sort(key=lambda instance: instance.start)
    return instances


class PayScale:
    """What an agent-second costs at a site: ``cost_per_hour``, plus the night differential
    for the part inside the local night window."""

    def __init__(self, site: Site, calendar: Calendar, reach: float) -> None:
        self.rate = site.cost_per_hour / 3600
        night: NightDifferential | None = site.night_differential
        self.premium = night.premium if night is not None else 0.0
        self.starts: list[float] = []
        self.ends: list[float] = []
        if night is not None:
            zone = site_zone(site, str(calendar.zone))
            begin, finish = (int(x[:2]) * 60 + int(x[3:]) for x in (night.start, night.end))
            for day in _local_days(zone, calendar.origin, -86400.0, reach):
                low = _local_instant(day, begin, zone, calendar.origin)
                next_day = day + timedelta(days=1) if finish <= begin else day
                high = _local_instant(next_day, finish, zone, calendar.origin)
                if not self.ends or low >= self.ends[-1]:
                    self.starts.append(low)
                    self.ends.append(high)

    def night_seconds(self, start: float, end: float) -> float:
        """How much of ``[start, end)`` falls inside a night window."""
        total = 0.0
        j = bisect.bisect_right(self.ends, start)
        while j < len(self.starts) and self.starts[j] < end:
            total += min(end, self.ends[j]) - max(start, self.starts[j])
            j += 1
        return total

    def cost(self, start: float, end: float) -> float:
        """The pay of one agent over ``[start, end)``."""
        if end <= start:
            return 0.0
        premium = self.premium * self.night_seconds(start, end) if self.premium else 0.0
        return self.rate * ((end - start) + premium)


def interval_pieces(
    start: float, end: float, calendar: Calendar, warmup: float
) -> Iterator[tuple[int, float, float]]:
    """The parts ``(k, low, high)`` of ``[start, end)`` inside reporting interval ``k`` of the
    observation window ``[warmup, horizon)``."""
    low, high = max(start, warmup), min(end, calendar.horizon)
    if high <= low:
        return
    k = calendar.index(low)
    edges = calendar.edges
    while low < high:
        edge = edges[k + 1] if k + 1 < len(edges) else calendar.horizon
        piece = min(edge, high)
        yield k, low, piece
        low, k = piece, k + 1


def schedule_tallies(
    instances: list[ShiftInstance], pay: PayScale, calendar: Calendar, warmup: float
) -> tuple[list[float], list[float]]:
    """Scheduled agent-seconds and their pay per reporting interval (overrun excluded).

    Scheduled time counts every agent on the schedule, on break or absent included; pay
    leaves out the unpaid breaks, taken as scheduled.
    """
    n = len(calendar.slots)
    scheduled, cost = [0.0] * n, [0.0] * n
    # Without a night differential a piece's pay is its length at the rate: what
    # ``pay.cost`` returns for a piece (never empty) with no premium, without a call and a
    # look at the night windows for each of a week's 240 pieces per shift.
    rate = pay.rate if not pay.premium else None
    for instance in instances:
        h = instance.headcount
        for k, low, high in interval_pieces(instance.start, instance.end, calendar, warmup):
            length = high - low
            scheduled[k] += h * length
            cost[k] += h * (rate * length if rate is not None else pay.cost(low, high))
        unpaid = [item for item in instance.breaks if not item.paid]
        for agent in range(h if unpaid else 0):
            for item in unpaid:
                # Agent `agent`'s break, as `agent_breaks` places it (the same sums in the
                # same order), without building every break of every agent.
                start = instance.start + item.after + item.within * agent / h
                for k, low, high in interval_pieces(start, start + item.length, calendar, warmup):
                    cost[k] -= rate * (high - low) if rate is not None else pay.cost(low, high)
    return scheduled, cost
