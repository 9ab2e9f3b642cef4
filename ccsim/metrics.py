"""Tallies and KPIs: what the engine counts, and how counts become the reported figures.

The engine only adds to tallies (counts and sums); every KPI is then a count or a ratio of
tally totals, defined once in :data:`RATIO_KPIS`. The same definition serves a single
replication (ratio of its totals) and many (ratio of the totals over replications, with a
delta-method interval, see :mod:`ccsim.stats`) so the two can never drift apart.
``docs/metrics.md`` states each definition in words.

Counted contacts are those arriving in ``[warmup, horizon)``; their waits are counted
whenever they end. Time-based tallies (busy, staffed, queue time) are the overlap of each
activity with the same window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = [
    "COUNT_KPIS",
    "KPI_NAMES",
    "RATIO_KPIS",
    "SITE_KPIS",
    "TALLY_NAMES",
    "ChannelTally",
    "kpis",
    "tally_values",
    "total",
]


@dataclass(slots=True)
class ChannelTally:
    """Counts and sums for one channel over one replication."""

    offered: int = 0  # arrivals in the window
    answered: int = 0  # counted contacts taken by an agent
    abandoned: int = 0  # counted contacts that left the queue
    waited: int = 0  # counted contacts with a queue time > 0
    answered_within_threshold: int = 0  # answered with queue time <= threshold
    abandoned_after_threshold: int = 0  # abandoned with queue time > threshold
    wait_answered: float = 0.0  # total queue time of answered contacts, s
    wait_abandoned: float = 0.0  # total queue time of abandoned contacts, s
    handle_time: float = 0.0  # total handle time of answered contacts, s
    carried_over: int = 0  # counted contacts still waiting when the last agent left
    queue_time: float = 0.0  # contact-seconds spent waiting inside the window
    busy_time: float = 0.0  # agent-seconds busy on this channel inside the window
    staffed_time: float = 0.0  # agent-seconds logged on (idle or busy), agents who may serve it
    scheduled_time: float = 0.0  # agent-seconds on the schedule (same sites; breaks, absence)
    overrun_time: float = 0.0  # agent-seconds paid after shift end (share of this channel)
    labour_cost: float = 0.0  # pay of the sites' agents (share of this channel)
    observed_time: float = 0.0  # length of the window, s


TALLY_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ChannelTally))

#: KPIs that are plain counts (or sums) per replication.
COUNT_KPIS: tuple[str, ...] = ("offered", "answered", "abandoned", "carried_over", "labour_cost")

#: KPI -> (numerator tallies, denominator tallies); the KPI is sum(num) / sum(den).
RATIO_KPIS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "p_wait": (("waited",), ("answered", "abandoned")),
    "mean_wait": (("wait_answered", "wait_abandoned"), ("answered", "abandoned")),
    "asa": (("wait_answered",), ("answered",)),
    "abandon_rate": (("abandoned",), ("answered", "abandoned")),
    "service_level": (
        ("answered_within_threshold",),
        ("answered", "abandoned", "carried_over"),
    ),
    "service_level_answered": (("answered_within_threshold",), ("answered",)),
    "service_level_excl_short_abandons": (
        ("answered_within_threshold",),
        ("answered", "abandoned_after_threshold"),
    ),
    "occupancy": (("busy_time",), ("staffed_time",)),
    "aht": (("handle_time",), ("answered",)),
    "mean_queue_length": (("queue_time",), ("observed_time",)),
    "scheduled_agents": (("scheduled_time",), ("observed_time",)),
    "available_agents": (("staffed_time",), ("observed_time",)),
    "busy_agents": (("busy_time",), ("observed_time",)),
    "cost_per_handled_contact": (("labour_cost",), ("answered",)),
}

KPI_NAMES: tuple[str, ...] = COUNT_KPIS + tuple(RATIO_KPIS)

#: KPIs that mean something for the part of a channel one site answered: a contact that
#: abandons or is carried over had no site, so offered, abandonment, service level over
#: all contacts and queue length exist only for a channel as a whole (``site == "all"``).
SITE_KPIS: tuple[str, ...] = (
    "answered",
    "labour_cost",
    "asa",
    "service_level_answered",
    "occupancy",
    "aht",
    "scheduled_agents",
    "available_agents",
    "busy_agents",
    "cost_per_handled_contact",
)


def _ratio(numerator: float, denominator: float) -> float:
    # An empty denominator (no answered contact, say) has no meaningful ratio.
    return numerator / denominator if denominator > 0 else math.nan


def tally_values(tally: ChannelTally) -> dict[str, float]:
    """The tally as a flat dict (``dataclasses.asdict`` deep-copies, ten times slower)."""
    return {name: getattr(tally, name) for name in TALLY_NAMES}


def kpis(tally: ChannelTally) -> dict[str, float]:
    """The KPIs of one channel in one replication, in :data:`KPI_NAMES` order."""
    values = tally_values(tally)
    row: dict[str, float] = {name: values[name] for name in COUNT_KPIS}
    for name, (numerator, denominator) in RATIO_KPIS.items():
        row[name] = _ratio(sum(values[n] for n in numerator), sum(values[d] for d in denominator))
    return row


def total(tallies: list[ChannelTally]) -> ChannelTally:
    """The sum of several tallies (intervals of a day, say): every field is additive."""
    result = ChannelTally()
    for name in TALLY_NAMES:
        setattr(result, name, sum(getattr(t, name) for t in tallies))
    return result
