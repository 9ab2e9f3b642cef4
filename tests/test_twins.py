"""Each textbook SimPy twin (benchmarks/twins/) simulates the same model as ccsim, and
computes its KPIs independently: every KPI a twin reports (per channel the service level,
abandon rate and ASA; occupancy and labour cost per channel, over all and per site; the
hybrid's containment, FCR, agent FCR, resolution rate, mean resolution time and bot cost;
the blended day's records reached, exhausted and pending) agrees with ccsim's within
replication confidence intervals. So benchmarks/bench_twins.py compares the speed of one
model, and a second implementation checks ccsim's accounting of agent time, pay and
journeys.

For each model, its ``test_reps`` replications of each (independent seeds: the twins draw
their own numbers) at a short horizon; for each row and KPI, the interval of the
difference of the two means (Welch, normal quantile) at a family-wise 99% (Bonferroni over
that model's comparisons) must contain 0. A KPI that is the same in every replication (a
site's pay under constant staffing, the records on the list) must be equal, to rounding.
A twin that left out a feature that moves a KPI (a bot, a close, a dialer's pacing) fails
here.
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


def ccsim_tables(result) -> tuple:
    """The KPI table, the site table and the totals of one replication (each built anew
    on every access: taken once)."""
    return result.kpis, result.site_kpis, result.tallies


def ccsim_value(tables: tuple, row: str, kpi: str) -> float | None:
    """ccsim's figure for a twin's row (a channel, ``all``, ``site:<name>`` or
    ``site:<name>:<channel>``) and KPI: from the KPI table, the site table, or for a count
    that is no KPI (the list's records by outcome) the replication's totals; None where
    ccsim has no such row."""
    kpis, site_kpis, tallies = tables
    if row.startswith("site:"):
        site, _, channel = row.removeprefix("site:").partition(":")
        table, key = site_kpis, (channel or "all", site)
    else:
        table, key = kpis, row
    if key not in table.index:
        return None
    if kpi in table.columns:
        return float(table.loc[key, kpi])
    return float(getattr(tallies[row], kpi))


def per_replication(model, reps: int | None = None) -> tuple[dict, dict]:
    """Each (row, KPI) the twin reports: ccsim's and the twin's value per replication."""
    scenario = model.scenario(model.test_horizon)
    ours, twins = {}, {}
    for seed in range(1, (reps or model.test_reps) + 1):
        tables = ccsim_tables(ccsim.simulate(scenario, seed=seed))
        for row, values in model.twin(scenario, seed).items():
            for kpi, value in values.items():
                if kpi == "offered":
                    continue
                theirs = ccsim_value(tables, row, kpi)
                if theirs is None:
                    continue
                ours.setdefault((row, kpi), []).append(theirs)
                twins.setdefault((row, kpi), []).append(value)
    return ours, twins


def comparisons(ours: dict, twins: dict) -> list[tuple]:
    """Per (row, KPI): ccsim's mean, the twin's, and the half-width of the interval of
    their difference at a family-wise 99% (Bonferroni over the comparisons)."""
    z = norm.ppf(1 - FAMILY_ALPHA / (2 * len(ours)))
    found = []
    for key in ours:
        a = np.array(ours[key], dtype=float)
        b = np.array(twins[key], dtype=float)
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if len(a) < 2 or len(b) < 2:
            continue
        half = z * math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        found.append((key, a.mean(), b.mean(), half))
    return found


def _disagreements(ours: dict, twins: dict) -> list[str]:
    found = []
    for key, mean, twin, half in comparisons(ours, twins):
        # Rounding: a sum of pay over intervals in another order differs in its last bits.
        if abs(mean - twin) > half + 1e-9 * max(1.0, abs(mean)):
            found.append(f"{key}: ccsim {mean:.6g}, twin {twin:.6g}, +-{half:.3g}")
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_twin_simulates_the_same_model(model):
    ours, twins = per_replication(model)
    assert ours, "the twin reports no channel"
    assert not _disagreements(ours, twins)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_twin_reports_the_agents_kpis(model):
    """Occupancy on every channel row; labour cost where the model pays its agents; the
    journeys' KPIs where customers meet a bot; the list's records where a dialer calls."""
    scenario = model.scenario(model.test_horizon)
    rows = model.twin(scenario, 1)
    channels = [name for name in rows if name != "all" and not name.startswith("site:")]
    assert all("occupancy" in rows[name] for name in channels)
    if any(site.cost_per_hour > 0 for site in scenario.sites):
        assert all("labour_cost" in rows[name] for name in [*channels, "all"])
    if len(scenario.sites) > 1:
        assert {f"site:{site.name}" for site in scenario.sites} <= set(rows)
    for name, config in scenario.channels.items():
        if config.bot is not None:
            assert {"containment_rate", "fcr", "mean_resolution_time"} <= set(rows[name])
        if config.kind == "outbound":
            assert {"records_reached", "records_exhausted", "records_pending"} <= set(rows[name])


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


def test_the_check_tells_a_different_pay_apart():
    """The labour-cost comparison is not vacuous: follow the sun's twin against ccsim's run
    with Manila's night differential at 20% instead of 10% (a few hundred of pay in two
    days, against an interval of tens)."""
    model = MODELS[2]
    scenario = model.scenario(48)
    manila = next(site for site in scenario.sites if site.name == "manila")
    night = manila.night_differential.model_copy(update={"premium": 0.2})
    sites = [
        site.model_copy(update={"night_differential": night}) if site is manila else site
        for site in scenario.sites
    ]
    richer = scenario.model_copy(update={"sites": sites})
    ours, twins = {}, {}
    for seed in range(1, 6):
        tables = ccsim_tables(ccsim.simulate(richer, seed=seed))
        rows = model.twin(scenario, seed)
        for row in ("all", "site:manila"):
            ours.setdefault((row, "labour_cost"), []).append(
                ccsim_value(tables, row, "labour_cost")
            )
            twins.setdefault((row, "labour_cost"), []).append(rows[row]["labour_cost"])
    assert len(_disagreements(ours, twins)) == 2
