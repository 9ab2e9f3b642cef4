"""Service targets as planners state them, and a staffing judged against them by simulation.

Per channel, two targets: a **weekly service level** (over the whole observation window, the
ratio of totals ``S_t / (S + L)`` of docs/metrics.md over the replications) whose lower
confidence bound must reach the objective, and an **interval floor**: of the reporting
intervals with demand, at least ``interval_share`` (default 95%) must reach the objective less
``interval_floor`` (default 15 points), each interval judged by its estimate over the
replications (a night interval with two calls has too wide an interval for its lower bound
to mean anything; the 5% allowance is for such noise).

:func:`evaluate` runs the replications (the same seeds every time it is called with the same
``seed``: common random numbers) and says, per channel, what was reached.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccsim.experiment.parallel import run_replications
from ccsim.experiment.stats import ratio_ci
from ccsim.model import ConfigError, Scenario, ServiceLevel
from ccsim.planning.shares import share_name, split_shares
from ccsim.sim.metrics import RATIO_KPIS

__all__ = ["ChannelTarget", "Evaluation", "Targets", "evaluate", "interval_levels", "judge"]

_EPS = 1e-12


@dataclass(frozen=True)
class ChannelTarget:
    """One channel's objective (share within a threshold) and its interval floor."""

    service_level: ServiceLevel
    interval_floor: float = 0.15
    interval_share: float = 0.95

    def __post_init__(self) -> None:
        if not 0 <= self.interval_floor <= 1:
            raise ConfigError("", "interval_floor", f"must be in [0, 1], got {self.interval_floor}")
        if not 0 <= self.interval_share <= 1:
            raise ConfigError("", "interval_share", f"must be in [0, 1], got {self.interval_share}")

    @property
    def target(self) -> float:
        return self.service_level.target

    @property
    def floor(self) -> float:
        return self.target - self.interval_floor


@dataclass(frozen=True)
class Targets:
    """The targets of every channel staffed, and the confidence of the weekly bound."""

    channels: Mapping[str, ChannelTarget]
    confidence: float = 0.95
    #: Occupancy caps a planner staffs to (None: none): on live work (voice, chat) and with
    #: deferred work (email) filling the idle time. Pushing a large pool to the occupancy the
    #: service level alone allows (95% and more at 300 agents) burns agents out.
    max_occupancy: float | None = None
    max_occupancy_deferred: float = 0.95

    def __post_init__(self) -> None:
        for name in ("max_occupancy", "max_occupancy_deferred"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= 1:
                raise ConfigError("", name, f"must be in (0, 1], got {value!r}")

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        service_level: ServiceLevel | Mapping[str, ServiceLevel] | None = None,
        interval_floor: float = 0.15,
        interval_share: float = 0.95,
        confidence: float = 0.95,
        max_occupancy: float | None = None,
        max_occupancy_deferred: float = 0.95,
    ) -> Targets:
        """Every channel's own objective (or ``service_level``: one for all, or per channel),
        with the same interval floor, and the occupancy caps."""
        if not 0 < confidence < 1:
            raise ConfigError("", "confidence", f"must be in (0, 1), got {confidence!r}")
        channels = {}
        for name, channel in scenario.channels.items():
            objective = channel.service_level
            if isinstance(service_level, ServiceLevel):
                objective = service_level
            elif service_level is not None and name in service_level:
                objective = service_level[name]
            channels[name] = ChannelTarget(objective, interval_floor, interval_share)
        return cls(channels, confidence, max_occupancy, max_occupancy_deferred)

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with each channel's objective set to its target (the simulation
        measures the service level at the channel's own threshold)."""
        channels = {
            name: channel.model_copy(update={"service_level": self.channels[name].service_level})
            if name in self.channels
            else channel
            for name, channel in scenario.channels.items()
        }
        return scenario.model_copy(update={"channels": channels})


@dataclass(frozen=True)
class Evaluation:
    """A staffing simulated over ``reps`` replications and judged against its targets.

    ``channels``: one row per channel: ``service_level`` with ``low`` and ``high`` (weekly,
    the confidence interval of the ratio of totals), ``target``, ``met_weekly``,
    ``intervals`` (with demand), ``share_at_floor`` (of those reaching target - floor),
    ``met_floor``, ``met``. ``intervals``: one row per channel and interval: ``offered``
    (mean per replication), ``sl``, ``low``, ``high``. ``sites``: occupancy per site with its
    interval. ``cost``: mean operating cost (labour and bot) per replication.
    """

    channels: pd.DataFrame
    intervals: pd.DataFrame
    sites: pd.DataFrame
    cost: float
    reps: int
    seed: int
    confidence: float = 0.95  # of every interval above

    @property
    def met(self) -> bool:
        return bool(self.channels["met"].all())


def _ratio(frame: pd.DataFrame, kpi: str, confidence: float):
    numerator, denominator = RATIO_KPIS[kpi]
    return ratio_ci(
        frame[list(numerator)].sum(axis=1).to_numpy(float),
        frame[list(denominator)].sum(axis=1).to_numpy(float),
        confidence,
    )


def _whole(rows: pd.DataFrame, site: str) -> pd.DataFrame:
    """The rows of ``site`` over all its channels. One site has no rows of its own (its
    figures are those of ``all``), and one channel no ``all`` row (it is the whole)."""
    own = rows[rows.site == site]
    if (own.channel == "all").any():
        own = own[own.channel == "all"]
    return own


def evaluate(
    scenario: Scenario, targets: Targets, reps: int, seed: int = 0, n_jobs: int = 1
) -> Evaluation:
    """Simulate ``scenario`` over ``reps`` replications with ``seed`` and judge every target."""
    if reps < 2:
        raise ConfigError("", "reps", "judging a staffing needs at least 2 replications")
    rows, interval_rows = run_replications(scenario, reps, seed=seed, n_jobs=n_jobs, intervals=True)
    levels = interval_levels(interval_rows, targets, scenario)
    return judge(scenario, targets, rows, levels, reps, seed, shares=True)


def _sums(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Service-level numerator and denominator of each row, with the ``by`` columns."""
    numerator, denominator = RATIO_KPIS["service_level"]
    return rows[by].assign(
        _num=rows[list(numerator)].sum(axis=1).to_numpy(float),
        _den=rows[list(denominator)].sum(axis=1).to_numpy(float),
    )


def _share_sums(rows: pd.DataFrame, channel: str, site: str, share: float, by: list[str]):
    """A split channel's share judged from ``rows``: what ``site`` answers of the channel
    within the threshold over ``share`` of the channel's counted contacts, per ``by``
    (replication, and interval). With every overflow step at or beyond the threshold the
    numerator is exactly the share's own contacts answered in time (another site's come
    later); with a shorter step it includes the other shares' contacts the site takes."""
    keys = [column for column in by if column != "offered"]  # the channel's, not the site's
    whole = _sums(rows[(rows.site == "all") & (rows.channel == channel)], by)
    own = _sums(rows[(rows.site == site) & (rows.channel == channel)], keys)
    merged = whole.merge(own, on=keys, how="left", suffixes=("_all", "")).fillna(0.0)
    return merged.assign(_den=merged["_den_all"] * share)


def _shares(scenario: Scenario | None, targets: Targets) -> list[tuple[str, str, str, float]]:
    """``(name, channel, site, share)`` of every share of a split channel with a target."""
    if scenario is None:
        return []
    return [
        (share_name(channel, site), channel, site, share)
        for channel in targets.channels
        if channel in scenario.channels
        for site, share in split_shares(scenario, channel).items()
    ]


def interval_levels(
    interval_rows: pd.DataFrame, targets: Targets, scenario: Scenario | None = None
) -> pd.DataFrame:
    """Per channel and reporting interval: ``offered`` (mean per replication) and the
    service level over the replications (ratio of totals) with its interval, from one row
    per replication, channel, site and interval; with ``scenario``, each share of a split
    channel too, under its share's name (:func:`_share_sums`)."""
    by = ["replication", "interval", "offered"]
    per_interval = interval_rows[interval_rows.site == "all"]
    frames = [
        (name, _sums(per_interval[per_interval.channel == name], by)) for name in targets.channels
    ]
    frames += [
        (name, _share_sums(interval_rows, channel, site, share, by))
        for name, channel, site, share in _shares(scenario, targets)
    ]
    records = []
    for name, own in frames:
        for interval, group in own.groupby("interval", sort=True):
            level = (
                ratio_ci(
                    group["_num"].to_numpy(float), group["_den"].to_numpy(float), targets.confidence
                )
                if group["_den"].sum() > 0
                else None
            )
            records.append(
                {
                    "channel": name,
                    "interval": int(interval),
                    "offered": float(group["offered"].sum() / len(group)),
                    "sl": level.value if level else math.nan,
                    "low": level.low if level else math.nan,
                    "high": level.high if level else math.nan,
                }
            )
    return pd.DataFrame(records, columns=INTERVAL_LEVEL_COLUMNS)


#: The columns of :func:`interval_levels` (and of ``Evaluation.intervals``).
INTERVAL_LEVEL_COLUMNS = ["channel", "interval", "offered", "sl", "low", "high"]


def _judged(name: str, target: ChannelTarget, sums: pd.DataFrame, intervals, confidence) -> dict:
    """One channel's (or share's) row of ``Evaluation.channels``."""
    estimate = ratio_ci(sums["_num"].to_numpy(float), sums["_den"].to_numpy(float), confidence)
    levels = intervals.loc[intervals.channel == name, "sl"].to_numpy(float)
    levels = levels[~np.isnan(levels)]
    share = float((levels >= target.floor - _EPS).mean()) if len(levels) else 1.0
    value = estimate.value if sums["_den"].sum() > 0 else 1.0
    low = estimate.low if math.isfinite(estimate.low) else value
    met_weekly = low >= target.target - _EPS
    met_floor = share >= target.interval_share - _EPS
    return {
        "channel": name,
        "service_level": value,
        "low": low,
        "high": estimate.high if math.isfinite(estimate.high) else value,
        "target": target.target,
        "met_weekly": bool(met_weekly),
        "intervals": len(levels),
        "share_at_floor": share,
        "interval_share": target.interval_share,
        "met_floor": bool(met_floor),
        "met": bool(met_weekly and met_floor),
    }


def judge(
    scenario: Scenario,
    targets: Targets,
    rows: pd.DataFrame,
    intervals: pd.DataFrame,
    reps: int,
    seed: int = 0,
    *,
    shares: bool = False,
) -> Evaluation:
    """Judge every target from replications already run: ``rows`` one per replication,
    channel and site (:mod:`ccsim.sim.result`), ``intervals`` the service level per
    channel and interval (:func:`interval_levels`; ``sl`` NaN where no contact queued).
    With ``shares``, each share of a split channel is judged too, under its share's name,
    against the channel's targets (as the search does: :func:`evaluate`)."""
    by = ["replication"]
    records = [
        _judged(
            name,
            target,
            _sums(rows[(rows.site == "all") & (rows.channel == name)], by),
            intervals,
            targets.confidence,
        )
        for name, target in targets.channels.items()
    ]
    records += [
        _judged(
            name,
            targets.channels[channel],
            _share_sums(rows, channel, site, share, by),
            intervals,
            targets.confidence,
        )
        for name, channel, site, share in _shares(scenario if shares else None, targets)
    ]
    site_records = []
    for site in scenario.sites:
        own = _whole(rows, site.name if len(scenario.sites) > 1 else "all")
        if own.empty or own["staffed_time"].sum() <= 0:
            continue
        occupancy = _ratio(own, "occupancy", targets.confidence)
        site_records.append(
            {
                "site": site.name,
                "occupancy": occupancy.value,
                "low": occupancy.low,
                "high": occupancy.high,
                "labour_cost": float(own["labour_cost"].sum() / reps),
            }
        )
    everything = _whole(rows, "all")
    return Evaluation(
        channels=pd.DataFrame(records),
        intervals=intervals.reset_index(drop=True),
        sites=pd.DataFrame(
            site_records, columns=["site", "occupancy", "low", "high", "labour_cost"]
        ),
        cost=float(everything["operating_cost"].sum() / reps),
        reps=reps,
        seed=seed,
        confidence=targets.confidence,
    )
