"""The figures of the plan: each model's staffing against its requirement, per interval.

Two sources: the requirement per pool that :mod:`ccsim.report.requirement` computes from the
scenarios that ran (:func:`requirement_chart`), else a ``requirements.csv`` that the staffing
step wrote (:func:`staffing_chart`). Both are drawn as the other figures
(:mod:`ccsim.report.chart`).
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd

from ccsim.report.chart import (
    STYLE,
    Chart,
    channel_title,
    customer_clock,
    figure_legend,
    new_figure,
    png_bytes,
    scenario_colours,
    scenario_label,
    set_clock_ticks,
)

__all__ = ["requirement_chart", "staffing_chart"]

# --- staffing against requirement -------------------------------------------------------------


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
    clock = customer_clock(seconds, local)
    channels = list(dict.fromkeys(table["channel"]))
    methods = list(dict.fromkeys(table["method"]))
    lines = [(c, s) for c, s in (("required", "--"), ("scheduled", "-"), ("available", ":"))]
    lines = [(c, s) for c, s in lines if c in table.columns]
    palette = mpl.colormaps["Dark2"].colors
    with mpl.rc_context(STYLE):
        figure = new_figure(0.6 + 2.7 * len(channels))
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
            axes.set_title(channel_title(channel), loc="left")
            axes.set_ylabel("agents")
            axes.set_ylim(bottom=0)
        if clock.ticks:
            set_clock_ticks(panels[-1], clock)
        panels[-1].set_xlabel(clock.xlabel if clock.ticks else "hours since the first interval")
        figure_legend(figure, panels[0], len(lines) * len(methods))
        return Chart(name, title, caption, png_bytes(figure))


# --- the requirement per pool, from the scenarios that ran ------------------------------------


def requirement_chart(table: pd.DataFrame | None, note: str, baseline: str | None) -> Chart:
    """A row per model, a panel per pool: agents required (dashed) and agents available at
    the pool's sites (solid), per reporting interval."""
    name, title = "staffing", "Staffing against requirement"
    if table is None or table.empty:
        return Chart(name, title, note=note)
    caption = (
        "Per model (row) and pool of agents (panel: the channels its sites answer), per "
        "reporting interval: the agents required (dashed; the staffing planner's Erlang A "
        "requirement for each channel's service-level objective, with the pooling credit of "
        "the square-root law across the pool's channels, at proficiency 1) and the agents the "
        "plan makes available at the pool's sites (solid; on shift, after shrinkage and "
        "breaks, the mean over the replications). Below the dashed line the plan relies on "
        "other intervals, tiers or sites; far above it the plan pays idle time."
    )
    scenarios = list(dict.fromkeys(table["scenario"]))
    clock = customer_clock(table["interval_start"], table["local_start"])
    n_cols = int(table.groupby("scenario")["pool"].nunique().max())
    colours = scenario_colours(scenarios)
    with mpl.rc_context(STYLE | {"font.size": 8, "axes.titlesize": 9}):
        figure = new_figure(0.6 + 1.6 * len(scenarios))
        panels = figure.subplots(len(scenarios), n_cols, sharex=True, squeeze=False)
        for i, scenario in enumerate(scenarios):
            own = table[table["scenario"] == scenario]
            for j in range(n_cols):
                axes = panels[i, j]
                pools = list(dict.fromkeys(own["pool"]))
                if j >= len(pools):
                    axes.set_visible(False)
                    continue
                part = own[own["pool"] == pools[j]].sort_values("interval_start")
                x = part["interval_start"].to_numpy(float) / 3600
                x = np.append(x, x[-1] + clock.interval_h)

                def extend(column: str, part=part) -> np.ndarray:
                    values = part[column].to_numpy(float)
                    return np.append(values, values[-1])

                axes.step(x, extend("available"), where="post", color=colours[scenario], lw=1)
                axes.step(x, extend("required"), where="post", color="black", lw=0.8, ls="--")
                short = float(np.mean(part["available"] < part["required"] - 1e-9))
                axes.set_title(
                    f"{pools[j]} at {part['sites'].iloc[0]}: short in {100 * short:.0f}% of "
                    "intervals",
                    loc="left",
                    fontsize=8,
                )
                axes.set_ylim(bottom=0)
                if j == 0:
                    axes.set_ylabel(f"{scenario_label(scenario, baseline)}\nagents")
        span = clock.ticks[-1] - clock.ticks[0] if len(clock.ticks) > 1 else 0
        labels = [label.split("\n")[0] for label in clock.labels] if span > 36 else clock.labels
        for column in panels.T:  # the lowest panel drawn in each column is labelled
            lowest = [axes for axes in column if axes.get_visible()][-1]
            lowest.set_xticks(clock.ticks, labels, fontsize=7)
            lowest.xaxis.set_tick_params(labelbottom=True)
        figure.supxlabel(clock.xlabel, fontsize=9)
        return Chart(name, title, caption, png_bytes(figure))
