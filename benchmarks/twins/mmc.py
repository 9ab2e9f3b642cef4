"""M/M/50+M (the engine benchmark's single queue) written the textbook SimPy way.

A source process, one process per customer, ``yield request | timeout(patience)`` on a
``simpy.Resource`` of agents, scalar draws one at a time; arrivals stop at the horizon and
the run drains. The same model as ``benchmarks/bench_engine.py``'s SimPy run, reading its
parameters from the scenario and counting the service level too. Each service adds its
part inside the window to the agents' busy time: occupancy is that over the agents' time
in the window (constant staffing). Nothing of the model is left out; its pay is zero
(``cost_per_hour`` 0), so there is no cost to compute.
"""

from __future__ import annotations

import numpy as np
import simpy

from .common import Tally, kpi_rows, sampler

__all__ = ["run"]


def run(scenario, seed: int) -> dict:
    """One replication: KPIs of the channel, and the contacts under 'all'."""
    ((name, config),) = scenario.channels.items()
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    agents = simpy.Resource(env, capacity=scenario.sites[0].agents)
    handle, patience = sampler(config.handle_time, rng), sampler(config.patience, rng)
    tally = Tally(config.service_level.threshold)
    horizon, warmup, mean_gap = scenario.horizon, scenario.warmup, 1.0 / config.arrivals.rate

    def customer(counted: bool):
        arrived = env.now
        with agents.request() as request:
            result = yield request | env.timeout(patience())
            if request in result:
                if counted:
                    tally.answer(env.now - arrived)
                start = env.now
                yield env.timeout(handle())
                # Agent time: the part of the service inside the window, whoever's call.
                busy[0] += max(min(env.now, horizon) - max(start, warmup), 0.0)
            elif counted:
                tally.abandoned += 1

    def source():
        while True:
            gap = rng.exponential(mean_gap)
            if env.now + gap >= horizon:
                return  # arrivals stop at the horizon; those inside finish
            yield env.timeout(gap)
            counted = env.now >= warmup
            tally.offered += counted
            env.process(customer(counted))

    busy = [0.0]
    env.process(source())
    env.run()
    rows = kpi_rows({name: tally})
    # The agents are logged on throughout the window (constant staffing).
    rows[name]["occupancy"] = busy[0] / (agents.capacity * (horizon - warmup))
    return rows
