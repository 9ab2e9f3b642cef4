"""The engine's invariants: conservation, determinism, synchronised streams, sane waits.

Property tests run small random scenarios (Hypothesis) and check what must hold for every
scenario and seed, not a number a run once printed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import channel
from conftest import scenario as build_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ccsim
from ccsim.sim.engine import CONTACT_COLUMNS


def scenario(
    *,
    rate="3/min",
    handle="{dist: exponential, mean: 3min}",
    patience="{dist: exponential, mean: 2min}",
    agents=11,
    horizon="8h",
    warmup="0s",
    threshold="20s",
    extra_channels=None,
):
    """One voice channel and one site; ``handle`` and ``patience`` in YAML flow style."""
    voice = channel(
        rate, _flow(handle), None if patience is None else _flow(patience), threshold=threshold
    )
    return build_scenario(
        {"voice": voice, **(extra_channels or {})},
        [{"name": "main", "agents": agents}],
        horizon=horizon,
        warmup=warmup,
    )


def _flow(text):
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def test_kpis_frame_has_one_row_per_channel_and_every_kpi():
    result = ccsim.simulate(scenario(), seed=1)
    assert list(result.kpis.index) == ["voice"]
    assert list(result.kpis.columns) == list(ccsim.sim.metrics.KPI_NAMES)
    assert result.contacts is None  # nothing per contact unless asked


def test_same_seed_same_result_and_different_seed_differs():
    a = ccsim.simulate(scenario(), seed=5).kpis
    b = ccsim.simulate(scenario(), seed=5).kpis
    c = ccsim.simulate(scenario(), seed=6).kpis
    assert a.equals(b)
    assert not a.equals(c)


def test_seed_sequence_child_is_accepted_and_matches_run_replications():
    seed = np.random.SeedSequence(3).spawn(4)[2]
    kpis = ccsim.simulate(scenario(), seed=seed).kpis
    table = ccsim.run_replications(scenario(), n_reps=4, seed=3)
    row = table[table.replication == 2].iloc[0]
    assert row["offered"] == kpis.loc["voice", "offered"]
    assert row["asa"] == kpis.loc["voice", "asa"]


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError):
        ccsim.simulate(scenario(), seed=seed)


def test_contact_records_agree_with_tallies():
    result = ccsim.simulate(scenario(warmup="1h"), seed=2, record_contacts=True)
    contacts = result.contacts
    assert list(contacts.columns) == list(CONTACT_COLUMNS)
    counted = contacts[contacts.counted]
    tally = result.tallies["voice"]
    answered = counted[counted.outcome == "answered"]
    abandoned = counted[counted.outcome == "abandoned"]
    assert len(counted) == tally.offered
    assert len(answered) == tally.answered and len(abandoned) == tally.abandoned
    assert answered.wait.sum() == pytest.approx(tally.wait_answered)
    assert (answered.wait <= 20).sum() == tally.answered_within_threshold
    assert (abandoned.wait > 20).sum() == tally.abandoned_after_threshold
    assert (counted.wait > 0).sum() == tally.waited
    # Arrivals stop at the horizon; warm-up arrivals are simulated but not counted.
    assert contacts.arrival.max() < 8 * 3600
    assert not contacts[~contacts.counted].empty
    assert (contacts[~contacts.counted].arrival < 3600).all()


def test_arrivals_are_poisson_with_the_configured_rate():
    # 20 replications of 8 h at 3/min: 28,800 expected arrivals, sd 170.
    offered = sum(ccsim.simulate(scenario(), seed=s).tallies["voice"].offered for s in range(20))
    assert abs(offered - 28_800) < 5 * math.sqrt(28_800)


def test_without_patience_nobody_abandons_and_everyone_is_answered():
    result = ccsim.simulate(scenario(patience=None, agents=9, rate="3.2/min"), seed=3)
    tally = result.tallies["voice"]
    assert tally.abandoned == 0 and tally.answered == tally.offered


def test_queue_served_after_close():
    # Overloaded for the whole day with no abandonment: the queue built up during the day is
    # worked off after the horizon, and every counted contact is answered.
    result = ccsim.simulate(scenario(patience=None, agents=5), seed=4, record_contacts=True)
    tally = result.tallies["voice"]
    assert tally.answered == tally.offered > 0
    last_end = (result.contacts.arrival + result.contacts.wait + result.contacts.handle_time).max()
    assert last_end > 8 * 3600 + 3600
    # Occupancy only counts [warmup, horizon): it cannot exceed 1 even though agents work on.
    assert result.kpis.loc["voice", "occupancy"] <= 1.0


def test_streams_stay_synchronised_across_staffing():
    """Contact i gets the same arrival, handle time and patience whatever the staffing."""
    small = ccsim.simulate(scenario(agents=8), seed=9, record_contacts=True).contacts
    large = ccsim.simulate(scenario(agents=14), seed=9, record_contacts=True).contacts
    small, large = small.sort_values("arrival"), large.sort_values("arrival")
    assert np.array_equal(small.arrival.to_numpy(), large.arrival.to_numpy())
    both = small.merge(large, on="arrival", suffixes=("_s", "_l"))
    answered = both[(both.outcome_s == "answered") & (both.outcome_l == "answered")]
    assert np.allclose(answered.handle_time_s, answered.handle_time_l)


def test_adding_a_channel_leaves_the_other_channels_draws_unchanged():
    email = {
        "arrivals": {"rate": "1/min"},
        "handle_time": {"dist": "exponential", "mean": "5min"},
        "service_level": {"threshold": "1h", "target": 0.8},
    }
    alone = ccsim.simulate(scenario(), seed=11, record_contacts=True).contacts
    with_email = ccsim.simulate(
        scenario(extra_channels={"email": email}), seed=11, record_contacts=True
    ).contacts
    voice = with_email[with_email.channel == "voice"]
    assert np.array_equal(np.sort(alone.arrival), np.sort(voice.arrival))


def test_two_channels_share_agents_first_come_first_served():
    chat = {
        "arrivals": {"rate": "2/min"},
        "handle_time": {"dist": "exponential", "mean": "2min"},
        "service_level": {"threshold": "1min", "target": 0.8},
    }
    result = ccsim.simulate(
        scenario(patience=None, agents=14, extra_channels={"chat": chat}),
        seed=5,
        record_contacts=True,
    )
    contacts = result.contacts
    assert set(contacts.channel) == {"voice", "chat"}
    # FCFS across channels: answer order equals arrival order among contacts that waited.
    answered = contacts[contacts.outcome == "answered"].copy()
    answered["start"] = answered.arrival + answered.wait
    waited = answered[answered.wait > 0].sort_values("start")
    assert waited.arrival.is_monotonic_increasing
    kpis = result.kpis
    # One shared pool: each channel's occupancy is its share of the pool's time.
    assert kpis.loc["voice", "occupancy"] + kpis.loc["chat", "occupancy"] == pytest.approx(
        kpis.loc["all", "occupancy"]
    )
    assert kpis.loc["all", "available_agents"] == 14


# --- properties over random small scenarios --------------------------------------------------

DISTS = st.sampled_from(
    [
        "{dist: exponential, mean: 2min}",
        "{dist: lognormal, mean: 3min, cv: 1.2}",
        "{dist: gamma, mean: 1min, cv: 0.4}",
        "{dist: erlang, mean: 90s, k: 3}",
        "{dist: uniform, low: 10s, high: 4min}",
        "{dist: deterministic, value: 2min}",
        "{dist: empirical, values: [30s, 1min, 5min]}",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.floats(0.2, 8.0),
    agents=st.integers(1, 12),
    handle=DISTS,
    patience=st.one_of(st.none(), DISTS),
    warmup_share=st.sampled_from([0.0, 0.25]),
    seed=st.integers(0, 2**32),
)
def test_invariants_hold_for_any_scenario(rate, agents, handle, patience, warmup_share, seed):
    horizon = 3 * 3600
    s = scenario(
        rate=f"{rate}/min",
        agents=agents,
        handle=handle,
        patience=patience,
        horizon=horizon,
        warmup=warmup_share * horizon,
    )
    result = ccsim.simulate(s, seed=seed, record_contacts=True)
    t = result.tallies["voice"]
    contacts = result.contacts
    # Conservation: every counted arrival ends as exactly one outcome.
    assert t.offered == t.answered + t.abandoned == int(contacts.counted.sum())
    assert (contacts.wait >= 0).all()
    assert set(contacts.outcome) <= {"answered", "abandoned"}
    assert 0 <= t.busy_time <= t.staffed_time + 1e-6
    assert t.waited <= t.offered
    assert t.answered_within_threshold <= t.answered
    if patience is None:
        assert t.abandoned == 0
    k = result.kpis.loc["voice"]
    for name in ("p_wait", "abandon_rate", "service_level", "occupancy"):
        # Busy time is a float sum of service overlaps: allow rounding at full occupancy.
        assert math.isnan(k[name]) or 0 <= k[name] <= 1 + 1e-9
    if t.answered:
        assert k.service_level <= k.service_level_answered + 1e-12


@settings(max_examples=25, deadline=None)
@given(
    rate=st.floats(1.0, 6.0),
    agents=st.integers(1, 10),
    extra=st.integers(1, 3),
    handle=DISTS,
    seed=st.integers(0, 2**32),
)
def test_more_agents_never_make_any_wait_longer(rate, agents, extra, handle, seed):
    """Without abandonment, FCFS and the same contacts (common random numbers), adding agents
    can only shorten each contact's wait (Kiefer-Wolfowitz workload monotonicity)."""
    runs = [
        ccsim.simulate(
            scenario(rate=f"{rate}/min", agents=n, handle=handle, patience=None, horizon="2h"),
            seed=seed,
            record_contacts=True,
        ).contacts.sort_values("arrival")
        for n in (agents, agents + extra)
    ]
    fewer, more = (run.wait.to_numpy() for run in runs)
    assert np.all(more <= fewer + 1e-9)


def test_interval_tallies_add_up_to_the_totals_and_follow_arrivals():
    s = scenario(warmup="45min", horizon="4h")  # warm-up ends inside the second interval
    result = ccsim.simulate(s, seed=12, record_contacts=True)
    frame = result.interval_kpis
    assert list(frame.interval) == list(range(1, 8))  # [30min, 4h): the first is all warm-up
    assert np.allclose(frame.interval_start, np.arange(1, 8) * 1800)
    assert frame.offered.sum() == result.tallies["voice"].offered
    counted = result.contacts[result.contacts.counted]
    by_arrival = (counted.arrival // 1800).astype(int).value_counts().sort_index()
    assert by_arrival.to_dict() == dict(zip(frame.interval, frame.offered, strict=True))
    rows = result.interval_rows()
    assert sum(r["busy_time"] for r in rows) == pytest.approx(result.tallies["voice"].busy_time)
    assert sum(r["queue_time"] for r in rows) == pytest.approx(result.tallies["voice"].queue_time)
    observed = [r["observed_time"] for r in rows]
    assert observed == [900.0] + [1800.0] * 6  # the part of interval 1 after the warm-up
    assert all(r["staffed_time"] == 11 * r["observed_time"] for r in rows)
    assert all(r["busy_time"] <= r["staffed_time"] + 1e-6 for r in rows)


def test_interval_length_is_configurable():
    result = ccsim.simulate(scenario(horizon="3h").model_copy(update={"interval": 900.0}), seed=1)
    assert len(result.interval_kpis) == 12


@pytest.mark.parametrize("enabled", [True, False])
def test_simulate_gives_back_the_garbage_collector_as_it_found_it(enabled):
    # simulate pauses the cyclic collector for the run (nothing per contact forms a
    # cycle); a caller's collector must come back on, and one switched off stay off.
    import gc

    small = build_scenario(
        {"voice": channel(rate="2/min", handle="3min")},
        [{"name": "s", "agents": 6, "skills": ["voice"]}],
        horizon="1h",
    )
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        ccsim.simulate(small, seed=1)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_scenario_copied_through_its_dump_simulates_the_same():
    """Email comes after live work unless given a priority. That default once hung on
    whether the field was written, which a copy through the dump (every override, the
    staffing search, the frontier) loses: voice then shared its agents with email at equal
    priority, and the staffing search judged a different centre from the file it wrote."""
    scenario = ccsim.parse_scenario(
        {
            "name": "blended",
            "horizon": "8h",
            "channels": {
                "voice": {
                    "arrivals": {"rate": "2/min"},
                    "service_level": {"threshold": "20s", "target": 0.8},
                    "handle_time": {"dist": "exponential", "mean": "4min"},
                    "patience": {"dist": "exponential", "mean": "3min"},
                },
                "email": {
                    "kind": "email",
                    "arrivals": {"rate": "1/min"},
                    "handle_time": {"dist": "exponential", "mean": "5min"},
                    "service_level": {"threshold": "24h", "target": 0.9},
                },
            },
            "sites": [{"name": "floor", "agents": 12}],
        }
    )
    copy = ccsim.parse_scenario(scenario.model_dump(mode="json"))
    first, second = ccsim.simulate(scenario, seed=3), ccsim.simulate(copy, seed=3)
    pd.testing.assert_frame_equal(first.kpis, second.kpis)
    assert copy.channels["email"].priority is None
