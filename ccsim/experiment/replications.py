"""Replications: their seeds, one block of them (the task sent to workers), the code that
decides its rows, and many of one scenario run in memory or streamed block by block.

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
import math
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, overload

import numpy as np
import pandas as pd

from ccsim.experiment.backends import open_executor
from ccsim.experiment.progress import progress as progress_bar
from ccsim.experiment.summary import INTERVAL_KEYS, interval_block_stats
from ccsim.model import Scenario
from ccsim.sim.arrivals import expected_arrivals
from ccsim.sim.engine import simulate
from ccsim.sim.metrics import KPI_NAMES, TALLY_NAMES

__all__ = [
    "REPLICATION_COLUMNS",
    "Block",
    "block_ranges",
    "block_size",
    "code_digest",
    "digest_of",
    "replication_seed",
    "replication_seeds",
    "iter_replications",
    "run_block",
    "run_named_block",
    "run_replications",
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
_RESULT_CODE = ("model", "sim", "experiment/replications.py", "experiment/summary.py")
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
    scenario: Scenario, seeds: list[np.random.SeedSequence], first: int, raw: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replications ``first, first+1, ...``: their rows, and the running sums of their
    interval KPIs (:func:`.summary.interval_block_stats`), or with ``raw`` the interval
    rows themselves (one per replication, channel, site and interval)."""
    rows, tables = [], []
    for offset, seed in enumerate(seeds):
        result = simulate(scenario, seed)
        rows.extend({"replication": first + offset, **row} for row in result.rows())
        table = result.interval_table()
        if raw:
            table.insert(0, "replication", first + offset)
        tables.append(table)
    reps = pd.DataFrame(rows, columns=list(REPLICATION_COLUMNS))
    intervals = pd.concat(tables, ignore_index=True)
    if raw:
        columns = ["replication", *INTERVAL_KEYS, *KPI_NAMES]
        return reps, intervals.loc[:, columns + [c for c in TALLY_NAMES if c not in columns]]
    return reps, interval_block_stats(intervals)


#: Blocks aim at about this many simulated contacts: a second or two of work, so that the
#: cost of sending a task and saving its block stays small next to the simulation.
_CONTACTS_PER_BLOCK = 300_000
_MAX_BLOCK = 100
#: Interval rows a block of ``iter_replications`` may hold (replications x intervals):
#: what bounds the memory of ``ccsim run``, whose interval rows are written as they come.
_INTERVAL_ROWS_PER_BLOCK = 2_000


def block_ranges(start: int, stop: int, size: int) -> list[Block]:
    """Replications ``start .. stop-1`` in blocks of ``size``: boundaries that depend only
    on the arguments, never on the number of workers."""
    return [(lo, min(lo + size, stop)) for lo in range(start, stop, size)]


def run_named_block(name, scenario, seeds, first, raw=False):
    """:func:`run_block` labelled with ``name`` and its range, for ``map_unordered``."""
    reps, sums = run_block(scenario, seeds, first, raw)
    return name, first, first + len(seeds), reps, sums


def iter_replications(
    scenario: Scenario,
    n_reps: int,
    seed: int = 0,
    n_jobs: int = 1,
    intervals: bool = False,
    progress: bool = False,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Run ``n_reps`` replications of one scenario and yield them block by block, in
    replication order: the replication rows and, with ``intervals``, the interval rows
    (otherwise the interval running sums). Blocks finished out of order wait for their
    turn; a block's size is bounded, so memory does not grow with ``n_reps``. The rows
    depend only on (scenario, n_reps, seed), never on ``n_jobs``. ``progress``: a bar on
    a terminal, a line every 10 s elsewhere."""
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}")
    seeds = replication_seeds(seed, n_reps)
    n_intervals = max(1, len(scenario.calendar().slots))
    with open_executor("loky", n_jobs) as executor:
        # Blocks only spread the work here (nothing is summed across them): a few per worker.
        size = max(1, math.ceil(n_reps / (4 * executor.workers)))
        size = max(1, min(size, block_size(scenario), _INTERVAL_ROWS_PER_BLOCK // n_intervals))
        tasks = [("", scenario, seeds[a:b], a, intervals) for a, b in block_ranges(0, n_reps, size)]
        waiting: dict[int, tuple[int, pd.DataFrame, pd.DataFrame]] = {}
        turn = 0
        bar = progress_bar(n_reps, progress)
        try:
            for _, first, stop, reps, rows in executor.map_unordered(run_named_block, tasks):
                bar.update(stop - first)
                waiting[first] = (stop, reps, rows)
                while turn in waiting:
                    stop, reps, rows = waiting.pop(turn)
                    yield reps, rows
                    turn = stop
        finally:
            bar.close()


@overload
def run_replications(
    scenario: Scenario,
    n_reps: int,
    seed: int = 0,
    n_jobs: int = 1,
    intervals: Literal[False] = False,
) -> pd.DataFrame: ...


@overload
def run_replications(
    scenario: Scenario, n_reps: int, seed: int = 0, n_jobs: int = 1, *, intervals: Literal[True]
) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def run_replications(
    scenario: Scenario, n_reps: int, seed: int = 0, n_jobs: int = 1, intervals: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``n_reps`` replications of one scenario in memory; one row per replication,
    channel and site (see :mod:`ccsim.sim.result`). With ``intervals=True``, the pair
    (those rows, one row per replication, channel, site and reporting interval) instead:
    the overloads give each call its one return type. The result depends only on
    (scenario, n_reps, seed), never on ``n_jobs``."""
    done = list(iter_replications(scenario, n_reps, seed, n_jobs, intervals))
    reps = pd.concat([reps for reps, _ in done], ignore_index=True)
    if not intervals:
        return reps
    return reps, pd.concat([rows for _, rows in done], ignore_index=True)


def block_size(scenario: Scenario) -> int:
    """Replications a block of ``scenario`` holds: about :data:`_CONTACTS_PER_BLOCK`
    contacts."""
    calendar = scenario.calendar()
    expected = sum(
        expected_arrivals(c.arrivals, calendar)
        for c in scenario.channels.values()
        if c.arrivals is not None
    )
    return int(min(_MAX_BLOCK, max(1, math.ceil(_CONTACTS_PER_BLOCK / max(expected, 1.0)))))
