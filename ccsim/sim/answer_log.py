"""The answered contacts' log: what the counter adds for each counted contact an agent
takes, kept as one record per contact and added to the tallies with numpy at an
interval edge once there are enough of them, and at the end of the run.

An answered contact adds to a dozen counts (answered, handle time, waited, the wait, the
threshold, the wait bins, queue time, the survey's probability, the journey of a plain
first contact, each site's part): written one by one on the hot path that was a quarter of
the hybrid model's bytecodes per contact. The counter appends instead one tuple to its
channel's log (:meth:`ccsim.sim.counting.Counter.answered`), and :meth:`AnswerLog.flush`
adds the records at once. The counts are the same: integers are counted, and
each float sum is added record by record in the records' order from the tally's value
(``numpy.add.at``), as ``+=`` on the hot path did; only the queue time (to which waits of
contacts that abandon or leave add too) and the survey's probabilities (to which the
survey adds too) are summed in another order, equal to within rounding.

What the counter keeps on the hot path: a customer's first answer at its entry channel
(it reads and sets the customer's state) and the record of each contact when asked for.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from ccsim.sim.metrics import JOURNEY_BINS, WAIT_POINTS

__all__ = [
    "FLUSH_AT",
    "RECORD",
    "AnswerLog",
    "add_bins",
    "add_counts",
    "add_sums",
    "add_to_list",
    "as_table",
]

#: A log is added to the counts at the first interval edge at which it holds this many
#: records (and at the end): numpy's cost per call is then a small part of a record's, and
#: the log never holds much more than an interval's answers.
FLUSH_AT = 2048

#: The fields of a record, in order: the contact's arrival interval, the index of the
#: site that answered it, its wait, its handle time, its arrival, the time it was
#: answered, and 1.0 for a first contact (no customer history) or 0.0.
RECORD = ("slot", "site", "wait", "handle_time", "arrival", "answered_at", "first")

_WAIT_POINTS = np.asarray(WAIT_POINTS, dtype=float)
_JOURNEY_POINTS = np.asarray([point for _, point in JOURNEY_BINS], dtype=float)


def as_table(records: list[tuple], width: int):
    """The records as a table of floats, one row each; the list emptied. (``numpy.array``
    on a list of tuples costs a microsecond a record, this a fifth of it.)"""
    table = np.fromiter(chain.from_iterable(records), dtype=float, count=width * len(records))
    records.clear()
    return table.reshape(-1, width)


def add_counts(cells, name: str, index, n: int) -> None:
    """One more ``name`` in ``cells[k]`` for each ``k`` of ``index``."""
    counts = np.bincount(index, minlength=n)
    for k in np.flatnonzero(counts).tolist():
        cell = cells[k]
        setattr(cell, name, getattr(cell, name) + int(counts[k]))


def add_sums(cells, name: str, index, values, n: int) -> None:
    """``values`` added to ``cells[k].name`` for each ``k`` of ``index``, one by one in
    order from the present value: the sum ``+=`` makes."""
    if not len(index):
        return
    touched = np.flatnonzero(np.bincount(index, minlength=n)).tolist()
    sums = np.zeros(n)
    sums[touched] = [getattr(cells[k], name) for k in touched]
    np.add.at(sums, index, values)
    for k in touched:
        setattr(cells[k], name, float(sums[k]))


def add_to_list(series: list, index, values, n: int) -> None:
    """As :func:`add_sums`, into a list of numbers (``values`` None: counts)."""
    if not len(index):
        return
    touched = np.flatnonzero(np.bincount(index, minlength=n)).tolist()
    sums = np.zeros(n)
    sums[touched] = [series[k] for k in touched]
    np.add.at(sums, index, 1.0 if values is None else values)
    for k in touched:
        series[k] = float(sums[k]) if values is not None else int(sums[k])


def add_bins(bins: list[list[int]], slot, points, values, n: int) -> None:
    """One more in ``bins[k][i]`` for each record, ``i`` the first of ``points`` at or
    above its value (as ``bisect_left``)."""
    width = len(points) + 1
    counts = np.bincount(slot * width + np.searchsorted(points, values), minlength=n * width)
    for cell in np.flatnonzero(counts).tolist():
        bins[cell // width][cell % width] += int(counts[cell])


class AnswerLog:
    """One channel's answered contacts since the last flush."""

    __slots__ = ("channel", "csat", "edges", "records", "sites")

    def __init__(self, channel, sites, edges: list[float]) -> None:
        self.channel = channel
        self.edges = np.asarray(edges, dtype=float)
        self.records: list[tuple] = []
        channel.answers = self.records.append  # bound once: the hot path's one call
        self.csat = np.asarray([site.csat for site in sites], dtype=float)
        self.sites = [site.counts for site in sites]

    def flush(self, counter) -> None:
        """Add the records to the counts."""
        records = self.records
        if not records:
            return
        table = as_table(records, len(RECORD))
        channel, n = self.channel, counter.n
        counts = channel.counts
        slot = table[:, 0].astype(np.intp)
        wait, handle_time = table[:, 2], table[:, 3]
        first = table[:, 6] != 0.0
        tallies = channel.intervals
        add_counts(tallies, "answered", slot, n)
        add_sums(tallies, "handle_time", slot, handle_time, n)
        waited = wait > 0.0
        within = waited & (wait <= channel.threshold)
        add_counts(tallies, "waited", slot[waited], n)
        add_sums(tallies, "wait_answered", slot[waited], wait[waited], n)
        add_counts(tallies, "answered_within_threshold", slot[within], n)
        add_bins(counts.wait_bins, slot[waited], _WAIT_POINTS, wait[waited], n)
        self._queue_time(counter, table[waited])
        # A first contact that waited: its survey and journey, as resolved at its answer
        # (the survey takes it back if it is not, Survey.not_resolved).
        scored = first & waited
        site = table[:, 1].astype(np.intp)
        p = 1.0 / (1.0 + np.exp(channel.toll * wait[scored] - self.csat[site[scored]]))
        add_sums(tallies, "satisfied", slot[scored], p, n)
        add_sums(tallies, "contact_satisfied", slot[scored], p, n)
        if channel.by_site:
            self._sites(site, slot, handle_time, wait, waited, within, scored, p, n)
        self._journeys(counts, channel, slot, wait, handle_time, first, n)

    def _queue_time(self, counter, table) -> None:
        """The waits as queue time: all in the interval they ended in when the wait lies in
        it (the common case), else spread over the intervals it crosses. An answer at an
        edge came after the counter moved to the interval the edge opens."""
        arrival, answered_at = table[:, 4], table[:, 5]
        edges = self.edges
        present = np.minimum(np.searchsorted(edges, answered_at, side="right") - 1, counter.n - 1)
        inside = (arrival >= np.maximum(edges[present], counter.warmup)) & (
            answered_at <= edges[present + 1]
        )
        series = self.channel.counts.queue_time
        add_to_list(series, present[inside], table[inside, 2], counter.n)
        for start, end in zip(
            arrival[~inside].tolist(), answered_at[~inside].tolist(), strict=True
        ):
            counter.spread(start, end, series)

    def _sites(self, site, slot, handle_time, wait, waited, within, scored, p, n) -> None:
        """Each site's part of the channel (a channel several sites answer)."""
        index = self.channel.index
        for k, counts in enumerate(self.sites):
            mine = site == k
            if not mine.any():
                continue
            cells = counts.answered[index]
            add_counts(cells, "answered", slot[mine], n)
            add_sums(cells, "handle_time", slot[mine], handle_time[mine], n)
            add_sums(cells, "wait_answered", slot[mine & waited], wait[mine & waited], n)
            add_counts(cells, "waited", slot[mine & waited], n)
            add_counts(cells, "answered_within_threshold", slot[mine & within], n)
            add_sums(cells, "contact_satisfied", slot[scored][mine[scored]], p[mine[scored]], n)

    @staticmethod
    def _journeys(counts, channel, slot, wait, handle_time, first, n) -> None:
        """Contacts that were not plain first contacts (a customer history, or a channel
        whose first contacts are not each resolved at once), and plain first contacts whose
        journey passed the first journey point (binned here; the rest from the totals)."""
        staged = ~first if channel.plain else np.ones(len(slot), dtype=bool)
        journey = wait + handle_time
        add_to_list(counts.staged_answered, slot[staged], None, n)
        add_to_list(counts.staged_time, slot[staged], journey[staged], n)
        customer_within = ~first & (wait <= channel.threshold)
        add_to_list(counts.customer_within, slot[customer_within], None, n)
        long = ~staged & (journey > _JOURNEY_POINTS[0])
        add_to_list(counts.long_plain, slot[long], None, n)
        add_bins(counts.journey_bins, slot[long], _JOURNEY_POINTS, journey[long], n)
