"""Confidence intervals over independent replications.

Replications are i.i.d., so a KPI that is a count or a mean per replication gets the usual
Student-t interval. A ratio KPI (service level, abandonment, ASA, occupancy) is estimated
as the **ratio of totals** over replications, sum(num) / sum(den), not as the mean of the
per-replication ratios, which is biased when denominators vary; its interval comes from the
delta method (Law, *Simulation Modeling and Analysis*, ratio estimators): with
R = sum(num)/sum(den) and residuals d_i = num_i - R den_i,
se(R) = sqrt(sum d_i^2 / (n (n - 1))) / mean(den).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats

__all__ = ["Estimate", "mean_ci", "ratio_ci"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval."""

    value: float
    half_width: float
    n: int
    level: float

    @property
    def low(self) -> float:
        return self.value - self.half_width

    @property
    def high(self) -> float:
        return self.value + self.half_width

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


def _t(level: float, n: int) -> float:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    return float(_scipy_stats.t.ppf(0.5 + level / 2, n - 1)) if n > 1 else math.nan


def mean_ci(values, level: float = 0.95) -> Estimate:
    """Mean of i.i.d. values with a Student-t interval (NaN values are left out)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, 0, level)
    half = _t(level, n) * float(np.std(x, ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return Estimate(float(np.mean(x)), half, n, level)


def ratio_ci(numerators, denominators, level: float = 0.95) -> Estimate:
    """Ratio of totals over replications with a delta-method interval."""
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    n = len(num)
    total = float(den.sum())
    if n == 0 or total <= 0:
        return Estimate(math.nan, math.nan, n, level)
    ratio = float(num.sum()) / total
    if n < 2:
        return Estimate(ratio, math.nan, n, level)
    residuals = num - ratio * den
    se = math.sqrt(float(np.sum(residuals**2)) / (n * (n - 1))) / (total / n)
    return Estimate(ratio, _t(level, n) * se, n, level)
