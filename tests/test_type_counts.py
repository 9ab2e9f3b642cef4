"""The request types' counts and draw, against their definitions worked by hand.

The counts per channel and type are made, zero, for every channel and type at the start
(so that adding is one subscript); only the pairs something was counted under are
reported. A new contact's type is the first type whose cumulative share exceeds a uniform
of the channel's own stream (``bisect_right``), however the draws are batched.
"""

from __future__ import annotations

from bisect import bisect_right
from types import SimpleNamespace

import ccsim
from ccsim.sim.engine import build
from ccsim.sim.streams import Streams
from ccsim.sim.type_counts import TYPE_COUNTS, TypeCounts


class Channel:
    """A channel as the counts see it: hashed by identity, as the engine's are."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_totals_are_the_pairs_counted_under_sorted_by_channel_and_type():
    voice, chat = Channel("voice"), Channel("chat")
    counts = TypeCounts([voice, chat], ["billing", "outage"])
    counts.add(voice, "outage", "offered")
    counts.add(voice, "outage", "answered")
    counts.add(voice, "outage", "handle_time", 120.0)
    counts.add(voice, "outage", "handle_time", 30.5)
    counts.table[chat, "billing", "offered"] += 1.0  # a feature's inline count
    totals = counts.totals()
    assert list(totals) == [("chat", "billing"), ("voice", "outage")]
    assert totals["voice", "outage"] == {
        **dict.fromkeys(TYPE_COUNTS, 0.0),
        "offered": 1.0,
        "answered": 1.0,
        "handle_time": 150.5,
    }
    assert totals["chat", "billing"] == {**dict.fromkeys(TYPE_COUNTS, 0.0), "offered": 1.0}


def test_a_new_contacts_type_is_bisect_right_of_its_streams_uniform():
    shares = {"billing": 0.5, "outage": 0.3, "other": 0.2}
    multiplier = {"billing": 0.8, "outage": 1.6, "other": 0.6}  # their mean is 1
    scenario = ccsim.parse_scenario(
        {
            "name": "types",
            "horizon": "1h",
            "channels": {
                "voice": {
                    "arrivals": {"rate": "1/min"},
                    "handle_time": {"dist": "exponential", "mean": "1min"},
                    "service_level": {"threshold": "20s", "target": 0.8},
                    "request_types": {
                        name: {"share": shares[name], "handle_time_multiplier": multiplier[name]}
                        for name in shares
                    },
                }
            },
            "sites": [{"name": "a", "agents": 2}],
        },
        source="types.yaml",
    )
    core = build(scenario, Streams(7))
    (arrive,) = core.channels[0].on_arrive
    uniforms = Streams(7).uniforms("request_type", "voice")
    names, bounds = list(shares), [0.5, 0.8]
    for _ in range(5000):  # past the first batch of draws
        contact = SimpleNamespace(request=None, handle_time=60.0, tally=None)
        arrive(contact, 0.0)
        expected = names[bisect_right(bounds, uniforms())]
        assert contact.request == expected
        assert contact.handle_time == 60.0 * multiplier[expected]
