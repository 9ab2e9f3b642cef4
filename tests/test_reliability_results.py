"""Results survive what happens to real result folders: symbolic links and user files in
the saved blocks, two runs on one folder, damaged blocks, changed code, runs cut short
while writing their tables, and folders that cannot be written (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import ccsim.experiment.parallel as parallel
import ccsim.experiment.replications as replications
import ccsim.experiment.tables as tables
import ccsim.study.spec as spec
from ccsim.cli import main
from ccsim.experiment.folder import LOCK_NAME
from ccsim.experiment.replications import digest_of

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
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 7
    """
)

EXPERIMENT = textwrap.dedent(
    """\
    name: tiny_study
    scenario: scenario.yaml
    seed: 3
    replications: 6
    baseline: base
    scenarios:
      base: {}
      more: {sites.0.agents: 8}
    """
)


def _write(folder: Path, experiment: str = EXPERIMENT, scenario: str = SCENARIO) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(scenario)
    (folder / "experiment.yaml").write_text(experiment)
    return folder / "experiment.yaml"


def _experiment(path: Path, out: Path, *options: str) -> int:
    return main(["experiment", str(path), "--out", str(out), "--no-report", *options])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def _tables(out: Path) -> dict[str, object]:
    return {
        "replications": pd.read_parquet(out / "replications.parquet"),
        "intervals": pd.read_parquet(out / "intervals.parquet"),
        "summary": (out / "summary.csv").read_bytes(),
        "comparisons": (out / "comparisons.csv").read_bytes(),
    }


def _assert_same(a: dict, b: dict) -> None:
    for name in ("replications", "intervals"):
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
    assert a["summary"] == b["summary"] and a["comparisons"] == b["comparisons"]


def _block_files(out: Path, kind: str) -> list[Path]:
    return sorted((out / ".chunks").glob(f"*/{kind}-*.parquet"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """One uninterrupted run, to compare repaired and resumed runs against."""
    folder = tmp_path_factory.mktemp("reference")
    assert _experiment(_write(folder), folder / "out") == 0
    return _tables(folder / "out")


# --- never delete what ccsim did not write ----------------------------------------------------


def test_pruning_never_follows_a_symlink_nor_deletes_user_files(tmp_path, capsys):
    source, out = _write(tmp_path), tmp_path / "out"
    elsewhere = tmp_path / "archive"
    elsewhere.mkdir()
    (elsewhere / "keep.parquet").write_bytes(b"user data")
    (elsewhere / "block-00000000-00000006.json").write_text("{}")
    chunks = out / ".chunks"
    chunks.mkdir(parents=True)
    (chunks / "archive").symlink_to(elsewhere, target_is_directory=True)
    (chunks / ("ab" * 10)).symlink_to(elsewhere, target_is_directory=True)  # a fingerprint
    (chunks / "notes.txt").write_text("mine")
    assert _experiment(source, out) == 0

    # A scenario changes: its old blocks are pruned, and only those.
    old = {p.parent for p in _block_files(out, "reps")}
    (source.parent / "experiment.yaml").write_text(EXPERIMENT.replace("agents: 8", "agents: 9"))
    stale = next(
        folder
        for folder in old
        if json.loads(next(folder.glob("block-*.json")).read_text())["fingerprint"]
        == json.loads((out / "manifest.json").read_text())["fingerprints"]["more"]
    )
    (stale / "my-notes.txt").write_text("mine too")
    capsys.readouterr()
    assert _experiment(source, out) == 0
    assert (elsewhere / "keep.parquet").read_bytes() == b"user data"
    assert (elsewhere / "block-00000000-00000006.json").exists()
    assert (chunks / "archive").is_symlink() and (chunks / ("ab" * 10)).is_symlink()
    assert (chunks / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in stale.iterdir()) == ["my-notes.txt"]


# --- one writer per folder --------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_writer_is_refused_and_the_first_finishes(tmp_path, capsys):
    slow = EXPERIMENT.replace("replications: 6", "replications: 30")
    source = _write(tmp_path, slow, SCENARIO.replace("horizon: 1h", "horizon: 24h"))
    out = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, "-m", "ccsim", "experiment", str(source), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lock = out / LOCK_NAME
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
        assert time.monotonic() < deadline and first.poll() is None, "first run never locked"
        time.sleep(0.02)
    try:
        assert _experiment(source, out, "--reps", "2") == 2
        assert "another ccsim run" in _one_line(capsys)
        assert main(["run", str(tmp_path / "scenario.yaml"), "--out", str(out)]) == 2
        assert "another ccsim run" in _one_line(capsys)
        assert main(["report", str(out)]) == 2
        assert "another ccsim run" in _one_line(capsys)
        assert first.poll() is None, "the first run ended before the others were refused"
    finally:
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr.decode()
    assert b"wrote" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 30
    assert sorted(pd.read_parquet(out / "replications.parquet").replication.unique()) == list(
        range(30)
    )
    assert main(["report", str(out)]) == 0  # the first run's tables are one generation


def test_a_lock_dies_with_its_process(tmp_path):
    source, out = _write(tmp_path), tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from ccsim.experiment.folder import output_folder\n"
            f"with output_folder({str(out)!r}):\n print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert holder.stdout.readline() == b"held\n"
    holder.kill()  # kill -9: nothing runs to release the lock
    holder.wait()
    assert _experiment(source, out) == 0


# --- saved blocks are checked, and recomputed when bad -----------------------------------------


def test_a_flipped_byte_and_a_truncated_block_are_recomputed(reference, tmp_path, capsys):
    source, out = _write(tmp_path), tmp_path / "out"
    assert _experiment(source, out) == 0
    flipped, truncated = _block_files(out, "reps")[0], _block_files(out, "intervals")[1]
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    truncated.write_bytes(truncated.read_bytes()[:-100])
    capsys.readouterr()
    assert _experiment(source, out) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "recomputing" in line]
    assert len(lines) == 2, lines
    assert any("fails its checksum" in line for line in lines)
    assert any("wrong size" in line for line in lines)
    _assert_same(_tables(out), reference)
    capsys.readouterr()
    assert _experiment(source, out) == 0  # now repaired: nothing more to recompute
    assert "recomputing" not in capsys.readouterr().err


def test_a_block_without_its_record_is_not_trusted(reference, tmp_path):
    source, out = _write(tmp_path), tmp_path / "out"
    assert _experiment(source, out) == 0
    for record in (out / ".chunks").glob("*/block-*.json"):
        record.unlink()  # as after a kill between a block's tables and its record
    reps = _block_files(out, "reps")[0]
    reps.write_bytes(b"not a table")
    assert _experiment(source, out) == 0
    _assert_same(_tables(out), reference)


def test_changed_code_recomputes_every_block(tmp_path, monkeypatch):
    source, out = _write(tmp_path), tmp_path / "out"
    assert _experiment(source, out) == 0
    before = {p.parent.name for p in _block_files(out, "reps")}
    simulated = []
    real = replications.run_block
    monkeypatch.setattr(parallel, "run_block", lambda *a: simulated.append(a[2]) or real(*a))
    assert _experiment(source, out) == 0
    assert simulated == []  # same code: every block reused
    monkeypatch.setattr(spec, "code_digest", lambda: "a changed engine")
    assert _experiment(source, out) == 0
    assert simulated == [0, 0]  # both scenarios' single block, simulated again
    after = {p.parent.name for p in _block_files(out, "reps")}
    assert before.isdisjoint(after) and len(after) == 2


def test_the_code_digest_follows_the_simulation_code_only(tmp_path):
    package = tmp_path / "ccsim"
    shutil.copytree(ROOT / "ccsim", package, ignore=shutil.ignore_patterns("__pycache__"))
    digest = digest_of(package)
    assert digest == replications.code_digest()
    (package / "report" / "html.py").write_text("# reports do not change results\n")
    (package / "cli" / "__init__.py").write_text("# nor does the command line\n")
    assert digest_of(package) == digest
    engine = package / "sim" / "engine.py"
    engine.write_text(engine.read_text().replace("def ", "def  ", 1))
    assert digest_of(package) != digest


# --- final tables are one generation ----------------------------------------------------------


def test_a_mixed_folder_is_refused_and_repaired_by_running_again(reference, tmp_path, capsys):
    source, out = _write(tmp_path), tmp_path / "out"
    other = tmp_path / "other"
    assert _experiment(source, out) == 0
    assert _experiment(source, other, "--reps", "7") == 0
    shutil.copy(other / "replications.parquet", out / "replications.parquet")
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    line = _one_line(capsys)
    assert "replications.parquet does not match manifest.json" in line
    assert "run the same command again" in line
    assert _experiment(source, out) == 0
    _assert_same(_tables(out), reference)
    assert main(["report", str(out)]) == 0


def test_a_run_cut_short_while_writing_its_tables_is_refused(reference, tmp_path, capsys):
    source, out = _write(tmp_path), tmp_path / "out"
    assert _experiment(source, out, "--reps", "4") == 0

    def cut_short(path, frame):  # the process dies after replications.parquet is replaced
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "write_csv", cut_short)
        assert _experiment(source, out) == 130
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "did not finish" in _one_line(capsys)
    assert _experiment(source, out) == 0
    _assert_same(_tables(out), reference)


# --- output folders that cannot be written ------------------------------------------------------


@pytest.mark.parametrize("where", ["under_a_file", "too_long"])
def test_an_unwritable_out_fails_in_one_line_before_any_simulation(
    where, tmp_path, capsys, monkeypatch
):
    source = _write(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "sub" if where == "under_a_file" else tmp_path / ("x" * 300)

    def simulate(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(replications, "simulate", simulate)
    scenario = str(tmp_path / "scenario.yaml")
    commands = [
        ["experiment", str(source), "--out", str(out), "--no-report"],
        ["run", scenario, "--out", str(out), "--reps", "2"],
        ["staff", scenario, "--out", str(out), "--reps", "2"],
    ]
    for command in commands:
        assert main(command) == 2, command
        line = _one_line(capsys)
        assert str(out)[:40] in line and ("cannot" in line), line


# --- streaming -----------------------------------------------------------------------------------


def test_replication_rows_are_written_block_by_block(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "_MAX_BLOCK", 4)  # 10 replications: blocks of 4, 4 and 2
    source = _write(tmp_path, EXPERIMENT.replace("replications: 6", "replications: 10"))
    out = tmp_path / "out"
    assert _experiment(source, out) == 0
    parquet = pq.ParquetFile(out / "replications.parquet")
    n_blocks = len(_block_files(out, "reps"))
    assert n_blocks == 6 and parquet.num_row_groups == n_blocks
    table = parquet.read().to_pandas()
    assert list(table.scenario.unique()) == ["base", "more"]
    assert (table.groupby("scenario").replication.apply(lambda r: r.is_monotonic_increasing)).all()


def test_ccsim_run_streams_interval_rows_identically_for_any_jobs(tmp_path, capsys):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    for jobs in ("1", "2"):
        command = ["run", str(scenario), "--reps", "9", "--jobs", jobs, "--out"]
        assert main([*command, str(tmp_path / jobs)]) == 0
    for name in ("intervals.csv", "replications.csv", "summary.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()
    intervals = pd.read_csv(tmp_path / "1" / "intervals.csv")
    assert sorted(intervals.replication.unique()) == list(range(9))
    assert not list((tmp_path / "1").glob(".*.tmp"))


# --- never overwrite a user's file ------------------------------------------------------------


def _run(tmp_path: Path, out: Path) -> int:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    return main(["run", str(scenario), "--reps", "2", "--no-progress", "--out", str(out)])


@pytest.mark.skipif(os.name != "posix", reason="links as POSIX makes them")
@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_a_lock_that_is_a_link_to_a_users_file_is_refused(tmp_path, capsys, link):
    precious = tmp_path / "thesis.txt"
    precious.write_text("four years of work\n")
    out = tmp_path / "out"
    out.mkdir()
    if link == "symbolic":
        (out / LOCK_NAME).symlink_to(precious)
    else:
        os.link(precious, out / LOCK_NAME)
    assert _run(tmp_path, out) == 2
    assert LOCK_NAME in _one_line(capsys)
    assert precious.read_text() == "four years of work\n"
    assert not (out / "summary.csv").exists()


def _refuse_any_work(monkeypatch) -> None:
    """Make every command's first piece of work fail the test: refusals come before it."""
    import ccsim.fit
    import ccsim.fit.forecast
    import ccsim.planning.search

    def work(*args, **kwargs):
        raise AssertionError("the command started its work before refusing its output")

    monkeypatch.setattr(ccsim.fit, "read_records", work)
    monkeypatch.setattr(ccsim.fit.forecast, "read_history", work)
    monkeypatch.setattr(ccsim.planning.search, "staff_scenario", work)


def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    _refuse_any_work(monkeypatch)
    design = tmp_path / "design.yaml"
    design.write_text(SCENARIO)
    os.link(design, tmp_path / "alias.yaml")  # the same file under another name
    (tmp_path / "out").mkdir()
    shutil.copy(design, tmp_path / "out" / "staffed.yaml")  # a staffed model, restaffed
    (tmp_path / "log.csv").write_text("arrival,site\n2026-01-05 09:00,main\n")
    (tmp_path / "forecast.csv").write_text("interval_start,volume\n2026-01-05 09:00,3\n")
    cases = [
        ("--model", ["staff", "design.yaml", "--method", "search", "--model", "alias.yaml"]),
        ("--out", ["staff", "out/staffed.yaml", "--method", "search", "--out", "out"]),
        ("--out", ["fit", "log.csv", "--out", "log.csv"]),
        ("--out", ["forecast", "forecast.csv", "--weeks", "2"]),  # its default --out
    ]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)
    for option, command in cases:
        assert main(command) == 2, command
        line = _one_line(capsys)
        assert line.startswith(f"ccsim: {option} ") and "is the input" in line, line
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and device nodes of POSIX")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_an_output_that_is_not_a_regular_file_is_never_replaced(
    tmp_path, capsys, monkeypatch, kind
):
    if kind == "device" and os.geteuid() != 0:
        pytest.skip("mknod needs root")
    _refuse_any_work(monkeypatch)
    design = tmp_path / "design.yaml"
    design.write_text(SCENARIO)
    node = tmp_path / "node"
    if kind == "fifo":
        os.mkfifo(node)
    else:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # what /dev/full is
    mode = os.lstat(node).st_mode
    for command in (
        ["schema", "--out", str(node)],
        ["fit", str(tmp_path / "log.csv"), "--out", str(node)],
        ["forecast", str(tmp_path / "history.csv"), "--weeks", "2", "--out", str(node)],
        ["staff", str(design), "--method", "search", "--model", str(node)],
    ):
        if command[0] == "staff":
            command += ["--out", str(tmp_path / "out")]
        assert main(command) == 2, command
        line = _one_line(capsys)
        assert "not a regular file" in line and str(node) in line, line
        assert os.lstat(node).st_mode == mode


def test_a_users_file_named_like_a_temporary_is_kept(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    users = [".intervals.csv.backup.tmp", ".intervals.csv.12345.tmp"]
    for name in users:
        (out / name).write_text("mine")
    leftover = out / f".intervals.csv.ccsim-{ended.pid}-k1ll3d_9.tmp"  # a run killed mid-way
    leftover.write_text("half")
    assert _run(tmp_path, out) == 0
    assert all((out / name).read_text() == "mine" for name in users)
    assert not leftover.exists()
