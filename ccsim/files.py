"""Atomic files: every table, page and saved block ccsim writes.

Each file is written to a temporary name in the same directory, flushed to disk, then renamed
over the target (``os.replace`` is atomic on POSIX and Windows): a reader sees the old file or
the new one, never half. Every layer that writes (a run's tables, a staffed model file, a
report) writes through here, so this module depends on nothing else in ccsim.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["atomic_write", "file_digest", "write_csv", "write_parquet", "write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; results are meant to be shared like
# any file the user writes, so give them the permissions the umask allows.
_FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(temporary_name)``, flush the file to disk, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, _FILE_MODE)
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write ``text`` to ``path``, creating parent directories."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8", newline=""))


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as CSV (no index; floats at full precision)."""
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


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
