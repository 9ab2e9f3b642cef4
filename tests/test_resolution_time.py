"""Resolution time three ways (docs/metrics.md, *Resolution time, three ways*): per request
as a dashboard reports it, the median journey, and the share of customers resolved within
24 h. Known answers from deterministic times; the journey median and the share within 24 h
against an exponential return delay's distribution, within the replications' 99.9%
intervals.
"""

from __future__ import annotations

import math
from functools import partial

import pytest
from conftest import exponential, service_level
from conftest import scenario as build_scenario

import ccsim
from ccsim.experiment.summary import summarise
from ccsim.sim.kpis import JOURNEY_BINS

LEVEL = 0.999
scenario = partial(build_scenario, name="r", warmup="0s", source="resolution.yaml")


def deterministic(value) -> dict:
    return {"dist": "deterministic", "value": value}


def _bot_chat(
    bot: dict, handle: str = "120s", agents: int = 20, rate: str = "1/min", **fields
) -> ccsim.Scenario:
    """Chats (one a minute) that all start in the bot; agents plenty (nobody waits), each
    chat answered in ``handle``."""
    chat = {
        "kind": "chat",
        "arrivals": {"rate": rate},
        "handle_time": deterministic(handle),
        "service_level": service_level("60s"),
        "bot": {"share": 1.0, **bot},
    }
    return scenario({"chat": chat}, [{"name": "a", "agents": agents}], **fields)


def test_every_request_closed_by_a_bot_of_fixed_length_takes_that_length():
    s = _bot_chat({"handle_time": deterministic("90s"), "containment": 1.0}, horizon="4h")
    result = ccsim.simulate(s, 1)
    tally = result.tallies["chat"]
    assert tally.contained == tally.offered > 100
    assert tally.contained_time == pytest.approx(90.0 * tally.contained)
    kpis = result.kpis.loc["chat"]
    assert kpis["request_resolution_time"] == pytest.approx(90.0)
    assert kpis["mean_resolution_time"] == pytest.approx(90.0)
    assert kpis["resolved_within_24h"] == 1.0
    # The median journey, read off the bins: every journey lies between the 1 and 2 min
    # points, so linear between them half are resolved by 90 s, the journeys' own length
    # (with a first point at 5 min it read 2.5 min, the grid's resolution).
    assert [p for _, p in JOURNEY_BINS[:2]] == [60.0, 120.0]
    assert kpis["median_resolution_time"] == pytest.approx(90.0)


def test_a_false_containment_counts_as_closed_and_its_return_as_a_new_request():
    # Every session ends falsely contained after 60 s; the customer comes back 10 min
    # later, straight to an agent (no wait), whose 120 s service resolves. A dashboard
    # sees n requests of 60 s and m of 120 s (the returns that reached the window); the
    # customer's journey is 60 + 600 + 120 s.
    bot = {
        "handle_time": deterministic("60s"),
        "containment": 0.0,
        "false_containment": 1.0,
        "return_delay": deterministic("600s"),
    }
    result = ccsim.simulate(_bot_chat(bot, horizon="4h", follow_journeys="1h"), 2)
    tally = result.tallies["chat"]
    n, m = tally.contained, tally.answered
    assert n > 100 and 0 < m < n  # the returns of the last 11 minutes come after the horizon
    assert tally.wait_answered == 0.0
    kpis = result.kpis.loc["chat"]
    assert kpis["request_resolution_time"] == pytest.approx((60.0 * n + 120.0 * m) / (n + m))
    assert kpis["mean_resolution_time"] == pytest.approx(780.0)
    assert kpis["ticket_resolution_time"] == pytest.approx(120.0)


def test_an_agent_handled_request_runs_from_its_arrival_to_the_end_of_its_service():
    # Without a bot the dashboard's request is the contact: wait plus handle time, over
    # answered contacts, whether the agent resolved it or not (one agent: waits happen).
    voice = {
        "arrivals": {"rate": "1/min"},
        "handle_time": exponential("50s"),
        "service_level": service_level(),
        "resolution": 0.6,
    }
    result = ccsim.simulate(scenario({"voice": voice}, [{"name": "a", "agents": 1}],
                                     horizon="6h"), 5)  # fmt: skip
    tally = result.tallies["voice"]
    assert tally.wait_answered > 0 and tally.unresolved > 0
    expected = (tally.wait_answered + tally.handle_time) / tally.answered
    assert result.kpis.loc["voice", "request_resolution_time"] == pytest.approx(expected)


def _exponential_return(mean: float) -> ccsim.Scenario:
    """Every customer is falsely contained after 1 s and comes back an exponential
    ``mean`` after the session, to an agent who resolves in 1 s (no wait): the journey is
    2 s + D, D ~ Exp(mean). Five a minute over a 12-hour window, followed for 7 days."""
    bot = {
        "handle_time": deterministic("1s"),
        "containment": 0.0,
        "false_containment": 1.0,
        "return_delay": exponential(mean),
    }
    return _bot_chat(bot, "1s", 10, "5/min", horizon="12h", follow_journeys="7d")


def _interpolated_median(mean: float) -> float:
    """The median the KPI estimates: the true share resolved, 1 - exp(-(t - 2) / mean),
    at the grid's points, linear in between (exact where the median falls on a point)."""
    points = [0.0, *(point for _, point in JOURNEY_BINS)]
    shares = [0.0, *(1 - math.exp(-max(t - 2.0, 0.0) / mean) for t in points[1:])]
    pairs = list(zip(points, shares, strict=True))
    for (t0, f0), (t1, f1) in zip(pairs, pairs[1:], strict=False):
        if f1 >= 0.5:
            return t0 + (t1 - t0) * (0.5 - f0) / (f1 - f0)
    raise AssertionError("median beyond the grid")


@pytest.mark.parametrize("median", [7200.0, 3 * 3600.0])
def test_median_journey_of_an_exponential_return_delay(median):
    # Exp(mean) has median mean ln 2: on the 2 h point (exact up to the 2 s of bot and
    # service) and half way to the next (4 h), where the interpolation reads the chord.
    mean = median / math.log(2)
    expected = _interpolated_median(mean)
    if median == 7200.0:
        assert expected == pytest.approx(7200.0, abs=5.0)
    table = ccsim.run_replications(_exponential_return(mean), 10, seed=3)
    rows = summarise(table, LEVEL).set_index(["channel", "kpi"])
    row = rows.loc[("chat", "median_resolution_time")]
    assert row.method == "quantile of totals"
    assert row.ci_low <= expected <= row.ci_high, (expected, row)
    assert row.ci_high - row.ci_low < 1200
    assert rows.loc[("chat", "censored_share")].estimate == 0.0


def test_share_resolved_within_24_hours_of_an_exponential_return_delay():
    # P(2 s + D <= 24 h) for D ~ Exp(1 day): 1 - exp(-(86400 - 2) / 86400), about 63.2%.
    mean = 86400.0
    expected = 1 - math.exp(-(86400.0 - 2.0) / mean)
    table = ccsim.run_replications(_exponential_return(mean), 10, seed=5)
    row = summarise(table, LEVEL).set_index(["channel", "kpi"]).loc[("chat", "resolved_within_24h")]
    assert row.ci_low <= expected <= row.ci_high, (expected, row)


def test_share_within_24_hours_counts_every_customer_by_hand():
    # Half the sessions truly contained (resolved at 30 s), half falsely with a return
    # 30 h later: by hand, the share within 24 h is the truly contained share exactly,
    # while the dashboard sees every session closed in 30 s plus the returns it answered.
    bot = {
        "handle_time": deterministic("30s"),
        "containment": 0.5,
        "false_containment": 0.5,
        "return_delay": deterministic("30h"),
    }
    result = ccsim.simulate(_bot_chat(bot, horizon="8h", follow_journeys="2d"), 4)
    tally = result.tallies["chat"]
    kpis = result.kpis.loc["chat"]
    assert 0 < tally.bot_resolutions < tally.customers
    assert kpis["resolved_within_24h"] == pytest.approx(tally.bot_resolutions / tally.customers)
    assert tally.answered == 0  # every return comes after the horizon: not the window's
    assert kpis["request_resolution_time"] == pytest.approx(30.0)


def test_the_median_journey_of_a_plain_queue_is_its_customers_median():
    """In a plain queue a customer is resolved at the end of the first answered contact
    (never, if they abandon): the median journey is the median over all customers of wait
    plus handle time, the abandoned counting as never resolved. With 5 min as the first
    journey point, example.yaml's 142 s median read 199 s (a straight line from 0 to the
    share resolved by 5 min); with points a minute apart it must sit within a few seconds
    of the customers' own median, far inside the grid's minute."""
    from pathlib import Path

    import numpy as np

    root = Path(__file__).resolve().parents[1]
    scenario = ccsim.load_scenario(root / "configs/example.yaml")
    result = ccsim.simulate(scenario, 1, record_contacts=True)
    log = result.contacts[result.contacts["counted"]]
    journeys = np.where(log["outcome"] == "answered", log["wait"] + log["handle_time"], math.inf)
    assert len(journeys) > 1000 and set(log["outcome"]) <= {"answered", "abandoned"}
    true_median = float(np.median(journeys))
    assert 60 < true_median < 300  # inside the first 5 minutes, where the old grid read a line
    kpi = float(result.kpis.loc["voice", "median_resolution_time"])
    assert abs(kpi - true_median) < 10, (kpi, true_median)
