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

__all__ = ["Clock", "Deadlines", "Due"]


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


# A timer's Due is made as ``_new(Due)`` and its two attributes set, not as
# ``Due(callback, value)``: a class whose ``__init__`` is Python is called through C, a
# frame the interpreter cannot inline, which costs more than the Due's pop and push.
_new = object.__new__


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
            due = _new(Due)
            due.callback, due._value = callback, value
            heappush(heap, (when, NORMAL, next(ids), due))

        self.at, self.call_at = at, call_at

    def deadlines(self, callback, live) -> Deadlines:
        """A set of deadlines on this clock (see :class:`Deadlines`)."""
        return Deadlines(self._heap, self._ids, callback, live)

    def after(self, delay: float, callback, value=None) -> None:
        """Call ``callback(event)`` ``delay`` seconds from now (``event._value`` is ``value``)."""
        due = _new(Due)
        due.callback, due._value = callback, value
        heappush(self._heap, (self.now + delay, NORMAL, next(self._ids), due))

    def schedule(self, delay: float, due: Due) -> None:
        """Schedule ``due`` (again) ``delay`` seconds from now."""
        heappush(self._heap, (self.now + delay, NORMAL, next(self._ids), due))

    def first(self, when: float, callback, value=None) -> None:
        """Call ``callback`` at ``when`` before any other event due at the same moment
        (how the reporting interval is advanced before the contacts of its first second)."""
        due = _new(Due)
        due.callback, due._value = callback, value
        heappush(self._heap, (when, URGENT, next(self._ids), due))

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


class Deadlines:
    """Deadlines of which only the earliest is on the clock's heap: a queue's patience
    timers, most of which never fire (the contact is answered first).

    ``add(when, item)`` sets ``item``'s deadline; at it, unless ``item.state`` is no
    longer ``live`` by then, the clock calls ``callback(item)``. Each deadline takes its
    event id when it is added, and goes on the heap with it, as the entry
    :meth:`Clock.call_at` would have pushed then, only once it is the earliest of the set
    whose item is still live: the clock then processes it at the same moment, in the same
    order among events due at the same time, as if it had been pushed at once. A deadline
    whose item left first is dropped from the set when it comes first, without a turn of
    the clock's loop: only the one on the heap when its item leaves costs a pop. An entry
    is a list ``[when, id, item, due]`` (ordered by time and id, which no two share), with
    the :class:`Due` it was pushed with, if it was; when an earlier deadline is added, the
    one on the heap is set aside (its ``Due`` made empty) and taken up again later.
    """

    __slots__ = ("add", "armed", "callback", "entries", "heap", "live")

    def __init__(self, heap: list, ids, callback, live) -> None:
        self.heap, self.callback, self.live = heap, callback, live
        self.entries = entries = []
        self.armed: list | None = None  # the entry whose Due is active on the heap
        expire = self._expire

        # A closure, as the clock's ``at``: one call for every contact that waits.
        def add(when: float, item) -> None:
            """``item``'s deadline is ``when``."""
            entry = [when, next(ids), item, None]
            heappush(entries, entry)
            armed = self.armed
            if armed is None or entry < armed:  # the earliest: on the heap now
                if armed is not None:
                    armed[3]._value = None  # set aside: taken up again when it comes first
                self.armed = entry
                entry[3] = due = _new(Due)
                due.callback, due._value = expire, self
                heappush(heap, (when, NORMAL, entry[1], due))

        self.add = add

    def _expire(self, event) -> None:
        """The earliest deadline is due (an emptied ``Due``: one set aside, nothing)."""
        if event._value is None:
            return
        entries, armed, live = self.entries, self.armed, self.live
        while heappop(entries) is not armed:
            pass  # items that left: their deadlines came earlier
        self.armed = None
        while entries:
            entry = entries[0]
            if entry[2].state == live:  # the next to arm: on the heap, or set aside there
                self.armed = entry
                due = entry[3]
                if due is None:  # the Due just processed, off the heap, serves again
                    entry[3] = event
                    heappush(self.heap, (entry[0], NORMAL, entry[1], event))
                else:  # its time is to come: it is still on the heap
                    due._value = self
                break
            heappop(entries)
        item = armed[2]
        if item.state == live:
            self.callback(item)
