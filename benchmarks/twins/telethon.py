"""Telethon (``configs/telethon.yaml``, ContactCenters' benchmark) written the textbook
SimPy way.

Monday to Friday, 06:00-10:00: Poisson calls at the configured rate, 24 trunk lines
(``simpy.Resource``: a caller finding every line taken is blocked), 12 agents
(``simpy.Resource``), a process per call that waits on ``request | timeout(patience) |
timeout(max wait) | close``: out of patience it abandons, still waiting after the maximum
wait it leaves a message, still waiting at the day's close (10:00, one shared event per
day) it is disconnected. A caller holds its line until it leaves.

Each service adds its part inside the window to the agents' busy time: occupancy is that
over the agents' time in the window (constant staffing: every hour of the week, not only
the open hours). Nothing of the model is left out; its pay is zero (``cost_per_hour`` 0),
so there is no cost to compute.
"""

from __future__ import annotations

import numpy as np
import simpy

from ccsim.sim.arrivals import interval_rates
from ccsim.sim.features.closing import closing_times

from .common import Tally, kpi_rows, poisson_source, sampler

__all__ = ["run"]


def run(scenario, seed: int) -> dict:
    """One replication (a week): KPIs of the channel, and the contacts under 'all'."""
    ((name, config),) = scenario.channels.items()
    calendar = scenario.calendar()
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    agents = simpy.Resource(env, capacity=scenario.sites[0].agents)
    lines = simpy.Resource(env, capacity=config.lines)
    tally = Tally(config.service_level.threshold)
    handle, patience = sampler(config.handle_time, rng), sampler(config.patience, rng)
    max_wait = config.message.max_wait
    closes = closing_times(calendar, config.close)
    close_events = {t: env.event() for t in closes}
    warmup = scenario.warmup

    def closer():
        for t, event in close_events.items():
            yield env.timeout(t - env.now)
            event.succeed()

    def caller(counted: bool):
        arrived = env.now
        close = close_events[next(t for t in closes if t >= arrived)]
        with lines.request() as line:
            yield line  # granted at once: a line was free
            with agents.request() as agent:
                left = yield agent | env.timeout(patience()) | env.timeout(max_wait) | close
                if agent in left:
                    if counted:
                        tally.answer(env.now - arrived)
                    start = env.now
                    yield env.timeout(handle())
                    # Agent time: the part of the service inside the window.
                    busy[0] += max(min(env.now, horizon) - max(start, warmup), 0.0)
                    return
                if not counted:
                    return
                if close in left:
                    tally.disconnected += 1
                elif env.now - arrived >= max_wait:
                    tally.messages += 1
                else:
                    tally.abandoned += 1

    def arrive():
        counted = env.now >= warmup
        if counted:
            tally.offered += 1
        if lines.count >= lines.capacity:
            if counted:
                tally.blocked += 1
            return
        env.process(caller(counted))

    edges = [slot.start for slot in calendar.slots]
    rates = interval_rates(config.arrivals, calendar)
    env.process(poisson_source(env, rates, edges, calendar.horizon, rng, arrive))
    env.process(closer())
    busy, horizon = [0.0], scenario.horizon
    env.run()
    rows = kpi_rows({name: tally})
    # The agents are logged on throughout the window (constant staffing), not only open
    # hours.
    rows[name]["occupancy"] = busy[0] / (agents.capacity * (horizon - warmup))
    return rows
