"""The study and the search judge a plan's interval floor alike (issue #28): the same code,
the same replications for the same seed, and the search's margin stricter than the study's;
what moves the verdict between them is how many replications it rests on.

The hybrid's trimmed plan held email's floor in 86.9% of intervals in the study (seed 2026,
8 replications) and in 100% judged by the search on 20 replications of the same seed: email
there is answered within 24 hours all week in most weeks and falls a day behind in a few, so
an interval's level over the replications is the share of good weeks, and whether it clears
75% depends on how many of the few bad weeks the replications drew at once. The hand case
below is that mechanism in two intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ccsim
from ccsim.experiment.replications import replication_seed, replication_seeds, run_block
from ccsim.planning.targets import Targets, evaluate, interval_levels, judge
from ccsim.sim.metrics import RATIO_KPIS
from ccsim.study.attainment import targets_rows

NUMERATOR, DENOMINATOR = RATIO_KPIS["service_level"]


def _desk() -> ccsim.Scenario:
    """One email desk: the channel of the hybrid's disagreement (target 90% in 24 h, floor
    75%)."""
    return ccsim.parse_scenario(
        {
            "name": "desk",
            "start": "2026-03-02T08:00",
            "horizon": "4h",
            "channels": {
                "email": {
                    "kind": "email",
                    "arrivals": {"rate": "20/h"},
                    "handle_time": {"dist": "exponential", "mean": "6min"},
                    "service_level": {"threshold": "24h", "target": 0.9},
                }
            },
            "sites": [{"name": "desk", "agents": 2, "cost_per_hour": 20}],
        }
    )


def _weeks(bad: set[int], n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replication and interval rows of ``n`` weeks of two intervals of 10 emails each: all
    answered in time, except interval 1 of the ``bad`` weeks, answered a day late."""
    intervals, rows = [], []
    for r in range(n):
        for k in (0, 1):
            late = k == 1 and r in bad
            tallies = {c: 0.0 for c in (*NUMERATOR, *DENOMINATOR)}
            tallies.update(answered=10.0, answered_within_threshold=0.0 if late else 10.0)
            intervals.append(
                {"replication": r, "channel": "email", "site": "all", "interval": k}
                | {"offered": 10.0, **tallies}
            )
        week = {c: sum(i[c] for i in intervals if i["replication"] == r) for c in tallies}
        rows.append(
            {"replication": r, "channel": "email", "site": "all", **week}
            | {"staffed_time": 0.0, "operating_cost": 100.0}  # no occupancy judged
        )
    return pd.DataFrame(rows), pd.DataFrame(intervals)


def _share(targets: Targets, bad: set[int], n: int) -> float:
    scenario = _desk()
    rows, raw = _weeks(bad, n)
    evaluation = judge(scenario, targets, rows, interval_levels(raw, targets), n)
    return float(evaluation.channels.set_index("channel").loc["email", "share_at_floor"])


def test_the_floor_share_of_a_plan_with_rare_bad_weeks_rests_on_how_many_were_drawn():
    """3 bad weeks among the study's 8: interval 1 at 50/80 = 62.5% < 75%, one interval of
    two at the floor (50%). The same 3 among 20: 170/200 = 85%, both intervals (100%); 6
    among 20 (the same rate as 3 in 10): 140/200 = 70%, 50% again."""
    targets = Targets.of(_desk())
    assert targets.channels["email"].floor == pytest.approx(0.75)
    assert _share(targets, {0, 3, 7}, 8) == pytest.approx(0.5)
    assert _share(targets, {0, 3, 7}, 20) == pytest.approx(1.0)
    assert _share(targets, {0, 3, 7, 9, 12, 15}, 20) == pytest.approx(0.5)
    # Two bad weeks in eight sit on the floor (60/80 = 75%), which counts as reached.
    assert _share(targets, {0, 3}, 8) == pytest.approx(1.0)


def test_the_study_judges_the_floor_as_the_search_does_on_the_same_replications():
    """The study's seeds are the search's (common random numbers: replication r of every
    model is child r of the experiment's seed, as ``evaluate``'s are), and targets.csv's
    figures are the search's judgement of them from the interval sums the study keeps."""
    scenario, seed, n = _desk(), 2026, 8
    study_seeds = [replication_seed(seed, r) for r in range(n)]
    assert [s.spawn_key for s in study_seeds] == [s.spawn_key for s in replication_seeds(seed, n)]
    rows, sums = run_block(scenario, study_seeds, 0)
    study = targets_rows("desk", scenario, rows, sums, [sums], n)
    study = study[study.kind == "channel"].set_index("channel")
    search = evaluate(scenario, Targets.of(scenario), n, seed).channels.set_index("channel")
    for column, own in (("service_level", "service_level"), ("sl_low", "low")):
        assert study.loc["email", column] == pytest.approx(search.loc["email", own])
    for column in ("intervals", "share_at_floor", "met_floor", "met"):
        assert study.loc["email", column] == search.loc["email", column]
    # Not a trivial agreement: the desk's last emails of the morning wait, and some of its
    # intervals fall below the floor.
    assert 0 < study.loc["email", "share_at_floor"] < 1


def test_a_plan_the_search_passes_the_study_passes_on_the_same_replications():
    """The search's margin (scripts/staff_operating_models.py: a 99% weekly bound, 97% of
    intervals at the floor) is stricter than the study's (95%, 95%) with the same floor:
    on the same replications the search's pass implies the study's, and a plan at 96% of
    intervals passes the study and not the search (the committed hybrid's tier 2: 96.7%
    on 20 replications of seed 2026)."""
    scenario = _desk()
    study = Targets.of(scenario)
    search = Targets.of(scenario, confidence=0.99, interval_share=0.97)
    assert search.channels["email"].floor == study.channels["email"].floor
    for bad, n in (({0, 3, 7}, 8), ({0, 3, 7}, 20), (set(), 8), ({1}, 2)):
        rows, raw = _weeks(bad, n)
        passed = {
            name: judge(scenario, targets, rows, interval_levels(raw, targets), n).met
            for name, targets in (("study", study), ("search", search))
        }
        assert passed["study"] or not passed["search"]
    levels = pd.DataFrame(
        {
            "channel": "email",
            "interval": np.arange(25),
            "offered": 10.0,
            "sl": [0.5] + [1.0] * 24,  # 24 of 25 = 96% at the floor
            "low": np.nan,
            "high": np.nan,
        }
    )
    rows, _ = _weeks(set(), 8)
    verdicts = [
        judge(scenario, targets, rows, levels, 8).channels.iloc[0] for targets in (study, search)
    ]
    assert [v.share_at_floor for v in verdicts] == [pytest.approx(0.96)] * 2
    assert [bool(v.met_floor) for v in verdicts] == [True, False]
