"""Each model's cost at equal service over the joint sample of the uncertain inputs.

At each point of the design (:mod:`.uncertainty_design`) a model's cost at equal service is
found without sweeping its frontier again:

1. **Base** (:func:`base_points`, from the study's frontier): the model's mean cost at equal
   service C*, the scale s* of its staffing where its mean cost is C* (between the
   frontier's scales), each channel's slope of cost against service level there (the
   frontier's two scales around s*), and each site's pay at equal service (the frontier
   repriced with that site's wage doubled and read at the targets again: exact).
2. **The point** (:func:`point_jobs`): the inputs that are not wages are set, the model is
   **re-planned** (:func:`~ccsim.study.sensitivity.replanned`: each site's headcounts times
   the ratio of the Erlang A requirement at the point to that at base), scaled by s*, and
   simulated ``replications`` times; point i of every model on seed child i (common random
   numbers: the probability of being cheapest is paired).
3. **To equal service** (:func:`point_cost`): the simulated cost plus, for the channel that
   needs most, its slope times (target - its service level): a first-order step along the
   base frontier to the targets. Each site's pay moves pro rata. With a per-site frontier,
   each group of sites instead holds the constraint that binds it at base
   (:mod:`.uncertainty_holds`).
4. **Wages** are repriced: each site's pay at equal service times (wage at the point / base
   wage - 1) is added. A model that no other input moves is not simulated: its cost is C*
   repriced, exactly.

A model given fewer ``simulated_points`` is simulated on a Latin hypercube of its own of
that size, and its cost before wages at the design's points is the least-squares plane
through them (:func:`emulate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ccsim.model import ConfigError
from ccsim.model.overrides import apply_overrides
from ccsim.model.workforce import steady_state
from ccsim.planning.frontier import scaled_scenario
from ccsim.planning.pools import pool_requirements, replanning_factors
from ccsim.planning.targets import Targets
from ccsim.sim.metrics import RATIO_KPIS
from ccsim.study.equal_service import repriced_sweep
from ccsim.study.uncertainty_analysis import linear_fit
from ccsim.study.uncertainty_design import design, point_values, wage_sites
from ccsim.study.uncertainty_holds import Hold, held_step, site_holds

__all__ = [
    "Base",
    "PointJob",
    "base_points",
    "emulate",
    "point_cost",
    "point_jobs",
    "point_costs",
]

_NUMERATOR, _DENOMINATOR = RATIO_KPIS["service_level"]


@dataclass(frozen=True)
class Base:
    """A model at base, from the frontier: cost at equal service, its scale, the slope of
    cost against each channel's service level there, each site's pay at equal service."""

    cost: float
    scale: float
    slopes: dict[str, float]
    site_labour: dict[str, float]
    #: With a per-site frontier: each site's own scale at equal service (``scale``: their
    #: mean, for the manifest); a point is staffed at these, not at one factor.
    site_scales: dict[str, float] = field(default_factory=dict)
    #: With a per-site frontier: each group's binding constraint, held at its base value
    #: (:mod:`.uncertainty_holds`) instead of stepping each channel to its target.
    holds: tuple[Hold, ...] = ()

    def staffed(self, variant, factors: dict[str, float]):
        """``variant`` staffed as this base is at equal service, each site's re-planning
        ``factors`` on top."""
        if not self.site_scales:
            return scaled_scenario(variant, self.scale, factors)
        sites = {s.name for s in variant.sites}
        return scaled_scenario(
            variant, 1.0, {s: self.site_scales.get(s, 1.0) * factors.get(s, 1.0) for s in sites}
        )


def _whole(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows[rows.site == "all"]
    return rows[rows.channel == "all"] if (rows.channel == "all").any() else rows


def _levels(rows: pd.DataFrame) -> dict[str, float]:
    """Each channel's service level over ``rows`` (whole-site rows), a ratio of totals."""
    rows = rows[rows.site == "all"]
    levels = {}
    for channel, own in rows.groupby("channel"):
        den = float(own[list(_DENOMINATOR)].to_numpy().sum())
        num = float(own[list(_NUMERATOR)].to_numpy().sum())
        levels[str(channel)] = num / den if den else math.nan
    return levels


def _equal_service_cost(targets: Targets, by_scale: dict[float, pd.DataFrame]) -> float:
    """The mean over replications of the study's cost at equal service (the adapter to
    :mod:`.equal_service`: the one place this module reads it)."""
    from ccsim.study.equal_service import model_costs

    return float(model_costs(targets, by_scale)["cost"].mean())


def base_points(experiment, sweep) -> dict[str, Base]:
    """:class:`Base` of every model, from the study's frontier ``sweep``."""
    scales = list(experiment.spec.frontier.scales)
    bases = {}
    for name, scenario in experiment.scenarios.items():
        targets = Targets.of(scenario)
        by_scale = {s: sweep.rows[(name, s)] for s in scales}
        cost = _equal_service_cost(targets, by_scale)
        means = np.array([_whole(by_scale[s])["operating_cost"].mean() for s in scales])
        i = int(np.clip(np.searchsorted(means, cost), 1, len(scales) - 1))
        lo, hi = i - 1, i
        per_cost = (scales[hi] - scales[lo]) / (means[hi] - means[lo])
        scale = scales[lo] + (cost - means[lo]) * per_cost
        below, above = _levels(by_scale[scales[lo]]), _levels(by_scale[scales[hi]])
        slopes = {}
        for channel in targets.channels:
            step = above.get(channel, math.nan) - below.get(channel, math.nan)
            if math.isfinite(step) and step > 1e-3:  # a flat channel (email at 100%) never binds
                slopes[channel] = float((means[hi] - means[lo]) / step)
        labour = {}
        for site in (s.name for s in scenario.sites):
            doubled = {
                s: repriced_sweep(by_scale[s], sweep.labour[(name, s)], site, 2.0) for s in scales
            }
            labour[site] = _equal_service_cost(targets, doubled) - cost
        bases[name] = Base(cost, float(max(scale, 0.05)), slopes, labour)
    if sweep.groups:  # each site at its own scale: the study's cost at equal service
        bases = {name: _per_site(experiment, sweep, name, bases[name]) for name in bases}
    return bases


def _per_site(experiment, sweep, name: str, single: Base) -> Base:
    """:class:`Base` of a model whose sites the frontier scaled one by one: the study's own
    cost at equal service (the mean over the replications that have one), each site's
    scale there and its pay (the plan's, times that scale); the slopes stay those between
    the sweep's scales, all sites moved together."""
    from ccsim.study.site_sweep import per_site_costs

    costs = per_site_costs(experiment, sweep)
    own = costs[(costs.scenario == name) & costs.cost.notna()]
    if own.empty:  # no replication bracketed: the single-factor reading stands
        return single
    scales = {}
    for group in sweep.groups[name]:
        for site in group.sites:
            scales[site] = float(own[f"scale_{group.name}"].mean())
    # Each site's own pay at the plan: the sweep's rows are the whole centre's (a site
    # looked up there got the centre's pay, and each wage moved all of it).
    pay = _site_pay(sweep.labour[(name, 1.0)].assign(channel="all"), single)
    labour = {site: value * scales.get(site, 1.0) for site, value in pay.items()}
    mean_scale = float(np.mean(list(scales.values()))) if scales else single.scale
    holds = tuple(site_holds(sweep.groups[name], sweep.points[name], own))
    return Base(float(own.cost.mean()), mean_scale, single.slopes, labour, scales, holds)


@dataclass(frozen=True)
class PointJob:
    """One model at one point, to simulate: its ``scenario`` (re-planned, at s*), the seed
    children ``first .. first + replications - 1``; ``emulated``: a point of the model's
    own smaller design."""

    model: str
    point: int
    scenario: object
    first: int
    replications: int
    emulated: bool

    @property
    def key(self) -> tuple[str, str, int, bool]:
        return "uncertainty", self.model, self.point, self.emulated

    def fingerprint(self, experiment) -> str:
        return experiment.fingerprint_of(self.model, self.scenario, "uncertainty")


def _replanned(base_requirement: dict, scenario, variant) -> dict[str, float]:
    """:func:`~ccsim.planning.pools.replanning_factors` with the base's requirement
    computed once (both at their sites' tenure mix: an attrition drawn moves the plan)."""
    return replanning_factors(steady_state(scenario), steady_state(variant), base_requirement)


def model_design(experiment, model: str) -> tuple[np.ndarray, bool]:
    """The positions at which ``model`` is simulated, and whether they are its own smaller
    design (emulated at the experiment's points)."""
    spec = experiment.spec.uncertainty
    k = spec.simulated_points.get(model, spec.points)
    if k == spec.points:
        return design(spec, experiment.spec.seed), False
    return design(spec, experiment.spec.seed, k, key=k), True


def simulated(experiment, applicable, model: str) -> bool:
    """Whether an input that is not a repriced wage moves ``model``."""
    spec = experiment.spec.uncertainty
    scenario = experiment.scenarios[model]
    values = point_values(spec, np.full(len(spec.inputs), 0.5), applicable.paths[model])
    return bool(wage_sites(scenario, values)[1])


def check_points(experiment, applicable) -> None:
    """Every point of the joint sample applied to every model it moves, before anything
    runs: each input's ends may be valid alone and a combination not (a bot's containment
    at its high end with false containment at its own: more than every contact)."""
    spec = experiment.spec.uncertainty
    for model, scenario in experiment.scenarios.items():
        if not simulated(experiment, applicable, model):
            continue
        positions, _ = model_design(experiment, model)
        for i, row in enumerate(positions):
            _, changes = wage_sites(scenario, point_values(spec, row, applicable.paths[model]))
            try:
                apply_overrides(scenario, changes, experiment.source)
            except ConfigError as exc:
                why = (
                    f"point {i} in model {model!r}: {exc.path}: {exc.message}; narrow the "
                    "ranges so that every combination is valid"
                )
                raise ConfigError(experiment.source, "uncertainty.inputs", why) from None


def point_jobs(experiment, applicable, bases: dict[str, Base]) -> list[PointJob]:
    """What the joint sample simulates: every point of every model that an input other
    than a wage moves."""
    spec = experiment.spec.uncertainty
    n = spec.replications
    jobs = []
    for model, scenario in experiment.scenarios.items():
        if not simulated(experiment, applicable, model):
            continue
        positions, emulated = model_design(experiment, model)
        requirement = pool_requirements(steady_state(scenario), Targets.of(scenario))
        for i, row in enumerate(positions):
            values = point_values(spec, row, applicable.paths[model])
            _, changes = wage_sites(scenario, values)
            variant = apply_overrides(scenario, changes, experiment.source)
            factors = _replanned(requirement, scenario, variant)
            staffed = bases[model].staffed(variant, factors)
            jobs.append(PointJob(model, i, staffed, i * n, n, emulated))
    return jobs


def point_cost(base: Base, targets: Targets, rows: pd.DataFrame, scenario=None):
    """One point's cost at equal service before wages from its simulated ``rows`` (module
    docstring, step 3), each site's pay there, and the binding channel ("" when none);
    with the base's holds (a per-site frontier), each group's binding constraint held."""
    whole = _whole(rows)
    cost = float(whole["operating_cost"].mean())
    if base.holds and scenario is not None:
        pay = _site_pay(rows, base)
        factors, labels = held_step(list(base.holds), scenario, rows)
        held = {site: value * factors.get(site, 1.0) for site, value in pay.items()}
        return cost + sum(held.values()) - sum(pay.values()), held, labels
    levels = _levels(rows)
    step, binding = -math.inf, ""
    for channel, slope in base.slopes.items():
        level = levels.get(channel, math.nan)
        if math.isfinite(level) and slope * (targets.channels[channel].target - level) > step:
            step, binding = slope * (targets.channels[channel].target - level), channel
    step = step if math.isfinite(step) else 0.0
    pay = _site_pay(rows, base)
    total = sum(pay.values())
    share = 1 + step / total if total > 0 else 1.0
    return cost + step, {site: value * share for site, value in pay.items()}, binding


def _site_pay(rows: pd.DataFrame, base: Base) -> dict[str, float]:
    """Each site's mean pay over ``rows`` (one site: its pay is the whole)."""
    total = rows[rows.channel == "all"] if (rows.channel == "all").any() else rows
    pay = {}
    for site in base.site_labour:
        own = total[total.site == site]
        if own.empty:
            own = total[total.site == "all"]
        pay[site] = float(own.groupby("replication")["labour_cost"].sum().mean())
    return pay


def _moving_inputs(experiment, applicable, model: str) -> list[int]:
    """The columns of the design that move ``model`` other than by a repriced wage: what
    its fitted plane is over (a plane over every input, from fewer points than inputs,
    would fit noise)."""
    spec = experiment.spec.uncertainty
    scenario = experiment.scenarios[model]
    columns = []
    for j, name in enumerate(spec.inputs):
        paths = {name: applicable.paths[model].get(name, [])}
        values = point_values(spec, np.full(len(spec.inputs), 0.5), paths)
        if wage_sites(scenario, values)[1]:
            columns.append(j)
    return columns


def emulate(positions: np.ndarray, costs: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The least-squares plane of ``costs`` over ``positions`` (points x inputs), at ``at``."""
    known = ~np.isnan(costs)
    intercept, beta = linear_fit(positions[known], costs[known])
    return intercept + at @ beta


def point_costs(experiment, applicable, bases, simulated_rows) -> pd.DataFrame:
    """``uncertainty_points.csv``: per point and model, the cost at equal service (and
    before wages), the binding channel and whether the point was emulated; from the
    ``simulated_rows`` of :func:`point_jobs` by :attr:`PointJob.key`."""
    spec = experiment.spec.uncertainty
    positions = design(spec, experiment.spec.seed)
    records = []
    for model, scenario in experiment.scenarios.items():
        base, targets = bases[model], Targets.of(scenario)
        own, emulated = model_design(experiment, model)
        before = np.full(len(own), base.cost)
        pay = [dict(base.site_labour) for _ in own]
        binding = [""] * len(own)
        if simulated(experiment, applicable, model):
            for i in range(len(own)):
                rows = simulated_rows[("uncertainty", model, i, emulated)]
                before[i], pay[i], binding[i] = point_cost(base, targets, rows, scenario)
        if emulated:  # pay pro rata to the fitted cost
            moved = _moving_inputs(experiment, applicable, model)
            before = emulate(own[:, moved], before, positions[:, moved])
            pay = [{s: v * c / base.cost for s, v in base.site_labour.items()} for c in before]
            binding = [""] * len(positions)
        for i, row in enumerate(positions):
            wages, _ = wage_sites(scenario, point_values(spec, row, applicable.paths[model]))
            repriced = sum(pay[i].get(site, 0.0) * (f - 1.0) for site, f in wages.items())
            records.append(
                {
                    "point": i,
                    "model": model,
                    "cost_before_wages": float(before[i]),
                    "cost": float(before[i] + repriced),
                    "binding_channel": binding[i],
                    "emulated": emulated,
                }
            )
    table = pd.DataFrame(records)
    wide = table.pivot(index="point", columns="model", values="cost")
    table["difference"] = table["cost"] - table["point"].map(wide[experiment.baseline])
    for j, name in enumerate(spec.inputs):
        table[name] = table["point"].map(dict(enumerate(positions[:, j])))
    return table
