"""What a results folder holds is read with care, and names are shown as written: a manifest
or a saved block that is a pipe, a device or too large is refused without reading it, a
manifest's paths are read only as small regular files, and a scenario's name is drawn as
text and never empty (issue #30, round two; docs/reliability.md)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ccsim.cli import main
from ccsim.files import SMALL_FILE_BYTES

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
        cost_per_hour: 20
    """
)


def _experiment_file(tmp_path: Path, scenarios: str) -> Path:
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    path = tmp_path / "experiment.yaml"
    path.write_text(f"name: e\nscenario: scenario.yaml\nreplications: 2\n{scenarios}")
    return path


def _experiment(tmp_path: Path, scenarios: str = "") -> Path:
    path, out = _experiment_file(tmp_path, scenarios), tmp_path / "exp"
    assert main(["experiment", str(path), "--no-progress", "--out", str(out)]) == 0
    return out


def _run(tmp_path: Path) -> Path:
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    out = tmp_path / "run"
    argv = ["run", str(tmp_path / "scenario.yaml"), "--reps", "2", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    return out


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ccsim: "), err
    return err


def _cap_memory() -> None:  # in the child: a case that fills memory fails fast
    limit = 3 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _apart(*args: str, timeout: float = 30) -> tuple[int, str]:
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


def _refused(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


def _vouch(out: Path, name: str) -> None:
    """The manifest's checksum of ``name`` made to match, as an edited folder would have it."""
    manifest = json.loads((out / "manifest.json").read_text())
    data = (out / name).read_bytes()
    manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (out / "manifest.json").write_text(json.dumps(manifest))


def _replace(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "pipe":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:  # a regular file beyond any manifest ccsim writes
        with path.open("wb") as file:
            file.truncate(SMALL_FILE_BYTES + 1)


# --- names ----------------------------------------------------------------------------------


def test_names_are_drawn_as_text_not_as_mathtext(tmp_path, capsys):
    # matplotlib read "a$\frac{1}$b" as TeX and the report ended in a ParseSyntaxException.
    out = _experiment(tmp_path, "scenarios:\n  'a$\\frac{1}$b': {}\n  '2$': {sites.0.agents: 8}\n")
    page = (out / "report.html").read_text()
    assert "a$\\frac{1}$b" in page and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("scenarios", "field"),
    [
        ("scenarios:\n  '': {}\n  b: {sites.0.agents: 8}\n", "scenarios"),
        ("scenarios:\n  ' padded': {}\n", "scenarios"),
        ('scenarios:\n  "two\\nlines": {}\n', "scenarios"),
        ("grid: {sites.0.agents: [6, 7]}\ngrid_name: ' {sites.0.agents}'\n", "grid_name"),
        ("grid: {sites.0.name: ['', x]}\ngrid_name: '{sites.0.name}'\n", "grid_name"),
    ],
)
def test_a_scenario_name_no_table_can_show_is_refused(tmp_path, capsys, scenarios, field):
    # An empty name was written as an empty cell, read back as missing: the report ended in
    # a TypeError after the whole run.
    path = _experiment_file(tmp_path, scenarios)
    assert main(["experiment", str(path), "--no-progress", "--out", str(tmp_path / "o")]) == 2
    assert f"{field}: scenario name" in _one_line(capsys)
    assert not (tmp_path / "o" / "summary.csv").exists()


def test_a_table_with_an_empty_scenario_is_refused_naming_the_row(tmp_path, capsys):
    out = _experiment(tmp_path)
    lines = (out / "summary.csv").read_text().splitlines()
    column = lines[0].split(",").index("scenario")
    cells = lines[3].split(",")
    cells[column] = ""
    lines[3] = ",".join(cells)
    (out / "summary.csv").write_text("\n".join(lines) + "\n")
    _vouch(out, "summary.csv")
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "summary.csv: scenario: row 4: empty" in _one_line(capsys)


# --- what a folder holds is read with care ----------------------------------------------------


@pytest.mark.parametrize("kind", ["pipe", "device", "large"])
@pytest.mark.parametrize("folder", ["run", "experiment"])
def test_a_manifest_that_is_no_small_regular_file_is_refused_unread(tmp_path, kind, folder):
    # A pipe waited for a writer for ever, /dev/zero was read until MemoryError.
    out = _run(tmp_path) if folder == "run" else _experiment(tmp_path)
    _replace(out / "manifest.json", kind)
    code, err = _apart("report", str(out))
    _refused(code, err, "manifest.json")


def test_a_table_the_manifest_names_that_is_a_pipe_is_refused_unread(tmp_path):
    out = _run(tmp_path)
    _replace(out / "intervals.csv", "pipe")
    code, err = _apart("report", str(out))
    _refused(code, err, "intervals.csv is not a regular file")


def test_the_experiment_file_a_manifest_names_is_read_only_if_small_and_regular(tmp_path):
    # The report reads the experiment file back for the models' descriptions; the manifest
    # says where it is, and /dev/zero there was read until the memory ran out.
    out = _experiment(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["file"] = "/dev/zero"
    (out / "manifest.json").write_text(json.dumps(manifest))
    code, err = _apart("report", str(out))
    assert code == 0, err


@pytest.mark.parametrize("saved", ["block-*.json", "reps-*.parquet"])
def test_a_saved_block_that_is_a_pipe_is_never_read(tmp_path, saved):
    # The record and the tables of a block were read whole: a pipe put there waited for ever.
    # The block is not trusted; a record is ccsim's to replace, a table in a pipe's place is
    # not (ccsim replaces regular files only): the run stops in one line naming it.
    out = _experiment(tmp_path)
    (target,) = (out / ".chunks").rglob(saved)
    _replace(target, "pipe")
    path = tmp_path / "experiment.yaml"
    code, err = _apart("experiment", str(path), "--no-progress", "--out", str(out), timeout=60)
    lines = err.splitlines()
    assert "Traceback" not in err and "not a regular file" in lines[0], err
    assert "recomputing" in lines[0], err
    if saved.startswith("block"):
        assert code == 0 and len(lines) == 1, err
    else:
        assert code == 2 and len(lines) == 2, err
        assert f"{target.name}: exists and is not a regular file" in lines[1]


# --- the contact log --------------------------------------------------------------------------

ENDS = textwrap.dedent(
    """\
    name: ends
    horizon: 2h
    warmup: 0s
    channels:
      voice:
        arrivals: {rate: 3/min}
        handle_time: {dist: exponential, mean: 2min}
        patience: {dist: exponential, mean: 3min}
        service_level: {threshold: 20s, target: 0.8}
        lines: 7
        callback: {threshold: 30s, acceptance: 0.5, deadline: 1h}
      chat:
        kind: chat
        arrivals: {rate: 1/min}
        handle_time: {dist: exponential, mean: 4min}
        service_level: {threshold: 60s, target: 0.8}
        bot:
          share: 1.0
          handle_time: {dist: exponential, mean: 90s}
          containment: 0.4
          false_containment: 0.1
          return_delay: {dist: exponential, mean: 20min}
    sites:
      - name: main
        agents: 5
    """
)


def test_the_contact_log_has_a_row_for_every_contact_offered(tmp_path):
    # Contained chats, blocked calls and callers who took a call back had no row: a log of
    # 131 rows for 181 chats offered, without a word. Each contact ends as exactly one
    # outcome (ccsim.sim.metrics.ChannelTally); only those still waiting at the end have none.
    import ccsim

    (tmp_path / "ends.yaml").write_text(ENDS)
    result = ccsim.simulate(ccsim.load_scenario(tmp_path / "ends.yaml"), 3, record_contacts=True)
    counted = result.contacts[result.contacts["counted"]]
    for channel in ("voice", "chat"):
        tally = result.tallies[channel]
        rows = counted[counted["channel"] == channel]["outcome"].value_counts()
        assert len(counted[counted["channel"] == channel]) == tally.offered - tally.carried_over
        for outcome in ("answered", "abandoned", "contained", "blocked", "callbacks"):
            assert rows.get(outcome, 0) == getattr(tally, outcome), (channel, outcome)
    assert result.tallies["chat"].contained > 0 and result.tallies["voice"].blocked > 0
    assert result.tallies["voice"].callbacks > 0


def test_the_contact_log_streams_in_blocks_the_same_for_any_jobs(tmp_path, monkeypatch):
    # Every replication's log was held and joined on one process, whatever --jobs: memory
    # grew with --reps (228 MB at 30, 356 MB at 300).
    import ccsim.cli.run as run

    (tmp_path / "ends.yaml").write_text(ENDS)
    blocks = []
    simulate_block = run.contact_block

    def counted_block(scenario, seeds, first):
        blocks.append(len(seeds))
        return simulate_block(scenario, seeds, first)

    monkeypatch.setattr(run, "contact_block", counted_block)
    monkeypatch.setattr(run, "_CONTACTS_PER_LOG_BLOCK", 600)  # about two replications
    logs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        argv = ["run", str(tmp_path / "ends.yaml"), "--reps", "7", "--jobs", jobs]
        assert main([*argv, "--record-contacts", "--no-progress", "--out", str(out)]) == 0
        logs.append((out / "contacts.csv").read_bytes())
    assert logs[0] == logs[1]
    assert blocks and max(blocks) <= 2 and sum(blocks) == 7  # jobs 1: in this process
    log = (tmp_path / "jobs1" / "contacts.csv").read_text().splitlines()
    replications = [int(line.split(",", 1)[0]) for line in log[1:]]
    assert replications == sorted(replications) and set(replications) == set(range(7))


def test_a_sessions_record_that_is_a_pipe_neither_hangs_nor_counts(tmp_path):
    # The record of earlier sessions is read like every other file of an output folder: a
    # pipe in its place was opened and waited on for a writer, for ever.
    import os

    from ccsim.experiment.saved_blocks import BlockStore
    from ccsim.study.session import Session

    os.mkfifo(tmp_path / ".sessions.json")
    session = Session(BlockStore(tmp_path), tmp_path, {"abc"})
    assert session.manifest()["sessions"] == 1


def test_a_summary_row_repeated_is_refused_naming_its_line(tmp_path, capsys):
    # Found by the folder fuzz on CI: a summary.csv with a row duplicated (checksum
    # updated) ended the run page in a TypeError: a KPI had two estimates.
    import ccsim
    from ccsim.cli import main
    from ccsim.experiment.folder import MANIFEST_NAME
    from ccsim.files import file_digest

    out = tmp_path / "run"
    assert main(["run", str(Path(ccsim.__file__).parents[1] / "configs" / "example.yaml"),
                 "--reps", "2", "--out", str(out), "--no-progress"]) == 0  # fmt: skip
    capsys.readouterr()
    lines = (out / "summary.csv").read_text().splitlines(keepends=True)
    (out / "summary.csv").write_text("".join([*lines[:2], lines[1], *lines[2:]]))
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    manifest["files"]["summary.csv"] = file_digest(out / "summary.csv")
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "summary.csv" in err and "line 3 repeats" in err
