"""Total cost over the horizon in the report's words: per model, the annual cost, the net
present value with its range over the uncertain inputs and its interval for simulation
noise, the one-off cost of moving to it, the cost per resolved contact and, where the run
counts customer satisfaction (the ``csat`` KPI), CSAT and the cost per satisfied resolved
contact.

Reads ``total_cost.csv`` (:mod:`ccsim.study.total_cost`); nothing here computes an
estimate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.model.workforce import WEEKS_PER_YEAR
from ccsim.report.formatting import format_estimate
from ccsim.report.reading import read_csv

__all__ = ["read_total_cost", "total_cost_section"]

MINUS = "\N{MINUS SIGN}"


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


def total_cost_section(folder: Path, currency: str, baseline: str) -> dict[str, Any] | None:
    """The section's data: its sentence, whether CSAT is shown, a row per model; None
    without ``total_cost.csv``."""
    table = read_total_cost(folder)
    if table is None or table.empty:
        return None
    with_csat = "csat" in table and bool(table["csat"].astype(float).notna().any())
    first = table.iloc[0]
    scale = _scale(table)
    points = int(first["points"])
    sample = (
        f"; the ranges are 5% to 95% over {points} joint draws of the uncertain inputs "
        "(total_cost.csv)"
        if points
        else "; no input is uncertain, so only the simulation's interval is given"
    )
    return {
        "sentence": (
            f"Over {first['horizon_years']:g} years at a discount rate of "
            f"{first['discount_rate'] * 100:g}% a year: the annual cost is the week at equal "
            f"service times {WEEKS_PER_YEAR:.2f}, plus replacing leavers and the fixed "
            "costs; the net present value adds the one-off cost of moving to the model at "
            f"the start and discounts each year's cost at its end{sample}."
        ),
        "answer": _answer(table, scale, currency, with_csat),
        "csat": with_csat,
        "unit": f"{scale[1]} {currency}".strip(),
        "rows": [_row(row, scale, currency, with_csat, baseline) for _, row in table.iterrows()],
    }


def _answer(table: pd.DataFrame, scale, currency: str, with_csat: bool) -> str:
    """The section's answer: the lowest net present value, how often it is lowest over the
    draws, and, where CSAT is counted, the models whose customers are most and least
    satisfied (what the cheapest costs them)."""
    rows = table[table["npv"].astype(float).notna()]
    if rows.empty:
        return ""
    best = rows.loc[rows["npv"].astype(float).idxmin()]
    unit = f"{scale[1]} {currency}".strip()
    text = f"{best['model']} has the lowest net present value, {_sum(best['npv'], scale)} {unit}"
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
