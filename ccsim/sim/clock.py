"""The clock: the simulated time, its heap of events and the one kind of event the engine
schedules.

Every step of a contact's or an agent's life is a plain callback due at a time: a
:class:`Due` on the heap of a SimPy ``Environment``. The clock pushes it with the
environment's own event counter, in the entry ``Environment.schedule`` would make, and
:meth:`Clock.run` pops entries as ``Environment.step`` does, but without what a
:class:`Due` never needs (the failure check, the list of callbacks): only the clock's loop
processes this heap. Together that halves the cost of an event, the largest part of the
cost of a contact.

This module is the only one that knows SimPy's internals: the environment's heap, its event
counter, its time, and the layout of a heap entry, ``(time, priority, event id, event)``.
The rest of the engine reads the time as :attr:`Clock.now` and schedules through the
clock's methods: :meth:`Clock.at` and :meth:`Clock.call_at` for the hot path (an arrival,
a patience timer, a service's or a bot session's end; plain functions, bound once, that
cost one call), :meth:`Clock.after`, :meth:`Clock.schedule` and :meth:`Clock.first` for the
rest (``tests/test_architecture.py`` checks that no other module reads those internals).
"""

from __future__ import annotations

from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL, URGENT

__all__ = ["Clock", "Due"]


class Due:
    """A callback due at a time: what a SimPy ``Timeout`` is to a process, without the
    event's machinery (its list of callbacks, its failure state).

    The clock calls ``callback(due)``; the callback reads what it is about in ``_value``.
    Since :meth:`Clock.run` leaves a processed ``Due`` as it was, one that is never pending
    twice at once (an agent's end of service, a channel's next arrival) is scheduled again
    and again rather than made anew for every contact.
    """

    __slots__ = ("_value", "callback")

    def __init__(self, callback, value) -> None:
        self.callback = callback
        self._value = value


class Clock:
    """The simulated time and the heap of :class:`Due` callbacks, on SimPy's environment.

    ``now`` is the time of the event being processed, a plain attribute (a property would
    cost a call on every read of the hot path). The environment's own time follows it when
    :meth:`run` returns: nothing inside a run reads it.
    """

    def __init__(self) -> None:
        self.env = env = simpy.Environment()
        self.now = env._now
        self._heap = heap = env._queue
        self._ids = ids = env._eid

        # Closures rather than methods: their names are fast locals, and the engine binds
        # them once (``at = clock.at``), so a push costs one call and no attribute reads.
        def at(when: float, due: Due) -> None:
            """Schedule ``due`` (again) at the time ``when``."""
            heappush(heap, (when, NORMAL, next(ids), due))

        def call_at(when: float, callback, value=None) -> None:
            """Call ``callback(event)`` at the time ``when`` (``event._value`` is ``value``)."""
            heappush(heap, (when, NORMAL, next(ids), Due(callback, value)))

        self.at, self.call_at = at, call_at

    def after(self, delay: float, callback, value=None) -> None:
        """Call ``callback(event)`` ``delay`` seconds from now (``event._value`` is ``value``)."""
        heappush(self._heap, (self.now + delay, NORMAL, next(self._ids), Due(callback, value)))

    def schedule(self, delay: float, due: Due) -> None:
        """Schedule ``due`` (again) ``delay`` seconds from now."""
        heappush(self._heap, (self.now + delay, NORMAL, next(self._ids), due))

    def first(self, when: float, callback, value=None) -> None:
        """Call ``callback`` at ``when`` before any other event due at the same moment
        (how the reporting interval is advanced before the contacts of its first second)."""
        heappush(self._heap, (when, URGENT, next(self._ids), Due(callback, value)))

    def pending(self) -> list[tuple]:
        """The events left on the heap, as ``(callback, value)`` pairs in no particular
        order: what a run stopped at the cut-off still had to do (features read them to
        find the contacts they hold, :func:`ccsim.sim.features.install`)."""
        return [(event.callback, event._value) for _, _, _, event in self._heap]

    def run(self, until: float | None = None) -> None:
        """Process events until none is left (what ``Environment.run()`` does), or, with
        ``until``, those due before it (the rest stay on the heap, unprocessed)."""
        queue, pop = self._heap, heappop
        if until is None:
            while queue:
                self.now, _, _, event = pop(queue)
                event.callback(event)
        else:
            while queue and queue[0][0] < until:
                self.now, _, _, event = pop(queue)
                event.callback(event)
            self.now = max(self.now, until)
        self.env._now = self.now
