"""Whether each model meets its targets at its plan: ``targets.csv``.

Per model and channel, the targets of :mod:`ccsim.planning.targets` judged by its
:func:`~ccsim.planning.targets.judge` on the experiment's own replications (the weekly
service level's lower bound, and the share of intervals with demand at or above the floor);
per model and tier-1 site (a site that answers a channel customers reach first), the
occupancy over its staffed daytime hours. Nothing is simulated again.

**Staffed daytime**: the reporting intervals that start between 08:00 and 20:00 on the
site's own clock and in which the site has agents scheduled (in the mean over the
replications). Occupancy there is busy time over logged-on time, a ratio of totals (live
occupancy: the busy time on voice and chat alone, email left out: on a blended site email
fills what live work leaves, so the site's occupancy says how busy agents are and the live
occupancy how much of their time customers waited for); its
interval treats each saved block of replications as one unit (the blocks are independent,
and the per-replication interval rows are not kept), the delta method over the blocks.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ccsim.experiment.stats import ratio_ci, ratio_ci_from_sums
from ccsim.model import Scenario
from ccsim.planning.targets import INTERVAL_LEVEL_COLUMNS, Targets, judge
from ccsim.sim.metrics import RATIO_KPIS

__all__ = ["DAY_END", "DAY_START", "TARGETS_COLUMNS", "daytime_occupancy", "targets_rows"]

#: Site-local hours of the staffed daytime: [08:00, 20:00).
DAY_START, DAY_END = 8, 20

TARGETS_COLUMNS = [
    "scenario",
    "kind",
    "channel",
    "site",
    "service_level",
    "sl_low",
    "sl_high",
    "target",
    "met_weekly",
    "intervals",
    "share_at_floor",
    "floor",
    "floor_share_required",
    "met_floor",
    "met",
    "occupancy",
    "occupancy_low",
    "occupancy_high",
    "live_occupancy",
    "live_occupancy_low",
    "live_occupancy_high",
    "daytime_intervals",
]


def _interval_levels(sums: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """:func:`~ccsim.planning.targets.interval_levels` from the experiment's interval
    running sums (the same ratio of totals and delta-method interval)."""
    numerator, denominator = RATIO_KPIS["service_level"]
    own = sums[sums.site == "all"]
    records = []
    for name in targets.channels:
        for row in own[own.channel == name].sort_values("interval").to_dict("records"):
            num = sum(row[f"s_{c}"] for c in numerator)
            den = sum(row[f"s_{c}"] for c in denominator)
            level = None
            if den > 0:
                level = ratio_ci_from_sums(
                    num,
                    den,
                    row["nn_service_level"],
                    row["dd_service_level"],
                    row["nd_service_level"],
                    int(row["n"]),
                    targets.confidence,
                )
            records.append(
                {
                    "channel": name,
                    "interval": int(row["interval"]),
                    "offered": row["s_offered"] / row["n"],
                    "sl": level.value if level else math.nan,
                    "low": level.low if level else math.nan,
                    "high": level.high if level else math.nan,
                }
            )
    return pd.DataFrame(records, columns=INTERVAL_LEVEL_COLUMNS)


def _tier1_sites(scenario: Scenario) -> list[str]:
    first = {name for name, channel in scenario.channels.items() if channel.arrivals is not None}
    return [site.name for site in scenario.sites if site.skills is None or first & set(site.skills)]


def _site_rows(sums: pd.DataFrame, site: str, n_sites: int) -> pd.DataFrame:
    """A site's rows over all its channels: a lone site's are those of ``all``; a lone
    channel's are its own (no ``all`` row)."""
    own = sums[sums.site == (site if n_sites > 1 else "all")]
    if (own.channel == "all").any():
        own = own[own.channel == "all"]
    return own


def daytime_occupancy(
    scenario: Scenario, site: str, block_sums: list[pd.DataFrame], confidence: float = 0.95
):
    """The occupancy of ``site`` over its staffed daytime intervals (module docstring) and
    its live occupancy (voice and chat: email left out), each with its interval over the
    blocks, and how many intervals count as daytime."""
    zone = ZoneInfo(next(s.timezone for s in scenario.sites if s.name == site) or scenario.timezone)
    parts = [_site_rows(sums, site, len(scenario.sites)) for sums in block_sums]
    whole = pd.concat(parts).groupby("interval", sort=True)[["s_scheduled_time", "n"]].sum()
    first = parts[0].drop_duplicates("interval").set_index("interval")["local_start"]
    hours = first.map(lambda text: datetime.fromisoformat(text).astimezone(zone).hour)
    daytime = hours[(hours >= DAY_START) & (hours < DAY_END)].index
    daytime = [k for k in daytime if whole.loc[k, "s_scheduled_time"] > 0]
    busy = np.array([p[p.interval.isin(daytime)]["s_busy_time"].sum() for p in parts])
    staffed = np.array([p[p.interval.isin(daytime)]["s_staffed_time"].sum() for p in parts])
    # Live work: the busy time on the channels a customer waits on (not email, which fills
    # the idle time of a blended site), over the same logged-on time.
    live = [name for name, channel in scenario.channels.items() if channel.kind != "email"]
    key = site if len(scenario.sites) > 1 else "all"
    live_busy = np.array(
        [
            sums[(sums.site == key) & sums.channel.isin(live) & sums.interval.isin(daytime)][
                "s_busy_time"
            ].sum()
            for sums in block_sums
        ]
    )
    return (
        ratio_ci(busy, staffed, confidence).within(0.0, 1.0),
        ratio_ci(live_busy, staffed, confidence).within(0.0, 1.0),
        len(daytime),
    )


def targets_rows(
    name: str,
    scenario: Scenario,
    rows: pd.DataFrame,
    interval_sums: pd.DataFrame,
    block_sums: list[pd.DataFrame],
    n_reps: int,
) -> pd.DataFrame:
    """The rows of ``targets.csv`` for one model: one per channel (``kind`` = ``channel``)
    and one per tier-1 site (``kind`` = ``site``)."""
    targets = Targets.of(scenario)
    evaluation = judge(scenario, targets, rows, _interval_levels(interval_sums, targets), n_reps)
    records = []
    for row in evaluation.channels.to_dict("records"):
        target = targets.channels[row["channel"]]
        records.append(
            {
                "scenario": name,
                "kind": "channel",
                "channel": row["channel"],
                "service_level": row["service_level"],
                # A share's interval stays within [0, 1] (the delta method's need not).
                "sl_low": max(row["low"], 0.0),
                "sl_high": min(row["high"], 1.0),
                "target": row["target"],
                "met_weekly": row["met_weekly"],
                "intervals": row["intervals"],
                "share_at_floor": row["share_at_floor"],
                "floor": target.floor,
                "floor_share_required": target.interval_share,
                "met_floor": row["met_floor"],
                "met": row["met"],
            }
        )
    for site in _tier1_sites(scenario):
        occupancy, live, n_daytime = daytime_occupancy(
            scenario, site, block_sums, targets.confidence
        )
        records.append(
            {
                "scenario": name,
                "kind": "site",
                "site": site,
                "occupancy": occupancy.value,
                "occupancy_low": occupancy.low,
                "occupancy_high": occupancy.high,
                "live_occupancy": live.value,
                "live_occupancy_low": live.low,
                "live_occupancy_high": live.high,
                "daytime_intervals": n_daytime,
            }
        )
    return pd.DataFrame(records, columns=TARGETS_COLUMNS)
