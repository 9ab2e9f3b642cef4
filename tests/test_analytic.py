"""Validation of ccsim.theory.erlang against independent computations.

Each Erlang formula is checked against the Markov chain it summarises, solved numerically here:
the birth-death chain of the number in system (stationary distribution from log-ratios of
neighbouring probabilities), and, for waiting-time tails and ASA, the continuous-time chain of
one tagged waiting contact (matrix exponential and absorption probabilities).
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, linalg
from scipy.special import logsumexp
from scipy.stats import poisson

from ccsim.theory.erlang import (
    ErlangA,
    Performance,
    erlang_a_performance,
    erlang_b,
    erlang_c,
    erlang_c_performance,
    offered_load,
    performance,
)

AHT = 180.0


def rel_err(actual: float, expected: float) -> float:
    """Relative error, absolute when the reference is exactly 0."""
    if expected == 0:
        return abs(actual)
    return abs(actual - expected) / abs(expected)


def stationary(lam: float, mu: float, n: int, theta: float = 0.0, capacity: int | None = None):
    """P(N = k), k = 0..capacity, for the birth-death chain with birth rate lam and death rate
    min(k, n) mu + max(k - n, 0) theta: M/M/n+M, M/M/n (theta = 0) or M/M/n/n (capacity n).

    Built from the log-ratios log(p_k / p_{k-1}) = log(lam / death_k), so nothing overflows,
    and truncated where the tail is negligible (asserted, not assumed).
    """
    if capacity is None:
        if theta > 0:
            queue = max(0.0, (lam - n * mu) / theta)
            capacity = n + int(queue + 40 * math.sqrt(lam / theta + n) + 200)
        else:
            capacity = n + int(120 / -math.log(lam / (n * mu))) + 200
    k = np.arange(1, capacity + 1)
    death = np.minimum(k, n) * mu + np.maximum(k - n, 0) * theta
    log_p = np.concatenate(([0.0], np.cumsum(np.log(lam / death))))
    if capacity > n:
        assert log_p[-1] < log_p.max() - 80, "truncation would cut off probability mass"
    return np.exp(log_p - logsumexp(log_p))


def chain_kpis(lam: float, mu: float, n: int, theta: float) -> dict[str, float]:
    """KPIs read off the stationary chain: PASTA for P(W > 0), Little's law for E[W], and
    lambda P(Ab) = theta E[Q] (waiting contacts abandon at rate theta each)."""
    p = stationary(lam, mu, n, theta)
    k = np.arange(p.size)
    mean_queue = float(np.maximum(k - n, 0) @ p)
    return {
        "p_wait": float(p[n:].sum()),
        "p_abandon": theta * mean_queue / lam,
        "mean_wait": mean_queue / lam,
        "mean_queue_length": mean_queue,
        "occupancy": float(np.minimum(k, n) @ p) / n,
    }


class TaggedContact:
    """The continuous-time chain of one contact that has to wait, for M/M/n+M.

    State j = number of contacts ahead of it in the queue. From j >= 1 it moves to j - 1 at
    rate n mu + j theta (a service starts or someone ahead abandons); from 0 it is served at
    rate n mu; it abandons itself at rate theta from every state. It arrives in state k - n
    when it finds k >= n in system (PASTA), so the initial vector sums to P(W > 0).
    """

    def __init__(self, lam: float, mu: float, n: int, theta: float):
        p = stationary(lam, mu, n, theta)
        ahead = p[n:]
        self.ahead = ahead[: np.flatnonzero(ahead > 1e-40 * ahead.max())[-1] + 1]
        self.p_no_wait = float(p[:n].sum())
        j = np.arange(self.ahead.size)
        leave = n * mu + j * theta
        self.offered = np.diag(-leave)  # the tagged contact's own patience left out: V
        self.offered[j[1:], j[1:] - 1] = leave[1:]
        self.generator = self.offered - theta * np.eye(j.size)
        served_rate = np.zeros(j.size)
        served_rate[0] = n * mu
        self.p_served_from = linalg.solve(-self.generator, served_rate)

    def p_offered_wait_exceeds(self, t: float) -> float:
        return float(self.ahead @ linalg.expm(self.offered * t).sum(axis=1))

    def p_wait_exceeds(self, t: float) -> float:
        return float(self.ahead @ linalg.expm(self.generator * t).sum(axis=1))

    def p_served_wait_exceeds(self, t: float) -> float:
        return float(self.ahead @ linalg.expm(self.generator * t) @ self.p_served_from)

    def asa(self) -> float:
        # integral_0^inf exp(Q t) dt = (-Q)^-1 on the transient states
        served_wait = self.ahead @ linalg.solve(-self.generator, self.p_served_from)
        return float(served_wait / (self.p_no_wait + self.ahead @ self.p_served_from))


# (n, offered load a, mean patience in seconds); handle time AHT throughout
ERLANG_A_CASES = [
    (1, 0.5, 120.0),
    (2, 1.5, 50.0),
    (3, 2.0, 180.0),
    (5, 4.5, 90.0),
    (5, 7.0, 600.0),  # overload held by abandonment
    (14, 10.0, 180.0),  # moderate
    (50, 49.0, 600.0),  # heavy, rho = 0.98
    (20, 30.0, 120.0),  # overload held by abandonment
    (3000, 2910.0, 180.0),  # rho = 0.97
    (3000, 3150.0, 180.0),  # rho = 1.05
    (10000, 9800.0, 300.0),
    (10000, 10200.0, 180.0),
    (1000, 1000.0, 1e4 * AHT),  # critically loaded, long patience: x = y = 1e7
]
ERLANG_C_CASES = [
    (1, 0.5),
    (2, 1.5),
    (3, 2.0),
    (5, 4.5),
    (14, 10.0),
    (50, 49.0),
    (3000, 2910.0),
    (10000, 9800.0),
]
ERLANG_B_CASES = [*ERLANG_C_CASES, (5, 7.0), (20, 30.0), (10000, 9800.0), (10000, 20000.0)]


@pytest.mark.parametrize(("n", "a", "patience"), ERLANG_A_CASES)
def test_erlang_a_matches_birth_death_chain(n, a, patience):
    lam, mu, theta = a / AHT, 1 / AHT, 1 / patience
    queue = ErlangA(lam, AHT, n, patience)
    for name, expected in chain_kpis(lam, mu, n, theta).items():
        assert rel_err(getattr(queue, name), expected) < 1e-9, name


@pytest.mark.parametrize(("n", "a"), ERLANG_C_CASES)
def test_erlang_c_matches_birth_death_chain(n, a):
    lam, mu = a / AHT, 1 / AHT
    expected = chain_kpis(lam, mu, n, theta=0.0)
    assert rel_err(erlang_c(n, a), expected["p_wait"]) < 1e-9
    kpis = erlang_c_performance(lam, AHT, n, threshold=20.0)
    for name in ("p_wait", "mean_wait", "mean_queue_length", "occupancy"):
        assert rel_err(getattr(kpis, name), expected[name]) < 1e-9, name
    assert kpis.asa == kpis.mean_wait
    # A contact finding k >= n in system waits for k - n + 1 service completions at rate n mu.
    p = stationary(lam, mu, n)
    late = p[n:] @ poisson.cdf(np.arange(p.size - n), n * mu * 20.0)
    assert rel_err(kpis.service_level, 1 - late) < 1e-9


@pytest.mark.parametrize(("n", "a"), ERLANG_B_CASES)
def test_erlang_b_matches_loss_chain(n, a):
    expected = stationary(a, 1.0, n, capacity=n)[n]
    assert rel_err(erlang_b(n, a), expected) < 1e-9


@pytest.mark.parametrize(
    ("n", "a", "patience"), [(3, 2.5, 300.0), (8, 9.0, 60.0), (8, 6.0, 1000.0)]
)
def test_waiting_time_tails_match_tagged_contact_chain(n, a, patience):
    lam, mu, theta = a / AHT, 1 / AHT, 1 / patience
    queue, chain = ErlangA(lam, AHT, n, patience), TaggedContact(lam, mu, n, theta)
    for t in (0.0, 5.0, 20.0, 60.0, 200.0, 600.0):
        for tail in ("p_offered_wait_exceeds", "p_wait_exceeds", "p_served_wait_exceeds"):
            expected = getattr(chain, tail)(t)
            assert rel_err(getattr(queue, tail)(t), expected) < 1e-8, (tail, t)
    assert rel_err(queue.asa, chain.asa()) < 1e-8


@pytest.mark.parametrize(
    ("n", "a", "patience"), [(3, 2.5, 300.0), (14, 10.0, 180.0), (3000, 3150.0, 180.0)]
)
def test_asa_and_service_level_match_tagged_contact_chain(n, a, patience):
    lam, mu, theta = a / AHT, 1 / AHT, 1 / patience
    kpis = ErlangA(lam, AHT, n, patience).performance(threshold=5.0)
    chain = TaggedContact(lam, mu, n, theta)
    assert rel_err(kpis.asa, chain.asa()) < 1e-8
    served = 1 - kpis.abandon_rate
    assert rel_err(kpis.service_level, served - chain.p_served_wait_exceeds(5.0)) < 1e-8


@pytest.mark.parametrize(("n", "a"), [(3, 2.0), (14, 10.0), (50, 45.0)])
def test_erlang_a_tends_to_erlang_c_with_endless_patience(n, a):
    rate = a / AHT
    patient = erlang_a_performance(rate, AHT, n, patience=1e6 * AHT, threshold=20.0)
    c = erlang_c_performance(rate, AHT, n, threshold=20.0)
    for name in ("p_wait", "service_level", "service_level_answered", "asa", "mean_wait"):
        assert rel_err(getattr(patient, name), getattr(c, name)) < 1e-4, name


@pytest.mark.parametrize(("n", "a"), [(5, 4.0), (50, 60.0), (1000, 1000.0), (3000, 2950.0)])
def test_patience_equal_to_handle_time_gives_poisson_number_in_system(n, a):
    # With theta = mu every contact present leaves at rate mu: an M/M/infinity queue.
    queue = ErlangA(a / AHT, AHT, n, patience=AHT)
    k = np.arange(n, int(a + 40 * math.sqrt(a) + 100))
    mean_queue = float((k - n) @ poisson.pmf(k, a))
    assert rel_err(queue.p_wait, poisson.sf(n - 1, a)) < 1e-9
    assert rel_err(queue.mean_queue_length, mean_queue) < 1e-9
    assert rel_err(queue.p_abandon, mean_queue / a) < 1e-9


IDENTITY_CASES = [
    (3, 2.5, 300.0),
    (8, 9.0, 60.0),
    (14, 10.0, 180.0),
    (300, 310.0, 100.0),
    # long patience in overload: x = n patience / aht up to 1e8, where the offered wait is
    # narrow and far from 0, and formulas of terms of size x log x or lambda t lose digits
    (1000, 1010.0, 1e4 * AHT),
    (100, 101.0, 1e6 * AHT),
]


@pytest.mark.parametrize(("n", "a", "patience"), IDENTITY_CASES)
def test_waiting_time_identities(n, a, patience):
    queue = ErlangA(a / AHT, AHT, n, patience)
    theta = 1 / patience
    scale = queue.mean_wait / queue.p_wait  # E[W | W > 0]

    def abandoned_within(t):
        # A contact abandons at its patience s if the offered wait is longer: P(V > s).
        edges = [0.0, *(e for e in scale * 2.0 ** np.arange(-3, 7) if e < t), t]
        return sum(
            integrate.quad(
                lambda s: theta * math.exp(-theta * s) * queue.p_offered_wait_exceeds(s),
                lo,
                hi,
                epsabs=0,
                epsrel=1e-11,
                limit=200,
            )[0]
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        )

    assert rel_err(abandoned_within(math.inf), queue.p_abandon) < 1e-9
    for t in scale * np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]):
        kpis = queue.performance(t)
        total = queue.p_wait_exceeds(t) + kpis.service_level + abandoned_within(t)
        assert abs(total - 1) < 1e-9, t
        levels = (
            kpis.service_level,
            kpis.service_level_answered,
            kpis.service_level_excl_short_abandons,
        )
        assert all(0 <= level <= 1 for level in levels)
        assert kpis.service_level <= kpis.service_level_excl_short_abandons
        if kpis.service_level > 0:  # some contacts abandon, so counting them lowers the level
            assert kpis.service_level < kpis.service_level_answered
    fine = np.linspace(0.0, 10 * scale, 200)
    for tail in (queue.p_offered_wait_exceeds, queue.p_wait_exceeds, queue.p_served_wait_exceeds):
        values = np.array([tail(t) for t in fine])
        assert np.all(np.diff(values) <= 1e-15), tail.__name__
        assert values[0] <= 1 and values[-1] >= 0
    assert queue.p_wait_exceeds(0.0) == pytest.approx(queue.p_wait, rel=1e-12)


def test_known_staffing_case_under_erlang_c():
    # 100 calls per 30 minutes, 180 s handle time, target 80% answered within 20 s.
    rate = 100 / 1800
    assert offered_load(rate, 180.0) == pytest.approx(10.0)
    assert erlang_c_performance(rate, 180.0, 13, 20.0).service_level < 0.80
    assert erlang_c_performance(rate, 180.0, 14, 20.0).service_level >= 0.80
    assert performance(rate, 180.0, 14, 20.0) == erlang_c_performance(rate, 180.0, 14, 20.0)


def test_unstable_erlang_c_reports_infinite_waits():
    kpis = erlang_c_performance(12 / AHT, AHT, 10, 20.0)
    assert erlang_c(10, 12.0) == 1.0
    assert (kpis.p_wait, kpis.occupancy, kpis.service_level) == (1.0, 1.0, 0.0)
    assert math.isinf(kpis.mean_wait) and math.isinf(kpis.asa)


def _finite_probabilities(kpis: Performance) -> None:
    for name in ("occupancy", "p_wait", "abandon_rate", "service_level", "service_level_answered"):
        value = getattr(kpis, name)
        assert math.isfinite(value) and 0 <= value <= 1, name
    assert 0 <= kpis.service_level_excl_short_abandons <= 1
    assert all(math.isfinite(getattr(kpis, name)) for name in ("mean_wait", "asa"))


def test_ten_thousand_agents_erlang_b_and_light_load():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert erlang_b(10000, 100.0) == 0.0
        assert erlang_c(10000, 100.0) == 0.0
        for kpis in (
            erlang_c_performance(100 / AHT, AHT, 10000, 20.0),
            erlang_a_performance(100 / AHT, AHT, 10000, 180.0, 20.0),
        ):
            _finite_probabilities(kpis)
            assert kpis.p_wait == 0.0 and kpis.service_level == 1.0
        assert erlang_b(10000, 20000.0) == pytest.approx(0.5, rel=1e-3)  # fluid limit 1 - n/a
        expected = stationary(9800.0, 1.0, 10000, capacity=10000)[-1]
        assert rel_err(erlang_b(10000, 9800.0), expected) < 1e-9


@pytest.mark.parametrize("a", [9900.0, 10200.0])
def test_ten_thousand_agents_near_and_past_capacity(a):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        queue = ErlangA(a / AHT, AHT, 10000, 180.0)
        kpis = queue.performance(20.0)
        _finite_probabilities(kpis)
        expected = chain_kpis(a / AHT, 1 / AHT, 10000, 1 / 180.0)
        assert rel_err(kpis.p_wait, expected["p_wait"]) < 1e-9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_b(0, 1.0), "at least 1"),
        (lambda: erlang_b(2.5, 1.0), "whole number"),
        (lambda: erlang_b(True, 1.0), "whole number"),
        (lambda: erlang_c(3, 0.0), "offered load"),
        (lambda: erlang_c(3, math.nan), "offered load"),
        (lambda: offered_load(-1.0, 180.0), "rate"),
        (lambda: erlang_c_performance(0.05, 0.0, 14, 20.0), "aht"),
        (lambda: erlang_c_performance(0.05, 180.0, 14, -1.0), "threshold"),
        (lambda: ErlangA(0.05, 180.0, 14, 0.0), "patience"),
        (lambda: ErlangA(0.05, 180.0, 14, math.inf), "patience"),
        (lambda: ErlangA(0.05, 180.0, 14, 180.0).p_wait_exceeds(-5.0), ">= 0"),
        (lambda: performance(0.05, 180.0, 0, 20.0, patience=180.0), "at least 1"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
