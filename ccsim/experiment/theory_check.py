"""A run's summary beside the exact values of queueing theory: for each KPI the theory gives,
the simulated estimate, its confidence interval, the exact value and whether the interval
covers it (``ccsim run --theory``).

The rows are the channel's own (site ``all``) of :func:`ccsim.experiment.summary.summarise`,
so the estimate and interval are those ``ccsim run`` prints and ``summary.csv`` holds. A 95%
interval misses the exact value one time in twenty by chance alone: with five KPIs, one miss
now and then is expected; a miss that stays as replications grow is a bias (a warm-up too
short, a horizon that ends in a busy period) or a difference of model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

__all__ = ["TheoryRow", "theory_rows"]


@dataclass(frozen=True)
class TheoryRow:
    kpi: str
    estimate: float
    ci_low: float
    ci_high: float
    exact: float

    @property
    def covered(self) -> bool:
        """Whether the interval holds the exact value (False where either is missing)."""
        return math.isfinite(self.exact) and self.ci_low <= self.exact <= self.ci_high


def theory_rows(summary: pd.DataFrame, channel: str, exact: dict[str, float]) -> list[TheoryRow]:
    """For each KPI of ``exact`` (name: exact value), in its order, the channel's simulated
    estimate and interval from ``summary`` beside it."""
    rows = summary[(summary.channel == channel) & (summary.site == "all")].set_index("kpi")
    return [
        TheoryRow(
            kpi,
            float(rows.at[kpi, "estimate"]),
            float(rows.at[kpi, "ci_low"]),
            float(rows.at[kpi, "ci_high"]),
            float(value),
        )
        for kpi, value in exact.items()
    ]
