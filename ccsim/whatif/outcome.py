"""A finished what-if comparison as the page shows it: each KPI of the base and the variant
with its half-width, the paired difference with its interval, in the words and units that
``ccsim experiment`` prints them (:mod:`ccsim.report.formatting`), and the service level
through the week of both as bands, an SVG drawn with the report's chart style.

The numbers are those of the run's tables (``summary.csv``, ``comparisons.csv``,
``intervals.parquet``), unrounded beside their text: the page shows the text, a test compares
the numbers.
"""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd

from ccsim.report.chart import (
    STYLE,
    channel_title,
    customer_clock,
    figure_legend,
    new_figure,
    percent_axis,
    scenario_colours,
    set_clock_ticks,
)
from ccsim.report.formatting import (
    BY_CHANNEL,
    HEADLINE,
    PAGE,
    TERMINAL,
    format_interval,
    format_value,
)
from ccsim.sim.kpis import KPIS

__all__ = [
    "BASE",
    "STYLE_WHATIF",
    "VARIANT",
    "comparison_rows",
    "read_tables",
    "service_level_svg",
]

#: The two scenarios of a comparison, as the experiment file names them.
BASE, VARIANT = "base", "variant"


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


#: The command line's style (:data:`~ccsim.report.formatting.TERMINAL`), but counts as the
#: report writes them: whole numbers with thousands separators above 100 (``207,349``, not
#: ``207349.4``), as the costs beside them are.
STYLE_WHATIF = dataclasses.replace(
    TERMINAL, scales={**TERMINAL.scales, "count": PAGE.scales["count"]}
)


def _p(value: float) -> str:
    """A p-value to two significant digits, as a planner reads one."""
    return "<0.001" if value < 0.001 else f"{value:.2g}"


def _row(
    channel: str, kpi: str, base, variant, paired, currency: str, family: int = 0
) -> dict[str, Any]:
    """One KPI of one channel: the two estimates in one unit (the larger's, as the command
    line's table), the paired difference and its interval as its difference lines, and the
    p-value before and after Holm's adjustment over the ``family`` comparisons of the KPI.

    The interval is the unadjusted 95% one (``ccsim experiment``'s ``ci_low``, ``ci_high``)
    while ``significant`` is from the adjusted p-value: an interval may exclude 0 with no
    mark, so the row carries both p-values and the page labels the interval unadjusted."""
    money = currency if KPIS[kpi].kind == "money" else ""
    reference = max(abs(base.estimate), abs(variant.estimate))

    style = STYLE_WHATIF

    def estimate(row) -> tuple[str, str]:
        value = format_value(kpi, row.estimate, style, reference=reference, currency=money)
        width = row.half_width
        spread = f"±{format_value(kpi, width, style, reference=reference)}" if width > 0 else ""
        return value, spread

    (base_text, base_width), (variant_text, variant_width) = estimate(base), estimate(variant)
    row = {
        "channel": channel,
        "kpi": kpi,
        "label": KPIS[kpi].label,
        "base": base_text,
        "base_half_width": base_width,
        "variant": variant_text,
        "variant_half_width": variant_width,
        "difference": "",
        "relative": "",
        "interval": "",
        "significant": False,
        "p_value": "",
        "p_holm": "",
        "family": family,
        "values": {"base": _finite(base.estimate), "variant": _finite(variant.estimate)},
    }
    if paired is not None:
        difference = paired.difference
        # In the unit of the two estimates (11.4min against 9.3min: +2.1min, not +127.71s),
        # so that the difference reads off the two columns by eye.
        same_unit = {"reference": reference, "signed": True, "difference": True}
        row["difference"] = format_value(kpi, difference, style, **same_unit)
        if paired.baseline_value and KPIS[kpi].kind != "share":
            relative = f"{difference / paired.baseline_value:+.1%}"
            row["relative"] = "0.0%" if relative[1:] == "0.0%" else relative
        row["interval"] = format_interval(
            kpi, paired.ci_low, paired.ci_high, style=style, **same_unit
        )
        row["significant"] = bool(paired.significant)
        if math.isfinite(paired.p_value) and math.isfinite(paired.p_holm):
            row["p_value"], row["p_holm"] = _p(paired.p_value), _p(paired.p_holm)
        row["values"] |= {
            "difference": _finite(difference),
            "ci_low": _finite(paired.ci_low),
            "ci_high": _finite(paired.ci_high),
        }
    return row


def comparison_rows(
    summary: pd.DataFrame, comparisons: pd.DataFrame, currency: str
) -> list[dict[str, Any]]:
    """The rows ``ccsim experiment`` prints, every one (not only the significant ones):
    the headline KPIs for all channels together, then service level and ASA per channel
    where there are several (all channels together would blend their thresholds)."""
    whole = summary[summary["site"] == "all"].set_index(["scenario", "channel", "kpi"])
    ours = comparisons[comparisons["scenario"] == VARIANT]
    # Holm's family of a KPI (ccsim.experiment.summary.holm_by_kpi): all its comparisons,
    # each channel's, all channels' together and each site's (rows the page does not show).
    families = ours.groupby("kpi").size()
    paired = ours[ours["site"] == "all"].set_index(["channel", "kpi"])
    channels = [c for c in dict.fromkeys(summary["channel"]) if c != "all"]
    overall = "all" if len(channels) > 1 else channels[0]
    wanted = [(overall, kpi) for kpi in HEADLINE if not (overall == "all" and kpi in BY_CHANNEL)]
    if overall == "all":
        wanted += [(channel, kpi) for kpi in BY_CHANNEL for channel in channels]
    rows = []
    for channel, kpi in wanted:
        keys = [(name, channel, kpi) for name in (BASE, VARIANT)]
        if not all(key in whole.index for key in keys):
            continue
        base, variant = (whole.loc[key] for key in keys)
        if not (math.isfinite(base.estimate) or math.isfinite(variant.estimate)):
            continue
        pair = paired.loc[(channel, kpi)] if (channel, kpi) in paired.index else None
        rows.append(_row(channel, kpi, base, variant, pair, currency, int(families.get(kpi, 0))))
    return rows


def service_level_svg(intervals: pd.DataFrame, targets: dict[str, float] | None = None) -> str:
    """The service level per reporting interval of the base and the variant, each as its
    95% band with the estimate as a line, a panel per channel (several channels: each on
    its own; a channel the same in every interval, such as email answered within its day,
    is left out unless nothing else is left); ``targets`` (channel -> share, the base's)
    as a dashed line."""
    rows = intervals[(intervals["site"] == "all") & (intervals["kpi"] == "service_level")]
    channels = list(dict.fromkeys(rows["channel"]))
    if len(channels) > 1:
        channels = [c for c in channels if c != "all"] or channels
    moving = [
        c for c in channels if float(rows.loc[rows["channel"] == c, "estimate"].dropna().std()) > 0
    ]
    channels = moving or channels
    clock = customer_clock(rows["interval_start"], rows["local_start"])
    colours = scenario_colours([BASE, VARIANT])
    with mpl.rc_context(STYLE | {"font.size": 8, "axes.titlesize": 9}):
        figure = new_figure(0.9 + 1.8 * len(channels))
        panels = figure.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
        for axes, channel in zip(panels, channels, strict=True):
            for name in (BASE, VARIANT):
                part = rows[(rows["channel"] == channel) & (rows["scenario"] == name)]
                part = part.sort_values("interval_start")
                x = part["interval_start"].to_numpy(float) / 3600 + clock.interval_h / 2
                low, high = 100 * part["ci_low"].clip(0, 1), 100 * part["ci_high"].clip(0, 1)
                axes.fill_between(x, low, high, color=colours[name], alpha=0.35, lw=0, label=name)
                axes.plot(x, 100 * part["estimate"], color=colours[name], lw=0.6)
            target = (targets or {}).get(channel)
            if target is not None and math.isfinite(target):
                axes.axhline(100 * target, color="black", lw=0.8, ls="--", label="target")
            axes.set_ylabel(channel_title(channel))
            axes.set_ylim(0, 102)
            percent_axis(axes)
        set_clock_ticks(panels[-1], clock)
        panels[-1].set_xlabel(clock.xlabel)
        figure_legend(figure, panels[0], 3)
        buffer = io.StringIO()
        # No date in the file: the same tables give the same text.
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A run's summary, comparisons and interval tables."""
    return (
        pd.read_csv(folder / "summary.csv"),
        pd.read_csv(folder / "comparisons.csv"),
        pd.read_parquet(folder / "intervals.parquet"),
    )
