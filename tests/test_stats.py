"""Confidence intervals: the delta-method ratio interval and Woodruff's quantile interval
have their nominal coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ccsim.experiment.stats import (
    mean_ci,
    paired_quantile_difference_ci,
    quantile_ci,
    ratio_ci,
)
from ccsim.sim.metrics import cumulative_quantile


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


# A journey-time law that is uniform inside each bin of the grid, so that the linear
# interpolation between points is the true distribution function: the shares resolved in
# (0, 5], (5, 10], (10, 15], (15, 20], (20, 30] min; the rest (0.45) later or never.
_POINTS = (300.0, 600.0, 900.0, 1200.0, 1800.0)
_BINS = np.array([0.1, 0.15, 0.15, 0.15, 0.1])
_MEDIAN = 900 + 300 * (0.5 - 0.4) / 0.15  # F(15 min) = 0.4, F(20 min) = 0.55


def _replications(rng, shape):
    """Cumulative counts per replication (last axis: the points) and customers, for
    replications whose customers vary (a Poisson-gamma day) as a centre's do."""
    customers = rng.poisson(rng.gamma(4.0, 150.0, shape))
    within = rng.multinomial(customers, [*_BINS, 1 - _BINS.sum()])[..., :-1].cumsum(axis=-1)
    return within, customers


def test_cumulative_quantile_reads_many_rows_as_one():
    within = np.array([[1, 3, 3, 4, 4], [0, 0, 0, 0, 1], [2, 2, 2, 2, 2]])
    total = np.array([4, 4, 0])
    many = cumulative_quantile(within, total, _POINTS, 0.5)
    pairs = zip(within, total, strict=True)
    one = [float(cumulative_quantile(w, t, _POINTS, 0.5)) for w, t in pairs]
    # 2 of 4 a half of the way from 5 min (1) to 10 min (3); 1 of 4 never reaches 2; none.
    assert many[0] == one[0] == pytest.approx(450.0)
    assert many[1] == one[1] == math.inf
    assert math.isnan(many[2]) and math.isnan(one[2])


def test_woodruff_interval_is_the_linearised_one_inside_a_bin_and_bends_at_a_point():
    within, customers = _replications(np.random.default_rng(5), 10)
    estimate = quantile_ci(within, customers, _POINTS)
    assert estimate.value == pytest.approx(_MEDIAN, abs=60)
    # Both ends inside (15, 20] min, where the curve is a line: symmetric about the value.
    assert 900 < estimate.low < estimate.value < estimate.high < 1200
    assert estimate.value - estimate.low == pytest.approx(estimate.high - estimate.value)
    # The 55% quantile is at 20 min, where the slope drops from 0.15 per 5 min to 0.1 per
    # 10 min: the upper side is the longer, the half-width its wider side.
    bent = quantile_ci(within, customers, _POINTS, 0.55)
    assert bent.high - bent.value > bent.value - bent.low
    assert bent.half_width == pytest.approx(bent.high - bent.value)
    # Past the share resolved by the last point the upper end is unknown: infinite.
    assert quantile_ci(within, customers, _POINTS, 0.54).high < math.inf
    assert quantile_ci(within, customers, _POINTS, 0.645).high == math.inf


@pytest.mark.parametrize("n", [5, 20])
def test_woodruff_interval_covers_the_true_median_95_percent_of_the_time(n):
    rng = np.random.default_rng(77 + n)
    trials = 2000
    within, customers = _replications(rng, (trials, n))
    covered = sum(
        quantile_ci(within[i], customers[i], _POINTS).contains(_MEDIAN) for i in range(trials)
    )
    assert abs(covered / trials - 0.95) < 4 * math.sqrt(0.95 * 0.05 / trials) + 0.005


def test_paired_quantile_difference_of_common_random_numbers():
    within, customers = _replications(np.random.default_rng(9), 10)
    same = paired_quantile_difference_ci(within, customers, within, customers, _POINTS)
    assert same.value == 0 and same.half_width == 0
    # Every journey 5 min later, the same customers: on the grid's 5-min steps the counts
    # move one point on, and the 30% quantile (10 min 40 s) by exactly 5 min, with no
    # uncertainty left in the paired difference.
    half_way = within[:, 3] + (within[:, 4] - within[:, 3]) / 2  # 25 min, uniform in the bin
    later = np.column_stack([np.zeros(10), within[:, :3], half_way])
    shifted = paired_quantile_difference_ci(later, customers, within, customers, _POINTS, 0.3)
    assert shifted.value == pytest.approx(300.0)
    assert shifted.half_width == pytest.approx(0.0, abs=1e-6)
    alone = quantile_ci(within, customers, _POINTS, 0.3)
    assert alone.half_width > 10.0
