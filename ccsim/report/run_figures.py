"""The figures of one scenario through a run, each computed from its output tables: the
service level and the load by reporting interval, occupancy by time of day and the
waiting-time distribution.

One function per figure takes the tables it needs and returns a :class:`~ccsim.report.chart.Chart`:
PNG bytes, a title and a caption that says how the figure was computed, or no image and a note
saying why the figure was left out (a table or a column the run did not write). The experiment
report draws them a column per model; the page of one run (:mod:`ccsim.report.run_page`) for
its one scenario.
"""

from __future__ import annotations

import math
import re

import matplotlib as mpl
import numpy as np
import pandas as pd

from ccsim.experiment.stats import ratio_ci
from ccsim.report.chart import (
    STYLE,
    Chart,
    channel_title,
    customer_clock,
    figure_legend,
    new_figure,
    percent_axis,
    png_bytes,
    scenario_colours,
    scenario_label,
    set_clock_ticks,
)
from ccsim.study.attainment import CUSTOMER_DAY, clock_minutes

__all__ = ["load_chart", "occupancy_chart", "service_level_chart", "waiting_time_chart"]

_WAITS = re.compile(r"waits_within_(\d+)s")


# --- service level through the horizon --------------------------------------------------------


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
    clock = customer_clock(rows["interval_start"], rows["local_start"])
    colours = scenario_colours(scenarios)
    n_cols = max(1, len(shown))
    with mpl.rc_context(STYLE | {"font.size": 8, "axes.titlesize": 9}):
        figure = new_figure(0.7 + 1.7 * len(drawn))
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
                    axes.set_title(scenario_label(scenario, baseline), fontsize=9)
                if j == 0:
                    axes.set_ylabel(channel_title(channel))
                axes.set_ylim(0, 102)
                percent_axis(axes)
        span = clock.ticks[-1] - clock.ticks[0] if len(clock.ticks) > 1 else 0
        # Narrow panels: a week is labelled by two letters a day.
        labels = [label.split("\n")[0][:2] for label in clock.labels] if span > 36 else clock.labels
        for axes in panels[-1]:
            axes.set_xticks(clock.ticks, labels, fontsize=7 if n_cols > 3 else 8)
        figure.supxlabel(clock.xlabel, fontsize=9)
        return Chart(name, title, caption, png_bytes(figure))


# --- occupancy by site over the day -----------------------------------------------------------


def occupancy_chart(intervals: pd.DataFrame | None, scenarios: list[str], channel: str) -> Chart:
    """Occupancy of each site by time of day (customer clock), one panel per model."""
    name, title = "occupancy_by_site", "Occupancy by site over the day"
    caption = (
        "Occupancy of each site (busy agents over agents at work) by time of day on the "
        "customers' clock, averaged over the days of the run as a ratio of totals: the sum "
        "over days of the mean busy agents in that interval over the sum of the mean agents "
        "at work (every interval has the same length). A gap is a time when the site has "
        "nobody at work. Follow-the-sun operations show one site handing over to the next. "
        f"The shaded hours, {CUSTOMER_DAY[0]:02d}:00-{CUSTOMER_DAY[1]:02d}:00, are the "
        "customers' core hours, over which an experiment's targets.csv judges each tier-1 "
        "site's occupancy."
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
    table["minute"] = clock_minutes(table["local_start"])
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
    with mpl.rc_context(STYLE):
        figure = new_figure(0.8 + 2.6 * n_rows)
        panels = figure.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)
        for index, axes in enumerate(panels.flat):
            if index >= len(shown):
                axes.set_visible(False)
                continue
            scenario = shown[index]
            axes.axvspan(*CUSTOMER_DAY, color="0.92", lw=0, zorder=0)
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
            percent_axis(axes)
            if index % n_cols == 0:
                axes.set_ylabel("occupancy")
            if index + n_cols >= len(shown):  # the lowest panel of its column
                axes.xaxis.set_tick_params(labelbottom=True)
                axes.set_xlabel("time of day, customer clock")
        figure_legend(figure, panels.flat[0], len(sites), title="site")
        return Chart(name, title, caption, png_bytes(figure))


# --- waiting-time distribution ----------------------------------------------------------------


def _wait_label(seconds: int) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


#: The waits every panel shows, up to 10 min (a live channel's thresholds are seconds).
_LIVE_SPAN = 600


def _span(columns: list[tuple[int, str]], threshold: float | None) -> list[tuple[int, str]]:
    """The waits a channel's panel shows: up to 10 min, and on to twice its threshold (or
    the last wait counted), so that the panel spans the threshold it is judged by."""
    reach = _LIVE_SPAN
    if threshold is not None and math.isfinite(threshold):
        beyond = [seconds for seconds, _ in columns if seconds >= 2 * threshold]
        reach = max(reach, beyond[0] if beyond else columns[-1][0])
    return [(seconds, column) for seconds, column in columns if seconds <= reach]


def _wait_panel(axes, whole, channel, columns, scenarios, baseline, threshold) -> None:
    """One channel's distribution, each model a line of points with its intervals."""
    colours = scenario_colours(scenarios)
    positions = np.arange(len(columns))
    for number, scenario in enumerate(scenarios):
        part = whole[(whole["channel"] == channel) & (whole["scenario"] == scenario)]
        if part.empty:
            continue
        # A share's interval stays within [0, 1] (the delta method's need not, over few
        # replications of a channel worked over hours).
        estimates = [
            ratio_ci(part[column], part["answered"]).within(0.0, 1.0) for _, column in columns
        ]
        values = np.array([100 * e.value for e in estimates])
        errors = np.nan_to_num(
            np.clip([[100 * (e.value - e.low) for e in estimates],
                     [100 * (e.high - e.value) for e in estimates]], 0, None)
        )  # fmt: skip
        # Models side by side at each wait, so that their bars do not overlap.
        shift = (number - (len(scenarios) - 1) / 2) * 0.06
        style = {"marker": "o", "ms": 4, "capsize": 2, "lw": 1.3, "color": colours[scenario]}
        label = scenario_label(scenario, baseline)
        axes.errorbar(positions + shift, values, yerr=errors, label=label, **style)
    waits = [seconds for seconds, _ in columns]
    if threshold is not None and waits[0] <= threshold <= waits[-1]:
        at = np.interp(threshold, waits, positions)  # between two waits when not one of them
        axes.axvline(at, color="black", lw=0.8, ls="--")
    axes.set_title(channel_title(channel), loc="left")
    axes.set_ylabel("answered within")
    # Decimals as the range needs: shares between 99% and 100% would otherwise read "100%"
    # at several ticks.
    percent_axis(axes, decimals=None)
    # Room above 100% for the points there, in proportion to the panel's range: a fixed 101
    # put a "101.00%" tick on a panel spanning 97.5-100%.
    low = axes.get_ylim()[0]
    axes.set_ylim(top=100 + 0.04 * (100 - low))
    axes.set_xticks(positions, [_wait_label(seconds) for seconds in waits])


def _seconds_by_channel(given) -> dict[str, float]:
    """The manifest's thresholds (channel -> seconds) that are numbers of seconds; a
    manifest edited by hand may hold anything, and the page is drawn without the rest."""
    if not isinstance(given, dict):
        return {}
    return {
        str(channel): float(value)
        for channel, value in given.items()
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    }


def waiting_time_chart(
    replications: pd.DataFrame | None,
    scenarios: list[str],
    channels: list[str],
    baseline: str | None,
    thresholds: dict[str, float] | None = None,
) -> Chart:
    """Share of answered contacts that waited at most N seconds, per model and channel, each
    channel's panel up to its threshold (``thresholds``: channel -> seconds) and beyond."""
    name, title = "waiting_times", "Waiting-time distribution"
    thresholds = _seconds_by_channel(thresholds)
    caption = (
        "Share of answered contacts that waited at most each time, per model: over all "
        "replications, the total answered within that wait over the total answered (a ratio "
        "of totals), with 95% delta-method intervals as bars (within 0-100%). Abandoned "
        "contacts are not in it: see the abandonment rate. Each channel has its own axis of "
        "waits, up to 10 min and on to twice its service-level threshold"
        + (" (the dashed line)" if thresholds else "")
        + ", the waits at which the counts are kept, evenly spaced (not to scale)."
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
    if len(channels) > 1:  # each channel on its own: "all" mixes their thresholds
        channels = [c for c in channels if c != "all"] or channels
    if not channels:
        return Chart(name, title, note="replications.parquet has no rows of whole channels.")
    with mpl.rc_context(STYLE):
        figure = new_figure(0.6 + 3.0 * len(channels))
        panels = figure.subplots(len(channels), 1, squeeze=False)[:, 0]
        for axes, channel in zip(panels, channels, strict=True):
            threshold = thresholds.get(channel)
            shown = _span(columns, threshold)
            _wait_panel(axes, whole, channel, shown, scenarios, baseline, threshold)
        panels[-1].set_xlabel("wait (at most)")
        figure_legend(figure, panels[0], len(scenarios))
        return Chart(name, title, caption, png_bytes(figure))


# --- offered load and agents by interval ------------------------------------------------------


def load_chart(intervals: pd.DataFrame | None, summary: pd.DataFrame, channels: list[str]) -> Chart:
    """Per channel: offered load, busy agents and agents at work by reporting interval.

    Offered load (Erlangs) is the contacts that arrived in the interval, per replication,
    times the channel's average handle time, over the interval's length: the agents its
    work would keep busy. Its band is that of the count. Busy agents (the load carried) and
    agents at work are time averages of the interval.
    """
    name, title = "load", "Offered load and agents by interval"
    caption = (
        "Per reporting interval, in customer time: offered load (contacts that arrived in it, "
        "mean per replication, times the channel's average handle time over the interval's "
        "length, in Erlangs), busy agents (the load carried) and agents at work (idle or "
        "busy), each with its 95% confidence band over the replications. Busy agents below "
        "the offered load mean contacts still waiting or abandoned; agents at work are those "
        "of every site that may serve the channel."
    )
    if intervals is None:
        return Chart(name, title, note="No intervals.csv in the folder.")
    whole = intervals[intervals["site"] == "all"]
    channels = [c for c in channels if c in set(whole["channel"])]
    if not channels:
        return Chart(name, title, note="intervals.csv has no rows of whole channels.")
    clock = customer_clock(whole["interval_start"], whole["local_start"])
    # Each interval's length, from the next one's start (days of 23 or 25 hours have
    # intervals of the usual length: only the last needs the typical step).
    starts = np.sort(whole["interval_start"].unique().astype(float))
    lengths = dict(zip(starts, np.append(np.diff(starts), clock.interval_h * 3600), strict=True))
    with mpl.rc_context(STYLE):
        figure = new_figure(0.6 + 2.7 * len(channels))
        panels = figure.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
        for axes, channel in zip(panels, channels, strict=True):
            part = whole[whole["channel"] == channel]
            aht = summary[
                (summary["channel"] == channel)
                & (summary["site"] == "all")
                & (summary["kpi"] == "aht")
            ]["estimate"]
            aht = float(aht.iloc[0]) if len(aht) else math.nan
            lines = [
                ("offered", "offered load", "tab:grey"),
                ("busy_agents", "busy agents", "tab:blue"),
                ("available_agents", "agents at work", "tab:green"),
            ]
            for kpi, label, colour in lines:
                rows = part[part["kpi"] == kpi].sort_values("interval_start")
                if rows.empty:
                    continue
                start = rows["interval_start"].to_numpy(float)
                factor = aht / rows["interval_start"].map(lengths).to_numpy(float)
                factor = factor if kpi == "offered" else 1.0
                x = start / 3600 + clock.interval_h / 2
                estimate = rows["estimate"].to_numpy(float) * factor
                low = rows["ci_low"].to_numpy(float) * factor
                high = rows["ci_high"].to_numpy(float) * factor
                axes.plot(x, estimate, color=colour, label=label)
                axes.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
            axes.set_title(channel_title(channel), loc="left")
            axes.set_ylabel("agents (Erlangs)")
            axes.set_ylim(bottom=0)
        set_clock_ticks(panels[-1], clock)
        panels[-1].set_xlabel(clock.xlabel)
        figure_legend(figure, panels[0], 3)
        return Chart(name, title, caption, png_bytes(figure))
