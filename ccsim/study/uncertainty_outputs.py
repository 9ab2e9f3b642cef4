"""The joint uncertainty analysis run and written: ``uncertainty.csv`` (per model and input,
the input's effect with its interval and rank, and the model's cost distribution, probability
of being cheapest and worst joint corner), ``uncertainty_points.csv`` (every point) and the
manifest's ``study.uncertainty`` entry (the break-even and the sentences). See
docs/metrics.md, "Joint uncertainty of the inputs"."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ccsim.files import write_csv
from ccsim.study.equal_service import SWEEP_COLUMNS
from ccsim.study.uncertainty import base_points, point_costs, point_jobs
from ccsim.study.uncertainty_analysis import (
    break_even,
    p_cheapest,
    regression_effects,
    worst_corner,
)

__all__ = ["UNCERTAINTY_COLUMNS", "run_points", "uncertainty_table", "write_uncertainty"]

UNCERTAINTY_COLUMNS = [
    "model", "input", "paths", "low", "high", "source", "effect", "effect_low",
    "effect_high", "src", "src_low", "src_high", "rank", "worst_end", "cost_mean",
    "cost_p05", "cost_p50", "cost_p95", "difference_p05", "difference_p50",
    "difference_p95", "p_cheapest", "p_cheapest_low", "p_cheapest_high",
    "worst_corner_cost", "worst_corner_difference", "r2", "points", "emulated",
]  # fmt: skip
#: The bootstrap's seed: a table is the same every time it is written.
_BOOTSTRAP_SEED = 20_260


def run_points(experiment, sweep, simulate: Callable[..., dict]):
    """Simulate the points (:func:`~.uncertainty.point_jobs`) by the runner's ``simulate``
    (saved blocks resumed): (bases, rows by key, fingerprints)."""
    bases = base_points(experiment, sweep)
    jobs = point_jobs(experiment, experiment.uncertainty_paths, bases)
    listed = [
        (j.key, j.fingerprint(experiment), j.model, j.scenario, j.replications, j.first)
        for j in jobs
    ]
    rows = simulate(listed, "uncertainty ", SWEEP_COLUMNS)
    frames = {key: pd.concat(parts, ignore_index=True) for key, parts in rows.items()}
    return bases, frames, {fingerprint for _, fingerprint, *_ in listed}


def _wilson(share: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's 95% interval of a share of ``n`` points."""
    if n == 0 or not math.isfinite(share):
        return math.nan, math.nan
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _quantiles(name: str, values: np.ndarray) -> dict[str, float]:
    """The 5%, 50% and 95% quantiles of ``values`` over the points."""
    q = np.quantile(values, [0.05, 0.5, 0.95])
    return {f"{name}_p05": float(q[0]), f"{name}_p50": float(q[1]), f"{name}_p95": float(q[2])}


def _range_text(spec_input, name: str) -> tuple[str, float, float]:
    ranges = spec_input.ranges(name)
    if len(ranges) == 1:
        ((low, high),) = ranges.values()
        return next(iter(ranges)), low, high
    return ";".join(f"{p}={lo:g}..{hi:g}" for p, (lo, hi) in ranges.items()), math.nan, math.nan


def uncertainty_table(experiment, points: pd.DataFrame) -> pd.DataFrame:
    """``uncertainty.csv`` from :func:`~.uncertainty.point_costs` (module docstring)."""
    spec, applicable = experiment.spec.uncertainty, experiment.uncertainty_paths
    names = list(experiment.scenarios)
    wide = points.pivot(index="point", columns="model", values="cost")[names]
    cheapest = p_cheapest(wide.to_numpy(float))
    records = []
    for m, model in enumerate(names):
        own = points[points.model == model].sort_values("point")
        cost, difference = own["cost"].to_numpy(float), own["difference"].to_numpy(float)
        inputs = applicable.inputs(model)
        x = own[inputs].to_numpy(float)
        effects = regression_effects(x, cost, seed=_BOOTSTRAP_SEED)
        corner, corner_cost = worst_corner(effects.intercept, effects.coefficient)
        at_corner = _baseline_at(experiment, points, inputs, corner)
        low_p, high_p = _wilson(float(cheapest[m]), len(wide))
        shared = {
            "cost_mean": float(np.mean(cost)),
            **_quantiles("cost", cost),
            **_quantiles("difference", difference),
            "p_cheapest": float(cheapest[m]),
            "p_cheapest_low": low_p,
            "p_cheapest_high": high_p,
            "worst_corner_cost": corner_cost,
            "worst_corner_difference": corner_cost - at_corner,
            "r2": effects.r2,
            "points": len(own),
            "emulated": bool(own["emulated"].iloc[0]),
        }
        order = np.argsort(-np.abs(effects.src), kind="stable")
        ranks = np.empty(len(inputs), int)
        ranks[order] = np.arange(1, len(inputs) + 1)
        for j, name in enumerate(inputs):
            paths, low, high = _range_text(spec.inputs[name], name)
            records.append(
                {
                    "model": model,
                    "input": name,
                    "paths": paths,
                    "low": low,
                    "high": high,
                    "source": spec.inputs[name].source,
                    "effect": float(effects.coefficient[j]),
                    "effect_low": float(effects.effect_low[j]),
                    "effect_high": float(effects.effect_high[j]),
                    "src": float(effects.src[j]),
                    "src_low": float(effects.src_low[j]),
                    "src_high": float(effects.src_high[j]),
                    "rank": int(ranks[j]),
                    "worst_end": "high" if corner[j] else "low",
                    **shared,
                }
            )
    return pd.DataFrame(records, columns=UNCERTAINTY_COLUMNS)


def _baseline_at(experiment, points: pd.DataFrame, inputs: list[str], corner) -> float:
    """The baseline's fitted cost at ``corner`` of ``inputs`` (its own inputs elsewhere at
    the middle of their ranges): what the worst corner's difference is taken against."""
    base_inputs = experiment.uncertainty_paths.inputs(experiment.baseline)
    own = points[points.model == experiment.baseline].sort_values("point")
    effects = regression_effects(own[base_inputs].to_numpy(float), own["cost"].to_numpy(float))
    where = {name: float(c) for name, c in zip(inputs, corner, strict=True)}
    x = np.array([where.get(name, 0.5) for name in base_inputs])
    return float(effects.intercept + x @ effects.coefficient)


def break_even_entry(experiment, points: pd.DataFrame) -> dict[str, Any] | None:
    """The manifest's break-even: where along its input the model costs what its cheapest
    rival does, as a position and as each path's value, with intervals; None without one."""
    spec = experiment.spec.uncertainty
    if spec.break_even is None:
        return None
    target = spec.break_even
    rivals = target.rivals or [m for m in experiment.scenarios if m != target.model]
    wide = points.pivot(index="point", columns="model", values="cost")
    difference = (wide[target.model] - wide[rivals].min(axis=1)).to_numpy(float)
    x = points[points.model == target.model].sort_values("point")[target.input].to_numpy(float)
    found = break_even(x, difference, seed=_BOOTSTRAP_SEED)
    ranges = spec.inputs[target.input].ranges(target.input)

    def at(position: float) -> dict[str, float]:
        return {p: lo + position * (hi - lo) for p, (lo, hi) in ranges.items()}

    inside = 0 <= found.position <= 1 if math.isfinite(found.position) else False

    def number(value: float) -> float | None:  # JSON has no NaN
        return value if math.isfinite(value) else None

    return {
        "input": target.input,
        "model": target.model,
        "rivals": rivals,
        "position": number(found.position),
        "position_low": number(found.low),
        "position_high": number(found.high),
        "slope": number(found.slope),
        "within_range": inside,
        "values": at(found.position) if math.isfinite(found.position) else {},
        "values_low": at(found.low) if math.isfinite(found.low) else {},
        "values_high": at(found.high) if math.isfinite(found.high) else {},
    }


def write_uncertainty(out: Path, experiment, bases, simulated) -> tuple[list[Path], dict]:
    """Write ``uncertainty.csv`` and ``uncertainty_points.csv``; the manifest's entry."""
    points = point_costs(experiment, experiment.uncertainty_paths, bases, simulated)
    table = uncertainty_table(experiment, points)
    paths = [
        write_csv(out / "uncertainty.csv", table),
        write_csv(out / "uncertainty_points.csv", points),
    ]
    spec = experiment.spec.uncertainty
    entry = {
        "points": spec.points,
        "replications": spec.replications,
        "inputs": len(spec.inputs),
        "base_cost": {name: base.cost for name, base in bases.items()},
        "base_scale": {name: base.scale for name, base in bases.items()},
        "break_even": break_even_entry(experiment, points),
    }
    return paths, entry
