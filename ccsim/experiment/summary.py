"""Tables over replications: KPI summaries, paired comparisons, and interval profiles.

Every table is derived from the tallies of the replications, with the KPI table of
:mod:`ccsim.sim.kpis`: each KPI's ``aggregate`` says how it goes over replications (counts and
amounts averaged per replication, ratios as ratios of totals with delta-method intervals,
quantiles read off pooled cumulative counts with Woodruff intervals, :mod:`.stats`).
Interval profiles are aggregated from running sums (:func:`interval_block_stats`) so that
memory does not grow with the number of replications; they leave quantiles out (below).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ccsim.experiment.stats import (
    Estimate,
    holm,
    mean_ci,
    mean_ci_from_sums,
    p_value,
    paired_mean_difference_ci,
    paired_quantile_difference_ci,
    paired_ratio_difference_ci,
    quantile_ci,
    ratio_ci,
    ratio_ci_from_sums,
)
from ccsim.sim.kpis import KPIS, MEAN, QUANTILE, Kpi
from ccsim.sim.metrics import TALLY_NAMES

__all__ = [
    "INTERVAL_KEYS",
    "compare",
    "holm_by_kpi",
    "interval_block_stats",
    "summarise",
    "summarise_intervals",
]


def _parts(group: pd.DataFrame, kpi: Kpi, suffix: str = "") -> tuple[pd.Series, pd.Series]:
    """Per replication, a ratio KPI's numerator and denominator (columns ``<tally><suffix>``)."""
    return (
        group[[f"{c}{suffix}" for c in kpi.numerator]].sum(axis=1),
        group[[f"{c}{suffix}" for c in kpi.denominator]].sum(axis=1),
    )


def _keys(frame: pd.DataFrame) -> list[str]:
    keys = ["scenario", "channel", "site"]
    return [key for key in keys if key in frame.columns]


def _kpis(site: str, only: Iterable[str] | None = None) -> list[Kpi]:
    """The KPIs of a row: every KPI for a whole channel, fewer for the part one site answered
    (of those, ``only`` the named ones when given)."""
    kpis = [kpi for kpi in KPIS.values() if site == "all" or kpi.site_level]
    return kpis if only is None else [kpi for kpi in kpis if kpi.name in set(only)]


def _counts(group: pd.DataFrame, kpi: Kpi, suffix: str = "") -> tuple[np.ndarray, pd.Series]:
    """Per replication, a quantile KPI's cumulative counts (one column per point) and its
    denominator."""
    within = group[[f"{c}{suffix}" for c in kpi.numerator]].to_numpy(dtype=float)
    return within, group[[f"{c}{suffix}" for c in kpi.denominator]].sum(axis=1)


def _bounded(kpi: Kpi, estimate: Estimate, difference: bool = False) -> Estimate:
    """An interval clipped to the values the KPI can take: [0, 1] for a share, [0, inf)
    for every other KPI (counts, durations, money, levels are never negative); a
    difference of shares to [-1, 1]. The t and delta-method intervals are symmetric and,
    with few replications, reach past those bounds."""
    if difference:
        return estimate.within(-1.0, 1.0) if kpi.kind == "share" else estimate
    return estimate.within(0.0, 1.0 if kpi.kind == "share" else math.inf)


def _row(keys: tuple, names: list[str], kpi: str, interval: Estimate, **extra) -> dict:
    return {
        **dict(zip(names, keys, strict=True)),
        "kpi": kpi,
        **extra,
        "ci_low": interval.low,
        "ci_high": interval.high,
        "half_width": interval.half_width,
        "n": interval.n,
    }


def summarise(
    replications: pd.DataFrame, level: float = 0.95, kpis: Iterable[str] | None = None
) -> pd.DataFrame:
    """Per (scenario,) channel, site and KPI (every one, or those named in ``kpis``):
    estimate, sd, confidence interval and n.

    ``estimate`` is the mean per replication for counts and the ratio of totals for ratios;
    ``sd`` is the standard deviation of the per-replication values (for a ratio, of the
    per-replication ratios), a measure of day-to-day spread rather than of precision.
    """
    names = _keys(replications)
    rows = []
    for keys, group in replications.groupby(names, sort=False):
        site = dict(zip(names, keys, strict=True)).get("site", "all")
        for kpi in _kpis(site, kpis):
            if kpi.aggregate == MEAN:
                estimate = mean_ci(group[kpi.name], level)
            elif kpi.aggregate == QUANTILE:
                estimate = quantile_ci(*_counts(group, kpi), kpi.points, kpi.quantile, level)
            else:
                estimate = ratio_ci(*_parts(group, kpi), level)
            estimate = _bounded(kpi, estimate)
            values = group[kpi.name].to_numpy(dtype=float)
            values = values[np.isfinite(values)]  # a quantile past the grid is inf
            sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
            rows.append(
                _row(
                    keys,
                    names,
                    kpi.name,
                    estimate,
                    estimate=estimate.value,
                    sd=sd,
                    method=kpi.aggregate,
                )
            )
    return pd.DataFrame(rows)


def compare(
    replications: pd.DataFrame,
    baseline: str,
    level: float = 0.95,
    kpis: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Paired difference of every scenario to ``baseline`` per channel, site and KPI (every
    one, or those named in ``kpis``; Holm's families are then those KPIs' alone).

    Replication r of each scenario used the same random numbers as replication r of the
    baseline (common random numbers), so differences are taken replication by replication.
    ``p_value`` tests a zero difference; ``p_holm`` adjusts it over the family of the KPI
    (:func:`holm_by_kpi`), and ``significant`` says whether ``p_holm`` is below 1 - level.
    """
    index = [key for key in ("replication", "channel", "site") if key in replications.columns]
    base = replications[replications.scenario == baseline].set_index(index)
    rows = []
    for scenario, group in replications.groupby("scenario", sort=False):
        if scenario == baseline:
            continue
        other = group.set_index(index)
        paired = other.join(base.add_suffix("_base"), how="inner")
        for keys, pair in paired.groupby(level=index[1:], sort=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            site = keys[1] if len(keys) > 1 else "all"
            for kpi in _kpis(site, kpis):
                if kpi.aggregate == MEAN:
                    estimate = paired_mean_difference_ci(
                        pair[kpi.name], pair[f"{kpi.name}_base"], level
                    )
                    base_value = float(pair[f"{kpi.name}_base"].mean())
                elif kpi.aggregate == QUANTILE:
                    base_counts = _counts(pair, kpi, "_base")
                    estimate = paired_quantile_difference_ci(
                        *_counts(pair, kpi), *base_counts, kpi.points, kpi.quantile, level
                    )
                    base_value = quantile_ci(*base_counts, kpi.points, kpi.quantile, level).value
                else:
                    base_num, base_den = _parts(pair, kpi, "_base")
                    estimate = paired_ratio_difference_ci(
                        *_parts(pair, kpi), base_num, base_den, level
                    )
                    base_value = base_num.sum() / base_den.sum() if base_den.sum() > 0 else math.nan
                estimate = _bounded(kpi, estimate, difference=True)
                rows.append(
                    _row(
                        (scenario, baseline, *keys),
                        ["scenario", "baseline", *index[1:]],
                        kpi.name,
                        estimate,
                        baseline_value=base_value,
                        difference=estimate.value,
                    )
                    | {"p_value": p_value(estimate)}
                )
    # The columns even without a row (a single scenario): the table is read back by name.
    columns = ["scenario", "baseline", *index[1:], "kpi", "baseline_value", "difference"]
    columns += ["ci_low", "ci_high", "half_width", "n", "p_value"]
    return holm_by_kpi(pd.DataFrame(rows, columns=columns), 1 - level)


def holm_by_kpi(comparisons: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Holm-adjust the p-values of each KPI's family and set ``significant`` from them.

    The family of a KPI is every paired comparison of that KPI in the experiment: each model
    against the baseline, on every channel and site. A planner reads one KPI's row across
    the models and asks "does any model differ?"; without the adjustment, twenty models and
    channels would show about one "significant" difference by chance alone. The comparisons
    of one scenario at a time are concatenated first, then adjusted once over the whole.
    """
    if comparisons.empty:
        return comparisons.assign(p_holm=pd.Series(dtype=float), significant=pd.Series(dtype=bool))
    adjusted = comparisons.groupby("kpi", sort=False)["p_value"].transform(holm)
    return comparisons.assign(p_holm=adjusted, significant=adjusted < alpha)


# --- interval profiles from running sums -----------------------------------------------------

#: The KPIs of interval profiles: every KPI but the quantiles. A quantile's interval needs
#: the cross-products of its cumulative counts at the two points around it, which are not
#: known until the end (14 points: about 40 more running sums per interval row); and a
#: median journey of the customers of one half hour says little that the whole window's
#: does not. Interval rows of each replication still carry the per-replication value.
_PROFILED = [kpi for kpi in KPIS.values() if kpi.aggregate != QUANTILE]

#: Identify one reporting interval of one channel (and site) in interval tables.
INTERVAL_KEYS = ["channel", "site", "interval", "interval_start", "local_start"]


def interval_block_stats(interval_rows: pd.DataFrame) -> pd.DataFrame:
    """Running sums over a block of replications, per channel, site and interval.

    ``interval_rows`` holds one row per replication, channel and interval with the tallies
    (``SimulationResult.interval_rows``). The result has ``n``, the sum of every tally
    (``s_<tally>``), and the squares and cross-products that the confidence intervals need
    (``q_<count kpi>``; ``nn_``, ``dd_``, ``nd_<ratio kpi>``). Sums of blocks are sums.
    """
    frame = interval_rows.copy()
    columns: dict[str, pd.Series] = {}
    for name in TALLY_NAMES:
        columns[f"s_{name}"] = frame[name]
    for kpi in _PROFILED:
        name = kpi.name
        if kpi.aggregate == MEAN:
            if name not in TALLY_NAMES:  # a sum of tallies: its own running sum
                columns[f"s_{name}"] = frame[name].astype(float)
            columns[f"q_{name}"] = frame[name].astype(float) ** 2
        else:
            num, den = _parts(frame, kpi)
            columns[f"nn_{name}"], columns[f"dd_{name}"], columns[f"nd_{name}"] = (
                num**2,
                den**2,
                num * den,
            )
    sums = pd.DataFrame({**{key: frame[key] for key in INTERVAL_KEYS}, "n": 1, **columns})
    return sums.groupby(INTERVAL_KEYS, sort=True).sum().reset_index()


def summarise_intervals(stats: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (scenario,) channel, site, interval and KPI: estimate and confidence interval."""
    rows = []
    keys = (["scenario"] if "scenario" in stats.columns else []) + INTERVAL_KEYS
    for record in stats.to_dict("records"):
        ident = {key: record[key] for key in keys}
        n = int(record["n"])
        for kpi in _kpis(record["site"]):
            if kpi.aggregate == QUANTILE:
                continue
            name = kpi.name
            if kpi.aggregate == MEAN:
                estimate = mean_ci_from_sums(record[f"s_{name}"], record[f"q_{name}"], n, level)
            else:
                estimate = ratio_ci_from_sums(
                    sum(record[f"s_{c}"] for c in kpi.numerator),
                    sum(record[f"s_{c}"] for c in kpi.denominator),
                    record[f"nn_{name}"],
                    record[f"dd_{name}"],
                    record[f"nd_{name}"],
                    n,
                    level,
                )
            estimate = _bounded(kpi, estimate)
            rows.append(
                {
                    **ident,
                    "kpi": name,
                    "estimate": estimate.value,
                    "ci_low": estimate.low,
                    "ci_high": estimate.high,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)
