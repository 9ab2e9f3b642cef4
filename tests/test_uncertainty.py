"""The joint uncertainty of the inputs: the Latin hypercube, the regression effects and their
intervals, the probability of being cheapest, the break-even, the worst corner, wages repriced
exactly, the step to equal service against a full sweep, bad input in one line, and a small
experiment end to end with its report."""

from __future__ import annotations

import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ccsim.experiment.parallel import run_replications
from ccsim.model import ConfigError, load_scenario
from ccsim.model.overrides import apply_overrides
from ccsim.planning.frontier import scaled_scenario
from ccsim.planning.targets import Targets
from ccsim.study.equal_service import SWEEP_COLUMNS, Sweep, model_costs, site_labour
from ccsim.study.sensitivity import replanned
from ccsim.study.uncertainty import Base, base_points, point_cost
from ccsim.study.uncertainty_analysis import (
    break_even,
    p_cheapest,
    regression_effects,
    worst_corner,
)
from ccsim.study.uncertainty_design import UncertaintySpec, design, point_values

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
    """
)
EXPERIMENT = textwrap.dedent(
    """\
    name: tiny
    scenario: human.yaml
    seed: 5
    replications: 4
    baseline: human
    scenarios:
      human: {}
      ai: {scenario: ai.yaml}
    frontier: {scales: [0.8, 0.9, 1.0, 1.1], replications: 4}
    uncertainty:
      points: 16
      replications: 1
      break_even: {input: containment, model: ai}
      inputs:
        sites.main.cost_per_hour: {low: 15, high: 25, source: "test range"}
        containment:
          paths: {channels.voice.bot.containment: [0.05, 0.4]}
          source: "test range"
        channels.voice.bot.false_containment:
          {low: 0.0, high: 0.2, dist: triangular, mode: 0.1, source: "test range"}
        return_delay:
          paths: {channels.voice.bot.return_delay.mean: [0.5, 2]}
          unit: h
          source: "test range"
    """
)


def _spec(**inputs) -> UncertaintySpec:
    return UncertaintySpec(points=32, inputs=inputs)


# --- the design -----------------------------------------------------------------------------


def test_each_input_hits_each_stratum_once():
    spec = _spec(
        a={"low": 0, "high": 1, "source": "s"},
        b={"low": 10, "high": 20, "source": "s"},
        c={"paths": {"x.y": (0, 1), "x.z": (5, 6)}, "source": "s"},
    )
    positions = design(spec, seed=7)
    assert positions.shape == (32, 3)
    for j in range(3):
        assert sorted(np.floor(positions[:, j] * 32).astype(int)) == list(range(32))
    # The same seed, the same design; another seed, another.
    assert np.array_equal(positions, design(spec, seed=7))
    assert not np.array_equal(positions, design(spec, seed=8))


def test_a_triangular_input_hits_each_stratum_of_its_probability_once():
    from scipy import stats

    spec = _spec(a={"low": 0, "high": 4, "dist": "triangular", "mode": 1, "source": "s"})
    positions = design(spec, seed=1)[:, 0]
    probabilities = stats.triang.cdf(positions, 0.25)
    assert sorted(np.floor(probabilities * 32 + 1e-9).astype(int)) == list(range(32))


def test_paths_moved_together_take_the_same_position_of_their_ranges():
    spec = _spec(
        c={"paths": {"x.y": (0, 1), "x.z": (5, 7)}, "source": "s"},
        d={"paths": {"x.w": (1, 5)}, "unit": "h", "source": "s"},
    )
    values = point_values(spec, np.array([0.25, 0.5]))
    assert values == {"x.y": 0.25, "x.z": 5.5, "x.w": "3h"}
    assert point_values(spec, np.array([0.25, 0.5]), {"c": ["x.z"]}) == {"x.z": 5.5}


# --- the analysis ---------------------------------------------------------------------------


def test_regression_effects_recover_a_linear_response_with_intervals_covering_it():
    rng = np.random.default_rng(3)
    spec = _spec(**{name: {"low": 0, "high": 1, "source": "s"} for name in "abc"})
    x = design(spec, seed=2)
    truth = np.array([200.0, -500.0, 0.0])
    y = 1000 + x @ truth + rng.normal(0, 10, len(x))
    effects = regression_effects(x, y, seed=1)
    assert effects.coefficient == pytest.approx(truth, abs=25)
    assert np.all(effects.effect_low <= truth) and np.all(truth <= effects.effect_high)
    # SRC: coefficient x sd(x) / sd(y); the inert input's interval holds 0.
    expected = truth * x.std(axis=0) / y.std()
    assert effects.src == pytest.approx(expected, abs=0.03)
    assert effects.src_low[2] <= 0 <= effects.src_high[2]
    assert effects.r2 > 0.99
    assert abs(effects.src[1]) > abs(effects.src[0]) > abs(effects.src[2])


def test_p_cheapest_sums_to_one_and_skips_points_without_a_cost():
    costs = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 1.5, 1.0], [np.nan] * 3])
    shares = p_cheapest(costs)
    assert shares.sum() == pytest.approx(1.0)
    assert shares.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert p_cheapest(np.array([[2.0, np.nan], [1.0, 3.0]])).tolist() == [1.0, 0.0]


def test_break_even_on_a_known_line():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 64)
    difference = 100 - 400 * x + rng.normal(0, 5, 64)  # zero at x = 0.25
    found = break_even(x, difference, seed=1)
    assert found.position == pytest.approx(0.25, abs=0.01)
    assert found.low <= 0.25 <= found.high
    assert found.slope < 0


def test_the_worst_corner_puts_each_input_at_the_end_that_raises_the_cost():
    corner, cost = worst_corner(100.0, np.array([30.0, -20.0, 5.0]))
    assert corner.tolist() == [1.0, 0.0, 1.0]
    assert cost == 135.0


# --- the points' costs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "human.yaml").write_text(HUMAN)
    (folder / "ai.yaml").write_text(AI)
    (folder / "exp.yaml").write_text(EXPERIMENT)
    return folder


def _sweep(scenario, scales, n, seed) -> tuple[dict, dict]:
    rows, labour = {}, {}
    for scale in scales:
        frame = run_replications(scaled_scenario(scenario, scale), n, seed=seed)
        labour[scale] = site_labour(frame)
        rows[scale] = frame[frame.site == "all"][SWEEP_COLUMNS].reset_index(drop=True)
    return rows, labour


def test_a_repriced_wage_is_the_cost_at_equal_service_simulated_at_that_wage(tiny):
    scales = [0.8, 0.9, 1.0, 1.1]
    scenario = load_scenario(tiny / "human.yaml")
    rows, labour = _sweep(scenario, scales, 4, seed=5)
    experiment = SimpleNamespace(
        spec=SimpleNamespace(frontier=SimpleNamespace(scales=scales)),
        scenarios={"human": scenario},
    )
    sweep = Sweep(
        {("human", s): rows[s] for s in scales}, set(), {("human", s): labour[s] for s in scales}
    )
    base = base_points(experiment, sweep)["human"]
    dearer = scenario.model_copy(
        update={"sites": [scenario.sites[0].model_copy(update={"cost_per_hour": 27.0})]}
    )
    simulated, _ = _sweep(dearer, scales, 4, seed=5)
    expected = float(model_costs(Targets.of(dearer), simulated)["cost"].mean())
    repriced = base.cost + base.site_labour["main"] * (27.0 / 20.0 - 1.0)
    assert repriced == pytest.approx(expected, rel=1e-9)


def test_the_step_to_equal_service_is_close_to_a_full_sweep(tiny):
    """The approximation of a point's cost (one staffing, a step along the base frontier's
    slope) against the point's own frontier read at the target, on the same seeds."""
    scales = [0.8, 0.9, 1.0, 1.1]
    scenario = load_scenario(tiny / "ai.yaml")
    rows, labour = _sweep(scenario, scales, 8, seed=5)
    experiment = SimpleNamespace(
        spec=SimpleNamespace(frontier=SimpleNamespace(scales=scales)), scenarios={"ai": scenario}
    )
    sweep = Sweep(
        {("ai", s): rows[s] for s in scales}, set(), {("ai", s): labour[s] for s in scales}
    )
    base: Base = base_points(experiment, sweep)["ai"]
    errors = []
    for containment in (0.1, 0.35):
        variant = apply_overrides(scenario, {"channels.voice.bot.containment": containment}, "t")
        factors = replanned(scenario, variant)
        full, _ = _sweep(variant, [s * factors.get("main", 1.0) for s in scales], 8, seed=5)
        truth = float(
            model_costs(Targets.of(variant), dict(zip(scales, full.values(), strict=True)))[
                "cost"
            ].mean()
        )
        staffed = scaled_scenario(variant, base.scale, factors)
        one = run_replications(staffed, 8, seed=5)
        approximate, _, _ = point_cost(base, Targets.of(variant), one)
        errors.append(abs(approximate / truth - 1))
    print(f"step to equal service against a full sweep: relative errors {errors}")
    assert max(errors) < 0.05, errors


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "broken", "field", "words"),
    [
        ('source: "test range"}', 'source: ""}', "source", "at least 1 character"),
        ("low: 15, high: 25", "low: 25, high: 15", "sites.main.cost_per_hour", "must be below"),
        ("sites.main.cost_per_hour:", "sites.main.hourly:", "sites.main.hourly", "no model has"),
        ("model: ai}", "model: robot}", "break_even", "'robot' is no model"),
        ("points: 16", "points: 4", "points", "greater than or equal to 8"),
    ],
)
def test_bad_uncertainty_input_is_one_line_naming_the_field(tmp_path, change, broken, field, words):
    from ccsim.study.spec import load_experiment

    (tmp_path / "human.yaml").write_text(HUMAN)
    (tmp_path / "ai.yaml").write_text(AI)
    (tmp_path / "exp.yaml").write_text(EXPERIMENT.replace(change, broken, 1))
    with pytest.raises(ConfigError) as caught:
        load_experiment(tmp_path / "exp.yaml")
    text = str(caught.value)
    assert "\n" not in text
    assert "uncertainty" in text and field in text and words in text, text


def test_an_uncertainty_block_needs_a_frontier(tmp_path):
    from ccsim.study.spec import load_experiment

    (tmp_path / "human.yaml").write_text(HUMAN)
    (tmp_path / "ai.yaml").write_text(AI)
    text = EXPERIMENT.replace("frontier: {scales: [0.8, 0.9, 1.0, 1.1], replications: 4}\n", "")
    (tmp_path / "exp.yaml").write_text(text)
    with pytest.raises(ConfigError, match="uncertainty: needs a frontier block"):
        load_experiment(tmp_path / "exp.yaml")


def test_a_combination_no_model_takes_is_refused_before_anything_runs(tmp_path, capsys):
    # Each end valid alone (containment 0.9, false containment 0.2), some draws not: the
    # main job found out after ten minutes of simulation.
    from ccsim.cli import main

    (tmp_path / "human.yaml").write_text(HUMAN)
    (tmp_path / "ai.yaml").write_text(AI)
    text = EXPERIMENT.replace("channels.voice.bot.containment: [0.05, 0.4]", (
        "channels.voice.bot.containment: [0.7, 0.9]"
    ))  # fmt: skip
    (tmp_path / "exp.yaml").write_text(text)
    out = tmp_path / "out"
    assert main(["experiment", str(tmp_path / "exp.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "uncertainty.inputs: point" in err and "in model 'ai'" in err
    assert "containment + false_containment" in err and "narrow the ranges" in err
    assert not (out / ".blocks").exists() or not any((out / ".blocks").iterdir())


# --- end to end -----------------------------------------------------------------------------


def test_a_small_experiment_end_to_end_with_its_report(tiny):
    import json

    from ccsim.report.html import render_report
    from ccsim.study.run import run_experiment

    out = tiny / "out"
    run_experiment(tiny / "exp.yaml", out=out)
    table = pd.read_csv(out / "uncertainty.csv")
    points = pd.read_csv(out / "uncertainty_points.csv")
    # An interval on every row, holding its estimate.
    assert (table["effect_low"] <= table["effect"] + 1e-9).all()
    assert (table["effect"] <= table["effect_high"] + 1e-9).all()
    assert (table["src_low"] <= table["src_high"]).all()
    per_model = table.drop_duplicates("model").set_index("model")
    assert per_model["p_cheapest"].sum() == pytest.approx(1.0)
    # The human model has only the wage: repriced, exactly linear in it.
    human = table[table.model == "human"]
    assert human["input"].tolist() == ["sites.main.cost_per_hour"]
    assert human["r2"].iloc[0] == pytest.approx(1.0)
    assert set(table[table.model == "ai"]["input"]) == {
        "sites.main.cost_per_hour", "containment", "channels.voice.bot.false_containment",
        "return_delay",
    }  # fmt: skip
    # More containment makes the AI model cheaper, and its worst corner is at the low end.
    ai = table[table.model == "ai"].set_index("input")
    assert ai.loc["containment", "effect"] < 0
    assert ai.loc["containment", "worst_end"] == "low"
    assert len(points) == 2 * 16 and set(points.model) == {"human", "ai"}
    wide = points.pivot(index="point", columns="model", values="cost")
    cheapest = (wide["ai"] < wide["human"]).mean()
    assert per_model.loc["ai", "p_cheapest"] == pytest.approx(cheapest)
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["study"]["uncertainty"]
    assert entry["break_even"]["model"] == "ai" and entry["break_even"]["rivals"] == ["human"]
    assert {"uncertainty.csv", "uncertainty_points.csv"} <= set(manifest["files"])
    page = render_report(out).read_text()
    assert 'id="uncertainty-table"' in page and 'id="break-even"' in page
    assert "simulation noise at the base inputs" in page
    assert 'id="fig-uncertainty_effects"' in page and 'id="fig-uncertainty_costs"' in page
    # Resumed: the points are read back, not simulated again, and give the same table.
    run_experiment(tiny / "exp.yaml", out=out)
    assert pd.read_csv(out / "uncertainty.csv").equals(table)
    assert not math.isnan(per_model.loc["ai", "worst_corner_cost"])


# --- the report's words ---------------------------------------------------------------------


def test_the_answer_clause_names_the_model_most_often_cheapest():
    from ccsim.report.uncertainty import GUARANTEE_SCOPE, uncertainty_clause

    table = pd.DataFrame(
        {
            "model": ["a", "a", "b"],
            "input": ["x", "y", "x"],
            "points": [64, 64, 64],
            "p_cheapest": [0.25, 0.25, 0.75],
            "cost_p05": [900.0, 900.0, 800.0],
            "cost_p95": [1100.0, 1100.0, 1300.0],
        }
    )
    text = uncertainty_clause(table, "a", "USD", "week")
    assert "2 uncertain inputs (64 draws) a is cheapest in 25% of them (b in 75%)" in text
    assert GUARANTEE_SCOPE in text
    assert "(b in" not in uncertainty_clause(table, "b", "USD", "week")
    assert uncertainty_clause(None, "a", "USD", "week") == ""


def test_the_scope_says_when_a_crossing_is_one_figure_for_every_replication():
    """A site bound by an interval floor crosses it at one scale for all replications (the
    floor is judged on them pooled): its interval in equal_service.csv has no width, and
    the guarantee's scope must not claim to cover where that crossing lies. A scale that
    varies by replication (a weekly service level) keeps the plain scope."""
    from ccsim.report.uncertainty import GUARANTEE_SCOPE, guarantee_scope

    per_replication = pd.DataFrame(
        {"scenario": ["a"], "scale_dallas": [0.95], "scale_dallas_low": [0.93],
         "scale_dallas_high": [0.97], "binding_dallas": ["voice"]}
    )  # fmt: skip
    assert guarantee_scope(per_replication) == GUARANTEE_SCOPE
    assert guarantee_scope(None) == GUARANTEE_SCOPE
    pooled = pd.concat(
        [per_replication, pd.DataFrame(
            {"scenario": ["b"], "scale_manila": [1.048], "scale_manila_low": [1.048],
             "scale_manila_high": [1.048], "binding_manila": ["email interval_floor"]}
        )], ignore_index=True,
    )  # fmt: skip
    scope = guarantee_scope(pooled)
    assert scope != GUARANTEE_SCOPE and "taken as fixed" in scope
    assert "not where that crossing lies, which moves with the seed" in scope


def test_the_headline_caption_says_when_a_crossing_is_taken_as_fixed():
    """The headline chart's interval must not read as all of the simulation noise where a
    site's crossing is one figure for every replication: its caption says so, as the
    answer's scope does, and says nothing of it where every crossing varies."""
    from ccsim.report.headline import Headline
    from ccsim.report.study_figures import headline_chart

    costs = pd.DataFrame(
        {"cost": [100.0, 90.0], "low": [99.0, 89.0], "high": [101.0, 91.0],
         "sens_low": [math.nan] * 2, "sens_high": [math.nan] * 2},
        index=["base", "b"],
    )  # fmt: skip
    sites = Headline(costs, True, fixed_crossings=True, per_site=True)
    fixed = headline_chart(sites, "base", "USD", "week")
    plain = headline_chart(Headline(costs, True), "base", "USD", "week")
    assert "crossing of a pooled target taken as fixed" in fixed.caption
    assert "taken as fixed" not in plain.caption and "(simulation noise;" in plain.caption
    # Per site, what binds is a site's constraint (a floor, an occupancy cap), not always a
    # channel's target: the caption must not say the channel "exactly meets its target".
    assert "binding constraint" in fixed.caption and "exactly meets" not in fixed.caption
    assert "binding channel exactly meets its target" in plain.caption


def test_a_break_even_without_a_root_says_so():
    from ccsim.report.uncertainty import break_even_sentence

    entry = {"input": "containment", "model": "ai", "rivals": ["human"], "position": None}
    assert "at no value of containment" in break_even_sentence({"break_even": entry})
    assert break_even_sentence({}) == ""


def test_with_sites_at_their_own_scales_the_sample_starts_from_the_studys_answer(tmp_path):
    # The joint sample read its base along one factor while the study scaled each site to
    # its own crossing: its base costs were 8-24% off the headline's (1,276k against
    # 1,411k for onshore in the main job).
    import json

    from ccsim.study.run import run_experiment

    (tmp_path / "human.yaml").write_text(HUMAN)
    (tmp_path / "ai.yaml").write_text(AI)
    text = EXPERIMENT.replace(
        "frontier: {scales: [0.8, 0.9, 1.0, 1.1], replications: 4}",
        "frontier: {scales: [0.9, 1.0], replications: 4, per_site: true, max_rounds: 2}",
    ).replace("points: 16", "points: 8")
    (tmp_path / "exp.yaml").write_text(text)
    out = tmp_path / "out"
    run_experiment(tmp_path / "exp.yaml", out=out)
    study = pd.read_csv(out / "equal_service.csv").set_index("scenario")
    base = json.loads((out / "manifest.json").read_text())["study"]["uncertainty"]
    for model, cost in base["base_cost"].items():
        if np.isfinite(study.loc[model, "cost"]):
            assert cost == pytest.approx(study.loc[model, "cost"], rel=1e-9), model


def test_a_break_even_beyond_the_range_names_no_impossible_value():
    # It listed containments of 1.91 and 2.3 for a break-even at 132% of the range.
    from ccsim.report.uncertainty import break_even_sentence

    entry = {
        "input": "containment", "model": "hybrid", "rivals": ["offshore"], "position": 1.32,
        "within_range": False, "slope": -1.0, "values": {"channels.chat.bot.containment": 1.91},
        "values_low": {}, "values_high": {},
    }  # fmt: skip
    text = break_even_sentence({"break_even": entry})
    assert "anywhere in the range of containment studied" in text
    assert "1.91" not in text and "132%" not in text and "of the range" not in text
    assert "containment above 100%, a value no containment can take" in text


def test_a_break_even_reads_in_values_never_in_a_position_along_the_range():
    """ "reaches it at 214% of the range" meant nothing to a planner: beyond the range the
    sentence says the line does not reach it there, and that it would only where no
    containment can be (1.26 for chat's simple requests); a root whose values are possible
    says where it lies beyond the range without a percentage; inside, it names the values."""
    from ccsim.report.uncertainty import break_even_sentence

    path = "channels.chat.request_types.simple.containment"
    entry = {
        "input": "containment", "model": "hybrid", "rivals": ["onshore", "offshore"],
        "position": 2.14, "within_range": False, "slope": -139_687.0,
        "values": {path: 1.26}, "values_low": {path: 0.98}, "values_high": {path: 2.65},
    }  # fmt: skip
    text = break_even_sentence({"break_even": entry})
    assert "%" not in text.replace("above 100%", "")
    assert "hybrid does not get down to the cheapest of onshore, offshore" in text
    assert "gains on them as containment rises" in text
    assert "only with containment above 100%, a value no containment can take" in text
    wage = dict(entry, input="sites.manila.cost_per_hour", slope=1.0,
                values={"sites.manila.cost_per_hour": 4.0}, position=-0.4)  # fmt: skip
    text = break_even_sentence({"break_even": wage})
    assert "only with Manila hourly wage below its low end." in text and "%" not in text
    assert "as Manila hourly wage falls" in text
    inside = dict(entry, position=0.4, within_range=True, values={path: 0.48})
    text = break_even_sentence({"break_even": inside})
    assert "when containment is at chat simple requests' containment 0.48" in text
    assert "40%" not in text and "of its range" not in text


def test_a_point_holds_its_groups_binding_constraint_at_its_base_value():
    # Hand figures. An occupancy-bound site: staff needed goes with the work, so 90% busy
    # at the point against 80% at base asks for 90/80 of its pay. A level-bound group: its
    # channel 5 points under the base level at a slope of 1,000 a point-share asks for 50
    # more on a pay of 500. A point at the base's own levels moves nothing.
    import yaml

    from ccsim.model import parse_scenario
    from ccsim.study.uncertainty_holds import Hold, held_step

    scenario = parse_scenario(yaml.safe_load(HUMAN), source="human.yaml")
    rows = pd.DataFrame(
        [
            {"replication": 0, "site": "all", "channel": "all", "busy_time": 90.0,
             "staffed_time": 100.0, "labour_cost": 500.0, "answered": 100,
             "answered_within_threshold": 80, "abandoned": 0, "carried_over": 0,
             "messages": 0, "disconnected": 0},
            {"replication": 0, "site": "all", "channel": "voice", "busy_time": 90.0,
             "staffed_time": 100.0, "labour_cost": 500.0, "answered": 100,
             "answered_within_threshold": 80, "abandoned": 0, "carried_over": 0,
             "messages": 0, "disconnected": 0},
        ]
    )  # fmt: skip
    from ccsim.study.uncertainty_holds import _level

    level = _level(rows, "voice")
    busy = Hold(("main",), "main occupancy", "occupancy", "main", 0.8)
    assert held_step([busy], scenario, rows)[0]["main"] == pytest.approx(90 / 80)
    short = Hold(("main",), "voice", "level", "voice", level + 0.05, 1000.0)
    assert held_step([short], scenario, rows)[0]["main"] == pytest.approx(1 + 50 / 500)
    same = Hold(("main",), "voice interval_floor", "level", "voice", level, 1000.0)
    factors, labels = held_step([same], scenario, rows)
    assert factors["main"] == pytest.approx(1.0) and labels == "voice interval_floor"


def test_re_planning_gives_a_slower_site_more_agents_in_proportion():
    # The seed requirement is at proficiency 1, so it does not move when a site's agents
    # get slower; the site's factor does, by the ratio of its handle-time multiplier
    # (one channel: exactly 1.2 / 1.0), and a site whose speed does not move keeps 1.
    import yaml

    from ccsim.model import parse_scenario
    from ccsim.planning.pools import replanning_factors

    data = yaml.safe_load(HUMAN)
    data["sites"].append({"name": "other", "agents": 5, "skills": ["voice"]})
    data["sites"][0] |= {"skills": ["voice"], "proficiency": {"voice": 1.0}}
    base = parse_scenario(data, source="human.yaml")
    slower = apply_overrides(base, {"sites.main.proficiency.voice": 1.2}, "test")
    assert replanning_factors(base, slower) == {"main": 1.2, "other": 1.0}
    assert replanning_factors(base, base) == {"main": 1.0, "other": 1.0}


def test_each_wage_reprices_its_own_sites_pay_when_sites_are_scaled_one_by_one(tmp_path):
    # Two sites, each its own channel, scaled apart. Each wage's effect over its range is
    # its site's pay at equal service times the range over the base wage, so the two pays
    # recovered from the effects add up to the whole labour cost, the model's cost here (no
    # bot). Each site was priced at the whole centre's pay: the sum was twice the cost.
    import json

    from ccsim.study.run import run_experiment

    two = textwrap.dedent(
        """\
        name: two
        horizon: 4h
        warmup: 0s
        channels:
          voice:
            arrivals: {rate: 4/min}
            handle_time: {dist: exponential, mean: 3min}
            patience: {dist: exponential, mean: 2min}
            service_level: {threshold: 20s, target: 0.8}
          chat:
            kind: chat
            arrivals: {rate: 2/min}
            handle_time: {dist: exponential, mean: 4min}
            patience: {dist: exponential, mean: 5min}
            service_level: {threshold: 60s, target: 0.8}
        sites:
          - {name: main, agents: 14, cost_per_hour: 20, skills: [voice]}
          - {name: side, agents: 10, cost_per_hour: 40, skills: [chat]}
        """
    )
    (tmp_path / "two.yaml").write_text(two)
    (tmp_path / "exp.yaml").write_text(
        textwrap.dedent(
            """\
            name: wages
            scenario: two.yaml
            seed: 3
            replications: 4
            baseline: two
            scenarios: {two: {}}
            frontier: {scales: [0.8, 1.0, 1.2], replications: 4, per_site: true, max_rounds: 2}
            uncertainty:
              points: 8
              inputs:
                sites.main.cost_per_hour: {low: 15, high: 25, source: "test range"}
                sites.side.cost_per_hour: {low: 30, high: 50, source: "test range"}
            """
        )
    )
    out = tmp_path / "out"
    run_experiment(tmp_path / "exp.yaml", out=out)
    base = json.loads((out / "manifest.json").read_text())["study"]["uncertainty"]["base_cost"]
    effects = pd.read_csv(out / "uncertainty.csv").set_index("input")["effect"]
    main_pay = effects["sites.main.cost_per_hour"] / (10 / 20)
    side_pay = effects["sites.side.cost_per_hour"] / (20 / 40)
    assert main_pay + side_pay == pytest.approx(base["two"], rel=0.03)


def _section_table() -> pd.DataFrame:
    """uncertainty.csv's per-model columns for a baseline and two rivals, figures of the
    operating-model study (USD a week): each worst corner is at that model's own inputs."""
    return pd.DataFrame(
        {
            "model": ["onshore", "offshore", "hybrid"],
            "input": ["x", "x", "x"],
            "worst_end": ["high", "high", "high"],
            "p_cheapest": [0.0, 0.86, 0.14],
            "p_cheapest_low": [0.0, 0.75, 0.08],
            "p_cheapest_high": [0.06, 0.92, 0.25],
            "cost_p05": [1_133_726.0, 639_205.0, 837_557.0],
            "cost_p95": [1_496_593.0, 938_449.0, 1_192_404.0],
            "difference_p05": [0.0, -793_733.0, -546_876.0],
            "difference_p95": [0.0, -328_376.0, 111_447.0],
            "worst_corner_cost": [1_656_230.0, 1_136_085.0, 1_562_739.0],
            "worst_corner_difference": [0.0, -310_266.0, 116_388.0],
            "r2": [0.9993, 0.998, 0.89],
            "emulated": [True, True, False],
            "points": [64, 64, 64],
        }
    )


def test_the_worst_corner_difference_is_signed_and_names_the_baseline_cost_it_is_against():
    """The corner's difference is against the baseline at the same corner inputs, a figure
    the page showed nowhere: hybrid's 1,562,739 USD was "(116,388 USD)" against onshore's
    shown corner of 1,656,230 USD, which reads as hybrid the cheaper. The baseline there is
    1,562,739 - 116,388 = 1,446,351 USD; a rise carries its +; the baseline's own cells
    say "baseline", not "0.00 USD"."""
    from ccsim.report.uncertainty import uncertainty_rows

    rows = {row["model"]: row for row in uncertainty_rows(_section_table(), "USD")}
    assert rows["hybrid"]["worst_difference"] == "+116,388 USD"
    assert rows["hybrid"]["worst_reference"] == "1,446,351 USD"
    assert rows["offshore"]["worst_difference"] == "\N{MINUS SIGN}310,266 USD"
    assert rows["offshore"]["worst_reference"] == "1,446,351 USD"
    assert rows["hybrid"]["difference"] == "\N{MINUS SIGN}546,876 USD to +111,447 USD"
    assert rows["onshore"]["difference"] == "baseline"
    assert rows["onshore"]["worst_difference"] == "baseline"
    assert "0.00" not in " ".join(str(v) for v in rows["onshore"].values())
    named = uncertainty_rows(_section_table(), "USD", baseline="offshore")
    assert named[1]["worst_difference"] == "baseline"


def test_a_fitted_model_is_named_as_fitted_and_its_r2_as_the_planes():
    """The operating-model study simulated onshore at 8 points and read its 64 costs off
    the plane through them (``emulated``): its R² of 1.00 and hair-thin bootstrap bars
    describe that plane, yet the page said every model was simulated at every draw, and
    gave the R² as if of the simulation."""
    from ccsim.report.uncertainty import uncertainty_rows
    from ccsim.report.uncertainty_figures import effects_chart, point_costs_chart

    table = _section_table()
    table["effect"], table["effect_low"], table["effect_high"] = 1.0, 0.5, 1.5
    table["rank"] = 1
    rows = {row["model"]: row for row in uncertainty_rows(table, "USD")}
    assert rows["onshore"]["fitted"] and not rows["hybrid"]["fitted"]
    assert rows["onshore"]["r2"] == "1.00 (fitted plane)" and rows["hybrid"]["r2"] == "0.89"
    counted = uncertainty_rows(table, "USD", simulated_points={"onshore": 8, "offshore": 8})
    assert counted[0]["label"] == "onshore (8 simulated points)"
    assert counted[2]["label"] == "hybrid"
    points = pd.DataFrame(
        {"point": [0, 0, 0, 1, 1, 1], "model": ["onshore", "offshore", "hybrid"] * 2,
         "cost": [1.0, 0.8, 0.9, 1.1, 0.7, 1.0], "emulated": [True, True, False] * 2}
    )  # fmt: skip
    caption = point_costs_chart(points, table, "onshore", "USD", "week").caption
    assert "every model at the same draws" not in caption
    assert "hybrid simulated at each draw" in caption
    assert "onshore and offshore read off a plane fitted" in caption
    effects = effects_chart(table, "USD").caption
    assert "Marked fitted plane: onshore and offshore" in effects
    plain = points.assign(emulated=False)
    assert (
        "every model at the same draws"
        in point_costs_chart(plain, table.assign(emulated=False), "onshore", "USD", "week").caption
    )


@pytest.mark.parametrize(
    ("path", "words"),
    [
        # A handle-time multiplier: its high end (1.00) is no assist, so "high: agent assist"
        # read as more assist raising the hybrid's cost.
        ("agent_assist", "Agent-assist handle-time factor (1 = no assist)"),
        ("channels.voice.agent_assist", "Voice agent-assist handle-time factor (1 = no assist)"),
        ("ai_fees", "AI fees"),
        ("in_house_fcr", "In-house FCR"),
        ("manila_fcr", "Manila FCR"),
        ("channels.chat.request_types.simple.containment", "Chat simple requests' containment"),
        ("within_house", "Within house"),
    ],
)
def test_uncertain_inputs_read_the_right_way_round_and_cased(path, words):
    from ccsim.report.formatting import input_label

    assert input_label(path) == words


def test_the_worst_corner_says_agent_assist_is_high_when_it_is_weakest():
    from ccsim.report.uncertainty import uncertainty_rows

    table = _section_table().iloc[[2]].assign(input="agent_assist")
    corner = uncertainty_rows(table, "USD")[0]["corner"]
    assert corner == "high: agent-assist handle-time factor (1 = no assist)"


def test_the_fitted_models_simulated_points_come_from_the_experiment_that_ran(tmp_path):
    """How many points a fitted model was simulated at is in the experiment file only: read
    where that file is the one that ran (its digest the manifest's), else not claimed."""
    from ccsim.report.uncertainty import simulated_points
    from ccsim.study.spec import load_experiment

    (tmp_path / "human.yaml").write_text(HUMAN)
    (tmp_path / "ai.yaml").write_text(AI)
    path = tmp_path / "exp.yaml"
    path.write_text(
        EXPERIMENT.replace(
            "  replications: 1\n", "  replications: 1\n  simulated_points: {human: 8}\n"
        )
    )
    manifest = {"file": str(path), "sha256": load_experiment(path).digest}
    assert simulated_points(manifest) == {"human": 8}
    assert simulated_points(dict(manifest, sha256="0" * 64)) is None
    assert simulated_points({}) is None


def test_the_answers_share_of_cheapest_draws_names_the_fitted_models():
    """ "offshore is cheapest in 86% of them" read as 64 simulated comparisons; four of the
    five models were read off fitted planes, whose error the share leaves out."""
    from ccsim.report.uncertainty import uncertainty_clause

    table = _section_table()
    text = uncertainty_clause(table, "offshore", "USD", "week")
    assert "offshore is cheapest in 86% of them (onshore and offshore read off planes" in text
    assert "read off" not in uncertainty_clause(
        table.assign(emulated=False), "offshore", "USD", "week"
    )
