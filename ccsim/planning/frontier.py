"""The cost-service frontier of a staffed scenario, and its cost at exactly the targets.

:func:`frontier` scales every site's headcount (each shift's headcount on each weekday, or a
site's constant ``agents``) by each of ``scales``, rounding to whole agents, and simulates
every scaled scenario with the same seeds (common random numbers across scales, so the
curve is smooth and its differences precise). Per scale and channel it gives the weekly
service level (ratio of totals over the replications) with its confidence interval, and the
mean cost per replication (labour, overruns included, and bot) with its interval.

:func:`cost_at_target` reads the cost at which a channel's service level crosses its target,
interpolating linearly in cost between the two bracketing scales (the first scale from
which the curve stays at or above the target, and the one before). Its confidence interval
**inverts the band** of the service-level curve: the lower end is where the upper band
crosses the target (the cheapest staffing the data cannot rule out), the upper end where
the lower band does; both interpolated the same way. The scenario's cost at target is that
of its most demanding channel. :func:`write_frontier` writes both as ``frontier.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccsim.experiment.parallel import run_replications
from ccsim.experiment.stats import mean_ci, ratio_ci
from ccsim.files import write_csv
from ccsim.model import ConfigError, Scenario, parse_scenario
from ccsim.planning.targets import Targets
from ccsim.sim.metrics import RATIO_KPIS

__all__ = [
    "DEFAULT_SCALES",
    "CostAtTarget",
    "cost_at_target",
    "frontier",
    "frontier_points",
    "frontier_table",
    "scaled_scenario",
    "write_frontier",
]

#: 0.85x to 1.15x of the staffed headcounts, every 5%.
DEFAULT_SCALES = tuple(round(0.85 + 0.05 * i, 2) for i in range(7))


def _scale_counts(counts: list[int], scale: float) -> list[int]:
    """``counts`` times ``scale`` in whole agents that add up to the scaled total (rounded,
    halves up): each gets its integer part, and the largest remainders one more. A
    compact week has one to three agents per template and day, which rounding each alone
    would leave unchanged by a 5% scale."""
    exact = [n * scale for n in counts]
    whole = [math.floor(x) for x in exact]
    total = math.floor(sum(counts) * scale + 0.5)
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in by_remainder[: max(0, total - sum(whole))]:
        whole[i] += 1
    return whole


def scaled_scenario(
    scenario: Scenario, scale: float, site_scales: dict[str, float] | None = None
) -> Scenario:
    """``scenario`` with each site's headcounts multiplied by ``scale`` (and by the site's own
    factor in ``site_scales``, where given): constant ``agents`` rounded (halves up); shifts
    so that the site's agent-shifts over the week are the scaled total, rounded, the
    remainders going to the largest fractions."""
    site_scales = site_scales or {}
    if not scale > 0:
        raise ConfigError("", "scale", f"must be positive, got {scale!r}")
    if not all(factor > 0 for factor in site_scales.values()):
        raise ConfigError("", "site_scales", f"must be positive, got {site_scales!r}")
    data = scenario.model_dump(mode="json")
    for site in data["sites"]:
        factor = scale * site_scales.get(site["name"], 1.0)
        if site.get("agents") is not None:
            site["agents"] = _scale_counts([site["agents"]], factor)[0]
        slots = []  # (shift, day or None, count)
        for shift in site.get("shifts") or []:
            count = shift["headcount"]
            if isinstance(count, dict):
                slots.extend((shift, day, n) for day, n in count.items())
            else:
                slots.append((shift, None, count))
        scaled = _scale_counts([n for _, _, n in slots], factor)
        for (shift, day, _), n in zip(slots, scaled, strict=True):
            if day is None:
                shift["headcount"] = n
            else:
                shift["headcount"][day] = n
    return parse_scenario(data, source=f"<{scenario.name} x{scale:g}>")


def frontier(
    scenario: Scenario,
    targets: Targets | None = None,
    scales: Iterable[float] = DEFAULT_SCALES,
    reps: int = 20,
    seed: int = 0,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """One row per scale and channel: ``scale``, ``channel``, ``cost`` with ``cost_low`` and
    ``cost_high`` (mean per replication), ``service_level`` with ``sl_low``, ``sl_high``,
    and ``target``. Every scale runs the same ``reps`` seeds."""
    targets = Targets.of(scenario) if targets is None else targets
    scenario = targets.apply(scenario)
    frames = []
    for scale in sorted(float(s) for s in scales):
        rows = run_replications(scaled_scenario(scenario, scale), reps, seed=seed, n_jobs=n_jobs)
        frames.append(frontier_points(rows, targets, scale))
    return pd.concat(frames, ignore_index=True)


def frontier_points(rows: pd.DataFrame, targets: Targets, scale: float) -> pd.DataFrame:
    """The frontier rows of one scale from its replication rows (one per replication,
    channel and site): what :func:`frontier` gives per scale, for a caller that already
    has the rows (an experiment's frontier step)."""
    numerator, denominator = RATIO_KPIS["service_level"]
    total = _totals(rows)
    cost = mean_ci(total["operating_cost"].to_numpy(float), targets.confidence)
    records = []
    for name, target in targets.channels.items():
        own = rows[(rows.site == "all") & (rows.channel == name)]
        level = ratio_ci(
            own[list(numerator)].sum(axis=1).to_numpy(float),
            own[list(denominator)].sum(axis=1).to_numpy(float),
            targets.confidence,
        )
        records.append(
            {
                "scale": float(scale),
                "channel": name,
                "cost": cost.value,
                "cost_low": cost.low,
                "cost_high": cost.high,
                "service_level": level.value,
                "sl_low": level.low,
                "sl_high": level.high,
                "target": target.target,
            }
        )
    return pd.DataFrame(records)


def _totals(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per replication for the whole centre (a scenario with one channel has no
    ``all`` row: its channel is the whole)."""
    whole = rows[rows.site == "all"]
    if (whole.channel == "all").any():
        whole = whole[whole.channel == "all"]
    return whole.sort_values("replication")


@dataclass(frozen=True)
class CostAtTarget:
    """The cost at which a channel's service level reaches its target, with its interval
    (NaN with ``note`` when the sweep does not bracket the crossing)."""

    channel: str
    cost: float
    low: float
    high: float
    note: str = ""


def _crossing(costs: np.ndarray, levels: np.ndarray, target: float) -> tuple[float, str]:
    """The cost where the piecewise-linear curve (costs, levels) reaches ``target`` and stays."""
    above = levels >= target
    if above.all():
        return math.nan, "met at every scale: sweep lower"
    if not above[-1]:
        return math.nan, "missed at every scale from some point: sweep higher"
    i = int(np.flatnonzero(~above)[-1]) + 1  # first point of the final run above target
    c0, c1, l0, l1 = costs[i - 1], costs[i], levels[i - 1], levels[i]
    weight = (target - l0) / (l1 - l0) if l1 != l0 else 1.0
    return float(c0 + weight * (c1 - c0)), ""


def cost_at_target(table: pd.DataFrame, channel: str | None = None) -> CostAtTarget:
    """The cost at target of ``channel`` (default: the most demanding channel, whose
    crossing is dearest), read off a :func:`frontier` table; see the module docstring."""
    names = [channel] if channel is not None else list(dict.fromkeys(table["channel"]))
    results = []
    for name in names:
        own = table[table.channel == name].sort_values("scale")
        costs = own["cost"].to_numpy(float)
        target = float(own["target"].iloc[0])
        value, note = _crossing(costs, own["service_level"].to_numpy(float), target)
        low, _ = _crossing(costs, own["sl_high"].to_numpy(float), target)
        high, _ = _crossing(costs, own["sl_low"].to_numpy(float), target)
        results.append(CostAtTarget(name, value, low, high, note))
    if channel is not None:
        return results[0]
    # A channel met at every scale needs less than the sweep's cheapest: it does not bind.
    binding = [r for r in results if not r.note.startswith("met at every scale")]
    if not binding:
        return CostAtTarget("all", math.nan, math.nan, math.nan, "met at every scale: sweep lower")
    unknown = [r for r in binding if r.note]
    if unknown:
        return CostAtTarget(
            "all", math.nan, math.nan, math.nan, f"{unknown[0].channel}: {unknown[0].note}"
        )
    results = binding
    dearest = max(results, key=lambda r: r.cost)
    return CostAtTarget(
        "all",
        dearest.cost,
        # The band's upper edge above the target over the whole sweep: no lower end.
        max((r.low for r in results if not math.isnan(r.low)), default=math.nan),
        max(r.high for r in results) if all(not math.isnan(r.high) for r in results) else math.nan,
        f"set by {dearest.channel}",
    )


def frontier_table(table: pd.DataFrame, name: str = "") -> pd.DataFrame:
    """The rows of ``frontier.csv`` for one scenario: the frontier points (``kind`` =
    ``point``), then the cost at target per channel and for the scenario (``kind`` =
    ``cost_at_target``, the interval in ``cost_low`` and ``cost_high``)."""
    points = table.assign(kind="point", scenario=name, note="")
    extra = []
    for channel in [*dict.fromkeys(table["channel"]), None]:
        result = cost_at_target(table, channel)
        extra.append(
            {
                "kind": "cost_at_target",
                "scenario": name,
                "channel": result.channel,
                "cost": result.cost,
                "cost_low": result.low,
                "cost_high": result.high,
                "note": result.note,
            }
        )
    frame = pd.concat([points, pd.DataFrame(extra)], ignore_index=True)
    first = ["scenario", "kind", "channel", "scale", "cost", "cost_low", "cost_high"]
    return frame[first + [c for c in frame if c not in first]]


def write_frontier(out: str | Path, table: pd.DataFrame, name: str = "") -> Path:
    """Write :func:`frontier_table` as ``frontier.csv`` into ``out``, atomically."""
    return write_csv(Path(out) / "frontier.csv", frontier_table(table, name))
