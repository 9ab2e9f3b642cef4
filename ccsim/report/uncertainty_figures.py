"""The joint uncertainty's figures: each input's effect on each model's cost at equal service
over the inputs' ranges, with its 95% bootstrap interval (a tornado from the joint sample),
and each model's cost over the points (a box per model) with its worst joint corner."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd

from ccsim.report.chart import (
    STYLE,
    Chart,
    compact_money_axis,
    new_figure,
    png_bytes,
    scenario_colours,
    scenario_label,
)
from ccsim.report.formatting import flag, input_label

__all__ = ["effects_chart", "point_costs_chart"]


def _fitted_models(table: pd.DataFrame) -> list[str]:
    """The models whose costs at the draws are read off a fitted plane (``emulated``)."""
    if "emulated" not in table:
        return []
    marked = table.drop_duplicates("model").set_index("model")["emulated"]
    return [str(m) for m, value in marked.items() if flag(value)]


def _names(models: list[str]) -> str:
    return models[0] if len(models) == 1 else ", ".join(models[:-1]) + " and " + models[-1]


def _sampled(points: pd.DataFrame) -> str:
    """How the draws were priced: every model simulated at each, or which are read off a
    plane fitted through their own fewer simulated points."""
    fitted = _fitted_models(points)
    if not fitted:
        return "every model at the same draws and the same random numbers"
    simulated = [str(m) for m in dict.fromkeys(points["model"]) if m not in fitted]
    at_each = (
        f"{_names(simulated)} simulated at each draw on the same random numbers; "
        if simulated
        else ""
    )
    return (
        f"{at_each}{_names(fitted)} read off a plane fitted through simulations at fewer points "
        "of their own (emulated): their spread is that of the plane, without simulation noise"
    )


def effects_chart(table: pd.DataFrame, currency: str) -> Chart:
    """Per model a panel: per input a bar of its effect (the cost's change from the input's
    low end to its high end, the others held, from the regression on the joint sample) and
    its 95% interval, largest |SRC| on top."""
    name, title = "uncertainty_effects", "What each uncertain input does, all moving together"
    models = list(dict.fromkeys(table["model"]))
    fitted = _fitted_models(table)
    sizes = [int((table["model"] == m).sum()) for m in models]
    with mpl.rc_context(STYLE):
        figure = new_figure(0.8 + 0.32 * sum(sizes) + 0.5 * len(models))
        # One scale for every model: a bar's length is the same money in every panel.
        axes_list = figure.subplots(
            len(models), 1, sharex=True, gridspec_kw={"height_ratios": sizes}
        )
        axes_list = np.atleast_1d(axes_list)
        for axes, model in zip(axes_list, models, strict=True):
            rows = table[table["model"] == model].sort_values("rank", ascending=False)
            y = np.arange(len(rows))
            effect = rows["effect"].to_numpy(float)
            error = np.vstack([effect - rows["effect_low"], rows["effect_high"] - effect])
            colours = np.where(effect > 0, "#de2d26", "#3182bd")
            axes.barh(y, effect, color=colours, alpha=0.7)
            axes.errorbar(effect, y, xerr=np.clip(error, 0, None), fmt="none", ecolor="black")
            axes.axvline(0, color="black", lw=1)
            axes.set_yticks(y, [input_label(i) for i in rows["input"]])
            r2 = rows["r2"].iloc[0]
            plane = "fitted plane, " if model in fitted else ""
            axes.set_title(f"{model} ({plane}R\N{SUPERSCRIPT TWO} {r2:.2f})", loc="left")
            compact_money_axis(axes.xaxis)
            axes.tick_params(labelbottom=True)  # shared, yet each panel keeps its numbers
        axes_list[-1].set_xlabel(
            f"change in the cost at equal service, low to high end ({currency})"
        )
        caption = (
            "Per model, each input's effect on its cost at equal service: the slope of a linear "
            "regression of the cost on every input at once over the joint draws (Latin "
            "hypercube), times the input's range; red raises the cost, blue lowers it; the "
            "black line is the 95% bootstrap interval over the draws. Inputs ranked by their "
            "standardized regression coefficient (largest on top); R\N{SUPERSCRIPT TWO} is the "
            "share of the cost's variance the straight-line fit explains (uncertainty.csv). "
            "Every panel has the same scale."
        )
        if fitted:
            caption += (
                f" Marked fitted plane: {_names(fitted)}, each simulated at fewer points of "
                "its own, its costs at the draws read off the plane through them (emulated, "
                "uncertainty_points.csv); their R\N{SUPERSCRIPT TWO} and intervals describe "
                "that plane, not the simulation."
            )
        return Chart(name, title, caption, png_bytes(figure))


def point_costs_chart(
    points: pd.DataFrame, table: pd.DataFrame, baseline: str | None, currency: str, period: str
) -> Chart:
    """A box per model of its cost at equal service over the draws, the worst joint corner
    (from the regression) as a cross."""
    name, title = "uncertainty_costs", "Cost at equal service over the uncertain inputs"
    models = list(dict.fromkeys(points["model"]))
    colours = scenario_colours(models)
    corners = table.drop_duplicates("model").set_index("model")["worst_corner_cost"]
    with mpl.rc_context(STYLE):
        figure = new_figure(0.9 + 0.45 * len(models))
        axes = figure.subplots()
        data = [points.loc[points["model"] == m, "cost"].to_numpy(float) for m in models[::-1]]
        parts = axes.boxplot(data, orientation="horizontal", whis=(5, 95), patch_artist=True)
        for patch, model in zip(parts["boxes"], models[::-1], strict=True):
            patch.set_facecolor(colours[model])
            patch.set_alpha(0.4)
        y = np.arange(1, len(models) + 1)
        axes.scatter(corners.reindex(models[::-1]), y, marker="x", color="black", zorder=3)
        axes.set_yticks(y, [scenario_label(m, baseline) for m in models[::-1]])
        axes.set_xlabel(f"cost per {period} at equal service ({currency})")
        compact_money_axis(axes.xaxis)
        caption = (
            "Each model's cost at equal service at each joint draw of the uncertain inputs "
            f"(box: quartiles; whiskers: 5% to 95%; points beyond), {_sampled(points)} "
            "(uncertainty_points.csv); the cross is its worst joint corner, every input at the "
            "end of its range that raises the cost (the linear fit, uncertainty.csv)."
        )
        return Chart(name, title, caption, png_bytes(figure))
