"""Total cost over the horizon in the report's words: per model, the annual cost, the
present value of that cost over the horizon (``npv``; a cost, so lower is better: the page
does not call it a net present value, which finance reads as a project's worth) with its
range over the uncertain inputs, which the section names with the horizon's own (discount
rate, transition, workforce), and its interval for simulation noise, the one-off cost of
moving to it, the cost per resolved contact and, where the run counts customer satisfaction
(the ``csat`` KPI), CSAT and the cost per satisfied resolved contact.

Reads ``total_cost.csv`` (:mod:`ccsim.study.total_cost`); nothing here computes an
estimate."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.model.workforce import WEEKS_PER_YEAR
from ccsim.report.formatting import format_estimate, input_label
from ccsim.report.reading import experiment_that_ran, read_csv

__all__ = [
    "horizon_inputs",
    "horizon_ranges",
    "horizon_uncertain",
    "read_total_cost",
    "total_cost_section",
]

MINUS = "\N{MINUS SIGN}"
TIMES = "\N{MULTIPLICATION SIGN}"


def read_total_cost(folder: Path) -> pd.DataFrame | None:
    """``total_cost.csv`` of an output folder, or None where the study wrote none."""
    return read_csv(folder / "total_cost.csv", ("model", "annual_cost", "npv"))


def _money(value: float, currency: str) -> str:
    if not math.isfinite(value):
        return "not known"
    return format_estimate("operating_cost", value, math.nan, math.nan, currency=currency)[0]


def _scale(table: pd.DataFrame) -> tuple[float, str]:
    """Millions (or thousands) for the table's sums, so that a row fits the page: a year of
    a large centre is tens of millions, read to three figures."""
    largest = float(table["npv"].abs().max()) if "npv" in table else math.nan
    if largest >= 1e7:
        return 1e6, "M"
    if largest >= 1e4:
        return 1e3, "k"
    return 1.0, ""


def _sum(value: float, scale: tuple[float, str]) -> str:
    """A sum in the table's unit (its header names it): ``74.7`` for 74.7 million."""
    if not math.isfinite(value):
        return "not known"
    factor, unit = scale
    digits = 1 if unit else 0
    return f"{value / factor:,.{digits}f}".replace("-", MINUS)


def _range(low: float, high: float, scale: tuple[float, str]) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"{_sum(low, scale)} to {_sum(high, scale)}"


def _row(row: pd.Series, scale, currency: str, with_csat: bool, baseline: str) -> dict[str, str]:
    base = row["model"] == baseline
    cells = {
        "model": str(row["model"]),
        "annual": _sum(row["annual_cost"], scale),
        "replacement": _sum(row["replacement_cost"], scale),
        "transition": _sum(row["transition_cost"], scale),
        "npv": _sum(row["npv"], scale),
        "npv_noise": _range(row["npv_low"], row["npv_high"], scale),
        "npv_range": _range(row["npv_p05"], row["npv_p95"], scale),
        "difference": "baseline" if base else _sum(row["npv_difference"], scale),
        "difference_range": ""
        if base
        else _range(row["npv_difference_p05"], row["npv_difference_p95"], scale),
        "p_lowest": f"{row['p_lowest_npv']:.0%}" if math.isfinite(row["p_lowest_npv"]) else "",
        "per_resolved": _money(row["cost_per_resolved_contact"], currency),
    }
    if with_csat:
        csat = float(row["csat"])
        cells["csat"] = f"{csat:.1%}" if math.isfinite(csat) else "not counted"
        cells["csat_interval"] = (
            f"[{row['csat_low']:.1%}, {row['csat_high']:.1%}]" if math.isfinite(csat) else ""
        )
        cells["per_satisfied"] = _money(row["cost_per_satisfied_resolved_contact"], currency)
    return cells


def horizon_uncertain(folder: Path) -> dict[str, dict[str, tuple[float, float]]] | None:
    """``total_cost.uncertain`` of the experiment that wrote ``folder``: per input, each
    path's ``(low, high)`` (``{}`` where it names none); None where the experiment file that
    ran is not at hand unchanged."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return horizon_ranges(experiment_that_ran(manifest) if isinstance(manifest, dict) else None)


def horizon_ranges(experiment) -> dict[str, dict[str, tuple[float, float]]] | None:
    """:func:`horizon_uncertain` of an experiment already loaded (None: not at hand)."""
    if experiment is None:
        return None
    block = experiment.spec.total_cost
    uncertain = block.uncertain if block is not None else {}
    return {
        name: dict(entry.paths) if entry.paths else {name: (entry.low, entry.high)}
        for name, entry in uncertain.items()
    }


def _amounts(low: float, high: float) -> str:
    """Both ends of a range of money in the unit of the larger: "75k to 300k"."""
    largest = max(abs(low), abs(high))
    factor, unit = (1e6, " M") if largest >= 1e6 else (1e3, "k") if largest >= 1e4 else (1, "")
    if factor == 1:
        return f"{low:,.0f} to {high:,.0f}"
    return f"{low / factor:.3g}{unit} to {high / factor:.3g}{unit}"


def _span(path: str, low: float, high: float, currency: str) -> str:
    """One path's range in its unit: a rate in per cent, weeks, money, else as given."""
    field = path.split(".")[-1]
    if field in ("discount_rate", "attrition"):
        return f"{low * 100:g}% to {high * 100:g}%"
    if field.endswith("weeks"):
        return f"{low:g} to {high:g} weeks"
    if field in ("severance", "knowledge_transfer") or "cost" in field:
        return f"{_amounts(low, high)} {currency}"
    if field == "start":  # a ramp's handle-time multiplier on the first day
        return f"handle time at the start {TIMES}{low:g} to {TIMES}{high:g}"
    return f"{field.replace('_', ' ')} {low:g} to {high:g}"


def horizon_inputs(
    uncertain: dict[str, dict[str, tuple[float, float]]], currency: str
) -> list[str]:
    """Each input of ``total_cost.uncertain`` (per input, its paths' ranges) in words:
    "discount rate 5% to 12%", "ramp (start 1.2 to 1.5; 8 to 26 weeks)"; paths that share a
    range said once."""
    said = []
    for name, paths in uncertain.items():
        spans = []
        for path, (low, high) in paths.items():
            span = _span(str(path), float(low), float(high), currency)
            if span not in spans:
                spans.append(span)
        label = input_label(str(name), capital=False)
        if len(spans) == 1 and spans[0].endswith("weeks") and label.endswith(" weeks"):
            label = label.removesuffix(" weeks")  # "training 2 to 6 weeks"
        said.append(f"{label} {spans[0] if len(spans) == 1 else '(' + '; '.join(spans) + ')'}")
    return said


def _sample(folder: Path, points: int, currency: str, uncertain) -> str:
    """What the ranges are over: the joint draws of the section above, each beside a draw
    of the horizon's own inputs (``uncertain``: :func:`horizon_uncertain`), named with their
    ranges where the experiment file that ran is at hand."""
    if not points:
        return "; no input is uncertain, so only the simulation's interval is given"
    joint = (folder / "uncertainty.csv").is_file()
    draws = f"{points} joint draws of the uncertain inputs above" if joint else f"{points} draws"
    if uncertain is None:
        own = (
            "any inputs of the horizon that the experiment file names under "
            "total_cost.uncertain (not listed here: the file that ran is not at hand unchanged)"
        )
    elif uncertain:
        own = (
            f"{len(uncertain)} inputs of the horizon, drawn beside them: "
            + ", ".join(horizon_inputs(uncertain, currency))
            + " (the experiment's total_cost.uncertain)"
        )
    else:
        return f"; the ranges are 5% to 95% over {draws} (total_cost.csv)"
    return (
        f"; the ranges are 5% to 95% over {draws}, and of {own}, so they hold financing and "
        "transition assumptions as well as the operation's (total_cost.csv)"
    )


_READ = object()  # the horizon's ranges: read from the folder's manifest


def total_cost_section(
    folder: Path, currency: str, baseline: str, uncertain=_READ
) -> dict[str, Any] | None:
    """The section's data: its sentence, whether CSAT is shown, a row per model; None
    without ``total_cost.csv``. ``uncertain``: the horizon's ranges (:func:`horizon_ranges`
    of the experiment the page has loaded), else read through the folder's manifest."""
    table = read_total_cost(folder)
    if table is None or table.empty:
        return None
    with_csat = "csat" in table and bool(table["csat"].astype(float).notna().any())
    first = table.iloc[0]
    scale = _scale(table)
    years = f"{first['horizon_years']:g} years"
    points = int(first["points"])
    uncertain = horizon_uncertain(folder) if uncertain is _READ else uncertain
    sample = _sample(folder, points, currency, uncertain)
    rate = f"{first['discount_rate'] * 100:g}% a year"
    if points and "discount_rate" in (uncertain or {}):
        rate += " (the ranges vary it too)"
    return {
        "sentence": (
            f"Over {years} at a discount rate of {rate}: "
            f"the annual cost is the week at equal service times {WEEKS_PER_YEAR:.2f}, plus "
            "replacing leavers and the fixed costs; the present value of cost (a cost: lower "
            "is better) adds the one-off cost of moving to the model at the start and "
            f"discounts each year's cost at its end{sample}."
        ),
        "answer": _answer(table, scale, currency, with_csat, years),
        "csat": with_csat,
        "years": years,
        "unit": f"{scale[1]} {currency}".strip(),
        "rows": [_row(row, scale, currency, with_csat, baseline) for _, row in table.iterrows()],
    }


def _answer(table: pd.DataFrame, scale, currency: str, with_csat: bool, years: str) -> str:
    """The section's answer: the lowest present value of cost, how often it is lowest over
    the draws, and, where CSAT is counted, the models whose customers are most and least
    satisfied (what the cheapest costs them)."""
    rows = table[table["npv"].astype(float).notna()]
    if rows.empty:
        return ""
    best = rows.loc[rows["npv"].astype(float).idxmin()]
    unit = f"{scale[1]} {currency}".strip()
    text = (
        f"{best['model']} costs least over {years}: a present value of cost of "
        f"{_sum(best['npv'], scale)} {unit}"
    )
    if math.isfinite(float(best["p_lowest_npv"])):
        text += f", lowest in {best['p_lowest_npv']:.0%} of the draws"
    text += "."
    scored = rows[rows["csat"].astype(float).notna()] if with_csat else rows.iloc[0:0]
    if len(scored) > 1:
        high = scored.loc[scored["csat"].astype(float).idxmax()]
        low = scored.loc[scored["csat"].astype(float).idxmin()]
        if low["model"] == best["model"]:
            where = f"the lowest of the models, against {high['csat']:.1%} at {high['model']}"
        elif high["model"] == best["model"]:
            where = f"the highest of the models, against {low['csat']:.1%} at {low['model']}"
        else:
            where = (
                f"against {high['csat']:.1%} at {high['model']} (the highest) and "
                f"{low['csat']:.1%} at {low['model']} (the lowest)"
            )
        text += f" Its customers' CSAT is {best['csat']:.1%}, {where}."
    return text
