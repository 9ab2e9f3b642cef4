"""The joint uncertainty of the inputs in the report's words: the clause the answer adds (the
range of the cheapest model's cost over the inputs and how often it is cheapest), the note on
what the selection's guarantee covers, and the section's table (per model: probability of
being cheapest, cost and difference over the points, worst joint corner) and break-even.

Reads ``uncertainty.csv`` and the manifest's ``study.uncertainty`` entry
(:mod:`ccsim.study.uncertainty_outputs`); nothing here computes an estimate."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ccsim.report.formatting import PAGE, flag, format_estimate, format_value, input_label

__all__ = [
    "GUARANTEE_SCOPE",
    "break_even_sentence",
    "fitted_points",
    "fixed_crossings",
    "guarantee_scope",
    "simulated_points",
    "uncertainty_clause",
    "uncertainty_rows",
]

_COVERS = (
    "The selection's guarantee and the intervals cover simulation noise at the base inputs only"
)
#: What the selection's guarantee and the intervals cover, said beside them.
GUARANTEE_SCOPE = f"{_COVERS}, not the uncertainty of the inputs"


def fixed_crossings(equal_service: pd.DataFrame | None) -> bool:
    """Whether some site's equal-service scale is one figure for every replication (its
    interval has no width): a crossing of a target judged on the pooled replications, an
    interval floor or the occupancy of the customers' core hours (docs/metrics.md)."""
    if equal_service is None:
        return False
    scales = [c for c in equal_service if c.startswith("scale_")]
    for column in [c for c in scales if not c.endswith(("_low", "_high"))]:
        scale = equal_service[column].astype(float)
        low = equal_service.get(f"{column}_low", scale).astype(float)
        high = equal_service.get(f"{column}_high", scale).astype(float)
        if (scale.notna() & (low == high)).any():
            return True
    return False


def guarantee_scope(equal_service: pd.DataFrame | None = None) -> str:
    """What the selection's guarantee and the intervals cover: :data:`GUARANTEE_SCOPE`, and
    where a site's crossing is one figure for all replications (``equal_service.csv``), that
    its sampling error is not in them either: it moves with the seed by several times the
    intervals' width (docs/staffing.md, "The hybrid at equal service, seed by seed")."""
    if not fixed_crossings(equal_service):
        return GUARANTEE_SCOPE
    return (
        f"{_COVERS}, with each site's crossing of a target judged on the pooled replications "
        "(an interval floor, the core hours' occupancy) taken as fixed: not where that "
        "crossing lies, which moves with the seed, nor the uncertainty of the inputs"
    )


def simulated_points(manifest: dict[str, Any]) -> dict[str, int] | None:
    """Each fitted model's simulated points (the experiment's ``simulated_points``), for
    :func:`uncertainty_rows`; None where the experiment file that ran is not at hand
    unchanged (:func:`ccsim.report.reading.experiment_that_ran`)."""
    from ccsim.report.reading import experiment_that_ran

    return fitted_points(experiment_that_ran(manifest))


def fitted_points(experiment) -> dict[str, int] | None:
    """:func:`simulated_points` of an experiment already loaded (None: not at hand)."""
    if experiment is None or experiment.spec.uncertainty is None:
        return None
    return dict(experiment.spec.uncertainty.simulated_points)


def _money(value: float, currency: str) -> str:
    return format_estimate("operating_cost", value, math.nan, math.nan, currency=currency)[0]


def _signed(value: float, reference: float, currency: str) -> str:
    """A difference of cost with its sign (``+116,388 USD``), to the precision of
    ``reference`` (the costs it is read beside): whole units, as the costs are."""
    return format_value(
        "operating_cost", value, PAGE, currency=currency, reference=abs(reference),
        signed=True, difference=True,
    )  # fmt: skip


def _baseline_of(models: pd.DataFrame) -> str | None:
    """The model whose every difference is exactly zero: the baseline against itself."""
    columns = ["difference_p05", "difference_p95", "worst_corner_difference"]
    zero = (models[columns].astype(float) == 0.0).all(axis=1)
    return str(zero.idxmax()) if zero.any() else None


def _per_model(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop_duplicates("model").set_index("model")


def uncertainty_clause(
    table: pd.DataFrame | None, best: str, currency: str, period: str, scope: str = GUARANTEE_SCOPE
) -> str:
    """ "; over the joint ranges of N inputs (P points) best is cheapest in p% of draws ...",
    naming the models read off fitted planes (``emulated``), whose error the share leaves
    out, then what the guarantee and the intervals cover (``scope``:
    :func:`guarantee_scope`)."""
    if table is None or table.empty or best not in set(table["model"]):
        return ""
    models = _per_model(table)
    row = models.loc[best]
    n_inputs = table["input"].nunique()
    low, high = _money(row["cost_p05"], currency), _money(row["cost_p95"], currency)
    most = str(models["p_cheapest"].astype(float).idxmax())
    rival = (
        f" ({most} in {models.loc[most, 'p_cheapest']:.0%})"
        if most != best and models.loc[most, "p_cheapest"] > row["p_cheapest"]
        else ""
    )
    fitted = [str(m) for m, r in models.iterrows() if _fitted(r)]
    plane = (
        f" ({_names(fitted)} read off planes fitted through fewer simulated points, whose "
        "error this share leaves out)"
        if fitted
        else ""
    )
    return (
        f"; over the joint ranges of {n_inputs} uncertain inputs ({int(row['points'])} draws) "
        f"{best} is cheapest in {row['p_cheapest']:.0%} of them{rival}{plane}, its cost per "
        f"{period} from {low} to {high} (5% to 95%). {scope}"
    )


def _names(models: list[str]) -> str:
    return models[0] if len(models) == 1 else ", ".join(models[:-1]) + " and " + models[-1]


def _corner_words(rows: pd.DataFrame) -> str:
    high = [input_label(i, capital=False) for i in rows[rows["worst_end"] == "high"]["input"]]
    low = [input_label(i, capital=False) for i in rows[rows["worst_end"] == "low"]["input"]]
    parts = []
    if high:
        parts.append("high: " + ", ".join(high))
    if low:
        parts.append("low: " + ", ".join(low))
    return "; ".join(parts)


def _fitted(row: pd.Series) -> bool:
    """Whether a model's costs at the draws are read off a fitted plane (``emulated``)."""
    return "emulated" in row and flag(row["emulated"])


def uncertainty_rows(
    table: pd.DataFrame | None,
    currency: str,
    baseline: str | None = None,
    simulated_points: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The section's table, a row per model: probability of being cheapest with its
    interval, the cost's and the difference's 5-95% range, the worst joint corner with its
    difference to the ``baseline`` at the same inputs (signed) and the baseline's cost
    there, which the difference is against and the page shows no other way; the baseline's
    own cells say "baseline" (found as the model whose differences are all zero when not
    named). ``fitted``: its costs at the draws are read off the plane through its own fewer
    simulated points (``emulated``; how many: ``simulated_points``, the experiment's, where
    known), so its R² is the plane's and says so; ``label`` names it with that count."""
    if table is None or table.empty:
        return []
    models = _per_model(table)
    baseline = baseline if baseline in models.index else _baseline_of(models)
    rows = []
    for model, row in models.iterrows():
        base, fitted = model == baseline, _fitted(row)
        count = (simulated_points or {}).get(str(model))
        low, high = row["difference_p05"], row["difference_p95"]
        worst, worst_difference = row["worst_corner_cost"], row["worst_corner_difference"]
        rows.append(
            {
                "model": str(model),
                "p_cheapest": f"{row['p_cheapest']:.0%}",
                "p_interval": f"[{row['p_cheapest_low']:.0%}, {row['p_cheapest_high']:.0%}]",
                "cost": f"{_money(row['cost_p05'], currency)} to "
                f"{_money(row['cost_p95'], currency)}",
                "difference": "baseline"
                if base
                else f"{_signed(low, row['cost_p05'], currency)} to "
                f"{_signed(high, row['cost_p05'], currency)}",
                "worst": _money(worst, currency),
                "worst_difference": "baseline"
                if base
                else _signed(worst_difference, worst, currency),
                "worst_reference": "" if base else _money(worst - worst_difference, currency),
                "corner": _corner_words(table[table["model"] == model]),
                "r2": f"{row['r2']:.2f}" + (" (fitted plane)" if fitted else ""),
                "fitted": fitted,
                "simulated_points": int(count) if fitted and count else None,
                "label": f"{model} ({count} simulated points)" if fitted and count else str(model),
            }
        )
    return rows


#: Path segments of an input that is a share of contacts: no value of it lies outside 0-1.
_SHARES = ("containment", "escalation", "resolution", "shares", "fcr", "abandon")


def _impossible(values: dict[str, float]) -> str:
    """ ", which no <input> can be (above 100%)" where the line's root puts a share outside
    0 to 1, else ""."""
    shares = [v for p, v in values.items() if any(w in p.split(".") for w in _SHARES)]
    if any(v > 1 for v in shares):
        return "above 100%"
    if any(v < 0 for v in shares):
        return "below 0%"
    return ""


def break_even_sentence(entry: dict[str, Any] | None) -> str:
    """Where the break-even lies, in words ("" without one): the values of the input where
    the model's fitted cost meets its cheapest rival's, never a position along the range;
    beyond the range, that the line does not reach it within the range, and where it would
    need a share above 100% (or below 0), that no value of the input can be there."""
    found = (entry or {}).get("break_even")
    if not found:
        return ""
    model, rivals = found["model"], ", ".join(found["rivals"])
    what = input_label(found["input"], capital=False)
    position = found.get("position")
    if position is None or not math.isfinite(position):
        return f"{model} costs the same as the cheapest of {rivals} at no value of {what}."
    rises = (found.get("slope") or 0) < 0
    average = " The other inputs vary over the draws: the fitted line averages over them."
    if not found["within_range"]:
        beyond = "above its high end" if position > 1 else "below its low end"
        impossible = _impossible(found.get("values") or {})
        need = f"{impossible}, a value no {what} can take" if impossible else beyond
        return (
            f"Break-even: on the line fitted over the draws (the other inputs averaged), "
            f"{model} does not get down to the cheapest of {rivals} anywhere in the range of "
            f"{what} studied. It gains on them as {what} {'rises' if rises else 'falls'}, but "
            f"the line would break even only with {what} {need}."
        )

    def values(key: str) -> str:
        return ", ".join(f"{input_label(p, capital=False)} {v:.3g}" for p, v in found[key].items())

    text = (
        f"Break-even: {model} costs what the cheapest of {rivals} costs at equal service "
        f"when {what} is at {values('values')}, inside the range studied; {model} is the "
        f"cheaper as {what} {'rises' if rises else 'falls'} from there"
    )
    if found["values_low"] and found["values_high"]:
        text += f" (95% interval over the draws: {values('values_low')} to {values('values_high')})"
    return f"{text}.{average}"
