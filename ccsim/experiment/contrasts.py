"""Linear contrasts of KPI estimates over paired replications: differences between any two
scenarios, the effects of a factorial grid, and what common random numbers bought.

Every estimate of a KPI over replications (a mean, a ratio of totals, a pooled quantile) is
linearised (:class:`Linearised`): its value and one term per replication whose sum of
squares gives its variance, the same delta-method and Bahadur terms that :mod:`.stats`
uses for a scenario's own interval. Under common random numbers replication r of every
scenario shares its seeds, so a contrast sum(w_j theta_j) has the terms sum(w_j t_rj) and a
t interval over the replications (:func:`contrast_ci`); the same contrast on independent
random numbers would have the variance sum(w_j^2 var_j) (:func:`unpaired_contrast_ci`,
with Welch's degrees of freedom), and their ratio (:func:`variance_reduction`) is the
factor by which the pairing cut the replications a given precision needs (Law,
*Simulation Modeling and Analysis*, common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccsim.experiment.stats import Estimate, p_value, quantile_influence, t_quantile
from ccsim.sim.kpis import KPIS, MEAN, QUANTILE, Kpi

__all__ = [
    "Linearised",
    "RowParts",
    "contrast_ci",
    "contrast_columns",
    "linearise",
    "row_parts",
    "unpaired_contrast_ci",
    "variance_reduction",
]


@dataclass(frozen=True)
class Linearised:
    """An estimate over replications and each replication's term in its linearisation: the
    terms have mean zero and the estimate's variance is sum(terms^2) / (n (n - 1)). For a
    mean the terms are x_r - mean(x); for a ratio of totals (num_r - R den_r) / mean(den);
    for a quantile Bahadur's (:func:`~.stats.quantile_influence`). ``terms`` is None where
    the estimate has no interval (a quantile past the grid, a count with gaps)."""

    value: float
    terms: np.ndarray | None


def linearise(group: pd.DataFrame, kpi: Kpi) -> Linearised:
    """``kpi`` over the replication rows of one scenario, channel and site, as
    :func:`~.summary.summarise` estimates it, linearised."""
    if group.empty:
        return Linearised(math.nan, None)
    if kpi.aggregate == MEAN:
        x = group[kpi.name].to_numpy(dtype=float)
        if np.isnan(x).any():
            return Linearised(float(np.nanmean(x)) if not np.isnan(x).all() else math.nan, None)
        return Linearised(float(x.mean()), x - x.mean())
    den = group[list(kpi.denominator)].sum(axis=1).to_numpy(dtype=float)
    if kpi.aggregate == QUANTILE:
        within = group[list(kpi.numerator)].to_numpy(dtype=float)
        return Linearised(*quantile_influence(within, den, kpi.points, kpi.quantile))
    num = group[list(kpi.numerator)].sum(axis=1).to_numpy(dtype=float)
    if den.sum() <= 0:
        return Linearised(math.nan, None)
    ratio = float(num.sum() / den.sum())
    return Linearised(ratio, (num - ratio * den) / den.mean())


@dataclass(frozen=True)
class RowParts:
    """One scenario's KPIs of one channel and site, linearised, and the replications they
    come from (in order: terms of two scenarios pair by position)."""

    replications: tuple[int, ...]
    kpis: dict[str, Linearised]


def row_parts(frame: pd.DataFrame, sites: Sequence[str] | None = None) -> dict:
    """Per (channel, site) of one scenario's replication rows (only ``sites`` when given),
    its :class:`RowParts`: every KPI of the row that the table holds."""
    parts = {}
    for (channel, site), group in frame.groupby(["channel", "site"], sort=False, observed=True):
        if sites is not None and site not in sites:
            continue
        group = group.sort_values("replication")
        kpis = [k for k in KPIS.values() if (site == "all" or k.site_level) and k.name in group]
        parts[(channel, site)] = RowParts(
            tuple(int(r) for r in group["replication"]), {k.name: linearise(group, k) for k in kpis}
        )
    return parts


def _combined(weights, parts) -> tuple[float, np.ndarray | None, int]:
    weights = [float(w) for w in weights]
    value = float(sum(w * part.value for w, part in zip(weights, parts, strict=True)))
    if any(part.terms is None for part in parts):
        return value, None, 0
    n = len(parts[0].terms)
    if any(len(part.terms) != n for part in parts):
        raise ValueError("the estimates of a contrast must come from the same replications")
    terms = sum(w * part.terms for w, part in zip(weights, parts, strict=True))
    return value, np.asarray(terms, dtype=float), n


def contrast_ci(weights, parts: Sequence[Linearised], level: float = 0.95) -> Estimate:
    """sum(w_j theta_j) over estimates from paired replications (common random numbers),
    with the t interval (n - 1 degrees of freedom) of its per-replication terms. For a
    difference, weights (1, -1), it is :func:`~.stats.paired_mean_difference_ci`,
    :func:`~.stats.paired_ratio_difference_ci` or
    :func:`~.stats.paired_quantile_difference_ci`."""
    value, terms, n = _combined(weights, parts)
    if terms is None or n < 2:
        return Estimate(value, math.nan, n, level)
    se = math.sqrt(float(np.sum(terms**2)) / (n * (n - 1)))
    return Estimate(value, t_quantile(level, n - 1) * se, n, level)


def _unpaired_shares(weights, parts) -> np.ndarray | None:
    """Per estimate, w_j^2 s_j^2 / n: its share of the contrast's variance were the
    estimates independent (the marginal variances are the same with or without common
    random numbers)."""
    if any(part.terms is None for part in parts) or len(parts[0].terms) < 2:
        return None
    n = len(parts[0].terms)
    return np.array(
        [
            float(w) ** 2 * float(np.sum(p.terms**2)) / (n * (n - 1))
            for w, p in zip(weights, parts, strict=True)
        ]
    )


def unpaired_contrast_ci(weights, parts: Sequence[Linearised], level: float = 0.95) -> Estimate:
    """The contrast of :func:`contrast_ci` with the interval it would have had on
    independent random numbers: variance V = sum(v_j), v_j = w_j^2 s_j^2 / n, and the
    Welch-Satterthwaite degrees of freedom V^2 / sum(v_j^2 / (n - 1))."""
    value = float(sum(float(w) * p.value for w, p in zip(weights, parts, strict=True)))
    shares = _unpaired_shares(weights, parts)
    if shares is None:
        n = 0 if parts[0].terms is None else len(parts[0].terms)
        return Estimate(value, math.nan, n, level)
    n, variance = len(parts[0].terms), float(shares.sum())
    if variance == 0:
        return Estimate(value, 0.0, n, level)
    df = variance**2 / float(np.sum(shares**2 / (n - 1)))
    return Estimate(value, t_quantile(level, df) * math.sqrt(variance), n, level)


def variance_reduction(weights, parts: Sequence[Linearised]) -> float:
    """The contrast's variance on independent random numbers over its variance on common
    ones, sum(w_j^2 s_j^2) / s^2(sum_j w_j t_rj): the factor by which the pairing cut the
    replications a given precision needs (1: it bought nothing; below 1: it cost). NaN
    without an interval or when both are zero; inf when only the paired one is."""
    shares = _unpaired_shares(weights, parts)
    _, terms, n = _combined(weights, parts)
    if shares is None or terms is None:
        return math.nan
    paired = float(np.sum(terms**2)) / (n * (n - 1))
    unpaired = float(shares.sum())
    if paired == 0:
        return math.nan if unpaired == 0 else math.inf
    return unpaired / paired


def contrast_columns(
    weights, parts: Sequence[Linearised], kpi: Kpi, level: float = 0.95
) -> tuple[Estimate, dict]:
    """A contrast's paired estimate (a difference of shares clipped to [-1, 1]) and the
    columns every contrast table shares: interval, n, p-value and what the pairing bought."""
    estimate = contrast_ci(weights, parts, level)
    if kpi.kind == "share":
        estimate = estimate.within(-1.0, 1.0)
    unpaired = unpaired_contrast_ci(weights, parts, level)
    return estimate, {
        "ci_low": estimate.low,
        "ci_high": estimate.high,
        "half_width": estimate.half_width,
        "n": estimate.n,
        "p_value": p_value(estimate),
        "half_width_unpaired": unpaired.half_width,
        "variance_reduction": variance_reduction(weights, parts),
    }
