"""A what-if variant saved as a scenario file (ccsim.whatif.save): the base file's text with
the changed values, comments kept, which loads to the scenario the overrides describe."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccsim.model import load_scenario
from ccsim.model.overrides import apply_overrides
from ccsim.planning.scenario_file import scenario_yaml
from ccsim.study.spec import load_experiment
from ccsim.whatif import form_fields, variant
from ccsim.whatif.save import save_variant

ROOT = Path(__file__).resolve().parent.parent
VOICE = ROOT / "configs/planner/voice_week.yaml"
HYBRID = ROOT / "configs/models/hybrid.yaml"


def _round_trip(base: Path, overrides: dict, dest: Path) -> str:
    saved = save_variant(base, overrides, dest)
    assert saved == dest and [p.name for p in dest.parent.iterdir()] == [dest.name]
    expected = apply_overrides(load_scenario(base), overrides, "<test>")
    assert load_scenario(saved) == expected
    return saved.read_text(encoding="utf-8")


def test_a_variant_of_the_voice_week_keeps_the_files_text_and_comments(tmp_path):
    typed = {
        "scale:channels.voice.arrivals.volume": "110%",
        "channels.voice.handle_time.mean": "5.5min",
        "sites.inhouse.shifts.1.headcount": "12",
    }
    changed = variant(VOICE, typed)
    assert changed.errors == {}
    text = _round_trip(VOICE, changed.overrides, tmp_path / "variant.yaml")
    original = VOICE.read_text(encoding="utf-8")
    for line in original.splitlines():
        if "volume:" in line or "mean: 5min" in line or "13:00" in line:
            continue  # the three changed lines
        assert line in text  # every other line as it was, comments in the lists included
    assert "volume: {mon: 1320, tue: 1320, wed: 1320, thu: 1320, fri: 1320, sat: 0, sun: 0}" in (
        text
    )
    assert "# calls a day: a Mon-Fri centre, closed at the weekend" in text
    assert text.startswith("# yaml-language-server:")  # an editor's schema line stays first


def test_a_value_the_file_does_not_write_is_added(tmp_path):
    # currency: a default, a section the file lacks; shrinkage: a key its site lacks
    text = _round_trip(
        VOICE, {"currency": "EUR", "sites.inhouse.shrinkage": 0.3}, tmp_path / "v.yaml"
    )
    assert "currency: EUR" in text and "shrinkage: 0.3" in text
    assert "# a Monday, New York wall clock" in text


def test_the_vendor_split_saved_with_never(tmp_path):
    vendor = load_experiment(ROOT / "experiments/planner_vendor.yaml").scenarios["vendor"]
    base = tmp_path / "base" / "vendor.yaml"
    base.parent.mkdir()
    base.write_text(scenario_yaml(vendor), encoding="utf-8")
    changed = variant(
        base,
        {
            "routing.overflow.voice.1.after": "never",
            "routing.shares.voice.vendor": "0.5",
            "routing.shares.voice.inhouse": "0.5",
            "sites.vendor.cost_per_hour": "9.5",
        },
    )
    assert changed.errors == {}
    text = _round_trip(base, changed.overrides, tmp_path / "out" / "vendor_never.yaml")
    assert "after: never" in text


def test_a_model_that_extends_another_saved_elsewhere_still_finds_it(tmp_path):
    group = "headcount:sites.specialists.shifts@6h"
    total = int(next(f.value for f in form_fields(HYBRID) if f.path == group))
    changed = variant(
        HYBRID,
        {
            "channels.chat.bot.containment": "0.35",
            "channels.voice.handle_time.mean": "7min",
            "sites.bogota.cost_per_hour": "24",
            group: str(total + 3),
        },
    )
    assert changed.errors == {}
    text = _round_trip(HYBRID, changed.overrides, tmp_path / "elsewhere" / "hybrid.yaml")
    assert "cost_per_hour: 24\n" in text
    # The base's own header (what its staffing measured) goes with the variant.
    (occupancy,) = [line for line in HYBRID.read_text().splitlines() if line.startswith("# Occ")]
    assert occupancy + "\n" in text


def test_a_bad_base_file_is_refused_before_anything_is_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    with pytest.raises(Exception, match="horizon"):
        save_variant(bad, {}, tmp_path / "out" / "x.yaml")
    assert not (tmp_path / "out").exists()
