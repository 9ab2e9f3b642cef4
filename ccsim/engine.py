"""The engine: one replication of a scenario, one contact's life on SimPy's clock.

A contact **arrives** (:meth:`_Replication._arrive`) and is **routed** at once to an idle
agent of a site it may use (:meth:`_Replication._idle_agent`), or else **waits** in its
channel's FIFO queue with a patience timer and, where routing has overflow steps, a timer
for each; when an agent comes free (:meth:`_Replication._release`) its site takes the
longest-waiting contact of the highest-priority channel that has waited long enough for it
(:meth:`_Replication._next_waiting`); the contact is **served**
(:meth:`_Replication._answer`) for its handle time times the site's proficiency; or it
**abandons** when its patience runs out first (:meth:`_Replication._abandon`). Each outcome
is **counted** in the tally of the channel's arrival interval at the moment it happens.

Why not a SimPy process and a ``Resource`` request per contact: each costs a generator,
several events and, for reneging, an O(n) removal from the resource queue. Here every step
is a plain callback on a minimal timed event; a patience timer is never cancelled (SimPy cannot
cancel a timeout) but ignored when it fires for a contact that is no longer waiting; queues
are deques from which abandoned contacts are dropped lazily when they reach the head.

All randomness comes from named streams (:mod:`ccsim.streams`), and each contact draws its
handle time and patience at arrival, so contact *i* of a channel gets the same values in
every scenario run with the same seed: the basis of common random numbers.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pandas as pd
import simpy
from simpy.events import NORMAL, Event

from ccsim.arrivals import arrival_epochs
from ccsim.calendar import Calendar
from ccsim.config import Channel, Scenario, Site
from ccsim.metrics import ChannelTally
from ccsim.result import CONTACT_COLUMNS, SimulationResult
from ccsim.shifts import PayScale, interval_pieces, roster, schedule_tallies
from ccsim.streams import BatchedDraws, Streams

__all__ = ["CONTACT_COLUMNS", "SimulationResult", "simulate"]

_WAITING, _ANSWERED, _ABANDONED = 0, 1, 2
_INF = math.inf


class _Due(Event):
    """A callback due after a delay: a ``Timeout`` without its argument checks.

    SimPy's ``Timeout`` sets exactly these attributes; skipping its checks and the separate
    ``callbacks.append`` saves about a fifth of the cost of each event on the hot path.
    """

    def __init__(self, env: simpy.Environment, delay: float, callback, value) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)


class _Contact:
    __slots__ = ("arrival", "channel", "handle_time", "patience", "slot", "state", "tally")

    def __init__(self, channel, arrival, handle_time, patience, slot, tally):
        self.channel = channel
        self.arrival = arrival
        self.handle_time = handle_time
        self.patience = patience
        self.slot = slot  # its arrival interval
        self.tally = tally  # that interval's tally, or None before the warm-up
        self.state = _WAITING


class _ChannelState:
    """Runtime state of one channel: its queue, tallies per interval and random draws."""

    __slots__ = (
        "draw_handle_time",
        "draw_patience",
        "epochs",
        "index",
        "intervals",
        "name",
        "priority",
        "queue",
        "queue_time",
        "steps",
        "threshold",
    )

    def __init__(
        self, index: int, name: str, channel: Channel, calendar: Calendar, streams: Streams
    ):
        self.index, self.name, self.priority = index, name, channel.priority
        self.steps: list[tuple[_SiteState, float]] = []  # eligible sites and their delays
        self.queue: deque[_Contact] = deque()
        n_intervals = len(calendar.slots)
        self.intervals = [ChannelTally() for _ in range(n_intervals)]
        self.queue_time = [0.0] * n_intervals  # contact-seconds waiting, per interval
        self.threshold = channel.service_level.threshold
        self.epochs = arrival_epochs(
            channel.arrivals,
            calendar,
            streams.generator("arrivals", name),
            streams.generator("busyness", name),
        )
        self.draw_handle_time = BatchedDraws(
            channel.handle_time.sample, streams.generator("handle_time", name)
        )
        patience = channel.patience
        self.draw_patience = (
            BatchedDraws(patience.sample, streams.generator("patience", name))
            if patience is not None
            else None
        )


class _Agent:
    """One agent of one shift. ``leaving`` is set when the agent's shift ends or a break is
    due while a contact is in hand: the agent leaves (or takes the break) on finishing it."""

    __slots__ = (
        "break_due",
        "breaks",
        "ended",
        "idle_since",
        "leaving",
        "on",
        "on_since",
        "shift_end",
        "site",
    )

    def __init__(self, site: _SiteState, shift_end: float) -> None:
        self.site = site
        self.shift_end = shift_end
        self.idle_since = 0.0
        self.on = False  # logged on: idle or busy
        self.on_since = 0.0
        self.ended = False
        self.leaving = False
        self.break_due = 0.0  # length of a break waiting for the contact in hand to end
        self.breaks: list[tuple[float, float]] = []  # (start, length) to come, last first


class _SiteState:
    """Runtime state of one site: its idle agents (longest idle first), the time its agents
    are logged on and busy, per channel and interval, and the contacts they answered."""

    __slots__ = (
        "agents",
        "answered",
        "available_time",
        "busy",
        "channels",
        "idle",
        "instances",
        "name",
        "overruns",
        "pay",
        "rank",
        "shrinkage",
        "site",
        "speed",
        "upcoming",
    )

    def __init__(self, site: Site, channel_names: list[str], calendar: Calendar) -> None:
        self.site, self.name = site, site.name
        n_intervals = len(calendar.slots)
        self.instances = roster(site, calendar)
        self.upcoming = iter(self.instances)
        self.shrinkage = site.shrinkage
        self.agents: list[_Agent] = []
        self.idle: deque[_Agent] = deque()
        self.available_time = [0.0] * n_intervals  # agent-seconds logged on, per interval
        # Agent-seconds busy and contacts answered, per channel index and interval.
        self.busy = [[0.0] * n_intervals for _ in channel_names]
        self.answered = [[ChannelTally() for _ in range(n_intervals)] for _ in channel_names]
        self.overruns: list[tuple[float, float]] = []  # (shift end, left), paid time
        # Handle-time multiplier by channel index.
        self.speed = [site.proficiency.get(name, 1.0) for name in channel_names]
        self.channels: list[tuple[_ChannelState, float]] = []  # highest priority first
        self.rank = 0.0  # routing order among sites: lower first (see _Replication)
        self.pay = PayScale(site, calendar, calendar.horizon + 86400.0)


class _Replication:
    def __init__(self, scenario: Scenario, streams: Streams, record_contacts: bool):
        self.env = simpy.Environment()
        self.warmup = scenario.warmup
        self.horizon = scenario.horizon
        self.interval = scenario.interval
        self.calendar = calendar = scenario.calendar()
        self.n_intervals = len(calendar.slots)
        # Interval k spans [edges[k], edges[k + 1]); uniform intervals are found by division.
        self.edges = [*calendar.edges, scenario.horizon]
        self.interval_of = (
            (lambda t: int(t / self.interval)) if calendar.uniform else calendar.index
        )
        self.channels = [
            _ChannelState(index, name, channel, calendar, streams)
            for index, (name, channel) in enumerate(scenario.channels.items())
        ]
        names = list(scenario.channels)
        self.sites = {site.name: _SiteState(site, names, calendar) for site in scenario.sites}
        for channel in self.channels:
            for site, after in scenario.eligible_sites(channel.name):
                channel.steps.append((self.sites[site.name], after))
                self.sites[site.name].channels.append((channel, after))
        for site in self.sites.values():
            site.channels.sort(key=lambda pair: -pair[0].priority)  # stable: FCFS within
        # Routing picks, among the sites a contact has reached with an idle agent, the lowest
        # rank and then the agent idle longest: the rank is 0 for longest_idle, the position
        # in the channel's list for preference, the hourly cost for cheapest.
        self.policy = scenario.routing.policy
        for site in self.sites.values():
            site.rank = site.site.cost_per_hour if self.policy == "cheapest" else 0.0
        self.records: list[tuple] | None = [] if record_contacts else None
        self.absence = streams.generator("absence", "sites")
        for site in self.sites.values():
            self._next_shift(site)

    # --- an agent's day -----------------------------------------------------------------
    # Shifts, breaks and ends are scheduled as they come due (one pending shift start per
    # site, one pending break per agent), not all at once: weeks of agent events waiting in
    # the heap would make every push and pop on it dearer.

    def _next_shift(self, site: _SiteState) -> None:
        instance = next(site.upcoming, None)
        if instance is not None:
            delay = max(instance.start, 0.0) - self.env.now
            _Due(self.env, delay, self._start_shift, (site, instance))

    def _start_shift(self, event) -> None:
        """A shift begins: its agents who come to work log on. Absent agents (shrinkage)
        are paid but never created: of ``h`` scheduled, ``h(1 - shrinkage)`` come, rounded
        up or down at random so that the mean is exact."""
        site, instance = event._value
        now = self.env.now
        present = instance.headcount
        if site.shrinkage > 0:
            present = int(present * (1.0 - site.shrinkage) + self.absence.random())
        for number in range(present):
            agent = _Agent(site, instance.end)
            breaks = instance.agent_breaks(number, present)
            agent.breaks = sorted((b, e - b) for b, e, _ in breaks if b >= now)[::-1]
            site.agents.append(agent)
            if instance.end < _INF:
                _Due(self.env, instance.end - now, self._end_shift, agent)
            self._next_break(agent, now)
            self._log_on(agent, now)
        self._next_shift(site)

    def _next_break(self, agent: _Agent, now: float) -> None:
        if agent.breaks:
            begin, length = agent.breaks.pop()
            _Due(self.env, begin - now, self._break, (agent, length))

    def _log_on(self, agent: _Agent, now: float) -> None:
        agent.on, agent.on_since = True, now
        self._take_work(agent, now)

    def _spread(self, start: float, end: float, series: list[float]) -> None:
        """Add the part of ``[start, end)`` inside ``[warmup, horizon)`` to ``series``,
        interval by interval (a service or a wait may cross an interval boundary)."""
        low = start if start > self.warmup else self.warmup
        high = end if end < self.horizon else self.horizon
        if high <= low:
            return
        k = self.interval_of(low)
        while True:
            edge = self.edges[k + 1]
            if high <= edge:
                series[k] += high - low
                return
            series[k] += edge - low
            low, k = edge, k + 1

    # --- a contact's life ---------------------------------------------------------------

    def _arrive(self, event) -> None:
        channel: _ChannelState = event._value
        now = self.env.now
        patience = channel.draw_patience() if channel.draw_patience is not None else _INF
        slot = self.interval_of(now)
        tally = channel.intervals[slot] if now >= self.warmup else None
        contact = _Contact(channel, now, channel.draw_handle_time(), patience, slot, tally)
        if tally is not None:
            tally.offered += 1
        agent = self._idle_agent(channel.steps, 0.0)
        if agent is not None:
            self._answer(contact, agent, now)
        else:
            channel.queue.append(contact)
            if patience < _INF:
                _Due(self.env, patience, self._abandon, contact)
            for site, after in channel.steps:
                if 0.0 < after < patience:  # an overflow step this contact may live to see
                    _Due(self.env, after, self._overflow, (contact, site))
        following = next(channel.epochs, None)
        if following is not None:
            _Due(self.env, following - now, self._arrive, channel)

    def _idle_agent(self, steps: list[tuple[_SiteState, float]], wait: float) -> _Agent | None:
        """The agent who takes a contact that has waited ``wait``, or None if none is free.

        Among the sites whose step the contact has reached and that have an idle agent: the
        first in preference order, or else the lowest rank (cost, for ``cheapest``) and,
        among equals, the one whose head agent has been idle longest."""
        best = None
        for site, after in steps:
            if after <= wait and site.idle:
                if self.policy == "preference":
                    return site.idle.popleft()
                if best is None or (site.rank, site.idle[0].idle_since) < (
                    best.rank,
                    best.idle[0].idle_since,
                ):
                    best = site
        return best.idle.popleft() if best is not None else None

    def _overflow(self, event) -> None:
        """A waiting contact reaches the wait at which one more site may take it."""
        contact, site = event._value
        if contact.state == _WAITING and site.idle:
            # Any contact that waited longer reached this step earlier, when the site had
            # no idle agent, and would have been taken since: this one is next for it.
            self._answer(contact, site.idle.popleft(), self.env.now)

    def _answer(self, contact: _Contact, agent: _Agent, now: float) -> None:
        contact.state = _ANSWERED
        wait = now - contact.arrival
        channel = contact.channel
        site = agent.site
        handle_time = contact.handle_time * site.speed[channel.index]
        tally = contact.tally
        if tally is not None:
            tally.answered += 1
            tally.wait_answered += wait
            tally.handle_time += handle_time
            here = site.answered[channel.index][contact.slot]
            here.answered += 1
            here.wait_answered += wait
            here.handle_time += handle_time
            if wait > 0.0:
                tally.waited += 1
                here.waited += 1
            if wait <= channel.threshold:
                tally.answered_within_threshold += 1
                here.answered_within_threshold += 1
        if wait > 0.0:
            self._spread(contact.arrival, now, channel.queue_time)
        self._spread(now, now + handle_time, site.busy[channel.index])
        if self.records is not None:
            self.records.append(
                (
                    channel.name,
                    contact.arrival,
                    wait,
                    "answered",
                    handle_time,
                    tally is not None,
                    site.name,
                )
            )
        _Due(self.env, handle_time, self._release, agent)

    def _abandon(self, event) -> None:
        contact: _Contact = event._value
        if contact.state != _WAITING:
            return  # answered before its patience ran out: the timer is simply ignored
        contact.state = _ABANDONED
        channel = contact.channel
        wait = contact.patience
        tally = contact.tally
        if tally is not None:
            tally.abandoned += 1
            tally.wait_abandoned += wait
            tally.waited += 1
            if wait > channel.threshold:
                tally.abandoned_after_threshold += 1
        self._spread(contact.arrival, self.env.now, channel.queue_time)
        if self.records is not None:
            self.records.append(
                (channel.name, contact.arrival, wait, "abandoned", math.nan, tally is not None, "")
            )

    def _release(self, event) -> None:
        """An agent finishes a contact: leaves if the shift is over, takes a break that was
        due, or else takes the next contact it may."""
        agent: _Agent = event._value
        if agent.leaving:
            self._leave(agent)
        else:
            self._take_work(agent, self.env.now)

    def _take_work(self, agent: _Agent, now: float) -> None:
        following = self._next_waiting(agent.site, now)
        if following is not None:
            self._answer(following, agent, now)
        else:
            agent.idle_since = now
            agent.site.idle.append(agent)

    def _join(self, event) -> None:
        """An agent comes back from a break and takes waiting work."""
        agent: _Agent = event._value
        if not (agent.ended or agent.on):
            self._log_on(agent, self.env.now)

    def _log_off(self, agent: _Agent, now: float) -> None:
        agent.on = False
        self._spread(agent.on_since, now, agent.site.available_time)

    def _break(self, event) -> None:
        agent, length = event._value
        if agent.ended:
            return
        now = self.env.now
        self._next_break(agent, now)
        if not agent.on:
            return  # still away on a break taken late: this one is skipped
        if agent in agent.site.idle:  # O(agents), but only a few times per agent and day
            agent.site.idle.remove(agent)
            self._log_off(agent, self.env.now)
            _Due(self.env, length, self._join, agent)
        else:
            agent.break_due += length
            agent.leaving = True

    def _end_shift(self, event) -> None:
        agent: _Agent = event._value
        agent.ended = True
        if agent.on:
            if agent in agent.site.idle:
                agent.site.idle.remove(agent)
                self._log_off(agent, self.env.now)
            else:
                agent.leaving = True  # finishes the contact in hand: an overrun

    def _leave(self, agent: _Agent) -> None:
        """A busy agent whose shift ended or whose break was due puts the phone down."""
        now = self.env.now
        self._log_off(agent, now)
        agent.leaving = False
        if agent.ended:
            agent.site.overruns.append((agent.shift_end, now))
        else:
            _Due(self.env, agent.break_due, self._join, agent)
            agent.break_due = 0.0

    def _next_waiting(self, site: _SiteState, now: float) -> _Contact | None:
        """The contact this site's agent takes: from the highest-priority channel with a
        contact that has waited long enough for this site, the one waiting longest."""
        best = None
        for channel, after in site.channels:
            if best is not None and channel.priority < best.channel.priority:
                break  # site.channels is sorted by priority: nothing better follows
            queue = channel.queue
            while queue and queue[0].state != _WAITING:
                queue.popleft()  # abandoned or taken by an overflow site: dropped lazily
            if (
                queue
                and now - queue[0].arrival >= after
                and (best is None or queue[0].arrival < best.arrival)
            ):
                best = queue[0]
        if best is not None:
            best.channel.queue.popleft()
        return best

    # --- the replication ----------------------------------------------------------------

    def run(self) -> dict[tuple[str, str], list[ChannelTally]]:
        """Simulate, then account: tallies per (channel, site) and interval, where site
        ``"all"`` is the channel as a whole and channel ``"all"`` every channel together."""
        for channel in self.channels:
            first = next(channel.epochs, None)
            if first is not None:
                _Due(self.env, first, self._arrive, channel)
        # No `until`: arrivals stop at the horizon, and the run goes on until every contact
        # still in the system has been answered and served or has abandoned, or until the
        # last agent has left (a contact still waiting then is carried over).
        self.env.run()
        for site in self.sites.values():
            for agent in site.agents:
                if agent.on:
                    self._log_off(agent, _INF)
        for channel in self.channels:
            for contact in channel.queue:
                if contact.state == _WAITING:
                    self._spread(contact.arrival, _INF, channel.queue_time)
                    if contact.tally is not None:
                        contact.tally.carried_over += 1
        observed = [0.0] * self.n_intervals
        self._spread(0.0, self.horizon, observed)
        return account(self, observed)


def _add_contacts(into: ChannelTally, tally: ChannelTally) -> None:
    for name in _CONTACT_TALLIES:
        setattr(into, name, getattr(into, name) + getattr(tally, name))


#: Tallies of contacts, summed when channels are put together; agent times are added per
#: site, so that a site serving two channels is counted once.
_CONTACT_TALLIES = (
    "offered",
    "answered",
    "abandoned",
    "waited",
    "answered_within_threshold",
    "abandoned_after_threshold",
    "carried_over",
    "wait_answered",
    "wait_abandoned",
    "handle_time",
    "queue_time",
)


def account(run: _Replication, observed: list[float]) -> dict[tuple[str, str], list[ChannelTally]]:
    """Tallies per (channel, site) and interval, once the run is over.

    A site's pay in an interval is split over the channels it serves in proportion to its
    agents' busy time on each (evenly when they were all idle), so channel costs add up to
    the site's. A row's agent times (scheduled, logged on) are those of the sites that may
    serve the row's channels; its busy time is the time spent on them.
    """
    calendar, warmup, n = run.calendar, run.warmup, run.n_intervals
    rows: dict[tuple[str, str], list[ChannelTally]] = {}
    for channel in run.channels:
        for k, tally in enumerate(channel.intervals):
            tally.queue_time = channel.queue_time[k]
            tally.observed_time = observed[k]
        rows[(channel.name, "all")] = channel.intervals
    multi_channel = len(run.channels) > 1
    if multi_channel:
        rows[("all", "all")] = [ChannelTally(observed_time=observed[k]) for k in range(n)]
        for channel in run.channels:
            for k, tally in enumerate(channel.intervals):
                _add_contacts(rows[("all", "all")][k], tally)
    multi_site = len(run.sites) > 1
    for site in run.sites.values():
        scheduled, cost = schedule_tallies(site.instances, site.pay, calendar, warmup)
        overrun = [0.0] * n
        for shift_end, left in site.overruns:
            for k, low, high in interval_pieces(shift_end, left, calendar, warmup):
                overrun[k] += high - low
                cost[k] += site.pay.cost(low, high)
        served = [channel for channel in run.channels if any(s is site for s, _ in channel.steps)]
        whole = [
            ChannelTally(
                staffed_time=site.available_time[k],
                scheduled_time=scheduled[k],
                overrun_time=overrun[k],
                labour_cost=cost[k],
                observed_time=observed[k],
            )
            for k in range(n)
        ]
        for channel in served:
            part = site.answered[channel.index]
            busy = site.busy[channel.index]
            for k in range(n):
                total_busy = sum(site.busy[c.index][k] for c in served)
                share = busy[k] / total_busy if total_busy > 0 else 1.0 / len(served)
                cell = part[k]
                cell.busy_time = busy[k]
                cell.staffed_time = site.available_time[k]
                cell.scheduled_time = scheduled[k]
                cell.overrun_time = overrun[k] * share
                cell.labour_cost = cost[k] * share
                cell.observed_time = observed[k]
                channel_row = channel.intervals[k]
                channel_row.busy_time += busy[k]
                channel_row.staffed_time += site.available_time[k]
                channel_row.scheduled_time += scheduled[k]
                channel_row.overrun_time += cell.overrun_time
                channel_row.labour_cost += cell.labour_cost
                whole[k].answered += cell.answered
                whole[k].waited += cell.waited
                whole[k].answered_within_threshold += cell.answered_within_threshold
                whole[k].wait_answered += cell.wait_answered
                whole[k].handle_time += cell.handle_time
                whole[k].busy_time += busy[k]
            if multi_site:
                rows[(channel.name, site.name)] = part
        if multi_channel:
            for k in range(n):
                everyone = rows[("all", "all")][k]
                everyone.busy_time += whole[k].busy_time
                everyone.staffed_time += whole[k].staffed_time
                everyone.scheduled_time += whole[k].scheduled_time
                everyone.overrun_time += whole[k].overrun_time
                everyone.labour_cost += whole[k].labour_cost
        if multi_site:
            rows[("all", site.name)] = whole
    return rows


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence = 0,
    *,
    record_contacts: bool = False,
) -> SimulationResult:
    """Run one replication of ``scenario``; a pure function of its arguments.

    ``seed`` is an integer or a ``numpy.random.SeedSequence`` (replication ``r`` of a run
    with seed ``S`` uses ``SeedSequence(S).spawn(n)[r]``). With ``record_contacts`` the
    result also holds one row per contact (columns :data:`CONTACT_COLUMNS`), in the order
    in which their outcomes happened; otherwise nothing per contact is kept.
    """
    streams = Streams(seed)
    replication = _Replication(scenario, streams, record_contacts)
    interval_tallies = replication.run()
    contacts = None
    if replication.records is not None:
        contacts = pd.DataFrame(replication.records, columns=list(CONTACT_COLUMNS))
    return SimulationResult(
        scenario.name,
        streams.seed,
        scenario.warmup,
        replication.calendar,
        interval_tallies,
        contacts,
    )
