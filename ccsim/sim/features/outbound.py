"""Outbound: a call list dialled by a dialer, and agents who blend it with inbound work.

An outbound channel (``kind: outbound``) has a call list: ``records`` new records each day,
callable from the day's first calling window, or records becoming callable at a ``rate``.
Records are dialled inside the calling windows only, redials whose delay is over first
(a redial is an appointment with the list), then new records in the order they became
callable, on the called parties' wall clock. An attempt meets
a right party, an answering machine, a busy line or no answer (stream
``("dial_outcome", channel)``), known after the ring time (``("ring_time", channel)``) or
the busy or no-answer time. A right party is a **live answer**: a contact of the channel
(its ``offered``), served by an agent for the channel's handle time (a right-party
contact, the record reached). A record not reached is dialled again after the redial
delay (``("redial", channel)``) until ``max_attempts``, then it is exhausted; one still to
dial when the run ends is pending. Every record ends as one of the three.

The dialers differ in when they dial and whether an agent waits on the call:

- ``preview`` and ``progressive``: one call per free agent, who is reserved from the dial
  on (reading the record for ``preview_time`` first with ``preview``): the ring time is
  the agent's outbound busy time, and a right party is put through at once, so no live
  answer is ever dropped.
- ``predictive``: calls in progress are kept at ``pacing`` x free agents and no agent is
  reserved; a right party joins the channel's queue (after every inbound channel) and
  hangs up after the channel's patience (a few seconds) if no agent is free by then: a
  dropped call, the regulated outbound abandonment.
- ``threshold`` (ContactCenters' Blend, Deslauriers et al.): no agent reserved, as
  predictive, but the dialer acts only at an end of service that leaves an agent idle (a
  site's ``on_idle`` cue, the sites it counts included: inbound-only ones by default) and
  when a window opens: with at least ``free_agents`` idle across the counted sites it
  dials ``calls_per_free_agent`` x the idle agents of its own sites at once, whatever is
  already ringing. A new record, a redial due or an outcome does not make it dial.

**Blending** (Bhulai & Koole's threshold policy): the agents of a site with both skills
take inbound and outbound work, inbound first (the outbound channel comes after every
inbound one), and a site dials only while more than its ``reserve`` agents are idle (a
number, or one per reporting interval of the day). A site's idle agents are watched
through its ``on_idle`` cue, which the core calls when an agent joins them; dialing also
resumes when a call's outcome is known, a record becomes callable or a window opens.

Outbound draws come from their own streams, and a reserved agent is taken as the longest
idle without a routing draw, so a scenario that never dials (a reserve at least its
agents) gives its inbound contacts exactly what the inbound-only scenario gives them.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ccsim.sim.state import Contact, attach

__all__ = ["Outbound", "calling_windows"]

# Dial outcomes, in the order of their cumulative probabilities.
RIGHT_PARTY, MACHINE, BUSY, NO_ANSWER = 0, 1, 2, 3

_INF = math.inf


def calling_windows(calendar, windows, zone: str) -> list[tuple[float, float, bool]]:
    """The calling windows as ``(open, close, first of its day)`` in simulated seconds,
    day after day in the time zone ``zone``, clipped to ``[0, horizon)``."""
    tz = ZoneInfo(zone)
    ordered = sorted(windows, key=lambda window: window.start)
    first_day = calendar.origin.astimezone(tz).date() - timedelta(days=1)
    found: list[tuple[float, float, bool]] = []

    def instant(day, text: str) -> float:
        hour, minute = text.split(":")  # validated as "HH:MM"
        local = datetime.combine(day, time(int(hour), int(minute)), tzinfo=tz)
        return (local.astimezone(UTC) - calendar.origin).total_seconds()

    day = first_day
    while instant(day, "00:00") < calendar.horizon:
        first = True
        for window in ordered:
            opens, closes = instant(day, window.start), instant(day, window.end)
            if closes > 0.0 and opens < calendar.horizon:
                found.append((max(opens, 0.0), min(closes, calendar.horizon), first))
                first = False
        day += timedelta(days=1)
    return found


class _Record:
    """One record of the call list: its attempts so far and the tally of the interval in
    which it became callable (None: before the warm-up, not counted)."""

    __slots__ = ("attempts", "tally")

    def __init__(self, tally) -> None:
        self.tally = tally
        self.attempts = 0


class _Dialer:
    """One outbound channel's call list and dialer."""

    def __init__(self, core, channel, config, calendar, streams) -> None:
        dialing = config.dialing
        self.core, self.count, self.channel, self.calendar = core, core.count, channel, calendar
        self.clock, self.horizon = core.clock, core.horizon
        self.dialing = dialing
        self.reserves = dialing.dialer in ("preview", "progressive")  # an agent per call
        self.pacing = dialing.pacing
        self.preview = dialing.preview_time
        self.attempts = dialing.attempts
        self.sites = [site for site, _ in channel.steps]
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
        self.list: deque[_Record] = deque()  # new records, not yet dialled
        self.redials: deque[_Record] = deque()  # records due for another attempt
        self.parked: list[_Record] = []  # redials due after the horizon: pending
        self.calls: dict[Contact, _Record] = {}  # live answers and their records
        self.in_flight = 0  # predictive calls ringing
        self.open = False
        outcomes = dialing.outcomes
        self.cuts = (
            outcomes.right_party,
            outcomes.right_party + outcomes.machine,
            outcomes.right_party + outcomes.machine + outcomes.busy,
        )
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
        if first and self.dialing.records:
            tally = self.count.tally(self.channel, now)
            self.list.extend(_Record(tally) for _ in range(self.dialing.records))
            self.count.add(tally, "records", self.dialing.records)
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
        self.list.append(_Record(tally))
        self._next_record()
        self.dial(now)

    def _callable_again(self, event) -> None:
        self.redials.append(event._value)
        self.dial(self.clock.now)

    def _not_reached(self, record: _Record, now: float) -> None:
        if record.attempts >= self.attempts:
            self.count.add(record.tally, "records_exhausted")
            return
        delay = self.draw_redial()
        if now + delay < self.horizon:
            self.core.after(delay, self._callable_again, record)
        else:
            self.parked.append(record)

    # --- dialing --------------------------------------------------------------------

    def _reserve(self, site) -> int:
        config = site.config
        if isinstance(config.reserve, int):
            return config.reserve
        return config.reserve_at(self.calendar.slots[self.count.slot].slot)

    def dial(self, now: float) -> None:
        """Dial what the dialer may now: one call per idle agent above the site's reserve
        (reserved), or, predictive, up to ``pacing`` x such agents in progress. The
        threshold dialer waits for an end of service instead (:meth:`cue`)."""
        if (
            not (self.open and (self.redials or self.list))
            or now >= self.horizon
            or self.threshold is not None
        ):
            return
        if self.reserves:
            for site in self.sites:
                idle, reserve = site.idle, self._reserve(site)
                while (self.redials or self.list) and len(idle) > reserve:
                    self._attempt(now, idle.popleft())
            return
        free = 0
        for site in self.sites:
            free += max(len(site.idle) - self._reserve(site), 0)
        target = int(self.pacing * free + 1e-9)
        while (self.redials or self.list) and self.in_flight < target:
            self.in_flight += 1
            self._attempt(now, None)

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
        record = self.redials.popleft() if self.redials else self.list.popleft()
        record.attempts += 1
        self.count.add(record.tally, "dials")
        u = self.draw_outcome()
        ring = self.draw_ring()  # drawn for every attempt: the stream stays aligned
        dialing = self.dialing
        if u < self.cuts[0]:
            outcome, duration = RIGHT_PARTY, ring
        elif u < self.cuts[1]:
            outcome, duration = MACHINE, ring
        elif u < self.cuts[2]:
            outcome, duration = BUSY, dialing.busy_time
        else:
            outcome, duration = NO_ANSWER, dialing.no_answer_time
        if agent is None:
            self.core.after(duration, self._outcome, (record, outcome, None))
            return
        duration += self.preview
        self.count.serving(agent.site, self.channel, now, duration)
        self.core.after(duration, self._outcome, (record, outcome, agent))

    def _outcome(self, event) -> None:
        """The attempt's outcome is known: a live answer is put through (to the reserved
        agent, or to the channel's queue); a record not reached waits for its redial."""
        record, outcome, agent = event._value
        now = self.clock.now
        channel, count = self.channel, self.count
        if outcome == RIGHT_PARTY:
            tally = count.tally(channel, now)
            count.add(tally, "live_answers")
            count.offered(tally)
            if agent is not None:
                contact = Contact(channel, now, channel.draw_handle_time(), _INF, count.slot, tally)
                self.calls[contact] = record
                self.core.answer(contact, agent, now)
                return
            self.in_flight -= 1
            contact = Contact(
                channel, now, channel.draw_handle_time(), channel.draw_patience(), count.slot,
                tally,
            )  # fmt: skip
            self.calls[contact] = record
            self.core.enter(contact, now)
        else:
            self._not_reached(record, now)
            if agent is None:
                self.in_flight -= 1
            elif agent.leaving:  # a break or the shift's end came while it rang
                self.core.leave(agent)
                return
            else:
                self.core.take_work(agent, now)  # an idle agent cues the next dial
                return
        self.dial(now)

    # --- a live answer's end --------------------------------------------------------

    def answered(self, contact, site, handle_time: float, now: float) -> None:
        record = self.calls.pop(contact)
        self.count.add(contact.tally, "right_party_contacts")
        self.count.add(record.tally, "records_reached")

    def dropped(self, contact, now: float) -> None:
        record = self.calls.pop(contact)
        self.count.add(contact.tally, "dropped")
        self._not_reached(record, now)

    def finish(self, end: float) -> None:
        for record in (*self.redials, *self.list, *self.parked, *self.calls.values()):
            self.count.add(record.tally, "records_pending")
        self.redials.clear()
        self.list.clear()
        self.parked.clear()
        self.calls.clear()


class Outbound:
    name = "outbound"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.kind == "outbound" for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        calendar = scenario.calendar()
        self.dialers = [
            _Dialer(core, channel, scenario.channels[channel.name], calendar, streams)
            for channel in core.channels
            if not channel.internal and scenario.channels[channel.name].kind == "outbound"
        ]
        # Each site's idle cue: the dialers of its agents, and the threshold dialers that
        # count its idle agents (inbound-only sites included).
        by_site: dict[int, list] = {}
        for dialer in self.dialers:
            if dialer.threshold is None:
                for site in dialer.sites:
                    by_site.setdefault(site.index, []).append(dialer.dial)
            else:
                for site in {*dialer.sites, *dialer.counted}:
                    by_site.setdefault(site.index, []).append(dialer.cue)
        for site in core.sites:
            cues = by_site.get(site.index)
            if cues is None:
                continue
            if site.on_idle is not None:  # email's reserve cue: after dialling (outranks it)
                cues = [*cues, site.on_idle]
            site.on_idle = cues[0] if len(cues) == 1 else _each(cues)

    def start(self) -> None:
        for dialer in self.dialers:
            dialer.start()

    def finish(self, end: float) -> None:
        for dialer in self.dialers:
            dialer.finish(end)


def _each(cues):
    def dial(now: float) -> None:
        for cue in cues:
            cue(now)

    return dial
