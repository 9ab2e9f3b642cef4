"""Total cost over a horizon: the net present value, the annual cost, the cost of replacing
leavers and the transition's one-off items by hand, the ranges over a small synthetic joint
sample, the CSAT hook with and without the KPI, and bad input in one line."""

from __future__ import annotations

import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from ccsim.model import ConfigError
from ccsim.model.loading import parse_scenario
from ccsim.model.workforce import WEEKS_PER_YEAR
from ccsim.report.total_cost import total_cost_section
from ccsim.study.spec import load_experiment
from ccsim.study.total_cost import (
    Week,
    annual_items,
    check_total_cost,
    npv,
    one_off_items,
    satisfaction,
    total_cost_table,
)
from ccsim.study.total_cost_spec import TotalCostSpec, horizon_years
from ccsim.study.uncertainty import Base
from ccsim.study.uncertainty_design import UncertaintySpec

SCENARIO = textwrap.dedent(
    """\
    name: owned
    horizon: 7d
    channels:
      voice:
        arrivals: {rate: 1/min}
        handle_time: {dist: exponential, mean: 3min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 10
        cost_per_hour: 20
        workforce: {attrition: 0.35, cost_per_hire: 3000, training_weeks: 2,
                    learning: [{weeks: 0, handle_time: 1.5}, {weeks: 26}]}
    transition: {dual_running_weeks: 4, dual_running_share: 0.5, knowledge_transfer: 5000,
                 severance: 8000, ramp: {main: {start: 1.4, weeks: 8}}}
    fixed_costs: {ai_platform: {amount: 1000, per: month}, lease: {amount: 5000, per: year}}
    """
)
WEEK = Week(cost=10_000.0, pay={"main": 9_000.0}, fte={"main": 50.0})


def _scenario(**changes):
    data = yaml.safe_load(SCENARIO)
    data.update(changes)
    return parse_scenario(data, source="owned.yaml")


# --- by hand --------------------------------------------------------------------------------


def test_npv_by_hand():
    # 100 now, then 1,000 at the end of each of three years at 10%.
    assert npv(100, 1000, 3, 0.10) == pytest.approx(100 + 1000 / 1.1 + 1000 / 1.21 + 1000 / 1.331)
    # Half a third year: half its cost, at that year's end.
    assert npv(100, 1000, 2.5, 0.10) == pytest.approx(100 + 1000 / 1.1 + 1000 / 1.21 + 500 / 1.331)
    assert npv(0, 1000, 3, 0.0) == pytest.approx(3000)


def test_annual_cost_and_replacement_by_hand():
    items = annual_items(_scenario(), WEEK, {}, {})
    # 0.35 x 50 FTE = 17.5 leavers, each 3,000 plus 2 weeks x 40 h x 20 = 1,600.
    assert items["replacement_cost"] == pytest.approx(17.5 * 4600)
    assert items["annual_operating_cost"] == pytest.approx(10_000 * 365.25 / 7)
    assert items["fixed_cost"] == pytest.approx(12 * 1000 + 5000)
    assert items["annual_cost"] == pytest.approx(10_000 * 365.25 / 7 + 17.5 * 4600 + 17_000)
    # A point's draws set the paths; an attrition held (simulated there) prices leavers only.
    values = {"sites.main.workforce.attrition": 0.5, "sites.main.workforce.cost_per_hire": 1000,
              "fixed_costs.ai_platform.amount": 2000}  # fmt: skip
    moved = annual_items(_scenario(), WEEK, values, {})
    assert moved["replacement_cost"] == pytest.approx(0.5 * 50 * (1000 + 1600))
    assert moved["annual_operating_cost"] == items["annual_operating_cost"]
    assert moved["fixed_cost"] == pytest.approx(24_000 + 5000)


def test_a_repriced_attrition_moves_the_pay_by_the_learning_curves_multiplier():
    # Two steps, 1.5 then 1 from 26 weeks: a share s = 1 - exp(-a 26 / 52.18) is new, and the
    # floor's multiplier is 1 / (s / 1.5 + 1 - s) = 1 / (1 - s / 3).
    def multiplier(a):
        return 1 / (1 - (1 - math.exp(-a * 26 / WEEKS_PER_YEAR)) / 3)

    path = {"sites.main.workforce.attrition": 0.5}
    moved = annual_items(_scenario(), WEEK, path, path)
    extra = 9_000 * WEEKS_PER_YEAR * (multiplier(0.5) / multiplier(0.35) - 1)
    assert moved["annual_operating_cost"] == pytest.approx(10_000 * WEEKS_PER_YEAR + extra)
    assert extra > 0


def test_transition_by_hand():
    items = one_off_items(_scenario(), WEEK, 46_000.0, {})
    assert items["dual_running"] == pytest.approx(4 * 0.5 * 46_000)
    # The ramp: 9,000 a week times the excess's area, (1.4 - 1) x 8 weeks / 2.
    assert items["ramp"] == pytest.approx(9_000 * 0.4 * 8 / 2)
    assert items["transition_cost"] == pytest.approx(92_000 + 5000 + 8000 + 14_400)
    values = {"transition.severance": 12_000, "transition.ramp.main.start": 1.2}
    moved = one_off_items(_scenario(), WEEK, 46_000.0, values)
    assert moved["severance"] == 12_000 and moved["ramp"] == pytest.approx(9_000 * 0.2 * 4)
    # A draw for a site this model does not open leaves its ramp alone.
    other = one_off_items(_scenario(), WEEK, 46_000.0, {"transition.ramp.bogota.start": 1.5})
    assert other["ramp"] == pytest.approx(14_400)
    none = one_off_items(_scenario(transition=None), WEEK, 46_000.0, {})
    assert none["transition_cost"] == 0


# --- the ranges over a joint sample ----------------------------------------------------------


def _experiment(uncertain=None):
    owned = _scenario()
    plain = _scenario(name="plain", transition=None, fixed_costs={})
    joint = UncertaintySpec(
        points=8,
        inputs={"sites.main.workforce.attrition": {"low": 0.3, "high": 0.5, "source": "test"}},
    )
    spec = SimpleNamespace(
        seed=3,
        uncertainty=joint,
        total_cost=TotalCostSpec(horizon="2y", discount_rate=0.1, uncertain=uncertain or {}),
    )
    return SimpleNamespace(spec=spec, scenarios={"plain": plain, "owned": owned}, baseline="plain")


def test_ranges_over_a_small_synthetic_sample_by_hand():
    experiment = _experiment()
    bases = {
        m: Base(cost=10_000.0, scale=1.0, slopes={}, site_labour={"main": 9_000.0})
        for m in ("plain", "owned")
    }
    positions = np.linspace(0, 1, 8)
    costs = {"plain": 10_000 + 1000 * positions, "owned": 9_000 + 3000 * positions}
    points = pd.DataFrame(
        [
            {"point": i, "model": m, "cost": costs[m][i], "sites.main.workforce.attrition": p}
            for m in ("plain", "owned")
            for i, p in enumerate(positions)
        ]
    )
    table = total_cost_table(experiment, bases, None, points, None).set_index("model")
    fte = 10 * 168 / 40  # 10 agents around the clock
    annuity = 1 / 1.1 + 1 / 1.21
    attrition = 0.3 + 0.2 * positions
    by_hand = {}
    for m in ("plain", "owned"):
        annual = costs[m] * WEEKS_PER_YEAR + attrition * fte * 4600
        annual += 17_000 if m == "owned" else 0
        once = 4 * 0.5 * costs["plain"] + 5000 + 8000 + 9_000 * 0.4 * 4 if m == "owned" else 0
        by_hand[m] = once + annual * annuity
        q = np.quantile(by_hand[m], [0.05, 0.5, 0.95])
        assert table.loc[m, ["npv_p05", "npv_p50", "npv_p95"]].tolist() == pytest.approx(q)
        assert table.loc[m, "annual_cost_p50"] == pytest.approx(np.quantile(annual, 0.5))
    cheaper = float(np.mean(by_hand["owned"] < by_hand["plain"]))
    assert table.loc["owned", "p_lowest_npv"] == pytest.approx(cheaper)
    assert table["p_lowest_npv"].sum() == pytest.approx(1.0)
    difference = np.quantile(by_hand["owned"] - by_hand["plain"], [0.05, 0.95])
    assert table.loc["owned", ["npv_difference_p05", "npv_difference_p95"]].tolist() == (
        pytest.approx(difference)
    )
    # At base: the study's cost, the scenario's attrition (0.35), no draws.
    base = (10_000 * WEEKS_PER_YEAR + 0.35 * fte * 4600) * annuity
    assert table.loc["plain", "npv"] == pytest.approx(base)
    # A repriced discount rate widens the range around the same base.
    rate = {"discount_rate": {"low": 0.0, "high": 0.2, "source": "test"}}
    wider = total_cost_table(_experiment(rate), bases, None, points, None).set_index("model")
    assert wider.loc["plain", "npv"] == pytest.approx(base)
    spread = wider.loc["plain", "npv_p95"] - wider.loc["plain", "npv_p05"]
    assert spread > table.loc["plain", "npv_p95"] - table.loc["plain", "npv_p05"]


# --- the CSAT hook -----------------------------------------------------------------------------


def _summary(csat: bool) -> pd.DataFrame:
    rows = [("operating_cost", 10_000.0, math.nan, math.nan),
            ("cost_per_resolved_contact", 2.5, math.nan, math.nan),
            ("resolution_rate", 0.9, math.nan, math.nan)]  # fmt: skip
    if csat:
        rows.append(("csat", 0.8, 0.78, 0.82))
    return pd.DataFrame(
        [
            {"scenario": m, "channel": "all", "site": "all", "kpi": k, "estimate": v,
             "ci_low": lo, "ci_high": hi}
            for m in ("plain", "owned") for k, v, lo, hi in rows
        ]
    )  # fmt: skip


def test_cost_per_satisfied_resolved_contact_where_the_run_counts_csat(tmp_path):
    assert satisfaction(_summary(False), "owned") is None
    assert satisfaction(_summary(True), "owned") == (0.8, 0.78, 0.82)
    experiment = _experiment()
    experiment.spec.uncertainty = None
    bases = {m: Base(10_000.0, 1.0, {}, {"main": 9_000.0}) for m in ("plain", "owned")}
    with_csat = total_cost_table(experiment, bases, None, None, _summary(True))
    row = with_csat.set_index("model").loc["owned"]
    resolved = 10_000 / 2.5 * WEEKS_PER_YEAR  # 4,000 resolutions in the week
    assert row["resolved_per_year"] == pytest.approx(resolved)
    assert row["cost_per_resolved_contact"] == pytest.approx(row["annual_cost"] / resolved)
    # 10% never resolved, each scored sigmoid(base - unresolved) = sigmoid(1.55 - 2.65):
    # the resolved are satisfied at (0.8 - 0.1 x 0.2497) / 0.9 = 0.8611, not 0.8.
    never = 1 / (1 + math.exp(2.65 - 1.55))
    assert never == pytest.approx(0.2497, abs=1e-4)
    assert row["cost_per_satisfied_resolved_contact"] == pytest.approx(
        row["annual_cost"] / (resolved * (0.8 - 0.1 * never) / 0.9)
    )
    assert row["points"] == 0 and math.isnan(row["npv_p05"])  # nothing uncertain
    without = total_cost_table(experiment, bases, None, None, _summary(False))
    assert without["csat"].isna().all()
    for table, shown in ((with_csat, True), (without, False)):
        table.to_csv(tmp_path / "total_cost.csv", index=False)
        section = total_cost_section(tmp_path, "USD", "plain")
        assert section["csat"] is shown
        best = table.loc[table["npv"].idxmin()]
        assert section["answer"].startswith(f"{best['model']} costs least over 2 years")
        assert ("CSAT" in section["answer"]) is shown
        assert ("per_satisfied" in section["rows"][1]) is shown
        assert section["rows"][0]["difference"] == "baseline"
        assert section["unit"].endswith("USD")  # the header names the unit once
        npv = float(table.iloc[1]["npv"])
        factor = {"M USD": 1e6, "k USD": 1e3, "USD": 1.0}[section["unit"]]
        shown_npv = float(section["rows"][1]["npv"].replace(",", "").replace("\N{MINUS SIGN}", "-"))
        assert shown_npv == pytest.approx(npv / factor, abs=0.05 if factor > 1 else 0.5)


# --- bad input ---------------------------------------------------------------------------------


def test_horizons_with_their_units():
    assert horizon_years("3y") == 3 and horizon_years("30 months") == 2.5
    assert horizon_years("2 years") == 2


EXPERIMENT = textwrap.dedent(
    """\
    name: owned
    scenario: owned.yaml
    replications: 2
    scenarios:
      plain: {transition: null}
      owned: {}
    frontier: {scales: [0.9, 1.0], replications: 2}
    total_cost: {horizon: 3y, discount_rate: 0.08}
    """
)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ("horizon: 3y", "horizon: 3", "total_cost.horizon: 3 needs a unit"),
        ("horizon: 3y", "horizon: 3 days", "needs a unit: years (3y) or months (36mo)"),
        ("discount_rate: 0.08", "discount_rate: 1.5", "total_cost.discount_rate"),
        ("discount_rate: 0.08", "discount_rate: 0.08, uncertain: {channels.voice.resolution: "
         "{low: 0.6, high: 0.8, source: x}}", "is not repriced here"),
        ("discount_rate: 0.08", "discount_rate: 0.08, uncertain: {discount_rate: "
         "{low: 0.05, high: 1.2, source: x}}", "must lie in [0, 1)"),
        ("discount_rate: 0.08", "discount_rate: 0.08, uncertain: {sites.main.workforce."
         "attrition: {low: 0.3, high: 0.5}}", "source"),
    ],
)  # fmt: skip
def test_bad_total_cost_is_one_line_naming_the_field(tmp_path, change, field, words):
    (tmp_path / "owned.yaml").write_text(SCENARIO)
    (tmp_path / "exp.yaml").write_text(EXPERIMENT.replace(change, field, 1))
    with pytest.raises(ConfigError) as caught:
        load_experiment(tmp_path / "exp.yaml")
    text = str(caught.value)
    assert "\n" not in text and "exp.yaml:" in text and words in text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("uncertain: {sites.elsewhere.workforce.attrition: {low: 0.3, high: 0.5, source: x}}",
         "total_cost.uncertain.sites.elsewhere.workforce.attrition: no model has"),
        ("uncertain: {transition.ramp.other.start: {low: 1.1, high: 1.5, source: x}}",
         "no model has transition.ramp.other.start"),
        # A range end the model's own field refuses: caught before the study, not after it.
        ("uncertain: {transition.dual_running_share: {low: 0.5, high: 1.4, source: x}}",
         "transition.dual_running_share at 1.4: "),
        ("uncertain: {transition.ramp.main.start: {low: 0.8, high: 1.2, source: x}}",
         "transition.ramp.main.start at 0.8: "),
        ("uncertain: {sites.main.workforce.attrition: {low: 0.3, high: 1.5, source: x}}",
         "sites.main.workforce.attrition at 1.5: "),
    ],
)  # fmt: skip
def test_a_path_no_model_has_is_refused_before_any_run(tmp_path, change, words):
    (tmp_path / "owned.yaml").write_text(SCENARIO)
    text = EXPERIMENT.replace("discount_rate: 0.08}", f"discount_rate: 0.08, {change}}}")
    (tmp_path / "exp.yaml").write_text(text)
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")) as caught:
        check_total_cost(load_experiment(tmp_path / "exp.yaml"))
    assert "\n" not in str(caught.value)


def test_total_cost_needs_a_frontier(tmp_path):
    (tmp_path / "owned.yaml").write_text(SCENARIO)
    text = EXPERIMENT.replace("frontier: {scales: [0.9, 1.0], replications: 2}\n", "")
    (tmp_path / "exp.yaml").write_text(text)
    with pytest.raises(ConfigError, match="total_cost: needs a frontier block"):
        check_total_cost(load_experiment(tmp_path / "exp.yaml"))


def test_bad_transition_and_fixed_costs_are_one_line():
    for change, words in (
        ({"transition": {"ramp": {"nowhere": {"start": 1.2, "weeks": 4}}}},
         "transition.ramp.nowhere: no site 'nowhere'"),
        ({"transition": {"dual_running_share": 1.5}}, "transition.dual_running_share"),
        ({"transition": {"ramp": {"main": {"start": 0.8, "weeks": 4}}}},
         "transition.ramp.main.start"),
        ({"fixed_costs": {"ai": {"amount": -1}}}, "fixed_costs.ai.amount"),
        ({"fixed_costs": {"ai": {"amount": 1, "per": "week"}}}, "fixed_costs.ai.per"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            _scenario(**change)
        assert "\n" not in str(caught.value) and words in str(caught.value)


def test_every_column_of_total_cost_csv_is_documented():
    from pathlib import Path

    from ccsim.study.total_cost import TOTAL_COST_COLUMNS

    docs = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text()
    section = docs.split("## Total cost over a horizon")[1]
    assert [c for c in TOTAL_COST_COLUMNS if f"`{c}`" not in section] == []


def test_dual_running_prices_the_sites_a_model_closes():
    # Onshore pays 700 at Dallas and 300 at the specialists a week; a model that keeps the
    # specialists runs Dallas twice during the move, not the specialists: 0.7 of the week.
    from ccsim.study.total_cost import Week, closed_share

    onshore = Week(1000.0, {"dallas": 700.0, "specialists": 300.0}, {})
    keeps = SimpleNamespace(
        sites=[SimpleNamespace(name="manila"), SimpleNamespace(name="specialists")]
    )
    assert closed_share(onshore, keeps) == pytest.approx(0.7)
    every = SimpleNamespace(
        sites=[SimpleNamespace(name="dallas"), SimpleNamespace(name="specialists")]
    )
    assert closed_share(onshore, every) == 1.0  # the same sites change how they work


def _total_cost_folder(tmp_path):
    """An output folder with total_cost.csv of two models and no manifest."""
    table = pd.DataFrame(
        {"model": ["plain", "owned"], "horizon_years": [3.0, 3.0], "discount_rate": [0.08] * 2,
         "annual_cost": [50e6, 40e6], "replacement_cost": [2e6, 0.6e6],
         "transition_cost": [0.0, 10e6], "npv": [184e6, 114e6], "npv_low": [183e6, 113e6],
         "npv_high": [185e6, 115e6], "npv_p05": [158e6, 99e6], "npv_p95": [213e6, 136e6],
         "npv_difference": [0.0, -70e6], "npv_difference_p05": [0.0, -98e6],
         "npv_difference_p95": [0.0, -36e6], "p_lowest_npv": [0.0, 1.0], "points": [64, 64],
         "cost_per_resolved_contact": [8.7, 5.1], "csat": [math.nan] * 2}
    )  # fmt: skip
    table.to_csv(tmp_path / "total_cost.csv", index=False)
    return tmp_path


def test_the_total_cost_is_called_a_present_value_of_cost_lower_being_better(tmp_path):
    """ "offshore has the lowest net present value" reads, in finance, as the worst project:
    the figure is the present value of costs, where lower is better."""
    section = total_cost_section(_total_cost_folder(tmp_path), "USD", "plain")
    assert "net present value" not in section["answer"] + section["sentence"]
    assert section["answer"].startswith(
        "owned costs least over 3 years: a present value of cost of 114.0 M USD, lowest in "
        "100% of the draws"
    )
    assert "present value of cost (a cost: lower is better)" in section["sentence"]
    assert section["years"] == "3 years"


def test_the_total_cost_ranges_name_the_horizons_own_inputs_with_their_ranges(
    tmp_path, monkeypatch
):
    """The ranges also vary the discount rate, severance, dual running and the rest of
    total_cost.uncertain, drawn beside the joint sample; the page named none of them and
    opened "at a discount rate of 8%". Their ranges come from the experiment that ran
    (read through its manifest: tests/test_total_cost_study.py)."""
    from ccsim.report import total_cost

    uncertain = {
        "discount_rate": {"discount_rate": (0.05, 0.12)},
        "onshore_attrition": {"sites.a.workforce.attrition": (0.25, 0.45),
                              "sites.b.workforce.attrition": (0.25, 0.45)},
        "cost_per_hire": {"sites.a.workforce.cost_per_hire": (1750, 3400)},
        "training_weeks": {"sites.a.workforce.training_weeks": (2, 6)},
        "dual_running": {"transition.dual_running_weeks": (4, 12)},
        "knowledge_transfer": {"transition.knowledge_transfer": (75_000, 300_000)},
        "severance": {"transition.severance": (2_770_000, 8_310_000)},
        "ramp": {"transition.ramp.manila.start": (1.2, 1.5),
                 "transition.ramp.manila.weeks": (8, 26)},
    }  # fmt: skip
    folder = _total_cost_folder(tmp_path)
    monkeypatch.setattr(total_cost, "horizon_uncertain", lambda _: uncertain)
    sentence = total_cost_section(folder, "USD", "plain")["sentence"]
    assert "over 64 draws, and of 8 inputs of the horizon, drawn beside them: " in sentence
    for said in (
        "discount rate 5% to 12%", "onshore attrition 25% to 45%",
        "cost per hire 1,750 to 3,400 USD", "training 2 to 6 weeks",
        "dual running 4 to 12 weeks", "knowledge transfer 75k to 300k USD",
        "severance 2.77 M to 8.31 M USD",
        "ramp (handle time at the start ×1.2 to ×1.5; 8 to 26 weeks)",
    ):  # fmt: skip
        assert said in sentence, said
    assert "financing and transition assumptions" in sentence
    assert sentence.startswith("Over 3 years at a discount rate of 8% a year (the ranges vary it")
    monkeypatch.setattr(total_cost, "horizon_uncertain", lambda _: None)
    unknown = total_cost_section(folder, "USD", "plain")["sentence"]
    assert "total_cost.uncertain (not listed here" in unknown
    # Without a manifest the experiment that ran is not known.
    monkeypatch.undo()
    assert total_cost.horizon_uncertain(folder) is None
