"""What a replication counts, and how the counts left to totals are completed at its end.

:class:`ChannelCounts` and :class:`SiteCounts` hold a run's counts per interval: each
channel's tallies (:class:`~ccsim.sim.metrics.ChannelTally`) and the series beside them
(queue time, wait and journey bins, email opened and closed), each site's agent time and
the part of each channel it answered. The :class:`~ccsim.sim.counting.Counter` adds to them
as contacts' outcomes happen; some counts are cheaper to leave to totals (contacts answered
at once, plain first contacts each their own customer resolved at first contact, the
cumulative wait and journey counts, backlogs), and :func:`complete` works them out once
the run is over. The :class:`RunRecord` hands the finished counts to
:mod:`ccsim.sim.accounting`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ccsim.model.calendar import Calendar
from ccsim.sim.intervals import Intervals, Tallies
from ccsim.sim.metrics import JOURNEY_BINS, WAIT_POINTS, ChannelTally
from ccsim.sim.shifts import PayScale, ShiftInstance

__all__ = ["ChannelCounts", "RunRecord", "SiteCounts", "complete"]


def _zeros(n: int) -> list:
    return [0] * n


@dataclass
class ChannelCounts:
    """What a run counted for one channel, per interval."""

    name: str
    n: int
    deferred: bool = False  # email: opened and closed items give the backlog
    outbound: bool = False  # dialled: its agents' busy time is outbound work
    new_customers: bool = True  # False for call backs: their contacts are no new customers
    # Made on the first count in an interval (Tallies); after the run a list of every
    # interval's, or with one site and one channel the sparse Intervals row.
    intervals: Tallies | list[ChannelTally] | Intervals = field(init=False)
    queue_time: list[float] = field(init=False)  # contact-seconds waiting
    # Answered contacts by wait: bin i holds waits in (P[i-1], P[i]] of WAIT_POINTS.
    wait_bins: list[list[int]] = field(init=False)
    # Whether its first contacts are plain (each its own customer, resolved at its first
    # answer: the channel's ``plain``, copied by the core as the run starts); if not, none
    # of its answered contacts is a plain first contact and none is staged.
    plain: bool = True
    # Answered contacts that were not plain first contacts, and their wait + handle time:
    # the rest are each their own customer, resolved at first contact.
    staged_answered: list[int] = field(init=False)
    staged_time: list[float] = field(init=False)
    # Answered contacts with a customer history, within the threshold: the rest of those
    # answered within it are plain first contacts, each a customer within it.
    customer_within: list[int] = field(init=False)
    # Resolved journeys by their time from first arrival to resolution, on the first
    # arrival's interval: bin i holds times in (P[i-1], P[i]] of the JOURNEY_BINS points.
    journey_bins: list[list[int]] = field(init=False)
    # Plain first contacts answered whose wait + handle time passed the first journey point
    # (binned one by one): the others are in the first bin, added by `Counter.record`.
    long_plain: list[int] = field(init=False)
    # The index of the one site that may answer it: that site's part of the channel is the
    # channel's answered counts, copied by `Counter.record` (None: several sites or none).
    sole_site: int | None = None
    opened: list[int] = field(init=False)  # email items entering the queue
    closed: list[int] = field(init=False)  # email items taken by an agent

    def __post_init__(self) -> None:
        n = self.n
        self.intervals = Tallies()
        self.queue_time = [0.0] * n
        self.wait_bins = [[0] * (len(WAIT_POINTS) + 1) for _ in range(n)]
        self.staged_answered = _zeros(n)
        self.staged_time = [0.0] * n
        self.customer_within = _zeros(n)
        self.journey_bins = [[0] * (len(JOURNEY_BINS) + 1) for _ in range(n)]
        self.long_plain = _zeros(n)
        self.opened = _zeros(n)
        self.closed = _zeros(n)


@dataclass
class SiteCounts:
    """What a run counted for one site: agent time per interval, answered contacts and
    busy time per channel index, overruns, and the schedule it was given."""

    name: str
    n: int
    n_channels: int
    instances: list[ShiftInstance]
    pay: PayScale
    served: list[int] = field(default_factory=list)  # channel indices it may serve
    available_time: list[float] = field(init=False)  # agent-seconds logged on
    busy: list[list[float]] = field(init=False)  # per channel index: agent-seconds busy
    # Per channel index, the site's part of it, when sites' parts are reported (``parts``:
    # several sites); else None: the one site's part of a channel is the channel.
    answered: list[list[ChannelTally] | None] = field(init=False)
    overruns: list[tuple[float, float]] = field(default_factory=list)  # (shift end, left)
    parts: bool = True

    def __post_init__(self) -> None:
        n = self.n
        self.available_time = [0.0] * n
        self.busy = [[0.0] * n for _ in range(self.n_channels)]
        self.answered = [
            [ChannelTally() for _ in range(n)] if self.parts else None
            for _ in range(self.n_channels)
        ]


@dataclass
class RunRecord:
    """A finished replication, as counted: the input of :func:`ccsim.sim.accounting.account`."""

    calendar: Calendar
    warmup: float
    observed: list[float]  # seconds of each interval inside the window
    channels: list[ChannelCounts]
    sites: list[SiteCounts]


def complete(
    channels: list[ChannelCounts], sites: list[SiteCounts], observed: list[float], by_site: bool
) -> None:
    """Complete the counts left to totals, once the run is over (``observed``: the seconds
    of each interval inside the window; ``by_site``: each site's part is reported).

    With one site and one channel, the channel keeps only the tallies it made (its row an
    :class:`Intervals`, the queue time and the window as series): the other intervals'
    completions below add exact zeros. Otherwise every interval gets its tally here."""
    sparse = len(channels) == 1 and len(sites) == 1 and not channels[0].deferred
    made = [counts.intervals for counts in channels]
    if not sparse:
        for counts in channels:
            counts.intervals = [counts.intervals[k] for k in range(counts.n)]
    for index, counts in enumerate(channels):
        if counts.sole_site is not None and sites[counts.sole_site].parts:
            _sole_site(counts.intervals, sites[counts.sole_site].answered[index])
    for counts, tallies in zip(channels, made, strict=True):
        pairs = sorted(tallies.items()) if sparse else list(enumerate(counts.intervals))
        _at_once([tally for _, tally in pairs], [counts.wait_bins[k] for k, _ in pairs])
        _customers(counts, pairs)
        _journeys(counts, pairs)
        _waits(counts, pairs)
        if sparse:
            series = {"queue_time": counts.queue_time, "observed_time": observed}
            counts.intervals = Intervals(counts.n, tallies, series)
            continue
        if counts.deferred:
            _backlogs(counts)
        for k, tally in enumerate(counts.intervals):
            tally.queue_time = counts.queue_time[k]
            tally.observed_time = observed[k]
    if by_site:
        for site in sites:
            for cells in site.answered:
                _at_once(cells, None)


def _sole_site(tallies: list[ChannelTally], cells: list[ChannelTally]) -> None:
    """The part of a channel that its one site answered is all of its answered contacts:
    the channel's counts of them, before :func:`_at_once` (every abandoned contact
    waited). The same additions in the same order: the same sums."""
    for tally, cell in zip(tallies, cells, strict=True):
        cell.answered, cell.handle_time = tally.answered, tally.handle_time
        cell.wait_answered, cell.waited = tally.wait_answered, tally.waited - tally.abandoned
        cell.answered_within_threshold = tally.answered_within_threshold
        cell.escalated, cell.unresolved = tally.escalated, tally.unresolved
        cell.contact_satisfied = tally.contact_satisfied


def _at_once(tallies: list[ChannelTally], wait_bins: list[list[int]] | None) -> None:
    """Answered contacts that did not wait were counted only as answered (a channel's
    abandoned contacts all count as waited): they were answered within the threshold, in
    the first bin of the wait distribution."""
    for k, tally in enumerate(tallies):
        at_once = tally.answered - (tally.waited - tally.abandoned)
        tally.answered_within_threshold += at_once
        if wait_bins is not None:
            wait_bins[k][0] += at_once


def _customers(counts: ChannelCounts, pairs: list[tuple[int, ChannelTally]]) -> None:
    """New customers (offered less retrials, repeats and transfers; a call back is no new
    customer), contacts resolved (answered less escalated and unresolved), and the plain
    first contacts: each its own customer, resolved at first contact with its wait and
    handle time, as :meth:`ccsim.sim.counting.Counter.resolution` counts the
    others."""
    for k, tally in pairs:
        if counts.new_customers:
            tally.customers = (
                tally.offered - tally.retrials - tally.repeat_contacts - tally.transfers_in
            )
            tally.customers_within_threshold += (
                tally.answered_within_threshold - counts.customer_within[k]
            )
        tally.resolved = tally.answered - tally.escalated - tally.unresolved
        plain = tally.answered - counts.staged_answered[k] if counts.plain else 0
        if plain:
            tally.first_contact_resolutions += plain
            tally.resolutions += plain
            tally.reached_agent += plain
            tally.agent_first_resolutions += plain
            time = tally.wait_answered + tally.handle_time - counts.staged_time[k]
            tally.resolution_time += time
            tally.ticket_time += time
            # Within the first point: its bin (cumulated with the others by _journeys).
            counts.journey_bins[k][0] += plain - counts.long_plain[k]


def _cumulative(names: list[str], source: str) -> Callable:
    """A function ``(tally, bins)`` that sets ``tally``'s ``names`` to the running sums of
    the counts read from ``source`` (an expression of ``tally``, ``bins`` and ``i``, the
    index of the name), one statement per name: written out and compiled once, as
    :mod:`ccsim.sim.accounting` adds tallies (a month of half-hours closes thousands of
    tallies of eight names; by statement, not by ``getattr``/``setattr``)."""
    body = "    within = 0\n" + "".join(
        f"    within += {source.format(name=name, i=i)}\n    tally.{name} = within\n"
        for i, name in enumerate(names)
    )
    namespace: dict = {}
    exec(f"def cumulate(tally, bins):\n{body}", namespace)
    return namespace["cumulate"]


def _journeys(counts: ChannelCounts, pairs: list[tuple[int, ChannelTally]]) -> None:
    """Journeys resolved within each point: the bins' counts summed up to it (one
    addition per journey on the hot path, not one per point)."""
    for k, tally in pairs:
        bins = counts.journey_bins[k]
        if any(bins):  # an interval without journeys keeps its zeros (most, on a short day)
            _cumulate_journeys(tally, bins)


def _waits(counts: ChannelCounts, pairs: list[tuple[int, ChannelTally]]) -> None:
    """Cumulative wait counts (answered within each point) from the bins."""
    for k, tally in pairs:
        bins = counts.wait_bins[k]
        if any(bins):
            _cumulate_waits(tally, bins)


# The bins beyond the last point (journeys or waits longer than it) have no column.
_cumulate_journeys = _cumulative([name for name, _ in JOURNEY_BINS], "bins[{i}]")
_cumulate_waits = _cumulative([f"waits_within_{point}s" for point in WAIT_POINTS], "bins[{i}]")


def _backlogs(counts: ChannelCounts) -> None:
    """Email items open at the end of each interval: opened so far less taken so far."""
    level = 0
    for k, tally in enumerate(counts.intervals):
        level += counts.opened[k] - counts.closed[k]
        tally.backlog = level
