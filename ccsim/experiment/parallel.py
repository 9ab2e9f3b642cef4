"""Replications of one scenario spread over workers: blocks whose boundaries depend only on
the scenario (never on the number of workers), the labelled task, and the replications
run in memory (:func:`run_replications`) or streamed block by block
(:func:`iter_replications`). Kept apart from :mod:`.replications`, whose source is part of
the code fingerprint: how blocks are spread cannot change what a block holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal, overload

import pandas as pd

from ccsim.experiment.backends import open_executor
from ccsim.experiment.progress import progress as progress_bar
from ccsim.experiment.replications import Block, replication_seeds, run_block
from ccsim.experiment.saved_blocks import encode_table
from ccsim.model import Scenario
from ccsim.sim.arrivals import expected_arrivals

__all__ = [
    "block_ranges",
    "block_size",
    "iter_replications",
    "run_named_block",
    "run_replications",
    "run_saved_block",
]


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


def run_named_block(name, scenario, seeds, first, raw=False, by_type=False):
    """:func:`run_block` labelled with ``name`` and its range, for ``map_unordered``."""
    reps, sums = run_block(scenario, seeds, first, raw, by_type)
    return name, first, first + len(seeds), reps, sums


def run_saved_block(name, scenario, seeds, first, raw=False, by_type=False):
    """:func:`run_named_block` for a block that will be saved: its replication rows, and
    both tables as the Parquet bytes they are saved as (:func:`.saved_blocks.encode_table`),
    encoded here in the worker rather than by the process that dispatches the work."""
    name, first, stop, reps, sums = run_named_block(name, scenario, seeds, first, raw, by_type)
    return name, first, stop, reps, encode_table(reps), encode_table(sums)


def iter_replications(
    scenario: Scenario,
    n_reps: int,
    seed: int = 0,
    n_jobs: int = 1,
    intervals: bool = False,
    progress: bool = False,
    by_type: bool = False,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Run ``n_reps`` replications of one scenario and yield them block by block, in
    replication order: the replication rows and, with ``intervals``, the interval rows
    (otherwise the interval running sums). Blocks finished out of order wait for their
    turn; a block's size is bounded, so memory does not grow with ``n_reps``. The rows
    depend only on (scenario, n_reps, seed), never on ``n_jobs``. ``progress``: a bar on
    a terminal, a line every 10 s elsewhere. ``by_type``: the rows per request type
    follow the replication rows (:func:`.type_tables.split_types`)."""
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}")
    seeds = replication_seeds(seed, n_reps)
    n_intervals = max(1, len(scenario.calendar().slots))
    with open_executor("loky", n_jobs) as executor:
        # Blocks only spread the work here (nothing is summed across them): a few per worker.
        size = max(1, math.ceil(n_reps / (4 * executor.workers)))
        size = max(1, min(size, block_size(scenario), _INTERVAL_ROWS_PER_BLOCK // n_intervals))
        tasks = [
            ("", scenario, seeds[a:b], a, intervals, by_type)
            for a, b in block_ranges(0, n_reps, size)
        ]
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
