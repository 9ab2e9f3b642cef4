"""A textbook SimPy contact centre with agents on shifts: a process per call, a process per
agent, events to hand a call to an agent, ``AnyOf`` for patience.

``simpy.Resource`` has no notion of an agent who leaves for a break, ends a shift with a
call in hand, works at one site rather than another or serves several queues in a
priority order, so the agents here are a pool the processes manage themselves:

* a **call** process arrives, takes the idle agent of the first site in routing order that
  has one (the cheapest site first with ``cheapest`` routing; else the site whose agent
  has been idle longest), or joins its channel's queue and waits for
  ``answered | timeout(patience)``;
* an **agent** process, from its shift's start, takes the waiting call of the highest
  priority (the longest-waiting among equals) or waits, idle, for a call to be handed to
  it (``wake | timeout(next break or shift end)``); it serves the call with
  ``timeout(handle time x the site's proficiency)``; a break due while it serves is taken
  when the call ends (so is the shift's end: an overrun), a break falling inside a break
  taken late is skipped;
* a **shift** process per site starts each shift's agents: of ``h`` scheduled,
  ``int(h (1 - shrinkage) + U)`` come, their breaks spread evenly over each break's
  window.

The agent processes keep their site's books (:mod:`twins.books`): each service its busy
time, each stretch between log-on and a break or the shift's end its logged-on time,
each call in hand past the shift's end its overrun; the shift process adds the shift's
payroll when it starts. :meth:`Centre.kpis` turns them into occupancy and labour cost.

The schedule (shift instances on the clock, in each site's time zone) and the forecast
(arrival rate per interval) are the model's input data: the twins take them from
ccsim's calendar functions (``ccsim.sim.shifts.roster``, ``ccsim.sim.arrivals.interval_rates``)
rather than writing the time-zone arithmetic a second time.
"""

from __future__ import annotations

import math
from collections import deque

from ccsim.sim.shifts import roster

from .books import Books, Window, agent_kpis
from .common import Tally, kpi_rows

__all__ = ["Agent", "Call", "Centre", "Line", "Site"]

WAITING, ANSWERED, GONE, SILENT = 0, 1, 2, 3  # SILENT: gave up, the chat left open


class Call:
    __slots__ = (
        "channel",
        "arrival",
        "handle",
        "patience",
        "answered",
        "state",
        "tally",
        "data",
        "customer",
    )

    def __init__(self, env, channel, handle: float, patience: float, tally) -> None:
        self.channel, self.arrival = channel, env.now
        self.handle, self.patience, self.tally = handle, patience, tally
        self.answered = env.event()
        self.state = WAITING
        self.data = None  # what a model's features keep about the call
        self.customer = None  # the journey it belongs to, where a model follows journeys


class Line:
    """One channel: its queue, its sites in routing order and its tally."""

    def __init__(self, name: str, priority: float, threshold: float, served_as: str = "") -> None:
        self.name, self.priority = name, priority
        self.served_as = served_as or name  # the channel whose agents and skills it uses
        self.tally = Tally(threshold)
        self.queue: deque[Call] = deque()
        self.sites: list[Site] = []
        self.cheapest = False


class Site:
    def __init__(self, config) -> None:
        self.config = config
        self.name, self.cost = config.name, config.cost_per_hour
        self.proficiency = dict(config.proficiency)
        self.idle: deque[Agent] = deque()
        self.groups: list[list[Line]] = []  # the channels it serves, by priority
        self.on_idle = None  # a model's cue when an agent becomes idle (a dialer)
        self.n_on = 0  # agents logged on (not on a break)


class Agent:
    __slots__ = ("site", "wake", "idle_since", "since")

    def __init__(self, site: Site) -> None:
        self.site, self.wake, self.idle_since = site, None, 0.0
        self.since = None  # logged on since (None: logged off)


class Centre:
    """The sites, channels and agents of one replication; ``serve`` is the model's service
    of a call (a generator the agent process runs), ``answered`` its hook at the answer."""

    def __init__(self, env, scenario, rng, lines: dict[str, Line]) -> None:
        self.env, self.rng, self.lines = env, rng, lines
        self.sites = [Site(config) for config in scenario.sites]
        cheapest = scenario.routing.policy == "cheapest"
        for line in lines.values():
            line.sites = [site for site in self.sites if site.config.serves(line.served_as)]
            line.cheapest = cheapest
            if cheapest:
                line.sites.sort(key=lambda site: site.cost)
        for site in self.sites:
            served = sorted(
                (line for line in lines.values() if site in line.sites),
                key=lambda line: -line.priority,
            )
            for line in served:
                if site.groups and site.groups[-1][0].priority == line.priority:
                    site.groups[-1].append(line)
                else:
                    site.groups.append([line])
        self.window = Window(scenario)
        self.agents: list[Agent] = []
        for site in self.sites:
            served = [line.name for line in lines.values() if site in line.sites]
            site.books = Books(site.config, scenario, self.window, served)
        calendar = scenario.calendar()
        for site in self.sites:
            env.process(self.shifts(site, roster(site.config, calendar)))

    # --- a call ----------------------------------------------------------------------

    def idle_agent(self, line: Line):
        """The agent who takes a call at once, by the routing policy, or None."""
        best = None
        for site in line.sites:
            if site.idle:
                if line.cheapest:
                    return site.idle.popleft()
                if best is None or site.idle[0].idle_since < best.idle[0].idle_since:
                    best = site
        return best.idle.popleft() if best is not None else None

    def hand(self, call: Call) -> bool:
        """Hand a call to an idle agent, if there is one."""
        agent = self.idle_agent(call.channel)
        if agent is None:
            return False
        self.claim(call)
        agent.wake.succeed(call)
        return True

    def offer(self, call: Call) -> bool:
        """Hand a call to an idle agent (True) or queue it (False)."""
        if self.hand(call):
            return True
        call.channel.queue.append(call)
        return False

    def wait(self, call: Call):
        """A process: a queued call waits until answered or out of patience."""
        if call.patience < math.inf:
            yield call.answered | self.env.timeout(call.patience)
        else:
            yield call.answered
        if call.state == WAITING:  # out of patience; left in the queue, skipped later
            call.state = GONE
            if call.tally is not None:
                call.tally.abandoned += 1
            self.abandoned(call)

    def abandoned(self, call: Call) -> None:
        """A model's hook after an abandonment (a retrial); nothing by default."""

    def claim(self, call: Call) -> bool:
        """An agent takes the call: answered (its wait counted), or a chat left open by a
        customer who gave up (False: the agent finds out)."""
        if call.state == SILENT:
            call.state = GONE
            return False
        call.state = ANSWERED
        call.answered.succeed()
        if call.tally is not None:
            call.tally.answer(self.env.now - call.arrival)
        return True

    def head(self, lines):
        """The call waiting longest at the heads of ``lines`` (taken from its queue)."""
        best = None
        for line in lines:
            queue = line.queue
            while queue and queue[0].state != WAITING and queue[0].state != SILENT:
                queue.popleft()
            if queue and (best is None or queue[0].arrival < best.arrival):
                best = queue[0]
        if best is not None:
            best.channel.queue.popleft()
        return best

    def next_call(self, site: Site):
        """The waiting call this site's agent takes: highest priority, longest waiting."""
        for group in site.groups:
            call = self.head(group)
            if call is not None:
                self.claim(call)
                return call
        return None

    # --- an agent --------------------------------------------------------------------

    def shifts(self, site: Site, instances):
        env, shrinkage = self.env, site.config.shrinkage
        for instance in instances:
            if instance.start > env.now:
                yield env.timeout(instance.start - env.now)
            site.books.payroll(instance)
            present = instance.headcount
            if shrinkage > 0:
                present = int(present * (1.0 - shrinkage) + self.rng.random())
            for number in range(present):
                breaks = [
                    (begin, end - begin)
                    for begin, end, _ in instance.agent_breaks(number, present)
                    if begin >= env.now
                ]
                env.process(self.agent(Agent(site), instance.end, sorted(breaks)))

    def agent(self, agent: Agent, end: float, breaks: list):
        env, site = self.env, agent.site
        books = site.books
        site.n_on += 1
        agent.since = env.now
        self.agents.append(agent)
        while env.now < end:
            if breaks and breaks[0][0] <= env.now:
                _, length = breaks.pop(0)
                site.n_on -= 1
                books.logged_on(agent.since, env.now)
                yield env.timeout(length)
                site.n_on += 1
                agent.since = env.now
                while breaks and breaks[0][0] < env.now:
                    breaks.pop(0)  # due while away: skipped
                continue
            call = self.next_call(site)
            if call is None:
                agent.wake, agent.idle_since = env.event(), env.now
                site.idle.append(agent)
                if site.on_idle is not None:
                    site.on_idle()
                until = min(end, breaks[0][0]) if breaks else end
                if until < math.inf:
                    yield agent.wake | env.timeout(until - env.now)
                else:
                    yield agent.wake
                if not agent.wake.triggered:
                    site.idle.remove(agent)
                    continue
                call = agent.wake.value
            yield from self.serve(call, site)
            if env.now > end:  # the call in hand ran past the shift's end: overrun, paid
                books.paid(end, env.now)
        site.n_on -= 1
        books.logged_on(agent.since, env.now)
        agent.since = None

    def serve(self, call: Call, site: Site):
        """The service: the handle time times the site's proficiency for the channel."""
        start = self.env.now
        yield self.env.timeout(call.handle * site.proficiency.get(call.channel.served_as, 1.0))
        site.books.serving(call.channel.name, start, self.env.now)

    def kpis(self) -> dict:
        """After the run: the queue KPIs per channel, and the agents' time and pay; agents
        still logged on (constant staffing never logs off) count to the horizon."""
        for agent in self.agents:
            if agent.since is not None:
                agent.site.books.logged_on(agent.since, self.window.horizon)
        rows = kpi_rows({name: line.tally for name, line in self.lines.items()})
        serving = {name: [site.name for site in line.sites] for name, line in self.lines.items()}
        agent_kpis(rows, {site.name: site.books for site in self.sites}, serving)
        return rows
