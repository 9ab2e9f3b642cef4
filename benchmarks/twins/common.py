"""What every twin shares: the tallies and KPIs, scalar samplers and a Poisson source.

A twin counts as ccsim does (docs/metrics.md): a contact is counted on its channel if it
arrived at or after the warm-up and before the horizon; the run then drains (no new
arrivals, everyone in the system gets an outcome).

* service_level = answered within the threshold (wait <= threshold) / (answered +
  abandoned + messages + disconnected + carried over);
* abandon_rate = abandoned / (answered + abandoned);
* asa = total wait of the answered / answered (seconds).

Agent time and pay are kept by :mod:`twins.books`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["KPIS", "Tally", "kpi_rows", "poisson_source", "sampler"]

KPIS = ("service_level", "abandon_rate", "asa")


class Tally:
    """One channel's counts in one replication."""

    __slots__ = (
        "offered",
        "answered",
        "within",
        "wait",
        "abandoned",
        "messages",
        "disconnected",
        "carried",
        "blocked",
        "threshold",
    )

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.offered = self.answered = self.within = self.abandoned = 0
        self.messages = self.disconnected = self.carried = self.blocked = 0
        self.wait = 0.0

    def answer(self, wait: float) -> None:
        self.answered += 1
        self.wait += wait
        if wait <= self.threshold:
            self.within += 1

    def kpis(self) -> dict[str, float]:
        queued = self.answered + self.abandoned + self.messages + self.disconnected + self.carried
        settled = self.answered + self.abandoned
        return {
            "offered": self.offered,
            "service_level": self.within / queued if queued else math.nan,
            "abandon_rate": self.abandoned / settled if settled else math.nan,
            "asa": self.wait / self.answered if self.answered else math.nan,
        }


def kpi_rows(tallies: dict[str, Tally]) -> dict[str, dict[str, float]]:
    """KPIs per channel, and the contacts of the run (every channel's offered) under 'all'."""
    rows = {name: tally.kpis() for name, tally in tallies.items()}
    rows["all"] = {"offered": sum(t.offered for t in tallies.values())}
    return rows


def sampler(dist, rng: np.random.Generator):
    """A function drawing one value of a ccsim distribution with scalar numpy calls, as a
    textbook model draws (one value each time it needs one)."""
    if dist is None:
        return lambda: math.inf
    kind = dist.dist
    if kind == "exponential":
        mean = dist.mean
        return lambda: rng.exponential(mean)
    if kind == "lognormal":
        sigma2 = math.log(1.0 + dist.cv**2)
        mu, sigma = math.log(dist.mean) - sigma2 / 2.0, math.sqrt(sigma2)
        return lambda: rng.lognormal(mu, sigma)
    if kind == "gamma":
        shape = 1.0 / dist.cv**2
        scale = dist.mean / shape
        return lambda: rng.gamma(shape, scale)
    if kind == "uniform":
        low, high = dist.low, dist.high
        return lambda: rng.uniform(low, high)
    if kind == "deterministic":
        value = dist.value
        return lambda: value
    raise ValueError(f"the twins do not draw {kind!r}")


def poisson_source(env, rates, edges, horizon: float, rng: np.random.Generator, arrive):
    """A process: Poisson arrivals at a rate constant within each interval ``[edges[k],
    edges[k+1])`` (the last one ends at the horizon), calling ``arrive()`` at each. The gap
    is drawn again at each interval edge (the exponential forgets)."""
    ends = [*edges[1:], horizon]
    for rate, start, end in zip(rates, edges, ends, strict=True):
        if env.now < start:
            yield env.timeout(start - env.now)
        if rate <= 0.0:
            continue
        mean = 1.0 / rate
        while True:
            gap = rng.exponential(mean)
            if env.now + gap >= end:
                yield env.timeout(end - env.now)
                break
            yield env.timeout(gap)
            arrive()
