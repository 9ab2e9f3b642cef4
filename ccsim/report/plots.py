"""The figures of an experiment report, each computed from the experiment's output tables.

One function per figure takes the tables it needs and returns a :class:`Chart`: PNG bytes,
a title and a caption that says how the figure was computed, or no image and a note saying
why the figure was left out (a table or a column the experiment did not write). The report
(:mod:`ccsim.report.html`) only lays the charts out.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg renderer and a
local ``rc_context``: no pyplot, no global backend or style change, so rendering a report
from a notebook leaves its settings alone. The PNGs carry no software tag or timestamp, so
the same tables always give the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ccsim.experiment.stats import ratio_ci

__all__ = [
    "FIGURE_NAMES",
    "Chart",
    "cost_service_chart",
    "grid_chart",
    "occupancy_chart",
    "service_level_chart",
    "staffing_chart",
    "waiting_time_chart",
]

#: File stems of the figures, in the order the report shows them.
FIGURE_NAMES: tuple[str, ...] = (
    "service_level",
    "cost_service_level",
    "grid",
    "occupancy_by_site",
    "waiting_times",
    "staffing",
    "tornado",
)

_DPI = 110
_WIDTH = 10.5  # inches: about 1150 pixels, the width of the page
_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_WAITS = re.compile(r"waits_within_(\d+)s")


@dataclass(frozen=True)
class Chart:
    """One figure of the report: a PNG, or the reason it was left out (``note``)."""

    name: str
    title: str
    caption: str = ""
    png: bytes | None = None
    note: str = ""


def _colours(scenarios: list[str]) -> dict[str, tuple]:
    palette = mpl.colormaps["tab10" if len(scenarios) <= 10 else "tab20"].colors
    return {name: palette[i % len(palette)] for i, name in enumerate(scenarios)}


def _label(scenario: str, baseline: str | None) -> str:
    return f"{scenario} (baseline)" if scenario == baseline else scenario


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" tag: the bytes depend on the tables only, not on the matplotlib build.
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(height: float) -> Figure:
    return Figure(figsize=(_WIDTH, height), layout="constrained")


def _percent_axis(axis, which: str = "y", decimals: int | None = 0) -> None:
    formatter = PercentFormatter(xmax=100, decimals=decimals)
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def _compact_money_axis(axis) -> None:
    """At most four ticks, in thousands past 10,000 (``-800k``): a third of the page's width
    cannot hold ``-800000-700000-600000``."""
    axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(
        FuncFormatter(lambda x, _: f"{x / 1000:,.0f}k" if abs(x) >= 10_000 else f"{x:,.0f}")
    )


def _legend(figure: Figure, axes, n_entries: int, **kwargs) -> None:
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


def _channel_title(channel: str) -> str:
    return "all channels" if channel == "all" else channel


# --- the customers' clock on the x axis -----------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """Hours since the start of the run on the x axis, labelled in customer local time."""

    ticks: list[float]
    labels: list[str]
    xlabel: str
    interval_h: float


def _clock(starts: pd.Series, local: pd.Series) -> _Clock:
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
    return _Clock(
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


def _apply_clock(axes, clock: _Clock) -> None:
    axes.set_xticks(clock.ticks, clock.labels)


# --- (a) service level through the horizon -------------------------------------------------


def _flat(rows: pd.DataFrame) -> bool:
    """A channel whose service level is the same in every interval of every model."""
    values = rows["estimate"].dropna()
    return not values.empty and float(values.max() - values.min()) < 1e-9


def service_level_chart(
    intervals: pd.DataFrame | None,
    scenarios: list[str],
    channels: list[str],
    baseline: str | None,
    targets: dict[str, float] | None = None,
) -> Chart:
    """Service level per reporting interval as a 95% band, in small multiples: a row per
    channel, a column per model, so that no two models' bands overlap. A channel with the
    same value in every interval of every model (email answered within its day) is said in
    the caption instead of drawn; ``targets`` (channel -> share) adds each target as a line."""
    name, title = "service_level", "Service level through the run"
    caption = (
        "Service level per reporting interval (contacts answered within the channel's threshold "
        "over those that queued: answered, abandoned or carried over; a ratio of totals over "
        "the replications): the shaded band is its 95% confidence interval, the line the "
        "estimate; a row per channel, a column per model, on the same axes. Contacts count in "
        "the interval in which they arrived."
    )
    if intervals is None:
        return Chart(name, title, note="No intervals.parquet in the folder.")
    rows = intervals[(intervals["site"] == "all") & (intervals["kpi"] == "service_level")]
    present = [c for c in channels if c in set(rows["channel"])]
    if len(present) > 1:  # each channel on its own: "all" mixes their thresholds
        present = [c for c in present if c != "all"] or present
    if not present:
        return Chart(name, title, note="intervals.parquet has no service_level rows.")
    flat = [c for c in present if _flat(rows[rows["channel"] == c])]
    drawn = [c for c in present if c not in flat] or present
    if flat and drawn != present:
        said = "; ".join(
            f"{c}: {100 * rows.loc[rows['channel'] == c, 'estimate'].dropna().iloc[0]:.1f}%"
            for c in flat
        )
        caption += f" Not drawn, the same in every interval of every model: {said}."
    if targets:
        caption += " The dashed line is the channel's target."
    shown = [s for s in scenarios if s in set(rows["scenario"])]
    clock = _clock(rows["interval_start"], rows["local_start"])
    colours = _colours(scenarios)
    n_cols = max(1, len(shown))
    with mpl.rc_context(_STYLE | {"font.size": 8, "axes.titlesize": 9}):
        figure = _figure(0.7 + 1.7 * len(drawn))
        panels = figure.subplots(len(drawn), n_cols, sharex=True, sharey=True, squeeze=False)
        for i, channel in enumerate(drawn):
            for j, scenario in enumerate(shown):
                axes = panels[i, j]
                part = rows[(rows["channel"] == channel) & (rows["scenario"] == scenario)]
                part = part.sort_values("interval_start")
                x = part["interval_start"].to_numpy(float) / 3600 + clock.interval_h / 2
                low, high = 100 * part["ci_low"].clip(0, 1), 100 * part["ci_high"].clip(0, 1)
                colour = colours[scenario]
                axes.fill_between(x, low, high, color=colour, alpha=0.35, lw=0)
                axes.plot(x, 100 * part["estimate"], color=colour, lw=0.5)
                if targets and channel in targets and math.isfinite(targets[channel]):
                    axes.axhline(100 * targets[channel], color="black", lw=0.8, ls="--")
                if i == 0:
                    axes.set_title(_label(scenario, baseline), fontsize=9)
                if j == 0:
                    axes.set_ylabel(_channel_title(channel))
                axes.set_ylim(0, 102)
                _percent_axis(axes)
        span = clock.ticks[-1] - clock.ticks[0] if len(clock.ticks) > 1 else 0
        # Narrow panels: a week is labelled by two letters a day.
        labels = [label.split("\n")[0][:2] for label in clock.labels] if span > 36 else clock.labels
        for axes in panels[-1]:
            axes.set_xticks(clock.ticks, labels, fontsize=7 if n_cols > 3 else 8)
        figure.supxlabel(clock.xlabel, fontsize=9)
        return Chart(name, title, caption, _png(figure))


# --- (b) cost against service level ---------------------------------------------------------


def _summary_value(summary: pd.DataFrame, scenario: str, channel: str, kpi: str) -> pd.Series:
    rows = summary[
        (summary["scenario"] == scenario)
        & (summary["channel"] == channel)
        & (summary["site"] == "all")
        & (summary["kpi"] == kpi)
    ]
    if rows.empty:
        return pd.Series({"estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan})
    return rows.iloc[0][["estimate", "ci_low", "ci_high"]].astype(float)


def cost_service_chart(
    summary: pd.DataFrame,
    scenarios: list[str],
    channel: str,
    baseline: str | None,
    currency: str = "USD",
) -> Chart:
    """Each model as a point: service level across, cost per resolved contact (or, in
    older results, per handled contact) up in ``currency``, with both 95% intervals as
    error bars."""
    name, title = "cost_service_level", "Cost against service level"
    kpis = set(summary["kpi"])
    cost_kpi = (
        "cost_per_resolved_contact"
        if "cost_per_resolved_contact" in kpis
        else "cost_per_handled_contact"
    )
    per = (
        "operating cost (labour and bot) per resolved customer"
        if cost_kpi == "cost_per_resolved_contact"
        else "labour cost per handled contact (total labour cost over total answered contacts)"
    )
    caption = (
        f"Each model over the whole run ({_channel_title(channel)}): service level (ratio of "
        f"totals) across and {per} up; the bars are each model's 95% confidence intervals. "
        "Down and to the right is better. With common random numbers the paired differences "
        "(the table of differences) are much more precise than these intervals suggest."
    )
    if not {"service_level", cost_kpi} <= kpis:
        return Chart(name, title, note="summary.csv lacks service_level or cost per contact.")
    points = {
        scenario: (
            _summary_value(summary, scenario, channel, "service_level"),
            _summary_value(summary, scenario, channel, cost_kpi),
        )
        for scenario in scenarios
    }
    costs = [cost["estimate"] for _, cost in points.values()]
    if all(not value for value in costs if not math.isnan(value)):
        note = "Labour cost is zero in every model (no site has a cost_per_hour): no cost to plot."
        return Chart(name, title, note=note)
    colours = _colours(scenarios)
    with mpl.rc_context(_STYLE):
        figure = _figure(4.8)
        axes = figure.subplots()
        for number, (scenario, (level, cost)) in enumerate(points.items()):
            x, y = 100 * level["estimate"], cost["estimate"]
            xerr = np.nan_to_num([[x - 100 * level["ci_low"]], [100 * level["ci_high"] - x]])
            yerr = np.nan_to_num([[y - cost["ci_low"]], [cost["ci_high"] - y]])
            style = {"fmt": "o", "capsize": 3, "ms": 6, "color": colours[scenario]}
            axes.errorbar(x, y, xerr=xerr, yerr=yerr, label=_label(scenario, baseline), **style)
            # Labels alternate above and below their points, so that close models stay legible.
            offset = (6, 6) if number % 2 == 0 else (6, -14)
            axes.annotate(scenario, (x, y), textcoords="offset points", xytext=offset, fontsize=9)
        axes.set_xlabel("service level (answered within threshold)")
        axes.set_ylabel(
            f"cost per resolved customer ({currency})"
            if cost_kpi == "cost_per_resolved_contact"
            else f"labour cost per handled contact ({currency})"
        )
        _percent_axis(axes, "x", decimals=None)  # a narrow range: as many as it needs
        axes.margins(0.15)
        _legend(figure, axes, len(scenarios))
        return Chart(name, title, caption, _png(figure))


# --- (b2) KPIs across a one-parameter grid ---------------------------------------------------

#: What a sweep trades: service and cost always; outbound results when there are any.
_GRID_PANELS = (  # (KPI, panel title, a share?)
    ("service_level", "service level", True),
    ("occupancy", "occupancy", True),
    ("rpc_per_agent_hour", "right-party contacts\nper agent hour", False),
    ("outbound_abandon_rate", "outbound abandonment\n(of live answers)", True),
    ("cost_per_resolved_contact", "cost per\nresolved customer", False),
)


def grid_chart(
    summary: pd.DataFrame, points: dict[str, float], parameter: str, baseline: str | None
) -> Chart:
    """KPIs of the models of a one-parameter grid against the parameter's value (``points``:
    model -> value), each with its 95% interval, and the baseline as a dashed line when it
    is not itself a point: the trade-off a sweep is run to see."""
    name, title = "grid", f"KPIs across {parameter}"
    caption = (
        f"Each point is one model of the grid over {parameter}, with its 95% confidence "
        "interval over the replications (ratios of totals; all channels together, and inbound "
        "channels only for service level when outbound is dialled). The dashed line is the "
        "baseline when it is not on the grid."
    )
    if len(points) < 2:
        return Chart(name, title, note="The experiment has no grid over one numeric parameter.")
    kpis = set(summary["kpi"])
    outbound = (
        "rpc_per_agent_hour" in kpis
        and summary.loc[summary["kpi"] == "rpc_per_agent_hour", "estimate"].fillna(0).any()
    )
    panels = [
        (kpi, label, share)
        for kpi, label, share in _GRID_PANELS
        if kpi in kpis and (outbound or kpi not in ("rpc_per_agent_hour", "outbound_abandon_rate"))
    ][:4]
    order = sorted(points, key=points.get)
    xs = np.array([points[model] for model in order], dtype=float)
    with mpl.rc_context(_STYLE):
        figure = _figure(3.6)
        for axes, (kpi, label, share) in zip(figure.subplots(1, len(panels)), panels, strict=True):
            scale = 100.0 if share else 1.0
            channel = "all"
            if kpi == "service_level" and outbound:
                inbound = [c for c in summary["channel"].unique() if c != "all"]
                rows = summary[
                    (summary["kpi"] == "rpc_per_agent_hour") & (summary["site"] == "all")
                ]
                dialled = set(rows.loc[rows["estimate"].fillna(0) > 0, "channel"])
                inbound = [c for c in inbound if c not in dialled]
                channel = inbound[0] if len(inbound) == 1 else "all"
            values = [_summary_value(summary, model, channel, kpi) for model in order]
            y = np.array([v["estimate"] for v in values]) * scale
            low = np.array([v["ci_low"] for v in values]) * scale
            high = np.array([v["ci_high"] for v in values]) * scale
            yerr = np.nan_to_num(np.vstack([y - low, high - y]))
            axes.errorbar(xs, y, yerr=np.clip(yerr, 0, None), fmt="o-", capsize=3, ms=5)
            if baseline is not None and baseline not in points:
                base = _summary_value(summary, baseline, channel, kpi)["estimate"] * scale
                if math.isfinite(base):
                    axes.axhline(base, ls="--", color="grey", label=f"{baseline} (baseline)")
            axes.set_xlabel(parameter.rsplit(".", 1)[-1])
            axes.set_title(label if channel == "all" else f"{label}\n({channel})", fontsize=10)
            if share:
                _percent_axis(axes, decimals=1 if np.nanmax(high, initial=0) < 10 else 0)
            if np.all(xs == np.round(xs)):
                axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if baseline is not None and baseline not in points:
            _legend(figure, None, 1)
        return Chart(name, title, caption, _png(figure))


# --- (c) occupancy by site over the day -----------------------------------------------------


def occupancy_chart(intervals: pd.DataFrame | None, scenarios: list[str], channel: str) -> Chart:
    """Occupancy of each site by time of day (customer clock), one panel per model."""
    name, title = "occupancy_by_site", "Occupancy by site over the day"
    caption = (
        "Occupancy of each site (busy agents over agents at work) by time of day on the "
        "customers' clock, averaged over the days of the run as a ratio of totals: the sum "
        "over days of the mean busy agents in that interval over the sum of the mean agents "
        "at work (every interval has the same length). A gap is a time when the site has "
        "nobody at work. Follow-the-sun operations show one site handing over to the next."
    )
    if intervals is None:
        return Chart(name, title, note="No intervals.parquet in the folder.")
    rows = intervals[
        (intervals["channel"] == channel)
        & intervals["kpi"].isin(["busy_agents", "available_agents"])
    ]
    named = rows[rows["site"] != "all"]
    rows = named if not named.empty else rows.assign(site="all agents")
    if rows.empty:
        return Chart(name, title, note="intervals.parquet has no busy or available agents.")
    table = rows.pivot_table(
        index=["scenario", "site", "local_start"],
        columns="kpi",
        values="estimate",
        aggfunc="sum",
    ).reset_index()
    if not {"busy_agents", "available_agents"} <= set(table.columns):
        return Chart(name, title, note="intervals.parquet lacks busy or available agents.")
    clock = table["local_start"].str.slice(11, 16)
    table["minute"] = 60 * clock.str.slice(0, 2).astype(int) + clock.str.slice(3).astype(int)
    agents = ["busy_agents", "available_agents"]
    totals = table.groupby(["scenario", "site", "minute"], sort=True)[agents].sum()
    occupancy = totals["busy_agents"] / totals["available_agents"].where(lambda v: v > 0)
    minutes = np.sort(table["minute"].unique())
    step = int(np.min(np.diff(minutes))) if len(minutes) > 1 else 30
    sites = list(dict.fromkeys(table["site"]))
    shown = [s for s in scenarios if s in set(table["scenario"])]
    palette = mpl.colormaps["Dark2"].colors
    n_cols = min(3, len(shown))
    n_rows = math.ceil(len(shown) / n_cols)
    with mpl.rc_context(_STYLE):
        figure = _figure(0.8 + 2.6 * n_rows)
        panels = figure.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)
        for index, axes in enumerate(panels.flat):
            if index >= len(shown):
                axes.set_visible(False)
                continue
            scenario = shown[index]
            for number, site in enumerate(sites):
                try:
                    series = occupancy.loc[(scenario, site)]
                except KeyError:  # a site with no rows in this model
                    continue
                full = series.reindex(range(0, 1440, step))  # gaps where nobody is at work
                colour = palette[number % len(palette)]
                x = (full.index.to_numpy() + step / 2) / 60
                axes.plot(x, 100 * full.to_numpy(), lw=1.6, color=colour, label=site)
            axes.set_title(scenario, loc="left")
            axes.set_xlim(0, 24)
            axes.set_xticks(range(0, 25, 6), [f"{h:02d}:00" for h in range(0, 25, 6)])
            axes.set_xticks(range(0, 25, 3), minor=True)
            axes.set_ylim(0, 102)
            _percent_axis(axes)
            if index % n_cols == 0:
                axes.set_ylabel("occupancy")
            if index + n_cols >= len(shown):  # the lowest panel of its column
                axes.xaxis.set_tick_params(labelbottom=True)
                axes.set_xlabel("time of day, customer clock")
        _legend(figure, panels.flat[0], len(sites), title="site")
        return Chart(name, title, caption, _png(figure))


# --- (d) waiting-time distribution ----------------------------------------------------------


def _wait_label(seconds: int) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def waiting_time_chart(
    replications: pd.DataFrame | None,
    scenarios: list[str],
    channels: list[str],
    baseline: str | None,
) -> Chart:
    """Share of answered contacts that waited at most N seconds, per model and channel."""
    name, title = "waiting_times", "Waiting-time distribution"
    caption = (
        "Share of answered contacts that waited at most each time, per model: over all "
        "replications, the total answered within that wait over the total answered (a ratio "
        "of totals), with 95% delta-method intervals as bars. Abandoned contacts are not in "
        "it: see the abandonment rate."
    )
    if replications is None:
        return Chart(name, title, note="No replications.parquet in the folder.")
    columns = sorted(
        (int(match[1]), column)
        for column in replications.columns
        if (match := _WAITS.fullmatch(column))
    )
    if not columns or "answered" not in replications.columns:
        note = (
            "replications.parquet has no waits_within_<N>s tallies (written by later ccsim "
            "versions): no waiting-time distribution."
        )
        return Chart(name, title, note=note)
    whole = replications[replications["site"] == "all"]
    channels = [c for c in channels if c in set(whole["channel"])]
    if not channels:
        return Chart(name, title, note="replications.parquet has no rows of whole channels.")
    colours = _colours(scenarios)
    positions = np.arange(len(columns))
    with mpl.rc_context(_STYLE):
        figure = _figure(0.6 + 3.0 * len(channels))
        panels = figure.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
        for axes, channel in zip(panels, channels, strict=True):
            for number, scenario in enumerate(scenarios):
                part = whole[(whole["channel"] == channel) & (whole["scenario"] == scenario)]
                if part.empty:
                    continue
                estimates = [ratio_ci(part[column], part["answered"]) for _, column in columns]
                values = np.array([100 * e.value for e in estimates])
                errors = np.nan_to_num([100 * e.half_width for e in estimates])
                # Models side by side at each wait, so that their bars do not overlap.
                shift = (number - (len(scenarios) - 1) / 2) * 0.06
                style = {
                    "marker": "o",
                    "ms": 4,
                    "capsize": 2,
                    "lw": 1.3,
                    "color": colours[scenario],
                }
                axes.errorbar(
                    positions + shift,
                    values,
                    yerr=errors,
                    label=_label(scenario, baseline),
                    **style,
                )
            axes.set_title(_channel_title(channel), loc="left")
            axes.set_ylabel("answered within")
            _percent_axis(axes)
            axes.set_ylim(top=101)
        panels[-1].set_xticks(positions, [_wait_label(seconds) for seconds, _ in columns])
        panels[-1].set_xlabel("wait (at most)")
        _legend(figure, panels[0], len(scenarios))
        return Chart(name, title, caption, _png(figure))


# --- (e) staffing against requirement -------------------------------------------------------


def _extend(values: pd.Series) -> np.ndarray:
    values = values.to_numpy(float)
    return np.append(values, values[-1])


def _requirement_clock(requirements: pd.DataFrame, intervals: pd.DataFrame | None):
    """Seconds and customer local times of the requirements' intervals: ``interval_start``
    is the customers' wall clock (ISO 8601 with offset), or simulated seconds matched to the
    local times of intervals.parquet."""
    starts = requirements["interval_start"]
    if pd.api.types.is_numeric_dtype(starts):
        local = pd.Series([""] * len(starts), index=starts.index)
        if intervals is not None:
            known = dict(zip(intervals["interval_start"], intervals["local_start"], strict=False))
            local = starts.map(known).fillna("")
        return starts.astype(float), local
    stamps = pd.to_datetime(starts, utc=True, format="ISO8601")
    return (stamps - stamps.min()).dt.total_seconds(), starts.astype(str)


def staffing_chart(requirements: pd.DataFrame | None, intervals: pd.DataFrame | None) -> Chart:
    """Agents required, scheduled and available per interval, one panel per channel, a
    colour per staffing method."""
    name, title = "staffing", "Staffing against requirement"
    caption = (
        "Agents required per reporting interval (dashed, before shrinkage), scheduled on shift "
        "(solid) and, where the schedule gives it, available on the floor (dotted), per channel "
        "and staffing method, from requirements.csv."
    )
    if requirements is None or requirements.empty:
        note = "No requirements.csv (from staffing) in the folder or in staffing/."
        return Chart(name, title, note=note)
    seconds, local = _requirement_clock(requirements, intervals)
    table = requirements.assign(_seconds=seconds.to_numpy())
    clock = _clock(seconds, local)
    channels = list(dict.fromkeys(table["channel"]))
    methods = list(dict.fromkeys(table["method"]))
    lines = [(c, s) for c, s in (("required", "--"), ("scheduled", "-"), ("available", ":"))]
    lines = [(c, s) for c, s in lines if c in table.columns]
    palette = mpl.colormaps["Dark2"].colors
    with mpl.rc_context(_STYLE):
        figure = _figure(0.6 + 2.7 * len(channels))
        panels = figure.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
        for axes, channel in zip(panels, channels, strict=True):
            for number, method in enumerate(methods):
                part = table[(table["channel"] == channel) & (table["method"] == method)]
                part = part.sort_values("_seconds")
                if part.empty:
                    continue
                # The last interval drawn to its end: one more step at its value.
                starts = part["_seconds"].to_numpy(float) / 3600
                x = np.append(starts, starts[-1] + clock.interval_h)
                for index, (column, style) in enumerate(lines):
                    # One colour per method; with a single method, one per line.
                    colour = palette[(number if len(methods) > 1 else index) % len(palette)]
                    label = f"{method}: {column}" if len(methods) > 1 else column
                    axes.step(
                        x, _extend(part[column]), where="post", ls=style, color=colour, label=label
                    )
            axes.set_title(_channel_title(channel), loc="left")
            axes.set_ylabel("agents")
            axes.set_ylim(bottom=0)
        if clock.ticks:
            _apply_clock(panels[-1], clock)
        panels[-1].set_xlabel(clock.xlabel if clock.ticks else "hours since the first interval")
        _legend(figure, panels[0], len(lines) * len(methods))
        return Chart(name, title, caption, _png(figure))


# --- (f) sensitivity to the uncertain inputs --------------------------------------------------


def tornado_chart(table: pd.DataFrame | None, model: str, currency: str = "USD") -> Chart:
    """One panel per headline output of ``model``: per uncertain input a bar from the output
    at the input's low end to that at its high end, around the base (the vertical line),
    widest first (:mod:`ccsim.study.sensitivity`)."""
    from ccsim.study.sensitivity import EQUAL_SERVICE, HEADLINE, flip_sentence, tornado

    name, title = "tornado", "Sensitivity to the uncertain inputs"
    if table is None or table.empty:
        return Chart(name, title, note="No sensitivity.csv (the experiment names no uncertain:).")
    difference = f"{EQUAL_SERVICE}_difference"
    outputs = HEADLINE
    if EQUAL_SERVICE in table and table[EQUAL_SERVICE].notna().any():
        # The study's answer: the model's cost at equal service and what it saves against
        # the baseline (no panel of differences for the baseline itself).
        base_rows = table[table["parameter"] == "base"]
        saving = difference in table and model not in set(
            base_rows[base_rows[difference] == 0]["model"]
        )
        outputs = (
            (EQUAL_SERVICE, difference, "service_level")
            if saving
            else (
                EQUAL_SERVICE,
                "service_level",
            )
        )
    units = {
        "operating_cost": currency,
        "cost_per_resolved_contact": currency,
        EQUAL_SERVICE: currency,
        difference: currency,
    }
    labels = {EQUAL_SERVICE: "cost at equal service", difference: "against the baseline"}
    panels = {output: tornado(table, model, output).set_index("parameter") for output in outputs}
    # One order for every panel, so that a row is the same input across them: by the widest
    # swing relative to the base over the outputs, widest on top.
    swing = pd.concat(
        [
            bars["width"] / max(abs(bars["base"].iloc[0]), 1e-12)
            for output, bars in panels.items()
            if output != difference  # a difference near zero would swamp the order
        ],
        axis=1,
    ).max(axis=1)
    order = list(swing.sort_values(kind="stable").index)  # barh draws the first at the bottom
    rows = np.arange(len(order))
    with mpl.rc_context(_STYLE):
        figure = _figure(1.2 + 0.45 * len(order))
        for axes, output in zip(
            figure.subplots(1, len(outputs), sharey=True), outputs, strict=True
        ):
            bars = panels[output].loc[order]
            share = output == "service_level"
            scale = 100.0 if share else 1.0
            low, high = scale * bars["low"].to_numpy(), scale * bars["high"].to_numpy()
            axes.barh(rows, np.abs(high - low), left=np.minimum(low, high), color="#9ecae1")
            axes.scatter(high, rows, marker="|", s=200, color="#08519c", label="high end", zorder=3)
            axes.axvline(scale * bars["base"].iloc[0], color="black", lw=1)
            unit = "" if share else f" ({units[output]})"
            axes.set_title(labels.get(output, output.replace("_", " ")) + unit)
            if share:
                axes.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
                _percent_axis(axes, "x", decimals=0)
            else:
                _compact_money_axis(axes.xaxis)
        figure.axes[0].set_yticks(rows, order)
        caption = (
            f"Model {model}: each bar runs from the output with the input at the low end of "
            "its range to the output at the high end (dark tick), every other input at its "
            "base value and the same random numbers; the line is the base. Rows in the same "
            "order in every panel, the widest swing (relative to the base) on top. "
            + flip_sentence(table)
        )
        return Chart(name, title, caption, _png(figure))
