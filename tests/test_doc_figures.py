"""The figures of docs/claims.md and docs/staffing.md come from what they cite
(``scripts/doc_figures.py``): the blocks are what the script writes from the model files,
the experiment file and the committed claims extract; the figures typed by hand from the
full claims run agree with one another and with the model files; the measured week's
full-time equivalents by hand on a small roster.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import exponential, service_level
from conftest import scenario as build_scenario
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("doc_figures", ROOT / "scripts/doc_figures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


figures = _script()


@pytest.mark.parametrize("page", figures.PAGES, ids=lambda p: p.name)
def test_every_figure_block_is_what_its_source_gives(page):
    text = page.read_text()
    names = [m["name"] for m in figures.BLOCK.finditer(text)]
    assert names, f"{page.name} has no figure block"
    assert figures.rewrite(text) == text, "run python scripts/doc_figures.py"


def test_full_time_equivalents_of_a_roster_by_hand():
    # Ten agents on an 8.5 h shift with a 30-minute unpaid lunch, every day at 09:00: 8 paid
    # hours each, 7 days in the measured week (the warm-up's two days left out): 560 h, 14
    # FTE of 40 h; at $20 an hour, 11,200; 70 agent-shifts.
    site = {
        "name": "a",
        "cost_per_hour": 20,
        "breaks": [{"at_least": "8h", "breaks": [
            {"after": "4h", "length": "30min", "within": "1h", "paid": False}]}],
        "shifts": [{"start": "09:00", "length": "8.5h", "headcount": 10,
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}],
    }  # fmt: skip
    voice = {"arrivals": {"rate": "1/min"}, "handle_time": exponential("1min"),
             "service_level": service_level()}  # fmt: skip
    s = build_scenario({"voice": voice}, [site], name="f", horizon="9d", warmup="2d")
    sites, weeks = figures.measured_week(s)
    assert weeks == pytest.approx(1.0)
    week = sites["a"]
    assert week.paid_hours == pytest.approx(560.0)
    assert week.fte(weeks) == pytest.approx(14.0)
    assert week.pay == pytest.approx(11200.0)
    assert week.agent_shifts == 70


def test_the_claims_page_states_the_experiment_files_scales():
    spec = YAML(typ="safe").load(figures.CLAIMS.read_text())
    scales = [s for s in spec["frontier"]["scales"] if s != 1.0]
    text = (ROOT / "docs/claims.md").read_text()
    stated = re.findall(r"scaled by ([\d.]+) and ([\d.]+)", text)
    assert stated == [tuple(f"{s:g}" for s in scales)]
    assert "1,100" not in text


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_claims_cost_figures_agree_with_each_other_and_the_model_files():
    # From the full claims run (not rerun by the tests): each estimate inside its interval
    # and its range over the inputs; in house's cost at equal service near the in-house
    # plan's pay over the measured week (labour at a scale near 1, plus overruns).
    text = (ROOT / "docs/claims.md").read_text()
    rows = re.findall(
        r"^\| (conservative AI|base AI|optimistic AI|claim conditions) \| ([+-][\d.]+)% "
        r"\[([+-][\d.]+), ([+-][\d.]+)\] \| ([+-][\d.]+)% to ([+-][\d.]+)% \|$",
        text,
        re.M,
    )
    assert len(rows) == 4
    for _, estimate, low, high, range_low, range_high in rows:
        estimate, low, high = float(estimate), float(low), float(high)
        assert low <= estimate <= high
        assert float(range_low) <= estimate <= float(range_high)
    cost = re.search(r"In house: operating cost at equal service ([\d,]+) USD a week", text)
    sites, weeks = figures.measured_week(ROOT / "configs/claims/inhouse.yaml")
    pay = sum(site.pay for site in sites.values()) / weeks
    assert _money(cost[1]) == pytest.approx(pay, rel=0.06)


def test_the_claims_extract_is_one_run_paired_against_in_house():
    table = pd.read_csv(figures.EXTRACT)
    readings = {(kpi, channel) for kpi, channel, _ in figures.READINGS + figures.OUTCOMES}
    assert set(zip(table.kpi, table.channel, strict=True)) == readings
    assert table.seed.nunique() == 1 and table.n.nunique() == 1
    base = table[table.scenario == "inhouse"].set_index(["kpi", "channel"]).estimate
    for row in table[table.scenario != "inhouse"].itertuples():
        baseline = base[(row.kpi, row.channel)]
        assert row.baseline_value == pytest.approx(baseline, rel=1e-5)
        assert row.diff_low <= row.difference <= row.diff_high
        assert row.ci_low <= row.estimate <= row.ci_high
        if row.kpi != "median_resolution_time":  # ratios: the difference of the estimates
            # (written to 6 significant digits: the estimates' rounding bounds the error)
            expected = row.estimate - baseline
            bound = 1e-5 * (abs(row.estimate) + abs(baseline))
            assert row.difference == pytest.approx(expected, abs=bound)
