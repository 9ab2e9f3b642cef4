"""Atomic files never destroy what is not theirs: a target that is not a regular file is
never renamed over, and only temporaries of ccsim's own form, of a process that has ended,
are cleared (docs/reliability.md, ``ccsim/files.py``)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccsim.files import (
    NotRegularFileError,
    append_csv,
    atomic_write,
    discard_staged,
    remove_leftovers,
    staging_file,
    write_text,
)

posix = pytest.mark.skipif(os.name != "posix", reason="FIFOs, links and PIDs of POSIX")


def _ended_pid() -> int:
    """The PID of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@posix
def test_a_target_that_is_not_a_regular_file_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="not a regular file"):
        write_text(fifo, "text")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(NotRegularFileError):
        write_text(folder, "text")
    assert folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "pipe"]  # no temporary


@posix
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root")
def test_a_device_node_is_never_replaced(tmp_path):
    device = tmp_path / "full"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # /dev/full's numbers
    with pytest.raises(NotRegularFileError):
        write_text(device, "text")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


@posix
def test_a_symbolic_link_is_replaced_not_what_it_points_to(tmp_path):
    target = tmp_path / "theirs.txt"
    target.write_text("theirs")
    (tmp_path / "link.txt").symlink_to(target)
    write_text(tmp_path / "link.txt", "ours")
    assert target.read_text() == "theirs" and (tmp_path / "link.txt").read_text() == "ours"


def test_temporary_names_carry_ccsim_and_the_process(tmp_path):
    seen = []
    atomic_write(tmp_path / "table.csv", lambda tmp: seen.append(tmp) or Path(tmp).write_text(""))
    assert Path(seen[0]).name.startswith(f".table.csv.ccsim-{os.getpid()}-")
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_failed_write_removes_its_temporary_only(tmp_path):
    (tmp_path / ".table.csv.mine.tmp").write_text("user")

    def fail(tmp: str) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "table.csv", fail)
    assert [p.name for p in tmp_path.iterdir()] == [".table.csv.mine.tmp"]
    discard_staged(tmp_path / ".table.csv.mine.tmp")  # not one of ours: left alone
    assert (tmp_path / ".table.csv.mine.tmp").read_text() == "user"


@posix
def test_only_leftovers_of_ccsim_from_ended_processes_are_removed(tmp_path):
    ended, alive = _ended_pid(), os.getppid()
    leftover = tmp_path / f".intervals.csv.ccsim-{ended}-abc_1234.tmp"
    users = [
        ".intervals.csv.mine.tmp",
        ".intervals.csv.abcdefgh.tmp",  # the old mkstemp form: a user's name like any
        f".intervals.csv.ccsim-{ended}-toolongname.tmp",
        f".intervals.csv.ccsim-{alive}-abcdefgh.tmp",  # a process still running
        f".summary.csv.ccsim-{ended}-abcdefgh.tmp",  # another target than asked
    ]
    for name in [leftover.name, *users]:
        (tmp_path / name).write_text(name)
    linked = tmp_path / f".intervals.csv.ccsim-{ended}-linked01.tmp"
    os.link(tmp_path / users[0], linked)  # a hard link to a user's file
    (tmp_path / f".intervals.csv.ccsim-{ended}-symlink1.tmp").symlink_to(tmp_path / users[1])
    mine = staging_file(tmp_path / "intervals.csv")  # this process's, in use
    assert remove_leftovers(tmp_path, ["intervals.csv"]) == [leftover]
    assert not leftover.exists() and mine.exists() and linked.exists()
    for name in users:
        assert (tmp_path / name).read_text() == name
    discard_staged(mine)
    assert not mine.exists()
    assert remove_leftovers(tmp_path / "absent") == []


def test_a_folder_that_refuses_us_is_named_by_the_target_with_its_remedy(tmp_path, monkeypatch):
    # mkstemp's error names the temporary file, which the user never asked for; and
    # "make room" is no advice for a folder without write permission.
    import errno
    import tempfile

    from ccsim.experiment.folder import OutputError, writing_to

    def refused(prefix, suffix, dir):
        name = os.path.join(dir, f"{prefix}abcdefgh{suffix}")
        raise PermissionError(errno.EACCES, "Permission denied", name)

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    target = tmp_path / "schema.json"
    with pytest.raises(OutputError) as refusal, writing_to(tmp_path, "the schema"):
        atomic_write(target, lambda name: None)
    message = str(refusal.value)
    assert message.startswith(f"{target}: cannot write the schema (Permission denied)")
    assert ".tmp" not in message and "choose a folder you can write to" in message


@pytest.mark.parametrize("header", [True, False])
def test_rows_appended_as_csv_are_what_pandas_writes(header):
    """``append_csv`` is a faster ``to_csv(index=False, lineterminator="\\n")``: the same
    bytes for every kind of value a run's tables hold (floats at full precision, signed
    zero, infinities, missing values as empty fields, text that needs quoting, integers,
    flags, nullable integers) and, through pandas, for dates."""
    rng = np.random.default_rng(7)
    floats = rng.standard_normal(40) * 10.0 ** rng.integers(-20, 20, 40)
    floats[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e16]
    frame = pd.DataFrame(
        {
            "float": floats,
            "text": ["a,b", 'say "hi"', "", None, "line\nbreak"] * 8,
            "int": np.arange(40),
            "flag": [True, False] * 20,
            "nullable": pd.array([1, None, 3, 4] * 10, dtype="Int64"),
            "small": np.arange(40, dtype=np.uint8),
        }
    )
    dated = frame.assign(day=pd.date_range("2026-03-02", periods=40, freq="h"))
    for table in (frame, dated, frame.iloc[:0]):
        expected = io.StringIO()
        table.to_csv(expected, index=False, header=header, lineterminator="\n")
        written = io.StringIO()
        append_csv(written, table, header=header)
        assert written.getvalue() == expected.getvalue()


@pytest.mark.parametrize("header", [True, False])
def test_rows_sharing_their_float_columns_are_still_what_pandas_writes(header):
    """An interval table's rows (keys, then a run of float columns, many rows alike where
    the centre is closed) are written with each distinct run of floats formatted once: the
    same bytes as ``to_csv`` for repeated and distinct rows, keys that need quoting (a comma,
    a quote, a line break, an empty key), signed zeros, infinities and missing values, and
    rows whose floats differ only in the sign of a zero or in a missing value."""
    rng = np.random.default_rng(11)
    n = 60
    block = np.zeros((n, 5))
    block[::3] = rng.standard_normal((20, 5)) * 10.0 ** rng.integers(-12, 12, (20, 5))
    block[1::6, 0] = -0.0
    block[2::6, 1] = np.nan
    block[4::6, 2] = np.inf
    block[5, :] = np.nan
    frame = pd.DataFrame(
        {
            "channel": ["a,b", 'say "hi"', "", None, "line\nbreak", "voice"] * 10,
            "interval": np.arange(n),
            **{f"kpi{j}": block[:, j] for j in range(5)},
        }
    )
    for table in (frame, frame.iloc[:1], frame.iloc[:, 1:]):
        expected = io.StringIO()
        table.to_csv(expected, index=False, header=header, lineterminator="\n")
        written = io.StringIO()
        append_csv(written, table, header=header)
        assert written.getvalue() == expected.getvalue()
