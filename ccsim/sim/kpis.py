"""The KPI table: every figure ccsim reports, defined once.

Each :class:`Kpi` says how the figure is computed from the tallies (its numerator and, for a
ratio, its denominator), how it reads (its kind and label), which way is better for the
operation, and whether it exists for the part of a channel one site answered. Everything
else reads this table: the per-replication KPIs (:mod:`ccsim.sim.metrics`), the summaries
and paired comparisons over replications (:mod:`ccsim.experiment.summary`), and the
formatting of the terminal and the report (:mod:`ccsim.report.formatting`).
``docs/metrics.md`` defines each KPI in words; ``tests/test_kpis.py`` keeps the two in step.

The order of :data:`KPIS` is the order of the KPI columns in every output table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "JOURNEY_BINS",
    "KINDS",
    "KPIS",
    "MEAN",
    "PER_CHANNEL",
    "QUANTILE",
    "RATIO",
    "SITE_SUMMARY",
    "Kpi",
]

#: How a KPI reads: a share of 1 (shown as %), a duration in seconds, an amount of money in
#: the study's currency, a count (mean per replication), or a time-average level (agents,
#: contacts in queue).
KINDS = ("share", "duration", "money", "count", "level")

#: How a KPI goes over replications (also the ``method`` column of ``summary.csv``).
MEAN = "mean"  # the mean of the per-replication values, Student-t interval
RATIO = "ratio of totals"  # sum of numerators / sum of denominators, delta-method interval
QUANTILE = "quantile of totals"  # read off pooled cumulative counts, Woodruff interval

#: The journey-time grid: ``(tally, seconds)`` of each cumulative ``journeys_within_<N>``
#: count, shortest first. With first-contact resolution around 70% and bot containment,
#: most customers are resolved within the first hour, many within minutes, at their first
#: contact: the fine early points (a minute apart up to 5) put the median where it lies,
#: not on a straight line across a bin (a 142 s median read 199 s with 5 min the first).
JOURNEY_BINS: tuple[tuple[str, float], ...] = tuple(
    (f"journeys_within_{label}", seconds)
    for label, seconds in (
        *((f"{m}min", m * 60.0) for m in (1, 2, 3, 4, 5, 10, 15, 20, 30, 45)),
        *((f"{h}h", h * 3600.0) for h in (1, 2, 4, 8, 24, 48, 72, 168)),
    )
)


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI: ``sum(numerator) / sum(denominator)`` of tally totals, or, without a
    denominator, ``sum(numerator)`` itself (a count or an amount); or, with ``quantile``,
    the time by which that share of the denominator was counted in the numerator's
    cumulative counts, one per time in ``points`` (seconds), by linear interpolation
    (:func:`ccsim.sim.metrics.cumulative_quantile`)."""

    name: str
    label: str  # in planners' words, for the report
    kind: Literal["share", "duration", "money", "count", "level"]
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()
    better: Literal["higher", "lower"] | None = None  # for the operation; None: neither
    site_level: bool = False  # also defined for the part of a channel one site answered
    quantile: float | None = None  # a quantile of cumulative counts (numerator) at `points`
    points: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.kind == "share" and not self.denominator:
            raise ValueError(f"{self.name}: a share needs a denominator")
        if self.quantile is not None and not (
            0 < self.quantile < 1
            and self.denominator
            and len(self.points) == len(self.numerator)
            and all(a < b for a, b in zip(self.points, self.points[1:], strict=False))
        ):
            raise ValueError(f"{self.name}: a quantile needs one increasing point per count")

    @property
    def aggregate(self) -> str:
        """Over replications: a ratio KPI is the ratio of the totals (never the mean of
        per-replication ratios, which weights a quiet day like a busy one); a count or an
        amount is the mean per replication; a quantile is read off the totals of its
        cumulative counts (never the mean of per-replication quantiles)."""
        if self.quantile is not None:
            return QUANTILE
        return RATIO if self.denominator else MEAN

    @property
    def direction(self) -> int:
        """+1 where more is better for the operation, -1 where less is, 0 where neither."""
        return {"higher": 1, "lower": -1, None: 0}[self.better]


def _count(name, label, kind="count", better=None, site_level=False, parts=None) -> Kpi:
    return Kpi(name, label, kind, parts or (name,), (), better, site_level)


def _ratio(name, label, kind, numerator, denominator, better=None, site_level=False) -> Kpi:
    return Kpi(name, label, kind, numerator, denominator, better, site_level)


# Abandonment, service level and queue length exist only for a channel as a whole: a
# contact that abandons or is carried over never reached a site, so it has no site's row.
_QUEUED = ("answered", "abandoned")
# The service level counts against itself every contact that queued and was not answered:
# abandoned, carried over, left a message or disconnected at close.
_NOT_ANSWERED = ("abandoned", "carried_over", "messages", "disconnected")

# fmt: off
KPIS: dict[str, Kpi] = {kpi.name: kpi for kpi in (
    _count("offered", "Offered contacts"),
    _count("answered", "Answered contacts", site_level=True),
    _count("abandoned", "Abandoned contacts", better="lower"),
    _count("blocked", "Blocked calls", better="lower"),
    _count("contained", "Contained by the bot"),
    _count("callbacks", "Call backs promised"),
    _count("balked", "Balked contacts", better="lower"),
    _count("messages", "Messages left", better="lower"),
    _count("disconnected", "Disconnected at close", better="lower"),
    _count("carried_over", "Carried over", better="lower"),
    _count("retrials", "Retrials", better="lower"),
    _count("repeat_contacts", "Repeat contacts", better="lower"),
    _count("backlog", "Backlog", better="lower"),
    _count("labour_cost", "Labour cost", "money", "lower", site_level=True),
    _count("bot_cost", "Bot cost", "money", "lower"),
    _count("ai_fixed_cost", "AI platform and operations cost", "money", "lower"),
    _count("contract_cost", "Contract bill", "money", "lower", site_level=True),
    _count("service_credits", "Service credits", "money", site_level=True),
    _count("vendor_pay", "Vendor's pay (in no cost)", "money", site_level=True),
    _count("operating_cost", "Operating cost", "money", "lower", site_level=True,
           parts=("labour_cost", "bot_cost", "ai_fixed_cost")),
    _ratio("p_wait", "Contacts that waited", "share", ("waited",), _QUEUED, "lower"),
    _ratio("mean_wait", "Mean wait", "duration", ("wait_answered", "wait_abandoned"), _QUEUED,
           "lower"),
    _ratio("asa", "Average speed of answer", "duration", ("wait_answered",), ("answered",),
           "lower", site_level=True),
    _ratio("abandon_rate", "Abandonment", "share", ("abandoned",), _QUEUED, "lower"),
    _ratio("balk_rate", "Balking", "share", ("balked",), ("offered",), "lower"),
    _ratio("service_level", "Service level", "share", ("answered_within_threshold",),
           ("answered", *_NOT_ANSWERED), "higher"),
    _ratio("service_level_total_wait", "Service level over all attempts", "share",
           ("customers_within_threshold",), ("customers",), "higher"),
    _ratio("within_target", "Answered within target", "share",
           ("answered_within_threshold",),
           ("answered", "abandoned", "carried_over_after_threshold", "messages",
            "disconnected"), "higher"),
    _ratio("service_level_answered", "Service level of answered", "share",
           ("answered_within_threshold",), ("answered",), "higher", site_level=True),
    _ratio("service_level_excl_short_abandons", "Service level without short abandons",
           "share", ("answered_within_threshold",), ("answered", "abandoned_after_threshold"),
           "higher"),
    _ratio("occupancy", "Occupancy", "share", ("busy_time",), ("staffed_time",),
           site_level=True),
    _ratio("aht", "Average handle time", "duration", ("handle_time",), ("answered",), "lower",
           site_level=True),
    _ratio("mean_queue_length", "Contacts in queue (time average)", "level", ("queue_time",),
           ("observed_time",), "lower"),
    _ratio("scheduled_agents", "Agents scheduled (time average)", "level", ("scheduled_time",),
           ("observed_time",), site_level=True),
    _ratio("available_agents", "Agents at work (time average)", "level", ("staffed_time",),
           ("observed_time",), site_level=True),
    _ratio("busy_agents", "Agents busy (time average)", "level", ("busy_time",),
           ("observed_time",), site_level=True),
    _ratio("cost_per_handled_contact", "Cost per handled contact", "money", ("labour_cost",),
           ("answered",), "lower", site_level=True),
    _ratio("containment_rate", "Bot containment", "share", ("contained",), ("bot_sessions",),
           "higher"),
    _ratio("bot_resolution_share", "Customers resolved by the bot", "share",
           ("bot_resolutions",), ("customers",), "higher"),
    _ratio("fcr", "First-contact resolution (bot included)", "share",
           ("first_contact_resolutions",), ("customers",), "higher"),
    _ratio("agent_fcr", "Agent first-contact resolution", "share",
           ("agent_first_resolutions",), ("reached_agent",), "higher"),
    _ratio("resolution_rate", "Resolution", "share", ("resolutions",), ("customers",),
           "higher"),
    _ratio("escalation_rate", "Escalation", "share", ("escalated",), ("answered",), "lower"),
    _ratio("ticket_resolution_time", "Ticket resolution time", "duration", ("ticket_time",),
           ("resolved",), "lower"),
    # What a dashboard shows as resolution time: every request closed counts as resolved
    # at its close, a bot's contained session (truly or falsely) and an agent's service
    # alike: the sum of waits and handle times of answered contacts is their arrival-to-end.
    _ratio("request_resolution_time", "Resolution time per request (dashboard)", "duration",
           ("wait_answered", "handle_time", "contained_time"), ("answered", "contained"),
           "lower"),
    Kpi("median_resolution_time", "Journey resolution time (median, all customers)",
        "duration", tuple(name for name, _ in JOURNEY_BINS), ("customers",), "lower",
        quantile=0.5, points=tuple(seconds for _, seconds in JOURNEY_BINS)),
    _ratio("mean_resolution_time", "Journey resolution time (mean, resolved)", "duration",
           ("resolution_time",), ("resolutions",), "lower"),
    _ratio("resolved_within_24h", "Customers resolved within 24 h", "share",
           ("journeys_within_24h",), ("customers",), "higher"),
    _ratio("resolved_within_72h", "Customers resolved within 72 h", "share",
           ("journeys_within_72h",), ("customers",), "higher"),
    _ratio("censored_share", "Journeys still open at the cut-off", "share", ("censored",),
           ("customers",)),
    _ratio("cost_per_resolved_contact", "Cost per resolved contact", "money",
           ("labour_cost", "bot_cost", "ai_fixed_cost"), ("resolutions",), "lower"),
    # Customer outcome (ccsim.sim.satisfaction): expected shares, no draw behind them.
    _ratio("csat", "Customers satisfied (CSAT, journeys)", "share", ("satisfied",),
           ("customers",), "higher"),
    _ratio("contact_csat", "Contacts satisfied (post-contact survey)", "share",
           ("contact_satisfied",), ("answered",), "higher", site_level=True),
    _ratio("poor_journey_share", "Customers with a poor journey", "share", ("poor_journeys",),
           ("customers",), "lower"),
    _count("customers_lost", "Customers expected to leave", "count", "lower"),
    _count("revenue_at_risk", "Revenue at risk", "money", "lower"),
    _ratio("occupancy_inbound", "Occupancy on inbound", "share", ("inbound_busy_time",),
           ("staffed_time",), site_level=True),
    _ratio("occupancy_outbound", "Occupancy on outbound", "share", ("outbound_busy_time",),
           ("staffed_time",), site_level=True),
    _ratio("idle_share", "Idle", "share", ("idle_time",), ("staffed_time",), site_level=True),
    # Outbound: a dialled channel's call list and its live answers.
    _count("records", "Records on the call list"),
    _count("right_party_contacts", "Right-party contacts", better="higher"),
    _count("dropped", "Abandoned outbound calls", better="lower"),
    _ratio("list_penetration", "List penetration", "share", ("records_reached",), ("records",),
           "higher"),
    _ratio("attempts_per_record", "Attempts per record", "level", ("dials",), ("records",)),
    _ratio("outbound_abandon_rate", "Outbound abandonment", "share", ("dropped",),
           ("live_answers",), "lower"),
    _ratio("rpc_per_agent_hour", "Right-party contacts per agent hour", "level",
           ("right_party_contacts",), ("staffed_hours",), "higher"),
    _ratio("cost_per_right_party_contact", "Cost per right-party contact", "money",
           ("labour_cost",), ("right_party_contacts",), "lower"),
)}
# fmt: on

#: What sums up a site, on the terminal after the channels and in the report's site table.
SITE_SUMMARY = (
    "answered",
    "available_agents",
    "occupancy",
    "labour_cost",
    "cost_per_handled_contact",
    "contact_csat",
)

#: KPIs of waiting, each against its channel's own threshold and in its own time scale
#: (seconds for a call, hours for an email): a reader sees them per channel only. The row
#: of all channels together blends them (an email's hours swamp a call's seconds in the
#: ASA), so the terminal, the report and the run's page leave them out of that row; the
#: output tables keep them.
PER_CHANNEL = frozenset(
    {
        "p_wait",
        "mean_wait",
        "asa",
        "service_level",
        "service_level_total_wait",
        "within_target",
        "service_level_answered",
        "service_level_excl_short_abandons",
    }
)
