"""The command line as a user meets it: outputs, byte-identical files, exit status 2."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import ccsim
from ccsim.cli import main
from ccsim.cli.summary import applicable_kpis
from ccsim.experiment.replications import REPLICATION_COLUMNS
from ccsim.sim.metrics import KPI_NAMES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "example.yaml"


def ccsim_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real command in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "ccsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.slow
def test_run_writes_replications_and_is_identical_for_any_number_of_jobs(tmp_path):
    one, two = (
        ccsim_cli(
            "run",
            str(EXAMPLE),
            "--reps",
            "6",
            "--seed",
            "7",
            "--jobs",
            jobs,
            "--out",
            str(tmp_path / f"j{jobs}"),
        )
        for jobs in ("1", "2")
    )
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    first = (tmp_path / "j1" / "replications.csv").read_bytes()
    assert first == (tmp_path / "j2" / "replications.csv").read_bytes()
    assert (tmp_path / "j1" / "summary.csv").read_bytes() == (
        tmp_path / "j2" / "summary.csv"
    ).read_bytes()
    table = pd.read_csv(tmp_path / "j1" / "replications.csv")
    assert list(table.columns[:2]) == ["replication", "channel"]
    assert list(table.columns) == list(REPLICATION_COLUMNS)
    assert set(KPI_NAMES) <= set(table.columns)
    assert table.replication.tolist() == list(range(6))
    # The printed summary names every KPI that applies to the scenario, and no other.
    shown = applicable_kpis(ccsim.load_scenario(EXAMPLE), "voice")
    lines = {line.split()[0] for line in one.stdout.splitlines() if line.startswith("  ")}
    assert set(shown) <= lines
    assert not (set(KPI_NAMES) - set(shown)) & lines
    assert {"labour_cost", "fcr", "contained", "balk_rate"}.isdisjoint(shown)
    assert "95% confidence intervals over 6 replications" in one.stdout


def test_seed_changes_results(tmp_path):
    for seed in ("1", "2"):
        result = main(
            ["run", str(EXAMPLE), "--reps", "2", "--seed", seed, "--out", str(tmp_path / seed)]
        )
        assert result == 0
    a = (tmp_path / "1" / "replications.csv").read_bytes()
    assert a != (tmp_path / "2" / "replications.csv").read_bytes()


def test_default_output_directory_is_results_name(tmp_path):
    assert ccsim_cli("run", str(EXAMPLE), "--reps", "2", cwd=tmp_path).returncode == 0
    assert (tmp_path / "results" / "example" / "replications.csv").exists()


def test_erlang_prints_the_textbook_case(capsys):
    # 100 calls per 30 minutes, 180 s handle time: 10 Erlangs; 14 agents meet 80/20.
    assert (
        main(
            [
                "erlang",
                "--rate",
                "100/30min",
                "--aht",
                "180s",
                "--agents",
                "13-14",
                "--threshold",
                "20s",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Erlang C" in out and "offered load 10.000 Erlangs" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:2] in ("13", "14")]
    service_level = {int(row[0]): float(row[2].rstrip("%")) for row in rows}
    assert service_level[13] < 80 <= service_level[14]


def test_erlang_with_patience_is_erlang_a(capsys):
    assert (
        main(["erlang", "--rate", "3/min", "--aht", "3min", "--agents", "11", "--patience", "2min"])
        == 0
    )
    assert "Erlang A" in capsys.readouterr().out


def test_erlang_at_a_threshold_of_zero_is_the_share_answered_at_once(capsys):
    """--threshold 0s asks for the share answered without waiting, 1 - C(n, a): it read as
    no threshold and gave the 20 s default's 74.95% (Erlang C, 100 Erlangs, 103 agents)."""
    from ccsim.theory.erlang import erlang_c

    args = ["erlang", "--rate", "100/min", "--aht", "1min", "--agents", "103"]
    assert main([*args, "--threshold", "0s"]) == 0
    out = capsys.readouterr().out
    assert "threshold 0s" in out
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["103"])
    assert float(row[2].rstrip("%")) == pytest.approx(100 * (1 - erlang_c(103, 100.0)), abs=0.01)


def test_erlang_help_names_the_mark_its_table_uses(capsys):
    with pytest.raises(SystemExit):
        main(["erlang", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert main(["erlang", "--rate", "600/h", "--aht", "4.5min", "--target", "80/20s"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line[1:6].strip().isdigit()]
    assert [line[0] for line in rows if line[0] != " "] == [">"]  # one row, marked >
    assert "the row marked > in the table" in helptext and "<=" not in helptext


OUTBOUND_KPIS = {
    "records",
    "right_party_contacts",
    "dropped",
    "list_penetration",
    "attempts_per_record",
    "outbound_abandon_rate",
    "rpc_per_agent_hour",
    "cost_per_right_party_contact",
}


def test_outbound_kpis_are_shown_only_where_the_scenario_dials():
    inbound = ccsim.load_scenario(EXAMPLE)
    for channel in ("voice", None):
        shown = set(applicable_kpis(inbound, channel))
        assert not shown & (OUTBOUND_KPIS | {"occupancy_inbound", "occupancy_outbound"})
    blend = ccsim.load_scenario(ROOT / "configs" / "blended_nearshore.yaml")
    dialled = next(n for n, c in blend.channels.items() if c.kind == "outbound")
    answered = next(n for n, c in blend.channels.items() if c.kind != "outbound")
    assert set(applicable_kpis(blend, dialled)) >= OUTBOUND_KPIS
    assert set(applicable_kpis(blend, None)) >= OUTBOUND_KPIS
    assert not OUTBOUND_KPIS & set(applicable_kpis(blend, answered))
    assert "occupancy_outbound" in applicable_kpis(blend, answered)  # its agents also dial


class _Stop(Exception):
    """Raised by a stand-in for the search, once it has seen its arguments."""


def test_staff_takes_no_progress_and_passes_it_to_the_search(tmp_path, monkeypatch, capsys):
    seen = {}

    def search(scenario, targets, offer, **options):
        seen.update(options)
        if options["progress"] is not None:
            options["progress"]("round 1")
        raise _Stop

    monkeypatch.setattr("ccsim.planning.search.staff_scenario", search)
    for flags, quiet in (([], False), (["--no-progress"], True)):
        with pytest.raises(_Stop):
            main(["staff", str(EXAMPLE), "--method", "search", "--out", str(tmp_path), *flags])
        assert (seen["progress"] is None) == quiet
        assert ("round 1" in capsys.readouterr().out) != quiet


def test_options_take_compound_durations(capsys):
    outputs = []
    for aht in ("4min30s", "4min 30s", "270s"):
        assert main(["erlang", "--rate", "600/h", "--aht", aht, "--target", "80/20s"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "handle time 4.5min" in outputs[0]


BAD_FILES = {
    "missing": None,
    "broken_yaml": "name: [oops\n",
    "not_mapping": "- 1\n- 2\n",
    "unknown_key": EXAMPLE.read_text().replace("warmup:", "warmpu:"),
    "bad_unit": EXAMPLE.read_text().replace("mean: 3min", "mean: 3mn"),
    "negative": EXAMPLE.read_text().replace("agents: 11", "agents: -2"),
    "python_tag": "name: !!python/object/apply:os.system ['echo pwned']\n",
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, case):
    path = tmp_path / f"{case}.yaml"
    if BAD_FILES[case] is not None:
        path.write_text(BAD_FILES[case])
    out = tmp_path / "out"
    assert main(["run", str(path), "--reps", "2", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert str(path) in lines[0]
    assert not out.exists()  # nothing half-written
    assert "pwned" not in captured.out


def test_bad_input_from_the_real_command_has_no_traceback(tmp_path):
    path = tmp_path / "tag.yaml"
    path.write_text(BAD_FILES["python_tag"])
    result = ccsim_cli("run", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "not allowed" in result.stderr and "pwned" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["run", str(EXAMPLE), "--reps", "0"],
        ["run", str(EXAMPLE), "--jobs", "0"],
        ["run", str(EXAMPLE), "--seed", "-1"],
        ["erlang", "--rate", "3", "--aht", "3min", "--agents", "11"],
        ["erlang", "--rate", "3/min", "--aht", "-3min", "--agents", "11"],
        ["erlang", "--rate", "3/min", "--aht", "3min", "--agents", "0"],
        ["erlang", "--rate", "3/min", "--aht", "3min"],
        ["frobnicate"],
    ],
)
def test_bad_options_exit_2_in_one_line(capsys, args):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err


def test_every_command_and_option_has_help_with_an_example():
    from ccsim.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = set(commands.choices)
    assert {"run", "experiment", "report", "staff", "erlang", "fit", "forecast", "schema"} <= names
    top = parser.format_help()
    assert all(name in top for name in names)  # the overview names every command
    assert "``" not in top
    for name, sub in commands.choices.items():
        if name == "staff":  # its options are documented in docs/staffing.md by its owner
            continue
        assert sub.epilog and "examples:" in sub.epilog and f"ccsim {name}" in sub.epilog, name
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help.strip(), f"ccsim {name} {action.dest}"
        assert "``" not in sub.format_help()


def test_an_experiment_of_one_scenario_runs_to_its_report(tmp_path, capsys):
    """One scenario has no paired differences: its comparisons.csv is a header, and the
    report is written (it was an empty file, which the report refused: exit 2 after a
    complete run). An older folder's empty file still reads as no rows."""
    from ccsim.cli import main as cli_main

    (tmp_path / "scenario.yaml").write_text(EXAMPLE.read_text())
    (tmp_path / "one.yaml").write_text(
        "name: one\nscenario: scenario.yaml\nseed: 1\nreplications: 3\nscenarios:\n  base: {}\n"
    )
    out = tmp_path / "out"
    assert cli_main(["experiment", str(tmp_path / "one.yaml"), "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    assert (out / "report.html").is_file()
    header = (out / "comparisons.csv").read_text().splitlines()
    assert header[0].startswith("scenario,baseline,") and len(header) == 1
    from ccsim.report.reading import read_csv

    empty = tmp_path / "empty.csv"
    empty.write_text("\n")  # as runs before this fix wrote it
    assert read_csv(empty, ("scenario", "kpi")).empty


def test_the_parsers_choices_are_the_layers_own():
    """``--method`` and ``--backend`` are written out in the command line so that building
    the parser imports no planner and no runner; they must stay the planner's and the
    runner's lists."""
    from ccsim.cli import build_parser
    from ccsim.experiment.backends import BACKENDS
    from ccsim.planning.staffing import METHODS

    commands = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices

    def choices(command: str, option: str) -> tuple:
        (action,) = [a for a in commands[command]._actions if option in a.option_strings]
        return tuple(action.choices)

    assert choices("staff", "--method") == (*METHODS, "search", "simopt")
    assert choices("experiment", "--backend") == BACKENDS


@pytest.mark.parametrize(
    "command",
    [
        ["run", "configs/example.yaml", "--out", ""],
        ["experiment", "experiments/overflow.yaml", "--out", ""],
        ["schema", "--out", " "],
        ["forecast", "history.csv", "--out", ""],
        ["fit", "log.csv", "--out", ""],
        ["staff", "configs/ramp.yaml", "--out", ""],
        ["staff", "configs/ramp.yaml", "--method", "search", "--model", ""],
    ],
)
def test_an_empty_output_path_is_refused(command, capsys, tmp_path, monkeypatch):
    """``--out ""`` wrote a run's tables into the working directory, among the user's files."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(command)
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1, err
    assert "an empty path" in err
    assert list(tmp_path.iterdir()) == []
