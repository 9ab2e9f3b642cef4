"""Every scenario in configs/ and experiment in experiments/ loads and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import ccsim

ROOT = Path(__file__).resolve().parents[1]


SCENARIOS = sorted(p for p in (ROOT / "configs").rglob("*.yaml") if not p.name.startswith("_"))


#: The week-long operating models and claim checks run in the full suite only.
_WEEKS = ("models", "claims")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
            marks=[pytest.mark.slow]
            if path.relative_to(ROOT / "configs").parts[0] in _WEEKS
            else [],
        )
        for path in SCENARIOS
    ],
    ids=lambda p: str(p.relative_to(ROOT / "configs")),
)
def test_scenario_runs(path):
    scenario = ccsim.load_scenario(path)
    kpis = ccsim.simulate(scenario, seed=1).kpis
    demand = [name for name, channel in scenario.channels.items() if channel.arrivals is not None]
    assert (kpis.loc[demand, "offered"] > 0).all()
    ended = kpis[
        [
            "contained",
            "blocked",
            "balked",
            "abandoned",
            "callbacks",
            "messages",
            "disconnected",
            "carried_over",
            "answered",
        ]
    ]
    assert (kpis.offered == ended.sum(axis=1)).all()


#: Experiments of week-long models (the two studies take 1-1.5 minutes each at two
#: replications, with their frontier and sensitivity): in the full suite only; the shorter
#: ones keep an example experiment in the fast tier.
LONG_EXPERIMENTS = {
    "hybrid_claims.yaml",
    "operating_models.yaml",
    "blend_threshold.yaml",
    "overflow.yaml",
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, marks=[pytest.mark.slow] if path.name in LONG_EXPERIMENTS else [])
        for path in sorted((ROOT / "experiments").glob("*.yaml"))
    ],
    ids=lambda p: p.name,
)
def test_experiment_runs(path, tmp_path):
    # The week-long studies run their frontier and sensitivity too (capped at 2 replications
    # each): on both cores, as CI has them.
    jobs = 2 if path.name in LONG_EXPERIMENTS else 1
    result = ccsim.run_experiment(path, reps=2, n_jobs=jobs, out=tmp_path / "out")
    assert result.manifest["replications"] == 2
    assert not result.summary.empty
