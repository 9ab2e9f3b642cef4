"""The state of one whole-scenario search (:mod:`ccsim.planning.search`): the shift templates
offered with their coverage, pay and part-time flags, the requirement of every pool (which the
search raises and lowers), the covering program over them, and the scenario that a choice of
headcounts makes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ccsim.model import ConfigError, Scenario, parse_scenario
from ccsim.model.calendar import WEEKDAYS
from ccsim.model.units import format_duration
from ccsim.planning import program
from ccsim.planning.coverage import TemplateCoverage, template_coverage
from ccsim.planning.pools import human_traffic, occupancy_floors, pool_requirements, pools
from ccsim.planning.program import Demand, Solution
from ccsim.planning.scheduling import closed_time
from ccsim.planning.targets import Targets
from ccsim.planning.templates import Candidate, ShiftOffer, offer_candidates, with_break_rules

__all__ = ["Planner"]


class Planner:
    """The state of one search: candidates, their coverage and cost, and the scenario builder."""

    def __init__(self, scenario: Scenario, targets: Targets, offer: ShiftOffer) -> None:
        self.staffed_sites = [s.name for s in scenario.sites]
        self.scenario = targets.apply(with_break_rules(scenario))
        self.targets = targets
        self.offer = offer
        self.calendar = self.scenario.calendar()
        sites = {site.name: site for site in self.scenario.sites}
        self.candidates: list[Candidate] = [
            c for c in offer_candidates(self.scenario, offer) if c.site in self.staffed_sites
        ]
        self.templates: list[TemplateCoverage] = [
            template_coverage(sites[c.site], c.shift, self.calendar) for c in self.candidates
        ]
        self.coverage = np.array([t.coverage for t in self.templates])
        self.costs = np.array([t.cost for t in self.templates])
        self.paid = np.array([t.paid_hours for t in self.templates])
        self.part_time = np.array([c.part_time for c in self.candidates])
        self.site_of = np.array([c.site for c in self.candidates])
        self.bounds = offer.part_time_bounds(self.staffed_sites)
        self.pools = pools(self.scenario)
        traffic = human_traffic(self.scenario)
        self.loads = {name: t.loads.sum() for name, t in traffic.items()}
        self.required = pool_requirements(self.scenario, targets, traffic)
        self.floors = occupancy_floors(self.scenario, targets, traffic)
        arriving = {name: t.loads for name, t in traffic.items()}
        self.closed = closed_time(arriving, self.templates, self.calendar.slots)
        self.highest: list[np.ndarray] | None = None  # headcount bounds, strictest first
        #: Whether a solve runs branch and bound where the rounded relaxation is not within
        #: the gap (the search turns it off once it found nothing better in its limit).
        self.branch = True

    def demands(self) -> list[Demand]:
        sites = {site.name: site for site in self.scenario.sites}
        demands = []
        for pool in self.pools:
            speed = {}
            for s in pool.sites:
                if s not in self.staffed_sites:
                    continue
                weights = [max(self.loads[c], 1e-12) for c in pool.channels]
                slowness = [sites[s].proficiency.get(c, 1.0) for c in pool.channels]
                speed[s] = sum(weights) / float(np.dot(weights, slowness))
            if speed:  # a pool only sites with shifts of their own answer is not planned
                demands.append(Demand(pool.name, self.required[pool.name], speed))
        return demands

    def solve(self, time_limit: float, mip_gap: float) -> Solution:
        """The covering program, no agent paid while no contact can arrive where the shifts
        offered allow it (:meth:`open_hours_bounds`): the strictest bounds under which the
        program has a solution, kept for the next solves while they still allow one."""
        if self.highest is None:
            self.highest = [*self.open_hours_bounds(), np.full(len(self.candidates), np.inf)]
        while True:
            try:
                return self._solve(time_limit, mip_gap, self.highest[0])
            except ConfigError:  # nothing covers the requirement so bounded: looser bounds
                if len(self.highest) == 1:
                    raise
                self.highest.pop(0)

    def open_hours_bounds(self) -> list[np.ndarray]:
        """Headcount bounds to try, strictest first: no template paid while no contact can
        arrive (``closed``); then none paid longer so than the least of its site's templates
        of the same length and days (an 8.5-hour shift in an 8-hour opening pays half an
        hour whatever its start, but not an hour)."""
        unbounded = np.full(len(self.candidates), np.inf)
        if not np.any(self.closed > 0):
            return []
        strict = np.where(self.closed > 0, 0.0, unbounded)
        least: dict[tuple, float] = {}
        kinds = [
            (c.site, c.shift.length, tuple(c.shift.days), c.part_time) for c in self.candidates
        ]
        for kind, closed in zip(kinds, self.closed, strict=True):
            least[kind] = min(least.get(kind, np.inf), closed)
        unavoidable = np.array([least[kind] for kind in kinds])
        loose = np.where(self.closed > unavoidable + 1e-6, 0.0, unbounded)
        return [strict, loose]

    def _solve(self, time_limit: float, mip_gap: float, highest: np.ndarray) -> Solution:
        return program.solve(
            self.staffed_sites,
            [c.site for c in self.candidates],
            self.coverage,
            self.costs,
            self.demands(),
            paid_hours=self.paid,
            part_time=self.part_time,
            part_time_bounds=self.bounds,
            max_headcount=highest,
            time_limit=time_limit,
            mip_gap=mip_gap,
            branch=self.branch,
        )

    def within_caps(self, x: np.ndarray) -> bool:
        """Whether headcounts ``x`` still give every pool the agents its occupancy caps need:
        the available agents of its sites (at their speed) at or above the floor in every
        interval, and a site's own pools' floors together within what it has."""
        if self.targets.max_occupancy is None:
            return True
        available = {
            site: self.coverage[self.site_of == site].T @ x[self.site_of == site]
            for site in self.staffed_sites
        }
        own: dict[str, np.ndarray] = {}
        for demand in self.demands():
            floor = self.floors[demand.name]
            capacity = sum(available[s] * v for s, v in demand.speed.items())
            if np.any(capacity < floor - 1e-9):
                return False
            if len(demand.speed) == 1:
                ((site, speed),) = demand.speed.items()
                own[site] = own.get(site, 0.0) + floor / speed
        return all(np.all(available[s] >= need - 1e-9) for s, need in own.items())

    def part_time_ok(self, x: np.ndarray) -> bool:
        for site, (low, high) in self.bounds.items():
            at = np.array([c.site == site for c in self.candidates])
            hours = float(self.paid[at] @ x[at])
            part = float(self.paid[at & self.part_time] @ x[at & self.part_time])
            if hours > 0 and not low - 1e-9 <= part / hours <= high + 1e-9:
                return False
        return True

    def build(self, x: np.ndarray) -> Scenario:
        """The scenario with headcounts ``x`` on the candidates, in compact form."""
        data = self.scenario.model_dump(mode="json")
        by_site: dict[str, dict] = {s: {} for s in self.staffed_sites}
        for candidate, count in zip(self.candidates, x, strict=True):
            if count <= 0:
                continue
            shift = candidate.shift
            shifts = by_site[candidate.site]
            if len(shift.days) == 1 and not self.offer.tours:  # one weekday: merge the week
                key = (shift.start_minute, shift.length, "week")
                entry = shifts.setdefault(
                    key, {"start": shift.start, "length": shift.length, "headcount": {}}
                )
                entry["headcount"][shift.days[0]] = entry["headcount"].get(shift.days[0], 0) + int(
                    count
                )
            else:  # a tour, or a site's own template: one headcount for its days
                days = list(shift.days)
                if isinstance(shift.headcount, dict):  # the days it had staff on
                    days = [d for d in WEEKDAYS if shift.headcount.get(d, 0) > 0]
                key = (shift.start_minute, shift.length, tuple(days))
                entry = shifts.setdefault(
                    key,
                    {
                        "start": shift.start,
                        "length": shift.length,
                        "headcount": 0,
                        "days": list(days),
                    },
                )
                entry["headcount"] += int(count)
            if shift.breaks:
                entry["breaks"] = [b.model_dump(mode="json") for b in shift.breaks]
        for site in data["sites"]:
            if site["name"] in by_site:
                shifts = []
                for key in sorted(by_site[site["name"]], key=lambda k: (k[0], k[1], str(k[2]))):
                    entry = by_site[site["name"]][key]
                    if isinstance(entry["headcount"], dict):
                        entry["headcount"] = {
                            d: entry["headcount"][d] for d in WEEKDAYS if d in entry["headcount"]
                        }
                    shifts.append(entry)
                site["agents"], site["shifts"] = None, shifts
        # A site given no shift (one that answers only past the threshold) cannot be an
        # overflow step: the routing goes on without it.
        unstaffed = {s["name"] for s in data["sites"] if s["name"] in by_site and not s["shifts"]}
        for steps in data["routing"]["overflow"].values():
            steps[:] = [step for step in steps if step["site"] not in unstaffed]
        return parse_scenario(data, source=f"<staffing of {self.scenario.name}>")

    def table(self, x: np.ndarray) -> pd.DataFrame:
        rows = [
            {
                "site": c.site,
                "start": c.shift.start,
                "length": format_duration(c.shift.length),
                "days": ",".join(c.shift.days),
                "part_time": bool(c.part_time),
                "headcount": int(h),
                "cost_per_agent": t.cost,
                "cost": t.cost * int(h),
            }
            for c, t, h in zip(self.candidates, self.templates, x, strict=True)
            if h > 0
        ]
        return pd.DataFrame(rows)
