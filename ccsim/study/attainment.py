"""Whether each model meets its targets at its plan: ``targets.csv``.

Per model and channel, the targets of :mod:`ccsim.planning.targets` judged by its
:func:`~ccsim.planning.targets.judge` on the experiment's own replications (the weekly
service level's lower bound, and the share of intervals with demand at or above the floor);
per model and tier-1 site (a site that answers a channel customers reach first), the
occupancy over the customers' core hours. Nothing is simulated again.

**The customers' core hours** (:data:`CUSTOMER_DAY`): the reporting intervals that start
between 10:00 and 16:00 on the customers' clock (the scenario's time zone, the clock the
intervals are written in) and in which the site has agents scheduled (in the mean over the
replications). A site abroad works its night then: its own clock would judge the wrong
hours. Occupancy there is busy time over logged-on time, a ratio of totals: the total
(email and every other channel included: on a blended site email fills what live work
leaves, so it says how busy agents are), checked against the plan's cap on it
(:attr:`~ccsim.planning.targets.Targets.max_occupancy_deferred`), and the live occupancy
(the busy time on voice and chat alone: how much of their time customers waited for),
checked against the band well-run voice centres hold (:data:`LIVE_BAND`). Each interval
treats each saved block of replications as one unit (the blocks are independent, and the
per-replication interval rows are not kept), the delta method over the blocks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ccsim.experiment.stats import ratio_ci, ratio_ci_from_sums
from ccsim.model import Scenario
from ccsim.planning.targets import INTERVAL_LEVEL_COLUMNS, Targets, judge
from ccsim.sim.metrics import RATIO_KPIS

__all__ = [
    "CUSTOMER_DAY",
    "LIVE_BAND",
    "TARGETS_COLUMNS",
    "clock_minutes",
    "core_hours",
    "core_hours_occupancy",
    "targets_rows",
]

#: The customers' core hours on their own clock, [10:00, 16:00): the plateau of the
#: demand profile (configs/models/_demand.yaml, weights 7 and 8 of at most 8), when every
#: contiguous US time zone is at work (07:00-13:00 Pacific). Hours, not minutes: the window
#: is named in ``targets.csv`` and on the page.
CUSTOMER_DAY = (10, 16)
#: The live occupancy a well-run voice centre holds in its staffed day (configs/README.md).
LIVE_BAND = (0.75, 0.88)

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
    "window",
    "window_intervals",
    "occupancy_cap",
    "judged_at",
    "occupancy_at_equal_service",
    "live_occupancy_at_equal_service",
    "met_occupancy",
    "live_occupancy_in_band",
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


def clock_minutes(local_start: pd.Series) -> pd.Series:
    """Minutes since midnight on the customers' wall clock of each interval start, an ISO
    time written in the scenario's time zone (``2026-03-02T10:30:00-05:00`` -> 630)."""
    clock = local_start.astype(str).str.slice(11, 16)
    return 60 * clock.str.slice(0, 2).astype(int) + clock.str.slice(3).astype(int)


def core_hours(scenario: Scenario) -> str:
    """The customers' core hours in words: ``10:00-16:00 America/New_York``."""
    return f"{CUSTOMER_DAY[0]:02d}:00-{CUSTOMER_DAY[1]:02d}:00 {scenario.timezone}"


def core_hours_occupancy(
    scenario: Scenario, site: str, block_sums: list[pd.DataFrame], confidence: float = 0.95
):
    """The occupancy of ``site`` over the customers' core hours (module docstring) and its
    live occupancy (email left out), each with its interval over the blocks, and how many
    intervals count."""
    parts = [_site_rows(sums, site, len(scenario.sites)) for sums in block_sums]
    whole = pd.concat(parts).groupby("interval", sort=True)[["s_scheduled_time", "n"]].sum()
    first = parts[0].drop_duplicates("interval").set_index("interval")["local_start"]
    minutes = clock_minutes(first)
    core = minutes[(minutes >= 60 * CUSTOMER_DAY[0]) & (minutes < 60 * CUSTOMER_DAY[1])].index
    core = [k for k in core if whole.loc[k, "s_scheduled_time"] > 0]
    busy = np.array([p[p.interval.isin(core)]["s_busy_time"].sum() for p in parts])
    staffed = np.array([p[p.interval.isin(core)]["s_staffed_time"].sum() for p in parts])
    # Live work: the busy time on the channels a customer waits on (not email, which fills
    # the idle time of a blended site), over the same logged-on time.
    live = [name for name, channel in scenario.channels.items() if channel.kind != "email"]
    key = site if len(scenario.sites) > 1 else "all"
    live_busy = np.array(
        [
            sums[(sums.site == key) & sums.channel.isin(live) & sums.interval.isin(core)][
                "s_busy_time"
            ].sum()
            for sums in block_sums
        ]
    )
    return (
        ratio_ci(busy, staffed, confidence).within(0.0, 1.0),
        ratio_ci(live_busy, staffed, confidence).within(0.0, 1.0),
        len(core),
    )


def _voice_sites(scenario: Scenario) -> set[str]:
    voice = {name for name, channel in scenario.channels.items() if channel.kind == "voice"}
    return {site.name for site in scenario.sites if site.skills is None or voice & set(site.skills)}


def _site_record(
    name: str,
    scenario: Scenario,
    site: str,
    block_sums,
    targets: Targets,
    at_equal: tuple[float, float] | None,
) -> dict:
    occupancy, live, n_core = core_hours_occupancy(scenario, site, block_sums, targets.confidence)
    cap = targets.max_occupancy_deferred
    judged = n_core > 0 and math.isfinite(occupancy.value)
    # The staffing whose cost is the answer is judged: each site at its equal-service point
    # where the study has one (linear between the sweep's points, as its pay), else the plan.
    total, live_level = at_equal if at_equal is not None else (occupancy.value, live.value)
    judged = judged and math.isfinite(total)
    voice = site in _voice_sites(scenario)  # the band is a voice centre's
    return {
        "scenario": name,
        "kind": "site",
        "site": site,
        "occupancy": occupancy.value,
        "occupancy_low": occupancy.low,
        "occupancy_high": occupancy.high,
        "live_occupancy": live.value,
        "live_occupancy_low": live.low,
        "live_occupancy_high": live.high,
        "window": core_hours(scenario),
        "window_intervals": n_core,
        "occupancy_cap": cap,
        "judged_at": ("equal service" if at_equal is not None else "plan") if judged else None,
        "occupancy_at_equal_service": at_equal[0] if at_equal is not None else math.nan,
        "live_occupancy_at_equal_service": at_equal[1] if at_equal is not None else math.nan,
        # The cap is a planning figure on the expected load: judged by the estimate (to
        # 1e-9: a site whose cap binds ends exactly on it, give or take rounding).
        "met_occupancy": bool(total <= cap + 1e-9) if judged else None,
        "live_occupancy_in_band": (
            bool(LIVE_BAND[0] - 1e-9 <= live_level <= LIVE_BAND[1] + 1e-9)
            if judged and voice
            else None
        ),
    }


def targets_rows(
    name: str,
    scenario: Scenario,
    rows: pd.DataFrame,
    interval_sums: pd.DataFrame,
    block_sums: list[pd.DataFrame],
    n_reps: int,
    at_equal: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """The rows of ``targets.csv`` for one model: one per channel (``kind`` = ``channel``)
    and one per tier-1 site (``kind`` = ``site``); ``at_equal``: per site, its occupancy
    and live occupancy over the core hours at its equal-service point, which then judge
    the caps."""
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
        own = (at_equal or {}).get(site)
        records.append(_site_record(name, scenario, site, block_sums, targets, own))
    return pd.DataFrame(records, columns=TARGETS_COLUMNS)
