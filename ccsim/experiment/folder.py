"""An output folder: one writer at a time, complete generations of its tables.

Three guarantees, each against a different way of losing or mixing results:

* **Atomic files** (:mod:`ccsim.files`): a reader sees the old file or the new one, never
  half.
* **One writer per folder.** :func:`output_folder` takes an exclusive OS lock on
  ``<out>/.ccsim.lock`` (``flock``): a second run on the same folder stops at once with one
  line. The operating system drops the lock when its process ends, ``kill -9`` included,
  so a lock is never stale. The lock file is opened without following a link and refused
  unless it is a regular file with one link: a lock that is a link to a user's file would
  have that file truncated. A lock the command found empty (just made: a holder writes its
  PID) is removed when it is done, while still held: a folder that had none is left
  without one, by a report too. It also checks, before any work, that the folder can be
  created and written.
* **No input overwritten.** :func:`refuse_overwrite` stops a command, before any work,
  whose output is one of its inputs (the same file, through a link too) or exists and is
  not a regular file (``/dev/full``).
* **Complete generations.** The final tables of a run are written one by one, then
  ``manifest.json`` is written last and lists each table's size and sha256
  (:func:`commit_generation`). The old manifest is removed before the first table is
  replaced, so a run killed half-way leaves a folder with no manifest, or with tables
  that do not match it; :func:`check_generation` refuses both, and a manifest that lists
  no table.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ccsim.files import NotRegularFileError, check_target, file_digest, write_text
from ccsim.model.errors import UserError

__all__ = [
    "LOCK_NAME",
    "MANIFEST_NAME",
    "IncompleteOutputError",
    "OutputError",
    "OutputLockedError",
    "check_generation",
    "commit_generation",
    "output_folder",
    "refuse_overwrite",
    "start_generation",
    "writing_to",
]

LOCK_NAME = ".ccsim.lock"
MANIFEST_NAME = "manifest.json"
_REPAIR = (
    "run the same command again (an experiment resumes from its saved blocks and rewrites "
    "the tables)"
)


class OutputError(UserError):
    """An output folder that cannot be created or written."""


class OutputLockedError(OutputError):
    """An output folder another ccsim process is writing to."""


class IncompleteOutputError(UserError):
    """An output folder whose tables are not one complete generation."""


def _why(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


# --- one writer per folder -------------------------------------------------------------------

try:  # POSIX
    import fcntl

    def _try_lock(handle) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

except ImportError:  # Windows: a byte-range lock, also released when the process dies
    import msvcrt

    def _try_lock(handle) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True


#: Folders this process holds: a run that renders its report takes the lock again, and a
#: second ``flock`` on a new descriptor would fail against the process's own lock.
_HELD: dict[Path, int] = {}


#: No link followed (a lock that is a link would truncate what it points to), no wait on a
#: pipe; O_NOFOLLOW and O_NONBLOCK do not exist on Windows, which has no such files either.
_LOCK_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _open_lock(out: Path, path: Path):
    """The lock file, opened for reading and writing: created if absent, refused unless a
    regular file with one link (a hard link to a user's file shares its content); None if
    the process that made it removed it meanwhile."""
    try:
        fd = os.open(path, _LOCK_FLAGS, 0o666)
    except OSError as exc:
        if os.path.islink(path):
            raise OutputError(
                f"{path}: the lock file is a symbolic link; remove it (ccsim makes its own)"
            ) from None
        raise OutputError(f"{out}: cannot write to the output folder ({_why(exc)})") from None
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:  # removed since by its holder
        os.close(fd)
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "has other links" if stat.S_ISREG(info.st_mode) else "is not a regular file"
        raise OutputError(f"{path}: the lock file {what}; remove it (ccsim makes its own)")
    return os.fdopen(fd, "r+", encoding="utf-8")


def _still_there(handle, path: Path) -> bool:
    """Whether ``path`` is still the file ``handle`` locked: a process removes a lock it
    made when done, and one that opened it just before then holds a lock on a file no other
    process can find."""
    try:
        now = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(handle.fileno())
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _lock(out: Path, path: Path):
    """The lock file, locked by this process, and whether it was new (empty: the holder
    writes its PID, so only a lock just made is empty); a folder another process holds
    raises :class:`OutputLockedError`."""
    for _ in range(100):  # a race with a process removing its lock is lost a few times at most
        handle = _open_lock(out, path)
        if handle is None:
            continue
        handle.seek(0)
        if not _try_lock(handle):
            holder = handle.read().strip()
            handle.close()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise OutputLockedError(
                f"{out}: another ccsim run{who} is writing to this folder; "
                "wait for it to finish or choose another --out"
            )
        if os.name != "posix" or _still_there(handle, path):
            return handle, not handle.read().strip()
        handle.close()
    raise OutputError(f"{path}: the lock file keeps changing; is another program removing it?")


@contextlib.contextmanager
def output_folder(out: str | Path) -> Iterator[Path]:
    """Create ``out``, take its lock and check that it can be written; hold the lock for
    the ``with`` block. Raises :class:`OutputError` (or :class:`OutputLockedError`) in one
    line, before any work is done."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        key = out.resolve()
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({_why(exc)})") from None
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield out
        finally:
            _HELD[key] -= 1
        return
    handle, new = _lock(out, key / LOCK_NAME)
    try:
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            fd, probe = tempfile.mkstemp(prefix=".ccsim-probe-", dir=key)  # O_EXCL: a new file
            os.write(fd, b"ccsim")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputError(f"{out}: cannot write to the output folder ({_why(exc)})") from None
        _HELD[key] = 1
        try:
            yield out
        finally:
            del _HELD[key]
    finally:
        if new and os.name == "posix":  # leave no lock in a folder that had none
            with contextlib.suppress(OSError):  # removed while still held: see _still_there
                os.unlink(key / LOCK_NAME)
        handle.close()  # closing the descriptor releases the lock


@contextlib.contextmanager
def writing_to(out: str | Path, what: str) -> Iterator[None]:
    """A full disk, or a folder that became unwritable during a run, as one line."""
    try:
        yield
    except NotRegularFileError as exc:
        raise OutputError(f"{exc.filename}: {exc.strerror}") from None
    except OSError as exc:
        # What to do depends on why: room helps a full disk, not a folder that refuses us.
        remedy = (
            "make room and run the same command again"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "choose a folder you can write to"
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
            else "run the same command again"
        )
        where = exc.filename or out
        raise OutputError(f"{where}: cannot write {what} ({_why(exc)}); {remedy}") from None


def refuse_overwrite(
    outputs: str | Path | Iterable[str | Path],
    inputs: Iterable[str | Path],
    option: str,
) -> None:
    """Refuse, in one line naming ``option``, an output that is one of the command's
    ``inputs`` (the same file, through a symbolic or hard link too) or that exists and is
    not a regular file. Called before any work, so that nothing is lost or wasted."""
    if isinstance(outputs, (str, Path)):
        outputs = [outputs]
    inputs = [Path(path) for path in inputs]
    for output in map(Path, outputs):
        try:
            check_target(output)
        except NotRegularFileError as exc:
            raise OutputError(f"{option} {output}: {exc.strerror}") from None
        for source in inputs:
            with contextlib.suppress(OSError):  # either absent: not the same file
                if os.path.samefile(output, source):
                    raise OutputError(
                        f"{option} {output}: is the input {source}; writing it would "
                        "destroy the input, choose another name"
                    )


# --- complete generations --------------------------------------------------------------------


def start_generation(out: str | Path) -> None:
    """Mark ``out`` as being rewritten: remove the manifest before any table is replaced."""
    (Path(out) / MANIFEST_NAME).unlink(missing_ok=True)


def commit_generation(out: str | Path, files: list[Path], manifest: dict[str, Any]) -> dict:
    """Write ``manifest.json`` last, listing each of ``files`` with its size and sha256;
    return the manifest as written."""
    manifest = {**manifest, "files": {path.name: file_digest(path) for path in files}}
    write_text(Path(out) / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    return manifest


def check_generation(out: str | Path, manifest: dict[str, Any]) -> None:
    """Refuse a folder whose tables are not those its manifest lists (a run killed while it
    rewrote them, or a file changed by hand), and a manifest that lists none: every ccsim
    that writes ``files`` checks it, so a manifest without them (edited, or from a ccsim
    before the list, which carried the same version number) cannot vouch for any table."""
    files = manifest.get("files")
    folder = Path(out)
    if not isinstance(files, dict) or not files:
        what = "has no 'files' list" if not files else "'files' is not a mapping"
        raise IncompleteOutputError(
            f"{folder / MANIFEST_NAME}: {what}, so the tables cannot be checked (edited, or "
            f"written by an older ccsim); {_REPAIR}"
        )
    for name, expected in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise IncompleteOutputError(
                f"{folder / MANIFEST_NAME}: 'files' names {name!r}, not a file of the folder"
            )
        path = folder / name
        if not path.is_file():  # a pipe or a device in its place is never read
            what = "is not a regular file" if path.exists() else "is missing"
            raise IncompleteOutputError(
                f"{folder}: {name} {what}, the folder is incomplete; {_REPAIR}"
            )
        if not isinstance(expected, dict) or file_digest(path) != {
            "size": expected.get("size"),
            "sha256": expected.get("sha256"),
        }:
            raise IncompleteOutputError(
                f"{folder}: {name} does not match {MANIFEST_NAME} (tables from different "
                f"runs, or a file changed since); {_REPAIR}"
            )
