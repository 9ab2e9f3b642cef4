"""What every figure of the pages shares: the :class:`Chart` a figure function returns, the
style, the colours and labels of the models, the axes' formats and the customers' clock.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg renderer and a
local ``rc_context`` (:data:`STYLE`): no pyplot, no global backend or style change, so
rendering a page from a notebook leaves its settings alone. The PNGs carry no software tag or
timestamp, so the same tables always give the same bytes. The figures themselves are in
:mod:`ccsim.report.run_figures` (one scenario through a run), :mod:`ccsim.report.study_figures`
(the models compared) and :mod:`ccsim.report.plan_figures` (staffing against requirement).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

__all__ = [
    "STYLE",
    "Chart",
    "Clock",
    "channel_title",
    "compact_money_axis",
    "customer_clock",
    "figure_legend",
    "labels_above",
    "new_figure",
    "percent_axis",
    "png_bytes",
    "scenario_colours",
    "scenario_label",
    "set_clock_ticks",
]

_DPI = 110
_WIDTH = 10.5  # inches: about 1150 pixels, the width of the page
#: The matplotlib settings of every figure, for a local ``rc_context``.
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Names and amounts are the user's text, never TeX: "a$\\frac{1}$b" drawn as mathtext
    # ended the page in a parse error.
    "text.parse_math": False,
}


@dataclass(frozen=True)
class Chart:
    """One figure of a page: a PNG, or the reason it was left out (``note``)."""

    name: str
    title: str
    caption: str = ""
    png: bytes | None = None
    note: str = ""


def scenario_colours(scenarios: list[str]) -> dict[str, tuple]:
    """A colour per model, the same in every figure of a page."""
    palette = mpl.colormaps["tab10" if len(scenarios) <= 10 else "tab20"].colors
    return {name: palette[i % len(palette)] for i, name in enumerate(scenarios)}


def scenario_label(scenario: str, baseline: str | None) -> str:
    return f"{scenario} (baseline)" if scenario == baseline else scenario


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes, the same for the same figure on any machine."""
    buffer = io.BytesIO()
    # No "Software" tag: the bytes depend on the tables only, not on the matplotlib build.
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def new_figure(height: float) -> Figure:
    """A figure the width of the page, ``height`` inches tall, laid out by matplotlib."""
    return Figure(figsize=(_WIDTH, height), layout="constrained")


def percent_axis(axis, which: str = "y", decimals: int | None = 0) -> None:
    """Label the ``which`` axis of ``axis`` in per cent (its values are already times 100)."""
    formatter = PercentFormatter(xmax=100, decimals=decimals)
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def compact_money_axis(axis) -> None:
    """At most four ticks, in thousands past 10,000 (``-800k``): a third of the page's width
    cannot hold ``-800000-700000-600000``."""
    axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(
        FuncFormatter(lambda x, _: f"{x / 1000:,.0f}k" if abs(x) >= 10_000 else f"{x:,.0f}")
    )


def figure_legend(figure: Figure, axes, n_entries: int, **kwargs) -> None:
    """One legend for the figure, under the panels: every label of every panel, once (the
    sites of one model need not be those of another)."""
    handles, labels = [], []
    for panel in figure.axes:
        for handle, label in zip(*panel.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    ncols = min(n_entries, 5)
    figure.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, **kwargs)


def channel_title(channel: str) -> str:
    """A channel as a panel names it (``all`` is every channel together)."""
    return "all channels" if channel == "all" else channel


# --- the customers' clock on the x axis -------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Hours since the start of the run on the x axis, labelled in customer local time."""

    ticks: list[float]
    labels: list[str]
    xlabel: str
    interval_h: float


def customer_clock(starts: pd.Series, local: pd.Series) -> Clock:
    """Tick marks at local midnights (runs over a day and a half) or on the hour."""
    frame = (
        pd.DataFrame({"start": starts.to_numpy(float), "local": local.astype(str).to_numpy()})
        .drop_duplicates("start")
        .sort_values("start")
    )
    hours = frame["start"].to_numpy() / 3600
    steps = np.diff(hours)
    interval_h = float(np.median(steps)) if len(steps) else 0.5
    clock = frame["local"].str.slice(11, 16)
    span = hours[-1] - hours[0] + interval_h if len(hours) else 0.0
    if span > 36:
        chosen = clock == "00:00"
        days = pd.to_datetime(frame["local"].str.slice(0, 10))
        labels = (days.dt.strftime("%a") + "\n" + days.dt.strftime("%d %b")).to_numpy()
    else:
        step = 1 if span <= 12 else 2 if span <= 24 else 4
        hour = pd.to_numeric(clock.str.slice(0, 2), errors="coerce")
        chosen = (clock.str.slice(3, 5) == "00") & (hour % step == 0)
        labels = clock.to_numpy()
    offsets = sorted({_utc_offset(text) for text in frame["local"]} - {""})
    zone = f" (UTC{'/'.join(offsets)})" if offsets else ""
    return Clock(
        ticks=list(hours[chosen.to_numpy()]),
        labels=list(labels[chosen.to_numpy()]),
        xlabel=f"customer local time{zone}",
        interval_h=interval_h,
    )


def _utc_offset(local: str) -> str:
    offset = local[19:]
    if offset in ("", "Z", "+00:00"):
        return "" if offset == "" else "+0"
    sign, hours, minutes = offset[0], int(offset[1:3]), offset[4:6]
    return f"{'−' if sign == '-' else '+'}{hours}" + ("" if minutes == "00" else f":{minutes}")


def set_clock_ticks(axes, clock: Clock) -> None:
    """Mark ``axes``' x axis with the clock's local times."""
    axes.set_xticks(clock.ticks, clock.labels)


def labels_above(values: list[float]) -> list[bool]:
    """Whether each point's label goes above it (else below): away from the point nearest to
    it in ``values`` (above when that one is lower or level, or there is none), so that no
    label sits between its own point and a closer one, where it would name the wrong one."""
    known = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    sides = []
    for i, value in enumerate(values):
        others = [v for j, v in known if j != i]
        if not others or not math.isfinite(value):
            sides.append(True)
            continue
        nearest = min(others, key=lambda other: abs(other - value))
        sides.append(nearest <= value)
    return sides
