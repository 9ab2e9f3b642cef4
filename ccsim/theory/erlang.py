"""Exact steady-state results for one queue of identical agents, the yardstick the simulator is
validated against and a quick staffing estimate: Erlang B (M/M/n/n, a contact that finds every
agent busy is lost), Erlang C (M/M/n, contacts wait as long as it takes) and Erlang A (M/M/n+M,
each waiting contact abandons after an exponential patience; Garnett, Mandelbaum & Reiman 2002).
Times are in seconds and rates per second. Every quantity is computed in logarithms or from
recursions of bounded terms, never from factorials, so results stay finite and accurate for
tens of thousands of agents.
"""

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np


def _special():
    # scipy costs most of a second at import: loaded only where the Erlang A formulas need
    # the incomplete gamma function or a quadrature, so that `ccsim erlang` starts fast.
    from scipy import special

    return special


def _integrate():
    from scipy import integrate

    return integrate


__all__ = [
    "MAX_AGENTS",
    "ErlangA",
    "Performance",
    "erlang_a_performance",
    "erlang_b",
    "erlang_c",
    "erlang_c_performance",
    "fewest_agents",
    "offered_load",
    "performance",
]


@dataclass(frozen=True)
class Performance:
    """Steady-state KPIs of one queue; field names are the simulator's KPI names.

    With a service-level threshold t, S_t = answered within t, S = answered, L = abandoned and
    L_t+ = abandoned after waiting more than t (counted over arrivals, see docs/metrics.md).
    """

    offered_load: float  # Erlangs, a = rate * aht
    occupancy: float  # busy agents / agents = rate * (1 - P(Ab)) * aht / n
    p_wait: float  # P(W > 0), by PASTA the share of arrivals that wait
    abandon_rate: float  # P(Ab)
    mean_wait: float  # E[W] over all arrivals (answered and abandoned), seconds
    asa: float  # E[W | served], seconds
    mean_queue_length: float  # time-average number waiting, E[Q] = rate * E[W] (Little)
    service_level: float  # P(served and W <= t) = S_t / (S + L)
    service_level_answered: float  # P(W <= t | served) = S_t / S
    service_level_excl_short_abandons: float  # P(served, W <= t) / (P(served) + P(Ab, W > t))


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number greater than 0, got {value!r}")
    return value


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return value


def _agents(n: int) -> int:
    try:
        if isinstance(n, bool):
            raise TypeError
        n = operator.index(n)
    except TypeError:
        raise ValueError(f"the number of agents must be a whole number, got {n!r}") from None
    if n < 1:
        raise ValueError(f"the number of agents must be at least 1, got {n}")
    return n


def _softplus(z: float) -> float:
    """log(1 + e^z), without overflow for large z."""
    return z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))


def _log_expm1(r: float) -> float:
    """log(e^r - 1) for r >= 0, without overflow for large r."""
    if r == 0:
        return -math.inf
    return r + math.log1p(-math.exp(-r)) if r > 1 else math.log(math.expm1(r))


def offered_load(rate: float, aht: float) -> float:
    """Offered load in Erlangs, a = rate * aht: the mean number of agents the work keeps busy."""
    return _positive("rate", rate) * _positive("aht", aht)


def _log_inverse_erlang_b(n: int, a: float) -> float:
    """log(1/B(n, a)) by the recursion 1/B(k) = 1 + (k/a) / B(k-1), 1/B(0) = 1.

    This is the inverse of the textbook recursion B(k) = a B(k-1) / (k + a B(k-1)). Taken in
    logarithms it neither overflows (1/B reaches e^36000 at n = 10000, a = 100) nor loses
    accuracy: each step is a softplus, which shrinks earlier rounding errors rather than
    amplifying them.
    """
    log_a = math.log(a)
    r = 0.0
    for k in range(1, n + 1):
        r = _softplus(math.log(k) - log_a + r)
    return r


def erlang_b(n: int, a: float) -> float:
    """Erlang B: probability that a contact finds all n agents busy and is lost (M/M/n/n).

    B(n, a) = (a^n / n!) / sum_{k=0..n} a^k / k!, computed by a stable recursion in logs; it
    is 0.0 only where the true value is below the smallest double.
    """
    return math.exp(-_log_inverse_erlang_b(_agents(n), _positive("offered load", a)))


def erlang_c(n: int, a: float) -> float:
    """Erlang C: probability that a contact has to wait in M/M/n, 1.0 when a >= n (unstable).

    C = n B / (n - a (1 - B)) with B = erlang_b(n, a), rewritten as
    1 / C = 1 + (1 - a/n)(1/B - 1) so that it is evaluated in logs without cancellation.
    """
    n, a = _agents(n), _positive("offered load", a)
    if a >= n:
        return 1.0
    log_ratio = math.log1p(-a / n) + _log_expm1(_log_inverse_erlang_b(n, a))
    return math.exp(-_softplus(log_ratio))


def erlang_c_performance(rate: float, aht: float, n: int, threshold: float) -> Performance:
    """KPIs of M/M/n without abandonment (Erlang C), service level at `threshold` seconds.

    P(W > t) = C exp(-(n mu - lambda) t) and E[W] = ASA = C / (n mu - lambda), mu = 1/aht.
    Without abandonment the three service-level definitions coincide. When a >= n the queue
    grows without bound: every contact waits, waits are infinite and agents are always busy.
    """
    a, n, t = offered_load(rate, aht), _agents(n), _non_negative("threshold", threshold)
    if a >= n:
        inf = math.inf
        return Performance(a, 1.0, 1.0, 0.0, inf, inf, inf, 0.0, 0.0, 0.0)
    c = erlang_c(n, a)
    mean_wait = c * aht / (n - a)
    in_time = -math.expm1(math.log(c) - (n - a) / aht * t) if c > 0 else 1.0
    return Performance(a, a / n, c, 0.0, mean_wait, mean_wait, rate * mean_wait, *[in_time] * 3)


def _a_series(x: float, y: float) -> tuple[float, float]:
    """For y < x: log(A - 1) and P(Ab | W > 0) = sum_j j t_j / (y A), t_j = prod_{k<=j} y/(x+k).

    Terms are scaled by t_1 so they lie in (0, 1] and summed in numpy chunks of growing size
    until the remainder, bounded by a geometric series with ratio y / (x + k), is negligible;
    near y = x with large x this takes a few times sqrt(x) terms.
    """
    log_first = math.log(y) - math.log1p(x)
    total = weighted = 1.0  # u_1 = t_1 / t_1
    log_u, k0, size = 0.0, 2, 64
    while True:
        k = np.arange(k0, k0 + size, dtype=float)
        with np.errstate(divide="ignore"):  # a ratio below the smallest double is a zero term
            log_terms = log_u + np.cumsum(np.log(y / (x + k)))
        terms = np.exp(log_terms)
        total += float(terms.sum())
        weighted += float((k * terms).sum())
        log_u, k0 = float(log_terms[-1]), k0 + size
        ratio = y / (x + k0)
        remainder = math.exp(log_u) * ratio / (1 - ratio) * (k0 + 1 / (1 - ratio))
        if remainder <= 1e-17 * weighted:
            break
        size = min(2 * size, 1 << 16)
    log_a_minus_1 = log_first + math.log(total)
    return log_a_minus_1, weighted / (x + 1) * math.exp(-_softplus(log_a_minus_1))


def _log_gamma_ratio(x: float, y: float) -> float:
    """log(Gamma(x + 1) e^y y^-x) for x, y > 0.

    Written as it stands this is a difference of terms of size x log x, which leaves only
    1e-5 relative accuracy at x = 1e10. Stirling's formula splits it into
    0.5 log(2 pi x) + R(x) + x (d - log(1 + d)), d = y/x - 1 > -1, with R a short series in 1/x
    and d - log(1 + d) summed as d^2/2 - d^3/3 + ... while |d| is small.
    """
    if x < 20:
        return float(_special().gammaln(x + 1)) + y - x * math.log(y)
    remainder = 1 / (12 * x) - 1 / (360 * x**3) + 1 / (1260 * x**5) - 1 / (1680 * x**7)
    d = (y - x) / x
    if abs(d) < 0.5:
        k = np.arange(2, 60)
        excess = float(np.sum((-d) ** k / k))
    elif d > 0:
        excess = d - math.log1p(d)
    else:  # y/x itself may underflow
        excess = d - (math.log(y) - math.log(x))
    return 0.5 * math.log(2 * math.pi * x) + remainder + x * excess


def _a_function(x: float, y: float) -> tuple[float, float, float]:
    """log A(x, y), log(A(x, y) - 1) and P(Ab | W > 0) = 1 - x (A - 1) / (y A).

    A(x, y) = 1 + sum_{j>=1} y^j / prod_{k=1..j}(x + k) (Garnett, Mandelbaum & Reiman 2002).
    For y < x the series converges geometrically and is summed directly; there
    (x - y)(A - 1) = y - sum_j j t_j, which gives P(Ab | W > 0) = sum_j j t_j / (y A) without
    the cancellation of 1 - x(A-1)/(yA) when abandonment is rare. For y >= x the terms first
    grow, so the closed form A = x Gamma(x) e^y y^-x P(x, y) (P the regularised lower
    incomplete gamma function) is used in logs: P(x, y) >= 1/2 there, so nothing underflows.
    """
    if y < x:
        log_a_minus_1, ab_given_wait = _a_series(x, y)
        return _softplus(log_a_minus_1), log_a_minus_1, ab_given_wait
    log_a = _log_gamma_ratio(x, y) + math.log(_special().gammainc(x, y))
    return log_a, _log_expm1(log_a), x / y * math.exp(-log_a) + (y - x) / y


class ErlangA:
    """The M/M/n+M queue (Erlang A): n agents, Poisson arrivals at `rate`, exponential handle
    times with mean `aht`, and exponential patience with mean `patience` (seconds).

    With mu = 1/aht, theta = 1/patience, x = n mu / theta, y = lambda / theta and
    rho = lambda / (n mu) (Garnett, Mandelbaum & Reiman 2002):
    pi_n = E_B / (1 + (A - 1) E_B), E_B = erlang_b(n, a), is the probability of n in system;
    P(W > 0) = A pi_n; P(Ab | W > 0) = 1/(rho A) + 1 - 1/rho; E[W] = P(Ab) / theta.
    The queue is always stable: abandonment holds it even when lambda > n mu.
    """

    def __init__(self, rate: float, aht: float, n: int, patience: float):
        self.rate, self.aht = _positive("rate", rate), _positive("aht", aht)
        self.n, self.patience = _agents(n), _positive("patience", patience)
        self._theta, self._n_mu = 1 / self.patience, self.n / self.aht
        self._x, self._y = self.n * self.patience / self.aht, self.rate * self.patience
        log_a, _, self._ab_given_wait = _a_function(self._x, self._y)
        # pi_n = 1 / (1/E_B - 1 + A) in logs: 1/E_B and A can each be astronomically large.
        log_other = _log_expm1(_log_inverse_erlang_b(self.n, self.rate * self.aht))
        log_sum = max(log_other, log_a) + _softplus(-abs(log_other - log_a))
        self._log_pi_n = -log_sum
        self._p_wait = math.exp(log_a - log_sum)

    @property
    def p_wait(self) -> float:
        """P(W > 0): the share of arrivals that find every agent busy (PASTA)."""
        return self._p_wait

    @property
    def p_abandon(self) -> float:
        """P(Ab) = P(W > 0) P(Ab | W > 0)."""
        return self._p_wait * self._ab_given_wait

    @property
    def mean_wait(self) -> float:
        """E[W] over all arrivals = P(Ab) / theta: abandoners leave at rate theta per waiting
        contact, so lambda P(Ab) = theta E[Q] and Little's law E[Q] = lambda E[W] give it."""
        return self.p_abandon * self.patience

    @property
    def mean_queue_length(self) -> float:
        """E[Q], the time-average number waiting, = rate * E[W] (Little)."""
        return self.rate * self.mean_wait

    @property
    def occupancy(self) -> float:
        """Busy agents / agents = rate (1 - P(Ab)) aht / n: only answered contacts use agents."""
        return self.rate * (1 - self.p_abandon) * self.aht / self.n

    def _offered_tail(self, t: float) -> tuple[float, float]:
        """P(V > t) and 1 - 1/A(x, y e^{-theta t}), the share of those still waiting at t
        (abandonment aside) that will be served.

        P(V > t) = pi_n A(x, y e^{-theta t}) exp(-n mu t + y (1 - e^{-theta t})): the contacts
        ahead of a waiting one leave at rate n mu plus theta each. For y >= x the gamma form of
        A turns this into P(W > 0) P(x, y e^{-theta t}) / P(x, y), which avoids the cancelling
        exponents of size lambda t (large when patience is long and the queue overloaded).
        """
        t = _non_negative("t", t)
        y_t = self._y * math.exp(-self._theta * t)
        if y_t == 0:  # e^{-theta t} underflows: no contact is still waiting
            return 0.0, 0.0
        log_a, log_a_minus_1, _ = _a_function(self._x, y_t)
        served_share = math.exp(log_a_minus_1 - log_a)
        if self._y >= self._x:
            # scipy's P(x, u) loses accuracy in its lower tail (u < x) once x passes about 1e6;
            # there P(x, u) = A(x, u) / (Gamma(x + 1) e^u u^-x) with A from the series instead.
            if y_t >= self._x:
                p_t = float(_special().gammainc(self._x, y_t))
            else:
                p_t = math.exp(log_a - _log_gamma_ratio(self._x, y_t))
            return self._p_wait * p_t / float(_special().gammainc(self._x, self._y)), served_share
        log_tail = self._log_pi_n + log_a - self._n_mu * t - self._y * math.expm1(-self._theta * t)
        return math.exp(log_tail), served_share

    def p_offered_wait_exceeds(self, t: float) -> float:
        """P(V > t), V the offered wait: the time until an agent would take the contact."""
        return self._offered_tail(t)[0]

    def p_wait_exceeds(self, t: float) -> float:
        """P(W > t), W = min(V, patience) the actual time in queue: P(V > t) e^{-theta t}."""
        return self._offered_tail(t)[0] * math.exp(-self._theta * t)

    def p_served_wait_exceeds(self, t: float) -> float:
        """P(W > t, served) = P(V > t) (1/rho) (1 - 1/A(x, y e^{-theta t}))."""
        tail, served_share = self._offered_tail(t)
        return tail * self._x / self._y * served_share

    @cached_property
    def asa(self) -> float:
        """ASA = E[W | served] = integral_0^inf P(W > t, served) dt / P(served).

        The integral is taken numerically. Waits of contacts that wait live on the scale of
        E[W | W > 0] = P(Ab | W > 0) / theta, so the range is split at multiples of it to let
        the quadrature find a wait distribution that is narrow when n is large.
        """
        scale = self._ab_given_wait * self.patience
        edges = [0.0, *(scale * 2.0 ** np.arange(-2, 7)), math.inf]
        served_wait = sum(
            _integrate().quad(self.p_served_wait_exceeds, lo, hi, epsabs=0, epsrel=1e-9, limit=200)[
                0
            ]
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        )
        return served_wait / (1 - self.p_abandon)

    def performance(self, threshold: float) -> Performance:
        """All KPIs, with the service levels at `threshold` seconds."""
        t = _non_negative("threshold", threshold)
        p_served = 1 - self.p_abandon
        served_late = self.p_served_wait_exceeds(t)
        abandoned_late = max(0.0, self.p_wait_exceeds(t) - served_late)
        in_time = min(max(0.0, p_served - served_late), 1.0)
        return Performance(
            offered_load=self.rate * self.aht,
            occupancy=self.occupancy,
            p_wait=self.p_wait,
            abandon_rate=self.p_abandon,
            mean_wait=self.mean_wait,
            asa=self.asa,
            mean_queue_length=self.mean_queue_length,
            service_level=in_time,
            service_level_answered=in_time / p_served,
            service_level_excl_short_abandons=in_time / (p_served + abandoned_late),
        )


def erlang_a_performance(
    rate: float, aht: float, n: int, patience: float, threshold: float
) -> Performance:
    """KPIs of M/M/n+M (Erlang A) with mean patience `patience`, service level at `threshold`."""
    return ErlangA(rate, aht, n, patience).performance(threshold)


def performance(
    rate: float, aht: float, n: int, threshold: float, patience: float | None = None
) -> Performance:
    """KPIs under Erlang C when `patience` is None (nobody abandons), else under Erlang A."""
    if patience is None:
        return erlang_c_performance(rate, aht, n, threshold)
    return erlang_a_performance(rate, aht, n, patience, threshold)


#: Where the searches for a staffing level give up.
MAX_AGENTS = 1_000_000


def fewest_agents(meets: Callable[[int], bool], low: int, limit: int = MAX_AGENTS) -> int | None:
    """The smallest n in [low, limit] with ``meets(n)``, for a ``meets`` that stays true once
    true (service level rises and occupancy falls with every agent added); None if even
    ``limit`` fails. Doubling steps find a bracket, bisection the boundary: a few dozen
    evaluations even at ten thousand agents."""
    if meets(low):
        return low
    failed, step = low, 1
    while True:
        candidate = min(low + step, limit)
        if meets(candidate):
            break
        if candidate >= limit:
            return None
        failed, step = candidate, 2 * step
    passed = candidate
    while passed - failed > 1:
        middle = (failed + passed) // 2
        if meets(middle):
            passed = middle
        else:
            failed = middle
    return passed
