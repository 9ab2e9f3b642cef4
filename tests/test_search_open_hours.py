"""The search's plan pays no hour while no contact can arrive (issue #28, item 6, as the
default Erlang schedule already does): a shift that starts before opening or ends after
closing is only chosen where no shift offered fits the opening hours."""

from __future__ import annotations

import pytest

import ccsim
from ccsim.model.units import parse_duration
from ccsim.planning.search import staff_scenario
from ccsim.planning.templates import ShiftOffer

#: Open 08:00-16:00 (8 hours): an 8.5-hour shift cannot fit inside, 4- and 6-hour ones can.
PROFILE = [0] * 16 + [1] * 16 + [0] * 16
OPEN, CLOSE = 8.0, 16.0


def _day() -> ccsim.Scenario:
    return ccsim.parse_scenario(
        {
            "name": "day",
            "start": "2026-03-02T00:00",
            "horizon": "24h",
            "channels": {
                "voice": {
                    "arrivals": {"volume": 1200, "profile": PROFILE},
                    "handle_time": {"dist": "exponential", "mean": "4min"},
                    "patience": {"dist": "exponential", "mean": "3min"},
                    "service_level": {"threshold": "20s", "target": 0.8},
                }
            },
            "sites": [{"name": "floor", "agents": 1, "cost_per_hour": 20}],
        }
    )


def _closed_hours(start: str, length: str) -> float:
    """Hours of one shift outside 08:00-16:00, by hand from its start and length."""
    hours, minutes = (int(part) for part in start.split(":"))
    begin = hours + minutes / 60
    end = begin + parse_duration(length) / 3600
    return max(0.0, min(end, OPEN) - begin) + max(0.0, end - max(begin, CLOSE))


@pytest.mark.parametrize(
    ("part_time_share", "full_time_allowance"),
    # Part time unbounded: every hour fits the opening (the old plan paid 4-hour shifts from
    # 07:00 and 07:30). At most half part time: an 8.5-hour shift pays its unavoidable half
    # hour, never more, and a part-time shift none.
    [((0.0, 1.0), 0.0), ((0.0, 0.5), 0.5)],
)
def test_the_search_pays_no_hour_while_no_contact_can_arrive(part_time_share, full_time_allowance):
    offer = ShiftOffer(part_time_share=part_time_share)
    plan = staff_scenario(_day(), offer=offer, reps=2, seed=1, trim=False)
    assert plan.met
    for row in plan.headcounts.itertuples():
        allowance = 0.0 if row.part_time else full_time_allowance
        assert _closed_hours(row.start, row.length) <= allowance + 1e-9, row
