"""Bad input, as an audit found it: each case ends in exit status 2 and one line naming the
field, never a traceback, a hang or a silently wrong result (docs/reliability.md, Inputs).

Cases that used to hang or fill the memory run in a subprocess with a timeout and a memory
cap; the others run ``ccsim.cli.main`` in this process.
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ccsim.cli import main
from ccsim.model import ConfigError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]

# A small scenario: one hour of one voice queue.
VOICE = """\
name: t
horizon: 1h
channels:
  voice:
    arrivals: {rate: 3/min}
    handle_time: {dist: exponential, mean: 3min}
    patience: {dist: exponential, mean: 2min}
    service_level: {threshold: 20s, target: 0.8}
sites:
  - {name: main, agents: 11}
"""

# A chat queue with a daily volume, a profile and busyness.
CHAT = """\
name: t
horizon: 1h
channels:
  chat:
    kind: chat
    arrivals: {volume: 480, busyness: {alpha: 20}}
    handle_time: {dist: gamma, mean: 600s, cv: 0.7}
    patience: {dist: exponential, mean: 300s}
    service_level: {threshold: 60s, target: 0.8}
    concurrency: 3
    stretch: 0.2
sites:
  - {name: main, agents: 11}
"""

# Every field ccsim has, each with a number in it somewhere: the non-finite sweep below
# puts inf, -inf and NaN in each of them.
RICH = """\
name: rich
horizon: 2h
warmup: 10min
interval: 30min
start: 2026-03-03 08:00
timezone: America/New_York
channels:
  voice:
    arrivals: {rate: 2/min}
    handle_time: {dist: lognormal, mean: 390s, cv: 0.9}
    patience: {dist: exponential, mean: 180s}
    service_level: {threshold: 20s, target: 0.8}
    priority: 0
    lines: 40
    retrial: {probability: 0.4, delay: {dist: uniform, low: 1min, high: 10min}}
    callback: {threshold: 3min, acceptance: 0.5, deadline: 2h}
    agent_assist: 0.95
    resolution: 0.7
    escalation: tier2
    repeat: {probability: 0.4, delay: {dist: erlang, mean: 1d, k: 2}}
  tier2:
    handle_time: {dist: empirical, values: [300s, 600s, 900s]}
    patience: {dist: deterministic, value: 5min}
    service_level: {threshold: 30s, target: 0.8}
    priority: 1
  chat:
    kind: chat
    arrivals:
      volume: {mon: 900, tue: 900, wed: 900, thu: 900, fri: 900, sat: 300, sun: 300}
      profile: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                3, 4, 5, 6, 6, 6, 6, 6, 5, 5, 6, 6, 6, 6, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3,
                0, 0, 0, 0, 0, 0, 0, 0]
      busyness: {alpha: 30}
    handle_time: {dist: gamma, mean: 600s, cv: 0.7}
    patience: {dist: exponential, mean: 300s}
    service_level: {threshold: 60s, target: 0.8}
    concurrency: 3
    stretch: 0.2
    silent_abandonment: {share: 0.3, handle_time: {dist: exponential, mean: 30s}}
    bot:
      share: 0.9
      handle_time: {dist: gamma, mean: 120s, cv: 0.8}
      containment: 0.3
      false_containment: 0.15
      return_delay: {dist: exponential, mean: 3h}
      handle_time_multiplier: 1.15
      patience_multiplier: 0.75
      cost_per_session: 0.99
      cost_per_minute: 0.01
      concurrency: 50
  email:
    kind: email
    arrivals: {volume: 300}
    handle_time: {dist: gamma, mean: 420s, cv: 0.6}
    service_level: {threshold: 24h, target: 0.9}
sites:
  - name: home
    cost_per_hour: 38
    shrinkage: 0.15
    night_differential: {start: "22:00", end: "06:00", premium: 0.1}
    proficiency: {voice: 1.1}
    resolution: {voice: 0.65}
    shifts:
      - {start: "07:00", length: 8.5h, headcount: 30,
         breaks: [{after: 4h, length: 30min, within: 1h, paid: false}]}
  - name: near
    cost_per_hour: 22
    agents: 20
routing:
  policy: cheapest
  overflow:
    voice: [{site: home}, {site: near, after: 30s}]
limits: {contacts: 1000000, agents: 1000, intervals: 1000, concurrency: 10,
         profile_bytes: 100000}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def changed(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def assert_refused(code: int, stderr: str, *words: str) -> None:
    """Exit 2, exactly one line on stderr, naming what it should, no traceback."""
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], lines[0]


def run_here(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def _cap_memory() -> None:  # in the child: a case that fills memory fails fast
    limit = 3 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_apart(*args: str, timeout: float = 60) -> tuple[int, str]:
    """``python -m ccsim ARGS`` with a memory cap; a timeout is a failure, not a hang."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ccsim", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            preexec_fn=_cap_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"ccsim {' '.join(args)} ran past {timeout}s")
    return done.returncode, done.stderr


# --- silent wrong results: non-finite numbers -----------------------------------------------

NON_FINITE = [
    # (name, base, old, new, field named)
    (
        "lognormal cv inf",
        VOICE,
        "{dist: exponential, mean: 3min}",
        "{dist: lognormal, mean: 3min, cv: .inf}",
        "handle_time.cv",
    ),
    ("chat stretch inf", CHAT, "stretch: 0.2", "stretch: .inf", "channels.chat.stretch"),
    ("busyness alpha inf", CHAT, "alpha: 20", "alpha: .inf", "busyness.alpha"),
    ("gamma cv inf", CHAT, "cv: 0.7", "cv: .inf", "handle_time.cv"),
    ("rate 1e400/min", VOICE, "rate: 3/min", "rate: 1e400/min", "arrivals.rate"),
    ("duration 1e400min", VOICE, "mean: 3min", "mean: 1e400min", "handle_time.mean"),
    ("duration .inf", VOICE, "mean: 3min", "mean: .inf", "handle_time.mean"),
    ("volume inf", CHAT, "volume: 480", "volume: .inf", "arrivals.volume"),
    ("agents nan", VOICE, "agents: 11", "agents: .nan", "sites.0.agents"),
    (
        "profile weight inf",
        CHAT,
        "volume: 480,",
        "volume: 480, profile: [" + ", ".join(["1"] * 47 + [".inf"]) + "],",
        "arrivals.profile",
    ),
]


@pytest.mark.parametrize(
    ("base", "old", "new", "field"),
    [case[1:] for case in NON_FINITE],
    ids=[case[0] for case in NON_FINITE],
)
def test_non_finite_number_is_refused(tmp_path, capsys, base, old, new, field):
    path = write(tmp_path, changed(base, old, new))
    assert_refused(*run_here(capsys, "run", str(path), "--out", str(tmp_path / "o")), field)


def _numeric_leaves(node, path=()):
    """Dotted paths of every number, duration and rate in a raw scenario mapping."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numeric_leaves(value, (*path, index))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path
    elif isinstance(node, str) and node[:1].isdigit() and ":" not in node:
        yield path  # "3min", "2/min": durations and rates


RICH_DATA = YAML(typ="safe", pure=True).load(RICH)
LEAVES = list(_numeric_leaves(RICH_DATA))


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def test_the_rich_scenario_is_valid_and_covers_every_number():
    scenario = parse_scenario(RICH_DATA)
    assert len(LEAVES) > 80
    assert scenario.limits.contacts == 1_000_000


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "inf", "nan/min"])
def test_every_number_refuses_non_finite_values(value):
    """Every numeric field of a scenario (durations, rates, counts, shares, costs, limits,
    distribution parameters, profile weights) refuses inf and NaN, naming the field."""
    import copy

    for leaf in LEAVES:
        data = copy.deepcopy(RICH_DATA)
        _set(data, leaf, value)
        dotted = ".".join(str(part) for part in leaf)
        with pytest.raises(ConfigError) as error:
            parse_scenario(data)
        # The field itself, or the mapping that holds it (a distribution, a volume).
        assert dotted.startswith(error.value.path.split(" ")[0]), (dotted, str(error.value))
        assert error.value.path not in ("", "(top level)"), (dotted, str(error.value))


def test_override_with_a_non_finite_value_is_refused(tmp_path, capsys):
    write(tmp_path, VOICE, "base.yaml")
    experiment = write(
        tmp_path,
        "name: e\nscenario: base.yaml\nreplications: 2\n"
        "scenarios:\n  a: {sites.0.cost_per_hour: .inf}\n",
        "e.yaml",
    )
    code, err = run_here(capsys, "experiment", str(experiment), "--out", str(tmp_path / "o"))
    assert_refused(code, err, "scenarios.a", "sites.0.cost_per_hour")
    grid = write(
        tmp_path,
        "name: e\nscenario: base.yaml\nreplications: 2\n"
        "grid: {channels.voice.agent_assist: [1, .nan]}\n",
        "g.yaml",
    )
    code, err = run_here(capsys, "experiment", str(grid), "--out", str(tmp_path / "o"))
    assert_refused(code, err, "grid", "channels.voice.agent_assist")


@pytest.mark.parametrize(
    "field",
    [
        "seed: .inf",
        "replications: .inf",
        "replications: {min: 2, max: 10, batch: 2, relative_half_width: .nan, kpis: [asa]}",
    ],
)
def test_experiment_file_numbers_are_finite(tmp_path, capsys, field):
    write(tmp_path, VOICE, "base.yaml")
    replications = "" if field.startswith("replications") else "replications: 2\n"
    experiment = write(tmp_path, f"name: e\nscenario: base.yaml\n{replications}{field}\n", "e.yaml")
    code, err = run_here(capsys, "experiment", str(experiment), "--out", str(tmp_path / "o"))
    assert_refused(code, err, field.split(":")[0])


CLI_OPTIONS = [
    (["--rate", "1e400/min", "--aht", "3min", "--agents", "10"], "--rate"),
    (["--rate", "nan/min", "--aht", "3min", "--agents", "10"], "--rate"),
    (["--rate", "3/min", "--aht", "1e400s", "--agents", "10"], "--aht"),
    (["--rate", "3/min", "--aht", "3min", "--agents", "10", "--patience", "inf"], "--patience"),
    (["--rate", "3/min", "--aht", "3min", "--agents", "10", "--threshold", "nan"], "--threshold"),
    (["--rate", "3/min", "--aht", "3min", "--agents", "1-10000000000"], "--agents"),
    (["--rate", "3/min", "--aht", "3min", "--agents", "1-5000"], "--agents"),
]


@pytest.mark.parametrize(
    ("options", "named"), CLI_OPTIONS, ids=[" ".join(c[0]) for c in CLI_OPTIONS]
)
def test_erlang_options_are_finite_and_bounded(capsys, options, named):
    with pytest.raises(SystemExit) as stop:
        main(["erlang", *options])
    assert_refused(stop.value.code, capsys.readouterr().err, named)


@pytest.mark.parametrize(
    "options",
    [
        ["--shift-lengths", "25h"],
        ["--method", "search", "--full-time", "8h,30h"],
        ["--method", "search", "--part-time", "1500min"],
    ],
    ids=["shift-lengths", "full-time", "part-time"],
)
def test_a_shift_longer_than_a_day_is_a_usage_error(tmp_path, capsys, options):
    # It used to reach the shift model and end in pydantic's raw message.
    with pytest.raises(SystemExit) as stop:
        main(["staff", str(ROOT / "configs/example.yaml"), *options, "--out", str(tmp_path)])
    assert_refused(stop.value.code, capsys.readouterr().err, options[-2], "at most 24h")
    assert not any(tmp_path.iterdir())


ERLANG_DOMAIN = [
    (["--rate", "1e300/min", "--aht", "3min", "--agents", "10"], "--rate x --aht"),
    (["--rate", "1/1e-300s", "--aht", "3min", "--agents", "5", "--patience", "2min"], "--rate"),
    (
        ["--rate", "1e-300/min", "--aht", "3min", "--agents", "1", "--patience", "1e-300s"],
        "--rate x --aht",
    ),
    (["--rate", "3/min", "--aht", "3min", "--agents", "1", "--patience", "1e-9s"], "--patience"),
    (["--rate", "3/min", "--aht", "3min", "--agents", "1", "--patience", "1000d"], "--patience"),
]


@pytest.mark.parametrize(
    ("options", "named"), ERLANG_DOMAIN, ids=[" ".join(c[0]) for c in ERLANG_DOMAIN]
)
def test_erlang_figures_outside_the_formulas_domain_are_refused(capsys, options, named):
    """Where the Erlang formulas divide by zero, leave the domain of log, or take minutes."""
    assert_refused(*run_here(capsys, "erlang", *options), named)


# --- impossible values -------------------------------------------------------------------

IMPOSSIBLE = [
    (
        "shift of 1000 days",
        VOICE,
        "agents: 11}",
        "shifts: [{start: '08:00', length: 1000d, headcount: 11}]}",
        "sites.0.shifts.0.length",
    ),
    ("interval of 3 days", CHAT, "horizon: 1h", "horizon: 7d\ninterval: 3d", "interval"),
    ("horizon 10000000d", VOICE, "horizon: 1h", "horizon: 10000000d", "horizon"),
    ("horizon past 9999", VOICE, "horizon: 1h", "horizon: 7d\nstart: 9999-12-30", "horizon"),
    (
        "lognormal cv 1e200",
        VOICE,
        "{dist: exponential, mean: 3min}",
        "{dist: lognormal, mean: 3min, cv: 1.0e+200}",
        "handle_time.cv",
    ),
    (
        "erlang k 10**25",
        VOICE,
        "exponential, mean: 3min",
        "erlang, k: " + "9" * 25 + ", mean: 3min",
        "k",
    ),
    ("5,000-digit integer", VOICE, "agents: 11", "agents: " + "9" * 5000, "5,000 digits"),
    ("gamma cv 1e-300", CHAT, "cv: 0.7", "cv: 1.0e-300", "channels.chat.handle_time.cv"),
    (
        "profile weights whose sum overflows",
        CHAT,
        "volume: 480,",
        "volume: 480, profile: [" + ", ".join(["1.0e+308"] * 48) + "],",
        "arrivals.profile",
    ),
    ("dist given as a list", VOICE, "dist: exponential", "dist: [exponential]", "dist"),
    ("complex mapping key", VOICE, "  - {name: main", "  - {? [a, b]: 1, name: main", "key"),
    ("lone surrogate", VOICE, "name: t\n", 'name: t\ndescription: "\\uD800"\n', "description"),
]


@pytest.mark.parametrize(
    ("base", "old", "new", "field"),
    [case[1:] for case in IMPOSSIBLE],
    ids=[case[0] for case in IMPOSSIBLE],
)
def test_impossible_value_is_refused(tmp_path, capsys, base, old, new, field):
    path = write(tmp_path, changed(base, old, new))
    assert_refused(*run_here(capsys, "run", str(path), "--out", str(tmp_path / "o")), field)


def test_deep_nesting_is_one_line(tmp_path, capsys):
    path = write(tmp_path, VOICE + "description: " + "[" * 3000 + "]" * 3000 + "\n")
    assert_refused(*run_here(capsys, "run", str(path)), "nested")
    path = write(
        tmp_path, VOICE.replace("name: t", "name: t\nx:" + " {a:" * 100 + " 1" + "}" * 100)
    )
    assert_refused(*run_here(capsys, "run", str(path)), "nested more than 64 levels")


def test_long_extends_chain_is_one_line(tmp_path, capsys):
    write(tmp_path, VOICE, "f0.yaml")
    for number in range(1, 1200):
        write(tmp_path, f"extends: f{number - 1}.yaml\n", f"f{number}.yaml")
    code, err = run_here(capsys, "run", str(tmp_path / "f1199.yaml"))
    assert_refused(code, err, "extends", "more than 32 files")
    # A chain within the limit still works.
    assert load_scenario(tmp_path / "f20.yaml").name == "t"


def test_symlink_loops_are_one_line(tmp_path, capsys):
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    assert_refused(*run_here(capsys, "run", str(tmp_path / "loop.yaml")), "loop.yaml")
    extends = write(tmp_path, "extends: loop.yaml\n" + VOICE, "x.yaml")
    assert_refused(*run_here(capsys, "run", str(extends)), "extends", "symbolic links")
    experiment = write(tmp_path, "name: e\nscenario: loop.yaml\nreplications: 2\n", "e.yaml")
    code, err = run_here(capsys, "experiment", str(experiment), "--out", str(tmp_path / "o"))
    assert_refused(code, err, "scenario", "symbolic links")


def test_unexpected_recursion_or_memory_error_is_one_line(tmp_path, capsys, monkeypatch):
    import ccsim.model

    for error in (RecursionError, MemoryError):

        def boom(path, error=error):
            raise error()

        monkeypatch.setattr(ccsim.model, "load_scenario", boom)
        assert_refused(*run_here(capsys, "run", str(write(tmp_path, VOICE))), error.__name__)


# --- hangs and memory: limits on what a run costs -----------------------------------------


def _loop(base: str, lines: str, horizon: str = "1h") -> str:
    """``base`` with loop settings added to its voice channel, over ``horizon``."""
    text = changed(base, "    service_level:", lines + "    service_level:")
    return changed(text, "horizon: 1h", f"horizon: {horizon}")


HANGS = [
    (
        "horizon 100000d",
        changed(VOICE, "horizon: 1h", "horizon: 100000d"),
        ("horizon", "limits.intervals"),
    ),
    (
        "rate 1e9/min",
        changed(VOICE, "rate: 3/min", "rate: 1e9/min"),
        ("channels.voice", "limits.contacts"),
    ),
    (
        "10^12 agents",
        changed(VOICE, "agents: 11", "agents: 1000000000000"),
        ("sites.0.agents", "limits.agents"),
    ),
    (
        "shift headcounts",
        changed(VOICE, "agents: 11}", "shifts: [{start: '08:00', length: 8h, headcount: 200000}]}"),
        ("sites.0.shifts", "limits.agents"),
    ),
    (
        "chat concurrency 10^9",
        changed(CHAT, "concurrency: 3", "concurrency: 1000000000"),
        ("channels.chat.concurrency", "limits.concurrency"),
    ),
    (
        "profile from /dev/zero",
        changed(CHAT, "volume: 480,", "volume: 480, profile: {file: /dev/zero},"),
        ("arrivals.profile", "not a regular file"),
    ),
    (
        "repeats in no time",
        _loop(
            VOICE,
            "    resolution: 0\n"
            "    repeat: {probability: 1, delay: {dist: uniform, low: 0s, high: 1.0e-300s}}\n",
        ),
        ("channels.voice.repeat.delay", "at least 1s"),
    ),
    (
        "retrials every microsecond",
        _loop(
            VOICE,
            "    lines: 1\n"
            "    retrial: {probability: 1, delay: {dist: deterministic, value: 0.000001s}}\n",
        ),
        ("channels.voice.retrial.delay", "at least 1s"),
    ),
    (
        "retrials every second for a year",
        _loop(
            VOICE,
            "    lines: 1\n"
            "    retrial: {probability: 1, delay: {dist: deterministic, value: 1s}}\n",
            horizon="365d\ninterval: 1d",
        ),
        ("channels.voice", "limits.contacts"),
    ),
    (
        "repeats every second for a week",
        _loop(
            VOICE,
            "    resolution: 0\n"
            "    repeat: {probability: 1, delay: {dist: deterministic, value: 1s}}\n",
            horizon="7d",
        ),
        ("channels.voice", "limits.contacts"),
    ),
]


@pytest.mark.parametrize(("text", "words"), [c[1:] for c in HANGS], ids=[c[0] for c in HANGS])
def test_a_run_too_big_is_refused_up_front(tmp_path, text, words):
    path = write(tmp_path, text)
    code, err = run_apart("run", str(path), "--reps", "1", "--out", str(tmp_path / "o"))
    assert_refused(code, err, *words)


def test_profile_from_a_pipe_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    path = write(tmp_path, changed(CHAT, "volume: 480,", "volume: 480, profile: {file: pipe.csv},"))
    assert_refused(
        *run_apart("run", str(path), "--out", str(tmp_path / "o"), timeout=30), "profile"
    )


def test_limits_can_be_raised(tmp_path):
    """Each limit is a field of the scenario's ``limits``: raised, the same file loads."""
    weights = "\n".join(["1"] * 48) + "\n"
    (tmp_path / "w.csv").write_text(weights)
    small = {
        "limits: {profile_bytes: 50}": CHAT.replace(
            "volume: 480,", "volume: 480, profile: {file: w.csv},"
        ),
        "limits: {intervals: 10}": VOICE.replace("horizon: 1h", "horizon: 1h\ninterval: 5min"),
        "limits: {agents: 5}": VOICE,
        "limits: {concurrency: 2}": CHAT,
        "limits: {contacts: 100}": VOICE,
    }
    for limit, text in small.items():
        field = limit.split("{")[1].split(":")[0]
        with pytest.raises(ConfigError, match=f"limits.{field}"):
            load_scenario(write(tmp_path, text + limit + "\n"))
    raised = changed(VOICE, "rate: 3/min", "rate: 1e9/min") + "limits: {contacts: 1000000000000}\n"
    assert load_scenario(write(tmp_path, raised)).limits.contacts == 10**12


@pytest.mark.slow
def test_shipped_scenarios_are_well_inside_the_limits():
    from ccsim.model.limits import contact_bound

    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        if path.name.startswith("_"):
            continue  # a fragment that others extend
        scenario = load_scenario(path)
        limits = scenario.limits
        # The study's week of a 300-agent centre bounds at 1.4 million contacts (every return
        # and tier at its most; about 230,000 happen): a fifth of the default limit at most.
        assert contact_bound(scenario) < limits.contacts / 5, path
        assert scenario.horizon / scenario.interval < limits.intervals / 10, path


# --- resources: files that are not files, work beyond any limit ------------------------------

EXPERIMENT = """\
name: e
scenario: s.yaml
replications: 2
"""


@pytest.mark.parametrize("kind", ["device", "pipe"])
def test_a_scenario_that_is_not_a_regular_file_is_refused_without_reading(tmp_path, kind):
    """/dev/zero used to be read until the memory ran out, a pipe to wait for a writer."""
    if kind == "pipe":
        target = tmp_path / "s.yaml"
        os.mkfifo(target)
    else:
        target = Path("/dev/zero")
    out = str(tmp_path / "o")
    code, err = run_apart("run", str(target), "--out", out, timeout=15)
    assert_refused(code, err, str(target), "not a regular file")
    experiment = write(tmp_path, changed(EXPERIMENT, "s.yaml", str(target)), "e.yaml")
    code, err = run_apart("experiment", str(experiment), "--out", out, timeout=15)
    assert_refused(code, err, str(target), "not a regular file")


def test_an_experiment_file_that_is_a_pipe_is_refused(tmp_path):
    os.mkfifo(tmp_path / "e.yaml")
    code, err = run_apart("experiment", str(tmp_path / "e.yaml"), timeout=15)
    assert_refused(code, err, "e.yaml", "not a regular file")


def test_a_scenario_file_above_the_size_limit_is_refused(tmp_path, capsys, monkeypatch):
    from ccsim.model import yaml_reader

    monkeypatch.setattr(yaml_reader, "YAML_BYTES", 100)
    path = write(tmp_path, VOICE + "#" * 100 + "\n")
    code, err = run_here(capsys, "run", str(path), "--out", str(tmp_path / "o"))
    assert_refused(code, err, "s.yaml", "larger than")


_GRID_100 = "[" + ", ".join(str(n) for n in range(1, 101)) + "]"

TOO_MUCH_WORK = [
    # (name, experiment file, words in the one line)
    ("replications 1e9", "replications: 1e9\n", ["replications:", "1,000,000 a run"]),
    (
        "stopping rule max 1e12",
        "replications: {min: 2, max: 1e12, batch: 10, relative_half_width: 0.1, kpis: [asa]}\n",
        ["replications.max", "1,000,000"],
    ),
    (
        "grid of 100 x 100 x 100",
        "replications: 2\ngrid:\n"
        f"  sites.0.agents: {_GRID_100}\n"
        f"  channels.voice.arrivals.rate: {_GRID_100}\n"
        f"  channels.voice.handle_time.mean: {_GRID_100}\n",
        ["grid", "1,000,000 grid points", "10,000 scenarios"],
    ),
    (
        "100 scenarios x 100,000 replications",
        f"replications: 100000\ngrid:\n  sites.0.agents: {_GRID_100}\n",
        ["replications:", "10,000,000 replications in all"],
    ),
    (
        "frontier replications 1e7",
        "replications: 2\nfrontier: {scales: [0.9, 1.0], replications: 1e7}\n",
        ["frontier.replications", "1,000,000"],
    ),
]


@pytest.mark.parametrize(
    ("text", "words"), [c[1:] for c in TOO_MUCH_WORK], ids=[c[0] for c in TOO_MUCH_WORK]
)
def test_an_experiment_beyond_its_limits_is_refused_up_front(tmp_path, text, words):
    """Each used to build its seeds, blocks or scenarios until MemoryError (or for hours)."""
    write(tmp_path, VOICE)
    path = write(tmp_path, "name: e\nscenario: s.yaml\n" + text, "e.yaml")
    code, err = run_apart("experiment", str(path), "--out", str(tmp_path / "o"), timeout=20)
    assert_refused(code, err, "e.yaml", *words)


def test_reps_beyond_the_limit_are_refused_up_front(tmp_path):
    path = write(tmp_path, VOICE)
    out = str(tmp_path / "o")
    code, err = run_apart("run", str(path), "--reps", "10000000", "--out", out, timeout=20)
    assert_refused(code, err, "--reps", "1,000,000")
    grid = "name: e\nscenario: s.yaml\nreplications: 2\ngrid: {sites.0.agents: [10, 11, 12]}\n"
    experiment = write(tmp_path, grid, "e.yaml")
    code, err = run_apart("experiment", str(experiment), "--reps", "500000", "--out", out)
    assert_refused(code, err, "--reps", "1,500,000 replications in all")


def test_the_command_line_and_the_study_share_the_replication_limit():
    from ccsim.cli.options import MAX_REPS
    from ccsim.study.spec import MAX_REPLICATIONS

    assert MAX_REPS == MAX_REPLICATIONS


def test_workers_are_no_more_than_the_tasks(monkeypatch):
    """``--jobs 40`` for 2 replications used to start 40 loky workers."""
    from ccsim.experiment import backends

    started = []

    class Recording:  # joblib's Parallel, run in this process
        def __init__(self, n_jobs, **_):
            started.append(n_jobs)

        def __call__(self, calls):
            for function, args, kwargs in calls:
                yield function(*args, **kwargs)

    monkeypatch.setattr(backends, "Parallel", Recording)
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    with backends.open_executor("loky", 40) as executor:
        assert sorted(executor.map_unordered(abs, [(-1,), (-2,)])) == [1, 2]
        assert list(executor.map_unordered(abs, [])) == []
    assert started == [2]


def test_workers_beyond_four_per_core_are_refused(monkeypatch, capsys, tmp_path):
    """``--jobs 100000`` used to start workers without end."""
    from ccsim.cli.options import jobs
    from ccsim.experiment.backends import BackendError, open_executor

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(ValueError, match="at most 8 workers"):
        jobs("100000")
    assert jobs("8") == 8
    with pytest.raises(BackendError, match="at most 8"):
        open_executor("loky", 100_000)
    path = write(tmp_path, VOICE)
    with pytest.raises(SystemExit) as stop:
        main(["run", str(path), "--reps", "1", "--jobs", "9", "--out", str(tmp_path / "o")])
    assert_refused(stop.value.code, capsys.readouterr().err, "--jobs", "at most 8 workers")


def _in_a_child(code: str) -> str:
    """Run ``code`` in a Python process of its own (120 s at most) and return its output.
    A Dask client that failed half-way is finalised by the garbage collector later, and in
    a test process that later start of a cluster deadlocks (distributed's loop runner): the
    Dask refusals are therefore checked where nothing runs after them."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout + done.stderr


def test_a_dask_scheduler_that_is_malformed_or_unreachable_is_one_line(tmp_path):
    """A malformed or unreachable address used to end in a traceback."""
    pytest.importorskip("distributed")
    out = _in_a_child(
        "from ccsim.experiment import backends\n"
        "backends.CONNECT_TIMEOUT = 0.5\n"
        "for address in ('not an address', 'foo://x:1', 'tcp://127.0.0.1:1'):\n"
        "    try:\n"
        "        backends.open_executor('dask', 1, address)\n"
        "    except backends.BackendError as refusal:\n"
        "        print('refused:', refusal)\n"
    )
    refusals = [line for line in out.splitlines() if line.startswith("refused:")]
    assert len(refusals) == 3, out
    for line, words in zip(
        refusals, ("missing port", "unknown address scheme", "cannot connect"), strict=True
    ):
        assert words in line, line
    write(tmp_path, VOICE)
    path = write(tmp_path, EXPERIMENT, "e.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "ccsim", "experiment", str(path), "--backend", "dask",
         "--scheduler", "nowhere", "--out", str(tmp_path / "o"), "--no-report",
         "--no-progress"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert_refused(done.returncode, done.stderr, "'nowhere'", "cannot connect")


def test_a_dask_scheduler_without_workers_is_refused_after_a_timeout():
    """A scheduler with no workers used to take the tasks and never return."""
    pytest.importorskip("distributed")
    out = _in_a_child(
        "import distributed\n"
        "from ccsim.experiment import backends\n"
        "backends.WORKERS_TIMEOUT = 0.5\n"
        "with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None)"
        " as empty:\n"
        "    try:\n"
        "        backends.open_executor('dask', 1, empty.scheduler_address)\n"
        "    except backends.BackendError as refusal:\n"
        "        print('refused:', refusal)\n"
    )
    assert "refused: " in out and "no worker joined within 0.5 s" in out, out


@pytest.mark.parametrize("ends_in", ["refusal", "success"])
def test_library_warnings_never_precede_the_one_line(capsys, monkeypatch, ends_in):
    import warnings

    import ccsim.cli.schema as schema_command
    from ccsim.model.errors import UserError

    def handler(args):
        warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=1)
        if ends_in == "refusal":
            raise UserError("x.yaml: channels: a refusal")
        print("done")
        return 0

    monkeypatch.setattr(schema_command, "schema", handler)
    code = main(["schema"])
    captured = capsys.readouterr()
    if ends_in == "refusal":
        assert_refused(code, captured.err, "x.yaml: channels: a refusal")
    else:
        assert code == 0 and captured.out == "done\n"
        assert captured.err == (
            "ccsim: warning: invalid value encountered in divide (RuntimeWarning)\n"
        )
