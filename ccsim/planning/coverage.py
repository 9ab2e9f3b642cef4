"""What one agent of a shift template gives and costs over the horizon: per reporting interval
the share of time on shift and the share available (on shift, present, not on break), and the
pay for every day the template runs.

Breaks taken in turn (``within``) are spread evenly over their window, as the engine does, so
a break covers each interval fractionally: its expected share. Pay comes from
:class:`ccsim.sim.shifts.PayScale` (hourly cost, night differential in the site's local night,
unpaid breaks left out); a shift that starts before or ends after the horizon is paid in full.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from ccsim.model import Scenario, Shift, Site
from ccsim.model.calendar import Calendar
from ccsim.sim.shifts import PayScale, interval_pieces, roster

__all__ = ["TemplateCoverage", "shift_counts", "template_coverage"]


def _break_time(first: float, within: float, length: float, low: float, high: float) -> float:
    """Expected time inside ``[low, high)`` of a break of ``length`` whose start is spread
    evenly over ``[first, first + within]``.

    The chance that instant t is inside the break is piecewise linear in t (a trapezoid), so
    its integral is exact by the trapezoid rule on the kinks.
    """
    if within <= 0:
        return max(0.0, min(high, first + length) - max(low, first))

    def inside(t: float) -> float:
        return max(0.0, min(within, t - first) - max(0.0, t - first - length)) / within

    kinks = [first, first + within, first + length, first + within + length]
    points = sorted({low, high, *(p for p in kinks if low < p < high)})
    return sum(
        (b - a) * (inside(a) + inside(b)) / 2 for a, b in zip(points[:-1], points[1:], strict=True)
    )


@dataclass(frozen=True)
class TemplateCoverage:
    """What one agent of a shift template gives and costs over the horizon."""

    on_shift: np.ndarray  # share of each interval on shift (breaks and absence included)
    coverage: np.ndarray  # share of each interval available: on shift, present, not on break
    cost: float
    paid_hours: float
    #: Seconds on shift before the horizon starts and after it ends (every day it runs).
    outside: tuple[float, float] = (0.0, 0.0)


def template_coverage(site: Site, shift: Shift, calendar: Calendar) -> TemplateCoverage:
    """One agent of ``shift`` at ``site``, laid on ``calendar`` by :func:`ccsim.sim.shifts.roster`:
    per reporting interval the share on shift and the share available, and the pay for every
    day the template runs inside the horizon."""
    one = site.model_copy(
        update={"agents": None, "shifts": [shift.model_copy(update={"headcount": 1})]}
    )
    instances = roster(one, calendar)
    pay = PayScale(site, calendar, calendar.horizon + shift.length + 86400.0)
    n = len(calendar.slots)
    on_shift, on_break, cost, paid = np.zeros(n), np.zeros(n), 0.0, 0.0
    before, after = 0.0, 0.0
    for instance in instances:
        before += max(0.0, min(instance.end, 0.0) - instance.start)
        after += max(0.0, instance.end - max(instance.start, calendar.horizon))
        for k, low, high in interval_pieces(instance.start, instance.end, calendar, 0.0):
            on_shift[k] += high - low
        cost += pay.cost(instance.start, instance.end)
        paid += instance.end - instance.start - sum(b.length for b in instance.breaks if not b.paid)
        for item in instance.breaks:
            first = instance.start + item.after
            span = interval_pieces(first, first + item.within + item.length, calendar, 0.0)
            for k, low, high in span:
                on_break[k] += _break_time(first, item.within, item.length, low, high)
            if not item.paid:  # priced as taken in the middle of its window
                middle = first + item.within / 2
                cost -= pay.cost(middle, middle + item.length)
    lengths = np.array([slot.end - slot.start for slot in calendar.slots])
    on_shift /= lengths
    coverage = (on_shift - on_break / lengths) * (1.0 - site.shrinkage)
    return TemplateCoverage(
        on_shift, np.clip(coverage, 0.0, None), cost, paid / 3600, (before, after)
    )


def shift_counts(scenario: Scenario) -> tuple[int, int]:
    """Agent-shifts the schedule of ``scenario`` puts inside its horizon (one agent on one
    shift on one day), and the agents of the busiest day (shifts starting on one of the
    customers' calendar days): a week of 185 agent-shifts may be 30 agents a day, not 185."""
    calendar = scenario.calendar()
    total, by_day = 0, defaultdict(int)
    for site in scenario.sites:
        if site.shifts is None:
            total += site.agents or 0
            continue
        for instance in roster(site, calendar):
            total += instance.headcount
            day = (calendar.origin + timedelta(seconds=instance.start)).astimezone(calendar.zone)
            by_day[day.date()] += instance.headcount
    constant = sum(site.agents or 0 for site in scenario.sites if site.shifts is None)
    return total, max(by_day.values(), default=0) + constant
