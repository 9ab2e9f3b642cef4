"""One-at-a-time sensitivity of the headline outputs to the uncertain inputs of an experiment.

The confidence intervals of an experiment cover simulation noise only; the inputs that
separate the operating models (an offshore hourly rate, a containment rate) are estimates
with ranges, and they move the headline figures by more than the noise. An experiment names
them under ``uncertain:`` as dotted paths with a ``low`` and a ``high`` value; for each, every
model runs at the low and at the high end, the others at their base values, on the same
seeds as the base runs (common random numbers: the bars move only by the input). The table
(``sensitivity.csv``) gives, per model, parameter and end, the headline outputs and the paired
difference to the baseline of the cost per resolved contact; :func:`tornado` turns it into
the bars of a tornado chart and :func:`ranking_flips` says which inputs change the cheapest
model.

An input need not exist in every model (``sites.manila.cost_per_hour`` only where there is a
Manila site): it applies to the models that have it, and a model it leaves unchanged is not
simulated again (its base outputs stand). With a frontier in the experiment, the table also
gives each model's **cost at equal service** at each end, read as the study reads it: each
end is simulated at every scale of the frontier (:func:`variants`), and per replication the
cost at which every channel reaches its target is read off the end's own curve
(:func:`~ccsim.study.equal_service.model_costs`: the binding channel may change with the
input). The ranking is then on that cost (:func:`ranking_flips`).

A site's wage (``sites.<site>.cost_per_hour``) changes what the operation costs, not what
happens in it (unless routing goes to the cheapest site): its ends are not simulated but
**repriced** from the base replications (:func:`repriced`), exactly, since a site's pay is its
hourly cost times its paid hours (night differential and overruns included); at equal
service, each scale of the base frontier is repriced the same way. The base itself is the
main run's first replications when it has enough (the same seeds); what is simulated
(:func:`variants`) the runner runs in one batch and saves like any block.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ccsim.experiment.summary import compare, summarise
from ccsim.model import ConfigError
from ccsim.model.overrides import OverrideError, apply_overrides
from ccsim.model.workforce import steady_state
from ccsim.planning.frontier import scaled_scenario
from ccsim.planning.pools import replanning_factors
from ccsim.planning.targets import Targets
from ccsim.sim.metrics import TALLY_NAMES, ChannelTally
from ccsim.sim.result import row_kpis
from ccsim.study.equal_service import Sweep, model_costs, repriced_sweep

__all__ = [
    "HEADLINE",
    "EQUAL_SERVICE",
    "RANKED_BY",
    "check_uncertain",
    "flip_sentence",
    "ranking_flips",
    "replanned",
    "repriced",
    "Variant",
    "sensitivity_table",
    "equal_service_replications",
    "variants",
    "tornado",
]

#: The outputs whose sensitivity is tabled: what a model costs and what service it gives.
HEADLINE = ("operating_cost", "cost_per_resolved_contact", "service_level")
#: The output that ranks the models without a frontier (the cheapest per resolved customer
#: wins); with one, :data:`EQUAL_SERVICE` ranks them.
RANKED_BY = "cost_per_resolved_contact"
EQUAL_SERVICE = "cost_at_equal_service"
BASE = "base"


def check_uncertain(experiment, source: str) -> None:
    """Apply each uncertain parameter's ends to every model, so that a misspelt path or a
    value the scenario refuses is one line naming ``uncertain.<path>`` before anything runs.
    A path that some models lack applies to the others; one that no model has is an error."""
    for path, bounds in experiment.spec.uncertain.items():
        missing = []
        for end in ("low", "high"):
            for name, scenario in experiment.scenarios.items():
                try:
                    apply_overrides(scenario, {path: getattr(bounds, end)}, source=source)
                except OverrideError as exc:
                    missing.append(exc.message)
                except ConfigError as exc:
                    why = f"{end} = {getattr(bounds, end)!r} in model {name!r}: {exc.message}"
                    raise ConfigError(source, f"uncertain.{path}", why) from None
        if len(missing) == 2 * len(experiment.scenarios):
            raise ConfigError(source, f"uncertain.{path}", f"no model has it: {missing[0]}")


def _variant(scenario, changes: dict[str, Any], source: str):
    """``scenario`` with ``changes``, or ``scenario`` itself where it lacks their path."""
    try:
        return apply_overrides(scenario, changes, source)
    except OverrideError:
        return scenario


_WAGE = re.compile(r"sites\.([^.]+)\.cost_per_hour")


def _wage_site(scenario, changes: dict[str, Any]) -> str | None:
    """The site whose wage alone ``changes`` sets, where repricing gives what simulating
    would: not with routing to the cheapest site (a wage there moves contacts), nor from a
    base wage of 0 (nothing to scale), nor at a contracted site (its cost is its bill: the
    run bills the new wage, through a margin or not at all)."""
    if len(changes) != 1 or scenario.routing.policy == "cheapest":
        return None
    match = _WAGE.fullmatch(next(iter(changes)))
    if match is None:
        return None
    site = next((s for s in scenario.sites if s.name == match.group(1)), None)
    if site is None or site.contract is not None:
        return None
    return site.name if site.cost_per_hour > 0 else None


def repriced(replications: pd.DataFrame, scenario, site: str, cost_per_hour: float):
    """``replications`` of ``scenario`` (rows of ``run_replications``) as they would be with
    ``site``'s ``cost_per_hour``: its pay scaled by the ratio of the wages, in its own rows
    and in the rows that add it up (each channel's whole and the whole centre), and every
    KPI recomputed from the tallies. Nothing else in a run depends on a wage (routing to the
    cheapest site aside: see :func:`_wage_site`)."""
    base = next(s for s in scenario.sites if s.name == site).cost_per_hour
    factor = cost_per_hour / base
    rows = replications.copy()
    if len(scenario.sites) == 1:
        rows["labour_cost"] = rows["labour_cost"] * factor
    else:
        own = rows["site"] == site
        extra = (
            (rows.loc[own, "labour_cost"] * (factor - 1.0))
            .groupby([rows.loc[own, "replication"], rows.loc[own, "channel"]])
            .sum()
        )
        rows.loc[own, "labour_cost"] = rows.loc[own, "labour_cost"] * factor
        whole = rows["site"] == "all"
        keys = pd.MultiIndex.from_frame(rows.loc[whole, ["replication", "channel"]])
        rows.loc[whole, "labour_cost"] += extra.reindex(keys, fill_value=0.0).to_numpy()
    kpis = [
        row_kpis(row["site"], ChannelTally(**{name: row[name] for name in TALLY_NAMES}))
        for _, row in rows.iterrows()
    ]
    # A row holds its KPIs, then its tallies (a tally that is also a KPI, a count such as
    # `offered`, is the tally): only the KPIs computed from tallies change.
    derived = pd.DataFrame(kpis, index=rows.index).drop(columns=list(TALLY_NAMES), errors="ignore")
    rows[list(derived.columns)] = derived
    return rows


def _headline(replications: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per model: the headline outputs over every channel and site, and the paired difference
    of the cost per resolved contact to ``baseline``."""
    whole = replications[replications["site"] == "all"]
    channel = "all" if "all" in set(whole["channel"]) else whole["channel"].iloc[0]
    whole = whole[whole["channel"] == channel]
    summary = summarise(whole, kpis=HEADLINE)
    table = summary.pivot(index="scenario", columns="kpi", values="estimate")
    table = table.reindex(columns=list(HEADLINE))
    differences = compare(whole, baseline, kpis=[RANKED_BY])
    ranked = differences[differences["kpi"] == RANKED_BY].set_index("scenario")["difference"]
    table[f"{RANKED_BY}_difference"] = ranked.reindex(table.index).fillna(0.0)
    return table


@dataclass(frozen=True)
class Variant:
    """One model at one end of one uncertain input (``parameter`` ``base``: the model as it
    is), its staffing at ``scale`` of the plan's, to be simulated for ``replications`` on the
    experiment's seeds."""

    parameter: str
    end: str
    model: str
    scenario: Any  # Scenario, scaled
    scale: float = 1.0
    replications: int = 0
    replanned: bool = False  # scaled from the end's re-planned staffing (:func:`replanned`)

    @property
    def key(self) -> tuple[str, str, str, float, bool]:
        return self.parameter, self.end, self.model, self.scale, self.replanned

    def fingerprint(self, experiment) -> str:
        """Identity of its replications, like a scenario's in the main run, and the word
        ``sensitivity`` (its saved blocks never mix with the main run's or the frontier's)."""
        return experiment.fingerprint_of(self.model, self.scenario, "sensitivity")


def _ends(experiment):
    for path, bounds in experiment.spec.uncertain.items():
        for end in ("low", "high"):
            yield path, end, getattr(bounds, end)


def equal_service_replications(experiment) -> int:
    """Replications of each end's sweep: the sensitivity's, at most the frontier's (the base's
    cost at equal service is read off the frontier's first ones)."""
    n = experiment.spec.sensitivity_replications
    frontier = experiment.spec.frontier
    return n if frontier is None else min(n, frontier.replications)


def replanned(base, variant) -> dict[str, float]:
    """How the end ``variant`` of ``base`` would be staffed: per site, the ratio of the
    planner's seed requirement (:func:`ccsim.planning.pools.pool_requirements`, Erlang A
    per pool and interval with the pooling credit, summed over the week) at the end to that
    at base, times the ratio of its handle-time multiplier, the largest of the pools the
    site serves (:func:`~ccsim.planning.pools.replanning_factors`); ``{}`` when no pool's
    requirement moves. A bot that contains less moves work to the pool behind it, not to
    every site."""
    factors = replanning_factors(steady_state(base), steady_state(variant))  # at the tenure mix
    return {} if all(factor == 1.0 for factor in factors.values()) else factors


def variants(experiment, with_base: bool) -> list[Variant]:
    """What the sensitivity simulates: each model at each end of each uncertain input that
    changes it and cannot be repriced, at its plan (``sensitivity_replications``) and, with a
    frontier, at each scale of the frontier around the end's re-planned staffing
    (:func:`replanned`; :func:`equal_service_replications` each); with ``with_base``, each
    model as it is at its plan (when the main run has fewer replications than the
    sensitivity, its own cannot stand in)."""

    n = experiment.spec.sensitivity_replications
    frontier = experiment.spec.frontier
    m = equal_service_replications(experiment)
    runs = []
    for name, scenario in experiment.scenarios.items():
        if with_base:
            runs.append(Variant(BASE, BASE, name, scenario, 1.0, n))
        for path, end, value in _ends(experiment):
            changes = {path: value}
            variant = _variant(scenario, changes, experiment.source)
            if variant == scenario or _wage_site(scenario, changes) is not None:
                continue
            runs.append(Variant(path, end, name, variant, 1.0, n))  # at the plan
            if frontier is None:
                continue
            factors = replanned(scenario, variant)
            for scale in frontier.scales:
                if scale == 1.0 and not factors:
                    continue  # the plan itself, above
                scaled = scaled_scenario(variant, scale, factors)
                runs.append(Variant(path, end, name, scaled, scale, m, bool(factors)))
    return runs


def sensitivity_table(
    experiment,
    base: dict[str, pd.DataFrame],
    simulated: dict[tuple[str, str, str, float, bool], pd.DataFrame],
    sweep: Sweep | None = None,
) -> pd.DataFrame:
    """``sensitivity.csv``: one row per model, parameter (``base`` for the base run) and end,
    with the parameter's value and the headline outputs, from each model's ``base``
    replications and the ``simulated`` ones of :func:`variants` (keyed by
    :attr:`Variant.key`); the other ends are the base's own (an input that leaves a model as
    it is) or the base repriced (a wage). With the experiment's frontier ``sweep``, also the cost
    at equal service, its difference to the baseline, the channel that binds and how many
    replications' crossings were extrapolated outside the sweep (module docstring)."""

    frontier = experiment.spec.frontier
    m = equal_service_replications(experiment)

    def first(rows: pd.DataFrame) -> pd.DataFrame:
        return rows[rows.replication < m]

    def at_equal_service(path: str, end: str, name: str, value: Any) -> pd.DataFrame:
        scenario = experiment.scenarios[name]
        # The end's own targets: an uncertain input may be a target.
        end_scenario = (
            scenario if path == BASE else _variant(scenario, {path: value}, experiment.source)
        )
        again = any((path, end, name, scale, True) in simulated for scale in frontier.scales)
        by_scale = {}
        for scale in frontier.scales:
            key = (path, end, name, scale, again)
            if key in simulated:
                by_scale[scale] = first(simulated[key])
            elif path != BASE and (site := _wage_site(scenario, {path: value})) is not None:
                factor = value / next(s for s in scenario.sites if s.name == site).cost_per_hour
                rows, labour = sweep.rows[(name, scale)], sweep.labour[(name, scale)]
                by_scale[scale] = first(repriced_sweep(rows, labour, site, factor))
            else:  # the base itself, or an input this model lacks
                by_scale[scale] = first(sweep.rows[(name, scale)])
        return model_costs(Targets.of(end_scenario), by_scale)

    def outputs(path: str, end: str, value: Any) -> pd.DataFrame:
        frames = []
        for name, scenario in experiment.scenarios.items():
            changes = {path: value}
            if (path, end, name, 1.0, False) in simulated:
                reps = simulated[(path, end, name, 1.0, False)]
            elif path != BASE and (site := _wage_site(scenario, changes)) is not None:
                reps = repriced(base[name], scenario, site, value)
            else:  # the base itself, or an input this model lacks
                reps = base[name]
            frames.append(reps.assign(scenario=name))
        every = pd.concat(frames, ignore_index=True)
        table = _headline(every, experiment.baseline)
        if frontier is not None and sweep is not None:
            costs = {name: at_equal_service(path, end, name, value) for name in table.index}
            table[EQUAL_SERVICE] = [costs[name]["cost"].mean(skipna=False) for name in table.index]
            baseline = table.loc[experiment.baseline, EQUAL_SERVICE]
            table[f"{EQUAL_SERVICE}_difference"] = table[EQUAL_SERVICE] - baseline
            table["binding_channel"] = [
                costs[name]["binding_channel"].mode().iloc[0] for name in table.index
            ]
            table["extrapolated"] = [int(costs[name]["extrapolated"].sum()) for name in table.index]
        return table

    rows = []
    for name, values in outputs(BASE, BASE, math.nan).iterrows():
        rows.append(
            {"model": name, "parameter": BASE, "end": BASE, "value": math.nan} | dict(values)
        )
    for path, end, value in _ends(experiment):
        for name, values in outputs(path, end, value).iterrows():
            rows.append({"model": name, "parameter": path, "end": end, "value": value, **values})
    table = pd.DataFrame(rows)
    table["value"] = table["value"].astype(object)
    return table


def tornado(table: pd.DataFrame, model: str, output: str) -> pd.DataFrame:
    """The bars of one model's tornado for ``output``: per parameter the output at its low
    and high ends, and the base; widest bar first."""
    rows = table[table["model"] == model]
    base = float(rows.loc[rows["parameter"] == BASE, output].iloc[0])
    ends = rows[rows["parameter"] != BASE].pivot(index="parameter", columns="end", values=output)
    bars = pd.DataFrame(
        {"parameter": ends.index, "low": ends["low"].to_numpy(), "high": ends["high"].to_numpy()}
    )
    bars["base"] = base
    bars["width"] = (bars["high"] - bars["low"]).abs()
    return bars.sort_values("width", ascending=False, kind="stable").reset_index(drop=True)


def _ranked_by(table: pd.DataFrame) -> str:
    """The cost at equal service where the table has it, else the cost per resolved contact."""
    if EQUAL_SERVICE in table and table[EQUAL_SERVICE].notna().all():
        return EQUAL_SERVICE
    return RANKED_BY


def _cheapest(rows: pd.DataFrame, by: str) -> str:
    return str(rows.loc[rows[by].idxmin(), "model"])


def ranking_flips(table: pd.DataFrame) -> tuple[str, list[tuple[str, str, str]]]:
    """The cheapest model at base (at equal service where the table has it, else per
    resolved contact), and each (parameter, end, cheapest model there) where another model
    is cheapest."""
    by = _ranked_by(table)
    cheapest = _cheapest(table[table["parameter"] == BASE], by)
    flips = []
    for (parameter, end), rows in table[table["parameter"] != BASE].groupby(
        ["parameter", "end"], sort=False
    ):
        winner = _cheapest(rows, by)
        if winner != cheapest:
            flips.append((str(parameter), str(end), winner))
    return cheapest, flips


def flip_sentence(table: pd.DataFrame) -> str:
    """In words: which inputs, over their range, change the cheapest model."""
    cheapest, flips = ranking_flips(table)
    how = "at equal service" if _ranked_by(table) == EQUAL_SERVICE else "per resolved contact"
    if not flips:
        return (
            f"{cheapest} is the cheapest model {how} at base and at both ends "
            "of every uncertain input: no input, over its range, flips the ranking."
        )
    ends = "; ".join(
        f"{parameter} at its {end} end makes {winner} cheapest" for parameter, end, winner in flips
    )
    return f"{cheapest} is the cheapest model {how} at base, but {ends}."
