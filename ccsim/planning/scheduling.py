"""Shift scheduling: how many agents to put on each shift template so that the requirement is
covered in every interval at the least labour cost.

The requirement (:mod:`ccsim.planning.staffing`) says how many agents must be *available* in
each reporting interval and channel. A shift template at a site (start, length, days, breaks,
in the site's local time) puts each of its agents on the floor for part of some intervals: its
**coverage** of interval k is the share of k its agents are on shift and not on break, times
``1 - shrinkage`` (the share of scheduled agents who are paid but absent); its **cost** is the
pay of one agent for every day it runs inside the horizon (:mod:`ccsim.planning.coverage`).
The templates come from :func:`ccsim.planning.templates.candidate_shifts`.

Choosing headcounts is an integer program, solved by :mod:`ccsim.planning.program` (HiGHS
through :func:`scipy.optimize.milp`, after an LP rounding dive)::

    minimise    sum_j cost_j x_j
    subject to  sum_s y[s,c,k] / proficiency[s,c]  >= required[c,k]   each channel c, interval k
                sum_c y[s,c,k]  <=  sum_{j at s} coverage[j,k] x_j     each site s, interval k
                min_j <= x_j <= max_j integer,   y >= 0

x_j is the headcount of template j; y[s,c,k] the agents of site s given to channel c in
interval k (only where the site may answer the channel). With one site and one channel this is
the classic covering problem sum_j coverage[j,k] x_j >= required[k]. Treating the channels of
a site as separate pools that share its agents is the requirement's own simplification.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ccsim.model import ConfigError, Scenario, ServiceLevel, Site, parse_scenario
from ccsim.model.request_types import drop_escalation, escalation_target
from ccsim.model.units import format_duration
from ccsim.planning import program
from ccsim.planning.coverage import template_coverage
from ccsim.planning.program import Demand
from ccsim.planning.shares import channel_of, service_sites, share_name, split_shares
from ccsim.planning.templates import Candidate, candidate_shifts

__all__ = ["Schedule", "schedule_shifts"]


@dataclass(frozen=True)
class Schedule:
    """The chosen shifts: ``headcounts`` (one row per template), ``coverage`` (per channel and
    interval: required, available, scheduled), the total ``cost`` over the horizon, and
    ``scenario``, the input scenario with these shifts (and the planned objective)."""

    headcounts: pd.DataFrame
    coverage: pd.DataFrame
    cost: float
    scenario: Scenario
    solve_time: float
    mip_gap: float
    status: str
    closed_hours: float = 0.0  # agent-hours paid while no contact can arrive


def _may_answer(scenario: Scenario, site: Site, name: str) -> bool:
    """Whether routing lets ``site`` answer ``name`` within its threshold, whatever its
    staffing: a share of a split channel only at its own site (:mod:`ccsim.planning.shares`)."""
    channel = channel_of(name)
    if channel != name:
        return name == share_name(channel, site.name)
    steps = scenario.routing.overflow.get(channel)
    if steps is not None:
        return site.name in {s.name for s in service_sites(scenario, channel)}
    return site.skills is None or channel in site.skills


def _requirement_matrix(requirements: pd.DataFrame, n_intervals: int) -> dict[str, np.ndarray]:
    missing = {"interval", "channel", "required"} - set(requirements.columns)
    if missing:
        raise ConfigError("", "requirements", f"missing column {sorted(missing)[0]!r}")
    needed = {}
    for channel, group in requirements.groupby("channel", sort=False):
        row = np.zeros(n_intervals)
        row[group["interval"].to_numpy(int)] = group["required"].to_numpy(float)
        needed[str(channel)] = row
    return needed


def schedule_shifts(
    scenario: Scenario,
    requirements: pd.DataFrame,
    candidates: list[Candidate] | None = None,
    *,
    target: ServiceLevel | None = None,
    time_limit: float = 60.0,
    mip_gap: float = 0.01,
) -> Schedule:
    """Headcounts per template that cover ``requirements`` (columns ``interval``,
    ``channel``, ``required``) in every interval at least cost; see the module docstring.

    ``candidates`` default to :func:`candidate_shifts`. ``target``, when given, is written
    into the scheduled scenario as every channel's objective. The solver stops after
    ``time_limit`` seconds with the best schedule found (``mip_gap`` says how far from
    optimal it may be). A requirement no headcount within the bounds can cover is a
    :class:`ConfigError` that names the first such interval.
    """
    calendar = scenario.calendar()
    slots = calendar.slots
    needed = _requirement_matrix(requirements, len(slots))
    for name in needed:
        channel = channel_of(name)
        if channel not in scenario.channels:
            raise ConfigError("", "requirements", f"no channel {channel!r} in the scenario")
        if split_shares(scenario, channel) and channel == name:
            raise ConfigError(
                "", "requirements", f"{channel!r} is split: give a requirement per share"
            )
    candidates = candidate_shifts(scenario) if candidates is None else list(candidates)
    sites = {site.name: site for site in scenario.sites}
    for candidate in candidates:
        if candidate.site not in sites:
            raise ConfigError("", "candidates", f"no site {candidate.site!r} in the scenario")
    templates = [template_coverage(sites[c.site], c.shift, calendar) for c in candidates]
    # Templates that never touch the horizon can only cost: leave them out.
    useful = [j for j, t in enumerate(templates) if t.coverage.any()]

    pairs = [
        (site.name, channel)
        for site in scenario.sites
        for channel in needed
        if _may_answer(scenario, site, channel)
    ]
    _check_coverable(needed, pairs, useful, candidates, templates, slots)
    idle = closed_time(needed, templates, slots)
    highest = _open_hours_only(needed, pairs, useful, candidates, templates, slots, idle)
    demands = _demands(needed, pairs, sites)
    solution = program.solve(
        list(sites),
        [c.site for c in candidates],
        np.array([t.coverage for t in templates]),
        np.array([t.cost for t in templates]),
        demands,
        paid_hours=np.array([t.paid_hours for t in templates]),
        min_headcount=np.array([c.min_headcount for c in candidates], dtype=float),
        max_headcount=highest,
        time_limit=time_limit,
        mip_gap=mip_gap,
    )
    chosen = solution.headcounts
    given = defaultdict(float, solution.given)  # agents of site s given to channel c in k
    return Schedule(
        headcounts=_headcount_table(candidates, templates, chosen),
        coverage=_coverage_table(scenario, needed, candidates, templates, chosen, given),
        cost=float(sum(templates[j].cost * chosen[j] for j in range(len(candidates)))),
        scenario=_scheduled_scenario(
            scenario, candidates, chosen, target, list(dict.fromkeys(map(channel_of, needed)))
        ),
        solve_time=solution.solve_time,
        mip_gap=solution.mip_gap,
        status="solved" if solution.status == "optimal" else "time limit",
        closed_hours=float(idle @ chosen) / 3600,
    )


def _demands(needed, pairs, sites) -> list[Demand]:
    """The program's demand of each channel (or share), with the speed of each site that
    may answer it: 1 / proficiency; a share's requirement is in its own site's agents."""
    return [
        Demand(
            name,
            row,
            {
                s: 1.0 if channel_of(name) != name else 1.0 / sites[s].proficiency.get(name, 1.0)
                for s, c in pairs
                if c == name
            },
        )
        for name, row in needed.items()
    ]


def _open_hours_only(needed, pairs, useful, candidates, templates, slots, idle) -> np.ndarray:
    """The headcount bound of each template: none (0) for a template paid while no contact
    can arrive (``idle``), as long as the others still reach every interval with demand;
    opening hours too short for any shift offered keep every template."""
    highest = np.array([np.inf if c.max_headcount is None else c.max_headcount for c in candidates])
    opening = [c if idle[j] <= 0 else replace(c, max_headcount=0) for j, c in enumerate(candidates)]
    try:
        _check_coverable(needed, pairs, useful, opening, templates, slots)
    except ConfigError:
        return highest
    highest[idle > 0] = 0
    return highest


def closed_time(needed, templates, slots) -> np.ndarray:
    """Seconds each template's agent is paid while no contact can arrive: on shift in an
    interval no planned channel needs anyone, or beyond the horizon's edge when the edge
    interval needs no one (a horizon cut mid-operation says nothing of what lies beyond)."""
    closed = ~np.any(np.array([row > 0 for row in needed.values()]), axis=0)
    lengths = np.array([slot.end - slot.start for slot in slots])
    return np.array(
        [
            float(t.on_shift[closed] @ lengths[closed])
            + t.outside[0] * closed[0]
            + t.outside[1] * closed[-1]
            for t in templates
        ]
    )


def _check_coverable(needed, pairs, useful, candidates, templates, slots) -> None:
    """Name the first interval with a requirement that no template can cover at all."""
    for channel, row in needed.items():
        serving = {s for s, c in pairs if c == channel}
        reach = np.zeros(len(slots))
        for j in useful:
            if candidates[j].site in serving and candidates[j].max_headcount != 0:
                reach += templates[j].coverage
        for k in np.flatnonzero((row > 0) & (reach <= 0)):
            raise ConfigError(
                "",
                "shifts",
                f"no shift template covers {slots[k].local_start.isoformat()} for {channel}, "
                f"which needs {row[k]:g} agents",
            )


def _headcount_table(candidates, templates, chosen) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "site": c.site,
                "start": c.shift.start,
                "length": format_duration(c.shift.length),
                "days": ",".join(c.shift.days),
                "breaks": len(c.shift.breaks),
                "headcount": int(h),
                "cost_per_agent": t.cost,
                "cost": t.cost * int(h),
            }
            for c, t, h in zip(candidates, templates, chosen, strict=True)
        ]
    )


def _coverage_table(scenario, needed, candidates, templates, chosen, given) -> pd.DataFrame:
    """Per channel and interval: required, available and scheduled agents. A site's agents
    are split among its channels in proportion to what the program gave each (evenly where
    it gave none), so the channels of a site add up to the site."""
    slots = scenario.calendar().slots
    n = len(slots)
    site_available, site_scheduled = (
        defaultdict(lambda: np.zeros(n)),
        defaultdict(lambda: np.zeros(n)),
    )
    for c, t, h in zip(candidates, templates, chosen, strict=True):
        site_available[c.site] += h * t.coverage
        site_scheduled[c.site] += h * t.on_shift
    sites = {site.name: site for site in scenario.sites}
    rows = []
    for channel, required in needed.items():
        available, scheduled = np.zeros(n), np.zeros(n)
        for name in site_available:
            if not _may_answer(scenario, sites[name], channel):
                continue
            rivals = [c for c in needed if _may_answer(scenario, sites[name], c)]
            for k in range(n):
                total = sum(given[(name, c, k)] for c in rivals)
                share = given[(name, channel, k)] / total if total > 0 else 1 / len(rivals)
                speed = 1.0 / sites[name].proficiency.get(channel_of(channel), 1.0)
                speed = speed if channel_of(channel) == channel else 1.0
                available[k] += share * site_available[name][k] * speed
                scheduled[k] += share * site_scheduled[name][k]
        rows.extend(
            {
                "interval": k,
                "interval_start": slots[k].local_start.isoformat(),
                "channel": channel,
                "required": required[k],
                "available": available[k],
                "scheduled": scheduled[k],
            }
            for k in range(n)
        )
    return pd.DataFrame(rows)


def _scheduled_scenario(scenario, candidates, chosen, target, channels) -> Scenario:
    """The scenario with the chosen shifts at every planned site (zero headcounts left out),
    only the planned ``channels``, and the planned objective."""
    data = scenario.model_dump(mode="json")
    shifts = defaultdict(list)
    for candidate, headcount in zip(candidates, chosen, strict=True):
        if headcount > 0:
            shifts[candidate.site].append(
                {**candidate.shift.model_dump(mode="json"), "headcount": int(headcount)}
            )
    planned = {c.site for c in candidates}
    for site in data["sites"]:
        if site["name"] in planned:
            site["agents"], site["shifts"] = None, shifts.get(site["name"], [])
        if site.get("skills") is not None:
            site["skills"] = [c for c in site["skills"] if c in channels]
        for field in ("proficiency", "resolution"):  # per channel
            if isinstance(site.get(field), dict):
                site[field] = {c: v for c, v in site[field].items() if c in channels}
    unstaffed = {s["name"] for s in data["sites"] if s["name"] in planned and not shifts[s["name"]]}
    data["channels"] = {name: data["channels"][name] for name in channels}
    for spec in data["channels"].values():
        if spec.get("escalation") is not None and escalation_target(spec) not in channels:
            drop_escalation(spec)  # the next tier is not planned: left out
    if target is not None:
        for spec in data["channels"].values():
            spec["service_level"] = target.model_dump(mode="json")
    # An unstaffed site cannot be an overflow step; a channel left with none uses every
    # site with its skill.
    overflow = {
        channel: [step for step in steps if step["site"] not in unstaffed]
        for channel, steps in data["routing"]["overflow"].items()
        if channel in channels
    }
    data["routing"]["overflow"] = {c: steps for c, steps in overflow.items() if steps}
    return parse_scenario(data, source=f"<schedule of {scenario.name}>")
