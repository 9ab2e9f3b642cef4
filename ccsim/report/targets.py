"""The target table at the top of the report, as data for the page's template: per model
and channel whether the targets are met (the weekly service level's lower bound against the
target, and the share of intervals at the floor), then each site's tier-1 daytime occupancy,
from the study's ``targets.csv`` (:mod:`ccsim.report.answer` reads it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ccsim.report.answer import flag

__all__ = ["SiteOccupancy", "Target", "TargetRow", "TargetTable", "target_table"]


@dataclass(frozen=True)
class Target:
    """One model's channel against its targets, as the cell says it."""

    met: bool
    level: str  # the weekly service level
    interval: str
    met_weekly: bool
    target: str
    floor: str  # "" when the study set no interval floor
    at_floor: str
    met_floor: bool
    required: str


@dataclass(frozen=True)
class SiteOccupancy:
    """A site's tier-1 daytime occupancy, with its interval."""

    name: str
    occupancy: str
    interval: str
    live: str  # voice and chat alone, when it differs; else ""


@dataclass(frozen=True)
class TargetRow:
    """One model: its channels against their targets, and its sites' occupancy."""

    scenario: str
    targets: list[Target | None]  # one per channel of the table
    sites: list[SiteOccupancy]


@dataclass(frozen=True)
class TargetTable:
    """A row per model, a column per channel (and one of occupancy where the study wrote it)."""

    channels: list[str]
    occupancy: bool  # a column of the sites' occupancy
    baseline: str | None
    rows: list[TargetRow]

    @property
    def floors(self) -> bool:
        """Whether any channel has an interval floor (the text explains it only then)."""
        return any(t is not None and t.floor for row in self.rows for t in row.targets)


def _share(value: float, decimals: int = 1) -> str:
    return f"{100 * value:.{decimals}f}%" if math.isfinite(value) else "—"


def _bounds(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def _number(row: pd.Series, column: str) -> float:
    value = row.get(column, math.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _target(row: pd.Series) -> Target:
    floor, at_floor = _number(row, "floor"), _number(row, "share_at_floor")
    judged = math.isfinite(floor) and math.isfinite(at_floor)
    return Target(
        met=flag(row["met"]),
        level=_share(_number(row, "service_level")),
        interval=_bounds(_number(row, "sl_low"), _number(row, "sl_high")),
        met_weekly=flag(row["met_weekly"]),
        target=_share(_number(row, "target"), 0),
        floor=_share(floor, 0) if judged else "",
        at_floor=_share(at_floor, 0),
        met_floor=judged and flag(row["met_floor"]),
        required=_share(_number(row, "floor_share_required"), 0),
    )


def _site(row: pd.Series) -> SiteOccupancy:
    name = row["site"] if "site" in row and isinstance(row["site"], str) else row["channel"]
    occupancy = _number(row, "occupancy")
    live = _number(row, "live_occupancy") if "live_occupancy" in row else math.nan
    return SiteOccupancy(
        name=str(name),
        occupancy=_share(occupancy, 0),
        interval=_bounds(_number(row, "occupancy_low"), _number(row, "occupancy_high")),
        live=_share(live, 0) if math.isfinite(live) and abs(live - occupancy) > 0.005 else "",
    )


def target_table(
    targets: pd.DataFrame, scenarios: Sequence[str], baseline: str | None
) -> TargetTable:
    """Per model (rows) and channel (columns): met or not, the weekly service level with its
    interval against the target, and the share of intervals at the floor; then each site's
    tier-1 daytime occupancy."""
    targeted = targets["target"].notna() if "target" in targets else targets["channel"].isna()
    channel_rows = targets[targeted]
    site_rows = targets[~targeted]
    if "occupancy" in site_rows:
        site_rows = site_rows[site_rows["occupancy"].notna()]
    else:
        site_rows = site_rows.iloc[0:0]
    channels = list(dict.fromkeys(channel_rows["channel"]))
    index = {(r["scenario"], r["channel"]): r for _, r in channel_rows.iterrows()}
    rows = [
        TargetRow(
            scenario,
            [_target(index[scenario, c]) if (scenario, c) in index else None for c in channels],
            [_site(row) for _, row in site_rows[site_rows["scenario"] == scenario].iterrows()],
        )
        for scenario in scenarios
        if scenario in set(targets["scenario"])
    ]
    return TargetTable(channels, not site_rows.empty, baseline, rows)
