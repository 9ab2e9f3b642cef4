"""Total cost over a horizon (``total_cost.csv``): per model, the annual cost built from its
week at equal service, the cost of replacing leavers and its fixed costs, the one-off cost
of moving to it, and the net present value of both over the experiment's horizon, with
ranges over the joint sample of the uncertain inputs. See docs/metrics.md, "Total cost over
a horizon".

Nothing here simulates: the week at equal service is the study's (its frontier, and at each
point of the joint sample ``uncertainty_points.csv``), and every other item is priced from
the scenario's ``workforce``, ``transition`` and ``fixed_costs`` blocks
(:mod:`ccsim.model.workforce`, :mod:`ccsim.model.transition`), with the inputs of
``total_cost.uncertain`` repriced at each draw of a Latin hypercube of their own, one row
for each point of the joint sample (side by side, the two hypercubes are one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccsim.files import write_csv
from ccsim.model.transition import FixedCost, fixed_cost_per_year, transition_cost
from ccsim.model.workforce import WEEKS_PER_YEAR, paid_hours_per_week, tenure_multipliers
from ccsim.study.total_cost_spec import REPRICED, check_total_cost, transition_with
from ccsim.study.uncertainty_design import UncertaintySpec, design

__all__ = [
    "TOTAL_COST_COLUMNS",
    "Week",
    "annual_items",
    "check_total_cost",
    "npv",
    "one_off_items",
    "satisfaction",
    "total_cost_table",
    "write_total_cost",
]

#: The total cost's hypercube under the experiment's seed: a key no model's design uses
#: (those are keyed by their size, at most 10,000).
TOTAL_COST_KEY = 2**20 + 1
_WEEK = 7 * 86400.0
TOTAL_COST_COLUMNS = [
    "model", "currency", "horizon_years", "discount_rate", "weekly_cost",
    "annual_operating_cost", "replacement_cost", "fixed_cost", "annual_cost",
    "dual_running", "knowledge_transfer", "severance", "ramp", "transition_cost", "npv",
    "npv_low", "npv_high", "npv_difference", "npv_difference_low", "npv_difference_high",
    "annual_cost_p05", "annual_cost_p50",
    "annual_cost_p95", "npv_p05", "npv_p50", "npv_p95", "npv_difference_p05",
    "npv_difference_p50", "npv_difference_p95", "p_lowest_npv", "points",
    "resolved_per_year", "cost_per_resolved_contact", "csat", "csat_low", "csat_high",
    "cost_per_satisfied_resolved_contact",
]  # fmt: skip


#: A site's wage in the joint sample: training pay at a point is paid at the point's wage.
_WAGE = re.compile(r"sites\.[^.]+\.cost_per_hour")


@dataclass(frozen=True)
class Week:
    """A model's week at equal service: its cost, each site's pay and paid FTE there."""

    cost: float
    pay: dict[str, float]
    fte: dict[str, float]


def _site_value(values: Mapping[str, float], site: str, field: str, base: float) -> float:
    return float(values.get(f"sites.{site}.workforce.{field}", base))


def annual_items(
    scenario, week: Week, values: Mapping[str, float], repriced: Mapping[str, float]
) -> dict[str, float]:
    """The cost of a year: the week at equal service times :data:`WEEKS_PER_YEAR`
    (``annual_operating_cost``), leavers replaced (``replacement_cost``: attrition x paid
    FTE x (cost per hire + training weeks x FTE hours x wage)) and ``fixed_cost``; ``values``
    set paths (a point's draws), and an attrition in ``repriced`` (not simulated at the
    point) moves the learning curve's handle time to first order: each site's pay in
    proportion to its tenure-mix multiplier."""
    operating = week.cost * WEEKS_PER_YEAR
    replacement = 0.0
    for site in scenario.sites:
        force = site.workforce
        if force is None or site.contract is not None:
            continue  # a vendor's hiring and training are in what its contract bills
        attrition = _site_value(values, site.name, "attrition", force.attrition)
        per_leaver = _site_value(values, site.name, "cost_per_hire", force.cost_per_hire)
        weeks = _site_value(values, site.name, "training_weeks", force.training_weeks)
        wage = float(values.get(f"sites.{site.name}.cost_per_hour", site.cost_per_hour))
        per_leaver += weeks * force.fte_hours * wage  # the point's wage where it was drawn
        replacement += attrition * week.fte.get(site.name, 0.0) * per_leaver
        path = f"sites.{site.name}.workforce.attrition"
        if path in repriced and force.learning:
            moved = tenure_multipliers(repriced[path], force.learning)[0]
            at_base = tenure_multipliers(force.attrition, force.learning)[0]
            operating += week.pay.get(site.name, 0.0) * WEEKS_PER_YEAR * (moved / at_base - 1)
    fixed = fixed_cost_per_year(
        {
            name: FixedCost(amount=values.get(f"fixed_costs.{name}.amount", c.amount), per=c.per)
            for name, c in scenario.fixed_costs.items()
        }
    )
    return {
        "annual_operating_cost": operating,
        "replacement_cost": replacement,
        "fixed_cost": fixed,
        "annual_cost": operating + replacement + fixed,
    }


def one_off_items(
    scenario, week: Week, outgoing_weekly: float, values: Mapping[str, float]
) -> dict[str, float]:
    """The transition's one-off items (:func:`~ccsim.model.transition.transition_cost`),
    ``values`` setting its paths, and their sum (``transition_cost``)."""
    transition = scenario.transition
    if transition is not None and values:
        transition = transition_with(transition, values)
    items = transition_cost(transition, outgoing_weekly, week.pay)
    return {**items, "transition_cost": sum(items.values())}


def npv(one_off: float, annual: float, years: float, rate: float) -> float:
    """Net present value: ``one_off`` at time 0, and each year's cost at its end, year k
    discounted by (1 + rate)^k; a last part year costs its share of a year."""
    total, k = one_off, 1
    while k - 1 < years - 1e-12:
        total += annual * min(1.0, years - (k - 1)) / (1 + rate) ** k
        k += 1
    return total


def satisfaction(summary: pd.DataFrame | None, model: str) -> tuple[float, float, float] | None:
    """The hook for customer satisfaction: the model's ``csat`` over all channels (its
    estimate and 95% interval in ``summary.csv``), or None where the run has no such KPI."""
    row = _whole_row(summary, model, "csat")
    if row is None or not math.isfinite(float(row["estimate"])):
        return None
    return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


def satisfied_when_resolved(summary, model: str, scenario, csat) -> float:
    """The share satisfied among the resolved customers: CSAT counts every journey, and one
    never resolved scores ``sigmoid(base - unresolved)`` whatever happened in it
    (:mod:`ccsim.sim.satisfaction`), so with R resolved, P(satisfied | resolved) =
    (csat - (1 - R) sigmoid(base - unresolved)) / R; NaN without CSAT."""
    rate = _whole_row(summary, model, "resolution_rate")
    if not csat or rate is None or not float(rate["estimate"]) > 0:
        return math.nan
    resolved = float(rate["estimate"])
    config = scenario.satisfaction
    never = 1.0 / (1.0 + math.exp(config.unresolved - config.base))
    return (csat[0] - (1.0 - resolved) * never) / resolved


def _whole_row(summary: pd.DataFrame | None, model: str, kpi: str):
    """The summary's row of ``kpi`` for the whole of ``model`` (channel ``all``, or its one
    channel), or None."""
    if summary is None or "kpi" not in summary:
        return None
    own = summary[(summary.scenario == model) & (summary.kpi == kpi) & (summary.site == "all")]
    if (own.channel == "all").any():
        own = own[own.channel == "all"]
    return own.iloc[0] if len(own) == 1 else None


def _resolved_per_week(summary: pd.DataFrame | None, model: str, factor: float) -> float:
    """Resolutions a week at the plan: its cost over its cost per resolved contact (the
    customers are the same at equal service; only abandonment moves with the staffing)."""
    cost = _whole_row(summary, model, "operating_cost")
    per = _whole_row(summary, model, "cost_per_resolved_contact")
    if cost is None or per is None or not float(per["estimate"]) > 0:
        return math.nan
    return float(cost["estimate"]) / float(per["estimate"]) * factor


def _weeks(experiment, bases) -> dict[str, Week]:
    """Each model's :class:`Week` from the study's bases (:func:`~.uncertainty.base_points`):
    cost and pay over the counted window brought to 7 days, FTE from the schedule's paid
    hours times the site's scale at equal service."""
    weeks = {}
    for name, scenario in experiment.scenarios.items():
        base = bases[name]
        factor = _WEEK / (scenario.horizon - scenario.warmup)
        fte = {}
        for site in scenario.sites:
            if site.workforce is not None:
                scale = base.site_scales.get(site.name, base.scale)
                fte[site.name] = paid_hours_per_week(site) * scale / site.workforce.fte_hours
        pay = {s: v * factor for s, v in base.site_labour.items()}
        weeks[name] = Week(base.cost * factor, pay, fte)
    return weeks


def _draws(experiment, points: pd.DataFrame | None) -> tuple[int, list[dict], list[dict]]:
    """(n, each point's repriced values, each point's simulated values of repriced paths)."""
    spec, seed = experiment.spec.total_cost, experiment.spec.seed
    joint = experiment.spec.uncertainty
    n = joint.points if joint is not None and points is not None else spec.points
    repriced: list[dict] = [{} for _ in range(n)]
    if spec.uncertain:
        own = UncertaintySpec(points=n, inputs=spec.uncertain)
        positions = design(own, seed, n, key=TOTAL_COST_KEY)
        for i in range(n):
            for j, (name, spec_input) in enumerate(spec.uncertain.items()):
                for path, (lo, hi) in spec_input.ranges(name).items():
                    repriced[i][path] = lo + positions[i, j] * (hi - lo)
    held: list[dict] = [{} for _ in range(n)]
    if joint is not None and points is not None:
        at = points.drop_duplicates("point").set_index("point").sort_index()
        for name, spec_input in joint.inputs.items():
            for path, (lo, hi) in spec_input.ranges(name).items():
                if REPRICED.fullmatch(path) or _WAGE.fullmatch(path):
                    for i in range(n):
                        held[i][path] = lo + float(at.loc[i, name]) * (hi - lo)
    return n, repriced, held


def total_cost_table(experiment, bases, equal_service, points, summary) -> pd.DataFrame:
    """``total_cost.csv`` (module docstring; columns :data:`TOTAL_COST_COLUMNS`)."""
    spec, names = experiment.spec.total_cost, list(experiment.scenarios)
    baseline = experiment.baseline
    weeks, years = _weeks(experiment, bases), spec.years
    n, repriced, held = _draws(experiment, points)
    sampled = bool(spec.uncertain) or points is not None
    weekly = {name: np.full(n, weeks[name].cost) for name in names}
    if points is not None:
        for name in names:
            own = points[points.model == name].sort_values("point")["cost"].to_numpy(float)
            factor = weeks[name].cost / bases[name].cost if bases[name].cost else 1.0
            weekly[name] = own * factor
    drawn, annual_drawn = _drawn(experiment, weeks, weekly, repriced, held)
    stacked = np.column_stack([drawn[name] for name in names])
    stacked = stacked[np.isfinite(stacked).all(axis=1)]  # a point some model has no cost at
    lowest = np.bincount(np.argmin(stacked, axis=1), minlength=len(names)) / max(len(stacked), 1)
    records = []
    base_npv = {}
    for m, name in enumerate(names):
        scenario, week = experiment.scenarios[name], weeks[name]
        annual = annual_items(scenario, week, {}, {})
        closing = closed_share(weeks[baseline], scenario)
        once = one_off_items(scenario, week, weeks[baseline].cost * closing, {})
        value = npv(once["transition_cost"], annual["annual_cost"], years, spec.discount_rate)
        base_npv[name] = value
        factor = week.cost / bases[name].cost if bases[name].cost else 1.0
        _, *noise = _noise(equal_service, name, factor)
        moved = [annual["annual_cost"] + (c - week.cost) * WEEKS_PER_YEAR for c in noise]
        ends = [npv(once["transition_cost"], a, years, spec.discount_rate) for a in moved]
        # The paired difference's interval moves the NPV difference along the annuity.
        paired = _noise(equal_service, name, factor, "difference")
        annuity = npv(0.0, WEEKS_PER_YEAR, years, spec.discount_rate)
        shifts = [(d - paired[0]) * annuity for d in paired[1:]]
        per_week = _resolved_per_week(summary, name, _WEEK / (scenario.horizon - scenario.warmup))
        resolved = per_week * WEEKS_PER_YEAR
        csat = satisfaction(summary, name)
        records.append(
            {
                "model": name,
                "currency": scenario.currency,
                "horizon_years": years,
                "discount_rate": spec.discount_rate,
                "weekly_cost": week.cost,
                **annual,
                **once,
                "npv": value,
                "npv_low": ends[0],
                "npv_high": ends[1],
                "npv_difference_low": shifts[0],
                "npv_difference_high": shifts[1],
                **_quantiles("annual_cost", annual_drawn[name], sampled),
                **_quantiles("npv", drawn[name], sampled),
                **_quantiles("npv_difference", drawn[name] - drawn[baseline], sampled),
                "p_lowest_npv": float(lowest[m]) if sampled else math.nan,
                "points": n if sampled else 0,
                "resolved_per_year": resolved,
                "cost_per_resolved_contact": annual["annual_cost"] / resolved,
                "csat": csat[0] if csat else math.nan,
                "csat_low": csat[1] if csat else math.nan,
                "csat_high": csat[2] if csat else math.nan,
                "cost_per_satisfied_resolved_contact": annual["annual_cost"]
                / (resolved * satisfied_when_resolved(summary, name, scenario, csat)),
            }
        )
    table = pd.DataFrame(records)
    table["npv_difference"] = table["npv"] - base_npv[baseline]
    table["npv_difference_low"] += table["npv_difference"]
    table["npv_difference_high"] += table["npv_difference"]
    return table[TOTAL_COST_COLUMNS]


def _drawn(experiment, weeks, weekly, repriced, held) -> tuple[dict, dict]:
    """Each model's NPV and annual cost at each draw: its week at the point, the draw's
    values of the repriced and held paths, its discount rate."""
    spec, baseline = experiment.spec.total_cost, experiment.baseline
    n = len(repriced)
    drawn = {name: np.empty(n) for name in experiment.scenarios}
    annual_drawn = {name: np.empty(n) for name in experiment.scenarios}
    for i in range(n):
        rate = float(repriced[i].get("discount_rate", spec.discount_rate))
        values = {**held[i], **repriced[i]}
        for name, scenario in experiment.scenarios.items():
            week = Week(float(weekly[name][i]), weeks[name].pay, weeks[name].fte)
            annual = annual_items(scenario, week, values, repriced[i])["annual_cost"]
            closing = closed_share(weeks[baseline], scenario)
            once = one_off_items(scenario, week, float(weekly[baseline][i]) * closing, values)
            annual_drawn[name][i] = annual
            drawn[name][i] = npv(once["transition_cost"], annual, spec.years, rate)
    return drawn, annual_drawn


def closed_share(baseline: Week, scenario) -> float:
    """The share of the baseline's pay at equal service earned at the sites ``scenario``
    does without: dual running keeps running what is being closed, not the sites both
    keep (the in-house specialists). 1 where the model keeps every baseline site (the same
    sites change how they work: all of it runs twice) or the pay per site is not known."""
    total = sum(baseline.pay.values())
    kept = {site.name for site in scenario.sites}
    closed = sum(pay for site, pay in baseline.pay.items() if site not in kept)
    return closed / total if total > 0 and closed > 0 else 1.0


def _noise(
    equal_service: pd.DataFrame | None, name: str, factor: float, column: str = "cost"
) -> tuple[float, float, float]:
    """The model's weekly ``column`` of ``equal_service.csv`` (its cost at equal service, or
    its paired ``difference`` to the baseline) and its 95% interval (simulation noise)."""
    row = None
    if equal_service is not None and f"{column}_low" in equal_service:
        row = equal_service[equal_service.scenario == name]
    if row is None or row.empty:
        return math.nan, math.nan, math.nan
    values = (float(row[f"{column}{end}"].iloc[0]) * factor for end in ("", "_low", "_high"))
    return tuple(values)  # type: ignore[return-value]


def _quantiles(name: str, values: np.ndarray, sampled: bool) -> dict[str, float]:
    if not sampled or not np.isfinite(values).any():
        return {f"{name}_p05": math.nan, f"{name}_p50": math.nan, f"{name}_p95": math.nan}
    q = np.nanquantile(values, [0.05, 0.5, 0.95])
    return {f"{name}_p05": float(q[0]), f"{name}_p50": float(q[1]), f"{name}_p95": float(q[2])}


def write_total_cost(out: Path, experiment, sweep, uncertainty) -> list[Path]:
    """Write ``total_cost.csv`` when the experiment has a ``total_cost:`` block (else
    nothing), from the study's files already in ``out`` and its bases (``uncertainty``:
    :func:`~.uncertainty_outputs.run_points`' result, or None)."""
    if experiment.spec.total_cost is None or sweep is None:
        return []
    from ccsim.study.uncertainty import base_points

    bases = uncertainty[0] if uncertainty is not None else base_points(experiment, sweep)

    def read(name: str) -> pd.DataFrame | None:
        path = out / name
        return pd.read_csv(path) if path.is_file() else None

    points = read("uncertainty_points.csv") if uncertainty is not None else None
    table = total_cost_table(
        experiment, bases, read("equal_service.csv"), points, read("summary.csv")
    )
    return [write_csv(out / "total_cost.csv", table)]
