"""The answer at the top of the experiment report: one sentence, and whether targets are met.

A planner opens the report to learn which operating model is cheapest for the same service,
how sure that is, and whether each model meets its targets. The study step of an experiment
writes the tables this answer is composed from, next to the others in the output folder:
``equal_service.csv`` (each model's weekly cost at exactly its binding channel's target, read
off its cost-service frontier, and the paired difference to the baseline), ``frontier.csv``,
``targets.csv`` (per model and channel: met or not, weekly bound and interval floor; per
site: its occupancy in the customers' core hours), ``selection.csv`` (the selection, its
sentence in ``manifest.json``) and ``sensitivity.csv`` (the outputs at each end of each
uncertain input). Each is optional: without a frontier the answer falls back to the cost per
resolved contact at planned staffing (a weaker comparison, and the sentence says so); without
targets or sensitivity the page says so in a sentence. The target table is
:mod:`ccsim.report.targets`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.report.formatting import flag, format_difference, format_estimate, input_label
from ccsim.report.reading import read_csv
from ccsim.report.targets import missed_channels, missed_targets
from ccsim.report.uncertainty import guarantee_scope, uncertainty_clause

__all__ = [
    "Study",
    "answer_caveat",
    "answer_sentence",
    "cheapest_flips",
    "pct_interval",
    "read_study",
    "selection_sentence",
]

EQUAL_SERVICE_COLUMNS = (
    "scenario", "cost", "cost_low", "cost_high", "binding_channel", "difference",
    "difference_low", "difference_high", "difference_pct", "difference_pct_low",
    "difference_pct_high", "p_value", "p_holm", "significant", "extrapolated",
)  # fmt: skip
FRONTIER_COLUMNS = ("scenario", "kind", "scale", "channel", "cost", "cost_low", "cost_high")
TARGET_COLUMNS = (
    "scenario", "channel", "service_level", "sl_low", "sl_high", "target", "met_weekly",
    "share_at_floor", "floor", "floor_share_required", "met_floor", "met",
)  # fmt: skip
SELECTION_COLUMNS = ("scenario", "mean", "mcb_low", "mcb_high", "eligible", "selected")
#: The sensitivity column of the cost at equal service (older tables rank by cost per
#: resolved contact, :data:`ccsim.study.sensitivity.RANKED_BY`).
EQUAL_SERVICE_SENSITIVITY = "cost_at_equal_service"
BASE = "base"
MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True)
class Study:
    """The study's tables of an output folder (None where the study did not write one)."""

    equal_service: pd.DataFrame | None
    frontier: pd.DataFrame | None
    targets: pd.DataFrame | None
    selection: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    selection_sentence: str
    uncertainty: pd.DataFrame | None = None  # uncertainty.csv: the joint sample's summary
    uncertainty_points: pd.DataFrame | None = None  # uncertainty_points.csv
    uncertainty_entry: dict[str, Any] | None = None  # the manifest's study.uncertainty


def read_study(folder: Path, manifest: dict[str, Any]) -> Study:
    sensitivity = read_csv(folder / "sensitivity.csv", ("model", "parameter", "end"))
    return Study(
        read_csv(folder / "equal_service.csv", EQUAL_SERVICE_COLUMNS),
        read_csv(folder / "frontier.csv", FRONTIER_COLUMNS),
        read_csv(folder / "targets.csv", ("scenario", "channel")),
        read_csv(folder / "selection.csv", SELECTION_COLUMNS),
        sensitivity if sensitivity is not None and not sensitivity.empty else None,
        _selection_sentence(manifest),
        read_csv(folder / "uncertainty.csv", ("model", "input", "effect", "p_cheapest")),
        read_csv(folder / "uncertainty_points.csv", ("point", "model", "cost")),
        (manifest.get("study") or {}).get("uncertainty"),
    )


def _selection_sentence(manifest: dict[str, Any]) -> str:
    """The selection's sentence: where the study step writes it (``study.selection``), or a
    top-level ``selection_sentence``."""
    selection = (manifest.get("study") or {}).get("selection") or {}
    return str(selection.get("sentence") or manifest.get("selection_sentence") or "")


# --- which inputs flip the cheapest model ----------------------------------------------------


def cheapest_flips(table: pd.DataFrame, column: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The model with the least ``column`` at base, and each (input, end, cheapest model
    there) where another model is cheapest (rows where ``column`` is missing are skipped)."""
    rows = table[table[column].notna()]

    def cheapest(part: pd.DataFrame) -> str:
        return str(part.loc[part[column].astype(float).idxmin(), "model"])

    best = cheapest(rows[rows["parameter"] == BASE])
    flips = []
    for (parameter, end), part in rows[rows["parameter"] != BASE].groupby(
        ["parameter", "end"], sort=False
    ):
        winner = cheapest(part)
        if winner != best:
            flips.append((str(parameter), str(end), winner))
    return best, flips


def _flip_clause(sensitivity: pd.DataFrame | None, column: str, best: str) -> str:
    """ ", and stays cheapest over every input range (except ...)" for ``best``."""
    if sensitivity is None or column not in sensitivity or sensitivity[column].isna().all():
        return ""
    base, flips = cheapest_flips(sensitivity, column)
    if base != best:  # the sensitivity's base runs rank otherwise (fewer replications)
        return f"; in the sensitivity runs {base} is cheapest at base"
    if not flips:
        n = sensitivity.loc[sensitivity["parameter"] != BASE, "parameter"].nunique()
        return f", and stays cheapest over the range of every uncertain input ({n})"
    ends = "; ".join(
        f"{input_label(p, capital=False)} at its {end} end ({winner} cheapest)"
        for p, end, winner in flips
    )
    return f", and stays cheapest over every input range except {ends}"


# --- the sentence ----------------------------------------------------------------------------


def _significance(row: pd.Series) -> str:
    """Planners' words for a paired difference (Holm-adjusted when the table has it)."""
    values = [row.get(k, math.nan) for k in ("difference", "difference_low", "difference_high")]
    if all(v == 0 for v in values):
        return "no difference"
    p = row.get("p_holm", math.nan)
    significant = p < 0.05 if isinstance(p, float) and math.isfinite(p) else row["significant"]
    return "significant" if flag(significant) else "not significant"


def _pct(value: float, decimals: int | None = None) -> str:
    if decimals is None:
        decimals = 0 if abs(value) >= 10 else 1
    return f"{value:+.{decimals}f}".replace("-", MINUS)


def pct_interval(value: float, low: float, high: float) -> str:
    """A percentage and its interval, "−42.7% [−42.7, −42.6]": to the whole percent from
    10% up, with more decimals (up to two) where fewer would make an interval that has a
    width read as a point ("−43% [−43, −43]")."""
    decimals = 0 if abs(value) >= 10 else 1
    while decimals < 2 and high > low and _pct(low, decimals) == _pct(high, decimals):
        decimals += 1
    return f"{_pct(value, decimals)}% [{_pct(low, decimals)}, {_pct(high, decimals)}]"


def _equal_service_sentence(study: Study, baseline: str | None, currency: str, period: str) -> str:
    table = study.equal_service.set_index("scenario")
    table = table[table["cost"].notna()]
    best = None
    if study.selection is not None:
        chosen = study.selection[study.selection["selected"].map(flag)]
        if not chosen.empty and chosen["scenario"].iloc[0] in table.index:
            best = str(chosen["scenario"].iloc[0])
    best = best or str(table["cost"].astype(float).idxmin())
    row = table.loc[best]
    cost, interval = format_estimate(
        "operating_cost", row["cost"], row["cost_low"], row["cost_high"], currency=currency
    )
    extrapolated = " (extrapolated beyond the staffing sweep)" if flag(row["extrapolated"]) else ""
    if best != baseline and baseline in table.index:
        pct = (row["difference_pct"], row["difference_pct_low"], row["difference_pct_high"])
        against = (
            f": {pct_interval(*pct)} against {baseline} "
            f"({_significance(row)}), {cost} per {period} {interval}{extrapolated}"
        )
    else:
        others = table.drop(index=best)
        against = f": {cost} per {period} {interval}{extrapolated}"
        if not others.empty:
            second = str(others["cost"].astype(float).idxmin())
            gap = 100 * (others.loc[second, "cost"] / row["cost"] - 1)
            against += f"; the next, {second}, costs {_pct(gap)}% more"
    clause = _flip_clause(study.sensitivity, EQUAL_SERVICE_SENSITIVITY, best)
    scope = guarantee_scope(study.equal_service)
    clause += uncertainty_clause(study.uncertainty, best, currency, period, scope)
    missed = missed_channels(study.targets, best)
    plan = (
        f" At its plan {best} misses {len(missed)} target{'s' if len(missed) > 1 else ''} "
        f"({', '.join(missed)}; targets.csv): this cost is its frontier's at the targets, "
        "not its plan's."
        if missed
        else ""
    )
    return f"{best} is cheapest at equal service{against}{clause}.{plan}"


def _target_clause(rows: pd.DataFrame, study: Study, best: str, currency: str) -> str:
    """What the cheapest model at its plan misses, and the cheapest that meets every target:
    a model that misses a target is no answer on its own."""
    missed = missed_targets(study.targets, best)
    if not missed:
        return ""
    count = f"{len(missed)} target{'s' if len(missed) > 1 else ''}"
    text = f" But {best} misses {count} at its plan: {'; '.join(missed)}."
    meeting = [s for s in rows.index if missed_targets(study.targets, str(s)) == []]
    if not meeting:
        return text + " No model meets every target at its plan."
    other = str(rows.loc[meeting, "estimate"].astype(float).idxmin())
    row = rows.loc[other]
    cost, interval = format_estimate(
        "cost_per_resolved_contact", row["estimate"], row["ci_low"], row["ci_high"],
        currency=currency,
    )  # fmt: skip
    return text + (
        f" The cheapest model that meets every target is {other}: {cost} {interval} per "
        "resolved contact."
    )


def _planned_sentence(
    summary: pd.DataFrame,
    comparisons: pd.DataFrame | None,
    study: Study,
    channel: str,
    baseline: str | None,
    currency: str,
) -> str:
    kpi = "cost_per_resolved_contact"
    rows = summary[
        (summary["kpi"] == kpi) & (summary["channel"] == channel) & (summary["site"] == "all")
    ]
    rows = rows[rows["estimate"].notna()].set_index("scenario")
    if rows.empty or not (rows["estimate"] > 0).any():
        return ""
    best = str(rows["estimate"].astype(float).idxmin())
    row = rows.loc[best]
    cost, interval = format_estimate(
        kpi, row["estimate"], row["ci_low"], row["ci_high"], currency=currency
    )
    text = f"{best} has the lowest cost per resolved contact at planned staffing: {cost} {interval}"
    if comparisons is not None and best != baseline:
        pair = comparisons[
            (comparisons["scenario"] == best)
            & (comparisons["kpi"] == kpi)
            & (comparisons["channel"] == channel)
            & (comparisons["site"] == "all")
        ]
        if not pair.empty:
            pair = pair.iloc[0]
            value, low, high = pair["difference"], pair["ci_low"], pair["ci_high"]
            base = pair.get("baseline_value", math.nan)
            diff, bounds = format_difference(kpi, value, low, high, base, currency=currency)
            words = _significance(
                pd.Series(
                    {
                        "difference": value,
                        "difference_low": low,
                        "difference_high": high,
                        "p_holm": pair.get("p_holm", math.nan),
                        "significant": pair["significant"],
                    }
                )
            )
            share = f" ({_pct(100 * value / base)}%)" if base else ""
            text += f", {diff}{share} {bounds} against {baseline} ({words})"
    text += _flip_clause(study.sensitivity, kpi, best)
    return text + "." + _target_clause(rows, study, best, currency)


def selection_sentence(
    study: Study, manifest: dict[str, Any], baseline: str | None, currency: str, period: str
) -> str:
    """The selection of the cheapest model in words, from the manifest's figures and
    ``selection.csv``: the guarantee with its indifference zone in ``currency`` per
    ``period`` and as a share of the baseline's cost, and what multiple comparisons with the
    best (MCB) rule out. The study's own sentence where the figures are missing."""
    entry = (manifest.get("study") or {}).get("selection") or {}
    table = study.selection
    try:
        name, zone = str(entry["selected"]), float(entry["indifference_zone"])
        level = f"{float(entry['confidence']):.0%}"
        n, needed = int(entry["replications"]), int(entry["replications_needed"])
    except (KeyError, TypeError, ValueError):
        return study.selection_sentence
    if not name or table is None or not math.isfinite(zone):
        return study.selection_sentence
    what = "cost at equal service" if entry.get("on") == "equal_service" else "cost at its plan"
    amount = format_estimate("operating_cost", zone, math.nan, math.nan, currency=currency)[0]
    zone_text = f"{amount} per {period}"
    base = table.loc[table["scenario"] == baseline, "mean"].astype(float)
    if baseline and len(base) and base.iloc[0] > 0:
        zone_text += f", {100 * zone / base.iloc[0]:.3g}% of {baseline}'s cost"
    if flag(entry.get("guaranteed")):
        text = (
            f"{name} has the lowest {what}, guaranteed the cheapest with probability at least "
            f"{level} whenever the cheapest model is cheaper than every other by at least "
            f"{zone_text} (the indifference zone)"
        )
    else:
        text = (
            f"{name} has the lowest mean {what}, but the guarantee that it is the cheapest "
            f"with probability {level} whenever the cheapest model is cheaper than every "
            f"other by at least {zone_text} needs {needed} replications, not {n}"
        )
    rows = table[table["eligible"].map(flag) & ~table["selected"].map(flag)]
    rivals = [str(r["scenario"]) for _, r in rows.iterrows() if flag(r.get("can_be_best"))]
    mcb = (
        f"multiple comparisons with the best (MCB: each model's cost minus the cheapest "
        f"other's, intervals that hold together with probability {level})"
    )
    if rivals:
        them = "them" if len(rivals) > 1 else "it"
        return (
            text + f". {', '.join(rivals)} may still be the cheapest: {mcb} do not rule {them} out."
        )
    return text + f". Every other model is costlier by {mcb}."


def answer_caveat(study: Study) -> str:
    """What the answer does not cover, in a sentence ("" when nothing to say)."""
    if study.equal_service is None:
        return (
            "Not compared at equal service (no equal_service.csv): a model staffed above its "
            "targets looks dearer than it is, one below them cheaper."
        )
    return ""


def answer_sentence(
    summary: pd.DataFrame,
    comparisons: pd.DataFrame | None,
    study: Study,
    channel: str,
    baseline: str | None,
    currency: str,
    period: str = "week",
) -> str:
    """The one-sentence answer: the cheapest model at equal service, against the baseline,
    and the uncertain inputs that can change that; else the cheapest per resolved contact at
    planned staffing; "" when the models are not priced. ``period``: what a replication
    counts (a week, a day, a run), the period of the costs."""
    if study.equal_service is not None and study.equal_service["cost"].notna().any():
        return _equal_service_sentence(study, baseline, currency, period)
    return _planned_sentence(summary, comparisons, study, channel, baseline, currency)
