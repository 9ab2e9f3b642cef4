"""What the joint sample of the uncertain inputs says: which inputs matter, which model is
cheapest how often, where a model breaks even, and each model's worst joint corner.

Everything here is arithmetic on the points (positions of the inputs, one cost per model and
point); nothing is simulated. The effect of an input is read off a linear regression of the
cost on every input at once over the joint sample: its **standardized regression
coefficient** (SRC: the coefficient times the input's standard deviation over the cost's;
with independent inputs, SRC squared is the share of the cost's variance the input explains
when the response is linear, and R squared says how far it is) and its **effect** (the
coefficient times the input's range: what the cost moves from its low end to its high end,
the others held). Intervals are percentile bootstrap intervals over the points (resampled
with a fixed seed, so a table is reproducible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOOTSTRAP",
    "BreakEven",
    "Effects",
    "break_even",
    "linear_fit",
    "p_cheapest",
    "regression_effects",
    "worst_corner",
]

#: Bootstrap resamples of the points: the 2.5% and 97.5% quantiles of 1,000 are within about
#: 1% of their limit.
BOOTSTRAP = 1000


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Least squares of ``y`` on the columns of ``x`` with an intercept: (intercept,
    coefficients)."""
    design = np.column_stack([np.ones(len(x)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(beta[0]), beta[1:]


@dataclass(frozen=True)
class Effects:
    """Per input (columns of the sample): coefficient per unit of position, SRC and the
    effect over the range, each with its 95% bootstrap interval; R squared of the fit."""

    coefficient: np.ndarray
    src: np.ndarray
    src_low: np.ndarray
    src_high: np.ndarray
    effect_low: np.ndarray
    effect_high: np.ndarray
    r2: float
    intercept: float


def _src(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    intercept, beta = linear_fit(x, y)
    sd_y = float(np.std(y))
    sd_x = np.std(x, axis=0)
    src = beta * sd_x / sd_y if sd_y > 0 else np.zeros_like(beta)
    return beta, src, intercept


def regression_effects(
    positions: np.ndarray, y: np.ndarray, level: float = 0.95, seed: int = 0
) -> Effects:
    """Standardized regression coefficients of ``y`` on ``positions`` (points x inputs,
    each input's position in its range, 0 to 1), and each input's effect from its low to
    its high end (the coefficient, as positions span 1), with bootstrap intervals over the
    points."""
    n = len(y)
    beta, src, intercept = _src(positions, y)
    fitted = intercept + positions @ beta
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1 - float(np.sum((y - fitted) ** 2)) / total if total > 0 else 1.0
    rng = np.random.default_rng(seed)
    betas, srcs = [], []
    for _ in range(BOOTSTRAP):
        take = rng.integers(0, n, n)
        b, s, _ = _src(positions[take], y[take])
        betas.append(b)
        srcs.append(s)
    tail = 100 * (1 - level) / 2
    betas_a, srcs_a = np.array(betas), np.array(srcs)
    return Effects(
        coefficient=beta,
        src=src,
        src_low=np.percentile(srcs_a, tail, axis=0),
        src_high=np.percentile(srcs_a, 100 - tail, axis=0),
        effect_low=np.percentile(betas_a, tail, axis=0),
        effect_high=np.percentile(betas_a, 100 - tail, axis=0),
        r2=r2,
        intercept=intercept,
    )


def p_cheapest(costs: np.ndarray) -> np.ndarray:
    """Per model (columns), the share of points (rows) at which it costs least; a point
    where no model has a cost counts for none, ties go to the first."""
    known = ~np.isnan(costs).all(axis=1)
    rows = costs[known]
    if len(rows) == 0:
        return np.full(costs.shape[1], math.nan)
    winners = np.nanargmin(rows, axis=1)
    return np.bincount(winners, minlength=costs.shape[1]) / len(rows)


@dataclass(frozen=True)
class BreakEven:
    """The position of the input where the fitted difference is 0, its 95% bootstrap
    interval, and the slope of the difference per unit of position (below 0: the model
    gains as the input rises)."""

    position: float
    low: float
    high: float
    slope: float


def _root(x: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    intercept, beta = linear_fit(x[:, None], d)
    slope = float(beta[0])
    return (-intercept / slope if slope != 0 else math.nan), slope


def break_even(x: np.ndarray, difference: np.ndarray, level: float = 0.95, seed: int = 0):
    """Where the straight line of ``difference`` (a model's cost minus its best rival's, per
    point) on ``x`` (the input's position) crosses 0, with a bootstrap interval over the
    points. The other inputs vary over the sample too: the line is their average effect."""
    known = ~np.isnan(difference)
    x, difference = x[known], difference[known]
    position, slope = _root(x, difference)
    rng = np.random.default_rng(seed)
    roots = []
    for _ in range(BOOTSTRAP):
        take = rng.integers(0, len(x), len(x))
        roots.append(_root(x[take], difference[take])[0])
    tail = 100 * (1 - level) / 2
    roots_a = np.array(roots)
    roots_a = roots_a[np.isfinite(roots_a)]
    if len(roots_a) == 0:
        return BreakEven(position, math.nan, math.nan, slope)
    low, high = np.percentile(roots_a, [tail, 100 - tail])
    return BreakEven(position, float(low), float(high), slope)


def worst_corner(intercept: float, coefficient: np.ndarray) -> tuple[np.ndarray, float]:
    """The corner of the inputs' ranges (each at its low end, 0, or high end, 1) where the
    fitted cost is highest, and that cost: each input at the end that raises it."""
    corner = (coefficient > 0).astype(float)
    return corner, float(intercept + corner @ coefficient)
