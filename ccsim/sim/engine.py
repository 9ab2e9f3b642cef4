"""The engine: one replication of a scenario, one contact's life on SimPy's clock.

A new contact **arrives** (:meth:`_Replication._arrive`); it may first try the **bot**
(:meth:`_to_bot`, :meth:`_bot_done`): contained, or handed over to the humans. It then
**enters** its channel (:meth:`_enter`): blocked if every line is busy, **routed** at once
to an idle agent of a site it may use (:meth:`_idle_agent`), offered a call back when the
expected wait is long, or it **waits** in its channel's FIFO queue with a patience timer
and a timer for each overflow step. When an agent comes free (:meth:`_release`) its site
takes the longest-waiting contact of the highest-priority channel that has waited long
enough for it (:meth:`_next_waiting`). The contact is **served** (:meth:`_answer`) for its
handle time times the site's proficiency, and is resolved, escalated to the next tier's
queue when the service ends, or left unresolved (the customer may come back: a repeat);
or it **abandons** when its patience runs out first (:meth:`_abandon`), and a voice caller
may call again (a retrial). Each outcome is **counted** in the tally of the interval in
which the contact reached the channel, at the moment it happens; customer outcomes
(resolution, first-contact resolution) on the channel and interval of the first arrival.

Agents come and go with their shifts (:meth:`_start_shift`, :meth:`_break`,
:meth:`_end_shift`): an agent with a contact in hand finishes it first.

Why not a SimPy process and a ``Resource`` request per contact: each costs a generator,
several events and, for reneging, an O(n) removal from the resource queue. Here every step
is a plain callback on a minimal timed event; a patience timer is never cancelled (SimPy
cannot cancel a timeout) but ignored when it fires for a contact that is no longer waiting;
queues are deques from which abandoned contacts are dropped lazily when they reach the head.

All randomness comes from named streams (:mod:`ccsim.sim.streams`), and each contact draws its
handle time and patience at arrival, so contact *i* of a channel gets the same values in
every scenario run with the same seed: the basis of common random numbers.
"""

from __future__ import annotations

import math
from bisect import bisect_left

import numpy as np
import pandas as pd
import simpy
from simpy.events import NORMAL, Event

from ccsim.model import Channel, Scenario
from ccsim.model.distributions import Deterministic
from ccsim.sim.accounting import account
from ccsim.sim.metrics import WAIT_POINTS
from ccsim.sim.result import CONTACT_COLUMNS, SimulationResult
from ccsim.sim.state import (
    ABANDONED,
    ANSWERED,
    ESCALATE,
    GONE,
    SILENT,
    WAITING,
    AgentState,
    ChannelState,
    Contact,
    Customer,
    SiteState,
)
from ccsim.sim.streams import Streams

__all__ = ["CONTACT_COLUMNS", "SimulationResult", "simulate"]

_INF = math.inf
_FREE_LINE = 2  # a contact's ``followup`` flag: it holds one of its channel's lines


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


def _callback_channel(voice: Channel, priority: int) -> Channel:
    """The internal channel of a voice channel's call backs: served after every live
    contact, its patience is the deadline (a missed call back abandons)."""
    callback = voice.callback
    return Channel.model_construct(
        **{
            **dict(voice),
            "kind": "voice",
            "arrivals": None,
            "patience": Deterministic(dist="deterministic", value=callback.deadline),
            "service_level": voice.service_level.model_copy(
                update={"threshold": callback.deadline}
            ),
            "lines": None,
            "retrial": None,
            "callback": None,
            "bot": None,
            "agent_assist": 1.0,
            "priority": priority,
        }
    )


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
        configs: dict[str, Channel] = dict(scenario.channels)
        deferred = min([c.priority for c in configs.values() if c.kind != "email"] or [0]) - 1
        for name, channel in scenario.channels.items():
            if channel.callback is not None:
                configs[f"{name}_callback"] = _callback_channel(channel, deferred)
        self.channels: list[ChannelState] = []
        for index, (name, channel) in enumerate(configs.items()):
            priority = channel.priority
            if channel.kind == "email" and "priority" not in channel.model_fields_set:
                priority = deferred  # deferred work: after every live contact
            self.channels.append(ChannelState(index, name, channel, calendar, streams, priority))
        by_name = {channel.name: channel for channel in self.channels}
        names = list(configs)
        self.sites = {
            site.name: SiteState(i, site, names, calendar) for i, site in enumerate(scenario.sites)
        }
        for channel in self.channels:
            served_as = channel.name
            if served_as not in scenario.channels:  # a call-back channel: as its voice channel
                served_as = served_as.removesuffix("_callback")
            for site, after in scenario.eligible_sites(served_as):
                state = self.sites[site.name]
                channel.steps.append((state, after))
                state.channels.append((channel, after))
                state.after[channel.index] = after
            config = configs[channel.name]
            channel.is_callback = channel.name not in scenario.channels
            if config.escalation is not None:
                channel.escalation = by_name[config.escalation]
            if config.callback is not None:
                channel.callback_channel = by_name[f"{channel.name}_callback"]
            channel.site_resolution = {
                site.name: site.resolution.get(served_as, channel.resolution)
                for site in scenario.sites
            }
            channel.always_resolved = min(channel.site_resolution.values()) >= 1.0
        for site in self.sites.values():
            site.channels.sort(key=lambda pair: -pair[0].priority)  # stable: FCFS within
        # Routing picks, among the sites a contact has reached with an idle agent, the lowest
        # rank and then the agent idle longest: the rank is 0 for longest_idle, the position
        # in the channel's list for preference, the hourly cost for cheapest.
        self.policy = scenario.routing.policy
        self.prefer_first = self.policy == "preference"  # read on every arrival
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

    def _next_shift(self, site: SiteState) -> None:
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
            agent = AgentState(site, instance.end)
            breaks = instance.agent_breaks(number, present)
            agent.breaks = sorted((b, e - b) for b, e, _ in breaks if b >= now)[::-1]
            site.agents.append(agent)
            if instance.end < _INF:
                _Due(self.env, instance.end - now, self._end_shift, agent)
            self._next_break(agent, now)
            self._log_on(agent, now)
        self._next_shift(site)

    def _next_break(self, agent: AgentState, now: float) -> None:
        if agent.breaks:
            begin, length = agent.breaks.pop()
            _Due(self.env, begin - now, self._break, (agent, length))

    def _log_on(self, agent: AgentState, now: float) -> None:
        agent.on, agent.on_since = True, now
        agent.site.n_on += 1
        self._take_work(agent, now)

    def _join(self, event) -> None:
        """An agent comes back from a break and takes waiting work."""
        agent: AgentState = event._value
        if not (agent.ended or agent.on):
            self._log_on(agent, self.env.now)

    def _log_off(self, agent: AgentState, now: float) -> None:
        agent.on = False
        agent.site.n_on -= 1
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
            self._log_off(agent, now)
            _Due(self.env, length, self._join, agent)
        else:
            agent.break_due += length
            agent.leaving = True

    def _end_shift(self, event) -> None:
        agent: AgentState = event._value
        agent.ended = True
        if agent.on:
            if agent in agent.site.idle:
                agent.site.idle.remove(agent)
                self._log_off(agent, self.env.now)
            else:
                agent.leaving = True  # finishes the contact in hand: an overrun

    def _leave(self, agent: AgentState) -> None:
        """A busy agent whose shift ended or whose break was due puts the phone down."""
        now = self.env.now
        self._log_off(agent, now)
        agent.leaving = False
        if agent.ended:
            agent.site.overruns.append((agent.shift_end, now))
        else:
            _Due(self.env, agent.break_due, self._join, agent)
            agent.break_due = 0.0

    def _slot(self, now: float) -> int:
        """The interval a moment belongs to; after the horizon, the last one."""
        return self.interval_of(now) if now < self.horizon else self.n_intervals - 1

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
        """A new customer's contact reaches the channel."""
        channel: ChannelState = event._value
        now = self.env.now
        patience = channel.draw_patience() if channel.draw_patience is not None else _INF
        slot = self.interval_of(now)
        tally = channel.intervals[slot] if now >= self.warmup else None
        contact = Contact(channel, now, channel.draw_handle_time(), patience, slot, tally)
        if tally is not None:
            tally.offered += 1  # customers = offered less returns and transfers (accounting)
        if channel.staged:
            contact.customer = Customer(now, tally, channel)
            if channel.bot is None or not self._to_bot(contact, now):
                self._enter(contact, now)
        else:
            self._enter(contact, now)
        following = next(channel.epochs, None)
        if following is not None:
            _Due(self.env, following - now, self._arrive, channel)

    def _enter(self, contact: Contact, now: float) -> None:
        """The contact reaches the human queue: blocked, answered at once, offered a call
        back, or waiting."""
        channel = contact.channel
        if channel.lines is not None:
            if channel.in_system >= channel.lines:
                if contact.tally is not None:
                    contact.tally.blocked += 1
                if channel.retrial is not None:
                    self._maybe_retry(contact, now)
                return
            channel.in_system += 1
            contact.followup |= _FREE_LINE
        if channel.deferred:
            channel.opened[self._slot(now)] += 1
        agent = self._idle_agent(channel.steps, 0.0)
        if agent is None and channel.concurrency > 1:
            agent = self._chat_slot(channel, 0.0)
        if agent is not None:
            self._answer(contact, agent, now)
            return
        if channel.callback is not None and self._offer_callback(contact, now):
            return
        channel.queue.append(contact)
        patience = contact.patience
        if patience < _INF:
            _Due(self.env, patience, self._abandon, contact)
        for site, after in channel.steps:
            if 0.0 < after < patience:  # an overflow step this contact may live to see
                _Due(self.env, after, self._overflow, (contact, site))

    def _idle_agent(self, steps: list[tuple[SiteState, float]], wait: float) -> AgentState | None:
        """The agent who takes a contact that has waited ``wait``, or None if none is free.

        Among the sites whose step the contact has reached and that have an idle agent: the
        first in preference order, or else the lowest rank (cost, for ``cheapest``) and,
        among equals, the one whose head agent has been idle longest."""
        best = None
        for site, after in steps:
            if after <= wait and site.idle:
                if self.prefer_first:
                    return site.idle.popleft()
                if best is None or (site.rank, site.idle[0].idle_since) < (
                    best.rank,
                    best.idle[0].idle_since,
                ):
                    best = site
        return best.idle.popleft() if best is not None else None

    def _chat_slot(self, channel: ChannelState, wait: float) -> AgentState | None:
        """An agent with a free chat slot on ``channel`` (one chat or more in hand)."""
        for site, after in channel.steps:
            if after <= wait:
                slots = site.slots[channel.index]
                while slots:
                    agent, generation = slots.popleft()
                    if agent.generation == generation and not agent.leaving:
                        return agent
        return None

    def _overflow(self, event) -> None:
        """A waiting contact reaches the wait at which one more site may take it."""
        contact, site = event._value
        if contact.state == WAITING and site.idle:
            # Any contact that waited longer reached this step earlier, when the site had
            # no idle agent, and would have been taken since: this one is next for it.
            self._answer(contact, site.idle.popleft(), self.env.now)

    def _answer(self, contact: Contact, agent: AgentState, now: float) -> None:
        channel = contact.channel
        site = agent.site
        if contact.state == SILENT:
            # A chat abandoned without closing: already counted; the agent finds out.
            contact.state = GONE
            self._serve(agent, contact, channel, channel.draw_silent_time(), now)
            return
        contact.state = ANSWERED
        wait = now - contact.arrival
        handle_time = contact.handle_time * site.speed[channel.index]
        if channel.concurrency > 1:
            handle_time *= 1.0 + channel.stretch * agent.n_chats
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
            channel.wait_bins[contact.slot][bisect_left(WAIT_POINTS, wait)] += 1
            # A plain first contact (no customer history, always resolved) is its own
            # customer, resolved at first contact: accounting counts those from the totals,
            # so that the common case adds nothing here.
            if contact.customer is not None or not channel.always_resolved:
                channel.staged_answered[contact.slot] += 1
                channel.staged_time[contact.slot] += wait + handle_time
                self._resolve(contact, site, here, now + handle_time)
        elif contact.customer is not None or not channel.always_resolved:
            self._resolve(contact, site, None, now + handle_time)
        if wait > 0.0:
            self._spread(contact.arrival, now, channel.queue_time)
        if channel.deferred:
            channel.closed[self._slot(now)] += 1
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
        if channel.concurrency == 1:
            self._spread(now, now + handle_time, site.busy[channel.index])
            agent.contact = contact
            _Due(self.env, handle_time, self._release, agent)
        else:
            self._serve(agent, contact, channel, handle_time, now)

    def _serve(self, agent, contact, channel, handle_time: float, now: float) -> None:
        if channel.concurrency > 1:
            if agent.n_chats == 0:
                agent.busy_since = now
            agent.n_chats += 1
            _Due(self.env, handle_time, self._chat_release, (agent, contact))
            if agent.n_chats == 1:
                self._fill_chats(agent, channel, now)
        else:
            self._spread(now, now + handle_time, agent.site.busy[channel.index])
            agent.contact = contact
            _Due(self.env, handle_time, self._release, agent)

    def _resolve(self, contact: Contact, site: SiteState, here, ends: float) -> None:
        """Whether the answered contact is resolved here, escalated or left unresolved;
        customer outcomes go to the customer's first arrival."""
        channel = contact.channel
        customer = contact.customer
        if customer is None:
            customer = contact.customer = Customer(contact.arrival, contact.tally, channel)
        resolution = channel.site_resolution[site.name]
        resolved = resolution >= 1.0 or channel.draw_uniform["resolution"]() < resolution
        tally = contact.tally
        if resolved:  # counted as answered less escalated and unresolved, by accounting
            first = customer.tally
            if first is not None:
                first.resolutions += 1
                first.resolution_time += ends - customer.arrival
                if customer.first:
                    first.first_contact_resolutions += 1
        else:
            customer.first = False
            if channel.escalation is not None:
                outcome = "escalated"
                contact.followup |= ESCALATE
            else:
                outcome = "unresolved"
                self._maybe_repeat(customer, ends)
            if tally is not None:
                setattr(tally, outcome, getattr(tally, outcome) + 1)
                if here is not None:
                    setattr(here, outcome, getattr(here, outcome) + 1)

    def _abandon(self, event) -> None:
        contact: Contact = event._value
        if contact.state != WAITING:
            return  # answered before its patience ran out: the timer is simply ignored
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
        if contact.followup & _FREE_LINE:
            contact.followup &= ~_FREE_LINE
            channel.in_system -= 1
        if channel.silent is not None and channel.draw_uniform["silent"]() < channel.silent.share:
            contact.state = SILENT  # stays in the queue until an agent picks it up
            if tally is not None:
                tally.silent_abandoned += 1
        else:
            contact.state = ABANDONED
        if channel.retrial is not None:
            self._maybe_retry(contact, self.env.now)

    def _release(self, event) -> None:
        """An agent finishes a contact: escalates it if need be, then leaves if the shift is
        over, takes a break that was due, or else takes the next contact it may."""
        agent: AgentState = event._value
        if agent.contact.followup:
            self._service_ended(agent.contact)
        if agent.leaving:
            self._leave(agent)
        else:
            self._take_work(agent, self.env.now)

    def _service_ended(self, contact: Contact) -> None:
        if contact.followup & _FREE_LINE:
            contact.channel.in_system -= 1
        if contact.followup & ESCALATE:
            self._transfer(contact)

    def _take_work(self, agent: AgentState, now: float) -> None:
        following = self._next_waiting(agent.site, now)
        if following is not None:
            self._answer(following, agent, now)
        else:
            agent.idle_since = now
            agent.site.idle.append(agent)

    def _next_waiting(self, site: SiteState, now: float) -> Contact | None:
        """The contact this site's agent takes: from the highest-priority channel with a
        contact that has waited long enough for this site, the one waiting longest."""
        best = None
        for channel, after in site.channels:
            if best is not None and channel.priority < best.channel.priority:
                break  # site.channels is sorted by priority: nothing better follows
            queue = channel.queue
            while queue and queue[0].state != WAITING and queue[0].state != SILENT:
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

    # --- chats held at once -------------------------------------------------------------

    def _fill_chats(self, agent: AgentState, channel: ChannelState, now: float) -> None:
        """An agent who just took a first chat takes more waiting chats, up to the channel's
        concurrency; the slots still free are offered to arriving chats."""
        while agent.n_chats < channel.concurrency:
            following = self._waiting_chat(agent.site, channel, now)
            if following is None:
                break
            self._answer(following, agent, now)
        for _ in range(channel.concurrency - agent.n_chats):
            agent.site.slots[channel.index].append((agent, agent.generation))

    def _waiting_chat(self, site: SiteState, channel: ChannelState, now: float):
        queue = channel.queue
        while queue and queue[0].state != WAITING and queue[0].state != SILENT:
            queue.popleft()
        if queue and now - queue[0].arrival >= site.after[channel.index]:
            return queue.popleft()
        return None

    def _chat_release(self, event) -> None:
        agent, contact = event._value
        channel = contact.channel
        now = self.env.now
        if contact.followup & ESCALATE:
            self._transfer(contact)
        agent.n_chats -= 1
        if agent.n_chats == 0:
            self._spread(agent.busy_since, now, agent.site.busy[channel.index])
            agent.generation += 1  # its free slots are no longer offered
            if agent.leaving:
                self._leave(agent)
            else:
                self._take_work(agent, now)
        elif not agent.leaving:
            following = self._waiting_chat(agent.site, channel, now)
            if following is not None:
                self._answer(following, agent, now)
            else:
                agent.site.slots[channel.index].append((agent, agent.generation))

    # --- the bot, tiers and customers coming back ----------------------------------------

    def _to_bot(self, contact: Contact, now: float) -> bool:
        """Start a bot session for a new contact, if it tries the bot and there is room.
        Every new contact draws its bot choice, session time and outcome, so the draws stay
        aligned across scenarios whatever the share."""
        channel = contact.channel
        bot = channel.bot
        tries = channel.draw_uniform["bot"]() < bot.share
        session = channel.draw_bot_time()
        outcome = channel.draw_uniform["bot_outcome"]()
        if not tries or (bot.concurrency is not None and channel.bot_sessions >= bot.concurrency):
            return False
        channel.bot_sessions += 1
        tally = contact.tally
        if tally is not None:
            tally.bot_sessions += 1
            tally.bot_time += session
            tally.bot_cost += bot.cost_per_session + bot.cost_per_minute * session / 60.0
        _Due(self.env, session, self._bot_done, (contact, outcome))
        return True

    def _bot_done(self, event) -> None:
        contact, outcome = event._value
        channel = contact.channel
        bot = channel.bot
        channel.bot_sessions -= 1
        now = self.env.now
        tally, customer = contact.tally, contact.customer
        if outcome < bot.containment + bot.false_containment:
            contact.state = GONE
            if tally is not None:
                tally.contained += 1
            if outcome < bot.containment:
                if customer.tally is not None:
                    customer.tally.resolutions += 1
                    customer.tally.first_contact_resolutions += 1
                    customer.tally.resolution_time += now - customer.arrival
            else:  # falsely contained: the customer comes back
                customer.first = False
                back = now + channel.draw_bot_return()
                if back < self.horizon:
                    _Due(self.env, back - now, self._come_back, customer)
            return
        # Handed over: the customer queues for a human, with the context lost or passed on.
        contact.handle_time *= bot.handle_time_multiplier
        contact.patience *= bot.patience_multiplier
        contact.arrival = now
        self._enter(contact, now)

    def _transfer(self, contact: Contact) -> None:
        """An unresolved contact goes to the next tier's queue when its service ends."""
        target = contact.channel.escalation
        now = self.env.now
        # Counted in the next tier when counted in this one (a service may end after the
        # horizon: the transfer then counts in the last interval).
        slot = self._slot(now)
        tally = target.intervals[slot] if contact.tally is not None else None
        patience = target.draw_patience() if target.draw_patience is not None else _INF
        moved = Contact(target, now, target.draw_handle_time(), patience, slot, tally)
        moved.customer = contact.customer
        if tally is not None:
            tally.offered += 1
            tally.transfers_in += 1
        self._enter(moved, now)

    def _maybe_repeat(self, customer: Customer, ends: float) -> None:
        entry = customer.entry
        repeat = entry.repeat
        if repeat is None or entry.draw_uniform["repeat"]() >= repeat.probability:
            return
        back = ends + entry.draw_repeat_delay()
        if back < self.horizon:  # returns after the horizon are not simulated
            _Due(self.env, back - self.env.now, self._come_back, customer)

    def _come_back(self, event) -> None:
        """A customer not (truly) resolved contacts the centre again: a repeat contact,
        straight to the humans."""
        customer: Customer = event._value
        channel = customer.entry
        now = self.env.now
        slot = self.interval_of(now)
        tally = channel.intervals[slot] if now >= self.warmup else None
        patience = (
            channel.draw_return_patience() if channel.draw_return_patience is not None else _INF
        )
        contact = Contact(channel, now, channel.draw_return_handle_time(), patience, slot, tally)
        contact.customer = customer
        if tally is not None:
            tally.offered += 1
            tally.repeat_contacts += 1
        self._enter(contact, now)

    def _maybe_retry(self, contact: Contact, now: float) -> None:
        """A voice caller who abandoned or was blocked may call again later."""
        channel = contact.channel
        if channel.draw_uniform["retrial"]() >= channel.retrial.probability:
            return
        back = now + channel.draw_retrial_delay()
        if back >= self.horizon:
            return
        if contact.customer is None:
            contact.customer = Customer(contact.arrival, contact.tally, channel)
        _Due(self.env, back - now, self._retry, contact)

    def _retry(self, event) -> None:
        contact: Contact = event._value
        channel = contact.channel
        now = self.env.now
        slot = self.interval_of(now)
        tally = channel.intervals[slot] if now >= self.warmup else None
        contact.arrival, contact.slot, contact.tally, contact.state = now, slot, tally, WAITING
        contact.patience = (
            channel.draw_return_patience() if channel.draw_return_patience is not None else _INF
        )
        if tally is not None:
            tally.offered += 1
            tally.retrials += 1
        self._enter(contact, now)

    def _offer_callback(self, contact: Contact, now: float) -> bool:
        """Offer a call back when the expected wait (contacts ahead x mean handle time /
        agents logged on) exceeds the threshold; an accepting caller leaves the queue."""
        channel = contact.channel
        agents = sum(site.n_on for site, _ in channel.steps) or 1
        expected = (len(channel.queue) + 1) * channel.mean_handle_time / agents
        callback = channel.callback
        if expected <= callback.threshold:
            return False
        if channel.draw_uniform["callback"]() >= callback.acceptance:
            return False
        contact.state = GONE
        if contact.followup & _FREE_LINE:
            contact.followup &= ~_FREE_LINE
            channel.in_system -= 1
        if contact.tally is not None:
            contact.tally.callbacks += 1
        target = channel.callback_channel
        slot = self._slot(now)
        tally = target.intervals[slot] if contact.tally is not None else None
        moved = Contact(target, now, contact.handle_time, callback.deadline, slot, tally)
        moved.customer = contact.customer
        if tally is not None:
            tally.offered += 1
        self._enter(moved, now)
        return True

    def _close_deferred(self, event) -> None:
        """At the horizon, email items still open are carried over: the backlog."""
        now = self.env.now
        for channel in self.channels:
            if not channel.deferred:
                continue
            for contact in channel.queue:
                if contact.state == WAITING:
                    contact.state = GONE
                    self._carry_over(contact, now)
            channel.queue.clear()

    def _carry_over(self, contact: Contact, now: float) -> None:
        self._spread(contact.arrival, _INF, contact.channel.queue_time)
        tally = contact.tally
        if tally is not None:
            tally.carried_over += 1
            if now - contact.arrival > contact.channel.threshold:
                tally.carried_over_after_threshold += 1

    # --- the replication ----------------------------------------------------------------

    def run(self):
        """Simulate, then account: tallies per (channel, site) and interval."""
        for channel in self.channels:
            first = next(channel.epochs, None)
            if first is not None:
                _Due(self.env, first, self._arrive, channel)
        if any(channel.deferred for channel in self.channels):
            _Due(self.env, self.horizon, self._close_deferred, None)
        # No `until`: arrivals stop at the horizon, and the run goes on until every contact
        # still in the system has been answered and served or has abandoned, or until the
        # last agent has left (a contact still waiting then is carried over).
        self.env.run()
        end = max(self.env.now, self.horizon)
        for site in self.sites.values():
            for agent in site.agents:
                if agent.on:
                    self._log_off(agent, _INF)
        for channel in self.channels:
            for contact in channel.queue:
                if contact.state == WAITING:
                    self._carry_over(contact, end)
        observed = [0.0] * self.n_intervals
        self._spread(0.0, self.horizon, observed)
        return account(self, observed)


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
