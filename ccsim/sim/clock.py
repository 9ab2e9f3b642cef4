"""The clock: SimPy's ``Environment`` and the one kind of event the engine schedules.

Every step of a contact's or an agent's life is a plain callback due at a time: a
:class:`Due` event on the environment's heap. :meth:`Clock.after` pushes it with the
environment's own event counter, exactly as ``Environment.schedule`` would, and
:meth:`Clock.run` pops events as ``Environment.step`` does: the environment stays a valid
SimPy environment (its ``now`` is the simulated time, ``step`` and ``run`` would work on
the same heap), but the loop skips what a :class:`Due` never needs (the failure check,
the list of callbacks). Together that halves the cost of an event, the largest part of
the cost of a contact.
"""

from __future__ import annotations

from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL, URGENT, Event

__all__ = ["Clock", "Due"]


class Due(Event):
    """A callback due at a time: a ``Timeout`` without its argument checks.

    ``callbacks`` holds the one callback; SimPy reads it, as ``_ok`` and ``_value``, when
    the event is processed. The callback gets the event and reads its ``_value``. Since
    :meth:`Clock.run` leaves a processed ``Due`` as it was, one that is never pending twice
    at once (an agent's end of service, a channel's next arrival) is scheduled again and
    again rather than made anew for every contact.
    """

    _ok = True  # a Due never fails

    def __init__(self, callback, value) -> None:
        self.callbacks = (callback,)
        self._value = value


class Clock:
    """SimPy's environment, with cheap scheduling of :class:`Due` callbacks."""

    def __init__(self) -> None:
        self.env = simpy.Environment()
        # The environment's heap and event counter, for the hot path's inline pushes (an
        # arrival, a patience timer, a service's or a bot session's end):
        # ``heappush(clock.heap, (when, NORMAL, next(clock.ids), due))`` is what
        # :meth:`after` does, without the call. Nothing else reads its heap.
        self.heap = self.env._queue
        self.ids = self.env._eid

    @property
    def now(self) -> float:
        return self.env._now

    def after(self, delay: float, callback, value=None) -> None:
        """Call ``callback(event)`` ``delay`` seconds from now (``event._value`` is ``value``)."""
        env = self.env
        heappush(self.heap, (env._now + delay, NORMAL, next(self.ids), Due(callback, value)))

    def schedule(self, delay: float, due: Due) -> None:
        """Schedule ``due`` (again) ``delay`` seconds from now."""
        heappush(self.heap, (self.env._now + delay, NORMAL, next(self.ids), due))

    def first(self, when: float, callback, value=None) -> None:
        """Call ``callback`` at ``when`` before any other event due at the same moment
        (how the reporting interval is advanced before the contacts of its first second)."""
        heappush(self.heap, (when, URGENT, next(self.ids), Due(callback, value)))

    def pending(self) -> list[tuple]:
        """The events left on the heap, as ``(callback, value)`` pairs in no particular
        order: what a run stopped at the cut-off still had to do (features read them to
        find the contacts they hold, :func:`ccsim.sim.features.install`)."""
        return [(event.callbacks[0], event._value) for _, _, _, event in self.heap]

    def run(self, until: float | None = None) -> None:
        """Process events until none is left (what ``Environment.run()`` does), or, with
        ``until``, those due before it (the rest stay on the heap, unprocessed)."""
        queue, env, pop = self.heap, self.env, heappop
        if until is None:
            while queue:
                env._now, _, _, event = pop(queue)
                event.callbacks[0](event)
            return
        while queue and queue[0][0] < until:
            env._now, _, _, event = pop(queue)
            event.callbacks[0](event)
        env._now = max(env._now, until)
