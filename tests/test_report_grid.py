"""A sweep over one parameter gets a figure of its KPIs against the parameter: the blend
threshold experiment shows inbound service level rising and right-party contacts per agent
hour falling as more idle agents are kept for inbound."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import ccsim
from ccsim.report import study_figures
from ccsim.report.study_figures import grid_chart

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_the_blend_sweep_reports_its_trade_off(tmp_path):
    for name in ("experiments/blend_threshold.yaml", "configs/blended_nearshore.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    out = tmp_path / "out"
    ccsim.run_experiment(tmp_path / "experiments/blend_threshold.yaml", reps=4, out=out)
    ccsim.render_report(out)
    figure = out / "figures" / "grid.png"
    assert figure.read_bytes().startswith(PNG)
    assert (
        'id="figure-grid"' in (out / "report.html").read_text()
        or "grid.png" in (out / "report.html").read_text()
        or "KPIs across" in (out / "report.html").read_text()
    )


def test_no_grid_no_figure():
    summary = pd.DataFrame(
        {
            "scenario": ["a"],
            "channel": ["all"],
            "site": ["all"],
            "kpi": ["service_level"],
            "estimate": [0.8],
            "ci_low": [0.7],
            "ci_high": [0.9],
        }
    )
    chart = grid_chart(summary, {"a": 1.0}, "sites.0.agents", None)
    assert chart.png is None and chart.note


def test_a_grid_of_one_channel_at_two_sites_is_drawn(monkeypatch):
    """One channel at two sites has rows of channel ``all`` per site only: the panels show
    the channel's own rows, not an empty ``all`` (issue #30)."""
    rows = []
    for scenario, agents, level in (("a", 5, 0.7), ("b", 6, 0.8), ("c", 7, 0.9)):
        for channel, site in (("voice", "all"), ("all", "inhouse"), ("all", "vendor")):
            kpis = (("service_level", level), ("occupancy", 0.8 - agents / 100))
            for kpi, value in (*kpis, ("cost_per_resolved_contact", 4 + agents / 10)):
                rows.append([scenario, channel, site, kpi, value, value - 0.05, value + 0.05])
    columns = ["scenario", "channel", "site", "kpi", "estimate", "ci_low", "ci_high"]
    summary = pd.DataFrame(rows, columns=columns)
    read, plotted = study_figures._summary_value, []
    monkeypatch.setattr(
        study_figures, "_summary_value", lambda *args: plotted.append(read(*args)) or plotted[-1]
    )
    drawn = []
    png = study_figures.png_bytes
    monkeypatch.setattr(study_figures, "png_bytes", lambda f: drawn.append(f) or png(f))
    chart = grid_chart(summary, {"a": 5.0, "b": 6.0, "c": 7.0}, "sites.1.agents", None, "EUR")
    assert chart.png is not None, chart.note
    assert plotted and all(value["estimate"] > 0 for value in plotted)  # none missing (NaN)
    # Money with its currency; the parameter in words (issue #30's papercuts).
    titles = [axes.get_title() for axes in drawn[0].axes]
    assert titles[-1] == "cost per\nresolved customer (EUR)\n(voice)"
    assert drawn[0].axes[0].get_xlabel() == "second site agents"
