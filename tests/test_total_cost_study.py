"""Total cost through the study: a small experiment with attrition, learning, a transition
and a fixed cost writes total_cost.csv, listed in the manifest, whose figures follow from
the study's own by hand, and the report shows its section."""

from __future__ import annotations

import json
import math
import textwrap

import pandas as pd
import pytest

from ccsim.model.workforce import WEEKS_PER_YEAR
from ccsim.report.html import render_report
from ccsim.study.run import run_experiment

HUMAN = textwrap.dedent(
    """\
    name: human
    horizon: 4h
    warmup: 0s
    channels:
      voice:
        arrivals: {rate: 4/min}
        handle_time: {dist: exponential, mean: 3min}
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 14
        cost_per_hour: 20
        workforce: {attrition: 0.35, cost_per_hire: 3000, training_weeks: 2,
                    learning: [{weeks: 0, handle_time: 1.3}, {weeks: 12}]}
    """
)
AI = textwrap.dedent(
    """\
    extends: human.yaml
    name: ai
    channels:
      voice:
        bot: {share: 1.0, handle_time: {dist: gamma, mean: 60s, cv: 0.8}, containment: 0.2,
              false_containment: 0.1, return_delay: {dist: exponential, mean: 1h},
              cost_per_minute: 0.1}
    sites:
      - name: main
        agents: 12
        cost_per_hour: 20
        workforce: {attrition: 0.45, cost_per_hire: 2000,
                    learning: [{weeks: 0, handle_time: 1.3}, {weeks: 12}]}
    transition: {dual_running_weeks: 4, dual_running_share: 0.5, knowledge_transfer: 5000,
                 severance: 8000, ramp: {main: {start: 1.4, weeks: 8}}}
    fixed_costs: {ai_platform: {amount: 1000, per: month}}
    """
)
EXPERIMENT = textwrap.dedent(
    """\
    name: owned
    scenario: human.yaml
    seed: 5
    replications: 4
    baseline: human
    scenarios:
      human: {}
      ai: {scenario: ai.yaml}
    frontier: {scales: [0.8, 0.9, 1.0, 1.1], replications: 4}
    uncertainty:
      points: 8
      replications: 1
      inputs:
        sites.main.cost_per_hour: {low: 15, high: 25, source: "test range"}
        containment:
          paths: {channels.voice.bot.containment: [0.05, 0.4]}
          source: "test range"
    total_cost:
      horizon: 3y
      discount_rate: 0.08
      uncertain:
        discount_rate: {low: 0.05, high: 0.12, source: "test range"}
        sites.main.workforce.attrition: {low: 0.3, high: 0.6, source: "test range"}
        transition.severance: {low: 4000, high: 12000, source: "test range"}
    """
)


def test_total_cost_through_the_study_and_its_report(tmp_path):
    (tmp_path / "human.yaml").write_text(HUMAN)
    (tmp_path / "ai.yaml").write_text(AI)
    (tmp_path / "exp.yaml").write_text(EXPERIMENT)
    out = tmp_path / "out"
    run_experiment(tmp_path / "exp.yaml", out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "total_cost.csv" in manifest["files"]
    table = pd.read_csv(out / "total_cost.csv").set_index("model")
    human, ai = table.loc["human"], table.loc["ai"]
    # The week is the study's cost at equal service, a 4-hour window brought to 7 days.
    weeks = 7 * 24 / 4
    base_cost = manifest["study"]["uncertainty"]["base_cost"]
    assert human["weekly_cost"] == pytest.approx(base_cost["human"] * weeks)
    # Paid FTE: 14 agents around the clock at the study's scale, 40 h a week each; each
    # leaver 3,000 plus 2 weeks x 40 h x 20.
    scale = manifest["study"]["uncertainty"]["base_scale"]["human"]
    fte = 14 * 168 / 40 * scale
    assert human["replacement_cost"] == pytest.approx(0.35 * fte * 4600)
    assert human["annual_cost"] == pytest.approx(
        human["weekly_cost"] * WEEKS_PER_YEAR + human["replacement_cost"]
    )
    assert ai["fixed_cost"] == 12_000 and human["transition_cost"] == 0
    assert ai["dual_running"] == pytest.approx(4 * 0.5 * human["weekly_cost"])
    annuity = sum(1.08**-k for k in (1, 2, 3))
    for row in (human, ai):
        assert row["npv"] == pytest.approx(row["transition_cost"] + row["annual_cost"] * annuity)
        assert row["npv_low"] <= row["npv"] <= row["npv_high"]
        assert row["npv_p05"] <= row["npv_p50"] <= row["npv_p95"]
        assert row["points"] == 8
    assert ai["npv_difference"] == pytest.approx(ai["npv"] - human["npv"])
    # The paired interval of equal_service.csv, carried along the annuity.
    paired = pd.read_csv(out / "equal_service.csv").set_index("scenario").loc["ai"]
    half = (paired["difference_high"] - paired["difference"]) * weeks * WEEKS_PER_YEAR * annuity
    assert ai["npv_difference_high"] - ai["npv_difference"] == pytest.approx(half)
    assert ai["npv_difference_low"] < ai["npv_difference"] < ai["npv_difference_high"]
    assert table["p_lowest_npv"].sum() == pytest.approx(1.0)
    # CSAT is the run's journey CSAT over all channels at the plan (summary.csv), and the cost
    # per satisfied resolved contact the annual cost over resolved contacts times it.
    summary = pd.read_csv(out / "summary.csv")
    for name, row in (("human", human), ("ai", ai)):
        kpi = summary[
            (summary.scenario == name) & (summary.kpi == "csat") & (summary.site == "all")
        ]
        whole = kpi.iloc[0]  # one channel: its row is the whole
        assert len(kpi) == 1
        assert 0 < row["csat"] < 1 and row["csat"] == pytest.approx(whole["estimate"])
        assert row["csat_low"] <= row["csat"] <= row["csat_high"]
        rates = summary[(summary.scenario == name) & (summary.kpi == "resolution_rate")]
        resolved = float(rates[rates.site == "all"].iloc[0]["estimate"])
        never = 1 / (1 + math.exp(2.65 - 1.55))  # a journey never resolved, by default
        satisfied = (row["csat"] - (1 - resolved) * never) / resolved
        assert row["cost_per_satisfied_resolved_contact"] == pytest.approx(
            row["annual_cost"] / (row["resolved_per_year"] * satisfied)
        )
    page = render_report(out).read_text()
    assert 'id="total-cost-table"' in page and "CSAT" in page.split('id="total-cost"')[1][:6000]
    assert "Over 3 years at a discount rate of 8% a year" in page
    # The header's replications are the main run's; the cost at equal service rests on the
    # frontier's (4 here), which the header and the assumptions must say.
    assert "the cost at equal service from 4 at each point of each model" in page
    assert "The cost at equal service and the selection: 4 replications" in page
    # The ranges name the horizon's own inputs, from the experiment file that ran.
    section = page.split('id="total-cost"')[1][:6000]
    assert "discount rate 5% to 12%" in section and "severance 4k to 12k USD" in section
    assert "lowest present value of cost in" in section and "NPV" not in section
