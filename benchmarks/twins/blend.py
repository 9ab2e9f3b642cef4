"""A blended outbound day (``configs/blended_nearshore.yaml``) written the textbook SimPy way.

Inbound service calls and a renewals list on the same Bogota agents (shifts, an unpaid
lunch spread over an hour, shrinkage), inbound first. The predictive dialer keeps
``pacing x (idle agents - reserve)`` calls ringing inside the calling windows: each
attempt is a process (``timeout(ring, busy or no-answer time)``); a right party becomes a
call process in the renewals queue, after every inbound call, and hangs up after its
patience (a dropped call, redialled like a record not reached); records not reached are
redialled after the redial delay, up to the maximum attempts. The dialer is asked to dial
where ccsim's is: a window opening, an attempt's outcome, a redial falling due and an
agent becoming idle. Calls and agents as in :mod:`twins.centre`.

Each record keeps its outcome (reached when an agent answers its right party, exhausted
when its last attempt fails, else pending at the end), the agents their books of time and
pay (:mod:`twins.books`), so the twin reports the list's counts, occupancy and labour
cost as ccsim does. Left out: nothing of the model; of the KPIs, the per-interval
profiles and the derived money ratios (cost per right-party contact).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import simpy

from ccsim.sim.features.outbound import calling_windows

from .centre import Call, Centre
from .common import sampler
from .follow_the_sun import inbound_lines, start_arrivals

__all__ = ["run"]


class Record:
    """One record of the call list: its dials so far, its outcome (None: still to dial or
    redial), and whether it counts (put on the list inside the window)."""

    __slots__ = ("attempts", "outcome", "counted")

    def __init__(self, counted: bool) -> None:
        self.attempts, self.outcome, self.counted = 0, None, counted


class Dialer:
    """The predictive dialer of one outbound channel and its call list."""

    def __init__(self, env, scenario, centre: Centre, name: str, rng) -> None:
        config = scenario.channels[name]
        dialing = config.dialing
        self.env, self.centre, self.line, self.rng = env, centre, centre.lines[name], rng
        self.dialing, self.horizon, self.warmup = dialing, scenario.horizon, scenario.warmup
        self.sites = [site for site in centre.sites if site in self.line.sites]
        for site in self.sites:
            site.on_idle = self.dial
        self.list: deque[Record] = deque()
        self.redials: deque[Record] = deque()
        self.ringing, self.open = 0, False
        self.records: list[Record] = []  # every record put on the list, for its outcome
        outcomes = dialing.outcomes
        self.cuts = (
            outcomes.right_party,
            outcomes.right_party + outcomes.machine,
            outcomes.right_party + outcomes.machine + outcomes.busy,
        )
        self.ring = sampler(dialing.ring_time, rng)
        self.redial = sampler(dialing.redial.delay, rng) if dialing.redial else None
        self.handle, self.patience = sampler(config.handle_time, rng), sampler(config.patience, rng)
        zone = dialing.timezone or scenario.timezone
        env.process(self.windows(calling_windows(scenario.calendar(), dialing.windows, zone)))

    def windows(self, windows):
        env = self.env
        for opens, closes, first in windows:
            yield env.timeout(opens - env.now)
            if first and self.dialing.records:
                fresh = [Record(env.now >= self.warmup) for _ in range(self.dialing.records)]
                self.records.extend(fresh)
                self.list.extend(fresh)
            self.open = True
            self.dial()
            yield env.timeout(closes - env.now)
            self.open = False

    def dial(self) -> None:
        if not (self.open and (self.redials or self.list)) or self.env.now >= self.horizon:
            return
        free = 0
        for site in self.sites:
            free += max(len(site.idle) - site.config.reserve, 0)
        target = int(self.dialing.pacing * free + 1e-9)
        while (self.redials or self.list) and self.ringing < target:
            self.ringing += 1
            record = self.redials.popleft() if self.redials else self.list.popleft()
            self.env.process(self.attempt(record))

    def attempt(self, record: Record):
        env, dialing = self.env, self.dialing
        record.attempts += 1
        u, ring = self.rng.random(), self.ring()
        if u < self.cuts[1]:
            duration = ring  # a right party or an answering machine
        elif u < self.cuts[2]:
            duration = dialing.busy_time
        else:
            duration = dialing.no_answer_time
        yield env.timeout(duration)
        self.ringing -= 1
        if u < self.cuts[0]:
            tally = self.line.tally if env.now >= self.warmup else None
            if tally is not None:
                tally.offered += 1
            call = Call(env, self.line, self.handle(), self.patience(), tally)
            call.data = record
            if not self.centre.offer(call):
                env.process(self.centre.wait(call))
        else:
            self.not_reached(record)
        self.dial()

    def not_reached(self, record: Record) -> None:
        if record.attempts >= self.dialing.attempts:
            record.outcome = "exhausted"
            return
        delay = self.redial()
        if self.env.now + delay < self.horizon:
            self.env.process(self.callable_again(record, delay))

    def callable_again(self, record: Record, delay: float):
        yield self.env.timeout(delay)
        self.redials.append(record)
        self.dial()

    def list_kpis(self) -> dict[str, float]:
        """The list's records by outcome at the end (reached: a right-party conversation
        with an agent; exhausted: every attempt made; pending: still to dial or redial),
        counted by the interval in which they became callable, and their dials."""
        counted = [record for record in self.records if record.counted]
        outcomes = [record.outcome for record in counted]
        n, reached = len(counted), outcomes.count("reached")
        return {
            "records": n,
            "records_reached": reached,
            "records_exhausted": outcomes.count("exhausted"),
            "records_pending": outcomes.count(None),
            "list_penetration": reached / n if n else math.nan,
            "attempts_per_record": sum(r.attempts for r in counted) / n if n else math.nan,
        }


class BlendCentre(Centre):
    dialer: Dialer

    def abandoned(self, call: Call) -> None:
        if call.data is not None:  # a dropped live answer: its record is redialled
            self.dialer.not_reached(call.data)

    def claim(self, call: Call) -> bool:
        answered = super().claim(call)
        if answered and call.data is not None:
            call.data.outcome = "reached"
        return answered


def run(scenario, seed: int) -> dict:
    """One replication: KPIs per channel, and the contacts under 'all'."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    centre = BlendCentre(env, scenario, rng, inbound_lines(scenario))
    outbound = [n for n, c in scenario.channels.items() if c.kind == "outbound"]
    inbound = [n for n in scenario.channels if n not in outbound]
    (name,) = outbound
    centre.dialer = Dialer(env, scenario, centre, name, rng)
    start_arrivals(env, scenario, centre, rng, inbound)
    env.run()
    rows = centre.kpis()
    rows[name].update(centre.dialer.list_kpis())
    return rows
