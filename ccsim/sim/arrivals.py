"""Arrival processes: the epochs at which contacts of a channel arrive.

Every channel's arrivals are a Poisson process whose rate is constant within each reporting
interval of the customers' wall clock: a constant ``rate``, or a daily ``volume`` shaped by an
intraday ``profile`` and, optionally, scaled per day by a busyness factor B ~ Gamma(alpha,
alpha). Epochs come from exact inversion of the cumulative rate: unit-rate Poisson points
S_1 < S_2 < ... are mapped through Lambda^-1, where Lambda(t) is the expected number of
arrivals by t. Unlike drawing the next gap at the current rate, this honours every interval
exactly: a one-interval spike gets its full share of arrivals, and a zero-rate interval none.

The process is an iterator of increasing times in ``[0, horizon)``, produced lazily in
batches so memory does not grow with the horizon.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import numpy as np

from ccsim.model import Arrivals
from ccsim.model.calendar import Calendar

__all__ = [
    "arrival_batches",
    "arrival_epochs",
    "expected_arrivals",
    "interval_rates",
    "piecewise_poisson_batches",
    "piecewise_poisson_epochs",
]

_BATCH = 4096


def interval_rates(
    arrivals: Arrivals, calendar: Calendar, busyness: np.ndarray | None = None
) -> np.ndarray:
    """Arrival rate (per second) in each reporting interval of ``calendar``.

    ``busyness`` holds one factor per local day (index ``slot.day``); None means 1.
    """
    if arrivals.rate is not None:
        return np.full(len(calendar.slots), arrivals.rate)
    weights = (
        np.asarray(arrivals.profile, dtype=float)
        if arrivals.profile is not None
        else np.ones(calendar.slots_per_day)
    )
    shares = weights / weights.sum()
    slots = calendar.slots
    # Column by column, the same operations in the same order as slot by slot (a day's
    # volume, times its busyness, times the slot's share, over the interval's length),
    # each rounded as the scalar one was: 240 slots of numpy scalar arithmetic took a
    # Telethon week's build a third of its time.
    by_weekday = {w: arrivals.daily_volume(w) for w in {slot.weekday for slot in slots}}
    volumes = np.array([by_weekday[slot.weekday] for slot in slots], dtype=float)
    if busyness is not None:
        volumes = volumes * busyness[[slot.day for slot in slots]]
    return volumes * shares[[slot.slot for slot in slots]] / calendar.interval


def expected_arrivals(arrivals: Arrivals, calendar: Calendar) -> float:
    """Expected number of arrivals over the horizon (busyness has mean 1)."""
    lengths = np.array([slot.end - slot.start for slot in calendar.slots])
    return float(np.sum(interval_rates(arrivals, calendar) * lengths))


def piecewise_poisson_batches(
    starts: np.ndarray, ends: np.ndarray, rates: np.ndarray, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Poisson process with rate ``rates[k]`` on ``[starts[k], ends[k])``, by inversion,
    as arrays of increasing epochs."""
    masses = rates * (ends - starts)
    cumulative = np.concatenate(([0.0], np.cumsum(masses)))
    total = cumulative[-1]
    position = 0.0
    while True:
        points = position + np.cumsum(rng.exponential(1.0, _BATCH))
        inside = points[points < total]
        # side="right" skips segments of zero mass, which can hold no arrival.
        k = np.searchsorted(cumulative, inside, side="right") - 1
        yield starts[k] + (inside - cumulative[k]) / rates[k]
        if len(inside) < _BATCH:
            return
        position = float(points[-1])


def piecewise_poisson_epochs(
    starts: np.ndarray, ends: np.ndarray, rates: np.ndarray, rng: np.random.Generator
) -> Iterator[float]:
    """Poisson process with rate ``rates[k]`` on ``[starts[k], ends[k])``, by inversion."""
    batches = piecewise_poisson_batches(starts, ends, rates, rng)
    return chain.from_iterable(batch.tolist() for batch in batches)


def arrival_batches(
    arrivals: Arrivals,
    calendar: Calendar,
    rng: np.random.Generator,
    busyness_rng: np.random.Generator | None = None,
) -> Iterator[np.ndarray]:
    """The arrival epochs of a channel as its scenario describes them, batch by batch."""
    busyness = None
    if arrivals.busyness is not None:
        alpha = arrivals.busyness.alpha
        n_days = calendar.slots[-1].day + 1
        rng_days = busyness_rng if busyness_rng is not None else rng
        busyness = rng_days.gamma(alpha, 1.0 / alpha, n_days)
    starts = np.array([slot.start for slot in calendar.slots])
    ends = np.array([slot.end for slot in calendar.slots])
    rates = interval_rates(arrivals, calendar, busyness)
    return piecewise_poisson_batches(starts, ends, rates, rng)


def arrival_epochs(
    arrivals: Arrivals,
    calendar: Calendar,
    rng: np.random.Generator,
    busyness_rng: np.random.Generator | None = None,
) -> Iterator[float]:
    """The arrival epochs of a channel as its scenario describes them."""
    batches = arrival_batches(arrivals, calendar, rng, busyness_rng)
    return chain.from_iterable(batch.tolist() for batch in batches)
