"""Results on disk, written atomically: a reader sees the old file or the new one, never half.

Each file is written to a temporary name in the same directory, flushed to disk, then
renamed over the target (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

__all__ = ["ChunkStore", "write_csv", "write_parquet", "write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; results are meant to be shared like
# any file the user writes, so give them the permissions the umask allows.
_FILE_MODE = 0o666 & ~_umask()


def _atomic(path: str | Path, write: Callable[[str], None]) -> Path:
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
    return _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8", newline=""))


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as CSV (no index; floats at full precision)."""
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet."""
    return _atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


class ChunkStore:
    """Completed blocks of replications, one pair of Parquet files per block.

    Each block of a scenario is saved as soon as it is done, under a directory named by the
    scenario's fingerprint (its validated content, the seeds and the ccsim version), so an
    interrupted experiment resumes with every saved block and a changed scenario starts
    afresh. The interval sums are written first and the replication rows last: a block
    counts as done only once its replication rows exist.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / ".chunks"

    def _paths(self, fingerprint: str, first: int, stop: int) -> tuple[Path, Path]:
        stem = f"{first:08d}-{stop:08d}"
        folder = self.root / fingerprint
        return folder / f"reps-{stem}.parquet", folder / f"intervals-{stem}.parquet"

    def done(self, fingerprint: str) -> set[tuple[int, int]]:
        """The (first, stop) ranges already saved for a scenario."""
        folder = self.root / fingerprint
        if not folder.is_dir():
            return set()
        for leftover in folder.glob(".*.tmp"):  # a write cut short by a kill: never renamed
            leftover.unlink(missing_ok=True)
        blocks = set()
        for path in folder.glob("reps-*.parquet"):
            first, stop = path.stem.removeprefix("reps-").split("-")
            blocks.add((int(first), int(stop)))
        return blocks

    def save(
        self, fingerprint: str, first: int, stop: int, reps: pd.DataFrame, sums: pd.DataFrame
    ) -> None:
        reps_path, sums_path = self._paths(fingerprint, first, stop)
        write_parquet(sums_path, sums)
        write_parquet(reps_path, reps)

    def load(self, fingerprint: str, block: tuple[int, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Replication rows and interval sums of one saved block."""
        reps_path, sums_path = self._paths(fingerprint, *block)
        return pd.read_parquet(reps_path), pd.read_parquet(sums_path)

    def prune(self, keep: set[str]) -> None:
        """Remove the blocks of scenarios that are no longer part of the experiment."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if folder.is_dir() and folder.name not in keep:
                for path in folder.iterdir():
                    path.unlink()
                folder.rmdir()
