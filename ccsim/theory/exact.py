"""A scenario as the Markovian queue it is, when it is one, and that queue's exact KPIs under
the simulator's own definitions: what ``ccsim run --theory`` puts beside a run.

A scenario is such a queue when it has one live channel fed by Poisson arrivals at a
constant rate, exponential handle times, exponential patience or none, optional balking, one
site with a fixed number of agents all day who take a contact at once, and a warm-up (the
formulas are for the steady state, not for a centre that opens empty). Then Erlang C
(no patience), Erlang A (exponential patience) or the birth-death chain with balking gives
every KPI exactly. :func:`markovian_queue` says which assumption fails otherwise, with the
scenario field it concerns, so that the command can refuse before simulating anything.

The formulas count over all arrivals; the simulator's ratio KPIs count over the contacts that
queued (``docs/metrics.md``). Without balking the two are the same contacts; with it, a
balked contact never queued, so shares of those who joined are the chain's shares divided by
``1 - P(balk)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ccsim.model.distributions import Exponential
from ccsim.model.units import format_duration
from ccsim.model.workforce import steady_state
from ccsim.theory.birth_death import balking_performance
from ccsim.theory.erlang import performance

__all__ = ["Mismatch", "Queue", "exact_kpis", "markovian_queue"]


@dataclass(frozen=True)
class Queue:
    """One channel's queue in the theory's terms: seconds and contacts per second."""

    channel: str
    rate: float
    aht: float  # the handle time's mean times the agent assist and the site's proficiency
    agents: int
    threshold: float
    patience: float | None  # mean of an exponential patience; None: nobody abandons
    balk: tuple[float, ...] | None  # per contacts already waiting, the last repeated

    @property
    def model(self) -> str:
        """The model's name and its Kendall notation, e.g. ``Erlang A (M/M/11+M)``."""
        if self.balk is not None:
            patience = "+M" if self.patience is not None else ""
            return f"birth-death chain (M/M/{self.agents}{patience} with balking)"
        if self.patience is None:
            return f"Erlang C (M/M/{self.agents})"
        return f"Erlang A (M/M/{self.agents}+M)"

    @property
    def inputs(self) -> str:
        """The inputs in a planner's units, e.g. ``3/min, AHT 3min, patience 2min, ...``."""
        parts = [f"{self.rate * 60:g}/min", f"AHT {format_duration(self.aht)}"]
        if self.patience is not None:
            parts.append(f"patience {format_duration(self.patience)}")
        if self.balk is not None:
            parts.append("balking " + ", ".join(f"{p:g}" for p in self.balk))
        parts += [f"{self.agents} agents", f"threshold {format_duration(self.threshold)}"]
        return ", ".join(parts)


@dataclass(frozen=True)
class Mismatch:
    """Why a scenario is not a queue the theory solves: the field and the assumption."""

    path: str
    reason: str


_NO_FORMULA = {
    "lines": "lines (blocking)",
    "retrial": "retrials",
    "callback": "call backs",
    "silent_abandonment": "silent abandonment",
    "message": "messages left in the queue",
    "close": "a queue disconnected at close",
    "bot": "a bot in front",
    "escalation": "escalation to another tier",
    "repeat": "repeat contacts",
    "request_types": "request types (their handle times a mixture, not one exponential)",
}


def markovian_queue(scenario) -> Queue | Mismatch:
    """The queue ``scenario`` is, or the first assumption of the theory it breaks."""
    scenario = steady_state(scenario)  # a learning curve: every agent at the site's mean speed
    if len(scenario.channels) != 1:
        names = ", ".join(scenario.channels)
        return Mismatch("channels", f"the theory check needs one channel; there are {names}")
    name, channel = next(iter(scenario.channels.items()))
    where = f"channels.{name}"
    mismatch = _channel_mismatch(name, channel, where) or _site_mismatch(scenario, name)
    if mismatch is not None:
        return mismatch
    if scenario.warmup <= 0:
        return Mismatch(
            "warmup",
            "the theory check needs a warm-up (the formulas are the steady state, the run "
            "starts empty): add e.g. 'warmup: 1h'",
        )
    site = scenario.sites[0]
    aht = channel.handle_time.mean * channel.agent_assist * site.proficiency.get(name, 1.0)
    return Queue(
        channel=name,
        rate=channel.arrivals.rate,
        aht=aht,
        agents=site.agents,
        threshold=channel.service_level.threshold,
        patience=channel.patience.mean if channel.patience is not None else None,
        balk=channel.balking.by_waiting() if channel.balking is not None else None,
    )


def _channel_mismatch(name: str, channel, where: str) -> Mismatch | None:
    if channel.kind not in ("voice", "chat"):
        return Mismatch(
            f"{where}.kind",
            f"the theory check needs a voice or chat channel; {name} is {channel.kind}",
        )
    if channel.concurrency > 1:  # the stretch applies only to the other chats held
        return Mismatch(
            f"{where}.concurrency", f"the theory check needs one chat per agent; {name} has more"
        )
    arrivals = channel.arrivals
    if arrivals is None or arrivals.rate is None:
        shape = "a profile" if arrivals is not None and arrivals.profile is not None else "a volume"
        return Mismatch(
            f"{where}.arrivals",
            f"the theory check needs a constant arrival rate; {name} has {shape}",
        )
    if not isinstance(channel.handle_time, Exponential):
        return Mismatch(
            f"{where}.handle_time",
            f"the theory check needs exponential handle times; {name}'s are "
            f"{channel.handle_time.dist}",
        )
    if channel.patience is not None and not isinstance(channel.patience, Exponential):
        return Mismatch(
            f"{where}.patience",
            f"the theory check needs exponential patience (or none); {name}'s is "
            f"{channel.patience.dist}",
        )
    for field, what in _NO_FORMULA.items():
        if getattr(channel, field) is not None:
            return Mismatch(f"{where}.{field}", f"the theory check has no formula for {what}")
    return None


def _site_mismatch(scenario, name: str) -> Mismatch | None:
    if scenario.trunks:
        return Mismatch("trunks", "the theory check has no formula for lines shared in trunks")
    if len(scenario.sites) != 1:
        return Mismatch(
            "sites", f"the theory check needs one site; there are {len(scenario.sites)}"
        )
    site = scenario.sites[0]
    if site.agents is None:
        return Mismatch(
            "sites.0.shifts",
            f"the theory check needs a fixed number of agents all day; {site.name} has shifts",
        )
    if site.shrinkage > 0 or site.breaks:
        field = "shrinkage" if site.shrinkage > 0 else "breaks"
        return Mismatch(
            f"sites.0.{field}",
            f"the theory check needs a fixed number of agents all day; {site.name} has {field}",
        )
    for number, step in enumerate(scenario.routing.overflow.get(name, [])):
        if step.after > 0:
            return Mismatch(
                f"routing.overflow.{name}.{number}.after",
                "the theory check needs agents who take a contact at once; this one waits "
                f"{format_duration(step.after)}",
            )
    return None


def exact_kpis(queue: Queue) -> dict[str, float]:
    """The exact steady-state value of each KPI the theory gives, by the simulator's KPI name
    and definition (``docs/metrics.md``). Raises ValueError for a queue with no steady state
    (offered load at or above the agents and nobody abandons)."""
    if queue.balk is not None:
        return _balking_kpis(queue)
    if queue.patience is None and queue.rate * queue.aht >= queue.agents:
        raise ValueError("no steady state")
    exact = performance(queue.rate, queue.aht, queue.agents, queue.threshold, queue.patience)
    kpis = {
        "service_level": exact.service_level,
        "asa": exact.asa,
        "mean_wait": exact.mean_wait,
        "p_wait": exact.p_wait,
        "abandon_rate": exact.abandon_rate,
        "occupancy": exact.occupancy,
    }
    if queue.patience is None:
        del kpis["abandon_rate"]  # nobody abandons: nothing to compare
    return kpis


def _balking_kpis(queue: Queue) -> dict[str, float]:
    patience = queue.patience if queue.patience is not None else math.inf
    exact = balking_performance(queue.rate, queue.aht, queue.agents, queue.balk, patience)
    joined = 1.0 - exact.balk_rate  # the simulator's shares count over contacts that queued
    kpis = {
        "asa": exact.asa,
        "mean_wait": exact.mean_wait_joined,
        "p_wait": exact.p_wait / joined,
        "abandon_rate": exact.abandon_rate / joined,
        "balk_rate": exact.balk_rate,
        "occupancy": exact.occupancy,
    }
    if queue.patience is None:
        del kpis["abandon_rate"]
    else:
        del kpis["asa"]  # the chain gives E[W | answered] only without abandonment
    return kpis
