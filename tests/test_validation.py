"""Simulation against queueing theory: Erlang C (M/M/n) and Erlang A (M/M/n+M).

Each case runs independent replications with a warm-up and compares the simulated KPIs
with the exact steady-state values of :mod:`ccsim.theory.erlang`. The tolerance is the
replications' own confidence interval, never a hand-picked epsilon: the exact value must
lie inside the interval at a family-wise error rate of 1% (Bonferroni over every
comparison in this module). So that a wide interval cannot make a test pass vacuously,
each interval must also be narrow (its half-width below a stated share of the value).
Ratio KPIs are ratios of totals with delta-method intervals, as reported to users.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import pytest
from conftest import channel, scenario

import ccsim
from ccsim.experiment.stats import mean_ci, ratio_ci
from ccsim.sim.metrics import RATIO_KPIS
from ccsim.theory.erlang import performance


@dataclass(frozen=True)
class Case:
    id: str
    rate_per_min: float
    aht_s: float
    agents: int
    patience_s: float | None
    horizon_h: float
    warmup_h: float
    reps: int
    threshold_s: float = 20.0


CASES = [
    # light load: rho = 0.5 on 4 agents
    Case("light", 2.0, 60.0, 4, None, 30, 1, 30),
    # heavy load: rho = 0.95 without abandonment (slow mixing: long runs)
    Case("heavy", 19.0, 60.0, 20, None, 100, 5, 30),
    # moderate load with abandonment: the README example
    Case("example", 3.0, 180.0, 11, 120.0, 60, 3, 30),
    # overload held stable by abandonment: lambda = 1.2 n mu
    Case("overload", 12.0, 60.0, 10, 120.0, 20, 1, 30),
    # hundreds of agents near critical load, as in large centres (QED regime)
    Case("large", 58.0, 300.0, 300, 180.0, 12, 1, 40),
]

KPIS = [
    "p_wait",
    "mean_wait",
    "asa",
    "abandon_rate",
    "service_level",
    "service_level_answered",
    "service_level_excl_short_abandons",
    "occupancy",
    "mean_queue_length",
]
N_COMPARISONS = len(CASES) * len(KPIS)
LEVEL = 1 - 0.01 / N_COMPARISONS  # Bonferroni: 1% family-wise

#: A test is only meaningful if the interval is tight: half-width at most this share of the
#: exact value (or this much absolutely, for values near 0). Mean waits are heavy-tailed
#: sums and get a wider allowance than probabilities.
MAX_RELATIVE_HALF_WIDTH = {"mean_wait": 0.18, "asa": 0.18, "mean_queue_length": 0.18}
DEFAULT_RELATIVE_HALF_WIDTH = 0.12
ABSOLUTE_FLOOR = 0.005


def _scenario(case: Case) -> ccsim.Scenario:
    voice = channel(
        f"{case.rate_per_min}/min", case.aht_s, case.patience_s, threshold=case.threshold_s
    )
    return scenario(
        {"voice": voice},
        [{"name": "main", "agents": case.agents}],
        name=case.id,
        horizon=f"{case.horizon_h}h",
        warmup=f"{case.warmup_h}h",
    )


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.id)
def simulated(request):
    case: Case = request.param
    # A seed per case, so that the cases are independent checks (the same seed would give
    # every case the same underlying uniforms: common random numbers, correlated errors).
    seed = zlib.crc32(case.id.encode())
    table = ccsim.run_replications(_scenario(case), n_reps=case.reps, seed=seed, n_jobs=2)
    exact = performance(
        case.rate_per_min / 60, case.aht_s, case.agents, case.threshold_s, case.patience_s
    )
    return case, table, exact


def _estimate(table, kpi: str):
    numerator, denominator = RATIO_KPIS[kpi]
    return ratio_ci(table[list(numerator)].sum(axis=1), table[list(denominator)].sum(axis=1), LEVEL)


@pytest.mark.slow
@pytest.mark.parametrize("kpi", KPIS)
def test_simulation_agrees_with_theory(simulated, kpi):
    case, table, exact = simulated
    expected = getattr(exact, kpi)
    estimate = _estimate(table, kpi)
    allowance = MAX_RELATIVE_HALF_WIDTH.get(kpi, DEFAULT_RELATIVE_HALF_WIDTH)
    assert estimate.half_width <= max(allowance * abs(expected), ABSOLUTE_FLOOR), (
        f"{case.id} {kpi}: interval too wide to test anything ({estimate.half_width:.4g})"
    )
    assert estimate.contains(expected), (
        f"{case.id} {kpi}: exact {expected:.6g} outside simulated "
        f"[{estimate.low:.6g}, {estimate.high:.6g}] at level {LEVEL:.5f}"
    )


@pytest.mark.slow
def test_conservation_every_replication(simulated):
    _, table, _ = simulated
    assert (table.offered == table.answered + table.abandoned).all()


@pytest.mark.slow
def test_littles_law_inside_the_simulation(simulated):
    """Time-average queue length (an area, measured in time) equals arrival rate times mean
    wait (measured per contact): two estimators of E[Q] from different tallies."""
    case, table, _ = simulated
    per_contact = (table.wait_answered + table.wait_abandoned) / table.observed_time
    per_time = table.queue_time / table.observed_time
    difference = mean_ci(per_time - per_contact, LEVEL)
    assert difference.contains(0.0) or abs(difference.value) < 1e-3 * per_time.mean()


@pytest.mark.slow
def test_abandonment_balance(simulated):
    """Erlang A flow balance: lambda P(Ab) = theta E[Q] (only the patient leave the queue)."""
    case, table, _ = simulated
    if case.patience_s is None:
        pytest.skip("no abandonment")
    rate = case.rate_per_min / 60
    lhs = rate * _estimate(table, "abandon_rate").value
    rhs = _estimate(table, "mean_queue_length").value / case.patience_s
    assert math.isclose(lhs, rhs, rel_tol=0.03)
