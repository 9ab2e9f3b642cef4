"""The deterministic speed gate (``benchmarks/gate.py``): the bytecodes the event loop
executes and the functions it calls per contact, for each benchmark model on a short
horizon, against the figures committed in ``benchmarks/gate.json``. Unlike a timing, a
count is the same on every run, so a growth of 5% is a change of the code, not noise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gate  # noqa: E402

from ccsim.sim.core import Core  # noqa: E402

COMMITTED = json.loads(gate.GATE.read_text())

pytestmark = pytest.mark.skipif(
    gate.python_version() != COMMITTED["python"],
    reason=f"benchmarks/gate.json holds for Python {COMMITTED['python']}: counts differ by version",
)


def test_no_model_costs_more_than_its_committed_figures():
    assert gate.regressions(gate.figures(), COMMITTED) == []


def test_the_counts_are_the_same_on_every_run():
    model = gate.MODELS[0]
    scenario = model.scenario(gate.HORIZONS[model.name])
    assert gate.counted_run(scenario) == gate.counted_run(scenario)


def test_one_more_call_per_answered_contact_fails_the_gate(monkeypatch):
    """The gate sees a change a timing could not: the single queue's answer made through one
    more function (about 0.1 us, 3% of a contact's time) is over 5% more calls a contact."""
    answer = Core.answer

    def wrapped(self, contact, agent, now):
        answer(self, contact, agent, now)

    monkeypatch.setattr(Core, "answer", wrapped)
    model = gate.MODELS[0]
    executed, calls, contacts = gate.counted_run(model.scenario(gate.HORIZONS[model.name]))
    measured = {
        "bytecodes_per_contact": {model.name: round(executed / contacts, 1)},
        "calls_per_contact": {model.name: round(calls / contacts, 2)},
    }
    assert gate.regressions(measured, COMMITTED) == [
        f"{model.name}: calls_per_contact {measured['calls_per_contact'][model.name]} against "
        f"{COMMITTED['calls_per_contact'][model.name]}"
    ]
