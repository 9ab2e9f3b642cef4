"""Customer journeys: followed past the horizon (``follow_journeys``), censored at the
cut-off rather than dropped; journey and ticket resolution time; agent FCR apart from bot
containment (docs/metrics.md, *Journeys and their cut-off*).

Known answers from deterministic delays; probabilities within the replications' 99.9%
intervals; conservation exact in every replication.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from conftest import exponential, service_level
from conftest import scenario as build_scenario

import ccsim
from ccsim.experiment.stats import ratio_ci
from ccsim.experiment.summary import compare, summarise
from ccsim.model.calendar import Calendar
from ccsim.sim.metrics import ChannelTally, journey_quantile
from ccsim.sim.shifts import roster

LEVEL = 0.999
scenario = partial(build_scenario, name="j", warmup="0s", source="journeys.yaml")


def deterministic(value) -> dict:
    return {"dist": "deterministic", "value": value}


def _falsely_contained(**fields) -> ccsim.Scenario:
    """Every customer tries the bot for 1 s, is falsely contained and comes back exactly
    2 h after arriving (1 s + 7199 s); agents plenty, every repeat resolved in 60 s."""
    bot = {
        "share": 1.0,
        "handle_time": deterministic("1s"),
        "containment": 0.0,
        "false_containment": 1.0,
        "return_delay": deterministic("7199s"),
    }
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "1/min"},
        "handle_time": deterministic("60s"),
        "service_level": service_level("60s"),
        "bot": bot,
    }
    return scenario({"chat": chat}, [{"name": "a", "agents": 10}], horizon="1h", **fields)


def test_a_return_before_the_cut_off_resolves_one_after_it_is_censored():
    # Horizon 1 h, cut-off 2.5 h: the customers of the first half hour come back before the
    # cut-off (t + 2 h < 2.5 h) and are resolved 2 h 1 min after arriving, no wait (10
    # agents, one return a minute); those of the second come back after it: censored.
    result = ccsim.simulate(_falsely_contained(follow_journeys="1.5h"), 3)
    first, second = result.interval_tallies[("chat", "all")][:2]
    for tally in (first, second):
        assert tally.customers > 0
        assert tally.offered == tally.customers  # returns after the horizon: no contacts
    assert first.resolutions == first.customers and first.censored == 0
    assert first.resolution_time == pytest.approx(first.customers * 7260.0)
    assert first.journeys_within_2h == 0 and first.journeys_within_4h == first.customers
    assert second.resolutions == 0 and second.censored == second.customers
    whole = result.totals[("chat", "all")]
    n, resolved = whole.customers, first.customers
    assert whole.journeys_within_24h == resolved
    assert result.tallies["chat"].reached_agent == resolved
    kpis = result.kpis.loc["chat"]
    assert kpis["resolved_within_24h"] == pytest.approx(resolved / n)
    assert kpis["censored_share"] == pytest.approx((n - resolved) / n)
    assert kpis["mean_resolution_time"] == pytest.approx(7260.0)
    # The resolving tickets are the repeat contacts, after the horizon: not the window's.
    assert math.isnan(kpis["ticket_resolution_time"])
    # Median over all customers: none by 2 h, the resolved by 4 h (linear in between).
    share_at_4h = resolved / n
    expected = 7200 + 7200 * 0.5 / share_at_4h if share_at_4h >= 0.5 else math.inf
    assert journey_quantile(whole) == pytest.approx(expected)


def test_without_following_returns_after_the_horizon_are_censored_not_dropped():
    whole = ccsim.simulate(_falsely_contained(), 3).totals[("chat", "all")]
    assert whole.customers > 0
    assert whole.resolutions == 0 and whole.censored == whole.customers


def _never_lost(**fields) -> ccsim.Scenario:
    """No customer is ever lost: no patience, every unresolved customer comes back; voice
    escalates to tier 2, chats are held two at a time, email too. Each customer ends
    resolved or censored."""
    repeat = {"probability": 1.0, "delay": exponential("30min")}
    voice = {
        "arrivals": {"rate": "2/min"},
        "handle_time": exponential("5min"),
        "service_level": service_level("20s"),
        "resolution": 0.6,
        "escalation": "tier2",
        "repeat": repeat,
    }
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "1/min"},
        "handle_time": exponential("6min"),
        "service_level": service_level("60s"),
        "concurrency": 2,
        "resolution": 0.7,
        "repeat": repeat,
    }
    email = {
        "kind": "email",
        "arrivals": {"rate": "1/min"},
        "handle_time": exponential("4min"),
        "service_level": service_level("1h"),
        "resolution": 0.8,
        "repeat": repeat,
    }
    tier2 = {
        "handle_time": exponential("8min"),
        "service_level": service_level(),
        "resolution": 0.5,
    }
    channels = {"voice": voice, "chat": chat, "email": email, "tier2": tier2}
    return scenario(channels, [{"name": "a", "agents": 16}], horizon="4h", **fields)


@pytest.mark.parametrize("follow", [None, "1h"])
def test_every_customer_ends_resolved_or_censored(follow):
    # With the cut-off 1 h after the horizon, contacts are still waiting, in service and
    # coming back when the run stops: each of their customers is censored once.
    s = _never_lost(**({"follow_journeys": follow} if follow else {}))
    for seed in range(3):
        totals = ccsim.simulate(s, seed).totals
        censored = 0
        for channel in ("voice", "chat", "email"):
            tally = totals[(channel, "all")]
            assert tally.resolutions + tally.censored == tally.customers, (channel, seed)
            censored += tally.censored
        assert censored > 0


def test_following_resolves_more_and_leaves_the_window_contacts_alone():
    # The tail adds resolutions of the window's customers; the window's contacts are the
    # same contacts (same seed) whose outcomes fall before the horizon.
    cut = ccsim.simulate(_never_lost(), 5).totals[("voice", "all")]
    followed = ccsim.simulate(_never_lost(follow_journeys="2d"), 5).totals[("voice", "all")]
    assert followed.customers == cut.customers
    assert followed.resolutions > cut.resolutions
    assert followed.censored < cut.censored


def test_agent_fcr_is_apart_from_bot_containment():
    # 30% of customers are truly contained; the rest reach an agent who resolves 70% at
    # once and the others for good later (tier 2 resolves all). Agent FCR 0.7; customer FCR
    # with the bot 0.3 + 0.7 x 0.7 = 0.79.
    bot = {
        "share": 1.0,
        "handle_time": exponential("1min"),
        "containment": 0.3,
        "false_containment": 0.0,
    }
    chat = {
        "kind": "chat",
        "arrivals": {"rate": "4/min"},
        "handle_time": exponential("3min"),
        "service_level": service_level("60s"),
        "bot": bot,
        "resolution": 0.7,
        "escalation": "tier2",
    }
    tier2 = {
        "handle_time": exponential("5min"),
        "service_level": service_level(),
        "resolution": 1.0,
    }
    s = scenario({"chat": chat, "tier2": tier2}, [{"name": "a", "agents": 30}], horizon="8h")
    table = ccsim.run_replications(s, 10, seed=7)
    table = table[(table.channel == "chat") & (table.site == "all")]
    estimates = {
        0.3: ratio_ci(table.bot_resolutions, table.customers, LEVEL),
        0.7: ratio_ci(table.agent_first_resolutions, table.reached_agent, LEVEL),
        0.79: ratio_ci(table.first_contact_resolutions, table.customers, LEVEL),
    }
    for value, estimate in estimates.items():
        assert estimate.low <= value <= estimate.high, (value, estimate)
    # Resolution 1 at the first tier: every customer who reaches an agent is resolved there.
    chat["resolution"], chat["escalation"] = 1.0, None
    whole = ccsim.simulate(scenario({"chat": chat}, [{"name": "a", "agents": 30}], horizon="8h"))
    tally = whole.totals[("chat", "all")]
    assert tally.agent_first_resolutions == tally.reached_agent > 0
    assert tally.reached_agent + tally.bot_resolutions == tally.customers


def test_median_journey_time_from_the_bins():
    # 4 customers: 1 resolved within 1 h, 2 more within 4 h, 1 censored. Half (2) are
    # resolved half way from 2 h (1 resolved) to 4 h (3): 2 h + 2 h / 2 = 3 h.
    tally = ChannelTally(customers=4, censored=1)
    tally.journeys_within_1h = tally.journeys_within_2h = 1
    for name in ("4h", "8h", "24h", "48h", "72h", "168h"):
        setattr(tally, f"journeys_within_{name}", 3)
    assert journey_quantile(tally) == pytest.approx(3 * 3600)
    # An eighth (0.5 customer) half way from 45 min (0) to 1 h (1).
    assert journey_quantile(tally, 0.125) == pytest.approx(2700 + 900 * 0.5)
    assert journey_quantile(tally, 0.8) == math.inf  # 3 of 4 ever resolved
    assert math.isnan(journey_quantile(ChannelTally()))


def _no_queue(median: float) -> ccsim.Scenario:
    """Voice with far more agents than calls (86.6 erlangs, 200 agents: nobody waits) and
    exponential handle times of median ``median``: every caller is resolved at the end of
    the first call, so the journey is the handle time, its median ``m ln 2``."""
    voice = {
        "arrivals": {"rate": "2/min"},
        "handle_time": exponential(median / math.log(2)),
        "service_level": service_level(),
    }
    return scenario({"voice": voice}, [{"name": "a", "agents": 200}], horizon="8h")


@pytest.mark.slow
def test_median_journey_of_exponential_handle_times_is_m_ln_2():
    # Medians on grid points (30 and 20 min): linear interpolation is exact there, so the
    # interval must hold the true value (the old 1 h first point read 40 min for 30).
    replications = {}
    for name, median in (("slow", 1800.0), ("fast", 1200.0)):
        table = ccsim.run_replications(_no_queue(median), 10, seed=11)
        replications[name] = table.assign(scenario=name)
        row = (
            summarise(table, LEVEL)
            .set_index(["channel", "kpi"])
            .loc[("voice", "median_resolution_time")]
        )
        assert row.method == "quantile of totals"
        assert row.ci_low <= median <= row.ci_high, (median, row)
        assert row.ci_high - row.ci_low < 300  # a few minutes, not the grid's hour
    # Common random numbers: the same calls, every handle time scaled by 2/3; the paired
    # difference is -10 min, inside an interval narrower than either median's.
    both = pd.concat(replications.values(), ignore_index=True)
    diff = (
        compare(both, "slow", LEVEL)
        .set_index(["channel", "kpi"])
        .loc[("voice", "median_resolution_time")]
    )
    assert diff.ci_low <= -600 <= diff.ci_high, diff
    assert diff.baseline_value == pytest.approx(1800, abs=120)


def _returns_median(r: float, delay: float, handle: float) -> float:
    """The median journey when each contact (``handle`` s, no wait) resolves with
    probability ``r`` and an unresolved customer comes back an exponential ``delay`` after
    the end of the contact: resolved at contact N ~ Geometric(r) at N handle + a sum of
    N - 1 delays, so F(t) = sum_k r (1 - r)^(k-1) P(Gamma(k - 1, delay) <= t - k handle)."""
    from scipy import optimize, stats

    def share(t: float) -> float:
        k = np.arange(1, 200)
        rest = t - k * handle
        later = stats.gamma.cdf(np.maximum(rest, 0), np.maximum(k - 1, 1), scale=delay)
        within = np.where(k == 1, rest >= 0, later)
        return float(np.sum(r * (1 - r) ** (k - 1) * within))

    return optimize.brentq(lambda t: share(t) - 0.5, 1.0, 1e6)


@pytest.mark.slow
def test_median_journey_with_returns_is_known_by_hand():
    # Without handle times the journey is 0 with probability r, else exponential of mean
    # delay / r (a geometric sum of exponentials): the median solves
    # r + (1 - r)(1 - exp(-r t / delay)) = 1/2, t = delay / r ln(2 (1 - r)). With r = 0.2
    # and the delay chosen for t = 1 h (a grid point), 1 s handle times add a few seconds.
    r = 0.2
    delay = 3600 * r / math.log(2 * (1 - r))
    expected = _returns_median(r, delay, 1.0)
    assert expected == pytest.approx(3600, abs=10)
    voice = {
        "arrivals": {"rate": "10/min"},
        "handle_time": deterministic("1s"),
        "service_level": service_level(),
        "resolution": r,
        "repeat": {"probability": 1.0, "delay": exponential(delay)},
    }
    # Followed for a day after the horizon: all but about 1e-5 of the journeys end.
    s = scenario(
        {"voice": voice}, [{"name": "a", "agents": 20}], horizon="8h", follow_journeys="1d"
    )
    table = ccsim.run_replications(s, 10, seed=4)
    row = (
        summarise(table, LEVEL)
        .set_index(["channel", "kpi"])
        .loc[("voice", "median_resolution_time")]
    )
    assert row.ci_low <= expected <= row.ci_high, (expected, row)
    assert row.ci_high - row.ci_low < 600
    # Censored and lost customers count as never resolved: the same journeys cut off at
    # the horizon put the median later (customers of the last hours are censored).
    cut = ccsim.run_replications(
        scenario({"voice": voice}, [{"name": "a", "agents": 20}], horizon="8h"), 10, seed=4
    )
    cut_row = (
        summarise(cut, LEVEL).set_index(["channel", "kpi"]).loc[("voice", "median_resolution_time")]
    )
    assert cut_row.estimate > row.estimate


def test_the_roster_goes_on_past_the_horizon_by_weekday():
    # Weekday shifts from Monday, horizon one day: followed for two more days, the
    # Tuesday and Wednesday shifts come too.
    s = scenario(
        {"voice": {"arrivals": {"rate": "1/min"}, "handle_time": exponential("1min"),
                   "service_level": service_level()}},
        [{"name": "a", "shifts": [{"start": "09:00", "length": "8h", "headcount": 3,
                                   "days": ["mon", "tue", "wed", "thu", "fri"]}]}],
        horizon="1d",
    )  # fmt: skip
    calendar: Calendar = s.calendar()
    assert len(roster(s.sites[0], calendar)) == 1
    assert [i.start / 3600 for i in roster(s.sites[0], calendar, 3 * 86400.0)] == [9, 33, 57]
