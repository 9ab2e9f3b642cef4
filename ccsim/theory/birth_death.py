"""Exact steady state of a Markovian multi-server queue with balking and abandonment.

M/M/c with balking: a contact that arrives when all ``n`` agents are busy and ``k`` contacts
already wait joins the queue with probability ``1 - balk(k)`` and otherwise leaves at once
(a balk); a waiting contact abandons after an exponential patience of rate ``theta`` (0: never).
The number in system is a birth-death chain with birth rates ``rate`` below ``n`` and
``rate * (1 - balk(k))`` above, and death rates ``min(j, n) * mu + max(j - n, 0) * theta``; its
stationary distribution is summed in logarithms up to a state beyond which the remaining mass
is below ``tol``. By PASTA, arrivals see the stationary distribution, which gives the share of
balks, of waits, and (with Little's law) the mean wait and the abandonment.

With ``balk = 0`` this is Erlang C (``theta = 0``) or Erlang A; with ``balk = 1`` Erlang B: the
tests check all three, and the simulator's balking against this.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BalkingPerformance", "balking_performance"]


@dataclass(frozen=True)
class BalkingPerformance:
    """Steady-state shares over all arrivals, and means; seconds."""

    balk_rate: float  # P(balk): arrived, found every agent busy, left at once
    p_wait: float  # P(joined the queue and waited > 0)
    abandon_rate: float  # P(joined, then abandoned)
    answered_rate: float  # P(answered) = 1 - balk_rate - abandon_rate
    occupancy: float  # busy agents / agents
    mean_queue_length: float  # time-average number waiting
    mean_wait_joined: float  # E[W] over contacts that joined (waited or not), Little's law
    asa: float  # E[W | answered]; exact without abandonment, NaN with it


def _balk_function(balk: float | Sequence[float]) -> Callable[[int], float]:
    if isinstance(balk, int | float):
        p = float(balk)
        return lambda k: p
    values = [float(v) for v in balk]
    if not values:
        raise ValueError("balk: give at least one probability")
    return lambda k: values[min(k, len(values) - 1)]


def balking_performance(
    rate: float,
    aht: float,
    n: int,
    balk: float | Sequence[float],
    patience: float = math.inf,
    tol: float = 1e-14,
    max_states: int = 10_000_000,
) -> BalkingPerformance:
    """Steady state of M/M/n with balking (``balk``: a probability, or one per number already
    waiting, the last repeated) and exponential patience of mean ``patience`` (inf: none)."""
    if not (rate > 0 and aht > 0 and n >= 1):
        raise ValueError("rate and aht must be > 0 and n >= 1")
    mu, theta = 1.0 / aht, (0.0 if math.isinf(patience) else 1.0 / patience)
    join = _balk_function(balk)
    tail_join = 1.0 - join(10**9)
    if theta == 0.0 and rate * tail_join >= n * mu:
        raise ValueError("unstable: joining load >= agents and no abandonment")
    log_terms = [0.0]
    peak = 0.0
    j = 0
    while True:
        waiting = j - n  # contacts waiting in state j (negative: idle agents)
        birth = rate if waiting < 0 else rate * (1.0 - join(waiting))
        if birth <= 0.0:
            break
        death = min(j + 1, n) * mu + max(j + 1 - n, 0) * theta
        log_terms.append(log_terms[-1] + math.log(birth / death))
        peak = max(peak, log_terms[-1])
        j += 1
        # Past the agents, the terms fall at least geometrically once births < deaths:
        # stop when the next terms cannot add more than ``tol`` of the mass.
        if j > n and log_terms[-1] - peak < math.log(tol) and birth < death:
            break
        if j >= max_states:
            raise ValueError("the chain did not settle: raise max_states")
    logs = np.asarray(log_terms)
    pi = np.exp(logs - logs.max())
    pi /= pi.sum()
    states = np.arange(len(pi))
    waiting = np.maximum(states - n, 0)
    busy = np.minimum(states, n)
    all_busy = states >= n
    balk_by_state = np.array(
        [join(int(k)) if full else 0.0 for k, full in zip(waiting, all_busy, strict=True)]
    )
    balk_rate = float(np.sum(pi * balk_by_state))
    p_wait = float(np.sum(pi[all_busy] * (1.0 - balk_by_state[all_busy])))
    mean_queue = float(np.sum(pi * waiting))
    abandon_rate = theta * mean_queue / rate
    joined = 1.0 - balk_rate
    mean_wait_joined = mean_queue / (rate * joined)
    asa = mean_wait_joined if theta == 0.0 else math.nan
    return BalkingPerformance(
        balk_rate=balk_rate,
        p_wait=p_wait,
        abandon_rate=abandon_rate,
        answered_rate=1.0 - balk_rate - abandon_rate,
        occupancy=float(np.sum(pi * busy)) / n,
        mean_queue_length=mean_queue,
        mean_wait_joined=mean_wait_joined,
        asa=asa,
    )
