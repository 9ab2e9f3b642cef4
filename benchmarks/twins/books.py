"""The twins' books of agent time and pay, kept the textbook way: the agent processes add
each service, log-on stretch and overrun to their site's books as it happens, the shift
process adds each shift's payroll when the shift starts, and the KPIs are ratios of the
totals after the run (docs/metrics.md, *Per replication and channel* and *Sites, pay and
cost*):

* only the part of an activity inside the window ``[warmup, horizon)`` counts; agents
  who go on serving after the horizon to empty the queue are not counted;
* occupancy = busy time / logged-on time (idle or busy: breaks, absence and the time
  outside shifts left out, overrun in); a channel's busy time is its own, its logged-on
  time that of every site that may serve it; the row ``all`` adds every site once;
* pay = every scheduled agent's shift (absent ones too) less the unpaid breaks as
  scheduled, plus overrun, at ``cost_per_hour``, the night premium added for the part in
  the site's local night window; constant staffing is paid over the window;
* a site's pay in a reporting interval is shared among the channels it serves by its busy
  time on each in that interval (evenly when it was idle throughout).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Books", "Pay", "Window", "agent_kpis"]


class Window:
    """The observation window ``[warmup, horizon)`` cut into reporting intervals."""

    def __init__(self, scenario) -> None:
        calendar = scenario.calendar()
        self.calendar = calendar
        self.edges = [slot.start for slot in calendar.slots]
        self.warmup, self.horizon = scenario.warmup, scenario.horizon
        self.n = len(self.edges)

    @property
    def length(self) -> float:
        return self.horizon - self.warmup

    def pieces(self, start: float, end: float):
        """``(k, low, high)``: the parts of ``[start, end)`` inside the window, by interval."""
        low, high = max(start, self.warmup), min(end, self.horizon)
        k = bisect_right(self.edges, low) - 1
        while low < high:
            top = min(high, self.edges[k + 1]) if k + 1 < self.n else high
            yield k, low, top
            low, k = top, k + 1

    def part(self, start: float, end: float) -> float:
        """How much of ``[start, end)`` lies inside the window."""
        return max(min(end, self.horizon) - max(start, self.warmup), 0.0)


class Pay:
    """What an agent-second costs at a site, its local night window's premium included."""

    def __init__(self, site, scenario, window: Window) -> None:
        self.rate = site.cost_per_hour / 3600.0
        night = site.night_differential
        self.premium = night.premium if night is not None else 0.0
        self.nights: list[tuple[float, float]] = []
        if night is None:
            return
        zone = ZoneInfo(site.timezone or scenario.timezone)
        origin = window.calendar.start.astimezone(UTC)
        begin, finish = (time.fromisoformat(x) for x in (night.start, night.end))
        day = (origin - timedelta(days=2)).astimezone(zone).date()
        last = (origin + timedelta(seconds=window.horizon + 2 * 86400)).astimezone(zone).date()
        while day <= last:
            starts = datetime.combine(day, begin, tzinfo=zone)
            ends = datetime.combine(day + timedelta(days=finish <= begin), finish, tzinfo=zone)
            self.nights.append(((starts - origin).total_seconds(), (ends - origin).total_seconds()))
            day += timedelta(days=1)

    def cost(self, start: float, end: float) -> float:
        night = sum(max(min(end, b) - max(start, a), 0.0) for a, b in self.nights)
        return self.rate * ((end - start) + self.premium * night)


class Books:
    """One site's books in one replication: busy time per channel and interval, logged-on
    time, pay per interval."""

    def __init__(self, site, scenario, window: Window, channels) -> None:
        self.window, self.pay_scale = window, Pay(site, scenario, window)
        self.busy = {name: [0.0] * window.n for name in channels}
        self.pay = [0.0] * window.n
        self.logged = 0.0

    def serving(self, channel: str, start: float, end: float) -> None:
        series = self.busy[channel]
        for k, low, high in self.window.pieces(start, end):
            series[k] += high - low

    def logged_on(self, start: float, end: float) -> None:
        self.logged += self.window.part(start, end)

    def paid(self, start: float, end: float, agents: int = 1) -> None:
        """``agents`` paid over ``[start, end)`` (negative: an unpaid break taken off)."""
        for k, low, high in self.window.pieces(start, end):
            self.pay[k] += agents * self.pay_scale.cost(low, high)

    def payroll(self, instance) -> None:
        """A shift's pay: its scheduled agents over the shift, less each one's unpaid
        breaks where the schedule puts them (agent i of h: ``within x i / h`` after
        ``after``), absent agents included."""
        h = instance.headcount
        self.paid(instance.start, instance.end, h)
        for item in instance.breaks:
            if item.paid:
                continue
            for i in range(h):
                start = instance.start + item.after + item.within * i / h
                self.paid(start, start + item.length, -1)

    def labour_cost(self) -> dict[str, float]:
        """The site's pay shared among its channels, interval by interval."""
        names = list(self.busy)
        cost = dict.fromkeys(names, 0.0)
        for k, pay in enumerate(self.pay):
            total = sum(self.busy[name][k] for name in names)
            for name in names:
                share = self.busy[name][k] / total if total > 0 else 1.0 / len(names)
                cost[name] += pay * share
        return cost


def agent_kpis(rows: dict, books: dict[str, Books], serving: dict[str, list[str]]) -> None:
    """Add occupancy and labour cost to the rows: per channel (``serving[channel]``: the
    sites that may serve it), on ``all`` and, with several sites, per site (``site:X``)
    and per site and channel (``site:X:channel``: its busy time on the channel over the
    site's logged-on time, its share of the site's pay)."""
    costs = {name: book.labour_cost() for name, book in books.items()}
    for channel, sites in serving.items():
        busy = sum(sum(books[site].busy[channel]) for site in sites)
        logged = sum(books[site].logged for site in sites)
        rows[channel]["occupancy"] = busy / logged if logged else math.nan
        rows[channel]["labour_cost"] = sum(costs[site][channel] for site in sites)
    for name, book in books.items():
        busy = sum(sum(series) for series in book.busy.values())
        row = {
            "occupancy": busy / book.logged if book.logged else math.nan,
            "labour_cost": sum(book.pay),
        }
        if len(books) > 1:
            rows[f"site:{name}"] = row
            for channel, series in book.busy.items():
                rows[f"site:{name}:{channel}"] = {
                    "occupancy": sum(series) / book.logged if book.logged else math.nan,
                    "labour_cost": costs[name][channel],
                }
    everything = rows.setdefault("all", {})
    busy = sum(sum(sum(s) for s in book.busy.values()) for book in books.values())
    logged = sum(book.logged for book in books.values())
    everything["occupancy"] = busy / logged if logged else math.nan
    everything["labour_cost"] = sum(sum(book.pay) for book in books.values())
