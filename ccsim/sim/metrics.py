"""Tallies and KPIs: what the engine counts, and how counts become the reported figures.

The engine only adds to tallies (counts and sums); every KPI is then a count or a ratio of
tally totals, defined once in the KPI table (:data:`ccsim.sim.kpis.KPIS`). The same
definition serves a single replication (ratio of its totals) and many (ratio of the totals
over replications, with a delta-method interval, see :mod:`ccsim.experiment.stats`) so the
two can never drift apart.
``docs/metrics.md`` states each definition in words.

Counted contacts are those arriving in ``[warmup, horizon)``; their waits are counted
whenever they end. Time-based tallies (busy, staffed, queue time) are the overlap of each
activity with the same window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from operator import attrgetter

from ccsim.sim.kpis import JOURNEY_BINS, KPIS, MEAN, QUANTILE, RATIO, Kpi
from ccsim.sim.satisfaction import SATISFACTION_TALLIES

__all__ = [
    "AGENT_TALLIES",
    "CONTACT_TALLIES",
    "COUNT_KPIS",
    "JOURNEY_BINS",
    "KPI_NAMES",
    "LEVEL_TALLIES",
    "QUANTILE_KPIS",
    "RATIO_KPIS",
    "SITE_KPIS",
    "TALLY_NAMES",
    "WAIT_POINTS",
    "ChannelTally",
    "cumulative_quantile",
    "kpi_frame",
    "journey_quantile",
    "kpis",
    "tally_values",
    "total",
]


@dataclass(slots=True)
class ChannelTally:
    """Counts and sums for one channel (or one site's part of it) over one window."""

    # Contacts, by the interval in which they arrived (a transfer, retrial or repeat
    # contact arrives when it reaches this channel). Every contact ends as exactly one of:
    # contained, blocked, balked, abandoned, callbacks, messages, disconnected, carried_over,
    # resolved, escalated, unresolved (the last three are answered).
    offered: int = 0  # contacts arriving in the window, retrials, repeats and transfers too
    answered: int = 0  # taken by an agent
    abandoned: int = 0  # left the queue (patience ran out; a missed callback)
    blocked: int = 0  # voice: all lines busy on arrival
    contained: int = 0  # ended in the bot, truly or falsely contained
    callbacks: int = 0  # voice: left the queue with a call back promised
    balked: int = 0  # found no agent free and left at once
    messages: int = 0  # waited the maximum wait and left a message
    disconnected: int = 0  # still waiting when the channel closed
    carried_over: int = 0  # still waiting at the end (email: open at the horizon)
    resolved: int = 0  # answered and resolved here
    escalated: int = 0  # answered, not resolved, transferred to the next tier
    unresolved: int = 0  # answered, not resolved, not transferred
    retrials: int = 0  # offered contacts that were a voice customer calling again
    repeat_contacts: int = 0  # offered contacts that were a customer coming back
    transfers_in: int = 0  # offered contacts escalated from another tier
    waited: int = 0  # answered or abandoned with a queue time > 0
    answered_within_threshold: int = 0  # answered with queue time <= threshold
    abandoned_after_threshold: int = 0  # abandoned with queue time > threshold
    carried_over_after_threshold: int = 0  # carried over, already older than the threshold
    silent_abandoned: int = 0  # chat: abandoned without closing; an agent found out
    wait_answered: float = 0.0  # total queue time of answered contacts, s
    wait_abandoned: float = 0.0  # total queue time of abandoned contacts, s
    handle_time: float = 0.0  # total handle time of answered contacts, s
    # arrival at this channel to the end of the handling, over contacts resolved here, s
    ticket_time: float = 0.0
    waits_within_0s: int = 0  # answered with queue time <= 0 s (the wait distribution)
    waits_within_10s: int = 0
    waits_within_20s: int = 0
    waits_within_30s: int = 0
    waits_within_60s: int = 0
    waits_within_120s: int = 0
    waits_within_300s: int = 0
    waits_within_600s: int = 0
    waits_within_1800s: int = 0
    waits_within_3600s: int = 0
    waits_within_7200s: int = 0
    waits_within_14400s: int = 0
    waits_within_28800s: int = 0
    waits_within_86400s: int = 0
    waits_within_172800s: int = 0
    # Customers, on the row of the channel where they first arrived, by that interval.
    customers: int = 0  # new customers (first arrivals)
    first_contact_resolutions: int = 0  # resolved at their first handled contact
    # answered at the entry channel with a queue time over all attempts <= its threshold
    customers_within_threshold: int = 0
    resolutions: int = 0  # resolved in the end (truly contained included)
    resolution_time: float = 0.0  # first arrival to resolution, s, over resolutions
    bot_resolutions: int = 0  # resolved by the bot (true containment)
    reached_agent: int = 0  # answered by a human at least once
    agent_first_resolutions: int = 0  # of those, resolved by their first human contact
    censored: int = 0  # journey still open at the cut-off (a return due after it, or in hand)
    # Resolved journeys by their time from first arrival to resolution (JOURNEY_BINS).
    journeys_within_1min: int = 0
    journeys_within_2min: int = 0
    journeys_within_3min: int = 0
    journeys_within_4min: int = 0
    journeys_within_5min: int = 0
    journeys_within_10min: int = 0
    journeys_within_15min: int = 0
    journeys_within_20min: int = 0
    journeys_within_30min: int = 0
    journeys_within_45min: int = 0
    journeys_within_1h: int = 0
    journeys_within_2h: int = 0
    journeys_within_4h: int = 0
    journeys_within_8h: int = 0
    journeys_within_24h: int = 0
    journeys_within_48h: int = 0
    journeys_within_72h: int = 0
    journeys_within_168h: int = 0
    # AI deflection.
    bot_sessions: int = 0  # contacts that tried the bot
    bot_time: float = 0.0  # seconds in the bot
    # seconds in the bot sessions that ended as contained (truly or falsely): the bot's
    # part of the per-request resolution time a dashboard reports
    contained_time: float = 0.0
    bot_cost: float = 0.0  # cost of the bot sessions (and their resolutions)
    ai_fixed_cost: float = 0.0  # the bot's platform and AI operations per month, prorated
    satisfied: float = 0.0  # journeys, first arrival's row: expected satisfied (no draw)
    contact_satisfied: float = 0.0  # answered contacts: expected satisfied surveys
    poor_journeys: int = 0  # not resolved, resolved after 3+ contacts, or misled by the bot
    customers_lost: float = 0.0  # expected customers who leave (satisfaction.churn)
    revenue_at_risk: float = 0.0  # their revenue (satisfaction.churn)
    # Outbound (a dialled channel), records by the interval in which they became
    # callable: every record ends reached, exhausted or pending.
    records: int = 0  # records put on the call list
    records_reached: int = 0  # reached: a right-party conversation
    records_exhausted: int = 0  # every attempt made, never reached
    records_pending: int = 0  # still to dial (or to redial) when the run ends
    dials: int = 0  # attempts made on the records
    # Attempts, by the interval of the answer (live answers are the channel's offered).
    live_answers: int = 0  # right parties who answered
    dropped: int = 0  # live answers abandoned for want of an agent (regulated)
    right_party_contacts: int = 0  # right-party conversations with an agent
    # Levels and agent times.
    backlog: int = 0  # email items open at the end of the interval (a level, not a sum)
    queue_time: float = 0.0  # contact-seconds spent waiting inside the window
    busy_time: float = 0.0  # agent-seconds busy on this channel inside the window
    staffed_time: float = 0.0  # agent-seconds logged on (idle or busy), agents who may serve it
    staffed_hours: float = 0.0  # the same in hours (a denominator of contacts per hour)
    # The logged-on time of the same sites split: busy on inbound, busy on outbound, idle.
    inbound_busy_time: float = 0.0
    outbound_busy_time: float = 0.0
    idle_time: float = 0.0
    scheduled_time: float = 0.0  # agent-seconds on the schedule (same sites; breaks, absence)
    overrun_time: float = 0.0  # agent-seconds paid after shift end (share of this channel)
    labour_cost: float = 0.0  # the sites' pay, or a contract's bill (share of this channel)
    contract_cost: float = 0.0  # a contracted site's bill (issue #27), in labour_cost too
    service_credits: float = 0.0  # the service credits taken off that bill
    vendor_pay: float = 0.0  # a contracted site's pay at its cost_per_hour: in no cost
    observed_time: float = 0.0  # length of the window, s


TALLY_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ChannelTally))

#: Tallies that are levels at the end of an interval: a total over intervals is the last.
LEVEL_TALLIES: tuple[str, ...] = ("backlog",)

#: Tallies of agents and of the window (not of contacts): a row of several channels adds
#: up the agent times of its sites, each site once, not those of its channels.
AGENT_TALLIES: tuple[str, ...] = (
    "busy_time",
    "staffed_time",
    "staffed_hours",
    "inbound_busy_time",
    "outbound_busy_time",
    "idle_time",
    "scheduled_time",
    "overrun_time",
    "labour_cost",
    "contract_cost",
    "service_credits",
    "vendor_pay",
    "observed_time",
)

#: Tallies of contacts and customers (queue time included): added up over channels.
CONTACT_TALLIES: tuple[str, ...] = (
    "offered",
    "answered",
    "abandoned",
    "blocked",
    "contained",
    "callbacks",
    "balked",
    "messages",
    "disconnected",
    "carried_over",
    "resolved",
    "escalated",
    "unresolved",
    "retrials",
    "repeat_contacts",
    "transfers_in",
    "waited",
    "answered_within_threshold",
    "abandoned_after_threshold",
    "carried_over_after_threshold",
    "silent_abandoned",
    "wait_answered",
    "wait_abandoned",
    "handle_time",
    "ticket_time",
    "waits_within_0s",
    "waits_within_10s",
    "waits_within_20s",
    "waits_within_30s",
    "waits_within_60s",
    "waits_within_120s",
    "waits_within_300s",
    "waits_within_600s",
    "waits_within_1800s",
    "waits_within_3600s",
    "waits_within_7200s",
    "waits_within_14400s",
    "waits_within_28800s",
    "waits_within_86400s",
    "waits_within_172800s",
    "customers",
    "first_contact_resolutions",
    "customers_within_threshold",
    "resolutions",
    "resolution_time",
    "bot_resolutions",
    "reached_agent",
    "agent_first_resolutions",
    "censored",
    *(name for name, _ in JOURNEY_BINS),
    "bot_sessions",
    "bot_time",
    "contained_time",
    "bot_cost",
    "ai_fixed_cost",
    *SATISFACTION_TALLIES,
    "records",
    "records_reached",
    "records_exhausted",
    "records_pending",
    "dials",
    "live_answers",
    "dropped",
    "right_party_contacts",
    "backlog",
    "queue_time",
)

# Every tally is one or the other: a new field must be classified here (not by its place).
if sorted(CONTACT_TALLIES + AGENT_TALLIES) != sorted(TALLY_NAMES):
    raise TypeError("every ChannelTally field must be in CONTACT_TALLIES or AGENT_TALLIES")

#: Wait-distribution points (seconds) of the ``waits_within_<N>s`` tallies.
#: Up to 10 min for live channels; on to 48 h for the channels worked later (email,
#: messages: a threshold of hours), so that each channel's distribution spans its threshold.
WAIT_POINTS: tuple[int, ...] = (
    0, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800,
)  # fmt: skip

# The journey-time grid (``JOURNEY_BINS``, ``(tally, seconds)``) is defined with the KPI
# that reads it (:mod:`ccsim.sim.kpis`); its counts are tallies here, in the same order.
if [name for name, _ in JOURNEY_BINS] != [n for n in TALLY_NAMES if n.startswith("journeys_")]:
    raise TypeError("JOURNEY_BINS must name the journeys_within_* tallies, in their order")

#: The KPI names, in the order of every output table (:data:`ccsim.sim.kpis.KPIS`).
KPI_NAMES: tuple[str, ...] = tuple(KPIS)

#: KPIs that are counts or amounts per replication (a mean over replications).
COUNT_KPIS: tuple[str, ...] = tuple(k.name for k in KPIS.values() if k.aggregate == MEAN)

#: KPI -> (numerator tallies, denominator tallies); the KPI is sum(num) / sum(den).
RATIO_KPIS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    k.name: (k.numerator, k.denominator) for k in KPIS.values() if k.aggregate == RATIO
}

#: KPIs that are quantiles of cumulative counts (the median journey time), by name.
QUANTILE_KPIS: dict[str, Kpi] = {k.name: k for k in KPIS.values() if k.aggregate == QUANTILE}

#: KPIs that mean something for the part of a channel one site answered.
SITE_KPIS: tuple[str, ...] = tuple(k.name for k in KPIS.values() if k.site_level)


def _ratio(numerator: float, denominator: float) -> float:
    # An empty denominator (no answered contact, say) has no meaningful ratio.
    return numerator / denominator if denominator > 0 else math.nan


def tally_values(tally: ChannelTally) -> dict[str, float]:
    """The tally as a flat dict (``dataclasses.asdict`` deep-copies, ten times slower)."""
    return {name: getattr(tally, name) for name in TALLY_NAMES}


def cumulative_quantile(within, total, points, q: float):
    """The time by which a share ``q`` of ``total`` was counted, from cumulative counts
    ``within`` (last axis: one per time in ``points``, increasing), by linear interpolation
    between the points from 0 counted at time 0: ``inf`` where fewer than ``q`` were
    counted by the last point, NaN where ``total`` is not positive. Works on one row or on
    many at once (``within`` of shape (..., len(points)), ``total`` of shape (...))."""
    import numpy as np

    within = np.asarray(within, dtype=float)
    total = np.asarray(total, dtype=float)
    times = np.asarray(points, dtype=float)
    target = q * total
    reached = within >= target[..., None]
    j = np.argmax(reached, axis=-1)  # the first point reaching the target
    after_n = np.take_along_axis(within, j[..., None], axis=-1)[..., 0]
    before_n = np.where(
        j > 0, np.take_along_axis(within, np.maximum(j - 1, 0)[..., None], axis=-1)[..., 0], 0.0
    )
    before_t = np.where(j > 0, times[np.maximum(j - 1, 0)], 0.0)
    after_t = times[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        time = before_t + (after_t - before_t) * (target - before_n) / (after_n - before_n)
    time = np.where(reached.any(axis=-1), time, np.inf)
    return np.where(total > 0, time, np.nan)


def _quantile(kpi: Kpi, values) -> float:
    within = [values[name] for name in kpi.numerator]
    total = sum(values[name] for name in kpi.denominator)
    return float(cumulative_quantile(within, total, kpi.points, kpi.quantile))


def kpis(tally: ChannelTally) -> dict[str, float]:
    """The KPIs of one channel in one replication, in :data:`KPI_NAMES` order."""
    values = tally_values(tally)
    row: dict[str, float] = {}
    for kpi in KPIS.values():
        if kpi.quantile is not None:
            row[kpi.name] = _quantile(kpi, values)
            continue
        numerator = sum(values[n] for n in kpi.numerator)
        denominator = sum(values[d] for d in kpi.denominator)
        row[kpi.name] = _ratio(numerator, denominator) if kpi.denominator else numerator
    return row


def kpi_frame(tallies, sites) -> dict:
    """The KPIs of many rows at once: ``tallies`` a mapping of tally name to an array (one
    value per row), ``sites`` the rows' site names. Same definitions as :func:`kpis`."""
    import numpy as np

    values = {name: np.asarray(tallies[name], dtype=float) for name in TALLY_NAMES}
    one_site = np.asarray(sites) != "all"
    columns: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for kpi in KPIS.values():
            if kpi.quantile is not None:
                within = np.stack([values[n] for n in kpi.numerator], axis=-1)
                den = sum(values[d] for d in kpi.denominator)
                column = cumulative_quantile(within, den, kpi.points, kpi.quantile)
            else:
                column = sum(values[n] for n in kpi.numerator)
            if kpi.denominator and kpi.quantile is None:
                den = sum(values[d] for d in kpi.denominator)
                column = np.where(den > 0, column / np.where(den > 0, den, 1.0), np.nan)
            if not kpi.site_level and one_site.any():
                column = np.where(one_site, np.nan, column)
            columns[kpi.name] = column
    return columns


def journey_quantile(tally: ChannelTally, q: float = 0.5) -> float:
    """The time (s) by which a share ``q`` of the customers were resolved (``q = 0.5``: the
    KPI ``median_resolution_time``), linear between the cumulative journey-time counts
    (:data:`JOURNEY_BINS`, from 0 at time 0) over all customers: the censored and never
    resolved count as not resolved by any point; ``inf`` when fewer than ``q`` were resolved
    within the last, ``nan`` without customers. Over replications, pass the totals."""
    within = [getattr(tally, name) for name, _ in JOURNEY_BINS]
    points = [point for _, point in JOURNEY_BINS]
    return float(cumulative_quantile(within, tally.customers, points, q))


_ALL_FIELDS = attrgetter(*TALLY_NAMES)


def total(tallies: list[ChannelTally]) -> ChannelTally:
    """The tally of consecutive intervals: sums (levels: the last one's), column by column
    in C in interval order from 0; a sparse row (``sim.intervals``) totals itself alike."""
    if not isinstance(tallies, list) and hasattr(tallies, "total"):
        return tallies.total()
    if not tallies:
        return ChannelTally(*[0] * len(TALLY_NAMES))
    result = ChannelTally(*map(sum, zip(*map(_ALL_FIELDS, tallies), strict=True)))
    for name in LEVEL_TALLIES:
        setattr(result, name, getattr(tallies[-1], name))
    return result
