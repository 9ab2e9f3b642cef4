"""Channels, AI deflection and tiers: checked against theory where it exists (Erlang B for
blocked calls, Erlang C for chats held one or two at a time), against the configured
probabilities within confidence intervals, and by exact conservation of every outcome.

Tolerances come from the replications' own 99.9% intervals (several comparisons per test).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from conftest import OUTCOMES, exponential, service_level
from conftest import scenario as build_scenario

import ccsim
from ccsim.experiment.stats import mean_ci, ratio_ci
from ccsim.theory.erlang import erlang_b, erlang_c_performance

LEVEL = 0.999


#: Channels in a 20-hour day that starts empty.
scenario = partial(build_scenario, name="c", horizon="20h", warmup="0s", source="channels.yaml")


def replications(s, reps, seed=11):
    return ccsim.run_replications(s, reps, seed=seed)


def whole(table, channel):
    return table[(table.channel == channel) & (table.site == "all")]


def contains(estimate, value):
    return estimate.low <= value <= estimate.high


# --- theory ---------------------------------------------------------------------------


def test_voice_with_as_many_lines_as_agents_blocks_as_erlang_b():
    # No waiting room: an M/M/n/n loss system; P(blocked) = B(n, a) (insensitive to the
    # handle-time distribution, but exponential here anyway).
    n, rate, aht = 8, 6 / 60, 60.0
    s = scenario(
        {
            "voice": {
                "arrivals": {"rate": "6/min"},
                "handle_time": exponential("1min"),
                "service_level": service_level(),
                "lines": n,
            }
        },
        [{"name": "a", "agents": n}],
        horizon="30h",
        warmup="1h",
    )
    table = whole(replications(s, 20), "voice")
    estimate = ratio_ci(table.blocked, table.offered, LEVEL)
    exact = erlang_b(n, rate * aht)
    assert contains(estimate, exact), (estimate, exact)
    assert estimate.half_width < 0.1 * exact
    assert (table.abandoned == 0).all() and (table.waited == 0).all()


@pytest.mark.parametrize("concurrency", [1, 2])
def test_chats_held_at_once_without_stretch_are_erlang_c_with_one_server_per_slot(concurrency):
    # An agent holding up to c chats with no slow-down is c servers: M/M/(c n).
    n, rate, aht = 5, 8 / 60, 60.0
    s = scenario(
        {
            "chat": {
                "kind": "chat",
                "arrivals": {"rate": "8/min"},
                "handle_time": exponential("1min"),
                "service_level": service_level("20s"),
                "concurrency": concurrency,
            }
        },
        [{"name": "a", "agents": 10 // concurrency}],
        horizon="40h",
        warmup="2h",
    )
    assert n * 2 == 10
    table = whole(replications(s, 20), "chat")
    exact = erlang_c_performance(rate, aht, 10, 20.0)
    for kpi, value in (
        ("p_wait", exact.p_wait),
        ("service_level", exact.service_level),
        ("asa", exact.asa),
    ):
        numerator, denominator = ccsim.sim.metrics.RATIO_KPIS[kpi]
        estimate = ratio_ci(
            table[list(numerator)].sum(axis=1), table[list(denominator)].sum(axis=1), LEVEL
        )
        assert contains(estimate, value), (kpi, estimate, value)


def test_stretch_slows_each_chat_by_the_chats_already_held():
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "12/min"},
        "handle_time": {"dist": "deterministic", "value": "2min"},
        "service_level": service_level("60s"),
        "concurrency": 3,
        "stretch": 0.25,
    }
    result = ccsim.simulate(scenario({"chat": chat}, [{"name": "a", "agents": 10}]), seed=3)
    tally = result.tallies["chat"]
    # Every chat lasts 120 s x (1 + 0.25 k), k = 0, 1 or 2 chats already held.
    aht = tally.handle_time / tally.answered
    assert 120.0 < aht < 120.0 * 1.5
    contacts = ccsim.simulate(
        scenario({"chat": chat}, [{"name": "a", "agents": 10}]), seed=3, record_contacts=True
    ).contacts
    lengths = np.unique(np.round(contacts.handle_time.dropna(), 6))
    assert set(lengths) <= {120.0, 150.0, 180.0} and 150.0 in lengths


# --- the bot --------------------------------------------------------------------------


BOT = {
    "share": 0.8,
    "handle_time": exponential("2min"),
    "containment": 0.3,
    "false_containment": 0.1,
    "return_delay": exponential("1h"),
    "handle_time_multiplier": 1.2,
    "patience_multiplier": 0.5,
    "cost_per_session": 1.0,
    "cost_per_minute": 0.5,
}


def test_the_bot_contains_its_configured_share_and_costs_what_it_says():
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "6/min"},
        "handle_time": exponential("4min"),
        "patience": exponential("5min"),
        "service_level": service_level("60s"),
        "bot": BOT,
    }
    table = whole(replications(scenario({"chat": chat}, [{"name": "a", "agents": 20}]), 20), "chat")
    tried = ratio_ci(table.bot_sessions, table.customers, LEVEL)
    contained = ratio_ci(table.contained, table.bot_sessions, LEVEL)
    assert contains(tried, 0.8) and contains(contained, 0.4)
    cost = table.bot_sessions * 1.0 + table.bot_time / 60 * 0.5
    assert np.allclose(table.bot_cost, cost)


def test_falsely_contained_customers_come_back_after_the_return_delay():
    # Every bot session is falsely contained after 1 s; customers return 1799 s later, 30
    # minutes after they arrived: the repeat contacts of each half hour are the contained
    # of the one before.
    bot = {
        "handle_time": {"dist": "deterministic", "value": "1s"},
        "containment": 0.0,
        "false_containment": 1.0,
        "return_delay": {"dist": "deterministic", "value": "1799s"},
    }
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "2/min"},
        "handle_time": exponential("3min"),
        "service_level": service_level("60s"),
        "bot": bot,
    }
    result = ccsim.simulate(
        scenario({"chat": chat}, [{"name": "a", "agents": 10}], horizon="6h"), seed=4
    )
    rows = result.interval_tallies[("chat", "all")]
    contained = [t.contained for t in rows]
    repeats = [t.repeat_contacts for t in rows]
    assert repeats[0] == 0 and repeats[1:] == contained[:-1]
    assert sum(t.customers for t in rows) == sum(contained)
    assert sum(t.resolutions for t in rows) == sum(t.answered for t in rows)  # by humans only


def test_a_handed_over_contact_keeps_the_multipliers():
    bot = {**BOT, "containment": 0.0, "false_containment": 0.0, "share": 1.0}
    base = {
        "arrivals": {"rate": "3/min"},
        "handle_time": exponential("3min"),
        "service_level": service_level(),
    }
    plain = whole(replications(scenario({"v": base}, [{"name": "a", "agents": 30}]), 10), "v")
    botted = whole(
        replications(scenario({"v": {**base, "bot": bot}}, [{"name": "a", "agents": 30}]), 10), "v"
    )
    # Common random numbers: the same handle-time draws, times 1.2.
    assert (botted.handle_time / botted.answered).mean() == pytest.approx(
        1.2 * (plain.handle_time / plain.answered).mean(), rel=0.02
    )


# --- tiers, resolution, repeats ------------------------------------------------------------


def tiers(resolution=0.0, repeat=None, **tier1):
    return {
        "voice": {
            "arrivals": {"rate": "4/min"},
            "handle_time": exponential("3min"),
            "patience": exponential("3min"),
            "service_level": service_level(),
            "resolution": resolution,
            "escalation": "tier2",
            **({"repeat": repeat} if repeat else {}),
            **tier1,
        },
        "tier2": {
            "handle_time": exponential("6min"),
            "patience": exponential("10min"),
            "service_level": service_level(),
            "priority": 1,
            "resolution": 0.8,
            "escalation": "specialist",
        },
        "specialist": {
            "handle_time": exponential("10min"),
            "service_level": service_level("60s"),
            "priority": 2,
        },
    }


SITES = [
    {"name": "t1", "agents": 16, "skills": ["voice"]},
    {"name": "t2", "agents": 30, "skills": ["tier2"]},
    {"name": "spec", "agents": 12, "skills": ["specialist"]},
]


def test_with_every_contact_escalated_tier_2_sees_exactly_tier_1s_answered():
    for seed in range(3):
        totals = ccsim.simulate(scenario(tiers(0.0), SITES, horizon="8h"), seed=seed).tallies
        assert totals["tier2"].offered == totals["voice"].answered == totals["voice"].escalated
        assert totals["tier2"].transfers_in == totals["tier2"].offered
        assert totals["specialist"].offered == totals["tier2"].escalated


def test_first_contact_resolution_follows_the_site_that_answered():
    channels = tiers(0.7)
    sites = [
        {"name": "near", "agents": 8, "skills": ["voice"], "resolution": {"voice": 0.6}},
        {"name": "home", "agents": 8, "skills": ["voice"]},
        *SITES[1:],
    ]
    table = replications(scenario(channels, sites, horizon="12h"), 12)
    for site, r in (("near", 0.6), ("home", 0.7)):
        rows = table[(table.channel == "voice") & (table.site == site)]
        assert contains(ratio_ci(rows.resolved, rows.answered, LEVEL), r)
    voice = whole(table, "voice")
    resolution_time = voice.resolution_time.sum() / voice.resolutions.sum()
    assert resolution_time > 3 * 60  # at least a handle time, plus waits and tiers


def test_unresolved_customers_come_back_as_repeat_contacts():
    channels = {
        "voice": {
            "arrivals": {"rate": "3/min"},
            "handle_time": exponential("3min"),
            "service_level": service_level(),
            "resolution": 0.6,
            "repeat": {"probability": 0.5, "delay": exponential("20min")},
        }
    }
    table = whole(replications(scenario(channels, [{"name": "a", "agents": 14}]), 15), "voice")
    # Repeats per unresolved contact: the probability, less the returns due after the end.
    share = ratio_ci(table.repeat_contacts, table.unresolved, LEVEL)
    assert share.high > 0.45 and share.low < 0.5
    fcr = ratio_ci(table.first_contact_resolutions, table.customers, LEVEL)
    assert contains(fcr, 0.6)


# --- retrials, call backs, email, silent abandonment ------------------------------------


def test_blocked_and_abandoning_callers_retry():
    voice = {
        "arrivals": {"rate": "10/min"},
        "handle_time": exponential("1min"),
        "patience": exponential("1min"),
        "service_level": service_level(),
        "lines": 10,
        "retrial": {"probability": 0.5, "delay": exponential("5min")},
    }
    t = ccsim.simulate(scenario({"voice": voice}, [{"name": "a", "agents": 8}]), seed=5).tallies
    voice_t = t["voice"]
    assert voice_t.retrials > 0 and voice_t.blocked > 0
    assert voice_t.retrials <= voice_t.blocked + voice_t.abandoned
    assert voice_t.customers + voice_t.retrials == voice_t.offered


def test_call_backs_leave_the_queue_and_are_called_back_before_the_deadline():
    voice = {
        "arrivals": {"rate": "12/min"},
        "handle_time": exponential("1min"),
        "patience": exponential("4min"),
        "service_level": service_level(),
        "callback": {"threshold": "1min", "acceptance": 0.6, "deadline": "2h"},
    }
    t = ccsim.simulate(
        scenario({"voice": voice}, [{"name": "a", "agents": 11}], horizon="8h"), seed=6
    ).tallies
    assert t["voice"].callbacks > 0
    back = t["voice:callback"]
    assert back.offered == t["voice"].callbacks
    assert back.offered == back.answered + back.abandoned + back.carried_over
    assert back.wait_answered / back.answered < 2 * 3600


def test_email_items_carry_over_between_days_and_none_is_lost():
    # Email arrives round the clock; one day shift works it. Open items carry over night.
    email = {
        "kind": "email",
        "arrivals": {"rate": "20/h"},
        "handle_time": exponential("7min"),
        "service_level": service_level("24h"),
    }
    site = {"name": "a", "shifts": [{"start": "08:00", "length": "8h", "headcount": 3}]}
    s = scenario({"email": email}, [site], horizon="3d", timezone="UTC")
    for seed in range(3):
        result = ccsim.simulate(s, seed=seed, record_contacts=True)
        rows = result.interval_tallies[("email", "all")]
        tally = result.tallies["email"]
        assert tally.offered == tally.answered + tally.carried_over
        assert tally.abandoned == 0
        assert tally.backlog == tally.carried_over == rows[-1].backlog
        # Backlog grows overnight (no agents) and falls during the shift.
        backlog = [t.backlog for t in rows]
        assert backlog[15] > backlog[0] and backlog[31] < backlog[15]
        # The level at each interval's end: arrived so far less taken so far.
        answered = result.contacts[result.contacts.outcome == "answered"]
        taken = ((answered.arrival + answered.wait) // 1800).astype(int)
        taken = np.bincount(taken, minlength=len(rows))[: len(rows)]
        assert backlog == list(np.cumsum([t.offered for t in rows]) - np.cumsum(taken))
        assert 0 < result.kpis.loc["email", "within_target"] <= 1


@pytest.mark.parametrize(("agents", "share", "kept"), [(10, 0.05, 1), (20, 0.1, 2), (20, 0.12, 3)])
def test_a_deferred_reserve_keeps_its_share_of_agents_free_of_email(agents, share, kept):
    # Email only, far more than the agents can work: without a reserve every agent is busy
    # all day; with one, exactly ceil(share x agents) stay idle once the backlog builds, so
    # occupancy is (agents - kept) / agents exactly (nothing live takes the idle ones).
    email = {
        "kind": "email",
        "arrivals": {"rate": "600/h"},
        "handle_time": exponential("5min"),
        "service_level": service_level("24h"),
    }
    for reserve, idle in ((0.0, 0), (share, kept)):
        site = {"name": "a", "agents": agents, "deferred_reserve": reserve}
        s = scenario({"email": email}, [site], horizon="10h", warmup="1h")
        t = ccsim.simulate(s, seed=3).totals[("email", "all")]
        assert t.busy_time / t.staffed_time == pytest.approx((agents - idle) / agents, abs=1e-9)


def test_a_deferred_reserve_answers_voice_sooner_and_email_still_clears():
    # A blended site: voice first, email fills the rest. Agents kept free of email take
    # the calls that would have waited behind an email in hand, so voice waits less; email
    # still gets the idle time beyond the reserve, and over the day every item is taken.
    channels = {
        "voice": {
            "arrivals": {"rate": "100/h"},
            "handle_time": exponential("5min"),
            "patience": exponential("2min"),
            "service_level": service_level(),
        },
        "email": {
            "kind": "email",
            "arrivals": {"rate": "20/h"},
            "handle_time": exponential("10min"),
            "service_level": service_level("24h"),
        },
    }
    levels = {}
    for reserve in (0.0, 0.1):
        site = {"name": "a", "agents": 15, "deferred_reserve": reserve}
        s = scenario(channels, [site], horizon="20h", warmup="1h")
        table = replications(s, 20)  # the same seeds: common random numbers
        levels[reserve] = whole(table, "voice").service_level.to_numpy()
        email = whole(table, "email")
        assert (email.carried_over <= 0.02 * email.offered).all()
    assert mean_ci(levels[0.1] - levels[0.0], LEVEL).low > 0


def test_at_a_site_with_a_deferred_reserve_chats_fill_slots_before_idle_agents():
    # The same chats (common random numbers) on the same agents: filling slots first keeps
    # more agents idle (so the reserve has agents to keep and email gets worked), so the
    # agents are busy less of the time; every chat is still answered.
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "40/h"},
        "handle_time": exponential("6min"),
        "service_level": service_level(),
        "concurrency": 3,
    }
    email = {
        "kind": "email",
        "arrivals": {"rate": "2/h"},
        "handle_time": exponential("5min"),
        "service_level": service_level("24h"),
    }
    busy = {}
    for reserve in (0.0, 0.1):
        site = {"name": "a", "agents": 10, "deferred_reserve": reserve}
        s = scenario({"chat": chat, "email": email}, [site], horizon="10h", warmup="1h")
        table = replications(s, 10)
        chats = whole(table, "chat")
        busy[reserve] = chats.busy_time.to_numpy()
        assert (chats.answered == chats.offered).all()
    assert mean_ci(busy[0.1] - busy[0.0], LEVEL).high < 0


def test_silent_abandons_cost_an_agent_a_short_handle_time():
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "10/min"},
        "handle_time": exponential("2min"),
        "patience": exponential("30s"),
        "service_level": service_level("60s"),
        "silent_abandonment": {
            "share": 1.0,
            "handle_time": {"dist": "deterministic", "value": "30s"},
        },
    }
    t = ccsim.simulate(
        scenario({"chat": chat}, [{"name": "a", "agents": 18}], horizon="6h"), seed=7
    ).tallies["chat"]
    assert t.silent_abandoned == t.abandoned > 0
    # Agents spent time on the silent chats too: busy beyond the answered handle time.
    assert t.busy_time > t.handle_time


# --- everything at once ------------------------------------------------------------------


def hybrid():
    channels = {
        "voice": {
            "arrivals": {"rate": "5/min"},
            "handle_time": exponential("6min"),
            "patience": exponential("3min"),
            "service_level": service_level(),
            "lines": 45,
            "retrial": {"probability": 0.4, "delay": exponential("10min")},
            "callback": {"threshold": "2min", "acceptance": 0.5, "deadline": "2h"},
            "bot": {**BOT, "share": 0.5},
            "resolution": 0.75,
            "escalation": "tier2",
            "repeat": {"probability": 0.3, "delay": exponential("1h")},
            "agent_assist": 0.9,
        },
        "chat": {
            "kind": "chat",
            "arrivals": {"rate": "4/min"},
            "handle_time": exponential("8min"),
            "patience": exponential("5min"),
            "service_level": service_level("60s"),
            "concurrency": 3,
            "stretch": 0.2,
            "bot": BOT,
            "resolution": 0.8,
            "escalation": "tier2",
            "silent_abandonment": {"share": 0.3, "handle_time": exponential("30s")},
        },
        "email": {
            "kind": "email",
            "arrivals": {"rate": "1/min"},
            "handle_time": exponential("7min"),
            "service_level": service_level("4h"),
            "resolution": 0.9,
            "escalation": "tier2",
        },
        "tier2": {
            "handle_time": exponential("10min"),
            "patience": exponential("10min"),
            "service_level": service_level(),
            "priority": 1,
            "resolution": 0.85,
            "escalation": "specialist",
        },
        "specialist": {
            "handle_time": exponential("15min"),
            "service_level": service_level("60s"),
            "priority": 2,
        },
    }
    sites = [
        {
            "name": "offshore",
            "agents": 30,
            "skills": ["voice", "chat", "email"],
            "cost_per_hour": 13,
            "resolution": {"voice": 0.7},
        },
        {
            "name": "onshore",
            "agents": 10,
            "skills": ["tier2", "specialist", "email"],
            "cost_per_hour": 38,
        },
        {"name": "specialists", "agents": 4, "skills": ["specialist"], "cost_per_hour": 60},
    ]
    return scenario(channels, sites, horizon="10h", warmup="1h")


@pytest.mark.parametrize("seed", range(4))
def test_every_contact_ends_as_exactly_one_outcome(seed):
    result = ccsim.simulate(hybrid(), seed=seed)
    for (channel, site), tally in result.totals.items():
        if site != "all":
            continue
        ended = sum(getattr(tally, name) for name in OUTCOMES)
        assert tally.offered == ended, (channel, {n: getattr(tally, n) for n in OUTCOMES})
        assert tally.answered == tally.resolved + tally.escalated + tally.unresolved
    totals = result.tallies
    assert totals["tier2"].transfers_in == sum(
        totals[c].escalated for c in ("voice", "chat", "email", "voice:callback")
    )
    assert totals["specialist"].transfers_in == totals["tier2"].escalated
    everyone = totals["all"]
    assert everyone.resolutions <= everyone.customers
    assert everyone.first_contact_resolutions <= everyone.resolutions


def test_the_hybrid_reports_its_outcome_kpis():
    kpis = ccsim.simulate(hybrid(), seed=1).kpis
    for name in (
        "containment_rate",
        "fcr",
        "escalation_rate",
        "mean_resolution_time",
        "within_target",
        "bot_cost",
        "cost_per_resolved_contact",
    ):
        assert not pd.isna(kpis.loc["all", name]), name
    assert 0 < kpis.loc["voice", "fcr"] < 1
    assert kpis.loc["all", "bot_cost"] > 0


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"voice": {"lines": 3, "kind": "chat"}}, "channels.voice.lines", "only for voice"),
        ({"voice": {"kind": "email"}}, "channels.voice.patience", "do not abandon"),
        ({"voice": {"escalation": "nowhere"}}, "channels.voice.escalation", "no channel"),
        (
            {
                "voice": {
                    "bot": {
                        "handle_time": exponential("1min"),
                        "containment": 0.8,
                        "false_containment": 0.3,
                    }
                }
            },
            "channels.voice.bot",
            "exceed 1",
        ),
        ({"voice": {"concurrency": 3}}, "channels.voice.concurrency", "only for chat"),
    ],
)
def test_bad_channel_input_names_the_field(change, path, message):
    voice = {
        "arrivals": {"rate": "1/min"},
        "handle_time": exponential("3min"),
        "patience": exponential("2min"),
        "service_level": service_level(),
    }
    voice.update(change["voice"])
    with pytest.raises(ccsim.ConfigError) as error:
        scenario({"voice": voice}, [{"name": "a", "agents": 3}])
    assert error.value.path == path and message in error.value.message
