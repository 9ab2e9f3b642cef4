"""The comparison at equal service: every model's frontier inside an experiment, and its
cost at exactly the targets, paired across models replication by replication.

With a ``frontier:`` block, every model runs its ``replications`` at each of ``scales`` of its
staffed headcounts (:func:`ccsim.planning.frontier.scaled_scenario`), replication r of every
model and scale on the experiment's seed child r (common random numbers). Scale 1.0 is the
plan itself: its replications are the experiment's own first ones, not simulated again. The
sweep's blocks are saved in the experiment's store like the main ones, under a fingerprint of
their own, so an interrupted run resumes them.

From the sweep, per replication r, model and channel, the replication's own curve of cost
against service level (one point per scale; common random numbers make it smooth) is read at
the channel's target (:func:`crossing`); the model's **cost at equal service** in replication r
is the largest over its channels: the binding one. Paired to the baseline's cost of the same
replication, the differences get a t interval, a p-value and Holm's adjustment over the
models. See docs/metrics.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ccsim.experiment.stats import holm, mean_ci, p_value, paired_mean_difference_ci, ratio_ci
from ccsim.planning.frontier import frontier_points, frontier_table, scaled_scenario
from ccsim.planning.targets import Targets
from ccsim.sim.metrics import RATIO_KPIS
from ccsim.study.site_scales import FLOOR_SUM_COLUMNS, Group, Point
from ccsim.study.site_sweep import per_site_costs, per_site_sweep, site_columns

__all__ = [
    "EQUAL_SERVICE_COLUMNS",
    "SWEEP_COLUMNS",
    "Sweep",
    "crossing",
    "equal_service_table",
    "model_costs",
    "replication_costs",
    "repriced_sweep",
    "site_labour",
    "study_frontier",
]

_NUMERATOR, _DENOMINATOR = RATIO_KPIS["service_level"]
#: The columns of the replication rows the frontier reads (a site's pay: to reprice a wage).
SWEEP_COLUMNS = sorted(
    {
        "replication",
        "channel",
        "site",
        "operating_cost",
        "labour_cost",
        "busy_time",
        "staffed_time",
        *_NUMERATOR,
        *_DENOMINATOR,
    }
)
EQUAL_SERVICE_COLUMNS = [
    "scenario",
    "cost",
    "cost_low",
    "cost_high",
    "binding_channel",
    "difference",
    "difference_low",
    "difference_high",
    "difference_pct",
    "difference_pct_low",
    "difference_pct_high",
    "p_value",
    "p_holm",
    "significant",
    "extrapolated",
    "n",
]


def sweep_fingerprint(experiment, name: str, scale: float) -> str:
    """Identity of one model's replications at one scale: the scaled scenario, the seeding,
    the code, and the word ``frontier`` (its blocks never mix with the main run's)."""
    scenario = scaled_scenario(experiment.scenarios[name], scale)
    return experiment.fingerprint_of(name, scenario, "frontier", f"{scale:g}")


@dataclass
class Sweep:
    """The frontier's replication rows (``SWEEP_COLUMNS``, whole-channel rows only) per model
    and scale, each site's pay there (:func:`site_labour`), and the fingerprints whose saved
    blocks hold them. With ``per_site``: per model, its groups of sites and, per point of its
    sweep (the scales' points included), the :func:`~.site_scales.point_values`."""

    rows: dict[tuple[str, float], pd.DataFrame]
    fingerprints: set[str]
    labour: dict[tuple[str, float], pd.DataFrame]
    groups: dict[str, list[Group]] = field(default_factory=dict)
    points: dict[str, dict[Point, pd.DataFrame]] = field(default_factory=dict)


def run_sweep(
    experiment,
    main_rows: Callable[[str], pd.DataFrame],
    n_main: int,
    simulate: Callable[..., dict],
    main_sums: Callable[[str, int, list[str]], list[pd.DataFrame]] | None = None,
) -> Sweep:
    """Run the frontier of every model: each scale but the plan's own on the experiment's
    seeds, by ``simulate(jobs, what, columns, sums)`` (the runner's: saved blocks resumed,
    the rest run in one batch; with ``sums``, their interval sums too), and the plan (scale
    1.0) from ``main_rows(name)`` (the main run's rows, ``SWEEP_COLUMNS``) when the main run
    has enough replications (the interval sums of its blocks within the first n, for the
    interval floors of ``per_site``, from ``main_sums(name, n, columns)``). With
    ``per_site``, then the rounds of :func:`~.site_sweep.per_site_sweep`."""
    spec = experiment.spec.frontier
    n = spec.replications
    rows: dict[tuple[str, float], list[pd.DataFrame]] = {}
    sums: dict[tuple[str, float], list[pd.DataFrame]] = {}
    fingerprints: set[str] = set()
    jobs = []
    for name in experiment.scenarios:
        for scale in spec.scales:
            if scale == 1.0 and n <= n_main:
                own = main_rows(name)
                rows[(name, scale)] = [own[own.replication < n]]
                if spec.per_site and main_sums is not None:
                    sums[(name, scale)] = main_sums(name, n, FLOOR_SUM_COLUMNS)
                continue
            scenario = scaled_scenario(experiment.scenarios[name], scale)
            fingerprint = sweep_fingerprint(experiment, name, scale)
            fingerprints.add(fingerprint)
            jobs.append(((name, scale), fingerprint, name, scenario, n))
    if spec.per_site:
        new, new_sums = simulate(jobs, "frontier ", SWEEP_COLUMNS, FLOOR_SUM_COLUMNS)
        rows |= new
        sums |= new_sums
    else:
        rows |= simulate(jobs, "frontier ", SWEEP_COLUMNS)
    whole, labour, every = {}, {}, {}
    for key, frames in rows.items():
        frame = every[key] = pd.concat(frames, ignore_index=True)
        labour[key] = site_labour(frame)
        frame = frame[frame.site == "all"].sort_values(["replication", "channel"])
        whole[key] = frame.reset_index(drop=True)
    sweep = Sweep(whole, fingerprints, labour)
    if spec.per_site:
        per_site_sweep(experiment, sweep, every, sums, simulate, SWEEP_COLUMNS)
    return sweep


def _total(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the whole centre: channel ``all``, or the one channel there is."""
    return rows[rows.channel == "all"] if (rows.channel == "all").any() else rows


def site_labour(rows: pd.DataFrame) -> pd.DataFrame:
    """Per replication and site (``all`` included), the week's pay over every channel:
    ``replication``, ``site``, ``labour_cost``. A wage scales its site's share of it."""
    total = _total(rows)
    return (
        total[["replication", "site", "labour_cost"]]
        .sort_values(["replication", "site"])
        .reset_index(drop=True)
    )


def study_frontier(experiment, sweep: Sweep) -> pd.DataFrame:
    """``frontier.csv``: per model, the points per scale and channel and the cost at target
    per channel and for the model (band inversion: ``planning.frontier.cost_at_target``)."""
    frames = []
    for name, scenario in experiment.scenarios.items():
        targets = Targets.of(scenario)
        points = pd.concat(
            [
                frontier_points(sweep.rows[(name, scale)], targets, scale)
                for scale in experiment.spec.frontier.scales
            ],
            ignore_index=True,
        )
        frames.append(frontier_table(points, name))
    return pd.concat(frames, ignore_index=True)


def crossing(costs: np.ndarray, levels: np.ndarray, target: float) -> tuple[float, bool]:
    """Where one replication's curve (cost, service level), in increasing cost, reaches
    ``target`` and stays: linear between the two bracketing points; outside the sweep,
    extrapolated along the nearest two points and flagged (``True``). NaN when the curve
    has no rising end to follow there (flat: a channel at 100% at every scale, or one
    that more agents do not help); ``-inf`` for a flat curve above target, which needs no
    more than the cheapest point and so never binds."""
    above = levels >= target
    if len(costs) < 2:
        return (float(costs[0]) if above.all() else math.nan), False
    if above.all():
        c0, c1, l0, l1 = costs[0], costs[1], levels[0], levels[1]
        if not l1 > l0:
            return -math.inf, True
        return float(c0 - (l0 - target) * (c1 - c0) / (l1 - l0)), True
    if not above[-1]:
        c0, c1, l0, l1 = costs[-2], costs[-1], levels[-2], levels[-1]
        if not l1 > l0:
            return math.nan, True
        return float(c1 + (target - l1) * (c1 - c0) / (l1 - l0)), True
    i = int(np.flatnonzero(~above)[-1]) + 1  # first point of the final run above target
    c0, c1, l0, l1 = costs[i - 1], costs[i], levels[i - 1], levels[i]
    weight = (target - l0) / (l1 - l0) if l1 != l0 else 1.0
    return float(c0 + weight * (c1 - c0)), False


def model_costs(targets: Targets, by_scale: dict[float, pd.DataFrame]) -> pd.DataFrame:
    """One model's cost at equal service per replication, from its rows at each scale of its
    sweep (``by_scale``; whole-channel rows are read): ``replication``, ``cost`` (NaN when a
    channel's target cannot be reached along the sweep), the ``binding_channel`` and whether
    its crossing was ``extrapolated`` outside the sweep."""
    frames = []
    for scale, rows in by_scale.items():
        rows = rows[rows.site == "all"]
        frame = rows.assign(
            scale=scale,
            level=rows[list(_NUMERATOR)].sum(axis=1)
            / rows[list(_DENOMINATOR)].sum(axis=1).replace(0, np.nan),
        )
        cost = _total(rows).set_index("replication")["operating_cost"]
        frames.append(frame.assign(cost=frame["replication"].map(cost)))
    curves = pd.concat(frames, ignore_index=True)
    records = []
    for replication, group in curves.groupby("replication", sort=True):
        best = (-math.inf, "", False)
        for channel, target in targets.channels.items():
            own = group[group.channel == channel].sort_values("scale")
            known = own["level"].notna()  # a scale where no contact queued says nothing
            if known.sum() == 0:
                continue
            value, extrapolated = crossing(
                own.loc[known, "cost"].to_numpy(float),
                own.loc[known, "level"].to_numpy(float),
                target.target,
            )
            if math.isnan(value):
                best = (math.nan, channel, True)
                break
            if value > best[0]:
                best = (value, channel, extrapolated)
        value, channel, extrapolated = best
        records.append(
            {
                "replication": int(replication),
                "cost": value if math.isfinite(value) else math.nan,
                "binding_channel": channel,
                "extrapolated": bool(extrapolated),
            }
        )
    return pd.DataFrame(records, columns=["replication", "cost", "binding_channel", "extrapolated"])


def replication_costs(experiment, sweep: Sweep) -> pd.DataFrame:
    """Per model and replication: its :func:`model_costs` along its sweep; with
    ``per_site``, :func:`~.site_scales.site_costs` and each group's scale, binding
    constraint and status (``scale_<group>``, ...)."""
    if experiment.spec.frontier.per_site:
        return per_site_costs(experiment, sweep)
    scales = list(experiment.spec.frontier.scales)
    frames = []
    for name, scenario in experiment.scenarios.items():
        by_scale = {scale: sweep.rows[(name, scale)] for scale in scales}
        frames.append(model_costs(Targets.of(scenario), by_scale).assign(scenario=name))
    columns = ["scenario", "replication", "cost", "binding_channel", "extrapolated"]
    return pd.concat(frames, ignore_index=True)[columns]


def equal_service_table(costs: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """``equal_service.csv`` from :func:`replication_costs`: one row per model, its mean cost
    at equal service with a t interval, the binding channel (the one binding in most
    replications), and the paired difference to ``baseline`` (absolute and in percent of the
    baseline's cost, delta-method interval of the ratio of means) with Holm-adjusted
    p-values over the models. Replications without a cost in the model or the baseline
    are left out of its pairs; ``extrapolated`` counts the model's replications whose
    binding crossing lies outside the sweep (kept in the figures)."""
    wide = costs.pivot(index="replication", columns="scenario", values="cost")
    base = wide[baseline]
    records = []
    for name, group in costs.groupby("scenario", sort=False):
        own = wide[name]
        estimate = mean_ci(own.to_numpy(float), level)
        record = {
            "scenario": name,
            "cost": estimate.value,
            "cost_low": estimate.low,
            "cost_high": estimate.high,
            "binding_channel": Counter(group["binding_channel"]).most_common(1)[0][0],
            "extrapolated": int(group["extrapolated"].sum()),
            "n": int(own.notna().sum()),
        }
        if "unbracketed" in group:
            record |= site_columns(group, level)
        pair = own.notna() & base.notna()
        if name == baseline:
            record |= dict.fromkeys(
                ["difference", "difference_low", "difference_high", "difference_pct"], 0.0
            )
            record |= {"difference_pct_low": 0.0, "difference_pct_high": 0.0}
            record |= {"p_value": math.nan}
        else:
            x, y = own[pair].to_numpy(float), base[pair].to_numpy(float)
            difference = paired_mean_difference_ci(x, y, level)
            ratio = ratio_ci(x, y, level)  # mean(x) / mean(y), paired residuals
            record |= {
                "difference": difference.value,
                "difference_low": difference.low,
                "difference_high": difference.high,
                "difference_pct": 100 * (ratio.value - 1),
                "difference_pct_low": 100 * (ratio.low - 1),
                "difference_pct_high": 100 * (ratio.high - 1),
                "p_value": p_value(difference),
            }
        records.append(record)
    table = pd.DataFrame(records)
    others = table["scenario"] != baseline
    table["p_holm"] = math.nan
    table.loc[others, "p_holm"] = holm(table.loc[others, "p_value"].to_numpy(float))
    table["significant"] = table["p_holm"] < 1 - level
    return table[EQUAL_SERVICE_COLUMNS + [c for c in table if c not in EQUAL_SERVICE_COLUMNS]]


def repriced_sweep(rows: pd.DataFrame, labour: pd.DataFrame, site: str, factor: float):
    """Whole-channel sweep ``rows`` with ``site``'s pay (``labour``, per replication) scaled
    by ``factor`` in the whole centre's cost: the only figure of the sweep a wage moves."""
    own = labour[labour.site == site]
    if own.empty:  # one site: its pay is the whole
        own = labour[labour.site == "all"]
    extra = own.set_index("replication")["labour_cost"] * (factor - 1.0)
    rows = rows.copy()
    total = rows.channel == "all" if (rows.channel == "all").any() else rows.channel.notna()
    rows.loc[total, "operating_cost"] += rows.loc[total, "replication"].map(extra).to_numpy()
    return rows
