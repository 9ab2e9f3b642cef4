"""Chats held at once: an agent of a chat channel with ``concurrency`` holds up to that
many chats, each one's handle time stretched by ``stretch`` per other chat in hand (the
core calls the channel's ``stretched`` when it answers a chat).

An agent who takes a first chat takes more waiting chats at once, up to the concurrency;
its slots still free are offered to arriving chats (:meth:`Chats.free_slot`, a wait hook:
after the idle agents, before the queue). The agent counts as busy from its first chat to
its last.

Each agent's chats are kept here, in a :class:`_Desk` made at its first chat, not on the
agent: the core knows agents that hold one contact at a time. Free slots are kept per
(site, channel) as ``(desk, generation)``: once the agent is idle again its desk's
generation moves on, and its old slots are skipped. A chat's end carries its desk, so only
the answer looks the desk up (a dict keyed by the agent: about as cheap as an attribute,
and it leaves the agent's slots to the core and staffing).
"""

from __future__ import annotations

from collections import deque

from ccsim.sim.state import ESCALATE, AgentState, attach

__all__ = ["Chats"]


class _Desk:
    """One agent's chats: how many it holds, since when, and the generation of its free
    slots (it moves on when the agent's last chat ends)."""

    __slots__ = ("agent", "busy_since", "generation", "n_chats")

    def __init__(self, agent: AgentState) -> None:
        self.agent = agent
        self.n_chats = 0
        self.busy_since = 0.0  # when the agent's first chat in hand began
        self.generation = 0


class Chats:
    name = "chats"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.concurrency > 1 for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count, self.after = core, core.count, core.after
        self.clock = core.clock
        self.desks: dict[AgentState, _Desk] = {}
        self.slots: dict[tuple[int, int], deque[tuple[_Desk, int]]] = {}
        for channel in core.channels:
            if channel.concurrency > 1:
                channel.serve = self.serve
                attach(channel, "on_wait", self.free_slot)
                filling = {s.index for s, _ in channel.steps if s.config.deferred_reserve > 0}
                if filling:
                    self.filling = filling
                    attach(channel, "on_enter", self.fill_first)
                stretch = scenario.channels[channel.served_as].stretch
                if stretch:
                    channel.stretched = self._stretcher(stretch)
                for site, _ in channel.steps:
                    self.slots[site.index, channel.index] = deque()

    def _stretcher(self, stretch: float):
        """A channel's ``stretched(agent, handle_time)``: the handle time of a chat the
        agent answers, stretched for the chats it already holds (a closure, as the core
        calls it for every chat it answers)."""
        desks = self.desks

        def stretched(agent: AgentState, handle_time: float) -> float:
            desk = desks.get(agent)
            return handle_time * (1.0 + stretch * (desk.n_chats if desk is not None else 0))

        return stretched

    def fill_first(self, contact, now: float) -> bool:
        """At a site that keeps agents free of email (``deferred_reserve``), an arriving
        chat goes to a free slot before an idle agent: spread over idle agents first, the
        chats would leave none idle beyond the reserve, and email would starve."""
        return not self._take_slot(contact, now, self.filling)

    def free_slot(self, contact, now: float) -> bool:
        """Give an arriving chat to an agent with a free slot (one chat or more in hand)."""
        return self._take_slot(contact, now)

    def _take_slot(self, contact, now: float, only: set[int] | None = None) -> bool:
        """Answer the chat on a free slot of a site that may take it at once (of ``only``'s
        sites, when given); whether one was found."""
        channel = contact.channel
        for site, after in contact.lane.steps:
            if after <= 0.0 and (only is None or site.index in only):
                slots = self.slots[site.index, channel.index]
                while slots:
                    desk, generation = slots.popleft()
                    if desk.generation == generation and not desk.agent.leaving:
                        self.core.answer(contact, desk.agent, now)
                        return True
        return False

    def serve(self, agent: AgentState, contact, handle_time: float, now: float) -> None:
        desk = self.desks.get(agent)
        if desk is None:
            desk = self.desks[agent] = _Desk(agent)
        if desk.n_chats == 0:
            desk.busy_since = now
        desk.n_chats += 1
        self.after(handle_time, self._release, (desk, contact))
        if desk.n_chats == 1:
            self._fill(desk, contact.channel, now)

    def _fill(self, desk: _Desk, channel, now: float) -> None:
        """An agent who just took a first chat takes more waiting chats, up to the
        channel's concurrency; the slots still free are offered to arriving chats."""
        agent = desk.agent
        lanes = agent.site.lanes_of[channel.index]
        while desk.n_chats < channel.concurrency:
            following = self.core.next_waiting(lanes, now)
            if following is None:
                break
            self.core.answer(following, agent, now)
        slots = self.slots[agent.site.index, channel.index]
        for _ in range(channel.concurrency - desk.n_chats):
            slots.append((desk, desk.generation))

    def _release(self, event) -> None:
        desk, contact = event._value
        agent = desk.agent
        channel = contact.channel
        now = self.clock.now
        if contact.followup:  # as in Core.release
            for hook in channel.on_end:
                hook(contact, agent)
        desk.n_chats -= 1
        if desk.n_chats == 0:
            self.count.busy(agent.site, channel, desk.busy_since, now)
            desk.generation += 1  # its free slots are no longer offered
            if agent.leaving:
                self.core.leave(agent)
            else:
                self.core.take_work(agent, now)
        elif not agent.leaving:
            following = self.core.next_waiting(agent.site.lanes_of[channel.index], now)
            if following is not None:
                self.core.answer(following, agent, now)
            else:
                self.slots[agent.site.index, channel.index].append((desk, desk.generation))

    def held(self, pending):
        """Chats in service at the cut-off whose customer is still in hand: those that
        escalate (the outcome of the others was drawn when they were answered)."""
        for callback, value in pending:
            if getattr(callback, "__func__", None) is Chats._release:
                contact = value[1]
                if contact.followup & ESCALATE:
                    yield contact
