"""The hybrid model of ``benchmarks/bench_hybrid.py`` written the textbook SimPy way.

Voice (120 lines, retrials, call backs, a voice bot), chat (a bot, three chats per agent
with stretch, silent abandonment) and email (deferred, carried over at the horizon) on the
offshore tier-1 site; what tier 1 does not resolve escalates to tier 2 (Dallas) and then
to the specialists (Dallas and the specialists' site); customers falsely contained by the
bot come back. Each customer's journey is a generator process: the bot session
(``timeout``), the lines, the queue (``answered | timeout(patience)``), a retrial or a
call back; agents are processes as in :mod:`twins.centre`, a chat agent's session one
process holding up to three chat processes and waiting on a ``Store`` of their ends.

A :class:`Customer` goes with each journey, through the bot, retrials, call backs, a false
containment's return and the transfers, so the twin counts what ccsim counts of journeys
on the channel of the first arrival: containment (of bot sessions), the bot's share of
resolutions, FCR (resolved by the bot or the first answering agent), agent FCR,
resolution rate and mean resolution time;
bot cost by the sessions, their minutes and containments; the agents' books
(:mod:`twins.books`) give occupancy and labour cost per channel, site and both.

Left out: of the KPIs, the journeys' time bins (median journey time, resolved within 24
h), per-ticket and per-request resolution times, satisfaction, the per-interval profiles;
repeats of unresolved customers (the voice channel's ``repeat``) never happen in this
model, as every contact tier 1 does not resolve escalates and the specialists resolve
all.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import simpy

from .centre import ANSWERED, GONE, SILENT, WAITING, Call, Centre, Line
from .common import poisson_source, sampler
from .follow_the_sun import channel_priority

__all__ = ["run"]


class Desk:
    """One agent's chats in hand, and the generation of its free slots."""

    __slots__ = ("ends", "generation", "n")

    def __init__(self, env) -> None:
        self.ends, self.n, self.generation = simpy.Store(env), 0, 0


class Outcomes:
    """The customers whose journey began on one channel, and that channel's bot sessions,
    in one replication (docs/metrics.md: a customer is counted on the row of their first
    arrival; a bot session on its contact's channel)."""

    __slots__ = (
        "customers",
        "resolutions",
        "first_contact_resolutions",
        "resolution_time",
        "reached_agent",
        "agent_first_resolutions",
        "sessions",
        "contained",
        "bot_resolutions",
        "bot_time",
    )

    def __init__(self) -> None:
        self.customers = self.resolutions = self.first_contact_resolutions = 0
        self.reached_agent = self.agent_first_resolutions = self.sessions = self.contained = 0
        self.bot_resolutions = 0
        self.resolution_time = self.bot_time = 0.0

    def kpis(self, bot) -> dict[str, float]:
        rows = {
            "fcr": _ratio(self.first_contact_resolutions, self.customers),
            "agent_fcr": _ratio(self.agent_first_resolutions, self.reached_agent),
            "resolution_rate": _ratio(self.resolutions, self.customers),
            "mean_resolution_time": _ratio(self.resolution_time, self.resolutions),
        }
        if bot is not None:
            rows["containment_rate"] = _ratio(self.contained, self.sessions)
            rows["bot_resolution_share"] = _ratio(self.bot_resolutions, self.customers)
            rows["bot_cost"] = (
                self.sessions * bot.cost_per_session
                + self.bot_time / 60.0 * bot.cost_per_minute
                + self.contained * bot.cost_per_resolution
            )
        return rows


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


class Customer:
    """One journey: its first arrival, its entry channel's outcomes (None: before the
    warm-up), whether nothing has yet failed to resolve it (``first``) and whether an agent
    has answered it yet (``human``)."""

    __slots__ = ("arrival", "outcomes", "first", "human")

    def __init__(self, arrival: float, outcomes: Outcomes | None) -> None:
        self.arrival, self.outcomes = arrival, outcomes
        self.first, self.human = True, False

    def resolved(self, now: float) -> None:
        outcomes = self.outcomes
        if outcomes is not None:
            outcomes.resolutions += 1
            outcomes.resolution_time += now - self.arrival
            outcomes.first_contact_resolutions += self.first


class Hybrid(Centre):
    def __init__(self, env, scenario, rng) -> None:
        lines = {}
        for name, config in scenario.channels.items():
            threshold = config.service_level.threshold
            lines[name] = Line(name, channel_priority(scenario, name), threshold)
            if config.callback is not None:
                back = f"{name}:callback"
                lines[back] = Line(back, channel_priority(scenario, "email"), threshold, name)
        super().__init__(env, scenario, rng, lines)
        self.scenario, self.horizon = scenario, scenario.horizon
        for name, line in lines.items():
            config = scenario.channels[line.served_as]
            line.config = config
            line.handle = sampler(config.handle_time, rng)
            line.patience = sampler(config.patience, rng)
            line.again_handle = sampler(config.handle_time, rng)
            # The other distributions' samplers, made once as a model would.
            bot, retrial, silent = config.bot, config.retrial, config.silent_abandonment
            line.session = sampler(bot.handle_time, rng) if bot else None
            line.bot_return = sampler(bot.return_delay, rng) if bot else None
            line.retrial_delay = sampler(retrial.delay, rng) if retrial else None
            line.silent_time = sampler(silent.handle_time, rng) if silent else None
            line.resolution = config.resolution
            line.escalation = lines.get(config.escalation_to) if config.escalation else None
            line.capacity = config.lines if name == line.served_as else None
            line.in_use = 0
            line.callback = lines.get(f"{name}:callback")
            line.outcomes = Outcomes()
        for site in self.sites:
            site.chat_slots = deque()
        env.process(self.carry_over(lines["email"]))

    # --- a customer's journey --------------------------------------------------------

    def arrival(self, line: Line) -> None:
        counted = self.env.now >= self.scenario.warmup
        self.env.process(self.journey(line, line.handle(), line.patience(), counted))

    def journey(self, line: Line, handle: float, patience: float, counted: bool):
        tally = line.tally if counted else None
        outcomes = line.outcomes if counted else None
        customer = Customer(self.env.now, outcomes)
        if tally is not None:
            tally.offered += 1
            outcomes.customers += 1
        bot, rng, env = line.config.bot, self.rng, self.env
        if bot is not None and rng.random() < bot.share:
            session, outcome = line.session(), rng.random()
            if outcomes is not None:
                outcomes.sessions += 1
                outcomes.bot_time += session
                outcomes.contained += outcome < bot.containment + bot.false_containment
            yield env.timeout(session)
            if outcome < bot.containment:
                customer.resolved(env.now)  # truly contained: resolved at first contact
                if outcomes is not None:
                    outcomes.bot_resolutions += 1
                return
            if outcome < bot.containment + bot.false_containment:
                customer.first = False  # the bot closed the request unresolved
                back = env.now + line.bot_return()
                if back < self.horizon:
                    env.process(self.come_back(line, back - env.now, customer))
                return
            handle *= bot.handle_time_multiplier
            patience *= bot.patience_multiplier
        call = Call(env, line, handle, patience, tally)
        call.customer = customer
        yield from self.attempt(call)

    def attempt(self, call: Call):
        if not self.enter(call):
            yield from self.wait(call)

    def enter(self, call: Call) -> bool:
        """The call reaches the human queue: turned away by the lines, answered at once,
        taken into a chat slot or a call back (True), or queued (False)."""
        line = call.channel
        if line.capacity is not None:
            if line.in_use >= line.capacity:
                if call.tally is not None:
                    call.tally.blocked += 1
                self.maybe_retry(call)
                return True
            line.in_use += 1
            call.data = "line"
        if self.hand(call):
            return True
        if line.config.concurrency > 1 and self.free_slot(call):
            return True
        if line.callback is not None and self.call_back(call):
            return True
        line.queue.append(call)
        return False

    def abandoned(self, call: Call) -> None:
        self.free_line(call)
        if call.channel.name != call.channel.served_as:
            return  # a missed call back: no retrial
        silent = call.channel.config.silent_abandonment
        if silent is not None and self.rng.random() < silent.share:
            call.state = SILENT  # stays in the queue until an agent picks it up
        self.maybe_retry(call)

    def free_line(self, call: Call) -> None:
        if call.data == "line":
            call.data = None
            call.channel.in_use -= 1

    def maybe_retry(self, call: Call) -> None:
        retrial = call.channel.config.retrial
        if retrial is None or self.rng.random() >= retrial.probability:
            return
        delay = call.channel.retrial_delay()
        if self.env.now + delay < self.horizon:
            self.env.process(self.retry(call, delay))

    def retry(self, call: Call, delay: float):
        yield self.env.timeout(delay)
        line = call.channel
        tally = line.tally if self.env.now >= self.scenario.warmup else None
        if tally is not None:
            tally.offered += 1
        again = Call(self.env, line, call.handle, line.patience(), tally)
        again.customer = call.customer
        yield from self.attempt(again)

    def come_back(self, line: Line, delay: float, customer: Customer):
        """A customer the bot falsely contained comes back, straight to the humans."""
        yield self.env.timeout(delay)
        counted = self.env.now >= self.scenario.warmup
        tally = line.tally if counted else None
        if tally is not None:
            tally.offered += 1
        call = Call(self.env, line, line.again_handle(), line.patience(), tally)
        call.customer = customer
        yield from self.attempt(call)

    def call_back(self, call: Call) -> bool:
        """A caller facing a long expected wait may accept a call back."""
        line, offer = call.channel, call.channel.config.callback
        agents = sum(site.n_on for site in line.sites) or 1
        mean = line.config.handle_time.expected() * line.config.agent_assist
        if (len(line.queue) + 1) * mean / agents <= offer.threshold:
            return False
        if self.rng.random() >= offer.acceptance:
            return False
        self.free_line(call)
        target = line.callback
        tally = target.tally if call.tally is not None else None
        if tally is not None:
            tally.offered += 1
        back = Call(self.env, target, call.handle, offer.deadline, tally)
        back.customer = call.customer
        if not self.enter(back):
            self.env.process(self.wait(back))
        return True

    def carry_over(self, email: Line):
        """At the horizon, email still open is carried over."""
        yield self.env.timeout(self.horizon)
        for call in email.queue:
            if call.state == WAITING:
                call.state = GONE
                if call.tally is not None:
                    call.tally.carried += 1
        email.queue.clear()

    def journey_kpis(self, rows: dict) -> dict:
        """The customers' and bots' KPIs of each channel where journeys begin, and of all."""
        total, bot_cost = Outcomes(), 0.0
        for name, line in self.lines.items():
            if line.config.arrivals is None or name != line.served_as:
                continue
            rows[name].update(line.outcomes.kpis(line.config.bot))
            bot_cost += rows[name].get("bot_cost", 0.0)
            for field in Outcomes.__slots__:
                setattr(total, field, getattr(total, field) + getattr(line.outcomes, field))
        rows["all"].update(total.kpis(None))
        rows["all"]["containment_rate"] = _ratio(total.contained, total.sessions)
        rows["all"]["bot_resolution_share"] = _ratio(total.bot_resolutions, total.customers)
        rows["all"]["bot_cost"] = bot_cost
        return rows

    # --- an agent's work -------------------------------------------------------------

    def serve(self, call: Call, site):
        if call.channel.config.concurrency > 1:
            yield from self.chat_session(call, site)
            return
        escalates, start = self.resolve(call), self.env.now
        yield self.env.timeout(call.handle * site.proficiency.get(call.channel.served_as, 1.0))
        site.books.serving(call.channel.name, start, self.env.now)
        self.ended(call, escalates)

    def resolve(self, call: Call) -> bool:
        """Whether the answered call escalates when its service ends."""
        line = call.channel
        return line.resolution < 1.0 and self.rng.random() >= line.resolution

    def ended(self, call: Call, escalates: bool) -> None:
        self.free_line(call)
        if call.state == ANSWERED:  # not a chat the customer had left
            self.journey_on(call.customer, escalates)
        target = call.channel.escalation
        if escalates and target is not None:
            tally = target.tally if call.tally is not None else None
            if tally is not None:
                tally.offered += 1
            # Queued before the agent looks for its next call, as ccsim's end hook does:
            # an agent who serves the next tier may take the transfer itself.
            transfer = Call(self.env, target, target.handle(), target.patience(), tally)
            transfer.customer = call.customer
            if not self.enter(transfer):
                self.env.process(self.wait(transfer))

    def journey_on(self, customer: Customer, escalates: bool) -> None:
        """An agent's service of the customer ended: resolved, or escalated (every contact
        not resolved is, in this model); agent FCR is decided at the first answer."""
        outcomes = customer.outcomes
        if not customer.human:
            customer.human = True
            if outcomes is not None:
                outcomes.reached_agent += 1
                outcomes.agent_first_resolutions += not escalates
        if escalates:
            customer.first = False
        else:
            customer.resolved(self.env.now)

    # --- chats held at once ----------------------------------------------------------

    def chat_session(self, first: Call, site):
        # The agent is busy from the first chat in hand until the last one ends.
        desk, line, start = Desk(self.env), first.channel, self.env.now
        self.start_chat(desk, first, site)
        while desk.n < line.config.concurrency:
            call = self.head([line])
            if call is None:
                break
            self.claim(call)
            self.start_chat(desk, call, site)
        for _ in range(line.config.concurrency - desk.n):
            site.chat_slots.append((desk, desk.generation))
        while desk.n:
            call, escalates = yield desk.ends.get()
            desk.n -= 1
            self.ended(call, escalates)
            if desk.n:
                following = self.head([line])
                if following is not None:
                    self.claim(following)
                    self.start_chat(desk, following, site)
                else:
                    site.chat_slots.append((desk, desk.generation))
        desk.generation += 1  # its free slots are no longer offered
        site.books.serving(line.name, start, self.env.now)

    def start_chat(self, desk: Desk, call: Call, site) -> None:
        line = call.channel
        if call.state == ANSWERED:
            stretch = 1.0 + line.config.stretch * desk.n
            duration = call.handle * site.proficiency.get(line.served_as, 1.0) * stretch
            escalates = self.resolve(call)
        else:  # a chat left open: the agent finds out
            duration, escalates = line.silent_time(), False
        desk.n += 1
        self.env.process(self.chat(desk, call, duration, escalates))

    def chat(self, desk: Desk, call: Call, duration: float, escalates: bool):
        yield self.env.timeout(duration)
        yield desk.ends.put((call, escalates))

    def free_slot(self, call: Call) -> bool:
        """An arriving chat goes to an agent with a free chat slot."""
        for site in call.channel.sites:
            slots = site.chat_slots
            while slots:
                desk, generation = slots.popleft()
                if desk.generation == generation:
                    self.claim(call)
                    self.start_chat(desk, call, site)
                    return True
        return False


def run(scenario, seed: int) -> dict:
    """One replication: KPIs per channel, and the contacts under 'all'."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    centre = Hybrid(env, scenario, rng)
    calendar = scenario.calendar()
    edges = [slot.start for slot in calendar.slots]
    for name, config in scenario.channels.items():
        if config.arrivals is None:
            continue
        line = centre.lines[name]
        rates = [config.arrivals.rate] * len(edges)
        arrive = lambda line=line: centre.arrival(line)  # noqa: E731
        env.process(poisson_source(env, rates, edges, calendar.horizon, rng, arrive))
    env.run()
    return centre.journey_kpis(centre.kpis())
