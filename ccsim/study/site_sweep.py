"""The rounds of a per-site sweep and its costs per replication: the runner's side of
:mod:`.site_scales` for :mod:`.equal_service` (``frontier: {per_site: true}``).

After the frontier's scales, every model gets, round by round, the next point of
:func:`~.site_scales.next_point` (its groups widened or at their estimated crossings), all
models of a round in one batch on the experiment's workers, saved like any block, until no
model asks for another or ``max_rounds`` have run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pandas as pd

from ccsim.experiment.stats import mean_ci
from ccsim.planning.frontier import scaled_scenario
from ccsim.planning.targets import Targets
from ccsim.study.site_scales import (
    FLOOR_SUM_COLUMNS,
    Point,
    floor_shares,
    groups,
    next_point,
    point_label,
    point_values,
    site_costs,
)

__all__ = ["model_site_costs", "per_site_costs", "per_site_sweep", "site_columns"]


def _diagonal(scenario, scale: float) -> Point:
    return tuple(sorted((site.name, float(scale)) for site in scenario.sites))


def _staffing(scenario) -> str:
    """The sites' headcounts, to tell two points that round to the same agents."""
    return "".join(site.model_dump_json() for site in scenario.sites)


def per_site_sweep(experiment, sweep, every: dict, sums: dict, simulate: Callable, columns) -> None:
    """Fill ``sweep.groups`` and ``sweep.points``: the scales' points, then rounds of
    :func:`~.site_scales.next_point` for every model at once (one batch a round) until no
    model asks for another or ``max_rounds`` have run."""
    spec = experiment.spec.frontier
    for name, scenario in experiment.scenarios.items():
        targets = Targets.of(scenario)
        sweep.points[name] = {
            _diagonal(scenario, scale): point_values(
                scenario, every[(name, scale)], floor_shares(targets, sums[(name, scale)])
            )
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
            scenario = experiment.scenarios[name]
            shares = floor_shares(Targets.of(scenario), new_sums[(name, point)])
            rows = pd.concat(frames, ignore_index=True)
            sweep.points[name][point] = point_values(scenario, rows, shares)


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
    for column in [c for c in group if c.startswith("occupancy_")]:
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
