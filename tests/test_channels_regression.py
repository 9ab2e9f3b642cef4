"""Without a bot, tiers, retrials or call backs the engine gives exactly what it gave before
channels, AI deflection and tiers were added: same contacts, same tallies, same seed.

``tests/data/engine_before_channels.json`` was written by the engine of commit a92bbf2 (the
last before that change) for three example scenarios and two seeds: a digest of every
contact's record and the totals of each (channel, site) row.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import ccsim

ROOT = Path(__file__).resolve().parents[1]
BEFORE = json.loads((ROOT / "tests/data/engine_before_channels.json").read_text())


@pytest.mark.parametrize("case", sorted(BEFORE))
def test_plain_channels_are_unchanged(case):
    config, seed = case.split("#")
    result = ccsim.simulate(ccsim.load_scenario(ROOT / config), int(seed), record_contacts=True)
    csv = result.contacts.to_csv(index=False, float_format="%.9g").encode()
    assert hashlib.sha256(csv).hexdigest() == BEFORE[case]["contacts_sha256"]
    for key, expected in BEFORE[case]["totals"].items():
        tally = result.totals[tuple(key.split("|"))]
        for name, value in expected.items():
            assert getattr(tally, name) == pytest.approx(value, rel=1e-12, abs=1e-9), (key, name)
