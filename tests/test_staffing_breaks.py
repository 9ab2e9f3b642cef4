"""Breaks of the planned shifts (issue #28, item 3): the standard rules placed by shift length
whatever way the site was built, lunch not counted as covered, and the plan's pay equal to
the pay the simulation books for the same schedule, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

import ccsim
from ccsim.model import Shift
from ccsim.planning.planner import Planner
from ccsim.planning.targets import Targets
from ccsim.planning.templates import STANDARD_BREAK_RULES, ShiftOffer, with_break_rules
from ccsim.sim.shifts import PayScale, roster, schedule_tallies

HOUR = 3600.0


def _morning(cost: float = 20.0) -> ccsim.Scenario:
    """One Monday, 06:00 to 20:00: voice, one site with a placeholder staffing."""
    return ccsim.parse_scenario(
        {
            "name": "day",
            "start": "2026-03-02T06:00",
            "horizon": "14h",
            "channels": {
                "voice": {
                    "arrivals": {"rate": "60/h"},
                    "handle_time": {"dist": "exponential", "mean": "3min"},
                    "service_level": {"threshold": "20s", "target": 0.8},
                }
            },
            "sites": [{"name": "floor", "agents": 1, "cost_per_hour": cost}],
        }
    )


#: Shift length -> (number of breaks, unpaid minutes) under the standard rules.
EXPECTED = {4: (1, 0), 5: (1, 0), 6: (2, 0), 7.5: (2, 0), 8: (3, 30), 8.5: (3, 30), 10: (3, 30)}


@pytest.mark.parametrize("hours", sorted(EXPECTED))
def test_standard_rules_place_breaks_by_shift_length(hours):
    site = with_break_rules(_morning()).sites[0]
    breaks = site.shift_breaks(Shift(start="08:00", length=hours * HOUR, headcount=1))
    count, unpaid = EXPECTED[hours]
    assert len(breaks) == count
    assert sum(b.length for b in breaks if not b.paid) == unpaid * 60
    # The rules are kept longest-last, as a validated site orders them.
    assert [r.at_least for r in site.breaks] == sorted(r.at_least for r in STANDARD_BREAK_RULES)


def test_the_longest_fitting_rule_applies_whatever_the_order_of_the_rules():
    longest_first = sorted(STANDARD_BREAK_RULES, key=lambda rule: -rule.at_least)
    site = _morning().sites[0].model_copy(update={"breaks": longest_first})
    breaks = site.shift_breaks(Shift(start="08:00", length=8.5 * HOUR, headcount=1))
    assert len(breaks) == 3 and any(not b.paid for b in breaks)
    assert site.shift_breaks(Shift(start="08:00", length=3 * HOUR, headcount=1)) == []


def _planner() -> Planner:
    scenario = _morning()
    offer = ShiftOffer(part_time=(4 * HOUR, 6 * HOUR), step=HOUR, part_time_share=(0.0, 1.0))
    return Planner(scenario, Targets.of(scenario), offer)


def _template(planner: Planner, start: str, hours: float) -> int:
    return next(
        j
        for j, c in enumerate(planner.candidates)
        if c.shift.start == start and c.shift.length == hours * HOUR
    )


def test_coverage_leaves_out_lunch_and_breaks():
    planner = _planner()
    j = _template(planner, "08:00", 8.5)
    # 8.5 h on shift; two 15-minute breaks and a 30-minute lunch off the floor: 7.5 h covered.
    slots = planner.calendar.slots
    lengths = np.array([s.end - s.start for s in slots])
    assert float(planner.templates[j].on_shift @ lengths) == pytest.approx(8.5 * HOUR)
    assert float(planner.coverage[j] @ lengths) == pytest.approx(7.5 * HOUR)
    # The lunch, staggered over 12:00-13:30, takes its expected share of those intervals.
    k = next(i for i, s in enumerate(slots) if s.local_start.hour == 12)
    assert planner.coverage[j][k] < 1.0


def test_plan_pay_equals_the_simulated_scheduled_pay_by_hand():
    planner = _planner()
    x = np.zeros(len(planner.candidates))
    x[_template(planner, "07:00", 8.5)] = 3  # 8 paid hours each (unpaid lunch)
    x[_template(planner, "09:00", 6)] = 2  # 6 paid hours each
    x[_template(planner, "14:00", 4)] = 1  # 4 paid hours
    by_hand = 20.0 * (3 * 8 + 2 * 6 + 1 * 4)
    assert float(planner.costs @ x) == pytest.approx(by_hand)
    assert float(planner.paid @ x) == pytest.approx(3 * 8 + 2 * 6 + 4)
    staffed = planner.build(x)
    site = staffed.sites[0]
    calendar = staffed.calendar()
    _, pay = schedule_tallies(
        roster(site, calendar), PayScale(site, calendar, 2 * 86400), calendar, 0.0
    )
    assert sum(pay) == pytest.approx(by_hand)
