"""Request types and escalation apart from non-resolution, against hand calculations.

A type's share, handle-time multiplier, resolution, escalation share and bot containment
are probabilities and means the engine draws with: every check here compares a count with
its expectation within a binomial (or normal) bound, or two scenarios paired under common
random numbers. That a scenario without types is unchanged is the golden digests' job
(tests/test_channels_regression.py, test_reliability_results.py, test_report.py); here it
is checked for types that change nothing and for the two forms of ``escalation``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccsim
from ccsim.experiment.replications import replication_seeds
from ccsim.model.loading import read_scenario_mapping

N_REPS = 12


def exp(mean):
    return {"dist": "exponential", "mean": mean}


def scenario(voice: dict, tier2: dict | None = None, sites=None, horizon="8h"):
    channels = {
        "voice": {
            "arrivals": {"rate": "2/min"},
            "handle_time": exp("1min"),
            "service_level": {"threshold": "20s", "target": 0.8},
            **voice,
        }
    }
    if tier2 is not None:
        channels["tier2"] = {
            "handle_time": exp("2min"),
            "service_level": {"threshold": "20s", "target": 0.8},
            **tier2,
        }
    return ccsim.parse_scenario(
        {
            "name": "types",
            "horizon": horizon,
            "channels": channels,
            "sites": sites or [{"name": "a", "agents": 12}],
        },
        source="types.yaml",
    )


def runs(s, n=N_REPS):
    return [ccsim.simulate(s, seed) for seed in replication_seeds(3, n)]


def within(count: float, n: float, p: float, z: float = 4.0) -> bool:
    """Whether ``count`` of ``n`` trials is within ``z`` binomial sigmas of ``n p``."""
    return abs(count - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1e-9


def same(rows: list[dict], other: list[dict]) -> bool:
    """Whether two results' rows are equal, NaN (a KPI with nothing to measure) included."""
    return pd.DataFrame(rows).equals(pd.DataFrame(other))


def type_total(results, channel: str, request: str, name: str) -> float:
    return sum(r.request_type_counts.get((channel, request), {}).get(name, 0.0) for r in results)


# --- the test: bots contain simple requests, tier 2 keeps the complex ones --------


def _bot_scenario(simple_containment: float, typed: bool = True):
    bot = {"handle_time": exp("1min"), "containment": simple_containment}
    voice = {"bot": bot, "resolution": 0.6}
    if typed:
        voice["escalation"] = {"to": "tier2", "share": 0.2}
        voice["request_types"] = {
            "simple": {"share": 0.6, "resolution": 0.95, "escalation": 0.0},
            "complex": {"share": 0.4, "resolution": 0.5, "escalation": 0.5, "containment": 0.0},
        }
    else:  # today's type-blind bot: it contains any contact, the complex as often
        voice["escalation"] = {"to": "tier2", "share": 0.2}
    return scenario(voice, {"resolution": 1.0})


def _tier2_offered(s) -> np.ndarray:
    return np.array([r.tallies["tier2"].offered for r in runs(s, 20)], dtype=float)


def _paired_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    diff = b - a
    half = 2.1 * diff.std(ddof=1) / math.sqrt(len(diff))  # t(19) at 95%: 2.09
    return diff.mean() - half, diff.mean() + half


def test_containing_more_simple_requests_leaves_tier_two_its_work():
    low, high = _tier2_offered(_bot_scenario(0.2)), _tier2_offered(_bot_scenario(0.6))
    lo, hi = _paired_interval(low, high)
    assert lo <= 0.0 <= hi, (lo, hi)
    # By hand: 2/min for 8 h, 40% complex, none contained, half of them escalated.
    expected = 2 * 480 * 0.4 * 0.5
    for volume in (low, high):
        half = 2.1 * volume.std(ddof=1) / math.sqrt(len(volume))
        assert abs(volume.mean() - expected) <= half + 0.02 * expected, volume.mean()


def test_a_type_blind_bot_takes_tier_two_work_away():
    low = _tier2_offered(_bot_scenario(0.2, typed=False))
    high = _tier2_offered(_bot_scenario(0.6, typed=False))
    lo, hi = _paired_interval(low, high)
    assert hi < 0.0
    # By hand: what the bot hands over halves (0.8 -> 0.4), and so does tier 2's share.
    assert high.mean() / low.mean() == pytest.approx(0.4 / 0.8, rel=0.1)


def test_per_type_bot_outcomes_match_the_types_containment():
    results = runs(_bot_scenario(0.6))
    for request, containment in (("simple", 0.6), ("complex", 0.0)):
        sessions = type_total(results, "voice", request, "bot_sessions")
        contained = type_total(results, "voice", request, "contained")
        assert within(contained, sessions, containment), (request, contained, sessions)


# --- escalation apart from non-resolution --------------------------------------------------


def test_escalated_and_unresolved_shares_match_the_mapping_form():
    s = scenario({"resolution": 0.6, "escalation": {"to": "tier2", "share": 0.25}}, {})
    totals = [r.tallies["voice"] for r in runs(s)]
    answered = sum(t.answered for t in totals)
    assert within(sum(t.escalated for t in totals), answered, 0.25)
    assert within(sum(t.unresolved for t in totals), answered, 0.15)


def test_per_type_shares_and_the_site_penalty_relative_to_the_channel():
    voice = {
        "resolution": 0.8,
        "escalation": {"to": "tier2", "share": 0.1},
        "request_types": {
            "simple": {"share": 0.5, "resolution": 0.9, "escalation": 0.05},
            "complex": {"share": 0.5, "resolution": 0.4, "escalation": 0.4},
        },
    }
    sites = [
        {"name": "a", "agents": 12, "skills": ["voice"], "resolution": {"voice": 0.6}},
        {"name": "b", "agents": 8, "skills": ["tier2"]},
    ]
    results = runs(scenario(voice, {}, sites))
    for request, fcr, escalation in (("simple", 0.9, 0.05), ("complex", 0.4, 0.4)):
        at_site = fcr * 0.6 / 0.8  # the site's penalty, relative
        answered = type_total(results, "voice", request, "answered")
        resolved = type_total(results, "voice", request, "resolved")
        escalated = type_total(results, "voice", request, "escalated")
        unresolved = type_total(results, "voice", request, "unresolved")
        assert resolved + escalated + unresolved == answered
        assert within(resolved, answered, at_site), (request, resolved / answered)
        assert within(escalated, answered, escalation), (request, escalated / answered)
        # The type keeps its name in tier 2: every escalation of it arrives there.
        assert type_total(results, "tier2", request, "offered") == escalated


def test_the_string_form_is_the_mapping_form_that_escalates_every_unresolved_contact():
    string = scenario({"resolution": 0.75, "escalation": "tier2"}, {})
    mapping = scenario({"resolution": 0.75, "escalation": {"to": "tier2", "share": 0.25}}, {})
    for seed in range(3):
        assert same(ccsim.simulate(string, seed).rows(), ccsim.simulate(mapping, seed).rows())


def test_types_that_change_nothing_leave_every_count_as_without_types():
    plain = {"resolution": 0.7, "escalation": "tier2", "patience": exp("2min")}
    typed = {**plain, "request_types": {"a": {"share": 0.3}, "b": {"share": 0.7}}}
    for seed in range(3):
        without = ccsim.simulate(scenario(plain, {}), seed)
        with_types = ccsim.simulate(scenario(typed, {}), seed)
        assert same(with_types.rows(), without.rows())
        assert without.request_type_counts == {}
        offered = sum(
            counts["offered"]
            for (channel, _), counts in with_types.request_type_counts.items()
            if channel == "voice"
        )
        assert offered == with_types.tallies["voice"].offered


# --- handle times ----------------------------------------------------------------------------


def test_handle_time_mix_keeps_the_channel_mean_and_each_type_its_multiple():
    voice = {
        "request_types": {
            "short": {"share": 0.5, "handle_time_multiplier": 0.5},
            "usual": {"share": 0.3, "handle_time_multiplier": 1.0},
            "long": {"share": 0.2, "handle_time_multiplier": 2.25},
        }
    }
    results = runs(scenario(voice))
    # Exponential handle times: the standard deviation is the mean.
    for request, multiplier in (("short", 0.5), ("usual", 1.0), ("long", 2.25)):
        n = type_total(results, "voice", request, "answered")
        mean = type_total(results, "voice", request, "handle_time") / n
        assert abs(mean - 60 * multiplier) <= 4 * 60 * multiplier / math.sqrt(n), request
        offered = type_total(results, "voice", request, "offered")
        total = sum(r.tallies["voice"].offered for r in results)
        share = {"short": 0.5, "usual": 0.3, "long": 0.2}[request]
        assert within(offered, total, share), request
    totals = [r.tallies["voice"] for r in results]
    n = sum(t.answered for t in totals)
    mean = sum(t.handle_time for t in totals) / n
    # The mix: a mixture of exponentials, its variance sum(p * 2 m^2) - 60^2.
    sd = math.sqrt(
        sum(p * 2 * (60 * m) ** 2 for p, m in ((0.5, 0.5), (0.3, 1), (0.2, 2.25))) - 3600
    )
    assert abs(mean - 60) <= 4 * sd / math.sqrt(n)


# --- configuration errors --------------------------------------------------------------------

_BASE = """\
name: bad
horizon: 8h
channels:
  voice:
    arrivals: {{rate: 2/min}}
    handle_time: {{dist: exponential, mean: 1min}}
    service_level: {{threshold: 20s, target: 0.8}}
{voice}
  tier2:
    handle_time: {{dist: exponential, mean: 2min}}
    service_level: {{threshold: 20s, target: 0.8}}
sites:
  - {{name: a, agents: 5}}
"""


@pytest.mark.parametrize(
    ("voice", "field", "words"),
    [
        (
            "    request_types: {a: {share: 0.5}, b: {share: 0.4}}",
            "channels.voice.request_types", "sum to 0.9, not 1",
        ),
        (
            "    resolution: 0.9\n    escalation: {to: tier2, share: 0.2}",
            "channels.voice.escalation.share", "exceeds 1",
        ),
        (
            "    resolution: 0.5\n    escalation: {to: tier2, share: 0.2}\n"
            "    request_types: {a: {share: 1, resolution: 0.9}}",
            "channels.voice.request_types.a.resolution", "exceeds 1",
        ),
        (
            "    escalation: {to: tier2, share: 0.2}\n    resolution: 0.5\n"
            "    request_types: {a: {share: 1, escalation: 0.6}}",
            "channels.voice.request_types.a.escalation", "exceeds 1",
        ),
        (
            "    request_types: {a: {share: 1, resolutoin: 0.9}}",
            "channels.voice.request_types.a.resolutoin", "unknown key",
        ),
        (
            "    request_types: {a: {share: 0.5, handle_time_multiplier: 2},"
            " b: {share: 0.5}}",
            "channels.voice.request_types", "mean handle_time_multiplier is 1.5",
        ),
        (
            "    request_types: {a: {share: 1, containment: 0.5}}",
            "channels.voice.request_types.a.containment", "no bot",
        ),
        (
            "    resolution: 0.5\n    escalation: {to: tier3, share: 0.1}",
            "channels.voice.escalation.to", "no channel 'tier3'",
        ),
    ],
)  # fmt: skip
def test_bad_types_and_escalations_are_one_line_naming_file_and_field(
    tmp_path: Path, voice: str, field: str, words: str
):
    path = tmp_path / "bad.yaml"
    path.write_text(_BASE.format(voice=voice), encoding="utf-8")
    with pytest.raises(ccsim.ConfigError) as info:
        ccsim.load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path) + ":")
    assert f" {field}: " in message
    assert words in message


@pytest.mark.parametrize("follow", [None, "1d"])
def test_types_add_up_to_their_channels_through_every_return(follow):
    # Tiers, lines, retrials, call backs and repeats (three_tier_voice.yaml): whatever
    # brings a contact back, it keeps its type, so the types' counts are the channel's.
    data = read_scenario_mapping(Path(__file__).parent.parent / "configs/three_tier_voice.yaml")
    data["channels"]["voice"]["request_types"] = {
        "simple": {"share": 0.5, "handle_time_multiplier": 0.5, "resolution": 0.95},
        "complex": {"share": 0.5, "handle_time_multiplier": 1.5, "resolution": 0.5},
    }
    if follow is not None:
        data["follow_journeys"] = follow
    result = ccsim.simulate(ccsim.parse_scenario(data, source="types.yaml"), 1)
    for channel, tally in result.tallies.items():
        if channel == "all":
            continue
        rows = [v for (c, _), v in result.request_type_counts.items() if c == channel]
        for name in ("offered", "answered", "escalated", "unresolved"):
            assert sum(row[name] for row in rows) == getattr(tally, name), (channel, name)
        for row in rows:
            assert row["resolved"] + row["escalated"] + row["unresolved"] == row["answered"]


def test_a_run_with_request_types_leaves_nothing_alive_after_a_collection():
    """A run's state is garbage once ``simulate`` returns. A cycle through a numpy object
    array is invisible to the collector: when the type draw kept one (its types hold the
    channel), every run of a study stayed in memory, and the workers' full collections
    grew with them (the uncertainty sample took twice its time)."""
    import gc

    from ccsim.sim.state import AgentState, ChannelState, Contact

    s = scenario(
        {
            "request_types": {
                "simple": {"share": 0.5, "handle_time_multiplier": 0.5},
                "complex": {"share": 0.5, "handle_time_multiplier": 1.5},
            }
        },
        horizon="2h",
    )
    for seed in (1, 2):
        ccsim.simulate(s, seed)
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, (AgentState, ChannelState, Contact))]
    assert alive == []
