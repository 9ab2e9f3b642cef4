"""The counter's logs (``ccsim/sim/answer_log.py``, ``ccsim/sim/journey_log.py``): the
outcomes they keep as records are added to the same counts whenever the records are added.

A log is added at an interval edge once it holds ``FLUSH_AT`` records, and at the end; the
counts must not depend on when: added at every edge (each answer's queue time then falls
in the interval the counter is in) or only at the end (every answer's interval found from
its time), every count is the same and every sum the same to rounding. The golden digests
(``tests/test_models_regression.py``) hold the counts to those the hot path added one by
one before the logs.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

import ccsim
from ccsim.sim import counting

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_hybrid import hybrid  # noqa: E402

CASES = {
    "hybrid 1d": lambda: hybrid(1),
    "three tiers, two sites": lambda: ccsim.load_scenario(ROOT / "configs/three_tier_voice.yaml"),
}


def _totals(scenario, flush_at: int, monkeypatch) -> dict:
    monkeypatch.setattr(counting, "FLUSH_AT", flush_at)
    return ccsim.simulate(scenario, 3).tallies


@pytest.mark.parametrize("case", CASES)
def test_the_counts_do_not_depend_on_when_the_logs_are_added(case, monkeypatch):
    scenario = CASES[case]()
    at_every_edge = _totals(scenario, 1, monkeypatch)
    at_the_end = _totals(scenario, 10**9, monkeypatch)
    assert at_every_edge.keys() == at_the_end.keys()
    for key, tally in at_every_edge.items():
        other = at_the_end[key]
        for field in dataclasses.fields(tally):
            value, expected = getattr(tally, field.name), getattr(other, field.name)
            if isinstance(expected, int):
                assert value == expected, (key, field.name)
            else:
                assert value == pytest.approx(expected, rel=1e-12, abs=1e-9), (key, field.name)


def test_every_answer_is_counted_once():
    """Answered contacts are the answered contacts' records: the tallies' answered are
    the contacts recorded as answered, inside the window."""
    result = ccsim.simulate(hybrid(1), 3, record_contacts=True)
    rows = result.contacts[result.contacts["counted"] & (result.contacts["outcome"] == "answered")]
    for channel, count in rows.groupby("channel").size().items():
        assert result.totals[(channel, "all")].answered == count
