"""Shift scheduling: how many agents to put on each shift template so that the requirement is
covered in every interval at the least labour cost.

The requirement (:mod:`ccsim.planning.staffing`) says how many agents must be *available* in each
reporting interval and channel. A shift template at a site (start, length, days, breaks, in
the site's local time) puts each of its agents on the floor for part of some intervals: its
**coverage** of interval k is the share of k its agents are on shift and not on break, times
``1 - shrinkage`` (the share of scheduled agents who are paid but absent). Breaks taken in turn
(``within``) are spread evenly over their window, as the engine does, so a break covers each
interval fractionally: its expected share. The **cost** of a template is the pay of one agent
for every day it runs inside the horizon, from :class:`ccsim.sim.shifts.PayScale` (hourly cost,
night differential in the site's local night, unpaid breaks left out); a shift that starts
before or ends after the horizon is paid in full.

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

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ccsim.files import atomic_write, write_csv, write_text
from ccsim.model import Break, ConfigError, Scenario, ServiceLevel, Shift, Site, parse_scenario
from ccsim.model.calendar import WEEKDAYS, Calendar
from ccsim.model.units import format_duration, parse_duration
from ccsim.planning import program
from ccsim.planning.program import Demand
from ccsim.sim.shifts import PayScale, interval_pieces, roster, site_zone

__all__ = [
    "DEFAULT_LENGTHS",
    "Candidate",
    "Schedule",
    "TemplateCoverage",
    "candidate_shifts",
    "plot_staffing",
    "schedule_shifts",
    "scenario_yaml",
    "staffing_table",
    "standard_breaks",
    "template_coverage",
    "write_schedule",
    "write_staffing",
]

#: Shift lengths generated for a site without templates: full time (8 h paid and a 30-minute
#: unpaid lunch) and part time (shared/domain.md section 4).
DEFAULT_LENGTHS = (8.5 * 3600, 4 * 3600)
_HOUR = 3600.0


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


# --- candidate templates ------------------------------------------------------------------------


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


def _local_weekdays(site: Site, calendar: Calendar, reach_back: float) -> list[str]:
    """The site's local weekdays whose shifts may touch the horizon, in calendar order."""
    zone = site_zone(site, str(calendar.zone))
    first = (calendar.origin - timedelta(seconds=reach_back)).astimezone(zone).date()
    last = (calendar.origin + timedelta(seconds=calendar.horizon)).astimezone(zone).date()
    days = []
    while first <= last and len(days) < 7:
        days.append(WEEKDAYS[first.weekday()])
        first += timedelta(days=1)
    return days


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
                for day in _local_weekdays(site, calendar, max(lengths))
                for minute in range(0, 1440, int(step // 60))
                for length in lengths
            ]
        candidates.extend(Candidate(site.name, s, min_headcount, max_headcount) for s in shifts)
    return candidates


# --- coverage and pay of one template ------------------------------------------------------------


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
    for instance in instances:
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
    return TemplateCoverage(on_shift, np.clip(coverage, 0.0, None), cost, paid / 3600)


# --- the integer program -------------------------------------------------------------------------


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


def _may_answer(scenario: Scenario, site: Site, channel: str) -> bool:
    """Whether routing lets ``site`` take ``channel`` at all, whatever its staffing."""
    steps = scenario.routing.overflow.get(channel)
    if steps is not None:
        return any(step.site == site.name for step in steps)
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
    for channel in needed:
        if channel not in scenario.channels:
            raise ConfigError("", "requirements", f"no channel {channel!r} in the scenario")
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
    demands = [
        Demand(
            channel,
            row,
            {s: 1.0 / sites[s].proficiency.get(channel, 1.0) for s, c in pairs if c == channel},
        )
        for channel, row in needed.items()
    ]
    solution = program.solve(
        list(sites),
        [c.site for c in candidates],
        np.array([t.coverage for t in templates]),
        np.array([t.cost for t in templates]),
        demands,
        paid_hours=np.array([t.paid_hours for t in templates]),
        min_headcount=np.array([c.min_headcount for c in candidates], dtype=float),
        max_headcount=np.array(
            [np.inf if c.max_headcount is None else c.max_headcount for c in candidates]
        ),
        time_limit=time_limit,
        mip_gap=mip_gap,
    )
    chosen = solution.headcounts
    given = defaultdict(float, solution.given)  # agents of site s given to channel c in k
    return Schedule(
        headcounts=_headcount_table(candidates, templates, chosen),
        coverage=_coverage_table(scenario, needed, candidates, templates, chosen, given),
        cost=float(sum(templates[j].cost * chosen[j] for j in range(len(candidates)))),
        scenario=_scheduled_scenario(scenario, candidates, chosen, target, list(needed)),
        solve_time=solution.solve_time,
        mip_gap=solution.mip_gap,
        status="solved" if solution.status == "optimal" else "time limit",
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
                speed = 1.0 / sites[name].proficiency.get(channel, 1.0)
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
        if spec.get("escalation") is not None and spec["escalation"] not in channels:
            spec["escalation"] = None  # the next tier is not planned: left out
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


# --- files ---------------------------------------------------------------------------------------

#: Keys whose values are durations (``mean``, ``value``, ``low``, ``high``: of a distribution).
_DURATION_KEYS = {
    "horizon", "warmup", "interval", "length", "after", "within", "threshold",
    "mean", "value", "low", "high",
}  # fmt: skip
_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}$")


class _Dumper(yaml.SafeDumper):
    """Block style, except lists of plain values (profiles, days) on one line."""


def _represent_list(dumper: yaml.SafeDumper, items: list):
    flow = all(not isinstance(item, dict | list) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


def _represent_text(dumper: yaml.SafeDumper, text: str):
    # YAML 1.1 readers take 06:00 for a base-60 number: quote times of day.
    style = '"' if _TIME_OF_DAY.match(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_text)


def _readable(node, key: str | None = None):
    """Durations in units (``8.5h``) where that reads back exactly; everything else as is."""
    if isinstance(node, dict):
        return {k: _readable(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_readable(item, key) for item in node]
    if key in _DURATION_KEYS and isinstance(node, float) and math.isfinite(node):
        text = format_duration(node)
        return text if parse_duration(text) == node else node
    return node


def scenario_yaml(scenario: Scenario) -> str:
    """A scenario as a YAML file that :func:`ccsim.model.load_scenario` reads back to it."""
    data = _readable(scenario.model_dump(mode="json", exclude_defaults=True))
    header = f"# {scenario.name}: shifts chosen by `ccsim staff` (ccsim.planning.scheduling)\n"
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def write_schedule(path: str | Path, schedule: Schedule) -> Path:
    """Write the scheduled scenario as a scenario file, atomically."""
    return write_text(path, scenario_yaml(schedule.scenario))


def staffing_table(
    requirements: pd.DataFrame, schedule: Schedule, service_levels: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The requirement per interval and channel beside what the schedule gives (``scheduled``:
    agents on shift, absent and on break included; ``available``: agents expected on the
    floor), and the simulated service level of the scheduled scenario if given
    (``sl_simulated``, ``sl_low``, ``sl_high``)."""
    table = requirements.merge(
        schedule.coverage[["interval", "channel", "available", "scheduled"]],
        on=["interval", "channel"],
        how="left",
    )
    if service_levels is not None:
        levels = service_levels.rename(
            columns={"sl": "sl_simulated", "offered": "offered_simulated"}
        )[["interval", "channel", "sl_simulated", "sl_low", "sl_high"]]
        table = table.merge(levels, on=["interval", "channel"], how="left")
    first = ["interval_start", "channel", "method", "required", "scheduled"]
    return table[first + [c for c in table.columns if c not in first]]


def plot_staffing(table: pd.DataFrame, channel: str, target: float | None = None):
    """A figure of one channel: required, available and scheduled agents per interval, and
    below the simulated service level of the schedule with its confidence band."""
    # No pyplot: no global state, no display needed.
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    rows = table[table.channel == channel].sort_values("interval")
    edges = np.arange(len(rows) + 1)
    figure = Figure(figsize=(10, 6.5), layout="constrained")
    agents, level = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    line = {"baseline": None}  # steps only, no drop to zero at the ends
    agents.stairs(rows["required"], edges, label="required", color="black", lw=2, **line)
    agents.stairs(rows["available"], edges, label="available (net of shrinkage, breaks)", **line)
    agents.stairs(rows["scheduled"], edges, label="scheduled (paid)", **line)
    agents.set_ylabel("agents")
    agents.set_title(f"{channel}: requirement ({rows['method'].iloc[0]}) and schedule")
    agents.legend(loc="upper left")
    agents.grid(alpha=0.3)
    if "sl_simulated" in rows:
        low, high = rows["sl_low"].clip(0, 1), rows["sl_high"].clip(0, 1)
        level.stairs(high, edges, baseline=low, fill=True, alpha=0.3, label="confidence interval")
        level.stairs(rows["sl_simulated"], edges, label="simulated schedule", **line)
    if target is not None:
        level.axhline(target, color="black", linestyle="--", label=f"target {target:.0%}")
    level.set_ylabel("service level")
    level.yaxis.set_major_formatter(PercentFormatter(1.0))
    lowest = rows["sl_low"].min() if "sl_low" in rows else math.nan
    level.set_ylim(max(0.0, min(0.5, lowest if lowest == lowest else 0.5) - 0.05), 1.02)
    level.legend(loc="lower right")
    level.grid(alpha=0.3)
    every = max(1, len(rows) // 16)
    level.set_xticks(edges[:-1][::every])
    level.set_xticklabels([s[5:16].replace("T", " ") for s in rows["interval_start"][::every]])
    level.tick_params(axis="x", labelrotation=45)
    return figure


def write_staffing(out: str | Path, table: pd.DataFrame, schedule: Schedule) -> list[Path]:
    """Write ``requirements.csv``, ``schedule.yaml`` and one ``staffing-<channel>.png`` per
    channel into ``out``, each atomically; returns the paths."""
    out = Path(out)
    paths = [
        write_csv(out / "requirements.csv", table),
        write_schedule(out / "schedule.yaml", schedule),
    ]
    for channel in table["channel"].unique():
        spec = schedule.scenario.channels.get(channel)
        figure = plot_staffing(table, channel, spec.service_level.target if spec else None)
        paths.append(
            atomic_write(
                out / f"staffing-{channel}.png",
                lambda tmp, f=figure: f.savefig(
                    tmp, format="png", dpi=100, metadata={"Software": None}
                ),
            )
        )
    return paths
