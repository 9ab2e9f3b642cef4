"""Duration distributions fitted by maximum likelihood: handle times (fully observed) and,
with right-censoring, patience (:mod:`ccsim.fit.patience`).

Each family is parametrised the way ccsim's scenarios are (:mod:`ccsim.model.distributions`):
by its mean and coefficient of variation, optimised on the log scale. The 95% interval of
the mean (and of the cv) comes from the observed information, the numerical Hessian of the
negative log-likelihood at the optimum (Wald on the log scale, so it stays positive). The
families are compared by AIC = 2k - 2 log L; the Kolmogorov-Smirnov distance of the chosen
one to the data says how far off it is (its p-value would be too kind: the parameters were
fitted to the same data, so only the distance is reported). Erlang is the gamma with an
integer shape k; its k is not counted as a parameter (see ``_fit_erlang``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

__all__ = ["FAMILIES", "FamilyFit", "HandleTimeFit", "fit_family", "fit_handle_times"]

_Z = stats.norm.ppf(0.975)


def _lognormal(mean: float, cv: float):
    sigma2 = math.log1p(cv * cv)
    return stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2))


def _gamma(mean: float, cv: float):
    shape = 1.0 / (cv * cv)
    return stats.gamma(shape, scale=mean / shape)


def _weibull(mean: float, shape: float):
    return stats.weibull_min(shape, scale=mean / special.gamma(1.0 + 1.0 / shape))


#: name -> (frozen scipy distribution from (mean, second parameter), its parameter's name).
FAMILIES: dict[str, tuple[Callable, str | None]] = {
    "exponential": (lambda mean, _: stats.expon(scale=mean), None),
    "lognormal": (_lognormal, "cv"),
    "gamma": (_gamma, "cv"),
    "erlang": (lambda mean, k: stats.gamma(k, scale=mean / k), "k"),
    # Not a ccsim distribution: a diagnostic for patience (shape 1 is the exponential).
    "weibull": (_weibull, "shape"),
}


@dataclass(frozen=True)
class FamilyFit:
    """One family fitted: its mean and second parameter with 95% intervals."""

    family: str
    mean: float
    mean_ci: tuple[float, float]
    parameter: float | None  # cv (lognormal, gamma), k (Erlang), shape (Weibull)
    parameter_ci: tuple[float, float] | None
    log_likelihood: float
    n_parameters: int
    n_events: int
    n_censored: int

    @property
    def aic(self) -> float:
        return 2 * self.n_parameters - 2 * self.log_likelihood

    @property
    def frozen(self):
        make, _ = FAMILIES[self.family]
        return make(self.mean, self.parameter)

    @property
    def cv(self) -> float:
        mean, var = self.frozen.stats("mv")
        return float(math.sqrt(var) / mean)

    def distribution(self) -> dict:
        """The scenario's distribution: ``{dist: ..., mean: ..., cv|k: ...}``."""
        spec: dict = {"dist": self.family, "mean": round(self.mean, 3)}
        if self.family in ("lognormal", "gamma"):
            spec["cv"] = round(float(self.parameter), 4)
        elif self.family == "erlang":
            spec["k"] = int(self.parameter)
        return spec


def _log_likelihood(make, events: np.ndarray, censored: np.ndarray, mean, second) -> float:
    dist = make(mean, second)
    value = float(np.sum(dist.logpdf(events)))
    if len(censored):
        value += float(np.sum(dist.logsf(censored)))
    return value if math.isfinite(value) else -math.inf


def _hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (log parameters: a relative step)."""
    n = len(x)
    h = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            value = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * step * step
            )
            h[i, j] = h[j, i] = value
    return h


def _interval(log_value: float, variance: float) -> tuple[float, float]:
    if not variance > 0 or not math.isfinite(variance):
        return (math.nan, math.nan)
    half = _Z * math.sqrt(variance)
    return (math.exp(log_value - half), math.exp(log_value + half))


def fit_family(family: str, events, censored=None) -> FamilyFit:
    """Maximum-likelihood fit of ``family`` to ``events`` (observed durations, > 0) and
    ``censored`` (durations known only to exceed these values: right-censored)."""
    events = np.asarray(events, dtype=float)
    censored = np.asarray(censored if censored is not None else [], dtype=float)
    censored = censored[censored > 0]  # a bound of 0 says nothing
    if len(events) == 0:
        raise ValueError("no observed durations to fit")
    make, second_name = FAMILIES[family]
    # Start from the moments of the observed values (or the exposure for the mean).
    start_mean = (events.sum() + censored.sum()) / len(events)
    start_cv = max(float(np.std(events) / np.mean(events)), 0.05)
    if family == "exponential":
        mean = start_mean  # closed form: exposure over events
        loglik = _log_likelihood(make, events, censored, mean, None)
        variance = 1.0 / len(events)  # of log mean: Fisher information d
        return FamilyFit(
            family,
            mean,
            _interval(math.log(mean), variance),
            None,
            None,
            loglik,
            1,
            len(events),
            len(censored),
        )
    if family == "erlang":
        return _fit_erlang(events, censored)
    second0 = start_cv if second_name == "cv" else 1.0

    def negative(x: np.ndarray) -> float:
        value = -_log_likelihood(make, events, censored, math.exp(x[0]), math.exp(x[1]))
        return value if math.isfinite(value) else 1e300

    x0 = np.log([start_mean if len(censored) else np.mean(events), second0])
    best = optimize.minimize(
        negative, x0, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000}
    )
    x = best.x
    covariance = _covariance(negative, x)
    return FamilyFit(
        family,
        math.exp(x[0]),
        _interval(x[0], covariance[0, 0]),
        math.exp(x[1]),
        _interval(x[1], covariance[1, 1]),
        -best.fun,
        2,
        len(events),
        len(censored),
    )


def _covariance(negative, x: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(_hessian(negative, x))
    except np.linalg.LinAlgError:
        return np.full((len(x), len(x)), math.nan)


def _fit_erlang(events: np.ndarray, censored: np.ndarray) -> FamilyFit:
    """Erlang: a gamma with integer shape k; the best k near the gamma's shape."""
    gamma = fit_family("gamma", events, censored)
    shape = 1.0 / gamma.parameter**2
    make, _ = FAMILIES["erlang"]
    best: FamilyFit | None = None
    for k in sorted({max(1, math.floor(shape)), max(1, math.ceil(shape))}):

        def negative(x: np.ndarray, k=k) -> float:
            value = -_log_likelihood(make, events, censored, math.exp(x[0]), k)
            return value if math.isfinite(value) else 1e300

        found = optimize.minimize_scalar(
            lambda v, f=negative: f(np.array([v])),
            bracket=(math.log(gamma.mean) - 0.1, math.log(gamma.mean) + 0.1),
        )
        x = np.array([found.x])
        fit = FamilyFit(
            "erlang",
            math.exp(found.x),
            _interval(found.x, _covariance(negative, x)[0, 0]),
            k,
            None,
            -found.fun,
            # k is an integer picked next to the gamma's shape, not a free continuous
            # parameter: counted as none, so that the phase model wins over the gamma it
            # is nested in when the shape is an integer up to sampling noise.
            1,
            len(events),
            len(censored),
        )
        if best is None or fit.log_likelihood > best.log_likelihood:
            best = fit
    assert best is not None
    return best


@dataclass(frozen=True)
class HandleTimeFit:
    """Handle times of one channel: every ccsim family fitted, the one chosen by AIC."""

    fits: dict[str, FamilyFit]
    chosen: FamilyFit
    ks_distance: float
    n: int
    sample_mean: float

    def describe(self) -> str:
        c = self.chosen
        aics = ", ".join(f"{name} {fit.aic:,.1f}" for name, fit in self.fits.items())
        second = (
            f", cv {c.cv:.3f}"
            + (
                f" (95% {c.parameter_ci[0]:.3f}-{c.parameter_ci[1]:.3f})"
                if c.family in ("lognormal", "gamma") and c.parameter_ci
                else ""
            )
            if c.family != "exponential"
            else ""
        )
        return (
            f"{c.family} by AIC ({aics}); mean {c.mean:.1f}s (95% {c.mean_ci[0]:.1f}-"
            f"{c.mean_ci[1]:.1f}){second}, n = {self.n:,}; Kolmogorov-Smirnov distance "
            f"{self.ks_distance:.4f}"
        )


#: The handle-time families (those of ccsim's distributions with a mean and a shape).
HANDLE_TIME_FAMILIES = ("lognormal", "gamma", "exponential", "erlang")


def fit_handle_times(values) -> HandleTimeFit:
    """Fit the handle-time families to positive ``values`` (seconds); the lowest AIC wins."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) < 2:
        raise ValueError(f"too few positive handle times to fit ({len(values)})")
    fits = {family: fit_family(family, values) for family in HANDLE_TIME_FAMILIES}
    chosen = min(fits.values(), key=lambda fit: fit.aic)
    ks = float(stats.kstest(values, chosen.frozen.cdf).statistic)
    return HandleTimeFit(fits, chosen, ks, len(values), float(values.mean()))
