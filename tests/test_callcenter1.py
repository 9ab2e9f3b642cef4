"""CALLCENTER-1 (SimOpt testbed) as a ccsim scenario, and the simulation-optimised staffing
that beats the two-step method on it (issue #28)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

import ccsim
from ccsim.cli import main
from ccsim.planning.simopt import simopt
from ccsim.planning.simopt_baseline import (
    cover,
    coverage,
    half_hour_requirement,
    lp_bound,
    work_bound,
)
from ccsim.planning.simopt_callcenter import (
    BIN,
    Day,
    ShiftType,
    expected_calls,
    plan_from_scenario,
    rate,
    read_plan,
)

FOLDER = Path(__file__).resolve().parents[1] / "benchmarks" / "callcenter1"


@pytest.fixture(scope="module")
def committed():
    return ccsim.load_scenario(FOLDER / "scenario.yaml")


def test_rate_is_the_benchmarks_sine():
    # lambda(t) = 500 + 500 sin((3 pi t - 16 pi) / 32): 0 at opening, 1000 at t = 32/3 h
    assert rate(0.0) == pytest.approx(0.0, abs=1e-9)
    assert rate(32 / 3) == pytest.approx(1000.0)
    assert expected_calls(2.0, 7.5) == pytest.approx(quad(rate, 2.0, 7.5)[0], rel=1e-12)


def test_scenario_integrates_to_the_exact_day_and_hours(committed):
    voice = committed.channels["voice"].arrivals
    weights = np.array(voice.profile)
    per_bin = voice.volume * weights / weights.sum()
    # The day's expected calls: 500 * 16.5 + (16000 / (3 pi)) (cos(-pi/2) - cos(33.5 pi / 32))
    day = 500 * 16.5 + 16000 / (3 * math.pi) * (0.0 - math.cos(33.5 * math.pi / 32))
    assert per_bin.sum() == pytest.approx(day, rel=1e-12)
    assert day == pytest.approx(9929.28, abs=0.01)
    per_hour = round(1 / BIN)
    for hour in range(17):
        end = min(hour + 1.0, 16.5)
        got = per_bin[hour * per_hour : hour * per_hour + round((end - hour) / BIN)].sum()
        assert got == pytest.approx(quad(rate, hour, end)[0], rel=1e-9)
    assert per_bin[round(16.5 / BIN) :].sum() == 0.0  # nothing arrives after the close


def test_scenario_has_the_68_shift_types_and_the_benchmarks_queue(committed):
    (site,) = committed.sites
    assert len(site.shifts) == 68
    kinds = set()
    for shift in site.shifts:
        assert shift.length == 8.5 * 3600
        (lunch,) = shift.breaks
        assert (lunch.length, lunch.within, lunch.paid) == (1800.0, 0.0, True)
        kinds.add((shift.start_minute / 60, lunch.after / 3600))
    assert kinds == {(s / 2, a) for s in range(17) for a in (3.0, 3.5, 4.0, 4.5)}
    assert site.cost_per_hour == 18.0
    voice = committed.channels["voice"]
    assert (voice.handle_time.dist, voice.handle_time.k, voice.handle_time.mean) == (
        "erlang",
        18,
        360.0,
    )
    assert (voice.patience.dist, voice.patience.k, voice.patience.mean) == ("erlang", 4, 120.0)
    assert voice.service_level.threshold == 20.0 and voice.service_level.target == 0.8
    assert [trunk.lines for trunk in committed.trunks.values()] == [150]


def test_two_step_plan_covers_its_requirement_and_the_bounds_order():
    day = Day()
    required = half_hour_requirement(day)
    plan, _ = cover(day, required)
    types = day.shift_types()
    x = np.array([plan.get(kind, 0) for kind in types])
    assert np.all(coverage(day, types) @ x >= required)
    bound = lp_bound(day, required)
    assert work_bound(day) < bound <= sum(plan.values()) * day.shift_cost() + 1e-6
    # every agent paid for the calls 80% of the day's expected calls need, 6 minutes each
    assert work_bound(day) == pytest.approx(18 * 0.8 * expected_calls(0, 16.5) * 0.1)


SHORT = Day(
    hours=4.0, shift_hours=2.0, starts_h=(0.0, 0.5, 1.0, 1.5, 2.0), lunch_after_h=(0.5, 1.0)
)


def test_short_day_is_staffed_end_to_end():
    found = simopt(SHORT, n_days=30, seed=3, budget=40)
    assert found.days.feasible(0.95)
    assert found.shifts <= sum(found.start.values())
    assert found.shifts < sum(found.start.values()) or not found.start_days.feasible(0.95)
    assert all(kind in SHORT.shift_types() for kind in found.plan)
    assert found.simulations <= 40
    # the pay of a day: every shift's scheduled hours at 18 USD, plus overruns
    scheduled = found.shifts * 2.0 * 18.0
    assert np.all(found.days.cost >= scheduled - 1e-6)
    assert np.all(found.days.cost <= scheduled + found.shifts * 18.0)


def test_shift_type_is_on_the_floor_outside_lunch_only():
    kind = ShiftType(start_h=8.0, lunch_after_h=3.5)
    day = Day()
    assert day.working(kind, 8.0) and day.working(kind, 11.49)
    assert not day.working(kind, 11.5) and not day.working(kind, 11.99)
    assert day.working(kind, 12.0) and day.working(kind, 16.49)
    assert not day.working(kind, 16.5) and not day.working(kind, 7.99)


def test_committed_scenario_staffs_the_committed_plan(committed):
    plan = read_plan(FOLDER / "plan.csv")
    assert plan_from_scenario(committed) == plan
    shifts = committed.sites[0].shifts
    assert sum(plan.values()) == sum(shift.headcount_on("mon") for shift in shifts)


def test_simopt_refuses_another_scenario(capsys, tmp_path):
    out = str(tmp_path / "out")
    assert main(["staff", "configs/ramp.yaml", "--method", "simopt", "--out", out]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("ccsim: configs/ramp.yaml: --method simopt staffs CALLCENTER-1 only")
    assert "\n" not in error


def test_constraint_counts_are_those_of_service_level_total_wait(committed):
    # No retrials: every offered call is a customer's first, blocked ones included, so
    # 0.8 offered - answered within 20 s is the constraint on service_level_total_wait.
    result = ccsim.simulate(committed, 5)
    tallies = result.interval_tallies[("voice", "all")]
    assert sum(t.offered for t in tallies) == sum(t.customers for t in tallies)
    for tally in tallies:
        assert tally.offered == tally.customers
        assert tally.answered_within_threshold == tally.customers_within_threshold
        ends = tally.answered + tally.abandoned + tally.blocked + tally.carried_over
        assert tally.offered == ends
