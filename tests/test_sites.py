"""Sites across time zones: shifts laid on the customers' clock, breaks, shrinkage, overrun,
labour cost with a night differential, and the cheapest-agent policy.

Expected values are worked out by hand in each test from the offsets the IANA database
gives (stated in comments), not taken from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import channel
from conftest import scenario as build_scenario

import ccsim
from ccsim.model import ConfigError

HOUR = 3600.0
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def scenario(sites, channels=None, **fields):
    """A day from Monday 2 March 2026 on New York's clock, one voice channel by default."""
    day = {"horizon": "1d", "start": "2026-03-02T00:00", "timezone": "America/New_York"}
    fields = day | {"interval": "30min"} | fields
    return build_scenario(
        channels or {"voice": channel()}, sites, name="sites", source="sites.yaml", **fields
    )


def site_rows(result, site="all"):
    """Interval KPIs of the channel 'voice' (site 'all') indexed by local start time."""
    frame = result.interval_kpis
    frame = frame[(frame.channel == "voice") & (frame.site == site)]
    return frame.set_index("local_start")


# --- shifts on the customers' clock ---------------------------------------------------------


def test_manila_night_shift_moves_an_hour_on_the_new_york_clock_after_the_change():
    # Manila is UTC+8 all year. New York is UTC-5 until Sunday 8 March 2026 02:00 and UTC-4
    # after. A Manila shift 21:00-06:00 starting Monday 2 March is 13:00-22:00 UTC, so
    # 08:00-17:00 in New York; the same shift starting Monday 9 March is 09:00-18:00.
    manila = {
        "name": "manila",
        "timezone": "Asia/Manila",
        "shifts": [{"start": "21:00", "length": "9h", "headcount": 7, "days": WEEKDAYS}],
    }
    result = ccsim.simulate(scenario([manila], horizon="14d"), seed=1)
    rows = site_rows(result)
    scheduled = rows.scheduled_agents
    for day, offset in (("2026-03-02", "-05:00"), ("2026-03-06", "-05:00")):
        on = [f"{day}T{h:02d}:{m:02d}:00{offset}" for h in range(8, 17) for m in (0, 30)]
        off = [f"{day}T07:30:00{offset}", f"{day}T17:00:00{offset}"]
        assert (scheduled.loc[on] == 7).all() and (scheduled.loc[off] == 0).all()
    for day in ("2026-03-09", "2026-03-13"):
        on = [f"{day}T{h:02d}:{m:02d}:00-04:00" for h in range(9, 18) for m in (0, 30)]
        off = [f"{day}T08:30:00-04:00", f"{day}T18:00:00-04:00"]
        assert (scheduled.loc[on] == 7).all() and (scheduled.loc[off] == 0).all()
    # Weekends (Manila Saturday and Sunday nights) have nobody.
    assert (scheduled[scheduled.index.str.startswith("2026-03-07")] == 0).all()
    # Two weeks of five 9-hour shifts of 7 agents, in agent-seconds.
    assert result.tallies["voice"].scheduled_time == pytest.approx(10 * 9 * HOUR * 7)


def test_a_shift_spanning_the_change_in_its_own_zone_lasts_its_length():
    # A New York site's shift from 00:00 on 8 March lasts 8 elapsed hours: the clocks skip
    # 02:00-03:00, so it ends at 09:00 local time (13:00 UTC).
    night = {
        "name": "ny",
        "shifts": [{"start": "00:00", "length": "8h", "headcount": 3, "days": ["sun"]}],
    }
    result = ccsim.simulate(scenario([night], horizon="1d", start="2026-03-08T00:00"), seed=1)
    scheduled = site_rows(result).scheduled_agents
    assert scheduled.loc["2026-03-08T08:30:00-04:00"] == 3
    assert scheduled.loc["2026-03-08T09:00:00-04:00"] == 0
    assert "2026-03-08T02:00:00-05:00" not in scheduled.index  # the skipped hour
    assert result.tallies["voice"].scheduled_time == pytest.approx(8 * HOUR * 3)


def test_constant_agents_are_one_shift_that_never_ends():
    result = ccsim.simulate(scenario([{"name": "a", "agents": 5}], horizon="6h"), seed=2)
    tally = result.tallies["voice"]
    assert tally.scheduled_time == pytest.approx(5 * 6 * HOUR)
    assert tally.staffed_time == pytest.approx(5 * 6 * HOUR)
    assert tally.overrun_time == 0 and tally.carried_over == 0


# --- breaks, shrinkage, overrun ------------------------------------------------------------


def test_breaks_take_agents_off_the_floor_in_turn():
    # Four agents, 8 h, one 30-minute break each spread over the hour after 04:00. With
    # almost no contacts nobody is busy when a break is due, so agents are logged on for
    # 4 x (8 h - 30 min).
    shift = {
        "start": "00:00",
        "length": "8h",
        "headcount": 4,
        "breaks": [{"after": "4h", "length": "30min", "within": "1h"}],
    }
    result = ccsim.simulate(
        scenario(
            [{"name": "a", "shifts": [shift]}],
            horizon="8h",
            channels={"voice": channel(rate="1/h", handle="1s")},
        ),
        seed=3,
    )
    rows = site_rows(result)
    assert result.tallies["voice"].staffed_time == pytest.approx(4 * 7.5 * HOUR)
    # Agent i is away from 04:00 + 15 min * i for 30 minutes. In 04:00-04:30 agents 0 and 1
    # are away 30 + 15 minutes (1.5 agents on average), in 04:30-05:00 agents 1, 2 and 3
    # 15 + 30 + 15 minutes (2 agents), in 05:00-05:30 agent 3 for 15 minutes (0.5).
    available = rows.available_agents
    assert available.loc["2026-03-02T03:30:00-05:00"] == pytest.approx(4)
    assert available.loc["2026-03-02T04:00:00-05:00"] == pytest.approx(2.5)
    assert available.loc["2026-03-02T04:30:00-05:00"] == pytest.approx(2.0)
    assert available.loc["2026-03-02T05:00:00-05:00"] == pytest.approx(3.5)


def test_shrinkage_removes_its_share_of_agents_on_average():
    shift = {"start": "00:00", "length": "4h", "headcount": 7}
    site = {"name": "a", "shifts": [shift], "shrinkage": 0.3}
    available = [
        ccsim.simulate(scenario([site], horizon="4h"), seed=s).tallies["voice"].staffed_time
        / (4 * HOUR)
        for s in range(200)
    ]
    # 7 x 0.7 = 4.9: 4 or 5 agents, 5 with probability 0.9 (rounding at random).
    assert set(np.round(available, 9)) == {4.0, 5.0}
    assert np.mean(available) == pytest.approx(4.9, abs=3 * np.sqrt(0.09 / 200))


def test_an_agent_finishes_the_contact_in_hand_and_the_overrun_is_paid():
    # Shift 18:00-03:00 local (UTC here), 2 agents at 10 an hour, an unpaid hour of lunch
    # at 22:00, a 10% night differential for 22:00-06:00. Each agent is paid 8 h, 4 of them
    # (23:00-03:00) at night: 10 * 8 + 10 * 0.1 * 4 = 84. After 03:00 the agents finish the
    # contact in hand: every minute of it is paid at night rate, 10 * 1.1 an hour.
    shift = {
        "start": "18:00",
        "length": "9h",
        "headcount": 2,
        "breaks": [{"after": "4h", "length": "1h", "paid": False}],
    }
    site = {
        "name": "a",
        "timezone": "UTC",
        "cost_per_hour": 10,
        "night_differential": {"start": "22:00", "end": "06:00", "premium": 0.1},
        "shifts": [shift],
    }
    s = scenario(
        [site],
        horizon="12h",
        start="2026-03-02T17:00",
        timezone="UTC",
        channels={
            "voice": channel(rate="8/h", handle="40min", patience=None, dist="deterministic")
        },
    )
    for seed in range(5):
        result = ccsim.simulate(s, seed=seed, record_contacts=True)
        contacts = result.contacts
        answered = contacts[contacts.outcome == "answered"]
        begin = answered.arrival + answered.wait
        finish = begin + answered.handle_time
        shift_end = 10 * HOUR  # 03:00 is 10 h after the 17:00 start
        overrun = (finish[(begin < shift_end) & (finish > shift_end)] - shift_end).sum()
        tally = result.tallies["voice"]
        assert tally.overrun_time == pytest.approx(overrun)
        assert tally.labour_cost == pytest.approx(2 * 84 + 10 * 1.1 * overrun / HOUR)
        kpis = result.kpis.loc["voice"]
        assert kpis.cost_per_handled_contact == pytest.approx(tally.labour_cost / len(answered))
        # Nobody starts a contact after the shift; what still waits is carried over.
        assert (begin < shift_end).all()
        assert tally.offered == tally.answered + tally.abandoned + tally.carried_over
        assert tally.carried_over > 0


def test_busy_time_never_exceeds_logged_on_time():
    shift = {
        "start": "06:00",
        "length": "8h",
        "headcount": 6,
        "breaks": [
            {"after": "2h", "length": "15min", "within": "30min"},
            {"after": "4h", "length": "30min", "paid": False},
        ],
    }
    s = scenario(
        [{"name": "a", "shifts": [shift, {**shift, "start": "10:00"}]}],
        channels={"voice": channel(rate="4/min")},
    )
    result = ccsim.simulate(s, seed=4)
    for tallies in result.interval_tallies.values():
        for tally in tallies:
            assert tally.busy_time <= tally.staffed_time + 1e-6
    tally = result.tallies["voice"]
    assert tally.offered == tally.answered + tally.abandoned + tally.carried_over


# --- routing by cost --------------------------------------------------------------------


def test_cheapest_policy_uses_the_dearer_site_only_when_the_cheaper_is_busy():
    sites = [
        {"name": "dear", "agents": 1, "cost_per_hour": 40},
        {"name": "cheap", "agents": 1, "cost_per_hour": 12},
    ]
    s = scenario(
        sites,
        horizon="12h",
        routing={"policy": "cheapest"},
        channels={"voice": channel(rate="20/h")},
    )
    contacts = ccsim.simulate(s, seed=6, record_contacts=True).contacts
    answered = contacts[contacts.outcome == "answered"]
    begin = (answered.arrival + answered.wait).to_numpy()
    finish = begin + answered.handle_time.to_numpy()
    cheap = answered.site.to_numpy() == "cheap"
    for t in begin[~cheap]:
        assert ((begin[cheap] <= t) & (finish[cheap] > t)).any(), "cheap agent was free"
    assert cheap.mean() > 0.6


def test_site_rows_split_the_channel_and_the_cost_adds_up():
    sites = [
        {"name": "onshore", "agents": 6, "cost_per_hour": 38, "location": "onshore"},
        {
            "name": "offshore",
            "agents": 8,
            "cost_per_hour": 13,
            "location": "offshore",
            "skills": ["voice"],
        },
    ]
    chat = {**channel(rate="1/min", handle="8min"), "patience": None}
    s = scenario(sites, horizon="8h", channels={"voice": channel(rate="3/min"), "chat": chat})
    result = ccsim.simulate(s, seed=7)
    totals = result.totals
    voice, chat_ = totals[("voice", "all")], totals[("chat", "all")]
    everyone = totals[("all", "all")]
    assert everyone.labour_cost == pytest.approx((6 * 38 + 8 * 13) * 8)
    assert voice.labour_cost + chat_.labour_cost == pytest.approx(everyone.labour_cost)
    assert ("chat", "offshore") not in totals  # no skill, no row
    assert totals[("voice", "onshore")].answered + totals[("voice", "offshore")].answered == (
        voice.answered
    )
    assert totals[("all", "offshore")].labour_cost == pytest.approx(8 * 13 * 8)
    kpis = result.site_kpis
    assert np.isnan(kpis.loc[("voice", "onshore"), "service_level"])  # no abandons per site
    assert kpis.loc[("all", "offshore"), "available_agents"] == pytest.approx(8)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "routing", "path", "message"),
    [
        ({"name": "a", "agents": 3, "shifts": []}, None, "sites.0", "either"),
        ({"name": "a"}, None, "sites.0", "either"),
        (
            {"name": "a", "shifts": [{"start": "25:00", "length": "8h", "headcount": 2}]},
            None,
            "sites.0.shifts.0.start",
            "HH:MM",
        ),
        (
            {
                "name": "a",
                "shifts": [{"start": "08:00", "length": "8h", "headcount": 2, "days": ["monday"]}],
            },
            None,
            "sites.0.shifts.0.days",
            "unknown weekday",
        ),
        (
            {
                "name": "a",
                "shifts": [
                    {
                        "start": "08:00",
                        "length": "8h",
                        "headcount": 2,
                        "breaks": [{"after": "7h", "length": "2h"}],
                    }
                ],
            },
            None,
            "sites.0.shifts.0.breaks.0",
            "ends after the shift",
        ),
        (
            {"name": "a", "agents": 3, "timezone": "Mars/Olympus"},
            None,
            "sites.0.timezone",
            "unknown IANA time zone",
        ),
        ({"name": "a", "agents": 3, "shrinkage": 1.2}, None, "sites.0.shrinkage", "less than 1"),
        ({"name": "a", "agents": 3, "location": "moon"}, None, "sites.0.location", "onshore"),
        ({"name": "a", "agents": 3}, {"policy": "cheapest"}, "routing.policy", "cost_per_hour"),
    ],
)
def test_bad_site_input_names_the_field(site, routing, path, message):
    with pytest.raises(ConfigError) as error:
        scenario([site], routing=routing)
    assert error.value.path == path
    assert message in error.value.message


def test_a_time_of_day_may_be_written_without_quotes(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nhorizon: 1d\nchannels:\n  voice:\n    arrivals: {rate: 1/min}\n"
        "    handle_time: {dist: exponential, mean: 3min}\n"
        "    service_level: {threshold: 20s, target: 0.8}\n"
        "sites:\n  - name: a\n    shifts: [{start: 21:00, length: 9h, headcount: 4}]\n"
    )
    shift = ccsim.load_scenario(path).sites[0].shifts[0]
    assert shift.start == "21:00" and shift.start_minute == 21 * 60
