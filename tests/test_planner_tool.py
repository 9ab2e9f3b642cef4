"""ccsim as a workforce planner uses it: the defects found by trying it, each pinned.

Experiments whose scenarios have different channels; durations without units; YAML 1.1
booleans; errors without a line; intervals of shares outside [0, 1]; the manifest of a run
from Python and of a resumed run; the stopping rule's verdict; progress without a
terminal; start-up cost; the editors' schema; the docs that name code that exists.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ccsim
from ccsim.cli import main
from ccsim.experiment.progress import Progress, finish, progress
from ccsim.model import ConfigError, load_scenario, read_yaml_mapping
from ccsim.model.loading import read_scenario_mapping

ROOT = Path(__file__).resolve().parents[1]

VOICE = """\
name: t
horizon: 2h
channels:
  voice:
    arrivals: {rate: 120/h}
    handle_time: {dist: exponential, mean: 4.5min}
    patience: {dist: exponential, mean: 90s}
    service_level: {threshold: 20s, target: 0.8}
sites:
  - {name: main, agents: 11}
"""

TWO_CHANNELS = """\
name: t2
horizon: 2h
channels:
  voice:
    arrivals: {rate: 120/h}
    handle_time: {dist: exponential, mean: 4.5min}
    patience: {dist: exponential, mean: 90s}
    service_level: {threshold: 20s, target: 0.8}
  chat_manila:
    kind: chat
    arrivals: {rate: 60/h}
    handle_time: {dist: exponential, mean: 10min}
    patience: {dist: exponential, mean: 5min}
    service_level: {threshold: 60s, target: 0.8}
sites:
  - {name: main, agents: 11, skills: [voice]}
  - {name: manila, agents: 12, timezone: Asia/Manila, skills: [chat_manila], cost_per_hour: 13}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    return caught.value


# --- scenarios with different channels -----------------------------------------------------


def test_experiment_whose_scenarios_have_different_channels_prints_and_reports(tmp_path, capsys):
    write(tmp_path, "today.yaml", VOICE)
    write(tmp_path, "manila.yaml", TWO_CHANNELS)
    experiment = write(
        tmp_path,
        "e.yaml",
        "name: e\nscenario: today.yaml\nreplications: 2\nbaseline: today\n"
        "scenarios:\n  today: {}\n  manila: {scenario: manila.yaml}\n",
    )
    code = main(["experiment", str(experiment), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err
    # The scenario without the channel shows '-' where the other has a figure.
    line = next(line for line in out.splitlines() if line.strip().startswith("chat_manila"))
    assert line.split()[1] == "-"
    assert (tmp_path / "out" / "report.html").is_file()
    assert main(["report", str(tmp_path / "out")]) == 0


# --- durations must say their unit ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "fix"),
    [
        (
            "mean: 4.5min}",
            "mean: 270}",
            ":6:38: channels.voice.handle_time.mean",
            "'270s' or '4.5min'",
        ),
        (
            "mean: 4.5min}",
            "mean: 4.5}",
            ":6:38: channels.voice.handle_time.mean",
            "'4.5s' or '4.5min'",
        ),
        ("horizon: 2h", "horizon: 7200", ":2:1: horizon", "'7200s' or '2h'"),
        ("threshold: 20s", "threshold: '20'", "service_level.threshold", "'20s' or '20min'"),
    ],
)
def test_a_bare_number_for_a_duration_is_refused_with_its_fix(tmp_path, old, new, where, fix):
    error = error_of(write(tmp_path, "s.yaml", VOICE.replace(old, new)))
    assert where in str(error) and fix in str(error)
    assert "\n" not in str(error)


def test_a_bare_duration_in_an_experiment_override_is_refused(tmp_path, capsys):
    write(tmp_path, "base.yaml", VOICE)
    experiment = write(
        tmp_path,
        "e.yaml",
        "name: e\nscenario: base.yaml\nreplications: 2\n"
        "scenarios:\n  a: {}\n  slow:\n    channels.voice.handle_time.mean: 300\n",
    )
    assert main(["experiment", str(experiment), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ccsim: {experiment}:7:5: scenarios.slow.channels.voice")
    assert "'300s' or '5min'" in err


def test_a_bare_duration_on_the_command_line_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["erlang", "--rate", "600/h", "--aht", "270", "--agents", "50"])
    assert stop.value.code == 2
    assert "--aht: 270 has no unit: write '270s' or '4.5min'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90 sec", 90), ("90 seconds", 90), ("4.5 mins", 270), ("4.5 minutes", 270),
     ("2 hr", 7200), ("2 hours", 7200), ("1 day", 86400), ("2 days", 172800)],
)  # fmt: skip
def test_the_spellings_people_write_are_durations(tmp_path, written, seconds):
    path = write(tmp_path, "s.yaml", VOICE.replace("mean: 4.5min}", f"mean: {written}}}"))
    assert load_scenario(path).channels["voice"].handle_time.mean == seconds


@pytest.mark.parametrize("rate", ["120/hour", "120/hr", "120 per hour", "2/min", "2 per minute"])
def test_the_spellings_people_write_are_rates(tmp_path, rate):
    path = write(tmp_path, "s.yaml", VOICE.replace("rate: 120/h", f"rate: {rate}"))
    assert load_scenario(path).channels["voice"].arrivals.rate == pytest.approx(120 / 3600)


@pytest.mark.slow
def test_every_shipped_scenario_and_experiment_still_loads():
    for path in sorted([*(ROOT / "configs").rglob("*.yaml"), *(ROOT / "tutorials").glob("*.yaml")]):
        if path.name.startswith("_"):
            continue  # a fragment other files extend
        data = read_yaml_mapping(path)
        if "scenario" in data and "channels" not in data:
            ccsim.load_experiment(path)
        else:
            load_scenario(path)
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        ccsim.load_experiment(path)


# --- YAML 1.2 and positions ----------------------------------------------------------------


def test_yaml_1_2_keeps_no_off_and_yes_as_text(tmp_path):
    text = VOICE.replace("name: main", "name: no").replace("name: t\n", "name: off\n")
    scenario = load_scenario(write(tmp_path, "s.yaml", text))
    assert scenario.name == "off"
    assert [site.name for site in scenario.sites] == ["no"]
    data = read_yaml_mapping(write(tmp_path, "y.yaml", "a: yes\nb: on\nc: 21:00\nd: true\n"))
    assert data == {"a": "yes", "b": "on", "c": "21:00", "d": True}


def test_every_field_error_names_line_and_column(tmp_path):
    path = write(tmp_path, "s.yaml", VOICE.replace("agents: 11", "agentz: 11"))
    assert str(error_of(path)).startswith(f"{path}:10:18: sites.0.agentz: unknown key")
    path = write(tmp_path, "d.yaml", VOICE.replace("name: t\n", "name: t\nname: u\n"))
    assert "line 2, column 1: duplicate key 'name'" in str(error_of(path))


def test_a_field_inherited_through_extends_is_reported_in_its_own_file(tmp_path):
    base = write(tmp_path, "base.yaml", VOICE.replace("mean: 90s", "mean: 90"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\n")
    assert str(error_of(child)).startswith(f"{base}:7:35: channels.voice.patience.mean")
    assert read_scenario_mapping(child)["name"] == "child"


# --- intervals of shares -------------------------------------------------------------------


def test_intervals_of_shares_stay_within_0_and_1_with_two_replications():
    scenario = load_scenario(ROOT / "configs" / "example.yaml")
    summary = ccsim.summarise(ccsim.run_replications(scenario, 2, seed=3))
    shares = summary[summary.kpi.isin(["service_level", "p_wait", "abandon_rate", "occupancy"])]
    assert (shares.half_width > 0).any()
    assert (shares.ci_low >= 0).all() and (shares.ci_high <= 1).all()
    assert (summary.ci_low.dropna() >= 0).all()  # no KPI is negative


# --- the manifest --------------------------------------------------------------------------


def test_manifest_records_the_python_call_and_the_wall_time_of_every_session(tmp_path):
    write(tmp_path, "base.yaml", VOICE)
    experiment = write(tmp_path, "e.yaml", "name: e\nscenario: base.yaml\nreplications: 2\n")
    first = ccsim.run_experiment(experiment, out=tmp_path / "o", reps=2).manifest
    assert (
        first["command"]
        == f"ccsim.run_experiment({str(experiment)!r}, reps=2, out="
        + repr(str(tmp_path / "o"))
        + ")"
    )
    second = ccsim.run_experiment(experiment, out=tmp_path / "o", reps=4).manifest
    assert second["sessions"] == 2
    assert second["wall_time_total_s"] >= first["wall_time_s"] + second["wall_time_s"] - 0.01


# --- the stopping rule ---------------------------------------------------------------------


def test_the_stopping_rule_says_what_decided_it_and_may_target_differences(tmp_path, capsys):
    write(tmp_path, "base.yaml", VOICE)
    experiment = write(
        tmp_path,
        "e.yaml",
        "name: e\nscenario: base.yaml\nbaseline: a\n"
        "replications: {min: 4, max: 8, batch: 4, relative_half_width: 0.001,"
        " kpis: [asa], on: differences}\n"
        "scenarios:\n  a: {}\n  more: {sites.0.agents: 12}\n",
    )
    result = ccsim.run_experiment(experiment, out=tmp_path / "o")
    assert not result.rule.met and result.rule.kpi == "asa" and result.rule.scenario == "more"
    verdict = result.manifest["stopping_rule_result"]
    assert verdict["on"] == "differences" and verdict["relative_half_width"] > 0.001
    assert main(["experiment", str(experiment), "--out", str(tmp_path / "o"), "--no-report"]) == 0
    assert "NOT met at the maximum of 8 replications: difference to the baseline of more" in (
        capsys.readouterr().out
    )


def test_differences_need_a_second_scenario(tmp_path):
    write(tmp_path, "base.yaml", VOICE)
    experiment = write(
        tmp_path,
        "e.yaml",
        "name: e\nscenario: base.yaml\nreplications: {min: 2, max: 4, batch: 2,"
        " relative_half_width: 0.1, kpis: [asa], on: differences}\n",
    )
    with pytest.raises(ConfigError, match="replications.on"):
        ccsim.load_experiment(experiment)


# --- progress without a terminal -----------------------------------------------------------


def test_without_a_terminal_progress_is_a_plain_line():
    stream = io.StringIO()
    bar = progress(10, True, stream=stream)
    assert isinstance(bar, Progress)
    line = Progress(10, stream, every=0.0)
    line.update(4)
    assert re.search(r"ccsim: 4/10 replications \(40%\), \d+s", stream.getvalue())
    assert "\r" not in stream.getvalue()


def test_a_bar_finished_early_says_done_once():
    """A stopping rule met at half its maximum ends the bar at 100%, with one closing line
    however often it is closed (the runner closes it after the main rounds and on the way out)."""
    stream = io.StringIO()
    bar = Progress(10, stream, every=0.0)
    bar.update(5)
    finish(bar, 5)
    bar.close()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert re.fullmatch(r"ccsim: 5/5 replications \(100%\), \d+s", lines[-1])
    assert sum("5/5" in line for line in lines) == 1
    done = Progress(3, stream := io.StringIO(), every=0.0)
    done.update(3)  # its line says 3/3 already
    done.close()
    assert stream.getvalue().count("3/3") == 1


# --- start-up, help, schema ----------------------------------------------------------------


def test_importing_the_command_line_loads_no_heavy_library():
    code = (
        "import sys, ccsim.cli\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'pyarrow', 'simpy')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _valid(value, schema, root) -> bool:
    """A small JSON Schema check (jsonschema is not a dependency): the keywords pydantic's
    schemas of ccsim's files use."""
    if "$ref" in schema:
        return _valid(value, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    if "anyOf" in schema and not any(_valid(value, s, root) for s in schema["anyOf"]):
        return False
    if "oneOf" in schema and sum(_valid(value, s, root) for s in schema["oneOf"]) != 1:
        return False
    if "allOf" in schema and not all(_valid(value, s, root) for s in schema["allOf"]):
        return False
    if "const" in schema and value != schema["const"]:
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    kinds = {
        "string": str,
        "object": dict,
        "array": list,
        "boolean": bool,
        "null": type(None),
        "integer": int,
        "number": (int, float),
    }
    kind = schema.get("type")
    if kind is not None and (
        not isinstance(value, kinds[kind]) or (kind in ("integer", "number") and value is True)
    ):
        return False
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return False
    if isinstance(value, dict):
        needed = schema.get("if", {}).get("required", [])
        otherwise = "if" in schema and not all(k in value for k in needed)
        if otherwise and not _valid(value, schema.get("else", {}), root):
            return False
        if any(k not in value for k in schema.get("required", [])):
            return False
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                if not _valid(item, properties[key], root):
                    return False
            elif extra is False or (isinstance(extra, dict) and not _valid(item, extra, root)):
                return False
    if isinstance(value, list) and "items" in schema:
        return all(_valid(item, schema["items"], root) for item in value)
    return True


@pytest.mark.slow
def test_the_schema_accepts_every_shipped_file_and_flags_a_bare_duration(tmp_path):
    from ccsim.model.schema import scenario_schema
    from ccsim.study.spec import experiment_schema

    scenario, experiment = scenario_schema(), experiment_schema()
    json.dumps(scenario), json.dumps(experiment)  # plain JSON
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        if path.name.startswith("_"):
            continue
        data = read_scenario_mapping(path)
        assert _valid(data, scenario, scenario), path
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        assert _valid(read_yaml_mapping(path), experiment, experiment), path
    data = read_yaml_mapping(write(tmp_path, "s.yaml", VOICE))
    assert _valid(data, scenario, scenario)
    data["channels"]["voice"]["handle_time"]["mean"] = 270
    assert not _valid(data, scenario, scenario)
    data["channels"]["voice"]["handle_time"]["mean"] = "4.5 minutes"
    data["channels"]["voice"]["arrivals"]["rate"] = "3 per min"
    assert _valid(data, scenario, scenario)
    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["title"] == "ccsim scenario"


# --- ccsim erlang and ccsim run ------------------------------------------------------------


def test_erlang_solves_for_agents_and_marks_the_row(capsys):
    args = ["erlang", "--rate", "600/h", "--aht", "4.5min", "--target", "80/20s"]
    assert main([*args, "--shrinkage", "30%", "--agents", "40-55"]) == 0
    out = capsys.readouterr().out
    marked = [line for line in out.splitlines() if line.startswith(">")]
    assert marked[0].split()[1] == "51"  # Erlang C: 51 agents meet 80/20 at 45 Erlangs
    assert "73 agents to schedule with 30% shrinkage" in out
    assert "unstable: load 45.00 >= 45 agents" in out
    assert "inf" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert main([*args, "--patience", "90s", "--max-occupancy", "0.85", "--service-levels"]) == 0
    out = capsys.readouterr().out
    assert "and occupancy at most 85%" in out and "excl. short abandons" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_run_shows_durations_in_the_unit_the_file_wrote(tmp_path, capsys):
    path = write(tmp_path, "s.yaml", VOICE)
    assert main(["run", str(path), "--reps", "2", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    aht = next(line for line in out.splitlines() if line.strip().startswith("aht"))
    assert re.search(r"aht\s+\d\.\d\dmin\s+\[\d\.\d\dmin, \d\.\d\dmin\]", aht)
    shown = {line.split()[0] for line in out.splitlines() if line.startswith("  ")}
    assert {"labour_cost", "fcr", "contained", "balk_rate", "backlog"}.isdisjoint(shown)
    assert {"service_level", "abandon_rate", "asa", "occupancy"} <= shown


# --- docs that name code -------------------------------------------------------------------


def test_shipped_configs_do_not_call_modelled_features_unmodelled():
    for path in (ROOT / "configs").rglob("*.yaml"):
        assert "concurrency is\n# not modelled" not in path.read_text(), path
        assert "not modelled yet" not in path.read_text(), path


def test_architecture_names_only_code_that_exists():
    source = "\n".join(p.read_text() for p in (ROOT / "ccsim").rglob("*.py"))
    modules = {p.stem for p in (ROOT / "ccsim").rglob("*.py")} | {
        p.name for p in (ROOT / "ccsim").iterdir() if p.is_dir()
    }
    text = (ROOT / "docs" / "architecture.md").read_text()
    # Every identifier the source defines (def or class NAME, "NAME" quoted, NAME = or NAME:),
    # gathered in one pass: a search of the whole source per name took 10-16 s. The
    # lookaheads find overlapping matches too, so the set is what a search per name finds.
    defined = set(
        re.findall(r"(?=(?:def|class) (\w+))|(?=[\"'](\w+)[\"'])|(?=\b(\w+)(?: =|:))", source)
    )
    defined = {name for group in defined for name in group if name}
    for name in set(re.findall(r"`([a-z_][a-z0-9_]*)(?:\(\))?`", text)):
        assert name in defined or name in modules, f"docs/architecture.md names `{name}`"


# --- docs/planner.md -----------------------------------------------------------------------


def _console(section: str) -> list[str]:
    """The commands of docs/planner.md's console blocks in ``section`` (by its heading)."""
    text = (ROOT / "docs" / "planner.md").read_text()
    part = text.split(section, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\$ ccsim (.+)$", part, re.M)


def test_the_walkthrough_commands_answer_as_documented(tmp_path, capsys, monkeypatch):
    # Question 1: the agents for 80/20 under Erlang A, and the shrinkage gross-up.
    (first,) = _console("## 1.")
    assert main(first.split()) == 0
    out = capsys.readouterr().out
    assert "> 45 agents on the phones" in out and "65 agents to schedule" in out
    erlang_c = [a for a in first.split() if a not in ("--patience", "90s")]
    assert main(erlang_c) == 0 and "> 51 agents" in capsys.readouterr().out
    capped = [*first.split(), "--max-occupancy", "0.85"]
    assert main(capped) == 0 and "> 52 agents" in capsys.readouterr().out
    # Question 2: the experiment as documented (a week, its own stopping rule: seconds).
    (second,) = _console("## 2.")
    monkeypatch.chdir(ROOT)
    args = [*second.split(), "--out", str(tmp_path / "out"), "--no-report"]
    assert main(args) == 0
    out = capsys.readouterr().out
    documented = (ROOT / "docs" / "planner.md").read_text()
    for line in out.splitlines():
        if line.startswith(("  manila_bot ", "  service_level ", "  operating_cost ")):
            assert line in documented, line  # the same seed: the same figures
    assert "stopping rule stopped early at 5 replications" in out


def test_the_committed_schemas_are_the_generated_ones():
    from ccsim.model.schema import scenario_schema
    from ccsim.study.spec import experiment_schema

    for name, schema in (
        ("ccsim.schema.json", scenario_schema()),
        ("ccsim-experiment.schema.json", experiment_schema()),
    ):
        # Regenerate with `ccsim schema --out ccsim.schema.json` (--kind experiment).
        assert json.loads((ROOT / name).read_text()) == schema, name


def test_the_schema_accepts_every_shipped_scenario_that_ccsim_accepts():
    # It rejected the five files that extend another and leave out what the base gives
    # (channels.chat.handle_time): an editor flagged valid files as wrong.
    import jsonschema
    from ruamel.yaml import YAML

    from ccsim.model import ConfigError, load_scenario

    schema = json.loads((ROOT / "ccsim.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    checked = 0
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        try:
            load_scenario(path)
        except ConfigError:
            continue  # a fragment that only other files extend (models/_demand.yaml)
        errors = [error.message for error in validator.iter_errors(data)]
        assert not errors, (path, errors[:3])
        checked += 1
    assert checked >= 30
    # Still strict where the file says something: a misspelt key below `extends:`.
    misspelt = {"extends": "base.yaml", "channels": {"voice": {"handle_tim": "3min"}}}
    assert any("handle_tim" in error.message for error in validator.iter_errors(misspelt))


def test_the_readme_says_how_long_the_main_job_takes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("```", 3)[2]  # the paragraph after the first commands
    assert "operating_models.yaml" in readme.split("```", 3)[1]
    # A duration a user can plan on, stated for the machine it was measured on.
    assert re.search(r"about \d+(–\d+)? minutes on a 2-core machine", " ".join(first.split()))


def test_the_vendor_split_runs_as_documented(tmp_path, capsys, monkeypatch):
    # Question 3: a split with overflow both ways, and one way (after: never).
    (third,) = _console("## 3.")
    monkeypatch.chdir(ROOT)
    assert main([*third.split(), "--out", str(tmp_path / "out"), "--no-report"]) == 0
    out = capsys.readouterr().out
    documented = (ROOT / "docs" / "planner.md").read_text()
    shown = ("  vendor ", "  one_way ", "  service_level ", "  operating_cost ", "  asa ")
    lines = [line for line in out.splitlines() if line.startswith(shown)]
    assert len(lines) == 24  # the answer, three rows of the table, 20 differences
    for line in lines:
        assert line in documented, line  # the same seed: the same figures
    one_way = ccsim.load_experiment(ROOT / "experiments" / "planner_vendor.yaml")
    steps = one_way.scenarios["one_way"].routing.overflow["voice"]
    assert [step.after for step in steps] == [30.0, float("inf")]


def test_after_never_is_a_step_never_reached_and_costs_nothing(tmp_path):
    import math

    from ccsim.sim.engine import build
    from ccsim.sim.streams import Streams

    text = (ROOT / "configs" / "overflow.yaml").read_text()
    assert "{site: shared, after: 30s}" in text
    ten_days, never = (
        load_scenario(
            write(tmp_path, f"{after}.yaml", text.replace("after: 30s", f"after: {after}"))
        )
        for after in ("10d", "never")
    )
    assert never.routing.overflow["voice"][1].after == math.inf
    assert never.model_dump(mode="json")["routing"]["overflow"]["voice"][1]["after"] == "never"
    # Ten days are never reached in a 14-hour day either: the same contacts, the same
    # outcomes, every KPI equal.
    a, b = (ccsim.simulate(scenario, seed=3).kpis for scenario in (ten_days, never))
    assert a.equals(b)
    # Never costs nothing: no overflow timer, and no queue for the shared site's agents to
    # look at when they are free.
    core = build(never, Streams(3))
    shared = next(site for site in core.sites if site.name == "shared")
    assert all(lane.channel.name != "voice" for lane, _ in shared.lanes)
    voice = next(channel for channel in core.channels if channel.name == "voice")
    assert all(not lane.later for lane in voice.lanes)


def test_a_channel_whose_every_step_is_never_is_refused(tmp_path):
    text = (ROOT / "configs" / "overflow.yaml").read_text()
    text = text.replace("{site: home}", "{site: home, after: never}")
    text = text.replace("after: 30s", "after: never")
    error = error_of(write(tmp_path, "s.yaml", text))
    assert ": routing.overflow.voice: every step is never: no site answers it" in str(error)
