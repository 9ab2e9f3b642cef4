"""The rounds of a per-site sweep and its costs per replication: the runner's side of
:mod:`.site_scales` for :mod:`.equal_service` (``frontier: {per_site: true}``).

After the frontier's scales, every model gets, round by round, the next point of
:func:`next_point` (its groups widened or at their estimated crossings), all
models of a round in one batch on the experiment's workers, saved like any block, until no
model asks for another or ``max_rounds`` have run.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from ccsim.experiment.stats import mean_ci
from ccsim.planning.frontier import scaled_scenario
from ccsim.planning.targets import Targets
from ccsim.study.site_scales import (
    FLOOR_SUM_COLUMNS,
    SCALE_LIMITS,
    Group,
    Point,
    core_hours_levels,
    floor_shares,
    groups,
    point_label,
    point_values,
    site_costs,
)

__all__ = ["model_site_costs", "next_point", "per_site_costs", "per_site_sweep", "site_columns"]


def _diagonal(scenario, scale: float) -> Point:
    return tuple(sorted((site.name, float(scale)) for site in scenario.sites))


def _staffing(scenario) -> str:
    """The sites' headcounts, to tell two points that round to the same agents."""
    return "".join(site.model_dump_json() for site in scenario.sites)


def per_site_sweep(experiment, sweep, every: dict, sums: dict, simulate: Callable, columns) -> None:
    """Fill ``sweep.groups`` and ``sweep.points``: the scales' points, then rounds of
    :func:`next_point` for every model at once (one batch a round) until no
    model asks for another or ``max_rounds`` have run."""
    spec = experiment.spec.frontier
    for name, scenario in experiment.scenarios.items():
        targets = Targets.of(scenario)
        sweep.points[name] = {
            _diagonal(scenario, scale): _values(scenario, every[(name, scale)], sums[(name, scale)])
            for scale in spec.scales
        }
        plan = sweep.points[name][_diagonal(scenario, 1.0)]
        sweep.groups[name] = groups(
            scenario,
            targets,
            plan,
            spec.max_occupancy,
            spec.max_occupancy_deferred,
        )
    staffed = {
        name: {_staffing(scaled_scenario(scenario, 1.0, dict(point))) for point in points}
        for name, points in sweep.points.items()
    }
    for number in range(1, spec.max_rounds + 1):
        jobs = []
        for name, scenario in experiment.scenarios.items():
            tried = list(sweep.points[name])
            costs = site_costs(sweep.groups[name], sweep.points[name])
            point = next_point(sweep.groups[name], costs, tried, spec.step)
            if point is None:
                continue
            scaled = scaled_scenario(scenario, 1.0, dict(point))
            if _staffing(scaled) in staffed[name]:  # whole agents: run already
                point = next_point(sweep.groups[name], costs, tried, spec.step, bisect=True)
                scaled = scaled_scenario(scenario, 1.0, dict(point)) if point else scaled
                if point is None or _staffing(scaled) in staffed[name]:
                    continue
            staffed[name].add(_staffing(scaled))
            label = point_label(point)
            fingerprint = experiment.fingerprint_of(name, scaled, "frontier", label)
            sweep.fingerprints.add(fingerprint)
            jobs.append(((name, point), fingerprint, name, scaled, spec.replications))
        if not jobs:
            break
        new, new_sums = simulate(jobs, f"sites {number} ", columns, FLOOR_SUM_COLUMNS)
        for (name, point), frames in new.items():
            rows = pd.concat(frames, ignore_index=True)
            sweep.points[name][point] = _values(
                experiment.scenarios[name], rows, new_sums[(name, point)]
            )


def _values(scenario, rows: pd.DataFrame, sums: list[pd.DataFrame]) -> pd.DataFrame:
    """One point's :func:`~.site_scales.point_values`, its floors and core hours' occupancy
    read from its interval sums."""
    shares = floor_shares(Targets.of(scenario), sums)
    return point_values(scenario, rows, shares, core_hours_levels(scenario, sums))


def model_site_costs(scenario, targets: Targets, points: dict[Point, pd.DataFrame], spec):
    """One model's cost at equal service per replication from the values at each point of
    its sweep (``points``: :func:`~.site_scales.point_values` by point, the plan's among
    them; ``spec``: the frontier's, for its caps): :func:`~.site_scales.site_costs` over
    its groups (``replication``, ``cost``, per group ``scale_``, ``binding_``, ``status_``)."""
    plan = next(values for point, values in points.items() if all(s == 1.0 for _, s in point))
    found = groups(scenario, targets, plan, spec.max_occupancy, spec.max_occupancy_deferred)
    return site_costs(found, points)


def per_site_costs(experiment, sweep) -> pd.DataFrame:
    """Per model and replication: :func:`~.site_scales.site_costs` along its sweep, with
    ``binding_channel`` (each group's binding constraint), ``unbracketed`` (some group not
    bracketed: no cost) and ``extrapolated`` (never, here)."""
    frames = []
    for name in experiment.scenarios:
        own = site_costs(sweep.groups[name], sweep.points[name])
        found = sweep.groups[name]
        own["binding_channel"] = [
            "; ".join(f"{g.name}: {row[f'binding_{g.name}'] or '-'}" for g in found)
            for _, row in own.iterrows()
        ]
        statuses = own[[f"status_{g.name}" for g in found]]
        own["unbracketed"] = (statuses != "inside").any(axis=1)
        frames.append(own.assign(scenario=name, extrapolated=False))
    costs = pd.concat(frames, ignore_index=True)
    first = ["scenario", "replication", "cost", "binding_channel", "extrapolated", "unbracketed"]
    return costs[first + [c for c in costs if c not in first]]


def site_columns(group: pd.DataFrame, level: float) -> dict:
    """Per group of sites: its mean scale with a t interval, the constraint that binds it in
    most replications, and how many replications left it not bracketed; per site, its mean
    occupancy (deferred work included) at its scale."""
    record: dict = {"unbracketed": int(group["unbracketed"].sum())}
    for column in [c for c in group if c.startswith(("occupancy_", "live_occupancy_"))]:
        if group[column].notna().any():  # NaN: another model's site
            record[column] = float(group[column].mean())
    for column in [c for c in group if c.startswith("scale_")]:
        site = column.removeprefix("scale_")
        if group[f"status_{site}"].isna().all():
            continue  # another model's group
        estimate = mean_ci(group[column].to_numpy(float), level)
        bindings = Counter(group[f"binding_{site}"].dropna())
        record |= {
            column: estimate.value,
            f"{column}_low": estimate.low,
            f"{column}_high": estimate.high,
            f"binding_{site}": bindings.most_common(1)[0][0] if bindings else "",
            f"unbracketed_{site}": int((group[f"status_{site}"] != "inside").sum()),
        }
    return record


def _widen(seen: list[float], aims: pd.Series, top: bool, step: float) -> float:
    """The next scale of a group not bracketed: past the furthest aim of its replications
    by 0.01 (``top``: up), at least 0.01 and at most two steps beyond the sweep's end
    (``step`` where no aim is known), within :data:`SCALE_LIMITS`, to 0.01. Two steps at
    most: the curves bend (a service level saturates), and a line read across a wide
    bracket would misplace the crossing."""
    known = aims[np.isfinite(aims)]
    if top:
        aim = known.max() + 0.01 if len(known) else seen[-1] + step
        scale = math.ceil(100 * min(max(aim, seen[-1] + 0.01), seen[-1] + 2 * step) - 1e-6) / 100
        return min(scale, SCALE_LIMITS[1])
    aim = known.min() - 0.01 if len(known) else seen[0] - step
    scale = math.floor(100 * max(min(aim, seen[0] - 0.01), seen[0] - 2 * step) + 1e-6) / 100
    return max(scale, SCALE_LIMITS[0])


def next_point(
    groups_: list[Group],
    costs: pd.DataFrame,
    tried: list[Point],
    step: float,
    bisect: bool = False,
) -> Point | None:
    """The next point of a model's sweep, or None when it is done. A group not bracketed in
    some replication goes beyond its widest scale that way, to where the line through its
    two end points says the furthest replication crosses (:func:`_widen`); every other
    group to its estimated crossing, the mean over replications to 0.01 (the check at the
    combined scales). None when nothing is left to widen and some point run already has
    every group within the estimate's sampling error (the half-width of its 95% t
    interval, at least 0.01) of its estimate, or when the sweep cannot widen further.
    With ``bisect`` (the estimate's point staffs the sites as a point run already: whole
    agents), each bracketed group goes to the middle of the two scales run that bracket
    its estimate instead, so that the bracket shrinks where one end would stay put."""
    scales: dict[str, float] = {}
    widened, tolerance = False, {}
    for group in groups_:
        status = costs[f"status_{group.name}"]
        seen = sorted({dict(point)[group.sites[0]] for point in tried})
        aims = costs.loc[status == "above", f"aim_{group.name}"]
        scale = _widen(seen, aims, True, step) if len(aims) else math.nan
        if not len(aims) and (status == "below").any():
            scale = _widen(seen, costs.loc[status == "below", f"aim_{group.name}"], False, step)
        if math.isfinite(scale) and scale not in seen:
            widened = True
        else:
            known = costs[f"scale_{group.name}"].dropna().to_numpy(float)
            scale, half = seen[-1], 0.0
            if len(known):
                estimate = mean_ci(known, 0.95)
                scale, half = round(estimate.value, 2), (estimate.high - estimate.low) / 2
                below = [x for x in seen if x < estimate.value]
                above = [x for x in seen if x >= estimate.value]
                if bisect and below and above:
                    scale = round((below[-1] + above[0]) / 2, 2)
            tolerance |= dict.fromkeys(group.sites, max(0.01, half if math.isfinite(half) else 0))
        scales |= dict.fromkeys(group.sites, scale)
    point = tuple(sorted(scales.items()))
    near = any(
        all(
            abs(scale - dict(other).get(site, math.inf)) < tolerance.get(site, 0.01)
            for site, scale in point
        )
        for other in tried
    )
    return None if point in tried or (near and not (widened or bisect)) else point
