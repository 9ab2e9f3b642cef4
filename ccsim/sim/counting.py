"""Counting: every tally of a replication's contacts is added here (the probabilities of
satisfied customers by :mod:`ccsim.sim.satisfaction`, which the counter calls).

The core and the features report what happened to a contact (offered, answered, abandoned,
resolved, ...) through a :class:`Counter`; it adds to the tally of the interval in which
the contact reached its channel (customer outcomes to the first arrival's) and to the time
series (queue time, busy and logged-on time) the overlap with the window ``[warmup,
horizon)``: the counts of :mod:`ccsim.sim.counts`. When the run is over,
:meth:`Counter.record` has the counts left to totals completed and hands a
:class:`~ccsim.sim.counts.RunRecord` to :mod:`ccsim.sim.accounting`. The clock advances
the current interval (:meth:`Counter.start`) rather than each event computing it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator
from itertools import chain
from math import exp
from operator import add, sub

import numpy as np

from ccsim.model.calendar import Calendar
from ccsim.sim.counts import ChannelCounts, RunRecord, SiteCounts, complete
from ccsim.sim.journeys import JOURNEY_POINTS, Journeys
from ccsim.sim.metrics import WAIT_POINTS, ChannelTally

__all__ = ["Counter"]

_FIRST_JOURNEY_POINT = JOURNEY_POINTS[0]


class Counter(Journeys):
    """Adds a replication's outcomes to its counts as they happen."""

    def __init__(
        self,
        calendar: Calendar,
        warmup: float,
        record_contacts: bool,
        follow: float | None = None,
    ) -> None:
        self.calendar, self.warmup = calendar, warmup
        self.horizon = horizon = calendar.horizon
        # Journeys are followed after the horizon until the cut-off (``follow_journeys``);
        # without it the cut-off is the horizon: returns due after it are not simulated.
        self.follow = follow is not None
        self.cutoff = horizon + follow if follow is not None else horizon
        self.n = len(calendar.slots)
        # Interval k spans [edges[k], edges[k + 1]); uniform intervals are found by division.
        self.edges = edges = [*calendar.edges, horizon]
        self.widths = list(map(sub, edges[1:], edges))
        interval = calendar.interval
        self.interval_of = (lambda t: int(t / interval)) if calendar.uniform else calendar.index
        self.slot = 0  # the interval of the present moment (after the horizon: the last)
        self.slot_end = self.edges[1]
        # Where the present interval's part of the window starts: a span from a time at or
        # after it to one at or before slot_end lies in the present interval alone.
        self.slot_from = warmup
        self.by_site = False  # report each site's part of a channel (with several sites)
        self.channels: list[ChannelCounts] = []
        self.sites: list[SiteCounts] = []
        #: One row per contact outcome (see ``CONTACT_COLUMNS``), when asked for.
        self.contacts: list[tuple] | None = [] if record_contacts else None
        if record_contacts:  # the rows' check kept off the path of every answer
            self.answered = self._answered_row
        self.survey = None  # the satisfaction model (ccsim.sim.satisfaction.Survey)

    # --- the clock's side --------------------------------------------------------------

    def start(self, clock) -> None:
        """Advance :attr:`slot` at each interval edge, before anything else due then."""
        self._clock = clock
        if self.n > 1:
            clock.first(self.edges[1], self._advance)

    def _advance(self, event) -> None:
        self.slot += 1
        self.slot_end = self.edges[self.slot + 1]
        self.slot_from = max(self.edges[self.slot], self.warmup)
        if self.slot + 1 < self.n:
            self._clock.first(self.slot_end, self._advance)

    def spread(self, start: float, end: float, series: list[float]) -> None:
        """Add the part of ``[start, end)`` inside the window to ``series``, by interval."""
        low = start if start > self.warmup else self.warmup
        high = end if end < self.horizon else self.horizon
        if high <= low:
            return
        k, edges = self.interval_of(low), self.edges
        if high <= edges[k + 1]:
            series[k] += high - low
            return
        series[k] += edges[k + 1] - low
        # Whole intervals get their widths added in C (a week's log-on crosses 336 of them).
        last = bisect_left(edges, high, k + 1) - 1
        series[k + 1 : last] = map(add, series[k + 1 : last], self.widths[k + 1 : last])
        series[last] += high - edges[last]

    def serving(self, site, channel, now: float, duration: float) -> None:
        """An agent of ``site`` starts ``duration`` seconds of work on ``channel`` now."""
        series = site.counts.busy[channel.index]
        end = now + duration
        slot_end = self.slot_end
        if now >= self.warmup and end <= slot_end:
            series[self.slot] += duration  # the common case: inside the present interval
            return
        slot = self.slot
        if now >= self.warmup and slot + 2 <= self.n and end <= self.edges[slot + 2]:
            # Across the next edge only (a service crossing a half-hour edge, a third of
            # them on a multi-site week): the two pieces `spread` would add.
            series[slot] += slot_end - now
            series[slot + 1] += end - slot_end
        else:
            self.spread(now, end, series)

    def busy(self, site, channel, start: float, end: float) -> None:
        """An agent of ``site`` was busy on ``channel`` over ``[start, end)``."""
        self.spread(start, end, site.counts.busy[channel.index])

    def logged_on(self, site, start: float, end: float) -> None:
        self.spread(start, end, site.counts.available_time)

    def overrun(self, site, shift_end: float, left: float) -> None:
        site.counts.overruns.append((shift_end, left))

    # --- contacts ----------------------------------------------------------------------

    def tally(self, channel, now: float) -> ChannelTally | None:
        """The tally of a contact reaching ``channel`` now, or None (warm-up)."""
        return channel.intervals[self.slot] if now >= self.warmup else None

    def arrivals(self, channel, batches) -> Iterator[float]:
        """The epochs of ``channel``'s new contacts, from arrays of epochs: each batch is
        counted as offered (by the interval of each epoch inside the window) when it is
        drawn, since every contact that arrives is simulated, rather than one by one."""
        edges = np.asarray(self.edges)
        intervals = channel.intervals

        def counted():
            for batch in batches:
                inside = batch[batch >= self.warmup]
                slots = np.searchsorted(edges, inside, side="right") - 1
                counts = np.bincount(slots, minlength=self.n)
                for k in np.flatnonzero(counts):
                    intervals[k].offered += int(counts[k])
                yield batch.tolist()

        return chain.from_iterable(counted())

    def offered(self, tally: ChannelTally | None, kind: str = "") -> None:
        """A contact reached a channel: new, or a ``retrials``, ``repeat_contacts`` or
        ``transfers_in`` contact (customers = offered less those, see :meth:`record`)."""
        if tally is not None:
            tally.offered += 1
            if kind:
                setattr(tally, kind, getattr(tally, kind) + 1)

    def answered(self, contact, site, wait: float, handle_time: float, now: float) -> None:
        """An agent of ``site`` took the contact after ``wait``. One answered at once adds
        only to ``answered`` and ``handle_time``: :meth:`record` counts it within the
        threshold and in the wait distribution from the totals."""
        tally = contact.tally
        channel = contact.channel
        if tally is None:
            if wait > 0.0:
                self.spread(contact.arrival, now, channel.counts.queue_time)
            return
        tally.answered += 1
        tally.handle_time += handle_time
        customer = contact.customer
        slot = contact.slot
        if wait > 0.0:  # inline: the commonest outcome of a wait, one call fewer
            p = 0.0
            if customer is None:  # its survey and journey, as resolved (Journeys.not_resolved)
                p = 1.0 / (1.0 + exp(channel.toll * wait - site.csat))
                tally.satisfied += p
                tally.contact_satisfied += p
            tally.wait_answered += wait
            tally.waited += 1
            if wait <= channel.threshold:
                tally.answered_within_threshold += 1
            counts = channel.counts
            counts.wait_bins[slot][bisect_left(WAIT_POINTS, wait)] += 1
            if contact.arrival >= self.slot_from and now <= self.slot_end:
                counts.queue_time[self.slot] += wait  # the common case, as `spread` adds it
            else:
                self.spread(contact.arrival, now, counts.queue_time)
            if channel.by_site:
                here = site.counts.answered[channel.index][slot]
                self._site_waited(here, wait, handle_time, p, channel.threshold)
        elif channel.by_site:
            here = site.counts.answered[channel.index][slot]
            here.answered += 1
            here.handle_time += handle_time
        # A plain first contact (no customer history, a plain channel) is its own customer,
        # resolved at first contact: `record` counts those from the totals, less the staged
        # contacts (a channel that is not plain has no plain first contact: none staged).
        if customer is not None:
            counts = channel.counts
            if channel.plain:
                counts.staged_answered[slot] += 1
                counts.staged_time[slot] += wait + handle_time
            # The customer's first answer at the entry channel counts, on the first
            # arrival's tally, as within the threshold when its queue time over all is.
            if wait <= channel.threshold:
                counts.customer_within[slot] += 1
            if channel is customer.entry and not customer.answered:
                customer.answered = True
                first = customer.tally
                if first is not None and customer.wait + wait <= channel.threshold:
                    first.customers_within_threshold += 1
        elif channel.plain and wait + handle_time > _FIRST_JOURNEY_POINT:
            # A plain first contact is a journey resolved at its end: one within the first
            # point is counted from the totals in `record`, a longer one here.
            counts = channel.counts
            counts.long_plain[slot] += 1
            bins = counts.journey_bins[slot]
            bins[bisect_left(JOURNEY_POINTS, wait + handle_time)] += 1

    @staticmethod
    def _site_waited(here, wait: float, handle_time: float, p: float, threshold: float):
        """The site's part of a counted contact that waited (``p``: its survey, or 0)."""
        here.answered += 1
        here.handle_time += handle_time
        here.contact_satisfied += p
        here.wait_answered += wait
        here.waited += 1
        if wait <= threshold:
            here.answered_within_threshold += 1

    def _answered_row(self, contact, site, wait: float, handle_time: float, now: float):
        """:meth:`answered`, and the contact's row (``record_contacts``)."""
        Counter.answered(self, contact, site, wait, handle_time, now)
        row = (contact.channel.name, contact.arrival, wait, "answered", handle_time)
        self.contacts.append((*row, contact.tally is not None, site.name))

    def abandoned(self, contact, wait: float, now: float) -> None:
        """Its patience ran out while waiting (a missed call back too)."""
        channel = contact.channel
        tally = contact.tally
        if tally is not None:
            tally.abandoned += 1
            tally.wait_abandoned += wait
            tally.waited += 1
            if wait > channel.threshold:
                tally.abandoned_after_threshold += 1
        if contact.arrival >= self.slot_from and now <= self.slot_end:
            channel.counts.queue_time[self.slot] += now - contact.arrival  # as `spread` would
        else:
            self.spread(contact.arrival, now, channel.counts.queue_time)
        if self.contacts is not None:
            self.contacts.append(
                (channel.name, contact.arrival, wait, "abandoned", math.nan, tally is not None, "")
            )

    def outcome(self, contact, name: str) -> None:
        """A contact ends as ``name`` (``blocked``, ``contained``, ``callbacks``) or is
        marked (``silent_abandoned``): one more in its tally."""
        tally = contact.tally
        if tally is not None:
            setattr(tally, name, getattr(tally, name) + 1)
        if self.contacts is not None and name != "silent_abandoned":  # an end: a row of its own
            row = (contact.channel.name, contact.arrival, 0.0, name, math.nan, tally is not None)
            self.contacts.append((*row, ""))

    def left(self, contact, name: str, now: float) -> None:
        """A contact leaves the queue unanswered now as ``name`` (``balked``, ``messages``,
        ``disconnected``): one more in its tally, and its queue time."""
        channel = contact.channel
        tally = contact.tally
        if tally is not None:
            setattr(tally, name, getattr(tally, name) + 1)
        wait = now - contact.arrival
        self.spread(contact.arrival, now, channel.counts.queue_time)
        if self.contacts is not None:
            self.contacts.append(
                (channel.name, contact.arrival, wait, name, math.nan, tally is not None, "")
            )

    def carried_over(self, contact, now: float) -> None:
        """Still waiting when the run ends (email: open at the horizon)."""
        channel = contact.channel
        self.spread(contact.arrival, math.inf, channel.counts.queue_time)
        tally = contact.tally
        if tally is not None:
            tally.carried_over += 1
            if now - contact.arrival > channel.threshold:
                tally.carried_over_after_threshold += 1

    def add(self, tally: ChannelTally | None, name: str, n: int = 1) -> None:
        """``n`` more ``name`` (an outbound record's or attempt's count) in ``tally``."""
        if tally is not None:
            setattr(tally, name, getattr(tally, name) + n)

    def opened(self, channel) -> None:  # an email item entered the queue now
        channel.counts.opened[self.slot] += 1

    def closed(self, channel) -> None:  # an email item was taken by an agent now
        channel.counts.closed[self.slot] += 1

    # --- the end of the run ------------------------------------------------------------

    def record(self) -> RunRecord:
        """Complete the counts left to totals (counts, satisfaction); hand the run over."""
        observed = [0.0] * self.n
        self.spread(0.0, self.horizon, observed)
        complete(self.channels, self.sites, observed, self.by_site)
        self.survey.complete(self.channels, self.sites)
        return RunRecord(self.calendar, self.warmup, observed, self.channels, self.sites)
