"""The figures that compare the models of an experiment: the headline cost of each, cost
against service level, the KPIs across a one-parameter grid and the sensitivity to the
uncertain inputs (a tornado).

Each function takes the tables it needs and returns a :class:`~ccsim.report.chart.Chart`, or
one with a note saying why the figure was left out; the numbers of the headline come from
:mod:`ccsim.report.answer`.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ccsim.report.chart import (
    STYLE,
    Chart,
    channel_title,
    compact_money_axis,
    figure_legend,
    labels_above,
    new_figure,
    percent_axis,
    png_bytes,
    scenario_colours,
    scenario_label,
)
from ccsim.report.formatting import input_label
from ccsim.report.headline import Headline
from ccsim.report.outputs import headline_channel
from ccsim.sim.kpis import KPIS, PER_CHANNEL

__all__ = ["cost_service_chart", "grid_chart", "headline_chart", "tornado_chart"]


# --- cost against service level ---------------------------------------------------------------


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


def _cost_service_panel(axes, points, scenarios, baseline) -> None:
    """Each model as a point with both intervals: (service level, cost) in ``points``."""
    colours = scenario_colours(scenarios)
    above = labels_above([cost["estimate"] for _, cost in points.values()])
    for (scenario, (level, cost)), up in zip(points.items(), above, strict=True):
        x, y = 100 * level["estimate"], cost["estimate"]
        xerr = np.nan_to_num([[x - 100 * level["ci_low"]], [100 * level["ci_high"] - x]])
        yerr = np.nan_to_num([[y - cost["ci_low"]], [cost["ci_high"] - y]])
        style = {"fmt": "o", "capsize": 3, "ms": 6, "color": colours[scenario]}
        axes.errorbar(x, y, xerr=xerr, yerr=yerr, label=scenario_label(scenario, baseline), **style)
        offset = (6, 6) if up else (6, -14)
        axes.annotate(scenario, (x, y), textcoords="offset points", xytext=offset, fontsize=9)
    percent_axis(axes, "x", decimals=None)  # a narrow range: as many as it needs
    axes.margins(0.15)


def cost_service_chart(
    summary: pd.DataFrame,
    scenarios: list[str],
    channel: str,
    baseline: str | None,
    currency: str = "USD",
) -> Chart:
    """Each model as a point: service level across, cost per resolved contact (or, in
    older results, per handled contact) up in ``currency``, with both 95% intervals as
    error bars; for all channels together a panel per channel, each with its own service
    level (together they would blend thresholds of seconds and of hours)."""
    name, title = "cost_service_level", "Cost against service level"
    kpis = set(summary["kpi"])
    resolved = "cost_per_resolved_contact" in kpis
    cost_kpi = "cost_per_resolved_contact" if resolved else "cost_per_handled_contact"
    per = (
        "operating cost (labour and bot) per resolved customer"
        if resolved
        else "labour cost per handled contact (total labour cost over total answered contacts)"
    )
    levels = [channel]
    if channel == "all":
        named = summary[(summary["kpi"] == "service_level") & (summary["channel"] != "all")]
        levels = list(dict.fromkeys(named["channel"])) or levels
    caption = (
        f"Each model over the whole run: {per} ({channel_title(channel)}) up, and across the "
        + (
            "service level (ratio of totals)"
            if len(levels) == 1
            else "service level of each channel in its own panel (ratio of totals)"
        )
        + "; the bars are each model's 95% confidence intervals. Down and to the right is "
        "better. With common random numbers the paired differences (the table of "
        "differences) are much more precise than these intervals suggest."
    )
    if not {"service_level", cost_kpi} <= kpis:
        return Chart(name, title, note="summary.csv lacks service_level or cost per contact.")
    costs = {s: _summary_value(summary, s, channel, cost_kpi) for s in scenarios}
    if all(not value for value in (c["estimate"] for c in costs.values()) if not math.isnan(value)):
        note = "Labour cost is zero in every model (no site has a cost_per_hour): no cost to plot."
        return Chart(name, title, note=note)
    with mpl.rc_context(STYLE):
        figure = new_figure(4.8 if len(levels) == 1 else 0.9 + 3.2 * math.ceil(len(levels) / 2))
        columns = min(2, len(levels))
        panels = figure.subplots(
            math.ceil(len(levels) / columns), columns, sharey=True, squeeze=False
        ).flat
        for index, axes in enumerate(panels):
            if index >= len(levels):  # an odd number of channels: the last cell empty
                axes.set_visible(False)
                continue
            level = levels[index]
            points = {
                s: (_summary_value(summary, s, level, "service_level"), costs[s]) for s in scenarios
            }
            _cost_service_panel(axes, points, scenarios, baseline)
            axes.set_xlabel(
                "service level (answered within threshold)"
                if len(levels) == 1
                else f"{level}: service level (answered within its threshold)"
            )
            axes.set_ylabel(
                f"cost per resolved contact ({currency})"
                if resolved
                else f"labour cost per handled contact ({currency})"
            )
        figure_legend(figure, figure.axes[0], len(scenarios))
        return Chart(name, title, caption, png_bytes(figure))


# --- KPIs across a one-parameter grid ---------------------------------------------------------

#: What a sweep trades: service and cost always; outbound results when there are any.
_GRID_PANELS = (  # (KPI, panel title, a share?)
    ("service_level", "service level", True),
    ("occupancy", "occupancy", True),
    ("rpc_per_agent_hour", "right-party contacts\nper agent hour", False),
    ("outbound_abandon_rate", "outbound abandonment\n(of live answers)", True),
    ("cost_per_resolved_contact", "cost per\nresolved customer", False),
)


def grid_chart(
    summary: pd.DataFrame,
    points: dict[str, float],
    parameter: str,
    baseline: str | None,
    currency: str = "USD",
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
    whole = headline_channel(summary)  # one channel's rows when it is the only one
    xs = np.array([points[model] for model in order], dtype=float)
    with mpl.rc_context(STYLE):
        figure = new_figure(3.6)
        for axes, (kpi, label, share) in zip(figure.subplots(1, len(panels)), panels, strict=True):
            scale = 100.0 if share else 1.0
            channel = whole
            if kpi == "service_level" and outbound:
                inbound = [c for c in summary["channel"].unique() if c != "all"]
                rows = summary[
                    (summary["kpi"] == "rpc_per_agent_hour") & (summary["site"] == "all")
                ]
                dialled = set(rows.loc[rows["estimate"].fillna(0) > 0, "channel"])
                inbound = [c for c in inbound if c not in dialled]
                channel = inbound[0] if len(inbound) == 1 else whole
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
            axes.set_xlabel(input_label(parameter, capital=False))
            label += f" ({currency})" if KPIS[kpi].kind == "money" else ""
            if channel == "all" and kpi in PER_CHANNEL and summary["channel"].nunique() > 2:
                label += "\n(all channels, blended)"  # thresholds of seconds and hours
            axes.set_title(label if channel == "all" else f"{label}\n({channel})", fontsize=10)
            if share:
                percent_axis(axes, decimals=1 if np.nanmax(high, initial=0) < 10 else 0)
            if np.all(xs == np.round(xs)):
                axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if baseline is not None and baseline not in points:
            figure_legend(figure, None, 1)
        return Chart(name, title, caption, png_bytes(figure))


# --- sensitivity to the uncertain inputs ------------------------------------------------------


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
    labels = {
        EQUAL_SERVICE: "cost at equal service",
        difference: "against the baseline",
        # sensitivity.csv's service level is that of every channel together
        "service_level": "service level\n(all channels, blended)",
    }
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
    with mpl.rc_context(STYLE):
        figure = new_figure(1.2 + 0.45 * len(order))
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
                percent_axis(axes, "x", decimals=0)
            else:
                compact_money_axis(axes.xaxis)
        figure.axes[0].set_yticks(rows, [input_label(path) for path in order])
        caption = (
            f"Model {model}: each bar runs from the output with the input at the low end of "
            "its range to the output at the high end (dark tick), every other input at its "
            "base value and the same random numbers; the line is the base. Rows in the same "
            "order in every panel, the widest swing (relative to the base) on top. "
            + _paths_in_words(flip_sentence(table), order)
        )
        return Chart(name, title, caption, png_bytes(figure))


def _paths_in_words(text: str, paths: list[str]) -> str:
    """``text`` with each input's dotted path replaced by its words (longest path first, so
    that no path is replaced inside a longer one)."""
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(path, input_label(path))
    return text


# --- the headline: each model's cost ----------------------------------------------------------


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
        what = (
            f"{period} with each site at the staffing at which its binding constraint (a "
            "channel's weekly service level or interval floor, or an occupancy cap: "
            "equal_service.csv, binding_channel) is just met"
            if headline.per_site
            else f"{period} at which the model's binding channel exactly meets its target"
        )
        source = "read off each model's cost-service frontier (equal_service.csv)"
    else:
        title = "Cost per resolved contact at planned staffing"
        what = "operating cost per resolved customer, each model as it is staffed"
        source = "summary.csv; not at equal service (no frontier)"
    sensed = costs["sens_low"].notna().any()
    noise = (
        "simulation noise, each site's crossing of a pooled target taken as fixed"
        if headline.fixed_crossings
        else "simulation noise"
    )
    caption = (
        f"Each model's {what}: the dot is the estimate and the dark line its 95% confidence "
        f"interval ({noise}; {source})."
    )
    if headline.joint:
        caption += (
            " The light bar is its range over the uncertain inputs moving together, 5% to "
            "95% of the joint draws (uncertainty.csv)."
        )
    else:
        caption += (
            " The light bar is its range over the uncertain inputs, each at the low and at the "
            "high end of its range, one at a time (sensitivity.csv)."
            if sensed
            else " No sensitivity.csv: the uncertainty of the inputs is not shown."
        )
    order = costs.index[::-1]  # the first model on top
    rows = np.arange(len(order))
    colours = scenario_colours(list(costs.index))
    with mpl.rc_context(STYLE):
        figure = new_figure(0.9 + 0.42 * len(order))
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
        axes.set_yticks(rows, [scenario_label(s, baseline) for s in order])
        axes.set_xlabel(
            f"cost per {period} at equal service ({currency})"
            if headline.equal_service
            else f"cost per resolved contact ({currency})"
        )
        if costs[["cost", "high", "sens_high"]].max().max() >= 1000:  # weekly totals
            axes.xaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
        axes.grid(axis="y", visible=False)
        return Chart(name, title, caption, png_bytes(figure))
