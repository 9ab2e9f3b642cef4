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
gives each model's **cost at equal service** at each end, by a first-order correction: the
end is simulated at the plan's staffing only, and its cost moved along the base frontier's
local slope (cost per point of service level of the model's binding channel, around its
target) by the points that channel is above or below its target there. The ranking is then
on that cost (:func:`ranking_flips`).

A site's wage (``sites.<site>.cost_per_hour``) changes what the operation costs, not what
happens in it (unless routing goes to the cheapest site): its ends are not simulated but
**repriced** from the base replications (:func:`repriced`), exactly, since a site's pay is its
hourly cost times its paid hours (night differential and overruns included). The base
itself is the main run's first replications when it has enough (the same seeds); what is
simulated (:func:`variants`) the runner runs in one batch and saves like any block.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ccsim.experiment.blocks import code_digest
from ccsim.experiment.stats import ratio_ci
from ccsim.experiment.summary import compare, summarise
from ccsim.model import ConfigError
from ccsim.model.overrides import OverrideError, apply_overrides
from ccsim.sim.metrics import TALLY_NAMES, ChannelTally
from ccsim.sim.result import row_kpis

__all__ = [
    "HEADLINE",
    "EQUAL_SERVICE",
    "RANKED_BY",
    "check_uncertain",
    "flip_sentence",
    "ranking_flips",
    "repriced",
    "Variant",
    "sensitivity_table",
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
    base wage of 0 (nothing to scale)."""
    if len(changes) != 1 or scenario.routing.policy == "cheapest":
        return None
    match = _WAGE.fullmatch(next(iter(changes)))
    if match is None:
        return None
    site = next((s for s in scenario.sites if s.name == match.group(1)), None)
    return site.name if site is not None and site.cost_per_hour > 0 else None


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
    is), to be simulated on the experiment's seeds."""

    parameter: str
    end: str
    model: str
    scenario: Any  # Scenario

    def fingerprint(self, experiment) -> str:
        """Identity of its replications, like a scenario's in the main run, and the word
        ``sensitivity`` (its saved blocks never mix with the main run's or the frontier's)."""
        spec = experiment.spec
        parts = [
            "sensitivity",
            self.scenario.model_dump_json(),
            str(spec.seed),
            "crn" if spec.common_random_numbers else f"independent:{self.model}",
            code_digest(),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _ends(experiment):
    for path, bounds in experiment.spec.uncertain.items():
        for end in ("low", "high"):
            yield path, end, getattr(bounds, end)


def variants(experiment, with_base: bool) -> list[Variant]:
    """What the sensitivity simulates: each model at each end of each uncertain input that
    changes it and cannot be repriced, and with ``with_base`` each model as it is (when the
    main run has fewer replications than the sensitivity, its own cannot stand in)."""
    runs = []
    for name, scenario in experiment.scenarios.items():
        if with_base:
            runs.append(Variant(BASE, BASE, name, scenario))
        for path, end, value in _ends(experiment):
            changes = {path: value}
            variant = _variant(scenario, changes, experiment.source)
            if variant != scenario and _wage_site(scenario, changes) is None:
                runs.append(Variant(path, end, name, variant))
    return runs


def sensitivity_table(
    experiment,
    base: dict[str, pd.DataFrame],
    simulated: dict[tuple[str, str, str], pd.DataFrame],
    frontier: pd.DataFrame | None = None,
    binding: dict[str, str] | None = None,
) -> pd.DataFrame:
    """``sensitivity.csv``: one row per model, parameter (``base`` for the base run) and end,
    with the parameter's value and the headline outputs, from each model's ``base``
    replications and the ``simulated`` ones of :func:`variants` (keyed by parameter, end and
    model); the other ends are the base's own (an input that leaves a model as it is) or the
    base repriced (a wage). With the experiment's ``frontier`` table (``frontier.csv``) and
    each model's ``binding`` channel (``equal_service.csv``), also the cost at equal service
    (module docstring) and its difference to the baseline."""

    def outputs(path: str, end: str, value: Any) -> pd.DataFrame:
        frames = []
        for name, scenario in experiment.scenarios.items():
            changes = {path: value}
            if (path, end, name) in simulated:
                reps = simulated[(path, end, name)]
            elif path != BASE and (site := _wage_site(scenario, changes)) is not None:
                reps = repriced(base[name], scenario, site, value)
            else:  # the base itself, or an input this model lacks
                reps = base[name]
            frames.append(reps.assign(scenario=name))
        every = pd.concat(frames, ignore_index=True)
        table = _headline(every, experiment.baseline)
        if frontier is not None and binding:
            table[EQUAL_SERVICE] = [
                _corrected(experiment, every, frontier, name, binding.get(name, ""))
                for name in table.index
            ]
            baseline = table.loc[experiment.baseline, EQUAL_SERVICE]
            table[f"{EQUAL_SERVICE}_difference"] = table[EQUAL_SERVICE] - baseline
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


def _corrected(experiment, reps: pd.DataFrame, frontier: pd.DataFrame, name: str, channel: str):
    """The cost at equal service of model ``name`` from its replications at its plan: the
    mean cost moved along the base frontier's local slope of ``channel`` to its target."""
    from ccsim.experiment.equal_service import local_slope
    from ccsim.sim.metrics import RATIO_KPIS

    own = reps[(reps.scenario == name) & (reps.site == "all")]
    whole = own[own.channel == "all"] if (own.channel == "all").any() else own
    points = frontier[(frontier.scenario == name) & (frontier.channel == channel)]
    if not channel or points.empty:
        return math.nan
    target = float(points["target"].dropna().iloc[0])
    numerator, denominator = RATIO_KPIS["service_level"]
    rows = own[own.channel == channel]
    level = ratio_ci(rows[list(numerator)].sum(axis=1), rows[list(denominator)].sum(axis=1)).value
    slope = local_slope(frontier, name, channel)
    return float(whole["operating_cost"].mean() + slope * 100 * (target - level))


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
