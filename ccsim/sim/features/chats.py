"""Chats held at once: an agent of a chat channel with ``concurrency`` holds up to that
many chats, each one's handle time stretched by ``stretch`` per other chat in hand (the
core applies the stretch when it answers).

An agent who takes a first chat takes more waiting chats at once, up to the concurrency;
its slots still free are offered to arriving chats (:meth:`Chats.free_slot`, a wait hook:
after the idle agents, before the queue). Free slots are kept per (site, channel) as
``(agent, generation)``: once the agent is idle again its generation moves on, and its old
slots are skipped. The agent counts as busy from its first chat to its last.
"""

from __future__ import annotations

from collections import deque

from ccsim.sim.state import AgentState, attach

__all__ = ["Chats"]


class Chats:
    name = "chats"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.concurrency > 1 for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count, self.after = core, core.count, core.after
        self.env = core.env
        self.slots: dict[tuple[int, int], deque[tuple[AgentState, int]]] = {}
        for channel in core.channels:
            if channel.concurrency > 1:
                channel.serve = self.serve
                attach(channel, "on_wait", self.free_slot)
                for site, _ in channel.steps:
                    self.slots[site.index, channel.index] = deque()

    def free_slot(self, contact, now: float) -> bool:
        """Give an arriving chat to an agent with a free slot (one chat or more in hand)."""
        channel = contact.channel
        for site, after in contact.lane.steps:
            if after <= 0.0:
                slots = self.slots[site.index, channel.index]
                while slots:
                    agent, generation = slots.popleft()
                    if agent.generation == generation and not agent.leaving:
                        self.core.answer(contact, agent, now)
                        return True
        return False

    def serve(self, agent: AgentState, contact, handle_time: float, now: float) -> None:
        if agent.n_chats == 0:
            agent.busy_since = now
        agent.n_chats += 1
        self.after(handle_time, self._release, (agent, contact))
        if agent.n_chats == 1:
            self._fill(agent, contact.channel, now)

    def _fill(self, agent: AgentState, channel, now: float) -> None:
        """An agent who just took a first chat takes more waiting chats, up to the
        channel's concurrency; the slots still free are offered to arriving chats."""
        lanes = agent.site.lanes_of[channel.index]
        while agent.n_chats < channel.concurrency:
            following = self.core.next_waiting(lanes, now)
            if following is None:
                break
            self.core.answer(following, agent, now)
        slots = self.slots[agent.site.index, channel.index]
        for _ in range(channel.concurrency - agent.n_chats):
            slots.append((agent, agent.generation))

    def _release(self, event) -> None:
        agent, contact = event._value
        channel = contact.channel
        now = self.env._now
        if contact.followup:  # as in Core.release
            for hook in channel.on_end:
                hook(contact, agent)
        agent.n_chats -= 1
        if agent.n_chats == 0:
            self.count.busy(agent.site, channel, agent.busy_since, now)
            agent.generation += 1  # its free slots are no longer offered
            if agent.leaving:
                self.core.leave(agent)
            else:
                self.core.take_work(agent, now)
        elif not agent.leaving:
            following = self.core.next_waiting(agent.site.lanes_of[channel.index], now)
            if following is not None:
                self.core.answer(following, agent, now)
            else:
                self.slots[agent.site.index, channel.index].append((agent, agent.generation))
