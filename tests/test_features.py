"""The engine's structure: a core with features built only when used, counting in one
place, and the defects the split into features fixed (each test failed on the engine
before it: commit 3115400)."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

import ccsim
from ccsim.sim import engine
from ccsim.sim.engine import build, run
from ccsim.sim.metrics import AGENT_TALLIES, CONTACT_TALLIES, TALLY_NAMES
from ccsim.sim.streams import Streams


def exp(mean):
    return {"dist": "exponential", "mean": mean}


def voice(rate="3/min", **extra):
    return {
        "arrivals": {"rate": rate},
        "handle_time": exp("1min"),
        "patience": exp("1min"),
        "service_level": {"threshold": "20s", "target": 0.8},
        **extra,
    }


def scenario(channels, sites=None, horizon="8h", **extra):
    data = {
        "name": "f",
        "horizon": horizon,
        "channels": channels,
        "sites": sites or [{"name": "a", "agents": 4}],
        **extra,
    }
    return ccsim.parse_scenario(data, source="features.yaml")


def features(s) -> set[str]:
    return set(build(s, Streams(0)).features)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, {"staffing"}),
        ({"lines": 5}, {"staffing", "lines"}),
        ({"retrial": {"probability": 0.3, "delay": exp("5min")}}, {"staffing", "returns", "tiers"}),
        (
            {"callback": {"threshold": "1min", "acceptance": 0.5, "deadline": "1h"}},
            {"staffing", "callbacks", "tiers"},
        ),
        ({"resolution": 0.8}, {"staffing", "tiers"}),
    ],
)
def test_features_are_built_only_when_the_scenario_uses_them(extra, expected):
    assert features(scenario({"voice": voice(**extra)})) == expected


def test_a_plain_channel_has_no_hook():
    core = build(scenario({"voice": voice()}), Streams(0))
    channel = core.channels[0]
    hooks = ("on_arrive", "on_enter", "on_wait", "on_answer", "on_end", "on_abandon")
    assert all(getattr(channel, point) == () for point in hooks)
    assert channel.serve is None  # one contact at a time, in the core


def test_every_tally_is_classified_once():
    assert set(CONTACT_TALLIES) | set(AGENT_TALLIES) == set(TALLY_NAMES)
    assert not set(CONTACT_TALLIES) & set(AGENT_TALLIES)


def test_the_all_row_adds_up_the_channels_queue_time():
    # Before: queue_time was classified by its place after `backlog` as an agent tally,
    # so the row of every channel together had none (mean_queue_length 0).
    totals = ccsim.simulate(
        scenario({"voice": voice(), "chat": {**voice("1/min"), "kind": "chat"}}), 1
    ).totals
    both = totals[("voice", "all")].queue_time + totals[("chat", "all")].queue_time
    assert both > 0
    assert totals[("all", "all")].queue_time == pytest.approx(both)


def test_a_user_channel_named_like_a_call_back_channel_keeps_its_own_contacts():
    # Before: the call backs of `voice` went to an internal channel `voice_callback`,
    # which silently replaced the user's channel of that name (its offered were the
    # call backs of voice).
    callback = {"threshold": "1min", "acceptance": 0.6, "deadline": "2h"}
    s = scenario(
        {"voice": voice("6/min", callback=callback), "voice_callback": voice("1/min")},
        [{"name": "a", "agents": 5}],
    )
    tallies = ccsim.simulate(s, 6).tallies
    own = tallies["voice_callback"]
    # 480 expected over 8 hours: 5 standard deviations either side.
    assert abs(own.offered - 480) < 5 * math.sqrt(480)
    assert own.customers == own.offered
    assert tallies["voice:callback"].offered == tallies["voice"].callbacks > 0


def test_call_backs_count_for_the_customer_who_called_and_use_the_voice_proficiency():
    # Before: a call back of a plain caller counted as a new customer resolved on the
    # call-back row, and was handled at proficiency 1 whatever the voice proficiency.
    callback = {"threshold": "30s", "acceptance": 1.0, "deadline": "4h"}
    fixed = {"dist": "deterministic", "value": "1min"}
    s = scenario(
        {"voice": voice("6/min", callback=callback, handle_time=fixed)},
        [{"name": "a", "agents": 5, "proficiency": {"voice": 2.0}}],
    )
    tallies = ccsim.simulate(s, 2).tallies
    back, first = tallies["voice:callback"], tallies["voice"]
    assert back.answered > 0
    assert back.resolutions == 0 and back.customers == 0
    assert first.resolutions == first.answered + back.answered
    assert back.handle_time == pytest.approx(120.0 * back.answered)


def test_a_retrial_queues_behind_those_already_waiting():
    # Before: a retrial reused its abandoned contact, still in the queue until it reached
    # the head, so a caller who called again took its old place: answers came out of
    # arrival order (495 times in these three runs).
    retrial = {"probability": 1.0, "delay": {"dist": "deterministic", "value": "5s"}}
    s = scenario({"voice": voice(retrial=retrial)}, [{"name": "a", "agents": 2}], horizon="4h")
    for seed in range(3):
        frame = ccsim.simulate(s, seed, record_contacts=True).contacts
        arrivals = frame[frame.outcome == "answered"].arrival.to_numpy()
        assert (arrivals[1:] >= arrivals[:-1]).all()


# --- the feature protocol (ccsim/sim/features/__init__.py) ---------------------------------


def test_the_engine_knows_features_only_through_the_package_protocol():
    tree = ast.parse(Path(engine.__file__).read_text())
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module.startswith("ccsim.sim.features")
        for alias in node.names
    }
    assert imported == {
        ("ccsim.sim.features", "install"),
        ("ccsim.sim.features", "internal_channels"),
    }


def test_the_bot_and_chats_say_which_contacts_they_hold_at_the_cut_off():
    # Stopped one second after the horizon, sessions and chats are still in hand: each
    # feature finds its own among the clock's events left (before: the engine looked up
    # the features' private callbacks).
    bot = {"share": 0.5, "handle_time": exp("5min"), "containment": 0.3}
    chat = {
        **voice("4/min"),
        "kind": "chat",
        "handle_time": exp("10min"),
        "concurrency": 3,
        "bot": bot,
        "resolution": 0.5,
        "escalation": "tier2",
    }
    s = scenario(
        {"chat": chat, "tier2": {k: v for k, v in voice().items() if k != "arrivals"}},
        [{"name": "a", "agents": 6}],
        horizon="2h",
        follow_journeys="1s",
    )
    core = build(s, Streams(3))
    run(core)
    pending = core.clock.pending()
    held = {name: list(core.features[name].held(pending)) for name in ("bot", "chats")}
    assert held["bot"] and all(c.customer is not None for c in held["bot"])
    assert held["chats"] and all(c.channel.name == "chat" for c in held["chats"])
    # Each held customer is censored once, as are those still waiting.
    by_core = list(core.held(pending))
    customers = {id(c.customer or c) for c in [*by_core, *held["bot"], *held["chats"]]}
    assert sum(t.censored for t in core.count.channels[0].intervals) == len(customers)
