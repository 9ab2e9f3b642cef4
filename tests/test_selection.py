"""Selection of the best model: multiple comparisons with the best and the indifference-zone
guarantee of the two-stage procedure, checked by its frequency of correct selection."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ccsim.study.selection import mcb, replications_needed, select

DELTA, CONFIDENCE, N0, K = 0.5, 0.95, 10, 4


def _draw(rng, n, means, sd=1.0, shared=0.8):
    # Common random numbers: a shared component per replication, as a CRN run has.
    common = rng.normal(0.0, shared, size=(n, 1))
    return np.asarray(means) + common + rng.normal(0.0, sd, size=(n, len(means)))


def test_mcb_on_a_hand_example():
    costs = np.array([[1.0, 2.0, 3.0], [1.2, 2.1, 3.4], [0.9, 2.3, 2.9], [1.1, 1.9, 3.2]])
    table = mcb(costs, 0.95)
    t = stats.t.ppf(1 - 0.05 / 2, 3)
    d01 = costs[:, 0] - costs[:, 1]
    w01 = t * d01.std(ddof=1) / 2
    d02 = costs[:, 0] - costs[:, 2]
    w02 = t * d02.std(ddof=1) / 2
    # mu_0 - min(mu_1, mu_2) = max(mu_0 - mu_1, mu_0 - mu_2): the larger bounds, clipped at 0.
    assert table.loc[0, "mcb_high"] == pytest.approx(max(0, d01.mean() + w01, d02.mean() + w02))
    assert table.loc[0, "mcb_low"] == pytest.approx(min(0, max(d01.mean() - w01, d02.mean() - w02)))
    assert table.loc[0, "can_be_best"] and not table.loc[2, "can_be_best"]
    assert (table["mcb_low"] <= 0).all() and (table["mcb_high"] >= 0).all()


def test_ineligible_models_are_never_selected():
    costs = np.array([[1.0, 2.0, 3.0], [1.1, 2.1, 3.1], [0.9, 1.9, 2.9]])
    result = select(costs, ["a", "b", "c"], delta=0.1, eligible=[False, True, True])
    assert result.selected == "b"
    assert np.isnan(result.table.loc[0, "mcb_low"]) and not result.table.loc[0, "selected"]
    assert "b has the lowest" in result.sentence


def _binomial_floor(runs: int, p: float, risk: float = 0.001) -> int:
    """The fewest correct selections out of ``runs`` that a procedure selecting correctly
    with probability exactly ``p`` reaches with probability 1 - ``risk``: a count below
    it refutes "P(CS) >= p" at level ``risk``."""
    return int(stats.binom.ppf(risk, runs, p))


def test_the_best_is_selected_at_least_as_often_as_promised():
    """Slippage configuration (the least favourable for an indifference-zone procedure):
    the best exactly DELTA cheaper than three equal rivals. The two-stage procedure (N
    from the first N0 replications) must select it in at least CONFIDENCE of the runs,
    less the binomial tolerance."""
    rng = np.random.default_rng(20261201)
    means = [0.0] + [DELTA] * (K - 1)
    runs, correct, totals = 400, 0, []
    for _ in range(runs):
        first = _draw(rng, N0, means)
        n = replications_needed(first, DELTA, CONFIDENCE)
        costs = np.vstack([first, _draw(rng, n - N0, means)]) if n > N0 else first
        result = select(costs, ["best", "b", "c", "d"], DELTA, CONFIDENCE, first_stage=N0)
        assert result.guaranteed
        correct += result.selected == "best"
        totals.append(n)
    assert correct >= _binomial_floor(runs, CONFIDENCE)
    # The second stage was needed: the test exercises the rule, not a lucky first stage.
    assert np.mean(totals) > N0


def test_too_few_replications_say_so():
    rng = np.random.default_rng(1)
    costs = _draw(rng, 5, [0.0, 0.1, 0.2])
    result = select(costs, ["a", "b", "c"], delta=0.01)
    assert not result.guaranteed and result.needed > 5
    assert f"needs {result.needed} replications" in result.sentence
