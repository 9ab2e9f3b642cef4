"""M/M/50+M (the engine benchmark's single queue) written the textbook SimPy way.

A source process, one process per customer, ``yield request | timeout(patience)`` on a
``simpy.Resource`` of agents, scalar draws one at a time; arrivals stop at the horizon and
the run drains. The same model as ``benchmarks/bench_engine.py``'s SimPy run, reading its
parameters from the scenario and counting the service level too. Nothing of the model is
left out; ccsim's accounting after the run (occupancy, agent time) is, which flatters the
twin.
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
                yield env.timeout(handle())
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

    env.process(source())
    env.run()
    return kpi_rows({name: tally})
