"""Random absence (``sites[].absence``, issue #28 item 5): each scheduled agent away on a day
with a probability, so that a plan can be judged against the days when fewer come."""

from __future__ import annotations

import pytest

import ccsim
from ccsim.experiment.parallel import run_replications
from ccsim.experiment.stats import ratio_ci
from ccsim.planning.targets import Targets, evaluate

REPS, SEED = 20, 11


def _day(absence: float | None) -> ccsim.Scenario:
    """A day of three 8-hour shifts of 20 agents without breaks, 150 calls an hour."""
    site = {
        "name": "floor",
        "cost_per_hour": 20,
        "shifts": [
            {"start": start, "length": "8h", "headcount": 20}
            for start in ("00:00", "08:00", "16:00")
        ],
    }
    if absence is not None:
        site["absence"] = {"probability": absence}
    return ccsim.parse_scenario(
        {
            "name": "absence",
            "start": "2026-03-02T00:00",
            "horizon": "24h",
            "channels": {
                "voice": {
                    "arrivals": {"rate": "150/h"},
                    "handle_time": {"dist": "exponential", "mean": "6min"},
                    "patience": {"dist": "exponential", "mean": "3min"},
                    "service_level": {"threshold": "20s", "target": 0.8},
                }
            },
            "sites": [site],
        }
    )


def test_mean_agents_present_is_one_less_the_absence_of_those_scheduled():
    p = 0.2
    rows = run_replications(_day(p), REPS, seed=SEED)
    whole = rows[(rows.site == "all") & (rows.channel == "voice")]
    present = ratio_ci(whole.available_agents, whole.scheduled_agents, 0.99)
    # 60 binomial draws a replication, standard deviation sqrt(p(1-p)/60) = 0.052 of the
    # share present; over 20 replications the 99% interval is about +-0.035.
    assert present.low <= 1 - p <= present.high
    assert present.high - present.low < 0.1


def test_a_plan_judged_with_absence_shows_lower_service():
    targets = Targets.of(_day(None))
    without = evaluate(_day(None), targets, REPS, SEED).channels.iloc[0]
    with_absence = evaluate(_day(0.15), targets, REPS, SEED).channels.iloc[0]
    assert with_absence.high < without.low


def test_absence_draws_nothing_when_unset():
    """Without absence the results are those of the same scenario before the field existed:
    the same draws (the golden digests hold this for the study's models)."""
    first = run_replications(_day(None), 2, seed=SEED)
    again = run_replications(_day(0.0), 2, seed=SEED)
    # p = 0 draws from its own stream, and everyone comes: the same contacts, waits, pay.
    columns = ["offered", "answered", "answered_within_threshold", "labour_cost"]
    assert first[columns].equals(again[columns])


def test_absence_of_one_or_more_is_refused():
    with pytest.raises(ccsim.ConfigError, match="absence"):
        _day(1.0)
