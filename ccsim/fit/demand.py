"""Demand from arrival times: daily volume by weekday, the intraday profile, and the day-level
overdispersion (busyness) of the Poisson-gamma model.

ccsim's demand model (:mod:`ccsim.sim.arrivals`): a day with weekday w has expected volume
V_w, spread over the customers' day by a profile of shares per reporting interval, times a
day factor B ~ Gamma(alpha, alpha). A day's count N is then negative binomial with mean V_w
and variance V_w + V_w^2 / alpha; alpha = infinity is plain Poisson.

Estimators:

- V_w: the mean count of the days with weekday w (the maximum-likelihood estimate for any
  alpha); its 95% interval uses the fitted variance V + V^2/alpha.
- profile: each reporting interval's share of all arrivals, by the local wall-clock time
  of day (so daylight saving changes the instants, not the slots).
- alpha: maximum likelihood of the negative binomial over phi = 1/alpha with the weekday
  means profiled out, adjusted as Cox and Reid (1987) propose (the adjustment edgeR uses
  for the same problem): with a handful of days per weekday, plugging in the means makes
  the plain profile likelihood underestimate the extra variance. Its 95% interval is where
  the adjusted log-likelihood is within chi2(1, 0.95)/2 of its maximum. Poisson (phi = 0)
  against overdispersion: the likelihood ratio, a boundary test (p = P(chi2_1 > LR)/2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ccsim.model.calendar import WEEKDAYS

__all__ = ["AlphaEstimate", "DemandFit", "estimate_alpha", "fit_demand"]

_CUT = stats.chi2.ppf(0.95, 1) / 2
_PHI_MAX = 50.0  # alpha 0.02: a day factor with cv 7 is beyond any centre


@dataclass(frozen=True)
class AlphaEstimate:
    """Busyness alpha (day factor B ~ Gamma(alpha, alpha)); inf means Poisson."""

    alpha: float
    ci: tuple[float, float]
    lr: float  # likelihood ratio against Poisson
    p_poisson: float
    n_days: int

    @property
    def overdispersed(self) -> bool:
        return self.p_poisson < 0.05

    def describe(self) -> str:
        def show(a: float) -> str:
            return "inf" if math.isinf(a) else f"{a:.3g}"

        verdict = "Poisson rejected" if self.overdispersed else "Poisson not rejected"
        return (
            f"alpha {show(self.alpha)} (95% {show(self.ci[0])}-{show(self.ci[1])}) from "
            f"{self.n_days} day totals; {verdict} (LR {self.lr:.1f}, p = {self.p_poisson:.3g})"
        )


def _log_nb(counts: np.ndarray, means: np.ndarray, phi: float) -> float:
    if phi < 1e-12:
        return float(np.sum(stats.poisson.logpmf(counts, means)))
    size = 1.0 / phi
    return float(
        np.sum(
            special.gammaln(counts + size)
            - special.gammaln(size)
            - special.gammaln(counts + 1)
            + size * np.log(size / (size + means))
            + counts * np.log(means / (size + means))
        )
    )


def estimate_alpha(counts, means, groups=None) -> AlphaEstimate:
    """Maximum-likelihood alpha of negative-binomial ``counts`` with ``means``.

    With ``groups`` (one label per count) the means are each group's sample mean,
    estimated from the same counts: the Cox-Reid adjustment accounts for that. Without,
    ``means`` are known (a forecast's, say). Counts with a zero mean carry no information.
    """
    counts = np.asarray(counts, dtype=float)
    means = np.asarray(means, dtype=float)
    keep = means > 0
    counts, means = counts[keep], means[keep]
    group_means = None
    if groups is not None:
        # The Cox-Reid term needs each group's mean once (its size only adds a constant).
        _, first = np.unique(np.asarray(groups)[keep], return_index=True)
        group_means = means[first]

    def loglik(phi: float) -> float:
        value = _log_nb(counts, means, phi)
        if group_means is not None:
            value += 0.5 * float(np.sum(np.log(group_means + phi * group_means**2)))
        return value

    if len(counts) < 2:
        return AlphaEstimate(math.inf, (math.nan, math.nan), 0.0, 1.0, len(counts))
    grid = np.concatenate(([0.0], np.logspace(-8, math.log10(_PHI_MAX), 80)))
    values = np.array([loglik(phi) for phi in grid])
    k = int(np.argmax(values))
    phi_hat, best = grid[k], values[k]
    if k > 0:
        low, high = grid[k - 1], grid[min(k + 1, len(grid) - 1)]
        found = optimize.minimize_scalar(lambda p: -loglik(p), bounds=(low, high), method="bounded")
        if -found.fun > best:
            phi_hat, best = float(found.x), -float(found.fun)
    lr = max(0.0, 2 * (best - loglik(0.0)))
    target = best - _CUT

    def below(phi: float) -> float:
        return loglik(phi) - target

    phi_low = 0.0 if below(0.0) >= 0 else optimize.brentq(below, 0.0, phi_hat)
    phi_high = _PHI_MAX if below(_PHI_MAX) >= 0 else optimize.brentq(below, phi_hat, _PHI_MAX)
    alpha = 1.0 / phi_hat if phi_hat > 0 else math.inf
    ci = (1.0 / phi_high, 1.0 / phi_low if phi_low > 0 else math.inf)
    return AlphaEstimate(alpha, ci, lr, float(stats.chi2.sf(lr, 1) / 2), len(counts))


@dataclass(frozen=True)
class DemandFit:
    """One channel's demand: day totals, volume per weekday, profile and alpha."""

    days: pd.DataFrame  # replication, date, weekday, count
    volume: dict[str, float]  # per weekday; 0 for a weekday never seen
    volume_ci: dict[str, tuple[float, float]]
    days_per_weekday: dict[str, int]
    profile: np.ndarray  # shares per reporting interval of the local day, sum 1
    interval: float
    alpha: AlphaEstimate
    n_arrivals: int

    def describe_volume(self) -> str:
        parts = [
            f"{day} {self.volume_ci[day][0]:,.0f}-{self.volume_ci[day][1]:,.0f} "
            f"({self.days_per_weekday[day]} days)"
            for day in WEEKDAYS
            if self.days_per_weekday[day]
        ]
        return "95% intervals: " + ", ".join(parts)


def day_counts(arrivals: pd.Series, replications: pd.Series, window) -> pd.DataFrame:
    """Contacts per (replication, local date) over every date of ``window`` (zero-filled)."""
    dates = arrivals.dt.tz_localize(None).dt.normalize()
    counted = pd.DataFrame({"replication": replications.to_numpy(), "date": dates.to_numpy()})
    totals = counted.groupby(["replication", "date"]).size()
    runs, days = window
    index = pd.MultiIndex.from_product([runs, days], names=["replication", "date"])
    frame = totals.reindex(index, fill_value=0).rename("count").reset_index()
    frame["weekday"] = [WEEKDAYS[d.weekday()] for d in frame["date"]]
    return frame


def fit_demand(arrivals: pd.Series, replications: pd.Series, window, interval: float):
    """Fit the demand of one channel from its arrival instants (aware, local).

    ``window`` is (the replications, the local dates) observed: a date inside it with no
    contact counts as a day with none.
    """
    days = day_counts(arrivals, replications, window)
    stats_by_day = days.groupby("weekday")["count"].agg(["mean", "size"])
    volume = {d: float(stats_by_day["mean"].get(d, 0.0)) for d in WEEKDAYS}
    sizes = {d: int(stats_by_day["size"].get(d, 0)) for d in WEEKDAYS}
    means = days["weekday"].map(volume).to_numpy(dtype=float)
    alpha = estimate_alpha(days["count"].to_numpy(), means, groups=days["weekday"].to_numpy())
    phi = 0.0 if math.isinf(alpha.alpha) else 1.0 / alpha.alpha
    z = stats.norm.ppf(0.975)
    volume_ci = {}
    for day in WEEKDAYS:
        v, m = volume[day], max(sizes[day], 1)
        half = z * math.sqrt((v + phi * v * v) / m)
        volume_ci[day] = (max(0.0, v - half), v + half)
    local = arrivals.dt.tz_localize(None)
    minutes = local.dt.hour * 60 + local.dt.minute + local.dt.second / 60
    slots = (minutes * 60 // interval).astype(int).to_numpy()
    per_day = int(round(86400 / interval))
    counts = np.bincount(slots, minlength=per_day)[:per_day].astype(float)
    profile = counts / counts.sum() if counts.sum() > 0 else np.full(per_day, 1 / per_day)
    return DemandFit(days, volume, volume_ci, sizes, profile, interval, alpha, len(arrivals))
