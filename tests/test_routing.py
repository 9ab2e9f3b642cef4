"""Pools and routing: identical pools act as one, disjoint pools as separate queues,
overflow thresholds, channel priorities and proficiency.

Most checks are pathwise: with common random numbers a contact keeps its arrival, handle
time and patience across scenarios, so two designs that theory says are the same queue
must give every contact exactly the same wait, not merely similar averages. The single
pool itself is validated against Erlang C/A in test_validation.py.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from conftest import channel
from conftest import scenario as build_scenario

import ccsim
from ccsim.model import ConfigError

#: Pools and routing over a 12-hour day.
scenario = partial(build_scenario, name="r", horizon="12h", source="routing.yaml")


def contacts(s, seed=5):
    frame = ccsim.simulate(s, seed=seed, record_contacts=True).contacts
    return frame.sort_values(["channel", "arrival"]).reset_index(drop=True)


VOICE = {"voice": channel("3/min")}


@pytest.mark.parametrize("policy", ["longest_idle", "preference"])
def test_two_pools_with_every_skill_are_one_pool(policy):
    one = contacts(scenario(VOICE, [{"name": "a", "agents": 11}]))
    two = contacts(
        scenario(
            VOICE,
            [{"name": "a", "agents": 6}, {"name": "b", "agents": 5}],
            {"policy": policy},
        )
    )
    assert np.array_equal(one.wait.to_numpy(), two.wait.to_numpy())
    assert (one.outcome == two.outcome).all()
    assert set(two[two.outcome == "answered"].site) == {"a", "b"}


def test_disjoint_pools_are_independent_queues():
    both = contacts(
        scenario(
            {"voice": channel("3/min"), "chat": channel("2/min", handle="4min")},
            [
                {"name": "phones", "agents": 11, "skills": ["voice"]},
                {"name": "keyboards", "agents": 10, "skills": ["chat"]},
            ],
        )
    )
    voice_alone = contacts(scenario({"voice": channel("3/min")}, [{"name": "p", "agents": 11}]))
    chat_alone = contacts(
        scenario({"chat": channel("2/min", handle="4min")}, [{"name": "k", "agents": 10}])
    )
    for alone, name in ((voice_alone, "voice"), (chat_alone, "chat")):
        mine = both[both.channel == name].reset_index(drop=True)
        assert np.array_equal(mine.wait.to_numpy(), alone.wait.to_numpy())
    kpis = ccsim.simulate(
        scenario(
            {"voice": channel("3/min"), "chat": channel("2/min", handle="4min")},
            [
                {"name": "phones", "agents": 11, "skills": ["voice"]},
                {"name": "keyboards", "agents": 10, "skills": ["chat"]},
            ],
        ),
        seed=5,
    ).kpis
    alone = ccsim.simulate(scenario({"voice": channel("3/min")}, [{"name": "p", "agents": 11}]), 5)
    assert kpis.loc["voice", "occupancy"] == alone.kpis.loc["voice", "occupancy"]


SITES = [{"name": "home", "agents": 8}, {"name": "overflow", "agents": 3}]


def test_overflow_after_zero_is_one_pool():
    routed = scenario(
        VOICE,
        SITES,
        {"policy": "preference", "overflow": {"voice": [{"site": "home"}, {"site": "overflow"}]}},
    )
    merged = scenario(VOICE, [{"name": "all", "agents": 11}])
    assert np.array_equal(contacts(routed).wait.to_numpy(), contacts(merged).wait.to_numpy())


def test_overflow_that_never_comes_leaves_the_channel_to_its_home_site():
    never = {"overflow": {"voice": [{"site": "home"}, {"site": "overflow", "after": "1000d"}]}}
    routed = contacts(scenario(VOICE, SITES, never))
    alone = contacts(scenario(VOICE, [{"name": "home", "agents": 8}]))
    assert set(routed[routed.outcome == "answered"].site) == {"home"}
    assert np.array_equal(routed.wait.to_numpy(), alone.wait.to_numpy())


def test_overflow_site_takes_only_contacts_that_waited_long_enough():
    routing = {"overflow": {"voice": [{"site": "home"}, {"site": "overflow", "after": "30s"}]}}
    routed = contacts(scenario({"voice": channel("4/min")}, SITES, routing))
    by_overflow = routed[routed.site == "overflow"]
    assert len(by_overflow) > 0
    assert (by_overflow.wait >= 30 - 1e-9).all()
    # With a second pool helping after 30 s, no contact waits longer than with home alone.
    alone = contacts(scenario({"voice": channel("4/min")}, [{"name": "home", "agents": 8}]))
    assert routed.wait.mean() < alone.wait.mean()


def test_a_free_agent_serves_the_higher_priority_channel_first():
    s = scenario(
        {"vip": channel("1.5/min", priority=1), "regular": channel("2/min")},
        [{"name": "a", "agents": 11}],
        horizon="6h",
    )
    frame = contacts(s)
    waited = frame[frame.wait > 0]
    vip = waited[waited.channel == "vip"]
    regular = waited[(waited.channel == "regular") & (waited.outcome == "answered")]
    # No regular contact was taken from the queue while a VIP contact was waiting.
    vip_start, vip_end = vip.arrival.to_numpy(), (vip.arrival + vip.wait).to_numpy()
    taken = (regular.arrival + regular.wait).to_numpy()
    inside = (taken[:, None] > vip_start[None, :]) & (taken[:, None] < vip_end[None, :])
    assert not inside.any()
    kpis = ccsim.simulate(s, seed=5).kpis
    assert kpis.loc["vip", "asa"] < kpis.loc["regular", "asa"]


def test_proficiency_multiplies_handle_times_at_that_site():
    base = contacts(scenario(VOICE, [{"name": "a", "agents": 14}]))
    slow = contacts(scenario(VOICE, [{"name": "a", "agents": 14, "proficiency": {"voice": 1.5}}]))
    both = base.merge(slow, on="arrival", suffixes=("", "_slow"))
    both = both[(both.outcome == "answered") & (both.outcome_slow == "answered")]
    assert len(both) > 1000
    assert np.allclose(both.handle_time_slow / both.handle_time, 1.5)


@pytest.mark.parametrize(
    ("sites", "routing", "path", "words"),
    [
        ([{"name": "a", "agents": 3, "skills": ["fax"]}], None, "sites.0.skills", "no channel"),
        (
            [{"name": "a", "agents": 3, "proficiency": {"fax": 2}}],
            None,
            "sites.0.proficiency",
            "no channel",
        ),
        (
            [{"name": "a", "agents": 3, "proficiency": {"voice": 0}}],
            None,
            "sites.0.proficiency.voice",
            "greater than 0",
        ),
        ([{"name": "a", "agents": 3, "skills": []}], None, "channels.voice", "no site"),
        (
            [{"name": "a", "agents": 3}],
            {"overflow": {"voice": [{"site": "b"}]}},
            "routing.overflow.voice.0.site",
            "no site 'b'",
        ),
        (
            [{"name": "a", "agents": 3}],
            {"overflow": {"fax": []}},
            "routing.overflow.fax",
            "no channel",
        ),
        (
            [{"name": "a", "agents": 3}, {"name": "b", "agents": 2, "skills": []}],
            {"overflow": {"voice": [{"site": "a"}, {"site": "b"}]}},
            "routing.overflow.voice.1.site",
            "no agent for voice",
        ),
        ([{"name": "a", "agents": 3}], {"policy": "fastest"}, "routing.policy", "longest_idle"),
    ],
)
def test_bad_routing_names_the_field(sites, routing, path, words):
    with pytest.raises(ConfigError) as info:
        scenario(VOICE, sites, routing)
    assert info.value.path == path, info.value
    assert words in info.value.message
