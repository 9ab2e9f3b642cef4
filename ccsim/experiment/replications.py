"""Replications: their seeds, one block of them (the task sent to workers), and the code that
decides its rows.

A block is replications ``first .. stop-1`` of one scenario: their rows (one per
replication, channel and site) and the running sums of their interval KPIs. What a block
holds depends only on the validated scenario, the seeding, the replication range and the
code of the layers that compute it; :func:`code_digest` hashes that code, so saved blocks
are never reused after a change that could alter them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ccsim.experiment.summary import INTERVAL_KEYS, interval_block_stats
from ccsim.experiment.type_tables import TYPE_COLUMNS, type_rows
from ccsim.model import Scenario
from ccsim.sim.engine import simulate
from ccsim.sim.metrics import KPI_NAMES, TALLY_NAMES

__all__ = [
    "REPLICATION_COLUMNS",
    "Block",
    "code_digest",
    "digest_of",
    "replication_seed",
    "replication_seeds",
    "run_block",
]

#: Replications ``first .. stop-1`` of one scenario.
Block = tuple[int, int]

#: Columns of a replications table: identification, KPIs, then the tallies behind them
#: (kept so that ratios over replications can be taken as ratios of totals).
REPLICATION_COLUMNS: tuple[str, ...] = (
    "replication",
    "channel",
    "site",
    *KPI_NAMES,
    *(name for name in TALLY_NAMES if name not in KPI_NAMES),
)

#: The code whose change can change a block, relative to the package: the model and the
#: simulation, the seeding and block rows (this module), and the interval running sums.
#: The rest of ccsim (reports, summaries, the command line) reads blocks and may change
#: freely without invalidating them.
_RESULT_CODE = (
    "model", "sim", "experiment/replications.py", "experiment/summary.py",
    "experiment/type_tables.py",
)  # fmt: skip
#: Libraries whose release can change the random draws or the simulated events.
_RESULT_LIBRARIES = ("numpy", "simpy")


@functools.cache
def code_digest() -> str:
    """sha256 of the source files in :data:`_RESULT_CODE` and the versions of
    :data:`_RESULT_LIBRARIES`; computed once per process."""
    return digest_of(Path(__file__).resolve().parents[1])


def digest_of(package: Path) -> str:
    """:func:`code_digest` of the package in folder ``package``."""
    from ccsim.version import __version__

    digest = hashlib.sha256(f"ccsim {__version__}\n".encode())
    for part in _RESULT_CODE:
        path = package / part
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(package).as_posix().encode() + b"\0")
            digest.update(source.read_bytes() + b"\0")
    for library in _RESULT_LIBRARIES:
        try:
            digest.update(f"{library} {importlib.metadata.version(library)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            continue
    return digest.hexdigest()


def replication_seed(seed: int, replication: int, stream: str | None = None):
    """Seed of replication ``r``: child ``r`` of ``SeedSequence(seed)`` (what ``spawn`` gives).

    With ``stream`` (a scenario name) the replication gets streams of its own instead:
    independent sampling, used to measure what common random numbers gain.
    """
    key = (replication,) if stream is None else (zlib.crc32(stream.encode()), replication)
    return np.random.SeedSequence(seed, spawn_key=key)


def replication_seeds(seed: int, n_reps: int) -> list[np.random.SeedSequence]:
    """Seeds of replications ``0..n_reps-1``, as ``SeedSequence(seed).spawn(n_reps)``."""
    return np.random.SeedSequence(seed).spawn(n_reps)


def run_block(
    scenario: Scenario,
    seeds: list[np.random.SeedSequence],
    first: int,
    raw: bool = False,
    by_type: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replications ``first, first+1, ...``: their rows, and the running sums of their
    interval KPIs (:func:`.summary.interval_block_stats`), or with ``raw`` the interval
    rows themselves (one per replication, channel, site and interval). With ``by_type``
    the rows per request type follow the replication rows, in a ``request_type`` column
    (:func:`.type_tables.split_types` takes them out); without types there are none."""
    rows, tables, typed = [], [], []
    for offset, seed in enumerate(seeds):
        result = simulate(scenario, seed)
        rows.extend({"replication": first + offset, **row} for row in result.rows())
        if by_type:
            typed.extend(type_rows(result, first + offset))
        table = result.interval_table()
        if raw:
            table.insert(0, "replication", first + offset)
        tables.append(table)
    reps = pd.DataFrame(rows, columns=list(REPLICATION_COLUMNS))
    if typed:
        reps = pd.concat([reps, pd.DataFrame(typed, columns=list(TYPE_COLUMNS))])
        reps = reps.reset_index(drop=True)
    intervals = pd.concat(tables, ignore_index=True)
    if raw:
        columns = ["replication", *INTERVAL_KEYS, *KPI_NAMES]
        columns += [c for c in TALLY_NAMES if c not in columns]
        # The interval table's own order already (a copy of every column otherwise).
        return reps, intervals if list(intervals.columns) == columns else intervals[columns]
    return reps, interval_block_stats(intervals)
