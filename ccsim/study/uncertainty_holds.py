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

Base levels at a group's scale s* are read on the line through the frontier's two scales
(the whole centre moved together: each study channel is served by one group, so its level
is its group's to first order).
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


def _at(scales: list[float], values: list[float], scale: float) -> float:
    """The line through the frontier's points at ``scale`` (extended beyond them)."""
    slope, intercept = np.polyfit(scales, values, 1)
    return float(intercept + slope * scale)


def site_holds(groups, diagonal: dict[float, pd.DataFrame], costs: pd.DataFrame) -> list[Hold]:
    """Each group's :class:`Hold`: its most frequent binding constraint over the study's
    replications (``costs``: the model's :func:`~.site_sweep.per_site_costs` rows) at its
    mean scale there, read from the frontier's points at its scales (``diagonal``: scale ->
    :func:`~.site_scales.point_values`)."""
    scales = sorted(diagonal)

    def mean(column: str) -> list[float]:
        return [float(diagonal[s][column].mean()) for s in scales]

    holds = []
    for group in groups:
        labels = Counter(costs[f"binding_{group.name}"].dropna())
        labels.pop("", None)
        if not labels:
            continue
        label = labels.most_common(1)[0][0]
        name, _, kind = label.partition(" ")
        scale = float(costs[f"scale_{group.name}"].mean())
        if kind in ("occupancy", "live_occupancy"):
            values = mean(f"{name}|week_{kind}")
            holds.append(Hold(group.sites, label, kind, name, _at(scales, values, scale)))
            continue
        levels = mean(f"{name}|service_level")
        pays = np.sum([mean(f"{site}|labour_cost") for site in group.sites], axis=0)
        rise = levels[-1] - levels[0]
        slope = (pays[-1] - pays[0]) / rise if rise > 1e-3 else math.nan
        holds.append(Hold(group.sites, label, "level", name, _at(scales, levels, scale), slope))
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
