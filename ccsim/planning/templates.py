"""Shift templates a planner offers: full-time and part-time shifts starting every half hour,
per weekday or as weekly tours, with the site's break rules.

A full-time shift is 8.5 hours by default: 8 paid, a 30-minute unpaid lunch, and two paid
15-minute breaks; part-time shifts are 4 and 6 hours with one or two paid 15-minute breaks
(shared/domain.md section 4). Breaks are stated once per site as rules by shift length
(:class:`ccsim.model.BreakRule`), so generated shifts carry none of their own.

**Per weekday** (the default), a template is a start and a length on one local weekday, with
its own headcount: the integer program chooses each day's staff freely. A **weekly tour** is
a start and a length worked on five days of seven, the two days off chosen by the program
among the tours offered (two consecutive days by default, or any two): the same agents every
working day, as a planner hires them.

The requirement methods of ``ccsim staff`` (:mod:`ccsim.planning.scheduling`) choose from
simpler templates (:func:`candidate_shifts`): one per local weekday, start and length, each
with breaks of its own (:func:`standard_breaks`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ccsim.model import Break, BreakRule, ConfigError, Scenario, Shift, Site
from ccsim.model.calendar import WEEKDAYS, Calendar
from ccsim.model.units import format_duration
from ccsim.sim.shifts import site_zone

__all__ = [
    "DEFAULT_LENGTHS",
    "STANDARD_BREAK_RULES",
    "Candidate",
    "ShiftOffer",
    "candidate_shifts",
    "local_weekdays",
    "offer_candidates",
    "standard_breaks",
    "with_break_rules",
    "with_shrinkage",
]

_HOUR = 3600.0

#: Shift lengths generated for a site without templates: full time (8 h paid and a 30-minute
#: unpaid lunch) and part time (shared/domain.md section 4).
DEFAULT_LENGTHS = (8.5 * 3600, 4 * 3600)


@dataclass(frozen=True)
class Candidate:
    """A shift template that the planner may staff at a site, with headcount bounds."""

    site: str
    shift: Shift  # its headcount is ignored
    min_headcount: int = 0
    max_headcount: int | None = None
    part_time: bool = False

    def describe(self) -> str:
        days = ",".join(self.shift.days) if len(self.shift.days) < 7 else "every day"
        return f"{self.site} {self.shift.start} {format_duration(self.shift.length)} {days}"


def standard_breaks(length: float) -> list[Break]:
    """Breaks of a generated shift, after common practice: from 8 hours, a paid 15-minute
    break, an unpaid 30-minute lunch and another paid 15-minute break; from 4 hours, one paid
    15-minute break; none below. Each is taken in turn over a window (``within``) so that the
    floor never empties."""
    if length >= 8 * _HOUR:
        return [
            Break(after=2 * _HOUR, length=900, within=1800),
            Break(after=4 * _HOUR, length=1800, within=_HOUR, paid=False),
            Break(after=6.5 * _HOUR, length=900, within=1800),
        ]
    if length >= 4 * _HOUR:
        return [Break(after=1.5 * _HOUR, length=900, within=_HOUR)]
    return []


def local_weekdays(site: Site, calendar: Calendar, reach_back: float) -> list[str]:
    """The site's local weekdays whose shifts may touch the horizon, in calendar order."""
    zone = site_zone(site, str(calendar.zone))
    first = (calendar.origin - timedelta(seconds=reach_back)).astimezone(zone).date()
    last = (calendar.origin + timedelta(seconds=calendar.horizon)).astimezone(zone).date()
    days = []
    while first <= last and len(days) < 7:
        days.append(WEEKDAYS[first.weekday()])
        first += timedelta(days=1)
    return days


def _too_long(lengths) -> str:
    return f"a shift is at most 24h, got {max(lengths) / 3600:g}h"


def candidate_shifts(
    scenario: Scenario,
    lengths: Iterable[float] = DEFAULT_LENGTHS,
    step: float = 1800.0,
    min_headcount: int = 0,
    max_headcount: int | None = None,
) -> list[Candidate]:
    """The templates the planner chooses from, with the same headcount bounds for each.

    A site with ``shifts`` offers its own templates (their headcounts are ignored). A site
    with constant ``agents`` gets generated ones: for each local weekday in the horizon, a
    shift of each of ``lengths`` starting every ``step`` seconds around the clock, with
    :func:`standard_breaks`; with a horizon longer than a week each weekday's template
    repeats every week with one headcount.
    """
    lengths = [float(length) for length in lengths]
    if not lengths or min(lengths) <= 0:
        raise ConfigError("", "shift lengths", "give at least one positive length")
    if max(lengths) > 86400:
        raise ConfigError("", "shift lengths", _too_long(lengths))
    if not 0 < step <= 86400 or 86400 % step or step % 60:
        raise ConfigError("", "shift step", "must be whole minutes that divide a day")
    if max_headcount is not None and max_headcount < min_headcount:
        raise ConfigError("", "max_headcount", "must be at least min_headcount")
    calendar = scenario.calendar()
    candidates = []
    for site in scenario.sites:
        if site.shifts is not None:
            shifts = list(site.shifts)
        else:
            shifts = [
                Shift(
                    start=f"{minute // 60:02d}:{minute % 60:02d}",
                    length=length,
                    headcount=0,
                    days=[day],
                    breaks=standard_breaks(length),
                )
                for day in local_weekdays(site, calendar, max(lengths))
                for minute in range(0, 1440, int(step // 60))
                for length in lengths
            ]
        candidates.extend(Candidate(site.name, s, min_headcount, max_headcount) for s in shifts)
    return candidates


#: Break rules of a site that states none: from 8 h, a paid 15-minute break after 2 h, an
#: unpaid 30-minute lunch after 4 h and a paid 15-minute break after 6.5 h; from 6 h, paid
#: 15-minute breaks after 1.5 h and 4 h; from 4 h, one after 1.5 h. Each is taken in turn
#: over a window (``within``) so that the floor never empties.
STANDARD_BREAK_RULES = (
    BreakRule(
        at_least=8 * _HOUR,
        breaks=[
            Break(after=2 * _HOUR, length=900, within=1800),
            Break(after=4 * _HOUR, length=1800, within=_HOUR, paid=False),
            Break(after=6.5 * _HOUR, length=900, within=1800),
        ],
    ),
    BreakRule(
        at_least=6 * _HOUR,
        breaks=[
            Break(after=1.5 * _HOUR, length=900, within=1800),
            Break(after=4 * _HOUR, length=900, within=1800),
        ],
    ),
    BreakRule(at_least=4 * _HOUR, breaks=[Break(after=1.5 * _HOUR, length=900, within=_HOUR)]),
)


@dataclass(frozen=True)
class ShiftOffer:
    """The shifts a planner offers at every site staffed by the program.

    ``full_time`` and ``part_time`` lengths (seconds), a start every ``step`` seconds around
    the clock; ``tours`` for weekly tours of five days (``days_off``: ``"consecutive"`` or
    ``"any"`` two days), else one template per local weekday. ``part_time_share`` bounds the
    share of a site's paid hours worked on part-time shifts: ``(low, high)`` for every site,
    or a mapping from site name to bounds (sites left out are unbounded).
    """

    full_time: tuple[float, ...] = (8.5 * _HOUR,)
    part_time: tuple[float, ...] = (4 * _HOUR, 6 * _HOUR)
    step: float = 1800.0
    tours: bool = False
    days_off: str = "consecutive"
    part_time_share: tuple[float, float] | Mapping[str, tuple[float, float]] = (0.0, 0.5)
    lengths: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        lengths = tuple(float(x) for x in (*self.full_time, *self.part_time))
        if not lengths or min(lengths) <= 0:
            raise ConfigError("", "shift lengths", "give at least one positive length")
        if max(lengths) > 86400:
            raise ConfigError("", "shift lengths", _too_long(lengths))
        if not 0 < self.step <= 86400 or 86400 % self.step or self.step % 60:
            raise ConfigError("", "shift step", "must be whole minutes that divide a day")
        if self.days_off not in ("consecutive", "any"):
            raise ConfigError("", "days_off", f"expected consecutive or any, got {self.days_off!r}")
        for low, high in self._bounds().values():
            if not 0 <= low <= high <= 1:
                raise ConfigError(
                    "", "part_time_share", f"expected 0 <= low <= high <= 1, got {(low, high)}"
                )
        object.__setattr__(self, "lengths", lengths)

    def _bounds(self) -> dict[str, tuple[float, float]]:
        if isinstance(self.part_time_share, Mapping):
            return {str(k): (float(v[0]), float(v[1])) for k, v in self.part_time_share.items()}
        return {"*": (float(self.part_time_share[0]), float(self.part_time_share[1]))}

    def part_time_bounds(self, sites: Iterable[str]) -> dict[str, tuple[float, float]]:
        """The part-time share bounds per site."""
        bounds = self._bounds()
        every = bounds.get("*")
        return {s: bounds.get(s, every) for s in sites if bounds.get(s, every) is not None}

    def is_part_time(self, length: float) -> bool:
        """Shorter than the shortest full-time shift."""
        return length < min(self.full_time, default=math.inf)

    def day_patterns(self) -> list[tuple[str, ...]]:
        """The working days of each tour offered (or of each single-day template)."""
        if not self.tours:
            return [(day,) for day in WEEKDAYS]
        if self.days_off == "consecutive":
            offs = [(WEEKDAYS[i], WEEKDAYS[(i + 1) % 7]) for i in range(7)]
        else:
            offs = list(itertools.combinations(WEEKDAYS, 2))
        return [tuple(d for d in WEEKDAYS if d not in off) for off in offs]


def with_break_rules(scenario: Scenario, sites: Iterable[str] | None = None) -> Scenario:
    """``scenario`` with :data:`STANDARD_BREAK_RULES` at each of ``sites`` (default: those with
    constant ``agents``, which the program staffs) that states no break rules of its own."""
    chosen = {s.name for s in scenario.sites if s.shifts is None} if sites is None else set(sites)
    # Validated, not ``model_copy``'d: the site's validators order the rules and check them.
    updated = [
        Site.model_validate({**dict(site), "breaks": list(STANDARD_BREAK_RULES)})
        if site.name in chosen and not site.breaks
        else site
        for site in scenario.sites
    ]
    return scenario.model_copy(update={"sites": updated})


def with_shrinkage(scenario: Scenario, shrinkage: float | None) -> Scenario:
    """``scenario`` with ``shrinkage`` at every site that states none (0): the share of
    scheduled agents a plan expects away, which coverage discounts and the simulation keeps
    from work. None leaves the scenario as it is."""
    if not shrinkage:
        return scenario
    updated = [
        Site.model_validate({**dict(site), "shrinkage": shrinkage}) if not site.shrinkage else site
        for site in scenario.sites
    ]
    return scenario.model_copy(update={"sites": updated})


def offer_candidates(scenario: Scenario, offer: ShiftOffer | None = None) -> list[Candidate]:
    """The templates the program chooses from. A site with ``shifts`` offers its own (their
    headcounts ignored, one candidate per shift); a site with constant ``agents`` gets
    ``offer``'s: each length, starting every ``offer.step``, per local weekday the horizon
    touches (or as weekly tours). Generated shifts state no breaks: the site's rules apply
    (:func:`with_break_rules`)."""
    offer = ShiftOffer() if offer is None else offer
    calendar = scenario.calendar()
    candidates = []
    for site in scenario.sites:
        if site.shifts is not None:  # its own templates: not bound by the part-time share
            candidates.extend(Candidate(site.name, s) for s in site.shifts)
            continue
        touched = set(local_weekdays(site, calendar, max(offer.lengths)))
        for days in offer.day_patterns():
            if not touched.intersection(days):
                continue
            for minute in range(0, 1440, int(offer.step // 60)):
                for length in offer.lengths:
                    shift = Shift(
                        start=f"{minute // 60:02d}:{minute % 60:02d}",
                        length=length,
                        headcount=0,
                        days=list(days),
                    )
                    candidates.append(
                        Candidate(site.name, shift, part_time=offer.is_part_time(length))
                    )
    return candidates
