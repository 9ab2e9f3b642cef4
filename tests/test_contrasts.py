"""The researcher's comparisons checked by hand: paired and unpaired (Welch) half-widths,
the variance reduction of common random numbers, Holm's adjustment over all pairs, and
the main effects and interaction of a 2x2 grid, on small tables of replications whose
answers scipy and numpy give independently."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ccsim.experiment.contrast_tables import crn_columns, effects_table, pairs_table
from ccsim.experiment.contrasts import contrast_ci, row_parts, variance_reduction
from ccsim.experiment.factorial import factorial
from ccsim.experiment.stats import paired_ratio_difference_ci, ratio_ci
from ccsim.experiment.summary import compare
from ccsim.model.overrides import expand_grid

N = 8
RNG = np.random.default_rng(30)
#: What replication r of every scenario shares under common random numbers: its day.
DAY = RNG.normal(0, 20, N)


def frame(name: str, offered, answered, wait) -> pd.DataFrame:
    """One scenario's replication rows of one channel: a count (``offered``) and a ratio
    (``asa`` = wait_answered / answered)."""
    answered = np.asarray(answered, dtype=float)
    wait = np.asarray(wait, dtype=float)
    return pd.DataFrame(
        {
            "scenario": name,
            "replication": np.arange(N),
            "channel": "voice",
            "site": "all",
            "offered": np.asarray(offered, dtype=float),
            "answered": answered,
            "wait_answered": wait,
            "asa": wait / answered,
        }
    )


def scenario(name: str, shift: float, spread: float = 5.0) -> pd.DataFrame:
    own = RNG.normal(0, spread, N)
    answered = 500 + DAY + RNG.normal(0, 10, N)
    return frame(name, 600 + shift + DAY + own, answered, answered * (12 + shift / 10) + own)


FRAMES = {name: scenario(name, shift) for name, shift in (("base", 0), ("b", 8), ("c", 3))}
PARTS = {name: row_parts(f) for name, f in FRAMES.items()}


def test_a_pair_of_counts_has_the_paired_t_and_the_welch_half_widths():
    pairs = pairs_table(PARTS, ["base", "b", "c"])
    row = pairs[(pairs.scenario == "b") & (pairs.reference == "base") & (pairs.kpi == "offered")]
    row = row.iloc[0]
    x, y = FRAMES["b"]["offered"].to_numpy(), FRAMES["base"]["offered"].to_numpy()
    paired = stats.ttest_rel(x, y).confidence_interval(0.95)
    welch = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert row.difference == pytest.approx(np.mean(x - y))
    assert row.half_width == pytest.approx((paired.high - paired.low) / 2)
    assert row.half_width_unpaired == pytest.approx((welch.high - welch.low) / 2)
    by_hand = (np.var(x, ddof=1) + np.var(y, ddof=1)) / np.var(x - y, ddof=1)
    assert row.variance_reduction == pytest.approx(by_hand)
    assert row.variance_reduction > 5  # the shared day cancels in the difference
    assert row.p_value == pytest.approx(stats.ttest_rel(x, y).pvalue)


def test_a_pair_of_ratios_is_the_delta_method_difference_and_its_unpaired_twin():
    pairs = pairs_table(PARTS, ["base", "b", "c"])
    row = pairs[(pairs.scenario == "b") & (pairs.reference == "base") & (pairs.kpi == "asa")]
    row = row.iloc[0]
    a, b = FRAMES["b"], FRAMES["base"]
    paired = paired_ratio_difference_ci(a.wait_answered, a.answered, b.wait_answered, b.answered)
    assert row.difference == pytest.approx(paired.value)
    assert row.half_width == pytest.approx(paired.half_width)
    # Unpaired: the two ratios' own delta-method standard errors, added in quadrature,
    # with Welch's degrees of freedom.
    se = [
        ratio_ci(f.wait_answered, f.answered).half_width / stats.t.ppf(0.975, N - 1) for f in (a, b)
    ]
    df = (se[0] ** 2 + se[1] ** 2) ** 2 / ((se[0] ** 4 + se[1] ** 4) / (N - 1))
    half = stats.t.ppf(0.975, df) * math.hypot(*se)
    assert row.half_width_unpaired == pytest.approx(half)
    t = stats.t.ppf(0.975, N - 1)
    assert row.variance_reduction == pytest.approx(
        math.hypot(*se) ** 2 / (paired.half_width / t) ** 2
    )


def test_pairs_are_holm_adjusted_over_every_pair_of_the_kpi():
    pairs = pairs_table(PARTS, ["base", "b", "c"])
    offered = pairs[pairs.kpi == "offered"]
    assert list(zip(offered.scenario, offered.reference, strict=True)) == [
        ("b", "base"),
        ("c", "base"),
        ("c", "b"),
    ]
    raw = [
        stats.ttest_rel(FRAMES[s]["offered"], FRAMES[r]["offered"]).pvalue
        for s, r in (("b", "base"), ("c", "base"), ("c", "b"))
    ]
    order = np.argsort(raw)
    held, by_hand = 0.0, np.empty(3)
    for rank, i in enumerate(order):  # Holm 1979: (m - rank) p, never below the one before
        held = max(held, min(1.0, (3 - rank) * raw[i]))
        by_hand[i] = held
    np.testing.assert_allclose(offered.p_holm, by_hand)
    assert list(offered.significant) == list(by_hand < 0.05)


def test_the_baseline_pairs_are_the_comparisons_and_carry_the_same_crn_columns():
    both = pd.concat([FRAMES["b"], FRAMES["base"]], ignore_index=True)
    comparison = crn_columns(
        compare(both, "base", kpis=["offered", "answered", "asa"]), PARTS["b"], PARTS["base"]
    )
    pairs = pairs_table(PARTS, ["base", "b"])
    merged = comparison.merge(pairs, on=["scenario", "channel", "site", "kpi"])
    assert len(merged) == len(comparison) == 3
    for column in ("difference", "ci_low", "ci_high", "half_width", "p_value", "p_holm"):
        np.testing.assert_allclose(merged[f"{column}_x"], merged[f"{column}_y"], rtol=1e-10)
    for column in ("half_width_unpaired", "variance_reduction"):
        np.testing.assert_allclose(merged[f"{column}_x"], merged[f"{column}_y"], rtol=1e-12)


def test_independent_scenarios_gain_nothing_from_pairing():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0, 1, 4000), rng.normal(0, 1, 4000)
    parts = [
        row_parts(
            pd.DataFrame({"replication": range(4000), "channel": "c", "site": "all", "offered": v})
        )
        for v in (x, y)
    ]
    pair = [p[("c", "all")].kpis["offered"] for p in parts]
    assert variance_reduction((1, -1), pair) == pytest.approx(1.0, abs=0.1)


# --- a 2 x 2 grid ------------------------------------------------------------------------------

GRID = {
    "sites.0.agents": [10, 12],
    "routing.policy": ["longest_idle", "fastest"],
    "seed_note": ["x"],
}


def grid_frames():
    """Cell means 600 + 20 [agents 12] + 6 [fastest] + 4 [both], one day shared by all."""
    points = expand_grid(GRID)
    frames = {}
    for name, point in points.items():
        high, fast = point["sites.0.agents"] == 12, point["routing.policy"] == "fastest"
        mean = 600 + 20 * high + 6 * fast + 4 * (high and fast)
        noise = RNG.normal(0, 3, N)
        frames[name] = frame(name, mean + DAY + noise, 500 + DAY, (500 + DAY) * 10 + noise)
    return points, frames


def test_a_grid_of_two_factors_is_a_factorial_and_constants_are_no_factor():
    points, _ = grid_frames()
    design = factorial(GRID, points)
    assert [f.path for f in design.factors] == ["sites.0.agents", "routing.policy"]
    assert sorted(design.cells.values()) == list(itertools.product(range(2), range(2)))
    one = {"sites.0.agents": [10, 12], "routing.policy": ["fastest"]}
    assert factorial(one, expand_grid(one)) is None


def test_main_effects_and_interaction_of_a_2x2_grid_by_hand():
    points, frames = grid_frames()
    design = factorial(GRID, points)
    effects = effects_table({n: row_parts(f) for n, f in frames.items()}, design)
    effects = effects[effects.kpi == "offered"]
    cell = {
        (p["sites.0.agents"], p["routing.policy"]): frames[n]["offered"].to_numpy()
        for n, p in points.items()
    }
    grand = sum(cell.values()) / 4  # per replication
    high = (cell[12, "longest_idle"] + cell[12, "fastest"]) / 2
    fast = (cell[10, "fastest"] + cell[12, "fastest"]) / 2
    by_hand = {
        ("main", "sites.0.agents", "12", ""): high - grand,
        ("main", "routing.policy", "fastest", ""): fast - grand,
        ("interaction", "sites.0.agents", "12", "fastest"): cell[12, "fastest"]
        - high
        - fast
        + grand,
    }
    for (term, factor, level, level_2), per_rep in by_hand.items():
        row = effects[
            (effects.term == term)
            & (effects.factor == factor)
            & (effects.level == level)
            & (effects.level_2 == level_2)
        ].iloc[0]
        low, up = stats.t.interval(0.95, N - 1, loc=per_rep.mean(), scale=stats.sem(per_rep))
        assert row.effect == pytest.approx(per_rep.mean())
        assert (row.ci_low, row.ci_high) == pytest.approx((low, up))
    # The classical 2^2 effects (high minus low) are twice these: 20 + 4/2 and 4 / 2.
    agents = effects[(effects.term == "main") & (effects.factor == "sites.0.agents")]
    assert 2 * agents.set_index("level").effect["12"] == pytest.approx(22, abs=3)
    classic = (
        cell[12, "fastest"]
        - cell[12, "longest_idle"]
        - cell[10, "fastest"]
        + cell[10, "longest_idle"]
    ) / 2
    interaction = effects[
        (effects.term == "interaction") & (effects.level == "12") & (effects.level_2 == "fastest")
    ]
    assert 2 * interaction.effect.iloc[0] == pytest.approx(classic.mean())
    # Effects of a factor sum to zero over its levels, and so do interactions over a row.
    main = effects[effects.term == "main"]
    assert main.groupby("factor").effect.sum().abs().max() < 1e-9


def test_an_effect_under_common_random_numbers_is_narrower_than_unpaired():
    points, frames = grid_frames()
    design = factorial(GRID, points)
    effects = effects_table({n: row_parts(f) for n, f in frames.items()}, design)
    main = effects[(effects.kpi == "offered") & (effects.term == "main")]
    # The shared day (sd 20) cancels in every effect; the cells' own noise (sd 3) stays.
    assert (main.variance_reduction > 5).all()
    assert (main.half_width < main.half_width_unpaired).all()


def test_a_contrast_of_two_is_the_paired_difference():
    a, b = (
        PARTS["b"][("voice", "all")].kpis["offered"],
        PARTS["base"][("voice", "all")].kpis["offered"],
    )
    x, y = FRAMES["b"]["offered"], FRAMES["base"]["offered"]
    estimate = contrast_ci((1, -1), [a, b])
    low, high = stats.t.interval(0.95, N - 1, loc=np.mean(x - y), scale=stats.sem(x - y))
    assert (estimate.low, estimate.high) == pytest.approx((low, high))


def test_effects_of_three_factors_recover_a_known_anova_decomposition():
    # Cell means mu_ijk = 100 + a_i + b_j + c_k + ab_ij, each part summing to zero over its
    # levels (ab over rows and columns): every effect comes back exactly, whatever the day.
    a, b, c = np.array([-3.0, 3.0]), np.array([-5.0, 1.0, 4.0]), np.array([2.0, -2.0])
    ab = np.array([[1.0, -2.0, 1.0], [-1.0, 2.0, -1.0]])
    grid = {"x": [0, 1], "y": ["p", "q", "r"], "z": ["u", "v"]}
    points = expand_grid(grid)
    frames = {}
    for name, point in points.items():
        i, j, k = point["x"], "pqr".index(point["y"]), "uv".index(point["z"])
        mu = 100 + a[i] + b[j] + c[k] + ab[i, j]
        frames[name] = frame(name, mu + DAY, 500 + DAY, (500 + DAY) * 10)
    design = factorial(grid, points)
    effects = effects_table({n: row_parts(f) for n, f in frames.items()}, design)
    offered = effects[effects.kpi == "offered"].set_index(
        ["factor", "level", "factor_2", "level_2"]
    )
    for factor, levels, parts in (
        ("x", ["0", "1"], a),
        ("y", list("pqr"), b),
        ("z", ["u", "v"], c),
    ):
        for level, value in zip(levels, parts, strict=True):
            assert offered.effect[factor, level, "", ""] == pytest.approx(value)
    for i, j in itertools.product(range(2), range(3)):
        assert offered.effect["x", str(i), "y", "pqr"[j]] == pytest.approx(ab[i, j])
    # No x-z or y-z interaction was put in: none comes out.
    other = offered.loc[offered.index.get_level_values("factor_2") == "z", "effect"]
    np.testing.assert_allclose(other, 0, atol=1e-9)
    # The shared day cancels in every contrast: no noise is left.
    assert offered.half_width.max() < 1e-9
