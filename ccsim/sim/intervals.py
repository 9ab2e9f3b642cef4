"""A channel's tallies per interval, made only for the intervals something is counted in.

A week of half-hours is 240 intervals; Telethon's calls come in 40 of them. Each tally has
about a hundred fields, so making, completing, accounting and totalling one per interval
cost a short replication as much as its event loop. :class:`Tallies` (the counter's) makes
an interval's tally on its first count; :class:`Intervals` (a one-site, one-channel run's
row) keeps those tallies and the series every interval has (queue time, the window, agent
times), and reads as the full list of tallies only when asked for it, each missing interval
a tally of zeros and its series. Its :meth:`Intervals.total` adds the same values in the
same order as :func:`ccsim.sim.metrics.total` over the full list (a missing interval's
contact counts are exact zeros, which add nothing): the same totals to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

import numpy as np

from ccsim.sim.metrics import LEVEL_TALLIES, TALLY_NAMES, ChannelTally, total

__all__ = ["Intervals", "Tallies"]

_INDEX = {name: i for i, name in enumerate(TALLY_NAMES)}
_ZEROS = tuple(getattr(ChannelTally(), name) for name in TALLY_NAMES)
_FIELDS = attrgetter(*TALLY_NAMES)


class Tallies(dict):
    """Interval index -> tally, the tally made on the first count in its interval (a
    subscript, as a list's: the contacts' path is unchanged)."""

    __slots__ = ()

    def __missing__(self, slot: int) -> ChannelTally:
        tally = self[slot] = ChannelTally()
        return tally


class Intervals(Sequence):
    """``n`` intervals' tallies: those made (``tallies``) and the series every interval
    has (``series``: tally name -> a value per interval, added to the interval's tally)."""

    __slots__ = ("n", "tallies", "series", "_full")

    def __init__(self, n: int, tallies: dict[int, ChannelTally], series: dict[str, list]):
        self.n, self.tallies, self.series = n, tallies, series
        self._full: list[ChannelTally] | None = None

    @property
    def materialized(self) -> bool:
        return self._full is not None

    def full(self) -> list[ChannelTally]:
        """Every interval's tally (made once): zeros where nothing was counted, and the
        series added in, as the accounting of every other run adds them."""
        if self._full is None:
            get = self.tallies.get
            full = [get(k) or ChannelTally() for k in range(self.n)]
            for name, values in self.series.items():
                for tally, value in zip(full, values, strict=True):
                    setattr(tally, name, getattr(tally, name) + value)
            self._full = full
        return self._full

    def table(self, fields) -> np.ndarray:
        """Every interval's tally as a row of floats (``fields``: an attrgetter of every
        tally name, in order): the tallies made, zeros elsewhere, the series as columns
        (the values :meth:`full` holds, without making a tally per interval)."""
        if self._full is not None:
            rows = [fields(tally) for tally in self._full]
            return np.array(rows, dtype=float).reshape(self.n, len(TALLY_NAMES))
        block = np.zeros((self.n, len(TALLY_NAMES)))
        for k, tally in self.tallies.items():
            block[k] = fields(tally)
        for name, values in self.series.items():
            block[:, _INDEX[name]] = values
        return block

    def present(self) -> list[tuple[int, ChannelTally]]:
        """(interval, tally) of the intervals that have a tally, in interval order."""
        return sorted(self.tallies.items())

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index):
        return self.full()[index]

    def __iter__(self):
        return iter(self.full())

    def total(self) -> ChannelTally:
        """The tally of all the intervals (:func:`ccsim.sim.metrics.total`, the same sums):
        the counts column by column over the tallies made, after a tally of zeros (a sum
        starts as a column of all intervals does), the series summed whole."""
        if self._full is not None:
            return total(self._full)
        rows = [_ZEROS, *map(_FIELDS, (t for _, t in sorted(self.tallies.items())))]
        sums = list(map(sum, zip(*rows, strict=True)))
        for name, values in self.series.items():
            # A float, as the tallies' float fields add each value (some series are of ints).
            sums[_INDEX[name]] = float(sum(values))
        result = ChannelTally(*sums)
        last = self.tallies.get(self.n - 1)
        for name in LEVEL_TALLIES:
            setattr(result, name, getattr(last, name) if last is not None else 0)
        return result
