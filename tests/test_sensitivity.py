"""Decisions under uncertainty: multiple comparisons (Holm), the study's currency, and the
one-at-a-time sensitivity of the headline outputs to uncertain inputs (the tornado)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

import ccsim
from ccsim.experiment.parallel import run_replications
from ccsim.experiment.stats import Estimate, holm, p_value, paired_mean_difference_ci
from ccsim.experiment.summary import compare
from ccsim.model import ConfigError, load_scenario

SCENARIO = textwrap.dedent(
    """\
    name: small
    horizon: 1h
    warmup: 0s
    channels:
      voice:
        arrivals: {rate: 2/min}
        handle_time: {dist: exponential, mean: 3min}
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 8
        cost_per_hour: 20
    """
)


# --- Holm -----------------------------------------------------------------------------------


def test_holm_on_a_hand_example():
    # m = 4 known p-values; sorted 0.01, 0.02, 0.03, 0.04 scale by 4, 3, 2, 1:
    # 0.04, 0.06, 0.06, 0.04 -> running maximum 0.04, 0.06, 0.06, 0.06.
    adjusted = holm([0.03, 0.01, math.nan, 0.04, 0.02])
    assert adjusted[1] == pytest.approx(0.04)
    assert adjusted[4] == pytest.approx(0.06)
    assert adjusted[0] == pytest.approx(0.06)
    assert adjusted[3] == pytest.approx(0.06)
    assert math.isnan(adjusted[2])
    # Capped at 1; a single test is unchanged.
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]
    assert holm([0.03]).tolist() == [0.03]


def test_p_value_is_the_paired_t_test():
    from scipy import stats

    rng = np.random.default_rng(1)
    x, y = rng.normal(0.3, 1, 30), rng.normal(0, 1, 30)
    expected = stats.ttest_rel(x, y).pvalue
    assert p_value(paired_mean_difference_ci(x, y)) == pytest.approx(expected, rel=1e-9)
    assert p_value(Estimate(0.0, 0.0, 10, 0.95)) == 1.0
    assert p_value(Estimate(2.0, 0.0, 10, 0.95)) == 0.0
    assert math.isnan(p_value(Estimate(1.0, math.nan, 1, 0.95)))


@pytest.fixture(scope="module")
def replications(tmp_path_factory):
    path = tmp_path_factory.mktemp("s") / "scenario.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    more = scenario.model_copy(
        update={"sites": [scenario.sites[0].model_copy(update={"agents": 9})]}
    )
    frames = []
    for name, variant in (("base", scenario), ("same", scenario), ("more", more)):
        frames.append(run_replications(variant, 12, seed=3).assign(scenario=name))
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def test_comparisons_carry_holm_adjusted_p_values(replications):
    table = compare(replications, "base")
    assert {"p_value", "p_holm", "significant"} <= set(table.columns)
    for _, family in table.groupby("kpi"):
        expected = holm(family["p_value"].to_numpy())
        np.testing.assert_allclose(family["p_holm"], expected, equal_nan=True)
    known = table["p_holm"].notna()
    assert (table.loc[known, "p_holm"] >= table.loc[known, "p_value"]).all()
    assert (table["significant"] == (table["p_holm"] < 0.05)).all()


def test_identical_scenarios_read_no_difference(replications):
    from ccsim.report.tables import verdict as _verdict

    table = compare(replications, "base")
    same = table[(table.scenario == "same") & table.difference.notna()]
    assert not same.empty
    assert (same.difference == 0).all() and not same.significant.any()
    for row in same.itertuples():
        assert _verdict(row.kpi, row.difference, row.ci_low, row.ci_high, row.significant)[1] == (
            "no difference"
        )
    # A difference that is not exactly zero never reads "no difference", even if it rounds.
    assert _verdict("service_level", 1e-9, -0.01, 0.01, False)[1] == "not significant"


# --- currency -------------------------------------------------------------------------------


def _scenario(tmp_path, text=SCENARIO):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_currency_defaults_to_usd_and_is_validated(tmp_path):
    assert load_scenario(_scenario(tmp_path)).currency == "USD"
    text = SCENARIO.replace("horizon: 1h", "currency: EUR\nhorizon: 1h")
    assert load_scenario(_scenario(tmp_path, text)).currency == "EUR"
    for bad in ("euro", "eur", "EU", "EURO"):
        with pytest.raises(ConfigError) as info:
            load_scenario(
                _scenario(
                    tmp_path, SCENARIO.replace("horizon: 1h", f"currency: {bad}\nhorizon: 1h")
                )
            )
        assert "currency" in str(info.value) and "\n" not in str(info.value)


def test_money_cells_and_axis_carry_the_currency(monkeypatch):
    from ccsim.report import study_figures as plots
    from ccsim.report.formatting import PAGE, format_difference, format_estimate, format_value

    assert format_value("cost_per_resolved_contact", 12.4, PAGE, currency="EUR") == "12.40 EUR"
    assert format_estimate("operating_cost", 15234.0, 15000.0, 15400.0, currency="GBP")[0] == (
        "15,234 GBP"
    )
    text, _ = format_difference("operating_cost", -250.0, -300.0, -200.0, 15000.0, currency="EUR")
    assert text.endswith(" EUR")
    # Not money: no currency, whatever is passed.
    assert format_value("service_level", 0.8, PAGE, currency="EUR") == "80.0%"

    import pandas as pd

    rows = []
    for scenario, cost, level in (("a", 4.0, 0.8), ("b", 3.5, 0.7)):
        for kpi, value in (("service_level", level), ("cost_per_resolved_contact", cost)):
            rows.append(
                {
                    "scenario": scenario,
                    "channel": "all",
                    "site": "all",
                    "kpi": kpi,
                    "estimate": value,
                    "ci_low": value * 0.99,
                    "ci_high": value * 1.01,
                }
            )
    summary = pd.DataFrame(rows)
    from matplotlib.axes import Axes

    labels = []
    original = Axes.set_ylabel
    monkeypatch.setattr(
        Axes,
        "set_ylabel",
        lambda self, label, **kw: (labels.append(label), original(self, label, **kw))[1],
    )
    chart = plots.cost_service_chart(summary, ["a", "b"], "all", "a", "EUR")
    assert chart.png
    assert labels == ["cost per resolved contact (EUR)"]


def test_an_experiment_records_its_currency_and_refuses_mixed_ones(tmp_path):
    from ccsim.study.spec import ExperimentSpec, build_experiment

    _scenario(tmp_path, SCENARIO.replace("horizon: 1h", "currency: EUR\nhorizon: 1h"))
    spec = ExperimentSpec(
        name="x", scenario="scenario.yaml", replications=2, scenarios={"a": {}, "b": {}}
    )
    assert build_experiment(spec, "exp.yaml", tmp_path).scenarios["a"].currency == "EUR"
    mixed = spec.model_copy(update={"scenarios": {"a": {}, "b": {"currency": "USD"}}})
    with pytest.raises(ConfigError, match="different currencies"):
        build_experiment(mixed, "exp.yaml", tmp_path)


# --- uncertain inputs and the tornado ---------------------------------------------------------

EXPERIMENT = textwrap.dedent(
    """\
    name: toy
    scenario: scenario.yaml
    seed: 5
    replications: 3
    sensitivity_replications: 3
    baseline: base
    scenarios:
      base: {}
      dear: {sites.0.cost_per_hour: 25}
    uncertain:
      sites.0.cost_per_hour: {low: 8, high: 18}
    """
)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy experiment's folder, run once: the tornado's figures and its report read the
    same run (a study with its sensitivity takes a while)."""
    from ccsim.study.run import run_experiment

    folder = tmp_path_factory.mktemp("toy")
    _scenario(folder)
    (folder / "experiment.yaml").write_text(EXPERIMENT)
    run_experiment(folder / "experiment.yaml", out=folder / "out")
    return folder / "out"


def test_tornado_bars_are_the_hand_computed_costs(toy):
    from ccsim.study.sensitivity import flip_sentence, tornado

    table = pd.read_csv(toy / "sensitivity.csv")
    # 8 agents on duty for the whole hour, whatever the contacts: labour = 8 h x rate.
    bars = tornado(table, "base", "operating_cost")
    assert bars.loc[0, "parameter"] == "sites.0.cost_per_hour"
    assert bars.loc[0, "low"] == pytest.approx(8 * 8.0, rel=1e-12)
    assert bars.loc[0, "high"] == pytest.approx(8 * 18.0, rel=1e-12)
    assert bars.loc[0, "base"] == pytest.approx(8 * 20.0, rel=1e-12)
    # Setting the rate of site 0 overrides both models' rate: the same cost at each end.
    dear = tornado(table, "dear", "operating_cost")
    assert dear.loc[0, "low"] == pytest.approx(8 * 8.0) and dear.loc[0, "base"] == 8 * 25.0
    assert "no input" in flip_sentence(table)  # base is cheaper at base; equal at the ends


def test_flip_sentence_names_the_inputs_that_change_the_cheapest_model():
    from ccsim.study.sensitivity import flip_sentence, ranking_flips

    rows = [
        ("a", "base", "base", 4.0), ("b", "base", "base", 4.5),
        ("a", "offshore_rate", "low", 3.0), ("b", "offshore_rate", "low", 4.4),
        ("a", "offshore_rate", "high", 5.0), ("b", "offshore_rate", "high", 4.6),
        ("a", "containment", "low", 4.1), ("b", "containment", "low", 4.5),
        ("a", "containment", "high", 3.9), ("b", "containment", "high", 4.4),
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=["model", "parameter", "end", "cost_per_resolved_contact"])
    assert ranking_flips(table) == ("a", [("offshore_rate", "high", "b")])
    sentence = flip_sentence(table)
    assert sentence.startswith("a is the cheapest") and "offshore_rate at its high end" in sentence
    assert "containment" not in sentence


@pytest.mark.parametrize(
    ("uncertain", "words"),
    [
        ("sites.0.cost_per_hr: {low: 8, high: 18}", "uncertain.sites.0.cost_per_hr"),
        ("sites.0.cost_per_hour: {low: 18, high: 8}", "must be below high"),
        ("sites.0.cost_per_hour: {low: -1, high: 8}", "uncertain.sites.0.cost_per_hour"),
        ("sites.0.cost_per_hour: {low: 1}", "high"),
    ],
)
def test_bad_uncertain_inputs_are_one_line(tmp_path, uncertain, words):
    from ccsim.study.spec import load_experiment

    _scenario(tmp_path)
    text = EXPERIMENT.replace("sites.0.cost_per_hour: {low: 8, high: 18}", uncertain)
    (tmp_path / "experiment.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_experiment(tmp_path / "experiment.yaml")
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.slow
def test_the_report_shows_the_tornado_and_the_flip_sentence(toy):
    from ccsim.report.html import render_report

    page = render_report(toy).read_text()
    assert (toy / "figures" / "tornado.png").is_file()
    assert "Sensitivity to the uncertain inputs" in page
    assert "flips the ranking" in page
    assert "(currency)" not in page


@pytest.mark.parametrize("policy", ["longest_idle", "preference"])
def test_a_repriced_wage_is_what_simulating_it_gives(policy):
    # A site's wage changes the cost, not the operation: repricing the base replications
    # must give every row and KPI that simulating the new wage gives (two sites in their
    # own time zones, a night differential, shifts with breaks and overruns, two channels).
    from ccsim.model import read_yaml_mapping
    from ccsim.model.overrides import apply_overrides
    from ccsim.study.sensitivity import _wage_site, repriced

    data = read_yaml_mapping("configs/follow_the_sun.yaml")
    data["horizon"] = "24h"
    data["routing"] = {"policy": policy}
    scenario = ccsim.parse_scenario(data, source="follow_the_sun", base_dir="configs")
    base = run_replications(scenario, 2, seed=5)
    for site, wage in (("manila", 17.5), ("dallas", 30.0)):
        changes = {f"sites.{site}.cost_per_hour": wage}
        assert _wage_site(scenario, changes) == site
        simulated = run_replications(apply_overrides(scenario, changes, "test"), 2, seed=5)
        pd.testing.assert_frame_equal(
            repriced(base, scenario, site, wage), simulated, check_exact=False, rtol=1e-9
        )
    cheapest = scenario.model_copy(update={"routing": scenario.routing.model_copy(
        update={"policy": "cheapest"})})  # fmt: skip
    assert _wage_site(cheapest, {"sites.manila.cost_per_hour": 20}) is None


UNCERTAIN_PATIENCE = EXPERIMENT.replace(
    "uncertain:\n",
    "uncertain:\n  channels.voice.patience.mean: {low: 1min, high: 4min}\n",
)


def test_the_sensitivity_base_is_the_main_runs_first_replications(tmp_path, monkeypatch):
    """With common random numbers the base of the sensitivity is the main run's first
    replications, not simulated again: the table is the same whether the main run had
    enough replications to lend them (3) or not (2: the base is simulated). A second run on
    the same folder resumes every saved block, the sensitivity's included."""
    from ccsim.study import run as runner

    _scenario(tmp_path)
    (tmp_path / "lends.yaml").write_text(UNCERTAIN_PATIENCE)
    (tmp_path / "short.yaml").write_text(
        UNCERTAIN_PATIENCE.replace("replications: 3\n", "replications: 2\n", 1)
    )
    runner.run_experiment(tmp_path / "lends.yaml", out=tmp_path / "lends")
    runner.run_experiment(tmp_path / "short.yaml", out=tmp_path / "short")
    lends = pd.read_csv(tmp_path / "lends" / "sensitivity.csv")
    short = pd.read_csv(tmp_path / "short" / "sensitivity.csv")
    pd.testing.assert_frame_equal(lends, short)
    assert set(lends["parameter"]) == {
        "base",
        "sites.0.cost_per_hour",
        "channels.voice.patience.mean",
    }
    moved = lends[lends["parameter"] == "channels.voice.patience.mean"]
    assert (
        moved["service_level"] != lends.loc[lends["parameter"] == "base", "service_level"].iloc[0]
    ).any()
    manifest = (tmp_path / "lends" / "manifest.json").read_text()
    assert '"sensitivity.csv"' in manifest  # checked with the other tables

    calls = []
    simulate_block = runner.run_saved_block
    monkeypatch.setattr(runner, "run_saved_block", lambda *a: calls.append(a) or simulate_block(*a))
    runner.run_experiment(tmp_path / "lends.yaml", out=tmp_path / "lends")
    assert calls == []
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "lends" / "sensitivity.csv"), lends)


def test_an_end_is_replanned_where_its_work_goes():
    """At equal service an end is swept around its re-planned staffing: a chat bot that
    contains fewer simple requests sends more chats to the chat and email site (Manila),
    hardly any more to tier 2 (simple requests are seldom escalated) and none to the voice
    site (Bogota); an input that moves no requirement re-plans nothing (the channel-wide
    containment, which every request type overrides)."""
    from pathlib import Path

    from ccsim.model.overrides import apply_overrides
    from ccsim.study.sensitivity import replanned

    scenario = load_scenario(Path(__file__).parents[1] / "configs" / "models" / "ai_heavy.yaml")
    simple = "channels.chat.request_types.simple.containment"
    less = apply_overrides(scenario, {simple: 0.30}, "test")  # 0.85 in ai_heavy
    factors = replanned(scenario, less)
    assert factors["bogota"] == 1.0
    assert factors["manila"] > 1.05
    assert 1.0 < factors["specialists"] < 1.03 < factors["manila"]
    more = apply_overrides(scenario, {simple: 0.95}, "test")
    assert replanned(scenario, more)["manila"] < 1.0
    assert replanned(scenario, scenario) == {}
    blind = apply_overrides(scenario, {"channels.chat.bot.containment": 0.15}, "test")
    assert replanned(scenario, blind) == {}
