"""The figures of the answer and of the plan: the headline cost of each model, and each
model's staffing against its requirement.

Drawn as the other figures of the report (:mod:`ccsim.report.plots`: a ``Figure`` with the
Agg renderer in a local ``rc_context``, PNG bytes without a timestamp); the numbers come
from :mod:`ccsim.report.answer` and :mod:`ccsim.report.requirement`.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd

from ccsim.report.answer import Headline
from ccsim.report.plots import _STYLE, Chart, _clock, _colours, _figure, _label, _png

__all__ = ["headline_chart", "requirement_chart"]


def headline_chart(
    headline: Headline | None, baseline: str | None, currency: str, period: str
) -> Chart:
    """One bar per model: the cost the answer ranks by, its 95% interval as a dark line, and
    its range over the uncertain inputs as a lighter, wider bar behind."""
    name = "headline"
    if headline is None:
        return Chart(
            name, "Cost of each model", note="No model has a cost (no site has a cost_per_hour)."
        )
    costs = headline.costs
    if headline.equal_service:
        title = "Cost at equal service"
        what = f"{period} at which the model's binding channel exactly meets its target"
        source = "read off each model's cost-service frontier (equal_service.csv)"
    else:
        title = "Cost per resolved contact at planned staffing"
        what = "operating cost per resolved customer, each model as it is staffed"
        source = "summary.csv; not at equal service (no frontier)"
    sensed = costs["sens_low"].notna().any()
    caption = (
        f"Each model's {what}: the dot is the estimate and the dark line its 95% confidence "
        f"interval (simulation noise; {source})."
    )
    caption += (
        " The light bar is its range over the uncertain inputs, each at the low and at the "
        "high end of its range, one at a time (sensitivity.csv)."
        if sensed
        else " No sensitivity.csv: the uncertainty of the inputs is not shown."
    )
    order = costs.index[::-1]  # the first model on top
    rows = np.arange(len(order))
    colours = _colours(list(costs.index))
    with mpl.rc_context(_STYLE):
        figure = _figure(0.9 + 0.42 * len(order))
        axes = figure.subplots()
        for row, scenario in zip(rows, order, strict=True):
            value = costs.loc[scenario]
            colour = colours[scenario]
            if math.isfinite(value["sens_low"]) and math.isfinite(value["sens_high"]):
                width = value["sens_high"] - value["sens_low"]
                axes.barh(row, width, left=value["sens_low"], height=0.6, color=colour, alpha=0.25)
            if math.isfinite(value["low"]) and math.isfinite(value["high"]):
                axes.plot([value["low"], value["high"]], [row, row], color=colour, lw=4)
            axes.plot([value["cost"]], [row], "o", color="black", ms=5)
        axes.set_yticks(rows, [_label(s, baseline) for s in order])
        axes.set_xlabel(
            f"cost per {period} at equal service ({currency})"
            if headline.equal_service
            else f"cost per resolved contact ({currency})"
        )
        if costs[["cost", "high", "sens_high"]].max().max() >= 1000:  # weekly totals
            axes.xaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
        axes.grid(axis="y", visible=False)
        return Chart(name, title, caption, _png(figure))


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
    clock = _clock(table["interval_start"], table["local_start"])
    n_cols = int(table.groupby("scenario")["pool"].nunique().max())
    colours = _colours(scenarios)
    with mpl.rc_context(_STYLE | {"font.size": 8, "axes.titlesize": 9}):
        figure = _figure(0.6 + 1.6 * len(scenarios))
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
                    axes.set_ylabel(f"{_label(scenario, baseline)}\nagents")
        span = clock.ticks[-1] - clock.ticks[0] if len(clock.ticks) > 1 else 0
        labels = [label.split("\n")[0] for label in clock.labels] if span > 36 else clock.labels
        for column in panels.T:  # the lowest panel drawn in each column is labelled
            lowest = [axes for axes in column if axes.get_visible()][-1]
            lowest.set_xticks(clock.ticks, labels, fontsize=7)
            lowest.xaxis.set_tick_params(labelbottom=True)
        figure.supxlabel(clock.xlabel, fontsize=9)
        return Chart(name, title, caption, _png(figure))
