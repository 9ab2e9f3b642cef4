"""The study at equal service inside an experiment: the frontier block, the paired cost at
the targets, the targets table and the selection (tests/data/study)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccsim.model import ConfigError
from ccsim.study.equal_service import EQUAL_SERVICE_COLUMNS, crossing

DATA = Path(__file__).parent / "data" / "study"


def test_crossing_interpolates_and_flags_what_lies_outside_the_sweep():
    costs = np.array([100.0, 110.0, 120.0])
    assert crossing(costs, np.array([0.6, 0.7, 0.9]), 0.8) == (pytest.approx(115.0), False)
    # Met at every scale: followed down the first two points, flagged.
    assert crossing(costs, np.array([0.85, 0.9, 0.95]), 0.8) == (pytest.approx(90.0), True)
    # Missed at the dearest: followed up the last two points, flagged.
    assert crossing(costs, np.array([0.5, 0.6, 0.7]), 0.8) == (pytest.approx(130.0), True)
    # Flat at 100%: needs no more than the cheapest point, never binds.
    assert crossing(costs, np.array([1.0, 1.0, 1.0]), 0.8) == (-math.inf, True)
    # Flat below target: no staffing in reach meets it.
    value, flagged = crossing(costs, np.array([0.5, 0.5, 0.5]), 0.8)
    assert math.isnan(value) and flagged
    # A dip after a first crossing: the crossing from which the curve stays above.
    assert crossing(costs, np.array([0.85, 0.75, 0.95]), 0.8)[0] == pytest.approx(112.5)


def _experiment(tmp_path, replace: tuple[str, str] | None = None) -> Path:
    for name in ("scenario.yaml", "experiment.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    if replace is not None:
        path = tmp_path / "experiment.yaml"
        path.write_text(path.read_text().replace(*replace))
    return tmp_path / "experiment.yaml"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("[0.85, 1.0, 1.15]", "[0.85, 1.15]", "frontier.scales"),
        ("[0.85, 1.0, 1.15]", "[1.0, 0.85, 1.15]", "increasing"),
        ("[0.85, 1.0, 1.15]", "[-0.5, 1.0]", "positive"),
        ("replications: 6}", "replications: 1}", "frontier.replications"),
        ("indifference_zone: 0.05", "indifference_zone: 0", "selection.indifference_zone"),
        ("frontier: {scales: [0.85, 1.0, 1.15], replications: 6}", "", "selection.on"),
    ],
)
def test_bad_study_blocks_are_one_line(tmp_path, old, new, words):
    from ccsim.study.spec import load_experiment

    with pytest.raises(ConfigError) as info:
        load_experiment(_experiment(tmp_path, (old, new)))
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from ccsim.study.run import run_experiment

    folder = tmp_path_factory.mktemp("study")
    path = _experiment(folder)
    result = run_experiment(path, out=folder / "out")
    return result, folder / "out", path


@pytest.mark.slow
def test_the_study_files_are_written_and_listed(study):
    result, out, _ = study
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("frontier.csv", "equal_service.csv", "targets.csv", "selection.csv"):
        assert name in manifest["files"]
    table = pd.read_csv(out / "equal_service.csv")
    assert list(table.columns) == EQUAL_SERVICE_COLUMNS
    base = table.set_index("scenario").loc["onshore"]
    assert base["difference"] == 0 and math.isnan(base["p_value"])
    assert manifest["study"]["equal_service"].startswith("offshore is the cheapest")
    assert result.manifest["study"]["selection"]["selected"] == "offshore"


@pytest.mark.slow
def test_scale_one_is_the_main_run_and_equal_service_agrees_with_the_band(study):
    _, out, _ = study
    frontier = pd.read_csv(out / "frontier.csv")
    summary = pd.read_csv(out / "summary.csv")
    plan = frontier[(frontier.kind == "point") & (frontier.scale == 1.0)]
    for row in plan.itertuples():
        main = summary[
            (summary.scenario == row.scenario)
            & (summary.channel == row.channel)
            & (summary.site == "all")
            & (summary.kpi == "service_level")
        ]
        assert row.service_level == pytest.approx(float(main["estimate"].iloc[0]), rel=1e-12)
    # Where the sweep brackets every crossing, the mean of the per-replication crossings
    # lies within the band-inversion interval of the pooled curve.
    equal = pd.read_csv(out / "equal_service.csv").set_index("scenario")
    at_target = frontier[(frontier.kind == "cost_at_target") & (frontier.channel == "all")]
    for row in at_target.itertuples():
        if equal.loc[row.scenario, "extrapolated"] == 0 and not math.isnan(row.cost_low):
            assert row.cost_low <= equal.loc[row.scenario, "cost"] <= row.cost_high


@pytest.mark.slow
def test_targets_are_those_planning_judges(study):
    from ccsim.planning.targets import Targets, evaluate
    from ccsim.study.spec import load_experiment

    _, out, path = study
    experiment = load_experiment(path)
    table = pd.read_csv(out / "targets.csv")
    scenario = experiment.scenarios["offshore"]
    evaluation = evaluate(scenario, Targets.of(scenario), 6, seed=experiment.spec.seed)
    own = table[(table.scenario == "offshore") & (table.kind == "channel")].set_index("channel")
    for row in evaluation.channels.itertuples():
        assert own.loc[row.channel, "service_level"] == pytest.approx(row.service_level)
        assert own.loc[row.channel, "sl_low"] == pytest.approx(row.low)
        assert own.loc[row.channel, "share_at_floor"] == pytest.approx(row.share_at_floor)
        assert bool(own.loc[row.channel, "met"]) == row.met
    sites = table[table.kind == "site"]
    assert set(sites.site) == {"home", "away"}
    assert sites["occupancy"].between(0, 1).all()


@pytest.mark.slow
def test_a_second_run_resumes_the_sweep(study, tmp_path):
    from ccsim.study.run import run_experiment

    _, out, path = study
    before = (out / "equal_service.csv").read_text()
    notes = []
    run_experiment(path, out=out, notify=notes.append)
    assert (out / "equal_service.csv").read_text() == before and not notes


@pytest.mark.slow
def test_sensitivity_ranks_on_cost_at_equal_service_and_takes_per_model_paths(tmp_path):
    from ccsim.study.run import run_experiment
    from ccsim.study.sensitivity import flip_sentence

    own = tmp_path / "solo.yaml"
    own.write_text(
        (DATA / "scenario.yaml")
        .read_text()
        .replace("name: away", "name: manila")
        .replace("skills: [voice, billing]", "skills: [voice, billing]\n    shrinkage: 0.0")
    )
    extra = (
        "  solo: {scenario: solo.yaml}\n"
        "sensitivity_replications: 3\n"
        "uncertain:\n  sites.manila.cost_per_hour: {low: 8, high: 40}\n"
    )
    path = _experiment(tmp_path, ("  lean: {sites.0.agents: 7, sites.1.agents: 6}\n", extra))
    run_experiment(path, out=tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert table["cost_at_equal_service"].notna().all()
    # Only solo has a Manila site: the others keep their base outputs at both ends.
    onshore = table[table.model == "onshore"]
    assert onshore["operating_cost"].nunique() == 1
    solo = table[table.model == "solo"].set_index(["parameter", "end"])["operating_cost"]
    assert solo[("sites.manila.cost_per_hour", "high")] > solo[("base", "base")]
    assert "at equal service" in flip_sentence(table)


def test_an_uncertain_path_no_model_has_is_one_line(tmp_path):
    from ccsim.study.spec import load_experiment

    extra = "uncertain:\n  sites.kolkata.cost_per_hour: {low: 8, high: 18}\n"
    path = _experiment(tmp_path)
    path.write_text(path.read_text() + extra)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert "uncertain.sites.kolkata.cost_per_hour" in str(info.value)
    assert "no model has it" in str(info.value) and "\n" not in str(info.value)


def test_staffing_against_requirement_reads_the_measured_week_after_a_warm_up(tmp_path):
    """The requirement is computed on every slot of the calendar, warm-up included; the
    interval tables hold the measured slots only. The report's staffing chart matches them
    by start time (it used to compare lengths and, after a warm-up, showed nothing)."""
    from ccsim.planning.pools import pool_requirements
    from ccsim.planning.targets import Targets
    from ccsim.report.requirement import staffing_against_requirement
    from ccsim.study.run import run_experiment

    path = _experiment(tmp_path, ("frontier: {scales: [0.85, 1.0, 1.15], replications: 6}", ""))
    path.write_text(
        path.read_text()
        .replace("replications: 6\n", "replications: 2\n")
        .replace("selection: {indifference_zone: 0.05, confidence: 0.95, on: equal_service}", "")
    )
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(scenario.read_text().replace("warmup: 0s", "warmup: 2h"))
    run_experiment(path, out=tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    intervals = pd.read_parquet(tmp_path / "out" / "intervals.parquet")
    table, why = staffing_against_requirement(manifest, intervals)
    assert why == "" and table is not None
    onshore = table[table["scenario"] == "onshore"]
    measured = sorted(intervals["interval_start"].unique())
    assert sorted(onshore["interval_start"].unique()) == measured
    assert measured[0] == 2 * 3600  # the first slot after the warm-up
    import ccsim

    loaded = ccsim.load_scenario(scenario)
    required = pool_requirements(loaded, Targets.of(loaded))
    slots = len(required[next(iter(required))])
    assert slots == len(measured) + 4  # four half-hours of warm-up
    pool = onshore[onshore["pool"] == onshore["pool"].iloc[0]]
    expected = sum(required[name] for name in pool["pool"].iloc[0].split("+"))
    np.testing.assert_array_equal(pool["required"].to_numpy(), expected[4:])


SENSITIVE = (
    "  lean: {sites.0.agents: 7, sites.1.agents: 6}\n",
    "  lean: {sites.0.agents: 7, sites.1.agents: 6}\n"
    "sensitivity_replications: 4\n"
    "uncertain:\n"
    "  sites.away.cost_per_hour: {low: 6, high: 24}\n"
    "  channels.voice.service_level.target: {low: 0.7, high: 0.95}\n",
)


@pytest.mark.slow
def test_sensitivity_at_equal_service_reads_each_ends_own_curve(tmp_path, monkeypatch):
    """Each end's cost at equal service is read off its own sweep, as the study reads the
    base: a stricter voice target makes voice bind where billing did, and costs more (the
    first-order correction along the base's binding channel it replaces saw no change); a
    wage's ends, repriced scale by scale from the base sweep, are what simulating gives."""
    from ccsim.study import sensitivity
    from ccsim.study.run import run_experiment

    path = _experiment(tmp_path, SENSITIVE)
    run_experiment(path, out=tmp_path / "repriced")
    table = pd.read_csv(tmp_path / "repriced" / "sensitivity.csv")
    rows = table.set_index(["model", "parameter", "end"])
    base = rows.loc[("onshore", "base", "base")]
    strict = rows.loc[("onshore", "channels.voice.service_level.target", "high")]
    assert base["binding_channel"] == "billing" and strict["binding_channel"] == "voice"
    assert strict["cost_at_equal_service"] > 1.05 * base["cost_at_equal_service"]

    monkeypatch.setattr(sensitivity, "_wage_site", lambda scenario, changes: None)
    run_experiment(path, out=tmp_path / "simulated")
    simulated = pd.read_csv(tmp_path / "simulated" / "sensitivity.csv")
    wage = table["parameter"] == "sites.away.cost_per_hour"
    for column in ("operating_cost", "cost_at_equal_service", "cost_at_equal_service_difference"):
        np.testing.assert_allclose(
            table.loc[wage, column], simulated.loc[wage, column], rtol=1e-9, atol=1e-6
        )
    assert (table.loc[wage, "binding_channel"] == simulated.loc[wage, "binding_channel"]).all()


@pytest.mark.slow
def test_the_terminal_says_the_selection_as_the_report_does(study, capsys):
    """``ccsim experiment`` printed the study's raw sentence ("... at least 201 below every
    other ... (MCB, 95%)"): money without its currency or period and an abbreviation
    unexplained. It now prints the report's sentence."""
    from ccsim.cli.experiment import _print_answer

    result, out, _ = study
    _print_answer(result, json.loads((out / "manifest.json").read_text()))
    printed = capsys.readouterr().out
    assert "USD per run (12 h)" in printed and "(the indifference zone)" in printed
    assert "multiple comparisons with the best (MCB:" in printed
    assert "(MCB, 95%)" not in printed


def _core_hours_case():
    """A day of New York customers served by a New York team and a Manila team (13 h ahead
    in January), with two blocks of interval sums drawn at random: Manila's busy time split
    over voice and email."""
    from conftest import channel, scenario

    email = channel("2/h", "7min", None, threshold="24h", kind="email")
    model = scenario(
        {"voice": channel(), "email": email},
        [
            {"name": "home", "agents": 3, "skills": ["voice"]},
            {"name": "manila", "timezone": "Asia/Manila", "agents": 4},
        ],
        start="2026-01-05 00:00",
        timezone="America/New_York",
        horizon="24h",
        interval="30min",
    )
    rng = np.random.default_rng(5)
    slots = model.calendar().slots
    blocks = []
    for _ in range(2):
        rows = []
        for slot in slots:
            staffed = 4 * 1800.0 * rng.uniform(0.5, 1.0)
            voice, email_busy = staffed * rng.uniform(0, 0.6), staffed * rng.uniform(0, 0.3)
            common = {"interval": slot.index, "interval_start": slot.start, "n": 4}
            common |= {"local_start": slot.local_start.isoformat(), "s_scheduled_time": staffed}
            common |= {"s_staffed_time": staffed}
            for name, busy in (
                ("all", voice + email_busy),
                ("voice", voice),
                ("email", email_busy),
            ):
                rows.append(common | {"channel": name, "site": "manila", "s_busy_time": busy})
        blocks.append(pd.DataFrame(rows))
    return model, blocks


def _by_site_clock(blocks, hours: set[int]) -> tuple[float, float]:
    """Occupancy and live occupancy over the intervals starting in ``hours`` of Manila's own
    clock, by hand: sums over both blocks."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    manila = ZoneInfo("Asia/Manila")
    busy = live = staffed = 0.0
    for block in blocks:
        for row in block.itertuples():
            if datetime.fromisoformat(row.local_start).astimezone(manila).hour not in hours:
                continue
            busy += row.s_busy_time if row.channel == "all" else 0.0
            live += row.s_busy_time if row.channel == "voice" else 0.0
            staffed += row.s_staffed_time if row.channel == "all" else 0.0
    return busy / staffed, live / staffed


def test_occupancy_is_judged_in_the_customers_core_hours():
    """Issue #26: Manila's "daytime" occupancy was read on Manila's clock, its night when the
    customers sleep. 10:00-16:00 in New York is 23:00-05:00 in Manila (13 h ahead): the
    core-hours occupancy is that of those Manila hours, by hand, and not that of Manila's
    08:00-20:00."""
    from ccsim.study.attainment import core_hours, core_hours_occupancy

    model, blocks = _core_hours_case()
    total, live, n_core = core_hours_occupancy(model, "manila", blocks)
    assert n_core == 12  # six hours of half-hour intervals
    night = {(hour + 13) % 24 for hour in range(10, 16)}
    assert night == {23, 0, 1, 2, 3, 4}
    by_hand, live_by_hand = _by_site_clock(blocks, night)
    assert total.value == pytest.approx(by_hand, rel=1e-12)
    assert live.value == pytest.approx(live_by_hand, rel=1e-12)
    assert live.value < total.value  # email left out of live work
    site_day = _by_site_clock(blocks, set(range(8, 20)))[0]
    assert abs(site_day - total.value) > 1e-3  # the site's own daytime is another figure
    assert core_hours(model) == "10:00-16:00 America/New_York"


@pytest.mark.slow
def test_core_hours_occupancy_is_the_figures_occupancy_over_those_hours(study):
    """targets.csv and the report's occupancy-by-site figure read occupancy on the same
    clock: busy agents over agents at work summed over the core hours of intervals.parquet
    (each interval of the same length) is the table's ratio of totals."""
    from ccsim.study.attainment import CUSTOMER_DAY, clock_minutes

    _, out, _ = study
    table = pd.read_csv(out / "targets.csv")
    intervals = pd.read_parquet(out / "intervals.parquet")
    minutes = clock_minutes(intervals["local_start"])
    core = intervals[(minutes >= 60 * CUSTOMER_DAY[0]) & (minutes < 60 * CUSTOMER_DAY[1])]
    sites = table[table.kind == "site"]
    assert (sites["window_intervals"] > 0).all()
    for row in sites.itertuples():
        part = core[(core.scenario == row.scenario) & (core.site == row.site)]
        part = part[part.channel == "all"]
        level = part.groupby("kpi")["estimate"].sum()
        assert row.occupancy == pytest.approx(
            level["busy_agents"] / level["available_agents"], rel=1e-9
        )
        assert row.met_occupancy == (row.occupancy <= row.occupancy_cap)


@pytest.mark.slow
def test_a_cheapest_model_that_misses_its_targets_is_not_the_answer_alone(tmp_path, capsys):
    """Issue #26, as a new user met it: without a frontier the answer named the model with
    the lowest cost per resolved contact, which missed its targets. Understaffed, "lean" is
    the cheapest per resolved contact and misses voice; the terminal's answer says so and
    names the cheapest model that meets every target (ample: generously staffed)."""
    from ccsim.cli.experiment import _print_answer
    from ccsim.study.run import run_experiment

    shutil.copy(DATA / "scenario.yaml", tmp_path / "scenario.yaml")
    path = tmp_path / "experiment.yaml"
    path.write_text(
        "name: lean_toy\nscenario: scenario.yaml\nseed: 3\nreplications: 3\n"
        "baseline: onshore\nscenarios:\n  onshore: {}\n"
        "  lean: {sites.0.agents: 5, sites.1.agents: 5}\n"
        "  ample: {sites.0.agents: 14, sites.1.agents: 14}\n"
    )
    result = run_experiment(path, out=tmp_path / "out")
    targets = pd.read_csv(tmp_path / "out" / "targets.csv")
    channels = targets[targets.kind == "channel"].set_index(["scenario", "channel"])
    assert not channels.loc[("lean", "voice"), "met"]  # the case the issue describes
    assert channels.loc["ample", "met"].map(bool).all()
    _print_answer(result, json.loads((tmp_path / "out" / "manifest.json").read_text()))
    printed = capsys.readouterr().out
    level = channels.loc[("lean", "voice"), "service_level"]
    assert "lean has the lowest cost per resolved contact at planned staffing" in printed
    assert "But lean misses" in printed and f"voice (service level {100 * level:.1f}%" in printed
    assert "The cheapest model that meets every target is ample:" in printed
