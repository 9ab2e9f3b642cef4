"""Replications: many independent runs of one scenario, in parallel, and their summary.

Seeds are derived in the parent from ``SeedSequence(seed).spawn(n_reps)``, replication
``r`` always getting child ``r``; workers only run :func:`ccsim.simulate`. joblib returns
batches in submission order, so the table is the same for any number of jobs. Replications
are sent in a few contiguous batches per worker so that the cost of shipping a task stays
small next to the simulation itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from ccsim.config import Scenario
from ccsim.engine import simulate
from ccsim.metrics import COUNT_KPIS, KPI_NAMES, RATIO_KPIS, TALLY_NAMES, kpis
from ccsim.stats import mean_ci, ratio_ci

__all__ = ["REPLICATION_COLUMNS", "replication_seeds", "run_replications", "summarise"]

#: Columns of the replications table: identification, KPIs, then the tallies behind them
#: (kept so that ratios over replications can be taken as ratios of totals).
REPLICATION_COLUMNS: tuple[str, ...] = (
    "replication",
    "channel",
    *KPI_NAMES,
    *(name for name in TALLY_NAMES if name not in KPI_NAMES),
)


def replication_seeds(seed: int, n_reps: int) -> list[np.random.SeedSequence]:
    """Seed of every replication: child ``r`` of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed).spawn(n_reps)


def _run_batch(scenario: Scenario, first: int, seeds: list[np.random.SeedSequence]) -> list:
    rows = []
    for offset, seed in enumerate(seeds):
        result = simulate(scenario, seed)
        for channel, tally in result.tallies.items():
            row = {"replication": first + offset, "channel": channel, **kpis(tally)}
            row.update((name, getattr(tally, name)) for name in TALLY_NAMES)
            rows.append(row)
    return rows


def _batches(n_reps: int, n_jobs: int) -> list[range]:
    n_batches = min(n_reps, max(1, 4 * n_jobs))
    bounds = np.linspace(0, n_reps, n_batches + 1).round().astype(int)
    return [range(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True) if hi > lo]


def run_replications(
    scenario: Scenario, n_reps: int, seed: int = 0, n_jobs: int = 1
) -> pd.DataFrame:
    """Run ``n_reps`` replications; one row per replication and channel.

    The result depends only on (scenario, n_reps, seed), never on ``n_jobs``.
    """
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}")
    seeds = replication_seeds(seed, n_reps)
    batches = _batches(n_reps, n_jobs if n_jobs > 0 else 2)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_run_batch)(scenario, batch.start, seeds[batch.start : batch.stop])
        for batch in batches
    )
    rows = [row for batch_rows in results for row in batch_rows]
    return pd.DataFrame(rows, columns=list(REPLICATION_COLUMNS))


def summarise(replications: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per channel and KPI: estimate, confidence interval and number of replications.

    Counts are averaged over replications; ratio KPIs are ratios of totals with
    delta-method intervals (see :mod:`ccsim.stats`).
    """
    rows = []
    for channel, group in replications.groupby("channel", sort=False):
        for kpi in KPI_NAMES:
            if kpi in COUNT_KPIS:
                estimate, method = mean_ci(group[kpi], level), "mean"
            else:
                numerator, denominator = RATIO_KPIS[kpi]
                estimate = ratio_ci(
                    group[list(numerator)].sum(axis=1), group[list(denominator)].sum(axis=1), level
                )
                method = "ratio of totals"
            rows.append(
                {
                    "channel": channel,
                    "kpi": kpi,
                    "estimate": estimate.value,
                    "ci_low": estimate.low,
                    "ci_high": estimate.high,
                    "half_width": estimate.half_width,
                    "n": estimate.n,
                    "method": method,
                }
            )
    return pd.DataFrame(rows)
