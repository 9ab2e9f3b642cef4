"""Each site at its own equal-service point: the sites of a model scaled apart, each to the
target that binds it.

One factor for every site leaves slack that differs by site: the site whose channel binds
first sets the factor, and every other site keeps what its own targets do not need. Here the
sites of a model form **groups** (sites that answer a common channel are scaled together,
since the channel's service depends on all of them; the study's models give one site a
group), and each group gets a scale of its own.

A group's **constraints** are what the plan was built under (docs/staffing.md): each channel
it answers reaches its weekly service-level target and its interval floor (the planner's
share of intervals at target - 15 points, each interval pooled over the point's
replications: :func:`floor_shares`), its sites' live occupancy (voice and
chat busy time over logged-on time) stays within the live cap, and their occupancy with
deferred work (email) within the deferred cap. A cap is **the plan's**: the nominal cap, or
the plan's own occupancy where the plan, accepted by the planner under that cap judged on
expected load interval by interval, runs above it as measured here (a blended site with email
runs at 97-99%; holding it to 95% would put it above its own plan).

Per replication r, a group's points are the sweep's points (each with the group's scale, the
other groups wherever that point put them), and each constraint's margin (service level less
target, cap less occupancy) is read along the group's scale: its crossing is where the margin
reaches 0 and stays, linear between the two bracketing points only. The group's scale in
replication r is the largest crossing over its constraints (the **binding** one). A group
whose constraints are met at every point, or one missed at its largest, is **not bracketed**:
the next point (:func:`~.site_sweep.next_point`) widens it to where the line through its two
end points says its furthest replication crosses (that line places the next run; no crossing
is ever read off it), and a group still not bracketed when the rounds run out gives no cost
in that replication. The cost in replication r is the plan's, each group's pay replaced by
its pay at its own scale (linear between the same two points).

Between groups, work flows (escalations from tier 1 feed tier 2; unresolved customers come
back), so a group's curve read at points where the others sit elsewhere is only nearly its
curve at the combined point. The next point therefore puts every bracketed group at its
estimated crossing (the mean over replications, to 0.01): that run is the **check** at the
combined scales, and it becomes a point of every group's curve, the one nearest each
crossing, so the final read-off interpolates next to a point simulated with every group where
it ends. When the estimate then moves by more than its sampling error, one more check runs
(within ``max_rounds``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccsim.experiment.summary import INTERVAL_KEYS
from ccsim.sim.metrics import RATIO_KPIS
from ccsim.study.attainment import core_hours_occupancy

__all__ = [
    "FLOOR_SUM_COLUMNS",
    "Constraint",
    "Group",
    "Point",
    "core_hours_levels",
    "crossing_scale",
    "floor_shares",
    "groups",
    "point_label",
    "point_values",
    "repriced",
    "site_costs",
]

_NUMERATOR, _DENOMINATOR = RATIO_KPIS["service_level"]
#: The interval running sums the interval floors and the core hours' occupancy read.
FLOOR_SUM_COLUMNS = [
    *INTERVAL_KEYS,
    *(f"s_{c}" for c in (*_NUMERATOR, *_DENOMINATOR)),
    "n",
    "s_scheduled_time",
    "s_busy_time",
    "s_staffed_time",
]
_FLOOR_SUMS = [f"s_{c}" for c in (*_NUMERATOR, *_DENOMINATOR)]
_EPS = 1e-12
#: A point of the sweep: each site's scale, sorted by site.
Point = tuple[tuple[str, float], ...]
#: The scales a widening never leaves: a site halved or one and a half times its plan is no
#: longer the plan's operation.
SCALE_LIMITS = (0.5, 1.5)


@dataclass(frozen=True)
class Constraint:
    """One condition of a group: a channel's weekly ``service_level`` or its share of
    intervals at the floor (``interval_floor``) at least ``limit``, or a site's
    ``live_occupancy`` / ``occupancy`` at most ``limit``."""

    kind: str
    name: str
    limit: float

    @property
    def column(self) -> str:
        return f"{self.name}|{self.kind}"

    @property
    def label(self) -> str:
        return self.name if self.kind == "service_level" else f"{self.name} {self.kind}"

    def margin(self, value: np.ndarray) -> np.ndarray:
        """How far ``value`` is on the good side of the limit (negative: violated)."""
        at_least = self.kind in ("service_level", "interval_floor")
        # A share judged as the planner judges it (targets.judge): equal within 1e-12 meets.
        return value - self.limit + _EPS if at_least else self.limit - value


@dataclass(frozen=True)
class Group:
    """Sites scaled by one factor, and the constraints that factor must meet."""

    sites: tuple[str, ...]
    constraints: tuple[Constraint, ...]

    @property
    def name(self) -> str:
        return "+".join(self.sites)


def point_label(point: Point) -> str:
    return ",".join(f"{site}={scale:g}" for site, scale in point)


def _served(scenario) -> dict[str, list[str]]:
    """Per channel with agents, the sites that answer it."""
    served: dict[str, list[str]] = {}
    for site in scenario.sites:
        for name in scenario.channels:
            if site.skills is None or name in site.skills:
                served.setdefault(name, []).append(site.name)
    return served


def _linked(scenario) -> list[tuple[str, ...]]:
    """The sites that share a channel, transitively: union-find over the channels."""
    parent = {site.name: site.name for site in scenario.sites}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for sites in _served(scenario).values():
        for other in sites[1:]:
            parent[root(other)] = root(sites[0])
    members: dict[str, list[str]] = {}
    for site in scenario.sites:
        members.setdefault(root(site.name), []).append(site.name)
    return [tuple(sorted(names)) for names in members.values()]


def groups(
    scenario,
    targets,
    plan_values: pd.DataFrame,
    max_occupancy: float | None,
    max_occupancy_deferred: float | None,
) -> list[Group]:
    """The groups of ``scenario`` with their constraints; ``plan_values`` (the plan's
    :func:`point_values`) gives the plan's own occupancy for the plan's caps."""
    served = _served(scenario)
    found = []
    for sites in _linked(scenario):
        constraints = []
        for name, target in targets.channels.items():
            if set(served.get(name, ())) & set(sites):
                constraints.append(Constraint("service_level", name, target.target))
                constraints.append(Constraint("interval_floor", name, target.interval_share))
        for site in sites:
            # Without a deferred reserve email takes every idle minute, so no staffing
            # meets a cap on occupancy with email: it is judged in targets.csv only.
            reserve = next(s for s in scenario.sites if s.name == site).deferred_reserve > 0
            for kind, cap in (
                ("live_occupancy", max_occupancy),
                ("occupancy", max_occupancy_deferred if reserve else None),
            ):
                column = f"{site}|{kind}"
                if cap is not None and column in plan_values:
                    constraints.append(Constraint(kind, site, cap))
        if constraints:  # a site with no target to meet stays at its plan
            found.append(Group(sites, tuple(constraints)))
    return found


def _whole(rows: pd.DataFrame, site: str) -> pd.DataFrame:
    own = rows[rows.site == site]
    return own[own.channel == "all"] if (own.channel == "all").any() else own


def floor_shares(targets, sums: list[pd.DataFrame]) -> dict[str, float]:
    """Per channel, the share of its intervals with demand whose service level, pooled over
    the replications of one point (``sums``: interval running sums, block by block), is at
    least its floor: the planner's interval judgement (:func:`ccsim.planning.targets.judge`)."""
    every = pd.concat(sums, ignore_index=True)
    every = every[every.site == "all"]
    totals = every.groupby(["channel", "interval"])[_FLOOR_SUMS].sum()
    numerator = totals[[f"s_{c}" for c in _NUMERATOR]].sum(axis=1)
    denominator = totals[[f"s_{c}" for c in _DENOMINATOR]].sum(axis=1)
    shares = {}
    for name, target in targets.channels.items():
        if name not in numerator.index.get_level_values(0):
            continue
        num, den = numerator.loc[name], denominator.loc[name]
        levels = (num[den > 0] / den[den > 0]).to_numpy(float)
        shares[name] = float((levels >= target.floor - _EPS).mean()) if len(levels) else 1.0
    return shares


def core_hours_levels(scenario, sums: list[pd.DataFrame]) -> dict[str, float]:
    """Per site, its occupancy and live occupancy over the customers' core hours, pooled
    over the replications of one point (``sums``, block by block), as ``targets.csv``
    judges them (:func:`~.attainment.core_hours_occupancy`): the peak the caps are about, on
    the customers' clock (a week's mean hides it behind nights and weekends)."""
    levels = {}
    for site in scenario.sites:
        occupancy, live, n_core = core_hours_occupancy(scenario, site.name, sums)
        if n_core:
            levels[f"{site.name}|occupancy"] = occupancy.value
            levels[f"{site.name}|live_occupancy"] = live.value
    return levels


def point_values(
    scenario, rows: pd.DataFrame, shares: dict[str, float], core: dict[str, float] | None = None
) -> pd.DataFrame:
    """Per replication, from one point's rows (every channel and site): each channel's
    service level (``<channel>|service_level``) and its share of intervals at the floor
    (``shares``, one figure for the point: :func:`floor_shares`), each site's occupancy
    and live occupancy (over the week; over the customers' core hours where ``core``, one
    figure for the point, has them: :func:`core_hours_levels`), its pay
    (``<site>|labour_cost``) and the centre's ``operating_cost``."""
    live = [name for name, channel in scenario.channels.items() if channel.kind != "email"]
    one_site = len(scenario.sites) == 1
    whole = _whole(rows, "all").set_index("replication").sort_index()
    table = pd.DataFrame(index=whole.index)
    table["operating_cost"] = whole["operating_cost"]
    every = rows[rows.site == "all"]
    for name in scenario.channels:
        own = every[every.channel == name].set_index("replication")
        if own.empty:
            continue
        numerator = own[list(_NUMERATOR)].sum(axis=1)
        denominator = own[list(_DENOMINATOR)].sum(axis=1)
        # No contact queued: nothing was missed.
        table[f"{name}|service_level"] = (numerator / denominator.replace(0, np.nan)).fillna(1.0)
        if name in shares:
            table[f"{name}|interval_floor"] = shares[name]
    for site in scenario.sites:
        key = "all" if one_site else site.name
        own = _whole(rows, key).set_index("replication")
        if own.empty:
            continue
        staffed = own["staffed_time"].replace(0, np.nan)
        channels = rows[(rows.site == key) & rows.channel.isin(live)]
        live_busy = channels.groupby("replication")["busy_time"].sum()
        table[f"{site.name}|occupancy"] = own["busy_time"] / staffed
        table[f"{site.name}|live_occupancy"] = live_busy.reindex(own.index, fill_value=0) / staffed
        # Over the week, whatever the caps read (the joint sample steps on these).
        table[f"{site.name}|week_occupancy"] = table[f"{site.name}|occupancy"]
        table[f"{site.name}|week_live_occupancy"] = table[f"{site.name}|live_occupancy"]
        table[f"{site.name}|labour_cost"] = own["labour_cost"]
    for column, level in (core or {}).items():
        if column in table:
            table[column] = level
    return table.reset_index()


def repriced(values: pd.DataFrame, site: str, factor: float) -> pd.DataFrame:
    """One point's :func:`point_values` with ``site``'s pay times ``factor`` (a wage's end:
    the service it gives does not move, only its pay and the operating cost)."""
    column = f"{site}|labour_cost"
    extra = values[column] * (factor - 1.0)
    return values.assign(**{column: values[column] + extra}).assign(
        operating_cost=values["operating_cost"] + extra
    )


def crossing_scale(scales: np.ndarray, margins: np.ndarray) -> tuple[float, str]:
    """Where the margins, in increasing scale, reach 0 and stay: linear between the two
    bracketing points, with ``inside``; ``(-inf, "below")`` when met at every point (the
    crossing lies below the sweep), ``(nan, "above")`` when missed at the largest."""
    ok = margins >= 0
    if ok.all():
        return -math.inf, "below"
    if not ok[-1]:
        return math.nan, "above"
    i = int(np.flatnonzero(~ok)[-1]) + 1  # first point of the final run that meets it
    s0, s1, m0, m1 = scales[i - 1], scales[i], margins[i - 1], margins[i]
    weight = -m0 / (m1 - m0) if m1 != m0 else 1.0
    return float(s0 + weight * (s1 - s0)), "inside"


def _curve(points: dict[Point, pd.DataFrame], group: Group, replication: int) -> pd.DataFrame:
    """One replication's values at every point, by the group's scale (points at the same
    scale averaged: a group kept where it was while another widened)."""
    site = group.sites[0]
    frames = []
    for point, values in points.items():
        own = values[values.replication == replication]
        frames.append(own.assign(scale=dict(point)[site]))
    curve = pd.concat(frames, ignore_index=True).drop(columns="replication")
    return curve.groupby("scale", sort=True).mean()


def _aim(scales: np.ndarray, margins: np.ndarray, top: bool) -> float:
    """Where the line through the two lowest (``top``: highest) points reaches a margin of
    0: where the next point should go to bracket a crossing outside the sweep (a design
    choice only: no cost is ever read there). NaN where the line does not rise."""
    if len(scales) < 2:
        return math.nan
    (s0, s1), (m0, m1) = (scales[-2:], margins[-2:]) if top else (scales[:2], margins[:2])
    return float(s0 - m0 * (s1 - s0) / (m1 - m0)) if m1 > m0 else math.nan


def _group_scale(curve: pd.DataFrame, group: Group) -> tuple[float, str, str, float]:
    """(scale, binding constraint's label, status, aim) of one group in one replication:
    the aim is the crossing when bracketed, else where :func:`_aim` puts it."""
    scales = curve.index.to_numpy(float)
    best, binding, statuses, aims = -math.inf, "", [], []
    for constraint in group.constraints:
        if constraint.column not in curve:
            continue
        margins = constraint.margin(curve[constraint.column].to_numpy(float))
        value, status = crossing_scale(scales, margins)
        statuses.append(status)
        if status == "above":
            return math.nan, constraint.label, "above", _aim(scales, margins, True)
        aims.append(_aim(scales, margins, False))
        if value > best:
            best, binding = value, constraint.label
    if not statuses or all(status == "below" for status in statuses):
        known = [aim for aim in aims if math.isfinite(aim)]
        return math.nan, "", "below", max(known, default=math.nan)
    return best, binding, "inside", best


def site_costs(groups_: list[Group], points: dict[Point, pd.DataFrame]) -> pd.DataFrame:
    """Per replication: ``cost`` at every group's own scale (NaN when a group is not
    bracketed), and per group ``scale_<group>``, ``binding_<group>``, ``status_<group>``
    (``inside``, ``below``: met at every point, ``above``: missed at the largest),
    ``aim_<group>`` (where :func:`~.site_sweep.next_point` looks for a crossing outside the
    sweep) and per site ``occupancy_<site>`` and ``live_occupancy_<site>`` at its scale
    (linear between the same two points)."""
    plan = next(values for point, values in points.items() if all(s == 1.0 for _, s in point))
    records = []
    for replication in sorted(plan["replication"].unique()):
        # The plan's cost, each group's pay there replaced by its pay at its own scale.
        own = plan[plan.replication == replication].iloc[0]
        cost = float(own["operating_cost"])
        record: dict = {"replication": int(replication)}
        for group in groups_:
            curve = _curve(points, group, replication)
            scale, binding, status, aim = _group_scale(curve, group)
            pay = curve[[f"{site}|labour_cost" for site in group.sites]].sum(axis=1)
            cost -= sum(float(own[f"{site}|labour_cost"]) for site in group.sites)
            cost += float(np.interp(scale, pay.index.to_numpy(float), pay.to_numpy(float)))
            record |= {f"scale_{group.name}": scale, f"binding_{group.name}": binding}
            record |= {f"status_{group.name}": status, f"aim_{group.name}": aim}
            for site in group.sites:  # to see the caps held: occupancy where the site ends
                for kind in ("occupancy", "live_occupancy"):
                    if f"{site}|{kind}" in curve:
                        level = curve[f"{site}|{kind}"].to_numpy(float)
                        record[f"{kind}_{site}"] = float(np.interp(scale, curve.index, level))
        records.append(record | {"cost": cost})
    return pd.DataFrame(records)
