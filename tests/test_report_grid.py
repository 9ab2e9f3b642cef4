"""A sweep over one parameter gets a figure of its KPIs against the parameter: the blend
threshold experiment shows inbound service level rising and right-party contacts per agent
hour falling as more idle agents are kept for inbound."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import ccsim
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
