"""Patience from censored waits.

A contact that abandoned after waiting w had patience w; one that was answered (or left
otherwise) after waiting w had a patience of *more* than w, and nothing more is known: the
answered contacts are right-censored. Ignoring them is wrong both ways: the mean wait of
the abandoners alone is biased low (only the impatient abandon, and only before they were
served), and dropping the censoring throws away most of the information.

Estimators (independent censoring assumed: how long a caller waits before an agent comes
free does not depend on their patience):

- **exponential**, closed form: theta = abandoned / total waiting time of every contact that
  waited (the domain notes' P(Ab)/E[W]); mean patience 1/theta, 95% interval from the
  information d (Wald on the log scale);
- **Kaplan-Meier**, no assumed shape (``scipy.stats.ecdf`` on ``CensoredData``, log-log
  intervals): the survival of patience up to the longest wait seen, beyond which the data
  say nothing;
- the censored **lognormal** and **gamma** (ccsim families) and the **Weibull** (a
  diagnostic: its shape 1 is the exponential; a likelihood-ratio test says whether the
  hazard changes with the wait), by maximum likelihood; AIC picks the scenario's family.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ccsim.fit.durations import FamilyFit, fit_family

__all__ = ["PatienceFit", "fit_patience"]

#: Families the scenario may get (ccsim's distributions); Weibull is only a diagnostic.
PATIENCE_FAMILIES = ("exponential", "lognormal", "gamma")

#: An abandonment "at once" (wait 0, as exports round) is taken at half a second.
_AT_ONCE = 0.5


@dataclass(frozen=True)
class PatienceFit:
    n_abandoned: int
    n_censored: int  # answered or left otherwise after waiting > 0
    total_wait: float
    fits: dict[str, FamilyFit]
    chosen: FamilyFit
    weibull: FamilyFit
    weibull_lr_p: float  # H0: Weibull shape 1 (exponential)
    km_times: np.ndarray
    km_survival: np.ndarray
    km_low: np.ndarray
    km_high: np.ndarray
    km_median: float  # nan when the survival never falls to 1/2 within the waits seen
    naive_mean: float  # the abandoners' mean wait: biased low, shown for contrast

    @property
    def exponential(self) -> FamilyFit:
        return self.fits["exponential"]

    @property
    def theta(self) -> float:
        """Abandonment rate per second of waiting (exponential patience)."""
        return self.n_abandoned / self.total_wait

    def km_at(self, t: float) -> tuple[float, float, float]:
        """Kaplan-Meier survival P(patience > t) with its 95% interval."""
        k = np.searchsorted(self.km_times, t, side="right") - 1
        if k < 0:
            return (1.0, 1.0, 1.0)
        return (float(self.km_survival[k]), float(self.km_low[k]), float(self.km_high[k]))

    def describe(self) -> str:
        e, c = self.exponential, self.chosen
        median = f"{self.km_median:.0f}s" if math.isfinite(self.km_median) else "not reached"
        return (
            f"{c.family} by AIC among censored fits ("
            + ", ".join(f"{n} {f.aic:,.1f}" for n, f in self.fits.items())
            + f"); {self.n_abandoned:,} abandoned, {self.n_censored:,} censored (answered after "
            f"waiting), total wait {self.total_wait:,.0f}s; exponential mean {e.mean:.1f}s "
            f"(95% {e.mean_ci[0]:.1f}-{e.mean_ci[1]:.1f}); Weibull shape "
            f"{self.weibull.parameter:.3f} (exponential p = {self.weibull_lr_p:.3g}); "
            f"Kaplan-Meier median {median}; naive mean of abandoners' waits "
            f"{self.naive_mean:.1f}s (biased low)"
        )


def fit_patience(waits, abandoned) -> PatienceFit:
    """Fit patience to contacts' ``waits`` (seconds) and whether each ``abandoned``.

    Contacts that never waited (answered at once) carry no information and drop out of
    every estimator by themselves (a bound of 0).
    """
    waits = np.asarray(waits, dtype=float)
    abandoned = np.asarray(abandoned, dtype=bool)
    events = np.where(waits[abandoned] > 0, waits[abandoned], _AT_ONCE)
    censored = waits[~abandoned]
    censored = censored[censored > 0]
    if len(events) == 0:
        raise ValueError("no abandoned contacts: patience cannot be estimated")
    fits = {family: fit_family(family, events, censored) for family in PATIENCE_FAMILIES}
    chosen = min(fits.values(), key=lambda fit: fit.aic)
    weibull = fit_family("weibull", events, censored)
    lr = max(0.0, 2 * (weibull.log_likelihood - fits["exponential"].log_likelihood))
    km = stats.ecdf(stats.CensoredData(uncensored=events, right=censored)).sf
    with warnings.catch_warnings():  # undefined at the last points: NaN, handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        band = km.confidence_interval(0.95, method="log-log")
    times = np.asarray(km.quantiles, dtype=float)
    survival = np.asarray(km.probabilities, dtype=float)
    low = np.nan_to_num(np.asarray(band.low.probabilities, dtype=float), nan=0.0)
    high = np.nan_to_num(np.asarray(band.high.probabilities, dtype=float), nan=1.0)
    below = np.flatnonzero(survival <= 0.5)
    return PatienceFit(
        n_abandoned=len(events),
        n_censored=len(censored),
        total_wait=float(events.sum() + censored.sum()),
        fits=fits,
        chosen=chosen,
        weibull=weibull,
        weibull_lr_p=float(stats.chi2.sf(lr, 1)),
        km_times=times,
        km_survival=survival,
        km_low=low,
        km_high=high,
        km_median=float(times[below[0]]) if len(below) else math.nan,
        naive_mean=float(events.mean()),
    )
