"""Reporting intervals on the customers' wall clock, across daylight-saving changes.

Expected instants are worked out by hand from the offsets: New York is UTC-5 in winter and
UTC-4 in summer (2026: summer time from 8 March 02:00 to 1 November 02:00); Manila is UTC+8
all year.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import channel
from conftest import scenario_data as base_data

import ccsim
from ccsim.model import ConfigError
from ccsim.model.calendar import Calendar

HOUR = 3600.0


def test_spring_forward_day_has_23_hours_of_intervals():
    calendar = Calendar(datetime(2026, 3, 8), "America/New_York", 2 * 86400 - HOUR, 3600)
    day = [s for s in calendar.slots if s.day == 0]
    assert len(day) == 23
    labels = [s.local_start.strftime("%H:%M") for s in day]
    assert "02:00" not in labels  # that hour does not exist on 8 March
    # 03:00 EDT is 07:00 UTC; midnight EST was 05:00 UTC: two hours after the start.
    three = next(s for s in day if s.local_start.hour == 3)
    assert three.start == 2 * HOUR and three.slot == 3
    assert calendar.slots[23].local_start.isoformat() == "2026-03-09T00:00:00-04:00"
    assert calendar.uniform  # hour intervals are still an hour long each


def test_fall_back_day_has_25_hours_and_the_repeated_hour_twice():
    calendar = Calendar(datetime(2026, 11, 1), "America/New_York", 25 * HOUR, 1800)
    assert len(calendar.slots) == 50
    one_am = [s for s in calendar.slots if s.local_start.strftime("%H:%M") == "01:00"]
    assert [s.start / HOUR for s in one_am] == [1.0, 2.0]  # 01:00 EDT, then 01:00 EST
    assert [s.local_start.utcoffset().total_seconds() / HOUR for s in one_am] == [-4, -5]
    assert {s.slot for s in one_am} == {2}  # both use the profile weight of 01:00-01:30


def test_intervals_of_a_site_in_manila_do_not_shift():
    calendar = Calendar(datetime(2026, 3, 7, 21, 0), "Asia/Manila", 2 * 86400, 1800)
    assert calendar.uniform and len(calendar.slots) == 96
    assert calendar.slots[0].local_start.isoformat() == "2026-03-07T21:00:00+08:00"
    assert calendar.slots[6].slot == 0  # 21:00 + 3 h = 00:00, the first slot of the next day
    assert calendar.slots[6].day == 1 and calendar.slots[6].local_start.hour == 0


def test_index_finds_the_interval_of_any_instant_across_a_change():
    # 15-minute intervals with a start at 23:00: around the autumn change the instants of the
    # wall clock are not multiples of 15 minutes from the start only by accident of offsets,
    # so check the lookup against the slots themselves.
    calendar = Calendar(datetime(2026, 10, 31, 23, 0), "America/New_York", 6 * HOUR, 900)
    for slot in calendar.slots:
        assert calendar.index(slot.start) == slot.index
        assert calendar.index((slot.start + slot.end) / 2) == slot.index


def scenario_data(**fields) -> dict:
    """A small one-channel scenario; ``fields`` set or replace top-level keys."""
    voice = channel("60/h", "2min", patience=None)
    return base_data({"voice": voice}, [{"name": "main", "agents": 5}], horizon="8h", **fields)


def test_interval_kpis_are_labelled_in_customer_time():
    scenario = ccsim.parse_scenario(
        scenario_data(start="2026-03-07 22:00", timezone="America/New_York", interval="1h")
    )
    labels = list(ccsim.simulate(scenario, seed=1).interval_kpis.local_start)
    assert labels[:2] == ["2026-03-07T22:00:00-05:00", "2026-03-07T23:00:00-05:00"]
    assert "2026-03-08T03:00:00-04:00" in labels
    assert not any("T02:00" in label for label in labels)
    assert len(labels) == 8


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("timezone", "America/Gotham", "unknown IANA time zone"),
        ("start", "2026-03-07 22:10", "boundary"),
        ("start", "2026-03-07T22:00:00+01:00", "without offset"),
        ("start", "yesterday", "datetime"),
    ],
)
def test_bad_calendar_fields(field, value, words):
    data = scenario_data(**{field: value})
    with pytest.raises(ConfigError) as info:
        ccsim.parse_scenario(data, source="s.yaml")
    assert info.value.path == field and words in info.value.message
