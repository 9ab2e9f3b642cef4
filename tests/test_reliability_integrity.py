"""A results folder vouches for its tables or is refused, and is read under its lock: a
manifest that lists no table, a run folder without a manifest, a folder being written, a
page drawn after the run let go of its folder, and a grid whose names collapse
(docs/reliability.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ccsim.report.run_page as run_page
from ccsim.cli import main
from ccsim.experiment.folder import LOCK_NAME
from ccsim.model import ConfigError
from ccsim.model.overrides import expand_grid

ROOT = Path(__file__).resolve().parents[1]

SCENARIO = textwrap.dedent(
    """\
    name: tiny
    horizon: 1h
    warmup: 0s
    channels:
      voice:
        arrivals: {rate: 2/min}
        handle_time: {dist: exponential, mean: 3min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 7
    """
)

GRID = textwrap.dedent(
    """\
    name: tiny_grid
    scenario: scenario.yaml
    replications: 2
    grid:
      sites.0.agents: [6, 7, 8]
    """
)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ccsim: "), err
    return err


def _run(tmp_path: Path, *options: str) -> Path:
    scenario, out = tmp_path / "scenario.yaml", tmp_path / "out"
    scenario.write_text(SCENARIO)
    argv = ["run", str(scenario), "--reps", "2", "--no-progress", "--out", str(out), *options]
    assert main(argv) == 0
    return out


def _experiment(tmp_path: Path, grid: str = GRID) -> tuple[Path, Path]:
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    (tmp_path / "experiment.yaml").write_text(grid)
    out = tmp_path / "exp"
    return tmp_path / "experiment.yaml", out


def _edit_summary(out: Path) -> None:
    """What the audit did: every service level 99.9%."""
    lines = (out / "summary.csv").read_text().splitlines()
    header = lines[0].split(",")
    kpi, estimate = header.index("kpi"), header.index("estimate")
    for i, line in enumerate(lines[1:], 1):
        cells = line.split(",")
        if cells[kpi] == "service_level":
            cells[estimate] = "0.999"
        lines[i] = ",".join(cells)
    (out / "summary.csv").write_text("\n".join(lines) + "\n")


# --- the manifest vouches for every table ----------------------------------------------------


@pytest.mark.parametrize("files", ["removed", "empty"])
def test_a_manifest_that_lists_no_table_is_refused(tmp_path, capsys, files):
    out = _run(tmp_path)
    _edit_summary(out)
    manifest = json.loads((out / "manifest.json").read_text())
    if files == "removed":
        del manifest["files"]
    else:
        manifest["files"] = {}
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    line = _one_line(capsys)
    assert "manifest.json: has no 'files' list" in line and "run the same command again" in line
    assert not (out / "run.html").exists()


def test_an_experiments_manifest_that_lists_no_table_is_refused(tmp_path, capsys):
    source, out = _experiment(tmp_path)
    assert main(["experiment", str(source), "--out", str(out), "--no-report"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] = {}
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "has no 'files' list" in _one_line(capsys)
    assert not (out / "report.html").exists()


def test_a_manifest_naming_a_file_outside_the_folder_is_refused(tmp_path, capsys):
    out = _run(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["../scenario.yaml"] = {"size": 0, "sha256": ""}
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "not a file of the folder" in _one_line(capsys)


def test_a_run_folder_without_a_manifest_is_refused(tmp_path, capsys):
    out = _run(tmp_path)
    (out / "manifest.json").unlink()
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    line = _one_line(capsys)
    assert "no manifest.json" in line and "ccsim run" in line
    assert not (out / "run.html").exists()


# --- read under the lock, and no lock left behind --------------------------------------------


def test_a_run_folder_being_written_is_refused(tmp_path, capsys):
    out = _run(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from ccsim.experiment.folder import output_folder\n"
            f"with output_folder({str(out)!r}):\n print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline() == b"held\n"
        capsys.readouterr()
        assert main(["report", str(out)]) == 2
        assert "another ccsim run" in _one_line(capsys)
        assert not (out / "run.html").exists()
    finally:
        holder.kill()
        holder.wait()
    assert main(["report", str(out)]) == 0


def test_no_command_leaves_a_lock_in_a_folder_that_had_none(tmp_path):
    out = _run(tmp_path)
    assert not (out / LOCK_NAME).exists()
    assert main(["report", str(out)]) == 0
    assert not (out / LOCK_NAME).exists()
    (out / LOCK_NAME).write_text("4242\n")  # one an older ccsim left: kept, and still works
    assert main(["report", str(out)]) == 0
    assert (out / LOCK_NAME).exists()


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_run_plot_draws_while_it_holds_its_folder(tmp_path, monkeypatch):
    import fcntl

    held = []
    real = run_page.render_run_page

    def render(out, name=None):
        with open(Path(out) / LOCK_NAME) as other:  # a second open file: flock conflicts
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(True)
            else:
                held.append(False)
                fcntl.flock(other.fileno(), fcntl.LOCK_UN)
        return real(out, name)

    monkeypatch.setattr(run_page, "render_run_page", render)
    out = _run(tmp_path, "--plot")
    assert held == [True]
    assert (out / "run.html").is_file()


# --- a grid runs every point it names ----------------------------------------------------------


@pytest.mark.parametrize(
    ("grid_name", "said"),
    [
        ("constant", "two grid points are both named 'constant'"),
        ("agents_{sites.0.agent}", "did you mean {sites.0.agents}?"),
    ],
)
def test_a_grid_name_that_does_not_vary_is_refused(tmp_path, capsys, grid_name, said):
    source, out = _experiment(tmp_path, GRID + f"grid_name: {json.dumps(grid_name)}\n")
    assert main(["experiment", str(source), "--out", str(out), "--no-report"]) == 2
    line = _one_line(capsys)
    assert "experiment.yaml:6:" in line and "grid_name" in line and said in line
    assert not (out / "summary.csv").exists()


def test_grid_names_are_unique_or_refused():
    grid = {"sites.0.agents": [6, 7], "channels.voice.patience.mean": ["2min", "3min"]}
    names = expand_grid(grid, "a{sites.0.agents}_p{channels.voice.patience.mean}")
    assert list(names) == ["a6_p2min", "a6_p3min", "a7_p2min", "a7_p3min"]
    with pytest.raises(ConfigError, match=r"grid_name: .*use \{sites.0.agents\}, \{channels"):
        expand_grid(grid, "a{sites.0.agents}", "e.yaml")
    with pytest.raises(ConfigError, match="e.yaml: grid: .*a value repeated"):
        expand_grid({"sites.0.agents": [6, 6]}, source="e.yaml")


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_processes_racing_for_a_folder_never_hold_it_together(tmp_path):
    """A lock removed by the process that made it while others open it: never two holders,
    never a refusal but 'another ccsim run', and no lock left at the end."""
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""\
        import os
        from ccsim.experiment.folder import OutputLockedError, output_folder
        for _ in range(200):
            try:
                with output_folder({str(out)!r}):
                    os.close(os.open({str(out / "held")!r}, os.O_CREAT | os.O_EXCL))
                    os.unlink({str(out / "held")!r})
            except OutputLockedError:
                pass
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racers = [
        subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, env=env)
        for _ in range(3)
    ]
    errors = [racer.communicate(timeout=120)[1].decode() for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], errors
    assert sorted(p.name for p in out.iterdir()) == []


@pytest.mark.parametrize(
    ("cell", "refused"),
    [("abc", True), ("nan", False), ("inf", False), ("1e308", False), ("", False)],
)
def test_a_table_whose_numbers_hold_a_word_is_refused_naming_the_cell(
    tmp_path, capsys, cell, refused
):
    # A word in a number column (with the manifest's checksum made to match, as an edited
    # folder would have it) ended in a TypeError from the page's arithmetic.
    import hashlib

    out = _run(tmp_path)
    summary = out / "summary.csv"
    lines = summary.read_text().splitlines()
    estimate = lines[0].split(",").index("estimate")
    cells = lines[1].split(",")
    cells[estimate] = cell
    lines[1] = ",".join(cells)
    summary.write_text("\n".join(lines) + "\n")
    manifest = json.loads((out / "manifest.json").read_text())
    data = summary.read_bytes()
    manifest["files"]["summary.csv"] = {
        "size": len(data), "sha256": hashlib.sha256(data).hexdigest()
    }  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    code = main(["report", str(out)])
    if refused:
        assert code == 2
        assert f"summary.csv: estimate: row 2: expected a number, got '{cell}'" in _one_line(capsys)
    else:
        assert code == 0, capsys.readouterr().err
