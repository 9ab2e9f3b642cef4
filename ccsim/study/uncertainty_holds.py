"""How a point of the joint sample reaches equal service when the study scales each group
of sites to its own binding constraint (``frontier: {per_site: true}``).

A point is simulated at the base's equal-service staffing, each site re-planned for the
point's inputs (:mod:`.uncertainty`). What is left is a first-order step per group of sites,
**holding the constraint that binds the group at base where it was at base**, not stepping
every channel to its weekly target: at base the groups sit where an interval floor or an
occupancy cap binds, their weekly service levels above target, so a step to the targets
would price every point below the study's own answer (8-12% in the stop-25 run). One
constraint a group, not the largest of every channel's step: with one replication a point
each channel's level is noisy, and the largest of several noisy steps is biased upwards.

- **A service-level or floor constraint of channel c**: the group's pay moves by its slope
  (pay against c's weekly level between the frontier's two scales) times (c's weekly level
  at the base's equal-service point less its level at the point). A floor is held through
  its channel's weekly level: the floor share of one replication is too coarse to step on.
- **An occupancy cap of a site**: staff needed is proportional to the work at a given
  occupancy, so the group's pay is scaled by the site's occupancy at the point over its
  occupancy at the base's equal-service point (each over the week: the ratio moves as the
  core hours' does when work changes, and the week is what one replication's rows hold).

Base levels at a group's scale s* are read on the group's own curve (every point of the
study's sweep, by the group's scale) between the two points around s*, where the study read
the crossing, and the slope between the same two points.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccsim.sim.metrics import RATIO_KPIS

__all__ = ["Hold", "held_step", "site_holds"]

_NUMERATOR, _DENOMINATOR = RATIO_KPIS["service_level"]


@dataclass(frozen=True)
class Hold:
    """One group's binding constraint, held at its base value: ``kind`` ``level`` (a
    channel's weekly service level, ``slope`` pay per unit of it), ``occupancy`` or
    ``live_occupancy`` (of site ``name``)."""

    sites: tuple[str, ...]
    label: str
    kind: str
    name: str
    value: float
    slope: float = math.nan


def _level(rows: pd.DataFrame, channel: str) -> float:
    own = rows[(rows.site == "all") & (rows.channel == channel)]
    den = float(own[list(_DENOMINATOR)].to_numpy().sum())
    return float(own[list(_NUMERATOR)].to_numpy().sum()) / den if den else math.nan


def _occupancy(rows: pd.DataFrame, site: str, live: list[str] | None) -> float:
    """A site's busy time over its logged-on time over the week (``live``: on those
    channels only); a lone site's rows are ``all``'s."""
    key = site if (rows.site == site).any() else "all"
    own = rows[rows.site == key]
    whole = own[own.channel == "all"] if (own.channel == "all").any() else own
    staffed = float(whole["staffed_time"].sum())
    busy = own[own.channel.isin(live)] if live is not None else whole
    return float(busy["busy_time"].sum()) / staffed if staffed > 0 else math.nan


def _pay(rows: pd.DataFrame, sites: tuple[str, ...]) -> float:
    """The group's mean pay per replication."""
    whole = rows[rows.channel == "all"] if (rows.channel == "all").any() else rows
    own = whole[whole.site.isin(sites)]
    if own.empty:
        own = whole[whole.site == "all"]
    return float(own.groupby("replication")["labour_cost"].sum().mean())


def _curve(points: dict, group) -> pd.DataFrame:
    """The group's own curve: every point of its sweep by the group's scale (mean over
    replications; points at the same scale averaged), as the study reads its crossing."""
    frames = [
        values.drop(columns="replication")
        .mean()
        .to_frame()
        .T.assign(scale=dict(point)[group.sites[0]])
        for point, values in points.items()
    ]
    return pd.concat(frames, ignore_index=True).groupby("scale", sort=True).mean()


def _at(curve: pd.DataFrame, column: str, scale: float) -> float:
    """The column on the curve at ``scale``, linear between its points."""
    return float(np.interp(scale, curve.index.to_numpy(float), curve[column].to_numpy(float)))


def _between(curve: pd.DataFrame, scale: float) -> tuple[float, float]:
    """The two scales of the curve around ``scale`` (the end pair beyond its ends)."""
    scales = curve.index.to_numpy(float)
    i = int(np.clip(np.searchsorted(scales, scale), 1, len(scales) - 1))
    return scales[i - 1], scales[i]


def site_holds(groups, points: dict, costs: pd.DataFrame) -> list[Hold]:
    """Each group's :class:`Hold`: its most frequent binding constraint over the study's
    replications (``costs``: the model's :func:`~.site_sweep.per_site_costs` rows) at its
    mean scale there, read on the group's own curve (``points``: the sweep's
    :func:`~.site_scales.point_values` by point) between the points around that scale,
    where the study read its crossing."""
    holds = []
    for group in groups:
        labels = Counter(costs[f"binding_{group.name}"].dropna())
        labels.pop("", None)
        if not labels:
            continue
        label = labels.most_common(1)[0][0]
        name, _, kind = label.partition(" ")
        scale = float(costs[f"scale_{group.name}"].mean())
        curve = _curve(points, group)
        low, high = _between(curve, scale)

        if kind in ("occupancy", "live_occupancy"):
            value = _at(curve, f"{name}|week_{kind}", scale)
            holds.append(Hold(group.sites, label, kind, name, value))
            continue
        level = f"{name}|service_level"
        pay = curve[[f"{site}|labour_cost" for site in group.sites]].sum(axis=1)
        rise = float(curve.loc[high, level] - curve.loc[low, level])
        slope = float(pay[high] - pay[low]) / rise if rise > 1e-3 else math.nan
        holds.append(Hold(group.sites, label, "level", name, _at(curve, level, scale), slope))
    return holds


def held_step(holds: list[Hold], scenario, rows: pd.DataFrame) -> tuple[dict[str, float], str]:
    """Per site, the factor its pay at the point is multiplied by to hold its group's
    binding constraint at its base value, and the constraints' labels."""
    live = [name for name, channel in scenario.channels.items() if channel.kind != "email"]
    factors: dict[str, float] = {}
    for hold in holds:
        if hold.kind == "level":
            pay, level = _pay(rows, hold.sites), _level(rows, hold.name)
            step = hold.slope * (hold.value - level)
            factor = 1 + step / pay if math.isfinite(step) and pay > 0 else 1.0
        else:
            channels = live if hold.kind == "live_occupancy" else None
            occupancy = _occupancy(rows, hold.name, channels)
            factor = occupancy / hold.value if occupancy > 0 and hold.value > 0 else 1.0
        for site in hold.sites:
            factors[site] = max(factor, 0.0)
    return factors, "; ".join(hold.label for hold in holds)
