"""Scenario files: units, distributions, and every class of bad input named in the user's words."""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ccsim
from ccsim.model import ConfigError, read_yaml_mapping
from ccsim.model.units import format_duration, parse_duration, parse_rate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "example.yaml"

BASE = textwrap.dedent(
    """\
    name: t
    horizon: 8h
    warmup: 0s
    channels:
      voice:
        arrivals: {rate: 3/min}
        handle_time: {dist: exponential, mean: 3min}
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 11
    """
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        ccsim.load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return info.value


# --- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20s", 20.0),
        ("4.5min", 270.0),
        ("8h", 28800.0),
        ("1d", 86400.0),
        ("1.5e2s", 150.0),
        (" 3 min ", 180.0),
        ("20 sec", 20.0),
        ("30 seconds", 30.0),
        ("4.5 mins", 270.0),
        ("2 minutes", 120.0),
        ("8hr", 28800.0),
        ("8 hours", 28800.0),
        ("2 days", 172800.0),
        # Compound: the parts added up, the sign in front for the whole.
        ("2h30min", 9000.0),
        ("1h 30min", 5400.0),
        ("1 hour 30 minutes", 5400.0),
        ("4min30s", 270.0),
        ("1d 2h", 93600.0),
        ("-1h30min", -5400.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bare", [270, 4.5, "270", "4.5"])
def test_a_duration_without_unit_is_refused_with_the_fix(bare):
    with pytest.raises(ValueError, match=r"has no unit: write '.*s' or '.*min'"):
        parse_duration(bare)
    assert parse_duration(bare, numbers_are_seconds=True) == float(bare)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("45/min", 0.75),
        ("2700/h", 0.75),
        ("100/30min", 100 / 1800),
        ("0.5/s", 0.5),
        ("24/d", 24 / 86400),
        ("10 / 2h", 10 / 7200),
        ("600/hour", 600 / 3600),
        ("600/hr", 600 / 3600),
        ("600 per hour", 600 / 3600),
        ("3 per min", 3 / 60),
    ],
)
def test_rates(text, per_second):
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", [3, 3.0, "3", "3/m", "3/", "/min", "x/min", "-3/min", True])
def test_bad_rates(text):
    with pytest.raises(ValueError):
        parse_rate(text)


@pytest.mark.parametrize(
    "text",
    ["3m", "3 parsecs", "abc", "", True, None, [3], "2h30", "1h 30m", "1h,30min", "1h-30min"],
)
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_compound_durations_match_the_schema_pattern_and_fail_fast():
    from ccsim.model.units import DURATION_PATTERN

    for text in ("2h30min", "1h 30min", "20s", "1.5e2s"):
        assert re.match(DURATION_PATTERN, text)
    for text in ("2h30", "1h,30min", "30"):
        assert not re.match(DURATION_PATTERN, text)
    # A long run of digits is refused at once (one way to read a number: no backtracking).
    with pytest.raises(ValueError):
        parse_duration("1" * 20000 + "!")
    with pytest.raises(ValueError):
        parse_duration(("1" * 50 + "s") * 200 + "!")


def test_a_compound_duration_in_a_file_reads_as_its_sum(tmp_path):
    scenario = ccsim.load_scenario(write(tmp_path, BASE.replace("horizon: 8h", "horizon: 7h30min")))
    assert scenario.horizon == 7.5 * 3600
    text = BASE.replace("mean: 3min}\n    patience", "mean: 2min 30s}\n    patience")
    voice = ccsim.load_scenario(write(tmp_path, text)).channels["voice"]
    assert voice.handle_time.expected() == 150


def test_format_duration_round_trips():
    for seconds in (0.5, 20, 90, 3600, 5400, 86400 * 2):
        assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


# --- the example and the schema ------------------------------------------------------------


def test_example_loads_exactly_as_written():
    scenario = ccsim.load_scenario(EXAMPLE)
    voice = scenario.channels["voice"]
    assert scenario.horizon == 8 * 3600 and scenario.warmup == 0
    assert voice.arrivals.rate == pytest.approx(3 / 60)
    assert voice.handle_time.expected() == 180
    assert voice.patience.expected() == 120
    assert voice.service_level.threshold == 20 and voice.service_level.target == 0.8
    assert scenario.total_agents == 11


def test_models_are_frozen(tmp_path):
    scenario = ccsim.load_scenario(write(tmp_path, BASE))
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own ValidationError
        scenario.horizon = 1.0


def test_patience_may_be_left_out(tmp_path):
    text = BASE.replace("    patience: {dist: exponential, mean: 2min}\n", "")
    assert ccsim.load_scenario(write(tmp_path, text)).channels["voice"].patience is None


DISTRIBUTIONS = {
    "{dist: exponential, mean: 3min}": (180.0, 1.0),
    "{dist: lognormal, mean: 390s, cv: 0.9}": (390.0, 0.9),
    "{dist: gamma, mean: 2min, cv: 0.5}": (120.0, 0.5),
    "{dist: erlang, mean: 2min, k: 4}": (120.0, 0.5),
    "{dist: uniform, low: 1min, high: 3min}": (120.0, (120 / math.sqrt(12)) / 120),
    "{dist: deterministic, value: 90s}": (90.0, 0.0),
    "{dist: empirical, values: [60s, 2min, 180s]}": (120.0, math.sqrt(2 / 3) * 60 / 120),
}


@pytest.mark.parametrize(("spec", "moments"), DISTRIBUTIONS.items())
def test_distributions_have_their_stated_mean_and_cv(tmp_path, spec, moments):
    text = BASE.replace("{dist: exponential, mean: 3min}", spec)
    dist = ccsim.load_scenario(write(tmp_path, text)).channels["voice"].handle_time
    mean, cv = moments
    assert dist.expected() == pytest.approx(mean)
    x = dist.sample(np.random.default_rng(7), 400_000)
    assert x.min() > 0
    # 400k draws: the sample mean is within 1% for cv <= 1 (about 6 standard errors).
    assert x.mean() == pytest.approx(mean, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(cv, abs=0.01)


# --- bad input: one line, the file, the field path -----------------------------------------


BAD = [
    # (replace this, with that, expected field path, words in the message)
    ("mean: 3min}", "mean: -3min}", "channels.voice.handle_time.mean", "positive"),
    ("mean: 3min}", "mean: 0s}", "channels.voice.handle_time.mean", "positive"),
    ("horizon: 8h", "horizon: 0", "horizon", "positive"),
    ("horizon: 8h", "horizon: -8h", "horizon", "positive"),
    ("warmup: 0s", "warmup: 9h", "warmup", "shorter than the horizon"),
    ("warmup: 0s", "warmup: -1s", "warmup", "negative"),
    ("warmup: 0s", "warmup: 0s\ninterval: 0min", "interval", "positive"),
    ("warmup: 0s", "warmup: 0s\ninterval: 0.1s", "interval", "100,000 intervals"),
    ("mean: 3min}", "mean: 3mn}", "channels.voice.handle_time.mean", "unknown time unit"),
    ("mean: 3min}", "mean: 3m}", "channels.voice.handle_time.mean", "unknown time unit"),
    ("rate: 3/min", "rate: 3", "channels.voice.arrivals.rate", "needs a unit"),
    ("rate: 3/min", "rate: 3/fortnight", "channels.voice.arrivals.rate", "unknown period"),
    ("rate: 3/min", "rate: 0/min", "channels.voice.arrivals.rate", "greater than 0"),
    (
        "dist: exponential, mean: 3min",
        "dist: weibull, mean: 3min",
        "channels.voice.handle_time",
        "weibull",
    ),
    ("dist: exponential, mean: 3min", "mean: 3min", "channels.voice.handle_time", "'dist'"),
    (
        "dist: exponential, mean: 3min",
        "dist: exponential",
        "channels.voice.handle_time.mean",
        "missing",
    ),
    (
        "dist: exponential, mean: 3min",
        "dist: lognormal, mean: 3min",
        "channels.voice.handle_time.cv",
        "missing",
    ),
    (
        "dist: exponential, mean: 3min",
        "dist: gamma, mean: 3min, cv: -1",
        "channels.voice.handle_time.cv",
        "greater than 0",
    ),
    (
        "dist: exponential, mean: 3min",
        "dist: erlang, mean: 3min, k: 0",
        "channels.voice.handle_time.k",
        "greater than or equal to 1",
    ),
    (
        "dist: exponential, mean: 3min",
        "dist: uniform, low: 3min, high: 1min",
        "channels.voice.handle_time",
        "greater than low",
    ),
    (
        "dist: exponential, mean: 3min",
        "dist: empirical, values: []",
        "channels.voice.handle_time.values",
        "empty",
    ),
    (
        "dist: exponential, mean: 3min",
        "dist: empirical, values: [60s, -1s]",
        "channels.voice.handle_time.values.1",
        "positive",
    ),
    ("target: 0.8", "target: 1.2", "channels.voice.service_level.target", "1"),
    ("target: 0.8", "target: 0", "channels.voice.service_level.target", "greater than 0"),
    ("threshold: 20s", "threshold: -20s", "channels.voice.service_level.threshold", "negative"),
    ("agents: 11", "agents: -1", "sites.0.agents", "greater than or equal to 0"),
    ("agents: 11", "agents: 0", "sites", "no agents"),
    ("agents: 11", "agents: 2.5", "sites.0.agents", "integer"),
    ("handle_time:", "handle_tme:", "channels.voice.handle_tme", "did you mean 'handle_time'"),
    ("horizon: 8h", "horizon: 8h\nhorizn: 9h", "horizn", "unknown key"),
    ("mean: 2min}", "mean: 2min, sd: 3}", "channels.voice.patience.sd", "unknown key"),
    ("agents: 11", "agents: 11\n    agnets: 3", "sites.0.agnets", "did you mean 'agents'"),
    (
        "    service_level: {threshold: 20s, target: 0.8}\n",
        "",
        "channels.voice.service_level",
        "missing",
    ),
    ("name: t", "name: my scenario", "name", "letters"),
    ("  voice:", "  voice mail:", "channels.voice mail", "letters"),
]


@pytest.mark.parametrize(("old", "new", "path", "words"), BAD)
def test_bad_field_is_named(tmp_path, old, new, path, words):
    assert old in BASE
    error = error_for(tmp_path, BASE.replace(old, new, 1))
    assert error.path == path
    assert words in error.message


def test_no_sites(tmp_path):
    text = BASE.split("sites:")[0] + "sites: []\n"
    error = error_for(tmp_path, text)
    assert error.path == "sites" and "empty" in error.message


def test_no_channels(tmp_path):
    text = "name: t\nhorizon: 1h\nchannels: {}\nsites: [{name: a, agents: 1}]\n"
    assert error_for(tmp_path, text).path == "channels"


def test_duplicate_site_names(tmp_path):
    text = BASE + "  - name: main\n    agents: 3\n"
    error = error_for(tmp_path, text)
    assert error.path == "sites" and "unique" in error.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("- a\n- b\n", "expected a mapping"),
        ("just a string\n", "expected a mapping"),
        ("name: [unclosed\n", "invalid YAML at line"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("name: !!python/object/apply:os.system ['echo hacked']\n", "not allowed"),
        ("name: !!python/name:os.system\n", "not allowed"),
    ],
)
def test_unreadable_files(tmp_path, text, words):
    error = error_for(tmp_path, text)
    assert words in error.message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        ccsim.load_scenario(tmp_path / "nope.yaml")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(ConfigError, match="directory"):
        read_yaml_mapping(tmp_path)


def test_several_problems_are_counted_in_one_line(tmp_path):
    text = BASE.replace("horizon: 8h", "horizon: 0").replace("agents: 11", "agents: -1")
    error = error_for(tmp_path, text)
    assert "1 more problem" in error.message


def test_a_typo_is_one_problem_not_also_a_missing_key(tmp_path):
    error = error_for(tmp_path, BASE.replace("handle_time:", "handle_tme:"))
    assert error.message == "unknown key 'handle_tme' (did you mean 'handle_time'?)"


def test_a_scenario_file_may_extend_another(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nhorizon: 1h\nchannels:\n  voice:\n    arrivals: {rate: 1/min}\n"
        "    handle_time: {dist: exponential, mean: 3min}\n"
        "    service_level: {threshold: 20s, target: 0.8}\nsites: [{name: a, agents: 3}]\n"
    )
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nname: child\nchannels:\n  voice:\n    patience: "
        "{dist: exponential, mean: 2min}\nsites: [{name: b, agents: 5}]\n"
    )
    child = ccsim.load_scenario(tmp_path / "child.yaml")
    assert child.name == "child" and child.horizon == 3600
    assert child.channels["voice"].patience.mean == 120  # merged into the base's channel
    assert child.channels["voice"].handle_time.mean == 180
    assert [s.name for s in child.sites] == ["b"]  # lists are replaced


@pytest.mark.parametrize(
    ("text", "message"),
    [("extends: missing.yaml\n", "file not found"), ("extends: loop.yaml\n", "loop")],
)
def test_a_bad_extends_is_one_line(tmp_path, text, message):
    (tmp_path / "loop.yaml").write_text(text)
    with pytest.raises(ccsim.ConfigError) as error:
        ccsim.load_scenario(tmp_path / "loop.yaml")
    assert error.value.path == "extends" and message in error.value.message
