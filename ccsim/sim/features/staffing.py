"""Shifts and breaks: agents log on and off as their site's schedule says.

``shifts.roster`` laid each site's shifts on the simulation clock; here the agents who come
to work (headcount less shrinkage) are created at each shift start, go on their breaks and
leave at the shift end. An idle agent leaving is taken out of its site's idle agents (a few
times per agent and day); a busy one gets ``leaving`` set, and the core hands it back here
on finishing its contact (:meth:`Staffing.leave`) instead of giving it the next one: the
time after its shift end is an overrun, paid.

The agents it makes are :class:`ShiftAgent`: the core's :class:`~ccsim.sim.state.AgentState`
with the shift's own slots. A subclass rather than a record beside the agent, because the
core hands the agent back (:meth:`Staffing.leave`) and a slot costs nothing to reach.

Shifts, breaks and ends are scheduled as they come due (one pending shift start per site,
one pending break per agent), not all at once: weeks of agent events waiting in the heap
would make every push and pop on it dearer. Since an agent has at most one break and one
return from a break pending, each is one :class:`~ccsim.sim.clock.Due` of the agent's,
scheduled again and again, rather than an event made per break: a week of the study's
hybrid has a few breaks for every ten contacts.
"""

from __future__ import annotations

import math

from ccsim.sim.clock import Due
from ccsim.sim.state import AgentState, SiteState

__all__ = ["ShiftAgent", "Staffing"]


class ShiftAgent(AgentState):
    """An agent of one shift: the core's agent, and what only staffing reads."""

    __slots__ = (
        "back",
        "break_due",
        "break_length",
        "breaks",
        "ended",
        "on",
        "on_since",
        "rest",
        "shift_end",
    )

    def __init__(self, site: SiteState, shift_end: float) -> None:
        super().__init__(site)
        self.shift_end = shift_end
        self.on = False  # logged on: idle or busy
        self.on_since = 0.0
        self.ended = False  # its shift is over
        self.break_due = 0.0  # length of a break waiting for the contact in hand to end
        self.breaks: list[tuple[float, float]] = []  # (start, length) to come, last first
        self.break_length = 0.0  # of the break pending (``rest``)
        self.rest: Due | None = None  # its next break
        self.back: Due | None = None  # its return from the break it is on


class Staffing:
    name = "staffing"

    @staticmethod
    def used(scenario) -> bool:
        return True  # every scenario has agents; constant staffing is one endless shift

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count, self.after, self.at = core, core.count, core.after, core.clock.at
        self.clock = core.clock
        self.absence = streams.generator("absence", "sites")
        # Its own stream, made only when a site has random absence: the draws of every
        # scenario without it stay as they were.
        self.absent_days = {
            site.index: streams.generator("absence_days", site.config.name)
            for site in core.sites
            if site.config.absence is not None
        }
        self.upcoming = {site.index: iter(site.counts.instances) for site in core.sites}
        core.leave = self.leave
        for site in core.sites:
            self._next_shift(site)

    def _next_shift(self, site: SiteState) -> None:
        instance = next(self.upcoming[site.index], None)
        if instance is not None:
            delay = max(instance.start, 0.0) - self.clock.now
            self.after(delay, self._start_shift, (site, instance))

    def _start_shift(self, event) -> None:
        """A shift begins: its agents who come to work log on. Absent agents (random
        absence, shrinkage) are paid but never created: with ``absence``, each of ``h``
        scheduled comes with probability 1 - p; of those, ``h(1 - shrinkage)`` come, rounded
        up or down at random so that the mean is exact."""
        site, instance = event._value
        now = self.clock.now
        present = instance.headcount
        if site.index in self.absent_days and present:
            absence = site.config.absence.probability
            present = int(self.absent_days[site.index].binomial(present, 1.0 - absence))
        shrinkage = site.config.shrinkage
        if shrinkage > 0:
            present = int(present * (1.0 - shrinkage) + self.absence.random())
        release, rest, back = self.core.release, self._break, self._join
        for number in range(present):
            agent = ShiftAgent(site, instance.end)
            agent.due = Due(release, agent)
            breaks = instance.agent_breaks(number, present)
            agent.breaks = sorted([(b, e - b) for b, e, _ in breaks if b >= now], reverse=True)
            site.agents.append(agent)
            if instance.end < math.inf:
                self.after(instance.end - now, self._end_shift, agent)
            if agent.breaks:  # an agent without breaks (constant staffing) needs no events
                agent.rest, agent.back = Due(rest, agent), Due(back, agent)
                begin, agent.break_length = agent.breaks.pop()  # its first break
                self.at(now + (begin - now), agent.rest)  # the time `after` would give
            self._log_on(agent, now)
        self._next_shift(site)

    def _log_on(self, agent: ShiftAgent, now: float) -> None:
        agent.on, agent.on_since = True, now
        agent.site.n_on += 1
        self.core.take_work(agent, now)

    def _log_off(self, agent: ShiftAgent, now: float) -> None:
        agent.on = False
        agent.site.n_on -= 1
        self.count.logged_on(agent.site, agent.on_since, now)

    def _join(self, event) -> None:
        """An agent comes back from a break and takes waiting work (:meth:`_log_on`
        inline: the commonest of the agents' events, with :meth:`_break`)."""
        agent: ShiftAgent = event._value
        if not (agent.ended or agent.on):
            now = self.clock.now
            agent.on, agent.on_since = True, now
            agent.site.n_on += 1
            self.core.take_work(agent, now)

    def _break(self, event) -> None:
        """A break comes due: the next one is scheduled, and the agent goes if idle
        (:meth:`_log_off` inline), else when its contact ends."""
        agent: ShiftAgent = event._value
        if agent.ended:
            return
        length, now = agent.break_length, self.clock.now
        if agent.breaks:  # the next break, pending from now on
            begin, agent.break_length = agent.breaks.pop()
            self.at(now + (begin - now), agent.rest)
        if not agent.on:
            return  # still away on a break taken late: this one is skipped
        site = agent.site
        if agent in site.idle:  # O(agents), but only a few times per agent and day
            site.idle.remove(agent)
            agent.on = False
            site.n_on -= 1
            self.count.logged_on(site, agent.on_since, now)
            self.at(now + length, agent.back)
        else:
            agent.break_due += length
            agent.leaving = True

    def _end_shift(self, event) -> None:
        agent: ShiftAgent = event._value
        agent.ended = True
        if agent.on:
            if agent in agent.site.idle:
                agent.site.idle.remove(agent)
                self._log_off(agent, self.clock.now)
            else:
                agent.leaving = True  # finishes the contact in hand: an overrun

    def leave(self, agent: ShiftAgent) -> None:
        """A busy agent whose shift ended or whose break was due puts the phone down."""
        now = self.clock.now
        self._log_off(agent, now)
        agent.leaving = False
        if agent.ended:
            self.count.overrun(agent.site, agent.shift_end, now)
        else:
            self.at(now + agent.break_due, agent.back)
            agent.break_due = 0.0

    def finish(self, end: float) -> None:
        """Agents still logged on when the run ends (constant staffing) log off."""
        for site in self.core.sites:
            for agent in site.agents:
                if agent.on:
                    self._log_off(agent, math.inf)
