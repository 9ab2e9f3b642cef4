"""The README's examples run as written: its Python snippets, its YAML, its commands."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import ccsim
from ccsim.cli import main
from ccsim.model import parse_scenario
from ccsim.study.spec import ExperimentSpec

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
yaml = YAML(typ="safe", pure=True)  # YAML 1.2, as ccsim reads scenario files


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A working directory with the repository's scenario and experiment files."""
    for folder in ("configs", "experiments"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_python_snippets_run(checkout):
    snippets = blocks("python")
    assert snippets
    for snippet in snippets:
        exec(compile(snippet, "README.md", "exec"), {})


def test_the_scenario_shown_is_the_example_config():
    shown = next(b for b in blocks("yaml") if b.startswith("name: example"))
    assert yaml.load(shown) == yaml.load((ROOT / "configs/example.yaml").read_text())
    parse_scenario(yaml.load(shown))


def test_the_experiment_shown_is_valid_and_matches_the_file():
    shown = next(b for b in blocks("yaml") if b.startswith("name: staffing"))
    file = yaml.load((ROOT / "experiments/staffing.yaml").read_text())
    assert yaml.load(shown) == file
    rule = next(b for b in blocks("yaml") if b.startswith("replications:"))
    ExperimentSpec.model_validate(file | yaml.load(rule))


def test_erlang_commands_run(capsys):
    commands = [line for b in blocks("sh") for line in b.splitlines()]
    erlang = [
        shlex.split(line.split("#")[0]) for line in commands if line.startswith("ccsim erlang")
    ]
    assert erlang
    for argv in erlang:
        assert main(argv[1:]) == 0
    assert "Erlang" in capsys.readouterr().out


def test_the_error_shown_is_the_error_given(checkout):
    shown = next(line for line in README.splitlines() if line.startswith("ccsim: bad.yaml"))
    text = (checkout / "configs/example.yaml").read_text().replace("handle_time", "handle_tme")
    (checkout / "bad.yaml").write_text(text)
    with pytest.raises(ccsim.ConfigError) as info:
        ccsim.load_scenario("bad.yaml")
    assert shown == f"ccsim: {info.value}"


def test_the_sites_and_routing_shown_are_valid():
    shown = yaml.load(next(b for b in blocks("yaml") if b.startswith("sites:")))
    example = yaml.load((ROOT / "configs/example.yaml").read_text())
    example["channels"]["chat"] = example["channels"]["voice"]
    scenario = parse_scenario(example | shown)
    assert [site for site, _ in scenario.eligible_sites("voice")][0].name == "offshore"
    ccsim.simulate(scenario.model_copy(update={"horizon": 3600.0}), seed=1)


def test_the_shifts_shown_are_valid():
    shown = yaml.load(next(b for b in blocks("yaml") if b.startswith("# sites on shifts")))
    example = yaml.load((ROOT / "configs/example.yaml").read_text())
    scenario = parse_scenario(example | shown | {"horizon": "2d", "timezone": "America/New_York"})
    manila = scenario.sites[0]
    assert manila.shifts[0].start == "21:00" and manila.night_differential.premium == 0.10
    kpis = ccsim.simulate(scenario, seed=1).kpis
    assert kpis.loc["voice", "labour_cost"] > 0


def test_the_channels_shown_are_valid():
    shown = yaml.load(next(b for b in blocks("yaml") if b.startswith("# channels, bot")))
    sites = [{"name": "a", "agents": 30}]
    scenario = parse_scenario({"name": "x", "horizon": "4h", **shown, "sites": sites})
    kpis = ccsim.simulate(scenario, seed=1).kpis
    assert kpis.loc["chat", "contained"] > 0 and kpis.loc["tier2", "offered"] > 0
