"""The target table at the top of the report, as data for the page's template: per model
and channel whether the targets are met (the weekly service level's lower bound against the
target, and the share of intervals at the floor), then each tier-1 site's occupancy over the
customers' core hours (total against the plan's cap, live against the band well-run voice
centres hold), from the study's ``targets.csv`` (:mod:`ccsim.report.answer` reads it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ccsim.report.formatting import flag
from ccsim.study.attainment import LIVE_BAND

__all__ = [
    "SiteOccupancy",
    "Target",
    "TargetRow",
    "TargetTable",
    "missed_channels",
    "missed_targets",
    "occupancy_lines",
    "target_table",
]


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
    """A tier-1 site's occupancy over the customers' core hours, with its interval, against
    the plan's cap; its live occupancy against the band (both "" when the table has no
    judgement, as older ones do not)."""

    name: str
    occupancy: str
    interval: str
    live: str  # voice and chat alone, when it differs; else ""
    cap: str = ""
    met: bool = True
    band: str = ""  # "" where the band is not judged (a site without voice)
    in_band: bool = True
    plan: str = ""  # the plan's occupancy, where the figures are the equal-service point's


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
    window: str  # the hours it is measured over ("" in older tables: site-clock daytime)
    baseline: str | None
    rows: list[TargetRow]

    @property
    def floors(self) -> bool:
        """Whether any channel has an interval floor (the text explains it only then)."""
        return any(t is not None and t.floor for row in self.rows for t in row.targets)


def _share(value: float, decimals: int = 1) -> str:
    return f"{100 * value:.{decimals}f}%" if math.isfinite(value) else "—"


def _floor_share(value: float, required: float) -> str:
    """The share of intervals at the floor, to the whole percent unless that reads as the
    share required while it is not (94.9% shown as "95% of intervals < 95%")."""
    text = _share(value, 0)
    if math.isfinite(required) and text == _share(required, 0) and value != required:
        return _share(value, 1)
    return text


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
        at_floor=_floor_share(at_floor, _number(row, "floor_share_required")),
        met_floor=judged and flag(row["met_floor"]),
        required=_share(_number(row, "floor_share_required"), 0),
    )


def _judged_levels(row: pd.Series) -> tuple[float, float, bool]:
    """(occupancy, live occupancy, at equal service): the figures the caps were judged on,
    each site's equal-service point where the study has one, else the plan."""
    if row.get("judged_at") == "equal service":
        return (
            _number(row, "occupancy_at_equal_service"),
            _number(row, "live_occupancy_at_equal_service"),
            True,
        )
    live = _number(row, "live_occupancy") if "live_occupancy" in row else math.nan
    return _number(row, "occupancy"), live, False


def _site(row: pd.Series) -> SiteOccupancy:
    name = row["site"] if "site" in row and isinstance(row["site"], str) else row["channel"]
    occupancy, live, at_equal = _judged_levels(row)
    judged = "met_occupancy" in row and pd.notna(row["met_occupancy"])
    banded = judged and pd.notna(row.get("live_occupancy_in_band"))
    band = f"{100 * LIVE_BAND[0]:.0f}–{100 * LIVE_BAND[1]:.0f}%"
    interval = _bounds(_number(row, "occupancy_low"), _number(row, "occupancy_high"))
    return SiteOccupancy(
        name=str(name),
        occupancy=_share(occupancy, 0),
        interval="" if at_equal else interval,
        live=_share(live, 0) if math.isfinite(live) else "",
        cap=_share(_number(row, "occupancy_cap"), 0) if judged else "",
        met=not judged or flag(row["met_occupancy"]),
        band=band if banded and math.isfinite(live) else "",
        in_band=not banded or flag(row.get("live_occupancy_in_band")),
        plan=f"plan {_share(_number(row, 'occupancy'), 0)} {interval}".strip() if at_equal else "",
    )


def target_table(
    targets: pd.DataFrame, scenarios: Sequence[str], baseline: str | None
) -> TargetTable:
    """Per model (rows) and channel (columns): met or not, the weekly service level with its
    interval against the target, and the share of intervals at the floor; then each tier-1
    site's occupancy over the customers' core hours."""
    targeted = targets["target"].notna() if "target" in targets else targets["channel"].isna()
    channel_rows = targets[targeted]
    site_rows = targets[~targeted]
    if "occupancy" in site_rows:
        site_rows = site_rows[site_rows["occupancy"].notna()]
    else:
        site_rows = site_rows.iloc[0:0]
    channels = list(dict.fromkeys(channel_rows["channel"]))
    windows = site_rows["window"].dropna() if "window" in site_rows else pd.Series([], dtype=str)
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
    window = str(windows.iloc[0]) if len(windows) else ""
    return TargetTable(channels, not site_rows.empty, window, baseline, rows)


def _occupancy_cell(row: pd.Series) -> str:
    """``manila 99% (OVER the cap), live 80% (in the band)``; one figure where the site has
    live work only."""
    cap = "within the cap" if flag(row["met_occupancy"]) else "OVER the cap"
    in_band = row.get("live_occupancy_in_band")
    band = "" if pd.isna(in_band) else "in the band" if flag(in_band) else "outside the band"
    total, live, _ = _judged_levels(row)
    if abs(total - live) <= 0.005:
        return f"{row['site']} {_share(total, 0)} ({cap}{'; ' + band if band else ''})"
    return f"{row['site']} {_share(total, 0)} ({cap}), live {_share(live, 0)}" + (
        f" ({band})" if band else ""
    )


def occupancy_lines(targets: pd.DataFrame) -> list[str]:
    """The target table's occupancy column as the terminal says it: the hours and the
    limits, then per model each tier-1 site's occupancy against the plan's cap and its live
    occupancy against the band; none for a table without the judgement (an older one)."""
    if "met_occupancy" not in targets:
        return []
    rows = targets[targets["met_occupancy"].notna()]
    if rows.empty:
        return []
    first = rows.iloc[0]
    band = f"{100 * LIVE_BAND[0]:.0f}-{100 * LIVE_BAND[1]:.0f}%"
    at_equal = first.get("judged_at") == "equal service"
    where = "at each site's equal-service point" if at_equal else "at the plan"
    lines = [
        f"Occupancy of the tier-1 sites in the customers' core hours ({first['window']}; "
        f"targets.csv), {where}: all work against the plan's cap of "
        f"{_share(first['occupancy_cap'], 0)}, voice and chat of a voice site against the "
        f"{band} band of well-run voice centres:"
    ]
    for scenario, part in rows.groupby("scenario", sort=False):
        cells = [_occupancy_cell(row) for _, row in part.iterrows()]
        lines.append(f"  {scenario}: {'; '.join(cells)}")
    return lines


def missed_targets(targets: pd.DataFrame | None, scenario: str) -> list[str] | None:
    """The channel targets ``scenario`` misses at its plan (``targets.csv``), each in words:
    the channel, the service level with its interval against the target, the share of
    intervals at the floor against the share required; None where it was not judged."""
    rows = _judged(targets, scenario)
    if rows is None:
        return None
    missed = []
    for _, row in rows[~rows["met"].map(flag)].iterrows():
        why = []
        if not flag(row["met_weekly"]):
            level = _share(_number(row, "service_level"))
            bounds = _bounds(_number(row, "sl_low"), _number(row, "sl_high"))
            target = _share(_number(row, "target"), 0)
            why.append(f"service level {level} {bounds}, its lower bound under the {target} target")
        if not flag(row.get("met_floor", True)) and pd.notna(row.get("floor")):
            required = _number(row, "floor_share_required")
            share = _floor_share(_number(row, "share_at_floor"), required)
            floor = _share(_number(row, "floor"), 0)
            why.append(f"{share} of intervals at the {floor} floor, {_share(required, 0)} required")
        missed.append(f"{row['channel']} ({'; '.join(why)})")
    return missed


def missed_channels(targets: pd.DataFrame | None, scenario: str) -> list[str]:
    """The channels whose targets ``scenario`` misses at its plan (none where not judged)."""
    rows = _judged(targets, scenario)
    return [] if rows is None else list(rows.loc[~rows["met"].map(flag), "channel"])


def _judged(targets: pd.DataFrame | None, scenario: str) -> pd.DataFrame | None:
    """``scenario``'s channel rows of ``targets.csv``; None where it was not judged."""
    if targets is None or "target" not in targets or "met" not in targets:
        return None
    rows = targets[(targets["scenario"] == scenario) & targets["target"].notna()]
    return None if rows.empty else rows
