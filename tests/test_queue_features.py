"""The queue features of peer simulators: balking, a maximum wait that leaves a message,
disconnection at close, trunks shared by channels, retrials that keep their patience and
the service level over all attempts.

Checked against exact results where they exist (the birth-death solution of M/M/n with
balking and patience, Erlang B on pooled lines), with tolerances from the replications'
own intervals: 99.9% for each test, shared among its KPIs (Bonferroni). Where no formula
exists, a hand-computed case with deterministic arrivals and handle times, and exact
conservation of every outcome.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import OUTCOMES

import ccsim
from ccsim.experiment.stats import ratio_ci
from ccsim.sim.engine import build, run
from ccsim.sim.features.closing import closing_times
from ccsim.sim.metrics import kpis, total
from ccsim.sim.streams import Streams
from ccsim.theory.birth_death import balking_performance
from ccsim.theory.erlang import erlang_b

FAMILY = 0.001  # a test fails by chance at most once in a thousand runs


def exp(mean):
    return {"dist": "exponential", "mean": mean}


def fixed(value):
    return {"dist": "deterministic", "value": value}


def voice(rate="1/min", handle=None, patience=None, threshold="20s", **extra):
    spec = {
        "arrivals": {"rate": rate},
        "handle_time": handle or exp("1min"),
        "service_level": {"threshold": threshold, "target": 0.8},
        **extra,
    }
    if patience is not None:
        spec["patience"] = patience
    return spec


def scenario(channels, agents=1, horizon="30min", warmup="0s", **fields):
    data = {
        "name": "q",
        "horizon": horizon,
        "warmup": warmup,
        "channels": channels,
        "sites": [{"name": "a", "agents": agents}],
        **fields,
    }
    return ccsim.parse_scenario(data, source="queue.yaml")


def whole(table, channel):
    return table[(table.channel == channel) & (table.site == "all")]


def within(numerator, denominator, exact, n_kpis):
    estimate = ratio_ci(numerator, denominator, 1 - FAMILY / n_kpis)
    assert estimate.value - estimate.half_width <= exact <= estimate.value + estimate.half_width, (
        estimate,
        exact,
    )
    return estimate


def run_epochs(s, epochs, seed=0):
    """Run ``s`` with the given arrival epochs (seconds) instead of its Poisson arrivals:
    the tallies of each channel over the whole run, and the core after it."""
    core = build(s, Streams(seed), record_contacts=True)
    for channel in core.channels:
        if channel.name in epochs:
            batch = np.asarray(epochs[channel.name], dtype=float)
            channel.epochs = core.count.arrivals(channel, [batch])
    record = run(core)
    return {counts.name: total(counts.intervals) for counts in record.channels}, core


def ends(tally):
    return sum(getattr(tally, name) for name in OUTCOMES)


# --- 1. balking: the exact M/M/n with balking and patience ----------------------------------

BALKING_CASES = {
    # rate/min, agents, balking, mean patience (None: nobody abandons)
    "constant, no patience": (8, 8, 0.3, None),
    "by queue length, patience": (10, 8, [0.0, 0.2, 0.5, 0.8], 120.0),
    "by queue length, no patience": (6, 5, [0.1, 0.3, 0.6], None),
}


@pytest.mark.parametrize("case", sorted(BALKING_CASES))
def test_balking_matches_the_birth_death_solution(case):
    rate, agents, balk, patience = BALKING_CASES[case]
    s = scenario(
        {
            "voice": voice(
                f"{rate}/min",
                patience=exp(f"{patience}s") if patience else None,
                balking={"probability": balk},
            )
        },
        agents=agents,
        horizon="20h",
        warmup="1h",
    )
    exact = balking_performance(rate / 60, 60.0, agents, balk, patience or math.inf)
    t = whole(ccsim.run_replications(s, 20, seed=3), "voice")
    assert (t.offered == t.answered + t.abandoned + t.balked).all()
    within(t.balked, t.offered, exact.balk_rate, 3)
    within(t.busy_time, t.staffed_time, exact.occupancy, 3)
    if patience:
        within(t.abandoned, t.offered, exact.abandon_rate, 3)
    else:
        assert (t.abandoned == 0).all()
        within(t.wait_answered, t.answered, exact.asa, 3)


def test_balking_by_queue_length_uses_the_contacts_waiting_now():
    # One agent busy for 100 s from 0; nobody balks when none waits, everyone when one
    # does: of the calls at 10, 20 and 30 the first waits and the others balk.
    s = scenario({"voice": voice(handle=fixed("100s"), balking={"probability": [0.0, 1.0]})})
    tallies, core = run_epochs(s, {"voice": [0.0, 10.0, 20.0, 30.0, 250.0]})
    t = tallies["voice"]
    assert (t.offered, t.answered, t.balked) == (5, 3, 2)
    assert t.wait_answered == pytest.approx(90.0)
    assert core.features["balking"].waiting == {0: 0}
    assert [row[1] for row in core.count.contacts if row[3] == "balked"] == [20.0, 30.0]


def test_a_balking_caller_frees_its_line_and_may_retry():
    s = scenario(
        {
            "voice": voice(
                handle=fixed("100s"),
                lines=2,
                balking={"probability": 1.0},
                retrial={"probability": 1.0, "delay": fixed("300s")},
            )
        }
    )
    tallies, core = run_epochs(s, {"voice": [0.0, 10.0]})
    t = tallies["voice"]
    # 10: balks (the agent is busy); 310: calls again and is answered at once.
    assert (t.offered, t.balked, t.retrials, t.answered, t.blocked) == (3, 1, 1, 2, 0)
    assert core.features["lines"].in_use == {0: 0}


# --- 2. a maximum wait, then a message --------------------------------------------------------


def test_callers_waiting_the_maximum_leave_messages_worked_after_live_calls():
    # One agent, 100 s per call. A 0-100. B (10), C (20) and D (120) wait 30 s and leave
    # messages at 40, 50 and 150. At 100 the agent takes B's message (nothing live
    # waits) until 200; E (190) is live at 200, before C's message: E 200-300, then C's
    # message 300-400 and D's 400-500.
    s = scenario({"voice": voice(handle=fixed("100s"), message={"max_wait": "30s"})})
    tallies, _ = run_epochs(s, {"voice": [0.0, 10.0, 20.0, 120.0, 190.0]})
    v, m = tallies["voice"], tallies["voice:message"]
    assert (v.offered, v.answered, v.messages) == (5, 2, 3)
    assert v.wait_answered == pytest.approx(10.0)
    assert v.queue_time == pytest.approx(3 * 30.0 + 10.0)
    assert (m.offered, m.answered, m.customers) == (3, 3, 0)
    assert m.wait_answered == pytest.approx(60.0 + 250.0 + 250.0)
    # Every caller is a customer of the voice channel, resolved in the end.
    assert (v.customers, v.resolutions) == (5, 5)
    assert v.offered == ends(v) and m.offered == ends(m)
    assert kpis(v)["service_level"] == pytest.approx(2 / 5)  # A and E over all five


def test_messages_not_served_are_only_counted():
    s = scenario(
        {"voice": voice(handle=fixed("100s"), message={"max_wait": "30s", "served": False})}
    )
    tallies, core = run_epochs(s, {"voice": [0.0, 10.0, 20.0, 120.0, 200.0]})
    assert set(tallies) == {"voice"}
    v = tallies["voice"]
    # B and C leave messages at 40 and 50, and nobody works them: the agent is idle from
    # 100, takes D at once at 120, and E (200) after 20 s, at 220.
    assert (v.offered, v.answered, v.messages) == (5, 3, 2)
    assert v.wait_answered == pytest.approx(20.0)
    assert "email" not in core.features


# --- 3. disconnection at close ----------------------------------------------------------------


def test_callers_still_waiting_at_close_are_disconnected_not_carried_over():
    # One agent, 100 s per call, close at 00:04 (240 s). A 0-100, B 100-200, C 200-300;
    # D (30) still waits at 240: disconnected after 210 s. E (400) is answered at once.
    s = scenario({"voice": voice(handle=fixed("100s"), close="00:04")})
    tallies, _ = run_epochs(s, {"voice": [0.0, 10.0, 20.0, 30.0, 400.0]})
    t = tallies["voice"]
    assert (t.offered, t.answered, t.disconnected, t.abandoned, t.carried_over) == (5, 4, 1, 0, 0)
    assert t.wait_answered == pytest.approx(90.0 + 180.0)
    assert t.queue_time == pytest.approx(90.0 + 180.0 + 210.0)
    assert kpis(t)["service_level"] == pytest.approx(2 / 5)


def test_at_end_of_service_the_queue_goes_when_a_service_in_hand_at_close_ends():
    # As above, with ContactCenters' rule: C (200-300) is in hand at the close (240), so
    # D (30) keeps waiting until C ends at 300 (270 s); F (250) queued after the close goes
    # with it (50 s) instead of being answered at 300. E (400) is answered at once.
    epochs = {"voice": [0.0, 10.0, 20.0, 30.0, 250.0, 400.0]}
    rule = {"close": "00:04", "handle": fixed("100s")}
    at_close, _ = run_epochs(scenario({"voice": voice(**rule)}), epochs)
    at_end, core = run_epochs(
        scenario({"voice": voice(**rule, close_rule="at_end_of_service")}), epochs
    )
    a, t = at_close["voice"], at_end["voice"]
    assert (a.offered, a.answered, a.disconnected) == (6, 5, 1)  # F is answered at 300
    assert (t.offered, t.answered, t.disconnected, t.abandoned, t.carried_over) == (6, 4, 2, 0, 0)
    assert t.offered == ends(t)
    left = sorted(r[1] + r[2] for r in core.count.contacts if r[3] == "disconnected")
    assert left == [300.0, 300.0]
    assert t.queue_time == pytest.approx(90.0 + 180.0 + 270.0 + 50.0)


def test_at_end_of_service_with_nothing_in_hand_the_queue_goes_at_the_close():
    # The agent serves the higher-priority channel w across the close: no service of v is
    # in hand, so v's caller (10) is disconnected at the close (240) itself.
    s = scenario(
        {
            "v": voice(handle=fixed("100s"), close="00:04", close_rule="at_end_of_service"),
            "w": voice(handle=fixed("1000s"), priority=1),
        }
    )
    tallies, core = run_epochs(s, {"v": [10.0], "w": [0.0]})
    assert (tallies["v"].offered, tallies["v"].disconnected) == (1, 1)
    assert [r[1] + r[2] for r in core.count.contacts if r[3] == "disconnected"] == [240.0]


def test_at_end_of_service_disconnects_only_at_ends_of_services_in_hand_at_close():
    # An overloaded queue with abandonment, closed mid-run: no contact is disconnected
    # before the first end of a service in hand at the close, every disconnection is at
    # such an end, and every contact has one outcome.
    s = scenario(
        {
            "voice": voice(
                "4/min", exp("1min"), exp("5min"), close="00:30", close_rule="at_end_of_service"
            )
        },
        agents=3,
        horizon="1h",
    )
    for seed in range(5):
        core = build(s, Streams(seed), record_contacts=True)
        record = run(core)
        t = total(record.channels[0].intervals)
        assert t.offered == ends(t)
        close = 1800.0
        in_hand = sorted(
            r[1] + r[2] + r[4]
            for r in core.count.contacts
            if r[3] == "answered" and r[1] + r[2] < close < r[1] + r[2] + r[4]
        )
        left = [r[1] + r[2] for r in core.count.contacts if r[3] == "disconnected"]
        assert in_hand and left and t.disconnected == len(left)
        assert min(left) == pytest.approx(in_hand[0])
        assert all(any(abs(t - end) < 1e-9 for end in in_hand) for t in left)


def test_closing_times_follow_the_customers_clock_across_daylight_saving():
    s = scenario(
        {"voice": voice(close="20:00")},
        horizon="3d",
        start="2026-03-07T00:00:00",
        timezone="America/New_York",
    )
    times = closing_times(s.calendar(), "20:00")
    assert times[0] == 20 * 3600
    assert np.diff(times).tolist() == [23 * 3600, 24 * 3600, 24 * 3600]  # spring forward
    assert times[-2] < s.horizon <= times[-1]


# --- 4. trunks: lines shared by channels ------------------------------------------------------


def test_a_trunk_blocks_each_of_its_channels_as_erlang_b_of_the_pooled_load():
    # As many agents as lines: an admitted call never waits, so the trunk is an M/M/c/c
    # loss system fed by both channels: each is blocked with B(lines, total load).
    lines = 8
    s = scenario(
        {
            "sales": voice("3/min", exp("1min")),
            "service": voice("2/min", exp("2min")),
        },
        agents=lines,
        horizon="20h",
        warmup="1h",
        trunks={"main": {"lines": lines, "channels": ["sales", "service"]}},
    )
    exact = erlang_b(lines, 3 * 1 + 2 * 2)
    table = ccsim.run_replications(s, 20, seed=5)
    for name in ("sales", "service"):
        t = whole(table, name)
        assert (t.waited == 0).all()
        estimate = within(t.blocked, t.offered, exact, 2)
        assert estimate.half_width < 0.1 * exact


# --- 5. retrials that keep their patience; the service level over all attempts ----------------


def test_a_retrial_counts_the_customers_wait_over_both_attempts():
    # One agent, 100 s per call, patience 30 s, everyone calls again 50 s after giving up.
    # A is answered at once. B (10) abandons at 40, calls again at 90 and is answered at
    # 100 after 10 s: within 20 s for that attempt, but 40 s over both.
    s = scenario(
        {
            "voice": voice(
                handle=fixed("100s"),
                patience=fixed("30s"),
                retrial={"probability": 1.0, "delay": fixed("50s"), "keep_patience": True},
            )
        }
    )
    tallies, _ = run_epochs(s, {"voice": [0.0, 10.0]})
    t = tallies["voice"]
    assert (t.offered, t.retrials, t.answered, t.abandoned, t.customers) == (3, 1, 2, 1, 2)
    values = kpis(t)
    assert values["service_level"] == pytest.approx(2 / 3)  # A and B's retrial / 3 attempts
    assert values["service_level_total_wait"] == pytest.approx(1 / 2)  # A only / 2 customers


@pytest.mark.parametrize("keep", [True, False])
def test_a_retrial_keeps_the_first_attempts_patience_only_when_asked(keep):
    # The agent is busy all day with A: B gives up again and again; with keep_patience
    # every attempt waits exactly as long as the first.
    s = scenario(
        {
            "voice": voice(
                handle=fixed("5000s"),
                patience={"dist": "uniform", "low": "10s", "high": "60s"},
                retrial={"probability": 1.0, "delay": fixed("100s"), "keep_patience": keep},
            )
        }
    )
    _, core = run_epochs(s, {"voice": [0.0, 5.0]})
    waits = [row[2] for row in core.count.contacts if row[3] == "abandoned"]
    assert len(waits) > 5
    assert (len(set(np.round(waits, 9))) == 1) == keep


def test_without_retrials_the_total_wait_service_level_is_the_service_level():
    s = scenario(
        {"voice": voice("10/min", patience=exp("1min"))}, agents=9, horizon="8h", warmup="1h"
    )
    result = ccsim.simulate(s, seed=2)
    row = result.kpis.loc["voice"]
    assert 0.3 < row["service_level"] < 1
    assert row["service_level_total_wait"] == pytest.approx(row["service_level"], rel=1e-12)
    rows = result.interval_kpis
    rows = rows[(rows.channel == "voice") & (rows.site == "all")]
    assert np.allclose(rows.service_level_total_wait, rows.service_level, equal_nan=True)


# --- every feature together: conservation ----------------------------------------------------


def everything():
    sl = {"threshold": "20s", "target": 0.8}
    channels = {
        "sales": voice(
            "6/min",
            exp("3min"),
            exp("2min"),
            balking={"probability": [0.0, 0.2, 0.5]},
            message={"max_wait": "90s"},
            close="08:00",
            retrial={"probability": 0.5, "delay": exp("10min"), "keep_patience": True},
        ),
        "service": voice(
            "3/min",
            exp("3min"),
            exp("3min"),
            callback={"threshold": "2min", "acceptance": 0.5, "deadline": "1h"},
            resolution=0.8,
            repeat={"probability": 0.5, "delay": exp("1h")},
            balking={"probability": 0.1},
        ),
        "support": voice("2/min", exp("4min"), exp("3min"), lines=6, close="07:30"),
        "chat": {
            "kind": "chat",
            "arrivals": {"rate": "3/min"},
            "handle_time": exp("5min"),
            "patience": exp("3min"),
            "service_level": sl,
            "concurrency": 2,
            "balking": {"probability": 0.3},
            "message": {"max_wait": "2min", "served": False},
            "silent_abandonment": {"share": 0.3, "handle_time": exp("30s")},
            "close": "06:00",
        },
    }
    return scenario(
        channels,
        agents=24,
        horizon="10h",
        warmup="1h",
        trunks={"main": {"lines": 25, "channels": ["sales", "service"]}},
    )


@pytest.mark.parametrize("seed", range(3))
def test_every_contact_ends_as_exactly_one_outcome_with_every_queue_feature(seed):
    core = build(everything(), Streams(seed))
    record = run(core)
    for counts in record.channels:
        t = total(counts.intervals)
        assert t.offered == ends(t), (counts.name, {n: getattr(t, n) for n in OUTCOMES})
        assert t.answered == t.resolved + t.escalated + t.unresolved
        assert t.customers_within_threshold <= t.customers
    totals = {counts.name: total(counts.intervals) for counts in record.channels}
    assert totals["sales:message"].offered == totals["sales"].messages
    for name in ("balked", "messages", "disconnected"):
        assert getattr(totals["sales"], name) > 0, name
    assert totals["chat"].disconnected + totals["support"].disconnected > 0
    # Nobody is left waiting or holding a line once the run is over.
    assert set(core.features["balking"].waiting.values()) == {0}
    assert {t.in_use for t in core.features["trunks"].trunk.values()} == {0}
    assert set(core.features["lines"].in_use.values()) == {0}


def test_features_are_built_only_when_used():
    plain = scenario({"voice": voice(patience=exp("1min"))})
    assert set(build(plain, Streams(0)).features) == {"staffing"}
    assert set(build(everything(), Streams(0)).features) >= {
        "balking",
        "messages",
        "closing",
        "trunks",
        "email",
    }


# --- bad input: one line naming the field ---------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "trunks", "path", "message"),
    [
        (
            {"mail": {**voice(), "kind": "email", "balking": {"probability": 0.2}}},
            None,
            "channels.mail.balking",
            "only for voice and chat",
        ),
        (
            {"mail": {**voice(), "kind": "email", "close": "20:00"}},
            None,
            "channels.mail.close",
            "only for voice and chat",
        ),
        (
            {"v": voice(balking={"probability": 1.5})},
            None,
            "channels.v.balking.probability",
            "0 to 1",
        ),
        (
            {"v": voice(balking={"probability": []})},
            None,
            "channels.v.balking.probability",
            "at least one",
        ),
        ({"v": voice(close="25:00")}, None, "channels.v.close", "HH:MM"),
        ({"v": voice(close_rule="at_end_of_service")}, None, "channels.v.close_rule", "close"),
        (
            {"v": voice(close="20:00", close_rule="later")},
            None,
            "channels.v.close_rule",
            "at_close",
        ),
        ({"v": voice(message={"max_wait": "0s"})}, None, "channels.v.message.max_wait", "positive"),
        (
            {"v": voice()},
            {"t": {"lines": 3, "channels": ["x"]}},
            "trunks.t.channels.0",
            "no channel",
        ),
        (
            {"v": voice(lines=3)},
            {"t": {"lines": 3, "channels": ["v"]}},
            "trunks.t.channels.0",
            "lines of its own",
        ),
        (
            {"v": {**voice(), "kind": "chat"}},
            {"t": {"lines": 3, "channels": ["v"]}},
            "trunks.t.channels.0",
            "no voice channel",
        ),
        (
            {"v": voice()},
            {"t": {"lines": 3, "channels": ["v"]}, "u": {"lines": 2, "channels": ["v"]}},
            "trunks.u.channels.0",
            "already on 't'",
        ),
    ],
)
def test_bad_queue_feature_input_names_the_field(channels, trunks, path, message):
    extra = {"trunks": trunks} if trunks else {}
    with pytest.raises(ccsim.ConfigError) as error:
        scenario(channels, **extra)
    assert error.value.path == path and message in error.value.message
    assert "\n" not in str(error.value)
