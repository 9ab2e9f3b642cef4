"""Confidence intervals: the delta-method ratio interval has its nominal coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ccsim.experiment.stats import mean_ci, ratio_ci


def test_mean_ci_matches_scipy_t_interval():
    x = np.random.default_rng(1).normal(10, 3, 25)
    estimate = mean_ci(x, 0.9)
    low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert estimate.low == pytest.approx(low) and estimate.high == pytest.approx(high)


def test_ratio_is_a_ratio_of_totals_not_a_mean_of_ratios():
    num, den = np.array([1.0, 90.0]), np.array([10.0, 100.0])
    assert ratio_ci(num, den).value == pytest.approx(91 / 110)
    assert ratio_ci(num, den).value != pytest.approx(np.mean(num / den))


@pytest.mark.parametrize("n", [10, 40])
def test_delta_method_interval_covers_the_true_ratio_95_percent_of_the_time(n):
    # Replications whose denominators vary (like answered contacts per day) and whose
    # numerators are binomial given the denominator: true ratio p.
    rng = np.random.default_rng(2024 + n)
    p, trials = 0.8, 4000
    den = rng.poisson(rng.gamma(4.0, 250.0, (trials, n)))
    num = rng.binomial(den, p)
    covered = sum(ratio_ci(num[i], den[i]).contains(p) for i in range(trials))
    # Binomial(4000, 0.95): sd 0.0034; allow 4 sd around the nominal level.
    assert abs(covered / trials - 0.95) < 4 * math.sqrt(0.95 * 0.05 / trials) + 0.005


def test_degenerate_inputs():
    assert math.isnan(mean_ci([]).value)
    assert math.isnan(mean_ci([1.0]).half_width)
    assert math.isnan(ratio_ci([1.0], [0.0]).value)
    assert math.isnan(ratio_ci([1.0], [2.0]).half_width)
    assert mean_ci([1.0, math.nan, 3.0]).n == 2
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], level=1.5)
