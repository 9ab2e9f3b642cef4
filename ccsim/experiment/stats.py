"""Confidence intervals over independent replications.

Replications are i.i.d., so a KPI that is a count or a mean per replication gets the usual
Student-t interval. A ratio KPI (service level, abandonment, ASA, occupancy) is estimated
as the **ratio of totals** over replications, sum(num) / sum(den), not as the mean of the
per-replication ratios, which is biased when denominators vary; its interval comes from the
delta method (Law, *Simulation Modeling and Analysis*, ratio estimators): with
R = sum(num)/sum(den) and residuals d_i = num_i - R den_i,
se(R) = sqrt(sum d_i^2 / (n (n - 1))) / mean(den).

A quantile KPI (the median journey time) is read off the cumulative counts pooled over
replications, F(t) = sum(within_i(t)) / sum(customers_i) at the grid's points, linear in
between; its interval is **Woodruff's** (1952): the delta-method interval of F at the
estimated quantile t*, q +/- t se(F(t*)), mapped back through the same curve,
[F^-1(q - t se), F^-1(q + t se)]. It needs no density estimate, follows the curve's shape
(asymmetric where the quantile lies near a point where the slope changes), and equals the
linearised (Bahadur) interval q +/- t se / F'(t*) when it stays between two points. Paired
differences of quantiles use that linearisation per replication.

The normal-theory interval of a share can reach past 0 or 1 with few replications (with 2,
a service level of 60% can get [10%, 157%]); :meth:`Estimate.within` clips it to the
values the quantity can take. Clipping keeps the interval's coverage (the true value is
inside the bounds), only dropping the impossible part.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Estimate",
    "holm",
    "mean_ci",
    "mean_ci_from_sums",
    "paired_mean_difference_ci",
    "paired_quantile_difference_ci",
    "paired_ratio_difference_ci",
    "p_value",
    "quantile_ci",
    "quantile_influence",
    "ratio_ci",
    "ratio_ci_from_sums",
    "t_quantile",
]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval."""

    value: float
    half_width: float
    n: int
    level: float
    #: The values the quantity can take (a share: 0 to 1); the interval is clipped to them.
    #: An asymmetric interval (:meth:`between`) is its bounds, the half-width its wider side.
    bounds: tuple[float, float] = (-math.inf, math.inf)

    @classmethod
    def between(cls, value: float, low: float, high: float, n: int, level: float) -> Estimate:
        """An estimate with the interval ``[low, high]``, not necessarily symmetric."""
        half = max(value - low, high - value)
        return cls(value, half, n, level, (low, high))

    @property
    def low(self) -> float:
        return max(self.value - self.half_width, self.bounds[0])

    @property
    def high(self) -> float:
        return min(self.value + self.half_width, self.bounds[1])

    def within(self, lowest: float, highest: float) -> Estimate:
        """The same estimate, its interval clipped to ``[lowest, highest]``."""
        low, high = self.bounds
        return dataclasses.replace(self, bounds=(max(low, lowest), min(high, highest)))

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


@functools.lru_cache(maxsize=4096)
def _t(level: float, n: int) -> float:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    return t_quantile(level, n - 1) if n > 1 else math.nan


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


def _quantile_terms(within, totals, points, q: float):
    """The pooled quantile of cumulative counts and, per replication, its linearised term
    (x_i - q c_i) / mean(c): x_i the replication's count at the quantile t*, interpolated as
    the quantile is (so sum(x_i) = q sum(c_i)); with the slope of the pooled curve there
    (per second). None for the terms when the quantile is not inside the grid."""
    from ccsim.sim.metrics import cumulative_quantile

    within = np.asarray(within, dtype=float)
    totals = np.asarray(totals, dtype=float)
    pooled, total = within.sum(axis=0), float(totals.sum())
    value = float(cumulative_quantile(pooled, total, points, q))
    if not math.isfinite(value):
        return value, None, math.nan
    times = np.asarray(points, dtype=float)
    j = int(np.argmax(pooled >= q * total))  # the point after t* (at t* if on it)
    before_t = times[j - 1] if j > 0 else 0.0
    before = within[:, j - 1] if j > 0 else np.zeros(len(totals))
    w = (value - before_t) / (times[j] - before_t)
    at = (1 - w) * before + w * within[:, j]
    slope = (pooled[j] - (pooled[j - 1] if j > 0 else 0.0)) / total / (times[j] - before_t)
    return value, (at - q * totals) / totals.mean(), slope


def quantile_ci(within, totals, points, q: float = 0.5, level: float = 0.95) -> Estimate:
    """The ``q`` quantile of cumulative counts pooled over replications (``within``: one row
    per replication, one column per time in ``points``; ``totals``: the denominator per
    replication), with Woodruff's interval (module docstring). The upper end is ``inf``
    when q + t se passes the share counted by the last point."""
    from ccsim.sim.metrics import cumulative_quantile

    value, terms, _ = _quantile_terms(within, totals, points, q)
    n = len(np.asarray(totals))
    if terms is None or n < 2:
        return Estimate(value, math.nan, n, level)
    half = _t(level, n) * math.sqrt(float(np.sum(terms**2)) / (n * (n - 1)))
    pooled = np.asarray(within, dtype=float).sum(axis=0)
    total = float(np.asarray(totals, dtype=float).sum())

    def inverse(share: float) -> float:
        if share <= 0:
            return 0.0
        return float(cumulative_quantile(pooled, total, points, share)) if share < 1 else math.inf

    return Estimate.between(value, inverse(q - half), inverse(q + half), n, level)


def paired_quantile_difference_ci(
    within_a, totals_a, within_b, totals_b, points, q: float = 0.5, level: float = 0.95
) -> Estimate:
    """Q_a - Q_b for quantiles of pooled cumulative counts over paired replications: each
    replication's linearised term divided by the slope of its scenario's curve at the
    quantile (Bahadur), the difference of the two terms per pair giving the interval, as
    :func:`paired_ratio_difference_ci` does for ratios. NaN where either quantile lies
    outside the grid."""
    value_a, terms_a, slope_a = _quantile_terms(within_a, totals_a, points, q)
    value_b, terms_b, slope_b = _quantile_terms(within_b, totals_b, points, q)
    n = len(np.asarray(totals_a))
    difference = value_a - value_b
    if terms_a is None or terms_b is None:
        return Estimate(math.nan, math.nan, n, level)
    if n < 2:
        return Estimate(difference, math.nan, n, level)
    # A share above q at t* means the quantile came earlier: the term changes sign.
    terms = -terms_a / slope_a + terms_b / slope_b
    se = math.sqrt(float(np.sum(terms**2)) / (n * (n - 1)))
    return Estimate(difference, _t(level, n) * se, n, level)


def mean_ci_from_sums(total: float, total_sq: float, n: int, level: float = 0.95) -> Estimate:
    """:func:`mean_ci` from the running sums sum(x) and sum(x^2): for streaming aggregation,
    where the values themselves are not kept."""
    if n == 0:
        return Estimate(math.nan, math.nan, 0, level)
    mean = total / n
    if n < 2:
        return Estimate(mean, math.nan, n, level)
    variance = max(total_sq - total * mean, 0.0) / (n - 1)
    return Estimate(mean, _t(level, n) * math.sqrt(variance / n), n, level)


def ratio_ci_from_sums(
    num: float,
    den: float,
    num_sq: float,
    den_sq: float,
    num_den: float,
    n: int,
    level: float = 0.95,
) -> Estimate:
    """:func:`ratio_ci` from running sums: sum(d_i^2) = NN - 2 R ND + R^2 DD."""
    if n == 0 or den <= 0:
        return Estimate(math.nan, math.nan, n, level)
    ratio = num / den
    if n < 2:
        return Estimate(ratio, math.nan, n, level)
    squares = max(num_sq - 2 * ratio * num_den + ratio**2 * den_sq, 0.0)
    se = math.sqrt(squares / (n * (n - 1))) / (den / n)
    return Estimate(ratio, _t(level, n) * se, n, level)


def paired_mean_difference_ci(x, y, level: float = 0.95) -> Estimate:
    """Mean of x_i - y_i over paired replications (common random numbers) with a t interval."""
    return mean_ci(np.asarray(x, dtype=float) - np.asarray(y, dtype=float), level)


def paired_ratio_difference_ci(num_a, den_a, num_b, den_b, level: float = 0.95) -> Estimate:
    """R_a - R_b for ratios of totals over paired replications, by the delta method.

    Each replication contributes the difference of its linearised terms,
    (num_a - R_a den_a)/mean(den_a) - (num_b - R_b den_b)/mean(den_b); the pairing (the same
    random numbers in both scenarios) makes them strongly correlated, which is what shrinks
    the interval of the difference.
    """
    num_a, den_a, num_b, den_b = (np.asarray(v, dtype=float) for v in (num_a, den_a, num_b, den_b))
    n = len(num_a)
    if n == 0 or den_a.sum() <= 0 or den_b.sum() <= 0:
        return Estimate(math.nan, math.nan, n, level)
    ratio_a, ratio_b = num_a.sum() / den_a.sum(), num_b.sum() / den_b.sum()
    difference = float(ratio_a - ratio_b)
    if n < 2:
        return Estimate(difference, math.nan, n, level)
    terms = (num_a - ratio_a * den_a) / den_a.mean() - (num_b - ratio_b * den_b) / den_b.mean()
    se = math.sqrt(float(np.sum(terms**2)) / (n * (n - 1)))
    return Estimate(difference, _t(level, n) * se, n, level)


def p_value(estimate: Estimate) -> float:
    """Two-sided p-value of "the true difference is 0", from a paired :class:`Estimate`.

    The interval's half-width is t(level, n - 1) se, so se and the t statistic come back from
    it; a zero half-width (every replication gave the same difference) gives p = 1 for a zero
    difference and p = 0 otherwise. NaN when the interval is unknown (fewer than two pairs).
    """
    value, half, n = estimate.value, estimate.half_width, estimate.n
    if math.isnan(value) or math.isnan(half) or n < 2:
        return math.nan
    if half == 0:
        return 1.0 if value == 0 else 0.0
    from scipy import stats

    statistic = abs(value) / (half / _t(estimate.level, n))
    return float(2 * stats.t.sf(statistic, n - 1))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (Holm 1979).

    With the m known p-values sorted, p_(1) <= ... <= p_(m), the adjusted value of p_(i) is
    max over j <= i of min(1, (m - j + 1) p_(j)). Rejecting where the adjusted value is below
    alpha keeps the chance of any false "significant" in the family at most alpha, whatever
    the dependence between the tests (and comparisons that share a baseline are dependent).
    NaN p-values are left NaN and do not count in m.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, math.nan)
    known = np.flatnonzero(~np.isnan(p))
    m = len(known)
    if m == 0:
        return adjusted
    order = known[np.argsort(p[known], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def quantile_influence(within, totals, points, q: float) -> tuple[float, np.ndarray | None]:
    """The pooled quantile of :func:`quantile_ci` and each replication's term in its
    linearisation (Bahadur): -(x_i - q c_i) / mean(c) / F'(t*), of mean zero, whose
    sum of squares over n (n - 1) is the quantile's variance; None past the grid."""
    value, terms, slope = _quantile_terms(within, totals, points, q)
    # A share above q at t* means the quantile came earlier: the term changes sign.
    return value, None if terms is None else -terms / slope


def t_quantile(level: float, df: float) -> float:
    """The two-sided Student-t quantile of ``level`` with ``df`` (not necessarily whole)
    degrees of freedom: a Welch interval's."""
    # scipy.special's inverse of Student's t distribution, which scipy.stats' t.ppf calls
    # (times a scale of 1, plus a location of 0: the same value): scipy.stats costs 0.8 s
    # of CPU at start-up, in every worker process, scipy.special 0.15.
    from scipy import special

    return float(special.stdtrit(df, 0.5 + level / 2)) if df > 0 else math.nan
