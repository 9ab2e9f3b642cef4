"""The stopping rule at work: after each round, whether every figure it names is precise
enough (:class:`~.spec.StoppingRule`), and the figure furthest from it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ccsim.experiment.parallel import block_ranges
from ccsim.experiment.replications import Block
from ccsim.experiment.stats import (
    mean_ci,
    paired_mean_difference_ci,
    paired_quantile_difference_ci,
    paired_ratio_difference_ci,
    quantile_ci,
    ratio_ci,
)
from ccsim.sim.metrics import QUANTILE_KPIS, RATIO_KPIS
from ccsim.study.spec import StoppingRule

__all__ = ["RuleCheck", "check_rule", "round_blocks"]


def round_blocks(rounds: list[int], size: int) -> list[list[Block]]:
    """Blocks of each round; boundaries depend only on the rounds and the block size."""
    plan, start = [], 0
    for stop in rounds:
        plan.append(block_ranges(start, stop, size))
        start = stop
    return plan


@dataclass(frozen=True)
class RuleCheck:
    """Where a stopping rule stands: whether it is met and, for the figure furthest from
    its target (the one that decides), the scenario, channel, KPI and precision reached
    (the half-width relative to the estimate, or with ``on: differences`` to the
    baseline's estimate)."""

    met: bool
    scenario: str = ""
    channel: str = ""
    kpi: str = ""
    relative_half_width: float = 0.0
    target: float = 0.0
    on: str = "estimates"

    def describe(self, n_reps: int, stopped: bool) -> str:
        if not self.kpi:
            return f"stopping rule: no figure to judge after {n_reps} replications"
        what = "difference to the baseline of " if self.on == "differences" else ""
        figure = (
            f"{what}{self.scenario} {self.channel}.{self.kpi}: ±{self.relative_half_width:.1%} "
            f"(target ±{self.target:.1%})"
        )
        if self.met:
            when = "stopped early" if stopped else "met"
            return f"stopping rule {when} at {n_reps} replications; the widest was {figure}"
        return f"stopping rule NOT met at the maximum of {n_reps} replications: {figure}"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _estimate(kpi: str, group: pd.DataFrame):
    if kpi in QUANTILE_KPIS:
        q = QUANTILE_KPIS[kpi]
        within = group[list(q.numerator)].to_numpy(dtype=float)
        return quantile_ci(within, group[list(q.denominator)].sum(axis=1), q.points, q.quantile)
    if kpi in RATIO_KPIS:
        numerator, denominator = RATIO_KPIS[kpi]
        return ratio_ci(group[list(numerator)].sum(axis=1), group[list(denominator)].sum(axis=1))
    return mean_ci(group[kpi])


def _difference(kpi: str, pair: pd.DataFrame):
    """The paired difference (scenario minus baseline) of one channel's rows joined by
    replication (baseline columns suffixed ``_base``)."""
    if kpi in QUANTILE_KPIS:
        q = QUANTILE_KPIS[kpi]
        parts = [
            part
            for suffix in ("", "_base")
            for part in (
                pair[[f"{c}{suffix}" for c in q.numerator]].to_numpy(dtype=float),
                pair[[f"{c}{suffix}" for c in q.denominator]].sum(axis=1),
            )
        ]
        return paired_quantile_difference_ci(*parts, q.points, q.quantile)
    if kpi in RATIO_KPIS:
        numerator, denominator = RATIO_KPIS[kpi]
        parts = [
            pair[[f"{c}{suffix}" for c in columns]].sum(axis=1)
            for suffix in ("", "_base")
            for columns in (numerator, denominator)
        ]
        return paired_ratio_difference_ci(*parts)
    return paired_mean_difference_ci(pair[kpi], pair[f"{kpi}_base"])


def check_rule(
    rule: StoppingRule,
    reps: dict[str, Callable[[list[str]], pd.DataFrame]],
    baseline: str,
) -> RuleCheck:
    """Whether every scenario meets the rule, and the figure furthest from it;
    ``reps[name](columns)`` reads those columns of the scenario's saved rows (only the
    columns the rule needs are read)."""
    columns = {"replication", "channel", "site"}
    for name in rule.kpis:
        kpi = name.rpartition(".")[2]
        if kpi in QUANTILE_KPIS:
            columns.update((*QUANTILE_KPIS[kpi].numerator, *QUANTILE_KPIS[kpi].denominator))
        else:
            columns.update(
                (*RATIO_KPIS[kpi][0], *RATIO_KPIS[kpi][1]) if kpi in RATIO_KPIS else (kpi,)
            )
    tables = {}
    for scenario, read in reps.items():
        table = read(sorted(columns))
        tables[scenario] = table[table.site == "all"]
    worst: RuleCheck | None = None
    for scenario, whole in tables.items():
        if rule.on == "differences" and scenario == baseline:
            continue
        for name in rule.kpis:
            channel, _, kpi = name.rpartition(".")
            groups = whole[whole.channel == channel] if channel else whole
            for channel_name, group in groups.groupby("channel", sort=False):
                if rule.on == "differences":
                    base = tables[baseline]
                    base = base[base.channel == channel_name]
                    if base.empty:  # the baseline has no such channel: nothing to pair
                        continue
                    pair = group.merge(base, on=["replication"], suffixes=("", "_base"))
                    estimate = _difference(kpi, pair)
                    scale = abs(_estimate(kpi, base).value)
                else:
                    estimate = _estimate(kpi, group)
                    scale = abs(estimate.value)
                if estimate.half_width == 0:
                    continue
                relative = estimate.half_width / scale if scale > 0 else math.inf
                if math.isnan(relative):
                    relative = math.inf
                check = RuleCheck(
                    relative <= rule.relative_half_width,
                    scenario,
                    str(channel_name),
                    kpi,
                    relative,
                    rule.relative_half_width,
                    rule.on,
                )
                if worst is None or relative > worst.relative_half_width:
                    worst = check
    if worst is None:
        return RuleCheck(True, target=rule.relative_half_width, on=rule.on)
    return worst
