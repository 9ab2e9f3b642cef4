"""Saved blocks of replications: what lets an interrupted experiment resume.

Each finished block of a scenario is saved under ``<out>/.chunks/<fingerprint>/`` as two
Parquet tables (``reps-F-S.parquet``, the replication rows, and ``intervals-F-S.parquet``,
the interval running sums) and, written last, a record ``block-F-S.json`` that names the
block (fingerprint, first and stop replication) and lists each table's size and sha256.
A block counts as saved only when its record exists and both tables match it: a block
truncated by a full disk, flipped by a bad sector or edited by hand is recomputed, never
read as results. The records are also the store's list of its own files: :meth:`prune`
deletes only files a record names (and temporary files of ccsim's runs that were killed,
:func:`ccsim.files.remove_leftovers`), never follows a symbolic link, and leaves anything
else in ``.chunks`` alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ccsim.experiment.type_tables import plain_rows, typed_rows
from ccsim.files import (
    FileTooLargeError,
    atomic_write,
    file_digest,
    read_small,
    remove_leftovers,
    write_text,
)

__all__ = ["Block", "BlockError", "BlockStore", "decode_table", "encode_table"]

Block = tuple[int, int]

_RECORD = re.compile(r"block-(\d{8})-(\d{8})\.json")
_FINGERPRINT = re.compile(r"[0-9a-f]{20,64}")


def encode_table(frame: pd.DataFrame) -> bytes:
    """A block's table as the Parquet bytes it is saved as (the worker that ran the block
    encodes it: the process that dispatches the work spent most of its time here while
    the workers waited)."""
    data = io.BytesIO()
    frame.to_parquet(data, index=False)
    return data.getvalue()


def decode_table(payload: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """The table (those ``columns``) of :func:`encode_table`'s bytes."""
    return pq.read_table(io.BytesIO(payload), columns=columns).to_pandas()


class BlockError(Exception):
    """A saved block that cannot be trusted: missing, truncated or changed."""


def _plain_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


class BlockStore:
    """The saved blocks of an output folder, checked against their records when read."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / ".chunks"

    def _stem(self, block: Block) -> str:
        return f"{block[0]:08d}-{block[1]:08d}"

    def _paths(self, fingerprint: str, block: Block) -> dict[str, Path]:
        folder, stem = self.root / fingerprint, self._stem(block)
        return {
            "reps": folder / f"reps-{stem}.parquet",
            "intervals": folder / f"intervals-{stem}.parquet",
            "record": folder / f"block-{stem}.json",
        }

    def path(self, fingerprint: str, block: Block, kind: str) -> Path:
        """Where a block's ``reps`` or ``intervals`` table is saved."""
        return self._paths(fingerprint, block)[kind]

    def _record(self, fingerprint: str, block: Block) -> dict:
        path = self._paths(fingerprint, block)["record"]
        try:
            record = json.loads(read_small(path).decode("utf-8"))
        except FileNotFoundError:
            raise BlockError("no record") from None
        except OSError as exc:
            raise BlockError(f"unreadable record ({exc.strerror or type(exc).__name__})") from None
        except ValueError as exc:
            raise BlockError(f"unreadable record ({exc.__class__.__name__})") from None
        expected = {"fingerprint": fingerprint, "first": block[0], "stop": block[1]}
        if not isinstance(record, dict) or any(record.get(k) != v for k, v in expected.items()):
            raise BlockError("record names another block")
        return record

    def save(
        self,
        fingerprint: str,
        first: int,
        stop: int,
        reps: pd.DataFrame | bytes,
        sums: pd.DataFrame | bytes,
    ) -> None:
        """Save a block: both tables (frames, or already :func:`encode_table`'s bytes),
        then the record that makes it count."""
        paths = self._paths(fingerprint, (first, stop))
        paths["record"].unlink(missing_ok=True)  # a block being replaced does not count
        files = {}
        for kind, frame in (("reps", reps), ("intervals", sums)):
            payload = frame if isinstance(frame, bytes) else encode_table(frame)
            atomic_write(paths[kind], lambda tmp, p=payload: Path(tmp).write_bytes(p))
            files[kind] = file_digest(paths[kind])
        record = {"fingerprint": fingerprint, "first": first, "stop": stop, "files": files}
        write_text(paths["record"], json.dumps(record, indent=1) + "\n")

    def saved(self, fingerprint: str) -> tuple[set[Block], dict[Block, str]]:
        """The blocks of a scenario whose record exists, checked: (good ones, bad ones with
        why). Temporary files left by a kill are removed."""
        folder = self.root / fingerprint
        if not folder.is_dir():
            return set(), {}
        remove_leftovers(folder)
        good, bad = set(), {}
        for path in sorted(folder.iterdir()):
            match = _RECORD.fullmatch(path.name)
            if match is None:
                continue
            block = (int(match[1]), int(match[2]))
            try:
                for kind in ("reps", "intervals"):
                    self._read(fingerprint, block, kind)
            except BlockError as exc:
                bad[block] = str(exc)
            else:
                good.add(block)
        return good, bad

    def _read(self, fingerprint: str, block: Block, kind: str, columns=None) -> pa.Table:
        expected = self._record(fingerprint, block).get("files", {}).get(kind)
        path = self._paths(fingerprint, block)[kind]
        size = expected.get("size") if isinstance(expected, dict) else None
        try:
            # Never more than the record says (a pipe or a device put in its place: not read).
            payload = read_small(path, size if isinstance(size, int) and size >= 0 else 0)
        except FileTooLargeError:
            raise BlockError(f"{path.name} has the wrong size") from None
        except FileNotFoundError:
            raise BlockError(f"{path.name} is missing") from None
        except OSError as exc:
            raise BlockError(f"{path.name} cannot be read ({exc.strerror})") from None
        if not isinstance(expected, dict) or len(payload) != expected.get("size"):
            raise BlockError(f"{path.name} has the wrong size (truncated?)")
        if hashlib.sha256(payload).hexdigest() != expected.get("sha256"):
            raise BlockError(f"{path.name} fails its checksum")
        try:
            return pq.read_table(pa.BufferReader(payload), columns=columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise BlockError(f"{path.name} is not a readable table ({exc})") from None

    def reps(self, fingerprint: str, block: Block, columns=None) -> pa.Table:
        """The replication rows of a saved block, checked (:class:`BlockError` if bad),
        without the rows per request type that a scenario with types saves with them."""
        table = plain_rows(self._read(fingerprint, block, "reps"))
        return table if columns is None else table.select(columns)

    def types(self, fingerprint: str, block: Block) -> pa.Table | None:
        """The rows per request type of a saved block, or None (a scenario without)."""
        return typed_rows(self._read(fingerprint, block, "reps"))

    def sums(self, fingerprint: str, block: Block, columns=None) -> pd.DataFrame:
        """The interval running sums of a saved block (those ``columns``), checked."""
        return self._read(fingerprint, block, "intervals", columns).to_pandas()

    def prune(self, keep: set[str]) -> None:
        """Delete the saved blocks of scenarios no longer in the experiment: only the files
        ccsim's records name, in folders that are not symbolic links."""
        if not _plain_dir(self.root):
            return
        for folder in list(self.root.iterdir()):
            if folder.name in keep or not _FINGERPRINT.fullmatch(folder.name):
                continue
            if not _plain_dir(folder):
                continue
            remove_leftovers(folder)
            for record in list(folder.iterdir()):
                match = _RECORD.fullmatch(record.name)
                if match is None or not _plain_file(record):
                    continue
                block = (int(match[1]), int(match[2]))
                for kind, path in self._paths(folder.name, block).items():
                    if kind != "record" and _plain_file(path):
                        path.unlink(missing_ok=True)
                record.unlink(missing_ok=True)
            # Something ccsim did not write is left in it: so is the folder.
            with contextlib.suppress(OSError):
                folder.rmdir()
