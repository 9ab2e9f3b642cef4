"""Each textbook SimPy twin (benchmarks/twins/) simulates the same model as ccsim: per
channel, the service level, abandon rate and ASA of the two agree within replication
confidence intervals, so that benchmarks/bench_twins.py compares the speed of one model.

For each model, its ``test_reps`` replications of each (independent seeds: the twins draw their own
numbers) at a short horizon; for each channel and KPI, the interval of the difference of
the two means (Welch, normal quantile) at a family-wise 99% (Bonferroni over that model's
comparisons) must contain 0. A twin that left out a feature that moves a KPI (a bot, a
close, a dialer's pacing) fails here.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from twins import MODELS  # noqa: E402
from twins.common import KPIS  # noqa: E402

import ccsim  # noqa: E402

FAMILY_ALPHA = 0.01


def _per_replication(model) -> tuple[dict, dict]:
    scenario = model.scenario(model.test_horizon)
    ours, twins = {}, {}
    for seed in range(1, model.test_reps + 1):
        kpis = ccsim.simulate(scenario, seed=seed).kpis
        twin = model.twin(scenario, seed)
        for channel, row in twin.items():
            if channel == "all":
                continue
            for kpi in KPIS:
                ours.setdefault((channel, kpi), []).append(float(kpis.loc[channel, kpi]))
                twins.setdefault((channel, kpi), []).append(row[kpi])
    return ours, twins


def _disagreements(ours: dict, twins: dict) -> list[str]:
    z = norm.ppf(1 - FAMILY_ALPHA / (2 * len(ours)))
    found = []
    for key in ours:
        a = np.array(ours[key], dtype=float)
        b = np.array(twins[key], dtype=float)
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if len(a) < 2 or len(b) < 2:
            continue
        difference = a.mean() - b.mean()
        half = z * math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        if abs(difference) > half + 1e-12:
            found.append(f"{key}: ccsim {a.mean():.4g}, twin {b.mean():.4g}, +-{half:.3g}")
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_twin_simulates_the_same_model(model):
    ours, twins = _per_replication(model)
    assert ours, "the twin reports no channel"
    assert not _disagreements(ours, twins)


def test_the_check_tells_different_models_apart():
    """The same comparison finds a twin that is not the same model: M/M/50+M against
    ccsim's run of it with 45 agents instead of 50."""
    model = MODELS[0]
    scenario = model.scenario(model.test_horizon)
    fewer = scenario.model_copy(
        update={"sites": [scenario.sites[0].model_copy(update={"agents": 45})]}
    )
    ours, twins = {}, {}
    for seed in range(1, 11):
        kpis = ccsim.simulate(fewer, seed=seed).kpis
        row = model.twin(scenario, seed)["voice"]
        for kpi in KPIS:
            ours.setdefault(("voice", kpi), []).append(float(kpis.loc["voice", kpi]))
            twins.setdefault(("voice", kpi), []).append(row[kpi])
    assert _disagreements(ours, twins)
