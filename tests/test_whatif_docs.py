"""docs/planner.md's what-if page: the scenario files it opens are the experiments' plans,
the differences it reads off the page are what the same comparison gives, and its
screenshots are there, 1280 pixels wide and small."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import ccsim
from ccsim.model import load_scenario
from ccsim.whatif.job import comparison_spec

ROOT = Path(__file__).resolve().parent.parent
PLANNER = ROOT / "docs" / "planner.md"
SECTION = PLANNER.read_text(encoding="utf-8").split("## The what-if page", 1)[1].split("\n## ")[0]


@pytest.mark.parametrize(
    ("scenario_file", "experiment", "name"),
    [
        ("voice_vendor.yaml", "planner_vendor.yaml", "vendor"),
        ("chat_manila.yaml", "planner_manila.yaml", "manila_bot"),
    ],
)
def test_each_plan_file_is_its_experiments_scenario(scenario_file, experiment, name):
    planned = ccsim.load_experiment(ROOT / "experiments" / experiment).scenarios[name]
    written = load_scenario(ROOT / "configs" / "planner" / scenario_file)
    assert written.model_dump() == planned.model_dump() | {"name": written.name}
    assert f"configs/planner/{scenario_file}" in SECTION


def test_the_screenshots_are_there_wide_and_small():
    from PIL import Image

    shown = re.findall(r"\]\((figures/whatif_[a-z_]+\.png)\)", SECTION)
    assert len(shown) == 4
    for name in shown:
        path = PLANNER.parent / name
        assert path.stat().st_size <= 200_000, name
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width == 1280, name


def _numbers(text: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in re.findall(r"[−+-]?\d+(?:\.\d+)?", text)]


#: What the section reads off the page: the scenario, the change, and per KPI the text of
#: the difference and its interval (in percentage points or the currency).
DOCUMENTED = [
    (
        "voice_vendor.yaml",
        {"routing.shares.voice.inhouse": 0.5, "routing.shares.voice.vendor": 0.5},
        "voice",
        {
            "service_level": "Service level −0.58 pts [−1.16, −0.01]",
            "operating_cost": "Operating cost −3 USD [−15, +10]",
        },
    ),
    (
        "voice_vendor.yaml",
        {"routing.overflow.voice.1.after": "never"},
        "voice",
        {
            "service_level": "service level −1.20 pts [−1.62, −0.79]",
            "operating_cost": "operating cost +0.50 USD [−5.46, +6.47]",
        },
    ),
    (
        "chat_manila.yaml",
        {"channels.chat.bot.containment": 0.15},
        "chat",
        {
            "service_level": "service level −1.62 pts [−2.05, −1.18]",
            "abandon_rate": "abandonment +0.52 pts [+0.22, +0.82]",
            "operating_cost": "Operating cost +52 USD a week [−15, +120]",
        },
    ),
]


@pytest.mark.parametrize(("scenario_file", "overrides", "channel", "read"), DOCUMENTED)
def test_the_differences_read_off_the_page_are_the_comparisons(
    scenario_file, overrides, channel, read, tmp_path
):
    # The page's comparison with its defaults (seed 2026, ±10%), held at the five
    # replications its rule stopped at: the experiment the page's Save writes.
    spec = comparison_spec(
        ROOT / "configs" / "planner" / scenario_file,
        overrides,
        seed=2026,
        max_replications=5,
        relative_half_width=0.1,
    )
    ccsim.run_experiment(spec, out=tmp_path / "out", notify=lambda line: None)
    table = pd.read_csv(tmp_path / "out" / "comparisons.csv")
    table = table[(table["channel"] == channel) & (table["site"] == "all")]
    for kpi, text in read.items():
        assert text in " ".join(SECTION.replace("**", "").split()), text
        row = table[table["kpi"] == kpi].iloc[0]
        values = [row["difference"], row["ci_low"], row["ci_high"]]
        scale = 1 if kpi == "operating_cost" else 100  # percentage points
        first = re.search(r"\d+(?:\.(\d+))?", text)
        decimals = len(first.group(1) or "")
        documented = _numbers(text)
        assert documented == [round(v * scale, decimals) for v in values[: len(documented)]]
