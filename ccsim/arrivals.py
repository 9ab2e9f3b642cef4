"""Arrival processes: the epochs at which contacts of a channel arrive.

An arrival process is an iterator of increasing arrival times (seconds) in ``[0, horizon)``,
produced lazily in batches so memory does not grow with the horizon. The engine pulls one
epoch at a time and keeps a single pending arrival event per channel on SimPy's heap.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ccsim.config import Arrivals

__all__ = ["arrival_epochs", "poisson_epochs"]

_BATCH = 4096


def poisson_epochs(rate: float, horizon: float, rng: np.random.Generator) -> Iterator[float]:
    """Homogeneous Poisson process with ``rate`` per second on ``[0, horizon)``."""
    mean_gap = 1.0 / rate
    start = 0.0
    while True:
        epochs = start + np.cumsum(rng.exponential(mean_gap, _BATCH))
        inside = epochs[epochs < horizon]
        yield from inside.tolist()
        if len(inside) < _BATCH:
            return
        start = float(epochs[-1])


def arrival_epochs(arrivals: Arrivals, horizon: float, rng: np.random.Generator) -> Iterator[float]:
    """The arrival epochs of a channel as its scenario describes them."""
    return poisson_epochs(arrivals.rate, horizon, rng)
