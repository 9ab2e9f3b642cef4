"""The core of the engine: one contact's life from arrival to outcome, on SimPy's clock.

A contact **arrives** (:meth:`Core.arrive`) and **enters** its channel's human queue
(:meth:`Core.enter`): the channel's routing policy (:mod:`ccsim.sim.routing`) hands it at
once to an idle agent of a site it may use, or it **waits** (:meth:`Core.wait`) in its
lane's FIFO queue with a patience timer and a timer for each overflow step. When an agent
comes free (:meth:`Core.release`) it takes the longest-waiting contact of the
highest-priority channel that has waited long enough for its site
(:meth:`Core.next_waiting`). The contact is **answered** (:meth:`Core.answer`) and served
for its handle time times the site's proficiency, or it **abandons** when its patience
runs out first (:meth:`Core.abandon`). Every outcome is counted by the
:class:`~ccsim.sim.counting.Counter` as it happens.

Everything else (shifts and breaks, chats held at once, the bot, tiers, retrials and
repeats, call backs, lines and trunks, balking, messages, closing, email) is a feature
(:mod:`ccsim.sim.features`) that hooks into the points of a contact's life named by a
channel's ``on_*`` tuples: ``arrive`` (before the human queue; a hook may take the
contact), ``enter`` (a hook may turn it away),
``wait`` (no agent free; a hook may take it instead of the queue), ``answer``, ``end``
(the service ended), ``abandon`` and ``leave`` (taken out of the queue by a feature). A
channel without features runs the core alone.

Why not a SimPy process and a ``Resource`` request per contact: each costs a generator,
several events and, for reneging, an O(n) removal from the resource queue. Here every step
is a plain callback (:class:`~ccsim.sim.clock.Due`); patience timers are a lane's
:class:`~ccsim.sim.clock.Deadlines`, of which only the earliest is on the heap (a heap
entry cannot be cancelled, and most contacts that wait are answered before their patience
runs out); queues are deques from which contacts that left are dropped when they reach the
head.
"""

from __future__ import annotations

import math

from ccsim.sim.clock import Clock, Due
from ccsim.sim.counting import Counter
from ccsim.sim.routing import RoutingPolicy
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
    SiteState,
    new_contact,
)

__all__ = ["Core"]

_INF = math.inf


class Core:
    """Channels' queues, sites' idle agents and the answer/release cycle."""

    def __init__(
        self,
        clock: Clock,
        counter: Counter,
        channels: list[ChannelState],
        sites: list[SiteState],
        policy: RoutingPolicy,
    ) -> None:
        self.clock, self.count, self.policy = clock, counter, policy
        self.after = clock.after
        self.warmup = counter.warmup
        self.horizon = counter.horizon
        # With journeys followed after the horizon, contacts brought then (returns,
        # transfers) serve the window's customers but are no contacts of the window.
        self.counting_end = counter.horizon if counter.follow else _INF
        self.channels, self.sites = channels, sites
        self.features: dict[str, object] = {}
        # What a busy agent who must leave (shift over, break due) does on finishing: set
        # by the staffing feature.
        self.leave = None
        # The counts per request type (the request types feature's), or None without types.
        self.request_types = None
        self.survey = counter.survey  # the satisfaction model (ccsim.sim.satisfaction)
        self.tolls = self.survey.tolls
        # Bound methods made once: the hot path schedules them for every contact.
        self._arrive = self.arrive
        self._at, self._call_at = clock.at, clock.call_at
        for channel in channels:
            channel.route = policy.router(channel)
            channel.due = Due(self._arrive, channel)
            for lane in channel.lanes:  # only each lane's earliest on the heap
                lane.deadline = clock.deadlines(self.abandon, WAITING).add

    # --- a contact's life ---------------------------------------------------------------
    # The hot path reads the time as ``clock.now`` (the clock's loop keeps it) and
    # schedules through the clock's ``at`` and ``call_at``, bound once.

    def start(self) -> None:
        """Schedule each channel's first arrival (once the features are attached)."""
        for channel in self.channels:
            channel.hooked = bool(channel.on_enter or channel.on_wait)
            channel.counts.plain = channel.plain  # what the counter stages (counts.plain)
            # One site takes its contacts at once: the route is its agent idle longest,
            # taken here inline (the routing policy's `route_one`), unless a feature
            # wrapped the route.
            channel.sole_idle = getattr(channel.route, "idle", None)
        for channel in self.channels:
            first = next(channel.epochs, None)
            if first is not None:
                self.clock.schedule(first, channel.due)

    def arrive(self, event) -> None:
        """A new customer's contact reaches the channel: it draws its handle time and
        patience from the channel's streams (contact *i* gets the same in every scenario
        with the same seed), then tries the channel's arrive hooks (the bot) or enters.
        It was counted as offered when its epoch was drawn (``Counter.arrivals``)."""
        channel: ChannelState = event._value
        now = self.clock.now
        draw_patience = channel.draw_patience
        patience = draw_patience() if draw_patience is not None else _INF
        slot = self.count.slot
        tally = channel.intervals[slot] if now >= self.warmup else None
        contact = new_contact(channel, now, channel.draw_handle_time(), patience, slot, tally)
        for hook in channel.on_arrive:  # the bot: it may keep the contact
            if hook(contact, now):
                break
        else:  # as `enter` does, inline: one call fewer a contact
            if not channel.hooked:  # no hook to ask
                idle = channel.sole_idle
                if idle is not None:
                    agent = idle.popleft() if idle else None
                else:
                    agent = channel.route(contact)
                if agent is not None:
                    self.answer(contact, agent, now)
                else:
                    self.wait(contact, now)
            else:
                for hook in channel.on_enter:
                    if not hook(contact, now):
                        break
                else:
                    idle = channel.sole_idle
                    if idle is not None:
                        agent = idle.popleft() if idle else None
                    else:
                        agent = channel.route(contact)
                    if agent is not None:
                        self.answer(contact, agent, now)
                    else:
                        for hook in channel.on_wait:
                            if hook(contact, now):
                                break
                        else:
                            self.wait(contact, now)
        following = next(channel.epochs, None)
        if following is not None:
            # The commonest event of all, with the channel's one arrival event (it has one
            # pending arrival at a time), due at ``now + delay`` as ``Clock.schedule``
            # makes it: ``following`` itself may differ in the last bit.
            self._at(now + (following - now), channel.due)

    def bring(self, channel, handle_time, patience, counted, customer, kind="") -> None:
        """A contact a feature brings to ``channel`` now (a transfer, a retrial, a repeat,
        a call back) for ``customer``: counted as offered, and as ``kind``, in the present
        interval when ``counted``; then it enters."""
        now = self.clock.now
        slot = self.count.slot
        tally = channel.intervals[slot] if counted and now < self.counting_end else None
        contact = new_contact(channel, now, handle_time, patience, slot, tally)
        contact.customer = customer
        if tally is not None:  # as Counter.offered counts it, inline
            tally.offered += 1
            if kind:
                setattr(tally, kind, getattr(tally, kind) + 1)
        customer.contacts += 1  # its satisfaction's toll (ccsim.sim.satisfaction)
        customer.logit -= self.tolls[kind]
        request = contact.request = customer.request
        if request is not None and tally is not None:
            self.request_types.table[channel, request, "offered"] += 1.0
        self.enter(contact, now)

    def enter(self, contact: Contact, now: float) -> None:
        """The contact reaches the human queue: turned away, answered at once, taken by a
        wait hook (a call back), or waiting."""
        channel = contact.channel
        if channel.on_enter:
            for hook in channel.on_enter:
                if not hook(contact, now):
                    return
        idle = channel.sole_idle  # as `start` says
        agent = channel.route(contact) if idle is None else (idle.popleft() if idle else None)
        if agent is not None:
            self.answer(contact, agent, now)
            return
        if channel.on_wait:
            for hook in channel.on_wait:
                if hook(contact, now):
                    return
        self.wait(contact, now)

    def wait(self, contact: Contact, now: float) -> None:
        """Join the lane's queue, with a patience timer and a timer for each overflow step
        the contact may live to reach."""
        lane = contact.lane
        lane.queue.append(contact)
        patience = contact.patience
        if patience < _INF:
            lane.deadline(now + patience, contact)
        for site, after in lane.later:
            if after < patience:
                self.after(after, self.overflow, (contact, site))

    def overflow(self, event) -> None:
        """A waiting contact reaches the wait at which one more site may take it."""
        contact, site = event._value
        if contact.state == WAITING and site.idle:
            # Any contact that waited longer reached this step earlier, when the site had
            # no idle agent, and would have been taken since: this one is next for it.
            self.answer(contact, self.policy.take(site), self.clock.now)

    def answer(self, contact: Contact, agent: AgentState, now: float) -> None:
        """An agent takes the contact: its wait is known, its handle time is its draw times
        the site's proficiency (and, for a chat, the stretch for the chats in hand)."""
        channel = contact.channel
        if contact.state != WAITING:  # silently abandoned: the agent finds out
            channel.pick_up(contact, agent, now)
            return
        contact.state = ANSWERED
        site = agent.site
        wait = now - contact.arrival
        handle_time = contact.handle_time * site.speed[channel.index]
        if channel.stretched is not None:  # a chat: the chats feature's stretch
            handle_time = channel.stretched(agent, handle_time)
        self.count.answered(contact, site, wait, handle_time, now)
        if channel.on_answer:
            for hook in channel.on_answer:
                hook(contact, site, handle_time, now)
        if channel.serve is None:  # one contact at a time: as Core.serve, inline
            count = self.count
            if now >= self.warmup and now + handle_time <= count.slot_end:
                site.busy[channel.index][count.slot] += handle_time  # Counter.serving's case
            else:
                count.serving(site, channel, now, handle_time)
            agent.contact = contact
            self._at(now + handle_time, agent.due)
        else:
            channel.serve(agent, contact, handle_time, now)

    def serve(self, agent: AgentState, contact: Contact, handle_time: float, now: float):
        """The agent works on the contact for ``handle_time`` (a feature's pick-up)."""
        channel = contact.channel
        if channel.serve is not None:
            channel.serve(agent, contact, handle_time, now)
            return
        self.count.serving(agent.site, channel, now, handle_time)
        agent.contact = contact
        self._at(now + handle_time, agent.due)

    def release(self, event) -> None:
        """An agent finishes a contact: the channel's end hooks run if something remains to
        do (``followup``: a line is freed, an escalation moves on), then the agent leaves if
        it must, or takes the next contact (as :meth:`take_work`, inline)."""
        agent: AgentState = event._value
        contact = agent.contact
        if contact.followup:  # every end hook acts on a followup flag: none, nothing to do
            for hook in contact.channel.on_end:
                hook(contact, agent)
        if agent.leaving:
            self.leave(agent)
            return
        now = self.clock.now
        lanes = agent.site.lanes
        if len(lanes) == 1:  # as `next_waiting` does for one lane, inline
            lane, after = lanes[0]
            queue = lane.queue
            while queue and queue[0].state != WAITING and queue[0].state != SILENT:
                queue.popleft()
            following = queue.popleft() if queue and now - queue[0].arrival >= after else None
        else:  # as `next_waiting` does, inline: one call fewer a contact
            following = None
            for lane, after in lanes:
                if following is not None and lane.channel.priority < following.channel.priority:
                    break
                queue = lane.queue
                while queue and queue[0].state != WAITING and queue[0].state != SILENT:
                    queue.popleft()
                if (
                    queue
                    and now - queue[0].arrival >= after
                    and (following is None or queue[0].arrival < following.arrival)
                ):
                    following = queue[0]
            if following is not None:
                following.lane.queue.popleft()
        if following is not None:
            self.answer(following, agent, now)
        else:
            agent.idle_since = now
            site = agent.site
            site.idle.append(agent)
            if site.on_idle is not None:
                site.on_idle(now)

    def take_work(self, agent: AgentState, now: float) -> None:
        """The agent takes the next contact it may, or joins its site's idle agents."""
        following = self.next_waiting(agent.site.lanes, now)
        if following is not None:
            self.answer(following, agent, now)
        else:
            agent.idle_since = now
            site = agent.site
            site.idle.append(agent)
            if site.on_idle is not None:
                site.on_idle(now)

    @staticmethod
    def next_waiting(lanes, now: float) -> Contact | None:
        """The contact an agent of a site with these ``(lane, after)`` takes (sorted by
        channel priority): among the heads of the highest-priority lanes that have waited
        at least ``after``, the one waiting longest. Contacts that left are dropped."""
        best = None
        for lane, after in lanes:
            if best is not None and lane.channel.priority < best.channel.priority:
                break  # nothing better follows
            queue = lane.queue
            while queue and queue[0].state != WAITING and queue[0].state != SILENT:
                queue.popleft()  # abandoned or taken by an overflow site: dropped lazily
            if (
                queue
                and now - queue[0].arrival >= after
                and (best is None or queue[0].arrival < best.arrival)
            ):
                best = queue[0]
        if best is not None:
            best.lane.queue.popleft()
        return best

    def abandon(self, contact: Contact) -> None:
        """The contact's patience ran out while waiting (its lane's deadlines call it only
        for a contact still waiting)."""
        contact.state = ABANDONED
        now = self.clock.now
        self.count.abandoned(contact, contact.patience, now)
        for hook in contact.channel.on_abandon:
            hook(contact, now)

    def leave_queue(self, contact: Contact, now: float) -> None:
        """A feature takes the contact out of its queue (it is dropped when it reaches the
        head); the channel's leave hooks run."""
        contact.state = GONE
        for hook in contact.channel.on_leave:
            hook(contact, now)

    # --- the end of the run -------------------------------------------------------------

    def held(self, pending):
        """The contacts whose customers the core still has in hand when the run stops:
        those waiting, and (stopped at the cut-off, ``pending`` being the clock's events
        left) those in a service that escalates them. A service's other outcomes were
        drawn when it was answered: resolved (counted then) or left unresolved (its
        return drawn then)."""
        for channel in self.channels:
            for lane in channel.lanes:
                for contact in lane.queue:
                    if contact.state == WAITING:
                        yield contact
        for callback, agent in pending:
            if (
                getattr(callback, "__func__", None) is Core.release
                and agent.contact.followup & ESCALATE
            ):
                yield agent.contact

    def carry_over(self, end: float) -> None:
        """Contacts still waiting when the run ends are carried over."""
        for channel in self.channels:
            for lane in channel.lanes:
                for contact in lane.queue:
                    if contact.state == WAITING:
                        self.count.carried_over(contact, end)
