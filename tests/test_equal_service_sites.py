"""Each site scaled to its own binding target (ccsim.study.site_scales): on two sites that
answer one channel each (M/M/n queues, no abandonment), every site's crossing is the Erlang C
staffing of its own target, the cost is below the one-factor answer, and a crossing the
first scales do not bracket makes the sweep widen instead of extrapolating."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ccsim.experiment.replications import run_block
from ccsim.model import ServiceLevel
from ccsim.planning.frontier import scaled_scenario
from ccsim.planning.targets import ChannelTarget, Targets
from ccsim.study.equal_service import (
    equal_service_table,
    model_costs,
    replication_costs,
    run_sweep,
)
from ccsim.study.site_scales import (
    Constraint,
    Group,
    crossing_scale,
    floor_shares,
    repriced,
    site_costs,
)
from ccsim.study.site_sweep import model_site_costs, next_point
from ccsim.study.spec import load_experiment
from ccsim.theory.erlang import erlang_c_performance

# Site A: 5 Erlangs at 80/20 s, 10 agents (Erlang C needs 6.87: crossing near 0.69).
# Site B: 6 Erlangs at 90/20 s, 10 agents (needs 8.75: near 0.875, inside the scales).
SCENARIO = """
name: two_queues
horizon: 8h
warmup: 1h
timezone: America/New_York
channels:
  a:
    arrivals: {rate: 5/min}
    handle_time: {dist: exponential, mean: 1min}
    service_level: {threshold: 20s, target: 0.8}
  b:
    arrivals: {rate: 6/min}
    handle_time: {dist: exponential, mean: 1min}
    service_level: {threshold: 20s, target: 0.9}
sites:
  - {name: site_a, agents: 10, cost_per_hour: 20, skills: [a]}
  - {name: site_b, agents: 10, cost_per_hour: 20, skills: [b]}
"""
EXPERIMENT = """
name: two_queues
scenario: scenario.yaml
seed: 3
replications: 10
scenarios:
  plan: {}
frontier: {scales: [0.8, 0.9, 1.0], replications: 10, per_site: true, step: 0.1,
           max_rounds: 5}
"""
ERLANGS = {"site_a": (5 / 60, 0.8), "site_b": (6 / 60, 0.9)}


def _erlang_c_crossing(rate: float, target: float) -> float:
    """Agents where Erlang C's service level reaches ``target``, linear between integers
    (as the sweep interpolates between whole agents)."""
    levels = {n: erlang_c_performance(rate, 60.0, n, 20.0).service_level for n in range(1, 30)}
    n = min(k for k, level in levels.items() if level >= target)
    return n - 1 + (target - levels[n - 1]) / (levels[n] - levels[n - 1])


def _simulate(experiment):
    """The runner's ``simulate`` without a store: each job's blocks run here."""

    def simulate(jobs, what, columns, sums=None):
        rows, interval_sums = {}, {}
        for key, _, model, scenario, n in jobs:
            seeds = [experiment.seed_for(model, r) for r in range(n)]
            reps, block_sums = run_block(scenario, seeds, 0)
            rows[key], interval_sums[key] = [reps[columns]], [block_sums[sums]]
        return rows if sums is None else (rows, interval_sums)

    return simulate


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sites")
    (folder / "scenario.yaml").write_text(SCENARIO)
    (folder / "experiment.yaml").write_text(EXPERIMENT)
    experiment = load_experiment(folder / "experiment.yaml")
    sweep = run_sweep(experiment, None, 0, _simulate(experiment))
    return experiment, sweep, replication_costs(experiment, sweep)


@pytest.mark.slow
def test_each_site_crosses_where_erlang_c_meets_its_own_target(swept):
    experiment, sweep, costs = swept
    scenario = experiment.scenarios["plan"]
    points = sweep.points["plan"]
    assert not costs["unbracketed"].any() and not costs["extrapolated"].any()
    for site, (rate, target) in ERLANGS.items():
        channel = site[-1]
        # Per replication, the channel's weekly service level against the agents the sweep
        # gave the site at each point (the other site's scale does not reach this queue).
        frames = []
        for point, values in points.items():
            staffed = scaled_scenario(scenario, 1.0, dict(point))
            n = next(s.agents for s in staffed.sites if s.name == site)
            frames.append(values.assign(agents=n, scale=dict(point)[site]))
        curve = pd.concat(frames).groupby(["replication", "agents"]).mean(numeric_only=True)
        crossings = []
        for _, own in curve.groupby(level="replication"):
            agents = own.index.get_level_values("agents").to_numpy(float)
            margins = own[f"{channel}|service_level"].to_numpy(float) - target
            crossings.append(crossing_scale(agents, margins)[0])
        exact = _erlang_c_crossing(rate, target)
        # Ten 8-hour replications: the mean crossing within 0.35 agent of the stationary one
        # (its standard error is under 0.1 agent; a 1-hour warm-up leaves a small bias).
        assert abs(np.mean(crossings) - exact) < 0.35, (site, np.mean(crossings), exact)
        # The site's scale meets its weekly target and its interval floor: it binds on one.
        assert costs[f"binding_{site}"].isin([channel, f"{channel} interval_floor"]).all()
        by_scale = pd.concat(frames).groupby(["replication", "scale"]).mean(numeric_only=True)
        for replication, own in by_scale.groupby(level="replication"):
            scales = own.index.get_level_values("scale").to_numpy(float)
            weekly, _ = crossing_scale(scales, own[f"{channel}|service_level"].to_numpy() - target)
            assert costs.loc[replication, f"scale_{site}"] >= weekly - 1e-9


@pytest.mark.slow
def test_per_site_costs_less_than_one_factor_and_widens_instead_of_extrapolating(swept):
    experiment, sweep, costs = swept
    name = "plan"
    scenario = experiment.scenarios[name]
    common = model_costs(
        Targets.of(scenario), {s: sweep.rows[(name, s)] for s in experiment.spec.frontier.scales}
    )
    # One factor: site B binds inside the scales (site A, met at every scale, does not).
    assert not common["extrapolated"].any() and (common["binding_channel"] == "b").all()
    assert (costs["cost"] < common["cost"]).all()
    # Site A's crossing lies below the first scales: the sweep went down to bracket it.
    tried = sorted({dict(point)["site_a"] for point in sweep.points[name]})
    assert tried[0] < 0.7 and costs["scale_site_a"].between(tried[0], 0.8).all()
    table = equal_service_table(costs, name).iloc[0]
    assert table["extrapolated"] == 0 and table["unbracketed"] == 0 and table["n"] == 10
    assert table["scale_site_a_low"] <= table["scale_site_a"] <= table["scale_site_a_high"]
    assert table["binding_site_b"] in ("b", "b interval_floor")
    assert 0 < table["occupancy_site_b"] < 1
    # On the first scales alone, site A is not bracketed: no cost, never an extrapolation.
    first = {p: v for p, v in sweep.points[name].items() if len({s for _, s in p}) == 1}
    only = site_costs(sweep.groups[name], first)
    assert (only["status_site_a"] == "below").all() and only["cost"].isna().all()


@pytest.mark.slow
def test_a_wage_end_reprices_every_point_and_leaves_the_crossings(swept):
    experiment, sweep, costs = swept
    scenario, spec = experiment.scenarios["plan"], experiment.spec.frontier
    points = sweep.points["plan"]
    same = model_site_costs(scenario, Targets.of(scenario), points, spec)
    pd.testing.assert_frame_equal(same, site_costs(sweep.groups["plan"], points))
    double = {p: repriced(values, "site_a", 2.0) for p, values in points.items()}
    dearer = model_site_costs(scenario, Targets.of(scenario), double, spec)
    assert np.allclose(dearer["scale_site_a"], same["scale_site_a"])
    # Twice the wage: the cost rises by site A's pay at its own scale, 6 to 8 agents' pay
    # (Erlang C's crossing is 6.87 agents; the plan pays 10).
    plan = next(v for p, v in points.items() if dict(p) == {"site_a": 1.0, "site_b": 1.0})
    per_agent = plan["site_a|labour_cost"].to_numpy() / 10
    agents = (dearer["cost"] - same["cost"]).to_numpy() / per_agent
    assert ((agents > 6) & (agents < 8)).all(), agents


def test_crossing_scale_reads_between_bracketing_points_only():
    scales = np.array([0.9, 0.95, 1.0])
    assert crossing_scale(scales, np.array([-0.02, 0.01, 0.03])) == (
        pytest.approx(0.9333333),
        "inside",
    )
    assert crossing_scale(scales, np.array([0.01, 0.02, 0.03])) == (-math.inf, "below")
    value, status = crossing_scale(scales, np.array([-0.03, -0.02, -0.01]))
    assert math.isnan(value) and status == "above"


def test_next_point_widens_a_group_that_is_not_bracketed_and_checks_the_others():
    groups = [
        Group(("x",), (Constraint("service_level", "a", 0.8),)),
        Group(("y",), (Constraint("service_level", "b", 0.8),)),
    ]
    tried = [(("x", 0.95), ("y", 0.95)), (("x", 1.0), ("y", 1.0))]
    costs = pd.DataFrame(
        {
            "scale_x": [math.nan, math.nan],
            "status_x": ["below", "below"],
            "aim_x": [0.912, 0.897],
            "scale_y": [0.962, 0.978],
            "status_y": ["inside", "inside"],
            "aim_y": [0.962, 0.978],
        }
    )
    # x: past the furthest replication's aim (0.897) by 0.01, to 0.01; y: its estimate.
    assert next_point(groups, costs, tried, 0.05) == (("x", 0.88), ("y", 0.97))
    # An aim far off is held to two steps; none known: one step.
    assert next_point(groups, costs.assign(aim_x=0.3), tried, 0.05)[0] == ("x", 0.85)
    assert next_point(groups, costs.assign(aim_x=math.nan), tried, 0.05)[0] == ("x", 0.9)
    # Every group bracketed and a point within the estimate's error already run: done.
    done = costs.assign(scale_x=[0.951, 0.953], status_x="inside", scale_y=[0.95, 0.952])
    assert next_point(groups, done, tried, 0.05) is None
    # Missed at the largest scale: up, past the aim.
    up = costs.assign(status_x=["above", "inside"], aim_x=[1.021, 0.99])
    assert next_point(groups, up, tried, 0.05)[0] == ("x", 1.04)


def test_floor_shares_pool_each_interval_over_the_blocks_as_the_planner_judges():
    # Channel c, target 80%, floor 65%: interval 0 is 70/100 over two blocks (at the floor),
    # interval 1 is 60/100 (below), interval 2 had no contact (not counted): 1 of 2.
    def block(answered_in_time, answered):
        return pd.DataFrame(
            {
                "channel": "c",
                "site": "all",
                "interval": [0, 1, 2],
                "interval_start": "",
                "local_start": "",
                "s_answered_within_threshold": answered_in_time,
                "s_answered": answered,
                **dict.fromkeys(
                    ["s_abandoned", "s_carried_over", "s_messages", "s_disconnected"], 0
                ),
            }
        )

    blocks = [block([40, 20, 0], [50, 50, 0]), block([30, 40, 0], [50, 50, 0])]
    target = Targets({"c": ChannelTarget(ServiceLevel(threshold=20, target=0.8))}, confidence=0.95)
    assert floor_shares(target, blocks) == {"c": 0.5}
