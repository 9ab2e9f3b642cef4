"""Routing policies: one contract every policy passes, then each policy's own promise.

The contract (as scikit-learn runs one suite over every estimator): every contact has
exactly one outcome; no agent takes a contact of a channel its site may not serve; no
contact waits while a site whose step it has reached has an idle agent (work
conservation, checked on the recorded contacts); every policy gives each contact the same
handle-time and patience draws (common random numbers); the same seed gives the same run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ccsim
from ccsim.model import ConfigError
from ccsim.sim.routing import POLICIES

HANDLE = {"dist": "exponential", "mean": "4min"}
PATIENCE = {"dist": "exponential", "mean": "3min"}
SPEED = {"a": 1.0, "b": 1.25}  # site b is slower on voice: its records show it
AGENTS = {"a": 4, "b": 3}


def channel(rate: str) -> dict:
    return {
        "arrivals": {"rate": rate},
        "handle_time": HANDLE,
        "patience": PATIENCE,
        "service_level": {"threshold": "20s", "target": 0.8},
    }


def contract_scenario(policy: str, layout: str) -> ccsim.Scenario:
    """Voice served by sites a and b (both at once, or b from 30 s of wait on); chat by
    site a alone. Split sends all voice to a, and b takes it only from its step on."""
    after = "0s" if layout == "together" else "30s"
    routing: dict = {
        "policy": policy,
        "overflow": {"voice": [{"site": "a"}, {"site": "b", "after": after}]},
    }
    if policy == "split":
        routing["shares"] = {"voice": {"a": 1.0}}
    return ccsim.parse_scenario(
        {
            "name": "contract",
            "horizon": "6h",
            "channels": {"voice": channel("1.6/min"), "chat": channel("0.3/min")},
            "sites": [
                {"name": "a", "agents": AGENTS["a"], "cost_per_hour": 30},
                {
                    "name": "b",
                    "agents": AGENTS["b"],
                    "cost_per_hour": 20,
                    "skills": ["voice"],
                    "proficiency": {"voice": SPEED["b"]},
                },
            ],
            "routing": routing,
        },
        source="contract.yaml",
    )


CASES = [
    (policy, layout)
    for policy in sorted(POLICIES)
    for layout in ("together", "overflow")
    if not (policy == "split" and layout == "together")
]


def run(policy: str, layout: str, seed: int = 3):
    return ccsim.simulate(contract_scenario(policy, layout), seed, record_contacts=True)


def test_every_policy_in_the_scenario_model_is_registered():
    from typing import get_args

    from ccsim.model import ROUTING_POLICIES, Routing

    assert set(POLICIES) == set(ROUTING_POLICIES)
    assert get_args(Routing.model_fields["policy"].annotation) == ROUTING_POLICIES


@pytest.mark.parametrize(("policy", "layout"), CASES)
def test_every_contact_has_exactly_one_outcome(policy, layout):
    result = run(policy, layout)
    for name, t in result.tallies.items():
        ends = t.answered + t.abandoned + t.carried_over + t.blocked + t.contained + t.callbacks
        ends += t.balked + t.messages + t.disconnected
        assert t.offered == ends, name
    assert len(result.contacts) == sum(
        t.answered + t.abandoned for n, t in result.tallies.items() if n != "all"
    )


@pytest.mark.parametrize(("policy", "layout"), CASES)
def test_no_agent_takes_a_contact_its_site_may_not_serve(policy, layout):
    answered = run(policy, layout).contacts.query("outcome == 'answered'")
    assert set(answered[answered.channel == "chat"].site) == {"a"}
    assert set(answered[answered.channel == "voice"].site) <= {"a", "b"}
    if layout == "overflow":  # b only from 30 s of wait on
        assert (answered[answered.site == "b"].wait >= 30.0 - 1e-9).all()


def _busy(services: np.ndarray, at: float) -> int:
    """Agents busy just after ``at``: services with start <= at < end."""
    return int(np.sum((services[:, 0] <= at) & (at < services[:, 1])))


@pytest.mark.parametrize(("policy", "layout"), CASES)
def test_no_contact_waits_while_a_site_it_has_reached_has_an_idle_agent(policy, layout):
    frame = run(policy, layout).contacts
    answered = frame[frame.outcome == "answered"]
    start = answered.arrival + answered.wait
    services = {
        site: np.column_stack([start[part.index], (start + answered.handle_time)[part.index]])
        for site, part in answered.groupby("site")
    }
    after_b = 0.0 if layout == "together" else 30.0
    ends = np.sort(np.concatenate([s[:, 1] for s in services.values()]))
    checked = 0
    for row in frame[frame.wait > 0].itertuples():
        left = row.arrival + row.wait
        moments = [row.arrival, *ends[(ends > row.arrival) & (ends < left)]]
        reached = {"a": 0.0} if row.channel == "chat" else {"a": 0.0, "b": after_b}
        for moment in moments:
            for site, after in reached.items():
                if moment - row.arrival >= after:
                    busy = _busy(services[site], moment) if site in services else 0
                    assert busy == AGENTS[site], (row, site, moment)
                    checked += 1
    assert checked > 100  # the case has queues to check


@pytest.mark.parametrize(("policy", "layout"), CASES)
def test_every_policy_gives_each_contact_the_same_draws(policy, layout):
    def draws(frame):
        answered = frame[frame.outcome == "answered"]
        speed = answered.site.map(SPEED).where(answered.channel == "voice", 1.0)
        keys = zip(answered.channel, answered.arrival, strict=True)
        handle = dict(zip(keys, answered.handle_time / speed, strict=True))
        gone = frame[frame.outcome == "abandoned"]
        keys = zip(gone.channel, gone.arrival, strict=True)
        patience = dict(zip(keys, gone.wait, strict=True))
        return handle, patience

    handle, patience = draws(run(policy, layout).contacts)
    reference_handle, reference_patience = draws(run("longest_idle", layout).contacts)
    same = handle.keys() & reference_handle.keys()
    assert len(same) > 0.9 * len(handle)
    for key in same:
        assert math.isclose(handle[key], reference_handle[key], rel_tol=1e-12)
    for key in patience.keys() & reference_patience.keys():
        assert math.isclose(patience[key], reference_patience[key], rel_tol=1e-12)


@pytest.mark.parametrize(("policy", "layout"), CASES)
def test_the_same_seed_gives_the_same_run(policy, layout):
    first, again = run(policy, layout, seed=11), run(policy, layout, seed=11)
    assert first.contacts.equals(again.contacts)
    assert first.totals == again.totals


# --- each policy's own promise ------------------------------------------------------------


def _share_bounds(share: float, n: int) -> tuple[float, float]:
    # A 4-sigma binomial interval: a false alarm about once in 16,000 runs.
    half = 4 * math.sqrt(share * (1 - share) / n)
    return share - half, share + half


def two_sites(routing: dict, agents=(60, 60), rate="3/min") -> ccsim.Scenario:
    return ccsim.parse_scenario(
        {
            "name": "shares",
            "horizon": "24h",
            "channels": {"chat": channel(rate)},
            "sites": [
                {"name": "vendor", "agents": agents[0]},
                {"name": "inhouse", "agents": agents[1]},
            ],
            "routing": routing,
        },
        source="shares.yaml",
    )


def test_split_sends_each_site_its_share_when_every_site_has_ample_agents():
    routing = {"policy": "split", "shares": {"chat": {"vendor": 0.4, "inhouse": 0.6}}}
    frame = ccsim.simulate(two_sites(routing), 8, record_contacts=True).contacts
    answered = frame[frame.outcome == "answered"]
    assert len(answered) == len(frame)  # ample agents: nobody waits, nobody abandons
    low, high = _share_bounds(0.4, len(answered))
    assert low < (answered.site == "vendor").mean() < high


def test_split_holds_a_contact_for_its_site_unless_another_may_overflow():
    routing = {"policy": "split", "shares": {"chat": {"vendor": 0.5, "inhouse": 0.5}}}
    # The vendor is short of agents: its contacts wait while the in-house site idles.
    frame = ccsim.simulate(
        two_sites(routing, agents=(1, 40), rate="2/min"), 2, record_contacts=True
    ).contacts
    vendor = frame[(frame.outcome == "answered") & (frame.site == "vendor")]
    assert (vendor.wait > 0).mean() > 0.3
    overflow = {
        **routing,
        "overflow": {"chat": [{"site": "vendor"}, {"site": "inhouse", "after": "1min"}]},
    }
    split = frame[frame.outcome == "answered"]
    again = ccsim.simulate(
        two_sites(overflow, agents=(1, 40), rate="2/min"), 2, record_contacts=True
    ).contacts
    answered = again[again.outcome == "answered"]
    assert answered.wait.max() <= 60.0 + 1e-9  # in-house takes any contact after a minute
    assert answered.wait.mean() < split.wait.mean()


def test_random_spreads_contacts_evenly_over_equally_staffed_sites():
    frame = ccsim.simulate(
        two_sites({"policy": "random"}, agents=(5, 5), rate="1/min"), 4, record_contacts=True
    ).contacts
    answered = frame[frame.outcome == "answered"]
    low, high = _share_bounds(0.5, len(answered))
    assert low < (answered.site == "vendor").mean() < high


def test_random_chooses_agents_not_sites():
    # Light load: nearly every agent is free, so a site's chance is its share of them.
    frame = ccsim.simulate(
        two_sites({"policy": "random"}, agents=(8, 2), rate="0.2/min"), 4, record_contacts=True
    ).contacts
    answered = frame[frame.outcome == "answered"]
    low, high = _share_bounds(0.8, len(answered))
    assert low - 0.02 < (answered.site == "vendor").mean() < high


def split(shares: dict, **extra) -> dict:
    return {"policy": "split", "shares": shares, **extra}


@pytest.mark.parametrize(
    ("routing", "path", "words"),
    [
        (split({"chat": {"vendor": 0.4, "inhouse": 0.5}}), "routing.shares.chat", "sum to 1"),
        (split({"chat": {"vendor": 0.4, "x": 0.6}}), "routing.shares.chat.x", "no site"),
        (split({"fax": {"vendor": 1.0}}), "routing.shares.fax", "no channel"),
        ({"policy": "split"}, "routing.shares", "needs shares"),
        ({"shares": {"chat": {"vendor": 1.0}}}, "routing.shares", "only with policy 'split'"),
        (split({"chat": {"vendor": 1.5}}), "routing.shares.chat.vendor", "less than or equal"),
        (
            split(
                {"chat": {"vendor": 0.5, "inhouse": 0.5}},
                overflow={"chat": [{"site": "vendor"}]},
            ),
            "routing.shares.chat.inhouse",
            "no agent for chat",
        ),
    ],
)
def test_bad_shares_name_the_field(routing, path, words):
    with pytest.raises(ConfigError) as info:
        two_sites(routing)
    message = str(info.value)
    assert path in message and words in message and "\n" not in message
    # The path once only: a check inside routing named its field from the top as well.
    assert f" {path}: " in message and "routing.routing" not in message


def test_cheapest_ranked_by_cost_once_picks_what_its_comparison_picks(monkeypatch):
    """`cheapest` ranks the sites by cost when the run starts instead of comparing
    (cost, idle since) per contact: the same agents take the same contacts, ties in cost
    (sites a and c) included."""
    from ccsim.sim.routing import Cheapest, RoutingPolicy

    def sites(costs):
        return [
            {"name": name, "agents": 3, "cost_per_hour": cost}
            for name, cost in zip("abc", costs, strict=True)
        ]

    for costs in ((30, 20, 30), (25, 40, 10)):
        scenario = ccsim.parse_scenario(
            {
                "name": "ranks",
                "horizon": "8h",
                "channels": {"voice": channel("2.5/min")},
                "sites": sites(costs),
                "routing": {"policy": "cheapest"},
            }
        )
        ranked = ccsim.simulate(scenario, 5, record_contacts=True).contacts
        with monkeypatch.context() as patch:
            patch.setattr(Cheapest, "router", RoutingPolicy.router)
            compared = ccsim.simulate(scenario, 5, record_contacts=True).contacts
        assert {"a", "b", "c"} <= set(ranked["site"])
        assert ranked.equals(compared)
