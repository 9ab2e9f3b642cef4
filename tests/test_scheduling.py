"""Shift scheduling: coverage and pay of a template worked out by hand, the integer program
against brute force on small instances, shrinkage, several sites, and the schedule written
back as a scenario file.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from conftest import channel
from conftest import scenario as build_scenario

import ccsim
from ccsim.model import ConfigError, Shift
from ccsim.planning.coverage import template_coverage
from ccsim.planning.schedule_files import write_schedule
from ccsim.planning.scheduling import schedule_shifts
from ccsim.planning.staffing import erlang_requirements
from ccsim.planning.templates import Candidate, candidate_shifts, standard_breaks

VOICE = channel("1/min", "3min", patience=None)


def morning(sites, horizon="3h", channels=None, start="2026-03-02T06:00", timezone="UTC"):
    """A Monday morning from 06:00 in 30-minute intervals."""
    return build_scenario(
        channels or {"voice": VOICE},
        sites,
        name="morning",
        start=start,
        timezone=timezone,
        horizon=horizon,
    )


def requirement(values, channel="voice") -> pd.DataFrame:
    return pd.DataFrame(
        {"interval": range(len(values)), "channel": channel, "required": list(values)}
    )


# Five templates over 06:00-09:00 (intervals 06:00, 06:30, ..., 08:30), 20 an hour, 20% shrinkage.
# The long one has a 15-minute break after an hour, taken in turn over 30 minutes: a break
# starting at 07:00 + U, U uniform on [0, 30] min, spends on average
# (15 x 15 + integral_15^30 (30 - u) du) / 30 = 11.25 min in the 07:00 interval and
# 3.75 min in the 07:30 one.
BREAK = {"after": "1h", "length": "15min", "within": "30min"}
TEMPLATES = [
    {"start": "06:00", "length": "3h", "breaks": [BREAK]},
    {"start": "06:00", "length": "1.5h"},
    {"start": "07:00", "length": "2h"},
    {"start": "07:30", "length": "1.5h"},
    {"start": "08:00", "length": "1h"},
]
COVERAGE = 0.8 * np.array(
    [
        [1, 1, 1 - 11.25 / 30, 1 - 3.75 / 30, 1, 1],
        [1, 1, 1, 0, 0, 0],
        [0, 0, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 0, 1, 1],
    ]
)
COST = np.array([3, 1.5, 2, 1.5, 1]) * 20.0


def small_site(**extra):
    shifts = [{**t, "headcount": 1} for t in TEMPLATES]
    return {"name": "main", "shifts": shifts, "shrinkage": 0.2, "cost_per_hour": 20, **extra}


def test_template_coverage_and_pay_by_hand():
    scenario = morning([small_site()])
    calendar = scenario.calendar()
    for template, coverage, cost in zip(scenario.sites[0].shifts, COVERAGE, COST, strict=True):
        worked = template_coverage(scenario.sites[0], template, calendar)
        assert worked.coverage == pytest.approx(coverage, abs=1e-12)
        assert worked.cost == pytest.approx(cost)
        assert worked.on_shift == pytest.approx(np.ceil(coverage), abs=1e-12)


def brute_force(required, low=0, high=12):
    """The cheapest headcounts by enumerating every vector in [low, high]^5."""
    grid = np.array(list(itertools.product(range(low, high + 1), repeat=len(COST))))
    feasible = (grid @ COVERAGE >= np.asarray(required) - 1e-9).all(axis=1)
    if not feasible.any():
        return None
    costs = grid[feasible] @ COST
    return float(costs.min())


@pytest.mark.parametrize("seed", range(5))
def test_integer_program_is_optimal_against_brute_force(seed):
    required = np.random.default_rng(seed).integers(0, 7, size=6)
    schedule = schedule_shifts(morning([small_site()]), requirement(required), mip_gap=0)
    headcounts = schedule.headcounts.headcount.to_numpy()
    assert (headcounts @ COVERAGE >= required - 1e-9).all()  # covers every interval
    assert schedule.cost == pytest.approx(brute_force(required))
    assert schedule.cost == pytest.approx(headcounts @ COST)
    assert (schedule.coverage.available >= schedule.coverage.required - 1e-9).all()


def test_headcount_bounds_are_honoured():
    required = [3, 4, 2, 6, 5, 5]
    scenario = morning([small_site()])
    candidates = candidate_shifts(scenario, min_headcount=1, max_headcount=5)
    schedule = schedule_shifts(scenario, requirement(required), candidates, mip_gap=0)
    assert schedule.headcounts.headcount.between(1, 5).all()
    assert schedule.cost == pytest.approx(brute_force(required, low=1, high=5))
    tight = candidate_shifts(scenario, max_headcount=1)
    with pytest.raises(ConfigError, match="headcount bounds"):
        schedule_shifts(scenario, requirement(required), tight)


def test_an_interval_no_template_covers_is_named():
    site = {"name": "main", "shifts": [{"start": "06:00", "length": "1h", "headcount": 1}]}
    with pytest.raises(ConfigError, match="2026-03-02T07:00:00\\+00:00 for voice"):
        schedule_shifts(morning([site]), requirement([1, 1, 1, 0, 0, 0]))


def one_interval_templates(n=6):
    return [{"start": f"{6 + k // 2:02d}:{30 * (k % 2):02d}", "length": "30min", "headcount": 1}
            for k in range(n)]  # fmt: skip


def test_shrinkage_grosses_up_the_requirement():
    required = [8, 14, 25, 46, 88, 10]
    site = {"name": "main", "shifts": one_interval_templates(), "shrinkage": 0.3}
    schedule = schedule_shifts(morning([site]), requirement(required))
    # h (1 - 0.3) >= r, in whole numbers: 7 h >= 10 r.
    expected = [-(-10 * r // 7) for r in required]
    assert schedule.headcounts.headcount.tolist() == expected
    assert schedule.coverage.scheduled.round(9).tolist() == expected


def test_night_differential_and_unpaid_break_in_the_pay():
    # 08:00 in New York is 21:00 in Manila (UTC-5 and UTC+8 on 2 March 2026). A 9-hour
    # Manila shift from 21:00 with an unpaid hour at 01:00 pays 8 hours, 7 of them inside
    # the 22:00-06:00 night: 13 x (8 + 0.10 x 7) = 113.10.
    site = {
        "name": "manila",
        "timezone": "Asia/Manila",
        "cost_per_hour": 13,
        "night_differential": {"premium": 0.10},
        "shifts": [
            {
                "start": "21:00",
                "length": "9h",
                "headcount": 1,
                "breaks": [{"after": "4h", "length": "1h", "paid": False}],
            }
        ],
    }
    scenario = morning([site], horizon="9h", start="2026-03-02T08:00", timezone="America/New_York")
    worked = template_coverage(scenario.sites[0], scenario.sites[0].shifts[0], scenario.calendar())
    assert worked.cost == pytest.approx(13 * (8 + 0.1 * 7))
    # The unpaid hour is 01:00-02:00 Manila, 12:00-13:00 New York: intervals 8 and 9.
    assert worked.coverage.tolist() == [1.0] * 8 + [0.0, 0.0] + [1.0] * 8


def test_cheaper_site_is_used_even_when_slower():
    # Offshore agents take 25% longer but cost 13 an hour against 38: 1.25 x 13 < 38.
    onshore = {"name": "onshore", "cost_per_hour": 38, "shifts": one_interval_templates()}
    offshore = {
        "name": "offshore",
        "cost_per_hour": 13,
        "proficiency": {"voice": 1.25},
        "shifts": one_interval_templates(),
    }
    required = [4, 8, 12, 7, 3, 1]
    schedule = schedule_shifts(morning([onshore, offshore]), requirement(required))
    by_site = schedule.headcounts.groupby("site").headcount.apply(list)
    assert by_site["onshore"] == [0] * 6
    assert by_site["offshore"] == [math.ceil(1.25 * r) for r in required]
    assert (schedule.coverage.available >= schedule.coverage.required - 1e-9).all()


def test_two_channels_share_a_site():
    chat = {**VOICE, "service_level": {"threshold": "1min", "target": 0.8}}
    site = {"name": "main", "shifts": one_interval_templates()}
    scenario = morning([site], channels={"voice": VOICE, "chat": chat})
    voice, chats = [4, 8, 12, 7, 3, 1], [2, 0, 5, 1, 1, 0]
    needs = pd.concat([requirement(voice), requirement(chats, "chat")])
    schedule = schedule_shifts(scenario, needs)
    assert schedule.headcounts.headcount.tolist() == [
        v + c for v, c in zip(voice, chats, strict=True)
    ]
    coverage = schedule.coverage.pivot(index="interval", columns="channel", values="available")
    assert (coverage["voice"] >= voice).all() and (coverage["chat"] >= chats).all()
    assert (coverage.sum(axis=1) == schedule.headcounts.headcount.to_numpy()).all()


def test_generated_candidates_cover_a_day_at_least_cost():
    # A site with constant agents gets 8.5 h and 4 h shifts starting every 30 minutes on each
    # local day the horizon touches (here Sunday, for shifts running past midnight, and
    # Monday), with the standard breaks.
    data = ccsim.load_scenario("configs/overflow.yaml").model_dump(mode="json")
    data["sites"] = [{"name": "main", "agents": 40, "shrinkage": 0.3, "cost_per_hour": 38}]
    data["routing"] = {}
    scenario = ccsim.parse_scenario(data)
    candidates = candidate_shifts(scenario)
    assert len(candidates) == 2 * 48 * 2
    assert {c.shift.days[0] for c in candidates} == {"sun", "mon"}
    for candidate in candidates:
        assert candidate.shift.breaks == standard_breaks(candidate.shift.length)
    needs = erlang_requirements(scenario, max_occupancy=0.85)
    schedule = schedule_shifts(scenario, needs, candidates, time_limit=30)
    assert (schedule.coverage.available >= schedule.coverage.required - 1e-6).all()
    assert schedule.cost == pytest.approx((schedule.headcounts.cost).sum())
    assert 0 < schedule.cost < 38 * 8.5 * schedule.headcounts.headcount.sum()


def test_standard_breaks_fit_their_shifts():
    for hours in (2, 4, 6, 8, 8.5, 10):
        shift = Shift(
            start="08:00", length=hours * 3600, headcount=1, breaks=standard_breaks(hours * 3600)
        )
        assert shift.paid_hours == (hours - 0.5 if hours >= 8 else hours)


def test_schedule_is_written_back_as_a_scenario_file(tmp_path):
    required = [3, 4, 2, 6, 5, 5]
    scenario = morning([small_site()])
    target = ccsim.planning.staffing.parse_target("90/15s")
    schedule = schedule_shifts(scenario, requirement(required), target=target)
    path = write_schedule(tmp_path / "schedule.yaml", schedule)
    loaded = ccsim.load_scenario(path)
    assert loaded == schedule.scenario
    shifts = {(s.start, s.length): s.headcount for s in loaded.sites[0].shifts}
    chosen = schedule.headcounts[schedule.headcounts.headcount > 0]
    assert sorted(shifts.values()) == sorted(chosen.headcount.tolist())
    assert loaded.channels["voice"].service_level == target
    assert ccsim.simulate(loaded, seed=1).kpis.offered.iloc[0] > 0


def test_candidates_keep_their_bounds():
    scenario = morning([small_site()])
    candidates = candidate_shifts(scenario, min_headcount=2, max_headcount=9)
    assert all(isinstance(c, Candidate) for c in candidates)
    assert {(c.min_headcount, c.max_headcount) for c in candidates} == {(2, 9)}
    with pytest.raises(ConfigError, match="at least min_headcount"):
        candidate_shifts(scenario, min_headcount=3, max_headcount=2)
