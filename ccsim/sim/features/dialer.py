"""The dialer of one outbound channel (:mod:`ccsim.sim.features.outbound` says what it
does): its call list, its calling windows, the attempts and their outcomes.

The blended day pays for 1.3 attempts per counted contact (issue #29), so an attempt is
cheap: a record is its own event on the clock (no ``Due`` and no tuple per attempt), the
method it calls back tells the outcome, and counts are attribute adds inline.
"""

from __future__ import annotations

import math
from collections import deque
from itertools import repeat

from ccsim.sim.features.calling_windows import calling_windows
from ccsim.sim.state import Contact, attach, new_contact

__all__ = ["Dialer"]

_INF = math.inf


class _Record:
    """One record of the call list once dialled: its attempts so far, the tally of the
    interval in which it became callable (None: before the warm-up, not counted) and, with
    an agent reserved for its attempt (preview, progressive), that agent.

    A record is also the clock's event of its own next step (``callback``: its attempt's
    outcome, or its redial falling due), since it never has two at once: an attempt costs
    no ``Due`` and no tuple. A record not yet dialled is only its tally on the list, so a
    day's list of new records is made without a call per record."""

    __slots__ = ("agent", "attempts", "callback", "tally")

    @property
    def _value(self):  # what the event is about (``Clock.pending``): the record itself
        return self


class _Targets(dict):
    """The predictive dialer's calls in progress by the number of idle agents at its one
    site (``pacing`` x those above the fixed ``reserve``), each worked out on first use."""

    __slots__ = ("pacing", "reserve")

    def __init__(self, pacing: float, reserve: int) -> None:
        super().__init__()
        self.pacing, self.reserve = pacing, reserve

    def __missing__(self, idle: int) -> int:
        target = self[idle] = int(self.pacing * max(idle - self.reserve, 0) + 1e-9)
        return target


class _TargetNow:
    """As :class:`_Targets` (and read as it is), for several dialing sites or a reserve per
    interval: worked out each time, whatever the first site's idle agents."""

    __slots__ = ("pacing", "reserve", "sites")

    def __init__(self, sites, pacing: float, reserve) -> None:
        self.sites, self.pacing, self.reserve = sites, pacing, reserve

    def __getitem__(self, _idle: int) -> int:
        free = 0
        for site in self.sites:
            free += max(len(site.idle) - self.reserve(site), 0)
        return int(self.pacing * free + 1e-9)


class Dialer:
    """One outbound channel's call list and dialer."""

    def __init__(self, core, channel, config, calendar, streams) -> None:
        dialing = config.dialing
        self.core, self.count, self.channel, self.calendar = core, core.count, channel, calendar
        self.clock, self.horizon, self.warmup = core.clock, core.horizon, core.count.warmup
        self.at = core.clock.at
        self.dialing = dialing
        self.preview = dialing.preview_time
        self.attempts = dialing.attempts
        self.busy_time, self.no_answer_time = dialing.busy_time, dialing.no_answer_time
        self.sites = [site for site, _ in channel.steps]
        # The predictive dialer's target (calls in progress), read as `targets[idle agents
        # at its first site]`: from a table with one site and a fixed reserve (the common
        # case, without a call), worked out each time otherwise.
        self.idle = self.targets = None
        if dialing.dialer == "predictive":
            self.idle = self.sites[0].idle
            if len(self.sites) == 1 and isinstance(self.sites[0].config.reserve, int):
                self.targets = _Targets(dialing.pacing, self.sites[0].config.reserve)
            else:
                self.targets = _TargetNow(self.sites, dialing.pacing, self._reserve)
        self.threshold = None  # the threshold dialer's (free agents, calls per free agent)
        self.counted = self.sites  # the sites whose idle agents it counts
        if dialing.dialer == "threshold":
            policy = dialing.threshold_policy
            self.threshold = (policy.free_agents, policy.calls_per_free_agent)
            if policy.sites is not None:
                wanted = set(policy.sites)
                self.counted = [site for site in core.sites if site.name in wanted]
            else:
                self.counted = list(core.sites)
        # What dials, and what an attempt's outcome calls: with an agent reserved per call
        # (preview, progressive) the agent hears it; otherwise the channel's queue does.
        # Bound once, as a record's callback is set at every attempt and redial.
        if dialing.dialer in ("preview", "progressive"):
            self.dial = self._reserving
            self.on_reached, self.on_missed = self._connect, self._agent_back
        else:
            self.dial = self._paced if self.threshold is None else self._at_cues_only
            self.on_reached, self.on_missed = self._live, self._missed
        self.on_redial = self._redial_due
        self.list: deque = deque()  # new records' tallies, not yet dialled
        self.redials: deque[_Record] = deque()  # records due for another attempt
        self.parked: list[_Record] = []  # redials due after the horizon: pending
        self.calls: dict[Contact, _Record] = {}  # live answers and their records
        self.in_flight = 0  # predictive calls ringing
        self.open = False
        outcomes = dialing.outcomes
        self.cut_right_party = outcomes.right_party
        self.cut_machine = outcomes.right_party + outcomes.machine
        self.cut_busy = outcomes.right_party + outcomes.machine + outcomes.busy
        name = channel.name
        self.draw_outcome = streams.uniforms("dial_outcome", name)
        self.draw_ring = streams.draws("ring_time", name, dialing.ring_time)
        redial = dialing.redial
        self.draw_redial = (
            streams.draws("redial", name, redial.delay) if redial is not None else None
        )
        self.new_records = streams.generator("records", name) if dialing.rate else None
        zone = dialing.timezone or calendar.zone.key
        self.windows = iter(calling_windows(calendar, dialing.windows, zone))
        attach(channel, "on_answer", self.answered)
        attach(channel, "on_abandon", self.dropped)

    # --- the list -------------------------------------------------------------------

    def start(self) -> None:
        self._next_window()
        if self.new_records is not None:
            self._next_record()

    def _next_window(self) -> None:
        window = next(self.windows, None)
        if window is not None:
            self.core.after(window[0] - self.clock.now, self._open, window)

    def _open(self, event) -> None:
        opens, closes, first = event._value
        now = self.clock.now
        records = self.dialing.records
        if first and records:
            tally = self.count.tally(self.channel, now)
            self.list.extend(repeat(tally, records))
            self.count.add(tally, "records", records)
        self.open = True
        self.core.after(closes - now, self._close)
        if self.threshold is None:
            self.dial(now)
        else:
            self.cue(now)

    def _close(self, event) -> None:
        self.open = False
        self._next_window()

    def _next_record(self) -> None:
        gap = self.new_records.exponential(1.0 / self.dialing.rate)
        if self.clock.now + gap < self.horizon:
            self.core.after(gap, self._new_record)

    def _new_record(self, event) -> None:
        now = self.clock.now
        tally = self.count.tally(self.channel, now)
        self.count.add(tally, "records")
        self.list.append(tally)
        self._next_record()
        self.dial(now)

    def _redial_due(self, record: _Record) -> None:
        self.redials.append(record)
        if self.idle is not None and self.in_flight >= self.targets[len(self.idle)]:
            return  # the predictive dialer at its pace, as `_paced` would find, without a call
        self.dial(self.clock.now)

    def _not_reached(self, record: _Record, now: float) -> None:
        """The record waits for its redial, or is exhausted (counted here, inline: a call
        per count cost as much as the rest of an attempt's outcome)."""
        if record.attempts >= self.attempts:
            if record.tally is not None:
                record.tally.records_exhausted += 1
            return
        delay = self.draw_redial()
        if now + delay < self.horizon:
            record.callback = self.on_redial
            self.at(now + delay, record)
        else:
            self.parked.append(record)

    # --- dialing --------------------------------------------------------------------
    # Each dialer is called with the time when it may dial more (``dial``, bound to one of
    # the methods below): an agent joined its site's idle agents, a window opened, a record
    # became callable, or a predictive call's outcome came in.

    def _reserve(self, site) -> int:
        config = site.config
        if isinstance(config.reserve, int):
            return config.reserve
        return config.reserve_at(self.calendar.slots[self.count.slot].slot)

    def _reserving(self, now: float) -> None:
        """Preview, progressive: one call per idle agent above the site's reserve, the agent
        (the longest idle) reserved from the dial on."""
        if not self.open or now >= self.horizon or not (self.redials or self.list):
            return
        for site in self.sites:
            idle, reserve = site.idle, self._reserve(site)
            while (self.redials or self.list) and len(idle) > reserve:
                self._attempt(now, idle.popleft())

    def _paced(self, now: float) -> None:
        """Predictive: up to ``pacing`` x the idle agents above the reserve in progress.

        Asked about three times per counted contact, mostly to find the dialer at its pace
        already (at every redial falling due, every right party, many ends of service), so
        that is found first (and, after a redial or a right party, without calling it); an
        attempt is made inline (as :meth:`_attempt` makes one with no agent), a call saved
        per attempt (1.3 per counted contact in the blended day)."""
        if not self.open or now >= self.horizon:
            return
        target = self.targets[len(self.idle)]
        in_flight = self.in_flight
        if in_flight >= target:
            return
        redials, fresh = self.redials, self.list
        while in_flight < target and (redials or fresh):
            in_flight += 1
            if redials:
                record = redials.popleft()
                record.attempts += 1
            else:
                record = _Record()
                record.tally = fresh.popleft()
                record.attempts = 1
            if record.tally is not None:
                record.tally.dials += 1
            u = self.draw_outcome()
            ring = self.draw_ring()
            if u < self.cut_right_party:
                record.callback = self.on_reached
                self.at(now + ring, record)
            else:
                record.callback = self.on_missed
                if u < self.cut_machine:
                    self.at(now + ring, record)
                elif u < self.cut_busy:
                    self.at(now + self.busy_time, record)
                else:
                    self.at(now + self.no_answer_time, record)
        self.in_flight = in_flight

    def _at_cues_only(self, now: float) -> None:
        """The threshold dialer dials at its cues only (:meth:`cue`)."""

    def cue(self, now: float) -> None:
        """The threshold dialer, at an end of service that left an agent idle (or a window's
        opening): with at least ``free_agents`` idle across the counted sites, dial a batch
        of ``calls_per_free_agent`` x the idle agents above the reserve of the dialing
        sites, whatever is already ringing (ContactCenters' Blend)."""
        if not (self.open and (self.redials or self.list)) or now >= self.horizon:
            return
        least, per_agent = self.threshold
        if sum(len(site.idle) for site in self.counted) < least:
            return
        free = 0
        for site in self.sites:
            free += max(len(site.idle) - self._reserve(site), 0)
        for _ in range(int(per_agent * free + 1e-9)):
            if not (self.redials or self.list):
                break
            self.in_flight += 1
            self._attempt(now, None)

    def _attempt(self, now: float, agent) -> None:
        """Dial the next record (redials due first): the outcome, known after the ring time
        (or the busy or no-answer time), is the record's next event."""
        if self.redials:
            record = self.redials.popleft()
            record.attempts += 1
        else:  # a new record: made on its first dial
            record = _Record()
            record.tally = self.list.popleft()
            record.attempts = 1
        if record.tally is not None:
            record.tally.dials += 1
        u = self.draw_outcome()
        ring = self.draw_ring()  # drawn for every attempt: the stream stays aligned
        if u < self.cut_right_party:
            record.callback, duration = self.on_reached, ring
        elif u < self.cut_machine:
            record.callback, duration = self.on_missed, ring
        elif u < self.cut_busy:
            record.callback, duration = self.on_missed, self.busy_time
        else:
            record.callback, duration = self.on_missed, self.no_answer_time
        if agent is not None:
            duration += self.preview
            self.count.serving(agent.site, self.channel, now, duration)
            record.agent = agent
        self.at(now + duration, record)

    # --- an attempt's outcome -------------------------------------------------------

    def _live(self, record: _Record) -> None:
        """A right party, no agent waiting on the call: a contact of the channel, which
        joins its queue (after every inbound channel) and hangs up after its patience."""
        now = self.clock.now
        channel, count = self.channel, self.count
        tally = channel.intervals[count.slot] if now >= self.warmup else None  # Counter.tally
        if tally is not None:  # Counter.add and Counter.offered, inline
            tally.live_answers += 1
            tally.offered += 1
        self.in_flight -= 1
        contact = new_contact(
            channel, now, channel.draw_handle_time(), channel.draw_patience(), count.slot,
            tally,
        )  # fmt: skip
        self.calls[contact] = record
        self.core.enter(contact, now)
        if self.idle is not None and self.in_flight >= self.targets[len(self.idle)]:
            return  # at its pace (as after nearly every right party), as in `_redial_due`
        self.dial(now)

    def _missed(self, record: _Record) -> None:
        """No right party, no agent waiting: one call fewer in progress, and the record
        redialled or exhausted (:meth:`_not_reached`, inline: about one a counted contact)."""
        now = self.clock.now
        if record.attempts >= self.attempts:
            if record.tally is not None:
                record.tally.records_exhausted += 1
        else:
            delay = self.draw_redial()
            if now + delay < self.horizon:
                record.callback = self.on_redial
                self.at(now + delay, record)
            else:
                self.parked.append(record)
        self.in_flight -= 1
        self.dial(now)

    def _connect(self, record: _Record) -> None:
        """A right party, put through at once to the agent reserved for the call."""
        now = self.clock.now
        channel, count = self.channel, self.count
        tally = channel.intervals[count.slot] if now >= self.warmup else None
        if tally is not None:
            tally.live_answers += 1
            tally.offered += 1
        contact = new_contact(channel, now, channel.draw_handle_time(), _INF, count.slot, tally)
        self.calls[contact] = record
        self.core.answer(contact, record.agent, now)

    def _agent_back(self, record: _Record) -> None:
        """No right party: the reserved agent takes other work (an idle agent cues the next
        dial), or leaves if a break or the shift's end came while it rang."""
        now = self.clock.now
        self._not_reached(record, now)
        agent = record.agent
        if agent.leaving:
            self.core.leave(agent)
        else:
            self.core.take_work(agent, now)

    # --- a live answer's end --------------------------------------------------------

    def answered(self, contact, site, handle_time: float, now: float) -> None:
        record = self.calls.pop(contact)
        if contact.tally is not None:
            contact.tally.right_party_contacts += 1
        if record.tally is not None:
            record.tally.records_reached += 1

    def dropped(self, contact, now: float) -> None:
        record = self.calls.pop(contact)
        if contact.tally is not None:
            contact.tally.dropped += 1
        self._not_reached(record, now)

    def finish(self, end: float) -> None:
        for record in (*self.redials, *self.parked, *self.calls.values()):
            self.count.add(record.tally, "records_pending")
        for tally in self.list:
            self.count.add(tally, "records_pending")
        self.redials.clear()
        self.list.clear()
        self.parked.clear()
        self.calls.clear()
