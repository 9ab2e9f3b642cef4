"""Follow the sun (``configs/follow_the_sun.yaml``) written the textbook SimPy way.

New York voice and chat with weekday volumes, a half-hourly profile and day busyness
(voice: Gamma(alpha, 1/alpha) per local day), Dallas and Manila on shifts in their own
time zones with staggered breaks and shrinkage, proficiency at Manila, voice before chat,
routing to the cheaper site where both have an idle agent. A process per call
(``answered | timeout(patience)``), a process per agent (:mod:`twins.centre`).

Besides the queue KPIs (service level, abandonment, ASA), the agents keep their books
(:mod:`twins.books`): occupancy and labour cost (pay with unpaid breaks, overrun and
Manila's night differential) per channel, over all, per site and per site and channel.
Left out: nothing of the model; of the KPIs, the per-interval profiles, the agent counts
(scheduled, available) and the ratios made of those already computed (cost per contact).
"""

from __future__ import annotations

import numpy as np
import simpy

from ccsim.sim.arrivals import interval_rates

from .centre import Call, Centre, Line
from .common import poisson_source, sampler

__all__ = ["channel_priority", "inbound_lines", "run", "start_arrivals"]


def channel_priority(scenario, name: str) -> float:
    """As ccsim orders channels: the given priority, else 0; outbound after every inbound
    channel and email after every live one."""
    config = scenario.channels[name]
    if config.priority is not None:
        return config.priority
    inbound = [
        c.priority or 0 for c in scenario.channels.values() if c.kind not in ("email", "outbound")
    ]
    outbound = min(inbound or [0]) - 1
    if config.kind == "outbound":
        return outbound
    if config.kind == "email":
        return outbound - 1
    return 0


def inbound_lines(scenario) -> dict[str, Line]:
    return {
        name: Line(name, channel_priority(scenario, name), config.service_level.threshold)
        for name, config in scenario.channels.items()
    }


def start_arrivals(env, scenario, centre: Centre, rng, names) -> None:
    """A Poisson source per inbound channel, each call a process."""
    calendar = scenario.calendar()
    edges = [slot.start for slot in calendar.slots]
    warmup, horizon = scenario.warmup, calendar.horizon
    n_days = calendar.slots[-1].day + 1
    for name in names:
        config = scenario.channels[name]
        arrivals = config.arrivals
        busyness = None
        if arrivals.busyness is not None:
            alpha = arrivals.busyness.alpha
            busyness = rng.gamma(alpha, 1.0 / alpha, n_days)
        rates = interval_rates(arrivals, calendar, busyness)
        line = centre.lines[name]
        handle, patience = sampler(config.handle_time, rng), sampler(config.patience, rng)

        def arrive(line=line, handle=handle, patience=patience):
            tally = line.tally if env.now >= warmup else None
            if tally is not None:
                tally.offered += 1
            call = Call(env, line, handle(), patience(), tally)
            if not centre.offer(call):
                env.process(centre.wait(call))

        env.process(poisson_source(env, rates, edges, horizon, rng, arrive))


def run(scenario, seed: int) -> dict:
    """One replication: KPIs per channel, and the contacts under 'all'."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    centre = Centre(env, scenario, rng, inbound_lines(scenario))
    start_arrivals(env, scenario, centre, rng, list(scenario.channels))
    env.run()
    return centre.kpis()
