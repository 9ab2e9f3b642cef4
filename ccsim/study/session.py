"""One session of an experiment in an output folder: its wall time kept beside the saved
blocks after every block (a killed run still counts it), and the manifest that closes the
run, with the total over every session that worked on the same scenarios."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccsim.experiment.folder import writing_to
from ccsim.experiment.replications import code_digest
from ccsim.experiment.saved_blocks import BlockStore
from ccsim.files import read_small, write_text
from ccsim.version import __version__

__all__ = ["Session", "call_text", "library_versions"]

#: Wall time of every session that ran (part of) an experiment in an output folder, kept
#: beside the saved blocks (not among them: their folder holds only blocks) so that a
#: resumed run's manifest can give the total.
_SESSIONS = ".sessions.json"


def library_versions() -> dict[str, str]:
    """Python's and the numerical libraries' versions, for the manifest."""
    versions = {"python": platform.python_version()}
    for package in ("simpy", "numpy", "pandas", "scipy", "joblib", "pydantic", "pyarrow", "dask"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _earlier_sessions(store: BlockStore, fingerprints: set[str]) -> list[dict[str, Any]]:
    """Sessions recorded in the store that computed blocks of these scenarios."""
    try:
        # A pipe or a device put in its place must not hang the run or fill the memory.
        sessions = json.loads(read_small(store.root.parent / _SESSIONS).decode("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(sessions, list):
        return []
    return [
        session
        for session in sessions
        if isinstance(session, dict)
        and isinstance(session.get("wall_s"), int | float)
        and fingerprints & set(session.get("fingerprints", []))
    ]


class Session:
    """This session's saved blocks and wall time, in ``store``'s output folder ``out``."""

    def __init__(self, store: BlockStore, out, fingerprints: set[str]) -> None:
        self.store, self.out = store, out
        self.started, self._clock = datetime.now(UTC), time.perf_counter()
        self.earlier = _earlier_sessions(store, fingerprints)
        self._record = {
            "started": self.started.isoformat(timespec="seconds"),
            "wall_s": 0.0,
            "fingerprints": sorted(fingerprints),
        }

    def keep_time(self) -> None:
        """Record this session's wall time so far beside the saved blocks."""
        self._record["wall_s"] = round(time.perf_counter() - self._clock, 3)
        path = self.store.root.parent / _SESSIONS
        write_text(path, json.dumps([*self.earlier, self._record], indent=1))

    def save(self, fingerprint: str, first: int, stop: int, rows, sums) -> None:
        """Save a finished block, then the time: a kill loses only the blocks in flight."""
        with writing_to(self.out, "a saved block"):
            self.store.save(fingerprint, first, stop, rows, sums)
            self.keep_time()

    def manifest(self) -> dict[str, Any]:
        """What the manifest says of the code, the machine and the time spent."""
        wall = time.perf_counter() - self._clock
        return {
            "ccsim": __version__,
            "code": code_digest()[:20],
            "versions": library_versions(),
            "platform": platform.platform(),
            "started": self.started.isoformat(timespec="seconds"),
            "wall_time_s": round(wall, 3),
            "wall_time_total_s": round(sum(s["wall_s"] for s in self.earlier) + wall, 3),
            "sessions": len(self.earlier) + 1,
        }


def call_text(experiment, reps, n_jobs, out, backend) -> str:
    """``ccsim.run_experiment('experiments/x.yaml', reps=40)``: the call, for the manifest."""
    from ccsim.study.spec import Experiment

    if isinstance(experiment, str | Path):
        what = repr(str(experiment))
    elif isinstance(experiment, Experiment):
        what = repr(experiment.source)
    else:
        what = "<spec>"
    given = {"reps": reps, "n_jobs": n_jobs, "out": None if out is None else str(out)}
    given["backend"] = backend
    defaults = {"reps": None, "n_jobs": 1, "out": None, "backend": "loky"}
    arguments = [f"{k}={v!r}" for k, v in given.items() if v != defaults[k]]
    return f"ccsim.run_experiment({', '.join([what, *arguments])})"
