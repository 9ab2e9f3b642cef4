"""Atomic files: every table, page and saved block ccsim writes.

Each file is written to a temporary name in the same directory, flushed to disk, then renamed
over the target (``os.replace`` is atomic on POSIX and Windows): a reader sees the old file or
the new one, never half. Every layer that writes (a run's tables, a staffed model file, a
report) writes through here, so this module depends on nothing else in ccsim.

Two rules keep a user's files safe from it. A target that exists and is not a regular file
(a device such as ``/dev/full``, a pipe, a folder) is never renamed over
(:class:`NotRegularFileError`). And the temporary files are named so that ccsim can tell
its own from anyone else's: ``.<target>.ccsim-<pid>-<8 random characters>.tmp``, created
with ``O_EXCL`` (``mkstemp``) and remembered while this process writes them. A run killed
mid-write leaves one behind; :func:`remove_leftovers` deletes only names of exactly that
form, of a process that has ended, and only plain files of this user with a single link:
a user's file that merely looks like a temporary name is left alone.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SMALL_FILE_BYTES",
    "FileTooLargeError",
    "NotRegularFileError",
    "append_csv",
    "atomic_write",
    "check_target",
    "commit_staged",
    "discard_staged",
    "file_digest",
    "read_small",
    "remove_leftovers",
    "staging_file",
    "write_csv",
    "write_parquet",
    "write_text",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; results are meant to be shared like
# any file the user writes, so give them the permissions the umask allows.
_FILE_MODE = 0o666 & ~_umask()

#: A temporary name of ccsim's: the target's name, the writing process and mkstemp's eight
#: random characters (lower-case letters, digits and ``_``).
_TEMPORARY = re.compile(r"\.(?P<target>.+)\.ccsim-(?P<pid>[1-9][0-9]{0,9})-[a-z0-9_]{8}\.tmp")

#: The temporary files this process has created and not yet renamed or removed.
_CREATED: set[str] = set()
_CREATED_LOCK = threading.Lock()


class NotRegularFileError(OSError):
    """A target that exists and is not a regular file: never replaced."""


class FileTooLargeError(OSError):
    """A file read back that is larger than any ccsim writes there."""


#: The most a small file ccsim reads back (a manifest, a block's record) may hold: theirs
#: are a few kilobytes, and a folder may have been edited or damaged since.
SMALL_FILE_BYTES = 16 * 2**20


def read_small(path: str | Path, limit: int = SMALL_FILE_BYTES) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes.

    A file found in an output folder may have been replaced by anything: a pipe waits for
    a writer at ``open``, a device (``/dev/zero``) is read until the memory runs out. So the
    node is checked before opening, opened without waiting (``O_NONBLOCK``: no effect on a
    regular file), checked again on the open file, and read no further than ``limit``.
    Raises :class:`NotRegularFileError` or :class:`FileTooLargeError` (both ``OSError``,
    their ``strerror`` a phrase that completes the file's name)."""

    def not_regular() -> NotRegularFileError:
        return NotRegularFileError(errno.EINVAL, "is not a regular file", str(path))

    if not stat.S_ISREG(os.stat(path).st_mode):
        raise not_regular()
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise not_regular()
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(errno.EFBIG, f"is larger than {limit:,} bytes", str(path))
    return data


def check_target(path: str | Path) -> None:
    """Raise :class:`NotRegularFileError` if ``path`` exists and is neither a regular file
    nor a symbolic link (a link is replaced itself, never what it points to)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return  # absent, or a folder that cannot be read: the write says why
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise NotRegularFileError(
            errno.EEXIST, "exists and is not a regular file; choose another name", str(path)
        )


def staging_file(path: str | Path) -> Path:
    """Create an empty temporary file beside ``path`` (``O_EXCL``: never an existing file),
    remembered as this process's until :func:`commit_staged` or :func:`discard_staged`."""
    path = Path(path)
    prefix = f".{path.name}.ccsim-{os.getpid()}-"
    try:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except OSError as exc:
        # The user asked for ``path``: a message naming our temporary name sends them
        # looking for a file they never heard of.
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    with _CREATED_LOCK:
        _CREATED.add(name)
    try:
        os.chmod(fd if os.chmod in os.supports_fd else name, _FILE_MODE)
    except BaseException:
        os.close(fd)
        discard_staged(name)
        raise
    os.close(fd)
    return Path(name)


def discard_staged(tmp: str | Path) -> None:
    """Remove a temporary file of :func:`staging_file`; any other path is left alone."""
    name = str(tmp)
    with _CREATED_LOCK:
        if name not in _CREATED:
            return
        _CREATED.discard(name)
    Path(name).unlink(missing_ok=True)


def commit_staged(tmp: str | Path, path: str | Path) -> Path:
    """Rename a temporary file of :func:`staging_file` over ``path`` (checked first)."""
    check_target(path)
    os.replace(tmp, path)
    with _CREATED_LOCK:
        _CREATED.discard(str(tmp))
    return Path(path)


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(temporary_name)``, flush the file to disk, then rename it to ``path``.
    Raises :class:`NotRegularFileError`, before writing anything, if ``path`` exists and is
    not a regular file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_target(path)
    tmp = staging_file(path)
    try:
        write(str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        return commit_staged(tmp, path)
    except BaseException:
        discard_staged(tmp)
        raise


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (this one has not)."""
    if pid == os.getpid():
        return False
    if os.name != "posix":  # os.kill would end the process: rely on the folder's lock
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's
        return False
    return False


def _leftover(entry: os.DirEntry, targets: set[str] | None) -> bool:
    match = _TEMPORARY.fullmatch(entry.name)
    if match is None or (targets is not None and match["target"] not in targets):
        return False
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    if not (stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and mine):
        return False
    return _ended(int(match["pid"]))


def remove_leftovers(folder: str | Path, targets: Iterable[str] | None = None) -> list[Path]:
    """Delete the temporary files a killed ccsim left in ``folder`` (those of the target
    names ``targets``, or of any target): names of exactly ccsim's form, of a process that
    has ended, regular files of this user with one link. Returns the paths removed."""
    wanted = None if targets is None else set(targets)
    removed = []
    try:
        with os.scandir(folder) as entries:
            found = [Path(entry.path) for entry in entries if _leftover(entry, wanted)]
    except OSError:
        return []
    for path in found:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write ``text`` to ``path``, creating parent directories."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8", newline=""))


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as CSV (no index; floats at full precision)."""
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def append_csv(handle, frame: pd.DataFrame, header: bool) -> None:
    """Append ``frame``'s rows to the open text file ``handle`` as ``frame.to_csv(handle,
    index=False, header=header, lineterminator="\n")`` writes them, byte for byte.

    pandas formats a float column with numpy's ``astype(str)`` (the shortest repr, as
    Python's ``repr``) and hands the strings to :mod:`csv`; here the frame becomes one
    array of Python objects, missing values None (an empty field, as pandas writes them),
    and :mod:`csv` formats the floats itself. The interval rows of a week of half-hours
    are about 40,000 numbers a replication, and pandas' way took half of ``ccsim run``'s
    time on a short model. Columns of another kind (dates, categories) go through pandas."""
    if frame.shape[1] == 0 or any(dtype.kind not in "fiubO" for dtype in frame.dtypes):
        frame.to_csv(handle, index=False, header=header, lineterminator="\n")
        return
    writer = csv.writer(handle, lineterminator="\n")
    if header:
        writer.writerow(frame.columns)
    start = _float_tail(frame)
    if start is None:
        values = frame.to_numpy(dtype=object)
        values[frame.isna().to_numpy()] = None
        writer.writerows(values.tolist())
        return
    handle.writelines(_rows_sharing_tails(frame, start))


def _float_tail(frame: pd.DataFrame) -> int | None:
    """Where the frame's last run of float64 columns starts, when it has one of at least two
    columns after two others (an interval table: its keys, then every KPI); else None."""
    start = frame.shape[1]
    while start > 0 and frame.dtypes.iloc[start - 1] == "float64":
        start -= 1
    return start if start >= 2 and frame.shape[1] - start >= 2 and len(frame) > 1 else None


def _rows_sharing_tails(frame: pd.DataFrame, start: int) -> Iterable[str]:
    """The frame's CSV lines, the float columns from ``start`` on formatted once per distinct
    row of them: a centre closed at night has a week of interval rows whose KPIs are the same
    zeros and blanks, and formatting a float is most of writing it. Each part is what
    :mod:`csv` writes (a float as its ``repr``, which needs no quoting; a missing value as an
    empty field); the keys end with an empty field, so that their comma is written too."""
    head = frame.iloc[:, :start]
    keys = head.to_numpy(dtype=object)
    keys[head.isna().to_numpy()] = None
    parts: list[str] = []
    # A row's line ends as every line does: csv quotes a key holding a line break only then.
    csv.writer(_Lines(parts), lineterminator="\n").writerows([*r, None] for r in keys.tolist())
    block = np.ascontiguousarray(frame.iloc[:, start:].to_numpy(dtype=np.float64))
    width, raw = block.shape[1] * 8, block.tobytes()
    tails: dict[bytes, str] = {}
    for i, values in enumerate(block):
        key = raw[i * width : (i + 1) * width]
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = ",".join("" if v != v else repr(v) for v in values.tolist())
        yield parts[i][:-1] + tail + "\n"


class _Lines:
    """A file for :func:`csv.writer` that keeps each row's text in a list."""

    __slots__ = ("write",)

    def __init__(self, into: list[str]) -> None:
        self.write = into.append


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet."""
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def file_digest(path: str | Path) -> dict[str, Any]:
    """Size and sha256 of a file, read in pieces (tables can be large)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
            size += len(piece)
    return {"size": size, "sha256": digest.hexdigest()}
