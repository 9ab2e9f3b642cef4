"""The what-if form (ccsim.whatif.form): the fields of the shipped scenarios, and a filled-in
form read back as overrides, refused in the command line's words without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccsim.model import ConfigError, load_scenario
from ccsim.model.overrides import apply_overrides
from ccsim.planning.scenario_file import scenario_yaml
from ccsim.study.spec import load_experiment
from ccsim.whatif import form_fields, variant
from ccsim.whatif.save import save_variant

ROOT = Path(__file__).resolve().parent.parent
VOICE = ROOT / "configs/planner/voice_week.yaml"
CHAT = ROOT / "configs/planner/chat_week.yaml"
HYBRID = ROOT / "configs/models/hybrid.yaml"
SHIPPED = sorted(
    path
    for folder in ("configs", "configs/models", "configs/models/design", "configs/claims")
    for path in (ROOT / folder).glob("*.yaml")
    if not path.name.startswith("_")  # fragments that scenarios extend
)


def _cli_message(path, overrides) -> str:
    """What ``ccsim experiment`` says about the variant: the ConfigError's message."""
    with pytest.raises(ConfigError) as error:
        apply_overrides(load_scenario(path), overrides, "experiment.yaml")
    return error.value.message


@pytest.fixture(scope="module")
def vendor(tmp_path_factory) -> Path:
    """The vendor scenario of experiments/planner_vendor.yaml as a file of its own."""
    scenario = load_experiment(ROOT / "experiments/planner_vendor.yaml").scenarios["vendor"]
    path = tmp_path_factory.mktemp("vendor") / "vendor.yaml"
    path.write_text(scenario_yaml(scenario), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_scenario_has_a_form_whose_values_read_back_unchanged(path):
    fields = form_fields(path)
    assert fields and len({f.path for f in fields}) == len(fields)
    assert [f.group for f in fields][-1] == "Costs"
    unchanged = variant(path, {f.path: f.value for f in fields})
    assert unchanged.overrides == {} and unchanged.errors == {} and unchanged.changes == []


def test_the_voice_week_form_is_what_the_file_says():
    fields = {f.path: f for f in form_fields(VOICE)}
    assert fields["channels.voice.arrivals.volume.mon"].value == "1200"
    assert fields["channels.voice.arrivals.volume.sat"].value == "0"
    assert fields["channels.voice.handle_time.mean"].value == "5min"
    assert fields["channels.voice.patience.mean"].value == "3min"
    shift = fields["sites.inhouse.shifts.1.headcount"]
    assert (shift.label, shift.value) == ("inhouse 13:00 shift (5h, Mon-Fri): agents", "14")
    assert fields["sites.inhouse.cost_per_hour"].value == "28"
    assert {f.group for f in fields.values()} == {
        "Demand",
        "Handle time and patience",
        "Staffing",
        "Costs",
    }  # no bot, no routing: no such groups


def test_the_vendor_split_shows_its_shares_and_never(vendor):
    fields = {f.path: f for f in form_fields(vendor)}
    assert fields["routing.shares.voice.vendor"].value == "0.4"
    assert fields["routing.overflow.voice.0.after"].value == "30s"
    assert fields["sites.vendor.cost_per_hour"].value == "9"
    one_way = variant(vendor, {"routing.overflow.voice.1.after": "never"})
    assert one_way.errors == {}
    assert one_way.overrides == {"routing.overflow.voice.1.after": "never"}
    assert one_way.changes == ["voice: vendor takes waiting contacts after: 30s -> never"]


def test_a_bot_and_a_chat_week_give_their_fields():
    hybrid = {f.path: f for f in form_fields(HYBRID)}
    assert hybrid["channels.chat.bot.containment"].value == "0.3"
    chat = {f.path: f for f in form_fields(CHAT)}
    assert "channels.chat.handle_time.mean" in chat and not any(
        f.group == "Bot" for f in chat.values()
    )


def test_a_staffed_model_has_its_shifts_grouped_and_a_group_total_spread_exactly():
    fields = {f.path: f for f in form_fields(HYBRID)}
    group = "headcount:sites.specialists.shifts@6h"
    base = load_scenario(HYBRID)
    site = next(s for s in base.sites if s.name == "specialists")
    members = [i for i, s in enumerate(site.shifts) if s.length == 6 * 3600]
    assert fields[group].value == str(sum(site.shifts[i].headcount for i in members))
    total = int(fields[group].value) + 5
    changed = variant(HYBRID, {group: str(total)})
    assert changed.errors == {}
    assert (
        sum(changed.overrides.values())
        + sum(
            site.shifts[i].headcount
            for i in members
            if f"sites.specialists.shifts.{i}.headcount" not in changed.overrides
        )
        == total
    )


def test_a_day_typed_is_simulated_as_typed_and_the_scale_moves_the_other_days(tmp_path):
    # Monday typed as 1300 with 110% on every day: a planner who types 1300 means 1300
    # (finding r2-2: it was 1430, the scale applied on top of the typed day).
    typed = {
        "channels.voice.arrivals.volume.mon": "1300",
        "scale:channels.voice.arrivals.volume": "110%",
    }
    changed = variant(VOICE, typed)
    assert changed.errors == {}
    assert changed.overrides["channels.voice.arrivals.volume.mon"] == 1300
    assert changed.overrides["channels.voice.arrivals.volume.tue"] == pytest.approx(1200 * 1.1)
    assert "channels.voice.arrivals.volume.sat" not in changed.overrides  # 0 stays 0
    assert changed.changes == [
        "voice: contacts on Monday: 1200 -> 1300",
        "voice: volume on every day (%): 100% -> 110% on the other days (Monday as typed)",
    ]
    saved = save_variant(VOICE, changed.overrides, tmp_path / "variant.yaml")
    volume = load_scenario(saved).channels["voice"].arrivals.volume
    assert (volume["mon"], volume["tue"], volume["sat"]) == (1300, pytest.approx(1320), 0)
    (hint,) = [f.hint for f in form_fields(VOICE) if f.path.startswith("scale:")]
    assert "typed above stays as typed" in hint


@pytest.mark.parametrize(
    ("path", "typed", "yaml_value"),
    [
        ("channels.voice.handle_time.mean", "5", 5),  # a duration without its unit
        ("sites.inhouse.shifts.0.headcount", "-2", -2),  # a negative headcount
    ],
)
def test_a_bad_value_gets_the_command_lines_message(path, typed, yaml_value):
    changed = variant(VOICE, {path: typed})
    assert changed.errors == {path: _cli_message(VOICE, {path: yaml_value})}


def test_a_share_above_one_and_a_misspelt_never_get_the_command_lines_messages(vendor):
    share, wait = "routing.shares.voice.vendor", "routing.overflow.voice.1.after"
    changed = variant(vendor, {share: "1.4", wait: "nevr"})
    assert changed.errors == {
        share: _cli_message(vendor, {share: 1.4}),
        wait: _cli_message(vendor, {wait: "nevr"}),
    }
    assert "nevr" in changed.errors[wait] and "never" in changed.errors[wait]


def test_shares_that_no_longer_add_up_are_an_error_of_the_whole_form(vendor):
    changed = variant(vendor, {"routing.shares.voice.vendor": "0.5"})
    assert list(changed.errors) == [""]
    assert changed.errors[""].endswith(_cli_message(vendor, {"routing.shares.voice.vendor": 0.5}))
    fixed = variant(
        vendor, {"routing.shares.voice.vendor": "0.5", "routing.shares.voice.inhouse": "0.5"}
    )
    assert fixed.errors == {}


def test_a_percentage_without_its_sign_and_an_empty_field_are_refused():
    scale, handle = "scale:channels.voice.arrivals.volume", "channels.voice.handle_time.mean"
    changed = variant(VOICE, {scale: "110", handle: " "})
    assert changed.errors == {
        scale: "a percentage with its sign, such as '110%', got '110'",
        handle: "a value is needed",
    }


def test_a_bad_scenario_file_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon: 7\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        form_fields(bad)


def test_a_constant_rate_is_shown_per_hour_and_needs_its_period():
    erlang_a = ROOT / "configs/erlang_a.yaml"
    (rate,) = [f for f in form_fields(erlang_a) if f.path.endswith(".rate")]
    assert (rate.value, rate.hint) == ("180/h", "a rate: 600/h, 10/min")  # 0.05 a second
    assert variant(erlang_a, {rate.path: "200/h"}).errors == {}
    refused = variant(erlang_a, {rate.path: "200"})
    assert refused.errors == {rate.path: _cli_message(erlang_a, {rate.path: 200})}


def test_the_currency_is_no_input_and_another_code_is_refused_in_one_line():
    # finding r2-1: the field took EUR, started a run, and the run failed on
    # "models in different currencies"; relabelling USD as EUR converts nothing either.
    assert "currency" not in {f.path for f in form_fields(VOICE)}
    changed = variant(VOICE, {"currency": "EUR"})
    assert changed.overrides == {}
    assert changed.errors == {
        "": "currency: the page compares amounts in the base's currency (USD); another code "
        "would relabel the costs, not convert them"
    }
    assert variant(VOICE, {"currency": "USD"}).errors == {}  # the base's own: no change


def test_a_variant_that_leaves_a_channel_without_contacts_is_refused_in_words():
    # finding r2-4: 0% was accepted and burnt every replication on undefined KPIs
    scale = "scale:channels.voice.arrivals.volume"
    assert variant(VOICE, {scale: "0%"}).errors == {
        scale: "0% leaves voice with no contacts on any day: nothing to compare"
    }
    weekdays = {f"channels.voice.arrivals.volume.{d}": "0" for d in ("mon", "tue", "wed", "thu")}
    assert variant(VOICE, weekdays).errors == {}  # Friday's calls are left
    weekdays["channels.voice.arrivals.volume.fri"] = "0"
    assert variant(VOICE, weekdays).errors == {
        "": "this variant leaves voice with no contacts on any day: nothing to compare"
    }
    typed = {scale: "0%", "channels.voice.arrivals.volume.mon": "1500"}
    assert variant(VOICE, typed).errors == {}  # Monday typed, the other days scaled to 0


@pytest.mark.parametrize(
    ("path", "typed"),
    [
        ("sites.inhouse.shifts.0.headcount", "8.0"),
        ("channels.voice.handle_time.mean", "300s"),
        ("routing.overflow.voice.0.after", "0.5min"),
        ("routing.shares.voice.inhouse", "0.60"),
        ("channels.voice.arrivals.volume.sat", "0.0"),
        ("scale:channels.voice.arrivals.volume", "100.0%"),
    ],
)
def test_the_base_value_in_another_spelling_is_no_change(vendor, path, typed):
    # finding r2-8: "11" retyped as "11.0" ran two identical scenarios for nothing
    assert variant(vendor, {path: typed}) == variant(vendor, {})


def test_a_rate_in_another_period_and_a_group_total_retyped_are_no_change():
    erlang_a = ROOT / "configs/erlang_a.yaml"
    (rate,) = [f for f in form_fields(erlang_a) if f.path.endswith(".rate")]
    assert variant(erlang_a, {rate.path: "3/min"}).overrides == {}  # 180/h
    group = next(f for f in form_fields(HYBRID) if f.path.startswith("headcount:"))
    assert variant(HYBRID, {group.path: f"{group.value}.0"}).changes == []


def test_a_share_takes_a_percentage_and_a_word_gets_what_to_type(vendor):
    # finding r2-5: "50%" in a share was refused with pydantic's "unable to parse string"
    inhouse, to_vendor = "routing.shares.voice.inhouse", "routing.shares.voice.vendor"
    halves = variant(vendor, {inhouse: "50%", to_vendor: "0.5"})
    assert halves.errors == {} and halves.overrides == {inhouse: 0.5, to_vendor: 0.5}
    assert variant(vendor, {inhouse: "60%"}) == variant(vendor, {})  # the base's 0.6
    assert variant(vendor, {inhouse: "half"}).errors == {
        inhouse: "a share such as 0.4 or 40%, got 'half'"
    }
    scale = "scale:channels.voice.arrivals.volume"
    assert variant(vendor, {scale: "1.1"}).errors == {
        scale: "a percentage with its sign, such as '110%', got '1.1'"
    }
    (field,) = [f for f in form_fields(vendor) if f.path == scale]
    assert field.label == "voice: volume on every day (%)"


def test_a_path_the_form_does_not_show_is_refused_before_anything_runs():
    # finding r2-10: {"horizon": "1h"} ran, and the history read "horizon: ? -> 1h"
    changed = variant(VOICE, {"horizon": "1h", "nonexistent.path": "3"})
    assert changed.overrides == {} and changed.changes == []
    assert changed.errors == {"": "horizon, nonexistent.path: not an input of this page"}
