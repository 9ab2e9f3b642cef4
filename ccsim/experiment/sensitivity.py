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
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ccsim.experiment.summary import compare, summarise
from ccsim.model import ConfigError
from ccsim.model.overrides import OverrideError, apply_overrides

__all__ = [
    "HEADLINE",
    "RANKED_BY",
    "check_uncertain",
    "flip_sentence",
    "ranking_flips",
    "run_sensitivity",
    "tornado",
]

#: The outputs whose sensitivity is tabled: what a model costs and what service it gives.
HEADLINE = ("operating_cost", "cost_per_resolved_contact", "service_level")
#: The output that ranks the models (the cheapest per resolved customer wins).
RANKED_BY = "cost_per_resolved_contact"
BASE = "base"


def check_uncertain(experiment, source: str) -> None:
    """Apply each uncertain parameter's ends to every model, so that a misspelt path or a
    value the scenario refuses is one line naming ``uncertain.<path>`` before anything runs."""
    for path, bounds in experiment.spec.uncertain.items():
        for end in ("low", "high"):
            for name, scenario in experiment.scenarios.items():
                try:
                    apply_overrides(scenario, {path: getattr(bounds, end)}, source=source)
                except OverrideError as exc:
                    raise ConfigError(source, f"uncertain.{path}", exc.message) from None
                except ConfigError as exc:
                    why = f"{end} = {getattr(bounds, end)!r} in model {name!r}: {exc.message}"
                    raise ConfigError(source, f"uncertain.{path}", why) from None


def _headline(replications: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per model: the headline outputs over every channel and site, and the paired difference
    of the cost per resolved contact to ``baseline``."""
    whole = replications[replications["site"] == "all"]
    channel = "all" if "all" in set(whole["channel"]) else whole["channel"].iloc[0]
    whole = whole[whole["channel"] == channel]
    summary = summarise(whole)
    table = summary.pivot(index="scenario", columns="kpi", values="estimate")
    table = table.reindex(columns=list(HEADLINE))
    differences = compare(whole, baseline)
    ranked = differences[differences["kpi"] == RANKED_BY].set_index("scenario")["difference"]
    table[f"{RANKED_BY}_difference"] = ranked.reindex(table.index).fillna(0.0)
    return table


def run_sensitivity(experiment, n_reps: int, n_jobs: int = 1) -> pd.DataFrame:
    """Every model at base and at each end of each uncertain parameter, ``n_reps``
    replications each on the seeds of the experiment's seed. One row per model, parameter
    (``base`` for the base run) and end, with the parameter's value and the headline
    outputs."""
    from ccsim.experiment.runner import run_replications  # the runner imports this module

    def outputs(changes: dict[str, Any]) -> pd.DataFrame:
        frames = []
        for name, scenario in experiment.scenarios.items():
            variant = apply_overrides(scenario, changes, experiment.source) if changes else scenario
            reps = run_replications(variant, n_reps, seed=experiment.spec.seed, n_jobs=n_jobs)
            frames.append(reps.assign(scenario=name))
        return _headline(pd.concat(frames, ignore_index=True), experiment.baseline)

    rows = []
    base = outputs({})
    for name, values in base.iterrows():
        rows.append(
            {"model": name, "parameter": BASE, "end": BASE, "value": math.nan} | dict(values)
        )
    for path, bounds in experiment.spec.uncertain.items():
        for end in ("low", "high"):
            value = getattr(bounds, end)
            for name, values in outputs({path: value}).iterrows():
                rows.append(
                    {"model": name, "parameter": path, "end": end, "value": value, **values}
                )
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


def _cheapest(rows: pd.DataFrame) -> str:
    return str(rows.loc[rows[RANKED_BY].idxmin(), "model"])


def ranking_flips(table: pd.DataFrame) -> tuple[str, list[tuple[str, str, str]]]:
    """The cheapest model per resolved contact at base, and each (parameter, end, cheapest
    model there) where another model is cheapest."""
    cheapest = _cheapest(table[table["parameter"] == BASE])
    flips = []
    for (parameter, end), rows in table[table["parameter"] != BASE].groupby(
        ["parameter", "end"], sort=False
    ):
        winner = _cheapest(rows)
        if winner != cheapest:
            flips.append((str(parameter), str(end), winner))
    return cheapest, flips


def flip_sentence(table: pd.DataFrame) -> str:
    """In words: which inputs, over their range, change the cheapest model."""
    cheapest, flips = ranking_flips(table)
    if not flips:
        return (
            f"{cheapest} is the cheapest model per resolved contact at base and at both ends "
            "of every uncertain input: no input, over its range, flips the ranking."
        )
    ends = "; ".join(
        f"{parameter} at its {end} end makes {winner} cheapest" for parameter, end, winner in flips
    )
    return f"{cheapest} is the cheapest model per resolved contact at base, but {ends}."
