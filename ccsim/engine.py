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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy
from simpy.events import NORMAL, Event

from ccsim.arrivals import arrival_epochs
from ccsim.calendar import Calendar
from ccsim.config import Channel, Scenario, Site
from ccsim.metrics import KPI_NAMES, ChannelTally, kpis, tally_values, total
from ccsim.streams import BatchedDraws, Streams

__all__ = ["CONTACT_COLUMNS", "SimulationResult", "simulate"]

_WAITING, _ANSWERED, _ABANDONED = 0, 1, 2
_INF = math.inf

#: Columns of ``SimulationResult.contacts`` (only filled when asked for).
CONTACT_COLUMNS = ("channel", "arrival", "wait", "outcome", "handle_time", "counted", "site")


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
    __slots__ = ("arrival", "channel", "handle_time", "patience", "state", "tally")

    def __init__(self, channel, arrival, handle_time, patience, tally):
        self.channel = channel
        self.arrival = arrival
        self.handle_time = handle_time
        self.patience = patience
        self.tally = tally  # its arrival interval's tally, or None before the warm-up
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
    __slots__ = ("idle_since", "site")

    def __init__(self, site: _SiteState) -> None:
        self.site = site
        self.idle_since = 0.0


class _SiteState:
    """Runtime state of one site: its idle agents (longest idle first) and busy time."""

    __slots__ = ("busy_time", "channels", "idle", "n_agents", "name", "speed")

    def __init__(self, site: Site, channel_names: list[str], n_intervals: int) -> None:
        self.name, self.n_agents = site.name, site.agents
        self.idle: deque[_Agent] = deque(_Agent(self) for _ in range(site.agents))
        self.busy_time = [0.0] * n_intervals  # agent-seconds busy, per interval
        # Handle-time multiplier by channel index.
        self.speed = [site.proficiency.get(name, 1.0) for name in channel_names]
        self.channels: list[tuple[_ChannelState, float]] = []  # highest priority first


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
        self.sites = {
            site.name: _SiteState(site, names, self.n_intervals) for site in scenario.sites
        }
        for channel in self.channels:
            for site, after in scenario.eligible_sites(channel.name):
                channel.steps.append((self.sites[site.name], after))
                self.sites[site.name].channels.append((channel, after))
        for site in self.sites.values():
            site.channels.sort(key=lambda pair: -pair[0].priority)  # stable: FCFS within
        self.prefer_first = scenario.routing.policy == "preference"
        self.records: list[tuple] | None = [] if record_contacts else None

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
        tally = channel.intervals[self.interval_of(now)] if now >= self.warmup else None
        contact = _Contact(channel, now, channel.draw_handle_time(), patience, tally)
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

        Among the sites whose step the contact has reached: the first one in preference
        order, or the one whose head agent has been idle longest."""
        best = None
        for site, after in steps:
            if after <= wait and site.idle:
                if self.prefer_first:
                    return site.idle.popleft()
                if best is None or site.idle[0].idle_since < best.idle[0].idle_since:
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
            if wait > 0.0:
                tally.waited += 1
            if wait <= channel.threshold:
                tally.answered_within_threshold += 1
        if wait > 0.0:
            self._spread(contact.arrival, now, channel.queue_time)
        self._spread(now, now + handle_time, site.busy_time)
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
        """An agent finishes a contact and takes the next one it may, if any."""
        agent: _Agent = event._value
        now = self.env.now
        following = self._next_waiting(agent.site, now)
        if following is not None:
            self._answer(following, agent, now)
        else:
            agent.idle_since = now
            agent.site.idle.append(agent)

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

    def run(self) -> dict[str, list[ChannelTally]]:
        for channel in self.channels:
            first = next(channel.epochs, None)
            if first is not None:
                _Due(self.env, first, self._arrive, channel)
        # No `until`: arrivals stop at the horizon, and the run goes on until every contact
        # still in the system has been answered and served or has abandoned.
        self.env.run()
        observed = [0.0] * self.n_intervals
        self._spread(0.0, self.horizon, observed)
        for channel in self.channels:
            # A channel's occupancy is that of the sites that serve it, all their work included.
            sites = [site for site, _ in channel.steps]
            for k, tally in enumerate(channel.intervals):
                tally.queue_time = channel.queue_time[k]
                tally.busy_time = sum(site.busy_time[k] for site in sites)
                tally.staffed_time = sum(site.n_agents for site in sites) * observed[k]
                tally.observed_time = observed[k]
        return {channel.name: channel.intervals for channel in self.channels}


@dataclass(frozen=True)
class SimulationResult:
    """What one replication produced: tallies per channel (in total and per interval), and
    contacts if asked for."""

    scenario: str
    seed: np.random.SeedSequence = field(repr=False)
    warmup: float
    calendar: Calendar = field(repr=False)
    interval_tallies: dict[str, list[ChannelTally]] = field(repr=False)
    contacts: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def tallies(self) -> dict[str, ChannelTally]:
        """Totals per channel over the observation window."""
        return {name: total(tallies) for name, tallies in self.interval_tallies.items()}

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per channel (index ``channel``), one column per KPI."""
        frame = pd.DataFrame.from_dict(
            {name: kpis(tally) for name, tally in self.tallies.items()}, orient="index"
        )
        frame.index.name = "channel"
        return frame

    def interval_rows(self) -> list[dict]:
        """One record per channel and interval inside the window: KPIs and tallies.

        ``interval_start`` is in simulated seconds, ``local_start`` the customers' wall-clock
        time (ISO 8601 with its UTC offset, so the repeated hour of autumn stays distinct).
        """
        slots = self.calendar.slots
        return [
            {
                "channel": name,
                "interval": k,
                "interval_start": slots[k].start,
                "local_start": slots[k].local_start.isoformat(),
                **kpis(tally),
                **tally_values(tally),
            }
            for name, tallies in self.interval_tallies.items()
            for k, tally in enumerate(tallies)
            if slots[k].end > self.warmup
        ]

    @property
    def interval_kpis(self) -> pd.DataFrame:
        """One row per channel and reporting interval (by arrival; time-based KPIs by overlap)."""
        columns = ["channel", "interval", "interval_start", "local_start", *KPI_NAMES]
        return pd.DataFrame(self.interval_rows()).loc[:, columns]


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
