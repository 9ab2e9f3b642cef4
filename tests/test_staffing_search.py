"""Staffing a whole scenario: the search meets its targets, a trimmed plan has no removable
shift, pooling on a multi-skill site is credited, the covering program is optimal against
brute force with part-time bounds and weekly tours, the compact schedule form round-trips,
and the frontier's cost at target brackets the exact Erlang C crossing.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccsim
from ccsim.model import ConfigError
from ccsim.model.units import parse_duration
from ccsim.planning import program
from ccsim.planning.frontier import cost_at_target, frontier, scaled_scenario, write_frontier
from ccsim.planning.model_file import write_staffed_model
from ccsim.planning.pools import occupancy_floors, pool_requirements
from ccsim.planning.program import Demand
from ccsim.planning.search import staff_scenario
from ccsim.planning.targets import Targets, evaluate
from ccsim.planning.templates import ShiftOffer, offer_candidates
from ccsim.sim.shifts import roster
from ccsim.theory import erlang

VOICE = {
    "arrivals": {"rate": "60/h"},
    "handle_time": {"dist": "exponential", "mean": "3min"},
    "patience": {"dist": "exponential", "mean": "3min"},
    "service_level": {"threshold": "20s", "target": 0.8},
}
CHAT = {
    "kind": "chat",
    "arrivals": {"rate": "40/h"},
    "handle_time": {"dist": "exponential", "mean": "4min"},
    "patience": {"dist": "exponential", "mean": "5min"},
    "service_level": {"threshold": "60s", "target": 0.8},
}
#: Full time 8.5 h and part time 4 h starting on the hour: small programs, quick searches.
OFFER = ShiftOffer(part_time=(4 * 3600.0,), step=3600.0, part_time_share=(0.0, 1.0))
REPS, SEED = 8, 3


def two_channels(sites) -> ccsim.Scenario:
    """A Monday morning, 08:00-12:00: voice and chat, 4 Erlangs each."""
    return ccsim.parse_scenario(
        {
            "name": "morning",
            "start": "2026-03-02T08:00",
            "horizon": "4h",
            "channels": {"voice": VOICE, "chat": CHAT},
            "sites": sites,
        }
    )


MULTI_SKILL = [{"name": "floor", "agents": 1, "cost_per_hour": 20}]
DEDICATED = [
    {"name": "phones", "agents": 1, "cost_per_hour": 20, "skills": ["voice"]},
    {"name": "chats", "agents": 1, "cost_per_hour": 20, "skills": ["chat"]},
]


@pytest.fixture(scope="module")
def pooled_plan():
    return staff_scenario(two_channels(MULTI_SKILL), offer=OFFER, reps=REPS, seed=SEED)


def _remove_one(scenario: ccsim.Scenario, site: str, start: str, length: float, day: str):
    data = scenario.model_dump(mode="json")
    for spec in data["sites"]:
        if spec["name"] != site:
            continue
        for shift in spec["shifts"]:
            # The model dumps durations with their unit ("8.5h").
            if shift["start"] == start and parse_duration(shift["length"]) == length:
                if isinstance(shift["headcount"], dict):
                    shift["headcount"][day] -= 1
                else:
                    shift["headcount"] -= 1
                return ccsim.parse_scenario(data)
    raise AssertionError(f"no shift {start} at {site}")


@pytest.mark.slow
def test_search_meets_weekly_and_interval_targets_on_a_multi_skill_site(pooled_plan):
    plan = pooled_plan
    assert plan.met and plan.trimmed
    targets = Targets.of(plan.scenario)
    # Judged again from the written scenario on the same replications: the same verdict.
    again = evaluate(plan.scenario, targets, REPS, SEED)
    for row in again.channels.itertuples():
        assert row.low >= row.target
        assert row.share_at_floor >= 0.95
    # The schedule is compact: one shift per (start, length), a headcount per weekday.
    shifts = plan.scenario.sites[0].shifts
    assert all(isinstance(s.headcount, dict) for s in shifts)
    assert len({(s.start, s.length) for s in shifts}) == len(shifts)


@pytest.mark.slow
def test_a_trimmed_plan_has_no_removable_shift(pooled_plan):
    plan = pooled_plan
    targets = Targets.of(plan.scenario)
    for row in plan.headcounts.itertuples():
        fewer = _remove_one(
            plan.scenario,
            row.site,
            row.start,
            ccsim.model.units.parse_duration(row.length),
            row.days,
        )
        try:
            verdict = evaluate(fewer, targets, REPS, SEED).met
        except ConfigError:  # a channel left without agents
            verdict = False
        assert not verdict, f"{row.start} {row.length} {row.days} could be removed"


@pytest.mark.slow
def test_pooling_on_a_multi_skill_site_needs_fewer_agents(pooled_plan):
    dedicated = staff_scenario(two_channels(DEDICATED), offer=OFFER, reps=REPS, seed=SEED)
    assert pooled_plan.met and dedicated.met
    assert pooled_plan.cost < dedicated.cost
    # The seed requirement already credits it: one pool, never more than the two pools' sum
    # (here equal once rounded up to whole agents; the simulation then finds the saving).
    pooled = pool_requirements(two_channels(MULTI_SKILL), Targets.of(two_channels(MULTI_SKILL)))
    apart = pool_requirements(two_channels(DEDICATED), Targets.of(two_channels(DEDICATED)))
    assert list(pooled) == ["voice+chat"] and sorted(apart) == ["chat", "voice"]
    assert (pooled["voice+chat"] <= apart["voice"] + apart["chat"]).all()


# --- the covering program against brute force ---------------------------------------------


def _brute_force(coverage, costs, required, hours, part_time, high_share, limit=4):
    best = math.inf
    for x in itertools.product(range(limit + 1), repeat=len(costs)):
        x = np.array(x)
        if (coverage.T @ x < required - 1e-9).any():
            continue
        paid = hours @ x
        if paid > 0 and (hours * part_time) @ x > high_share * paid + 1e-9:
            continue
        best = min(best, float(costs @ x))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("high_share", [1.0, 0.4, 0.0])
def test_covering_program_with_a_part_time_bound_is_optimal(seed, high_share):
    """Two full-time and two part-time templates over six intervals, a bound on the
    part-time share of paid hours: the program's cost is the brute-force least."""
    rng = np.random.default_rng(seed)
    coverage = 0.85 * np.array(
        [
            [1, 1, 1, 1, 0, 0],  # full time, early
            [0, 0, 1, 1, 1, 1],  # full time, late
            [1, 1, 0, 0, 0, 0],  # part time
            [0, 0, 0, 0, 1, 1],  # part time
        ],
        dtype=float,
    )
    hours = np.array([4.0, 4.0, 2.0, 2.0])
    costs = hours * np.array([10.0, 11.0, 8.0, 8.5])
    part_time = np.array([False, False, True, True])
    required = rng.integers(0, 4, size=6).astype(float)
    solution = program.solve(
        ["site"],
        ["site"] * 4,
        coverage,
        costs,
        [Demand("voice", required, {"site": 1.0})],
        paid_hours=hours,
        part_time=part_time,
        part_time_bounds={"site": (0.0, high_share)},
        mip_gap=0.0,
    )
    assert solution.cost == pytest.approx(
        _brute_force(coverage, costs, required, hours, part_time, high_share)
    )
    assert solution.status == "optimal" and not solution.time_limited


@pytest.mark.parametrize("seed", range(4))
def test_weekly_tours_choose_the_days_off_at_least_cost(seed):
    """Seven tours of five days (two consecutive days off) against a requirement per day:
    the program's cost is the brute-force least over every headcount up to 3."""
    rng = np.random.default_rng(seed)
    days = ShiftOffer(tours=True).day_patterns()
    assert len(days) == 7 and all(len(d) == 5 for d in days)
    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    coverage = np.array([[1.0 if w in d else 0.0 for w in weekdays] for d in days])
    costs = np.full(7, 5.0) + rng.uniform(0, 0.5, size=7)
    required = rng.integers(1, 4, size=7).astype(float)
    solution = program.solve(
        ["site"], ["site"] * 7, coverage, costs, [Demand("d", required, {"site": 1.0})], mip_gap=0
    )
    best = _brute_force(coverage, costs, required, np.ones(7), np.zeros(7), 1.0, limit=3)
    assert solution.cost == pytest.approx(best)


def test_offered_templates_are_full_and_part_time_every_half_hour_or_tours():
    scenario = two_channels(MULTI_SKILL)
    daily = offer_candidates(scenario, ShiftOffer())
    lengths = {c.shift.length for c in daily}
    assert lengths == {8.5 * 3600, 6 * 3600, 4 * 3600}
    assert {c.shift.start for c in daily} == {
        f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)
    }
    assert all(c.part_time == (c.shift.length < 8 * 3600) for c in daily)
    tours = offer_candidates(scenario, ShiftOffer(tours=True, days_off="any"))
    assert {len(c.shift.days) for c in tours} == {5}
    # 21 pairs of days off, less the one (Sunday and Monday) whose tours never touch this
    # Monday morning (nor the Sunday night before it).
    assert len({tuple(c.shift.days) for c in tours}) == 20


# --- the compact schedule form ---------------------------------------------------------------


def _expanded(site: ccsim.model.Site) -> ccsim.model.Site:
    """The same site with one shift per weekday and rule breaks written out."""
    shifts = []
    for shift in site.shifts:
        for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]:
            count = shift.headcount_on(day)
            if count:
                shifts.append(
                    ccsim.model.Shift(
                        start=shift.start,
                        length=shift.length,
                        headcount=count,
                        days=[day],
                        breaks=site.shift_breaks(shift),
                    )
                )
    return site.model_copy(update={"shifts": shifts, "breaks": []})


def test_compact_schedule_round_trips_to_the_expanded_roster(tmp_path):
    week = {
        "name": "week",
        "start": "2026-03-02",
        "horizon": "7d",
        "timezone": "America/New_York",
        "channels": {"voice": VOICE},
        "sites": [
            {
                "name": "manila",
                "timezone": "Asia/Manila",
                "cost_per_hour": 13,
                "breaks": [
                    {"at_least": "8h", "breaks": [{"after": "4h", "length": "1h", "paid": False}]},
                    {"at_least": "4h", "breaks": [{"after": "2h", "length": "15min"}]},
                ],
                "shifts": [
                    {"start": "21:00", "length": "9h", "headcount": {"mon": 3, "tue": 2, "sun": 1}},
                    {"start": "22:30", "length": "4h", "headcount": {"fri": 4}},
                    {"start": "06:00", "length": "3h", "headcount": 2, "days": ["sat"]},
                ],
            }
        ],
    }
    design = tmp_path / "design.yaml"
    import json  # JSON is YAML

    design.write_text(json.dumps({**week, "sites": [{"name": "manila", "agents": 1}]}))
    scenario = ccsim.parse_scenario(week)

    class Plan:  # what write_staffed_model reads of a StaffingPlan
        pass

    plan = Plan()
    plan.fresh = None  # no guard: a plan written by hand
    plan.scenario, plan.cost, plan.met, plan.trimmed, plan.time_limited = (
        scenario,
        1.0,
        True,
        True,
        False,
    )
    import pandas as pd

    plan.evaluation = type(
        "E",
        (),
        {
            "channels": pd.DataFrame(
                [{"channel": "voice", "service_level": 0.98, "low": 0.95, "high": 1.01}]
            ),
            "sites": pd.DataFrame([{"site": "manila", "occupancy": 0.8}]),
            "reps": 2,
            "seed": 0,
            "confidence": 0.99,
        },
    )
    out = tmp_path / "models" / "week.yaml"
    write_staffed_model(out, plan, design)
    text = out.read_text()
    assert "extends: ../design.yaml" in text
    # The header states the interval the search judged with, within [0, 1] (a delta-method
    # interval of a share near 1 can pass it).
    assert "(99% interval): voice 98.0% [95.0%, 100.0%]" in text
    assert len(text.splitlines()) < 25
    loaded = ccsim.load_scenario(out)
    calendar = scenario.calendar()
    expected = roster(_expanded(scenario.sites[0]), calendar)
    assert roster(loaded.sites[0], calendar) == expected
    assert roster(scenario.sites[0], calendar) == expected
    # The 3-hour shift is shorter than every rule: no breaks; the 9-hour one takes lunch.
    by_length = {round(i.end - i.start): i.breaks for i in expected}
    assert by_length[3 * 3600] == () and by_length[9 * 3600][0].length == 3600


def test_a_headcount_per_weekday_with_days_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nhorizon: 1d\nchannels:\n  voice: {arrivals: {rate: 1/min}, handle_time: "
        "{dist: exponential, mean: 3min}, service_level: {threshold: 20s, target: 0.8}}\n"
        "sites:\n- name: a\n  shifts:\n  - {start: '08:00', length: 8h, headcount: {mon: 2}, "
        "days: [mon]}\n"
    )
    with pytest.raises(ConfigError, match=r"sites\.0\.shifts\.0.*leave 'days' out"):
        ccsim.load_scenario(path)


# --- the frontier -----------------------------------------------------------------------------


def mmn(agents: int) -> ccsim.Scenario:
    """M/M/n: 3 calls a minute, 5-minute exponential handle times (15 Erlangs), no
    abandonment, 75% within 20 s; steady state after an hour's warm-up."""
    return ccsim.parse_scenario(
        {
            "name": "mmn",
            "horizon": "9h",
            "warmup": "1h",
            "channels": {
                "voice": {
                    "arrivals": {"rate": "3/min"},
                    "handle_time": {"dist": "exponential", "mean": "5min"},
                    "service_level": {"threshold": "20s", "target": 0.75},
                }
            },
            "sites": [{"name": "floor", "agents": agents, "cost_per_hour": 10}],
        }
    )


@pytest.mark.slow
def test_cost_at_target_brackets_the_erlang_c_crossing(tmp_path):
    scales = (0.85, 0.9, 0.95, 1.0, 1.05)  # 17 to 21 agents of 20
    assert [scaled_scenario(mmn(20), s).sites[0].agents for s in scales] == [17, 18, 19, 20, 21]
    table = frontier(mmn(20), scales=scales, reps=30, seed=11)
    exact = {n: erlang.erlang_c_performance(0.05, 300, n, 20).service_level for n in (18, 19)}
    assert exact[18] < 0.75 < exact[19]
    costs = table.set_index("scale")["cost"]
    cost18, cost19 = costs[0.9], costs[0.95]
    # The exact crossing, interpolated between the same two staffing levels.
    crossing = cost18 + (0.75 - exact[18]) / (exact[19] - exact[18]) * (cost19 - cost18)
    result = cost_at_target(table, "voice")
    assert cost18 <= result.cost <= cost19
    assert result.low <= crossing <= result.high
    path = write_frontier(tmp_path, table, "mmn")
    written = pd.read_csv(path)
    assert (written.kind == "cost_at_target").sum() == 2


# --- the command ------------------------------------------------------------------------------


def _design(tmp_path):
    import json  # JSON is YAML

    path = tmp_path / "design" / "morning.yaml"
    path.parent.mkdir()
    data = two_channels(MULTI_SKILL).model_dump(mode="json", exclude_defaults=True)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.slow
def test_staff_search_writes_a_staffed_model_that_extends_the_design(tmp_path, capsys):
    from ccsim.cli import main

    design = _design(tmp_path)
    model = tmp_path / "morning.yaml"
    flags = ["--reps", "8", "--seed", "3", "--shift-step", "1h", "--part-time", "4h"]
    flags += ["--part-time-share", "0,1", "--out", str(tmp_path / "out"), "--model", str(model)]
    assert main(["staff", str(design), "--method", "search", *flags]) == 0
    printed = capsys.readouterr().out
    assert "weekly" in printed and "occupancy" in printed and "MISSED" not in printed
    assert model.read_text().count("extends: design/morning.yaml") == 1
    staffed = ccsim.load_scenario(model)
    assert staffed.sites[0].shifts and staffed.sites[0].breaks
    assert (tmp_path / "out" / "plan.csv").exists() and (tmp_path / "out" / "service.csv").exists()


@pytest.mark.parametrize(
    "flag, value",
    [("--part-time-share", "0.6,0.2"), ("--interval-floor", "2"), ("--full-time", "x")],
)
def test_staff_search_bad_flag_exits_2_with_one_line(tmp_path, flag, value, capsys):
    from ccsim.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["staff", str(_design(tmp_path)), "--method", "search", flag, value])
    assert stop.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) <= 2  # usage line and the error


@pytest.mark.parametrize("scale", [0.85, 0.95, 1.0, 1.05, 1.15])
def test_a_scaled_compact_week_has_the_scaled_total(scale):
    """Scaling a week of one to three agents per template and day changes the total by the
    scale (rounding each count alone would leave most of them as they are)."""
    shifts = [
        {"start": f"{h:02d}:00", "length": "8h", "headcount": {"mon": 1 + h % 3, "tue": 2}}
        for h in range(6, 14)
    ]
    scenario = ccsim.parse_scenario(
        {
            "name": "week",
            "horizon": "2d",
            "channels": {"voice": VOICE},
            "sites": [{"name": "floor", "shifts": shifts}],
        }
    )
    days = ["mon", "tue"]
    total = sum(s.headcount_on(d) for s in scenario.sites[0].shifts for d in days)
    scaled = scaled_scenario(scenario, scale).sites[0].shifts
    assert sum(s.headcount_on(d) for s in scaled for d in days) == math.floor(total * scale + 0.5)
    assert all(
        abs(a.headcount_on(d) - b.headcount_on(d) * scale) < 1
        for a, b in zip(scaled, scenario.sites[0].shifts, strict=True)
        for d in days
    )


@pytest.mark.slow
def test_lowering_a_large_pool_keeps_the_targets_and_never_costs_more():
    """At 30-odd Erlangs per channel the raise overshoots by whole agents; the lowering step
    takes them back in slack intervals, and whatever it keeps still meets every target."""
    big = two_channels(MULTI_SKILL).model_dump(mode="json")
    big["channels"]["voice"]["arrivals"] = {"rate": "600/h"}
    big["channels"]["chat"]["arrivals"] = {"rate": "400/h"}
    plan = staff_scenario(
        ccsim.parse_scenario(big), offer=OFFER, reps=REPS, seed=SEED, max_trim_simulations=0
    )
    history = plan.history
    raised = history[history.phase.str.startswith("raise")].iloc[-1]
    assert plan.met
    assert (history.phase == "lower").any()
    assert plan.cost <= raised.cost + 1e-9
    kept = history[(history.phase == "lower") & history.met]
    assert (kept.cost < raised.cost).all()


@pytest.mark.slow
def test_an_occupancy_cap_holds_where_the_service_level_alone_would_exceed_it():
    """30-odd Erlangs per channel meet 80/20 near 90% occupancy; with a cap of 75% on live
    work the plan has at least load / 0.75 agents available, and the simulated occupancy
    (load over available agents) is at most the cap."""
    big = two_channels(MULTI_SKILL).model_dump(mode="json")
    big["channels"]["voice"]["arrivals"] = {"rate": "600/h"}
    big["channels"]["chat"]["arrivals"] = {"rate": "400/h"}
    scenario = ccsim.parse_scenario(big)
    uncapped = staff_scenario(scenario, offer=OFFER, reps=REPS, seed=SEED, max_trim_simulations=0)
    targets = Targets.of(scenario, max_occupancy=0.75)
    capped = staff_scenario(scenario, targets, OFFER, reps=REPS, seed=SEED, max_trim_simulations=4)
    assert capped.met
    assert uncapped.evaluation.sites.occupancy.iloc[0] > 0.75
    assert capped.evaluation.sites.high.iloc[0] <= 0.75 + 0.01
    assert capped.cost > uncapped.cost


def test_occupancy_floors_are_the_live_load_over_the_cap():
    scenario = two_channels(MULTI_SKILL)
    floors = occupancy_floors(scenario, Targets.of(scenario, max_occupancy=0.8))
    ((name, floor),) = floors.items()
    live = 60 * 3 / 60 + 40 * 4 / 60 / 1  # voice 3 Erlangs; chat at concurrency 1
    assert name == "voice+chat"
    assert np.all(floor == math.ceil(live / 0.8))
    assert not any(occupancy_floors(scenario, Targets.of(scenario))["voice+chat"])
    with pytest.raises(ConfigError, match="max_occupancy"):
        Targets.of(scenario, max_occupancy=1.5)


def test_cost_at_target_without_a_lower_end_when_the_upper_band_is_above_everywhere():
    """The binding channel crosses inside the sweep, but its upper band is above the target
    at every scale: the cost has no lower end (NaN), never an error."""
    import pandas as pd

    table = pd.DataFrame(
        {
            "scale": [0.95, 1.0, 1.05] * 2,
            "channel": ["voice"] * 3 + ["chat"] * 3,
            "cost": [95.0, 100.0, 105.0] * 2,
            "service_level": [0.78, 0.82, 0.86, 0.95, 0.96, 0.97],
            "sl_low": [0.76, 0.80, 0.84, 0.94, 0.95, 0.96],
            "sl_high": [0.81, 0.84, 0.88, 0.96, 0.97, 0.98],
            "target": [0.8] * 3 + [0.9] * 3,
        }
    )
    result = cost_at_target(table)
    assert result.cost == pytest.approx(97.5)
    assert math.isnan(result.low)
    assert result.high == pytest.approx(100.0)


def test_a_staffed_models_command_names_the_design_as_retyped_from_the_checkout(tmp_path):
    # The model file is committed: it must not carry the folders of the machine it was
    # staffed on.
    from ccsim.cli.staff_search import shown_path

    assert shown_path(Path.cwd() / "configs" / "x.yaml") == "configs/x.yaml"
    assert shown_path(tmp_path / "x.yaml") == str(tmp_path / "x.yaml")  # outside: as given
