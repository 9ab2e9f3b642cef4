"""Counts per channel and request type, for the channels that declare ``request_types``.

They are totals over the observation window (contacts counted on their own channel's
tally: none before the warm-up, as the channel tallies), kept apart from the interval
tallies so that a scenario without types counts nothing more. What each count means is in
``docs/metrics.md`` (Request types); :func:`type_kpis` turns one channel and type's totals
into its shares and its mean handle time.
"""

from __future__ import annotations

import math

__all__ = ["TYPE_COUNTS", "TYPE_KPIS", "TypeCounts", "type_kpis"]

#: What is counted per channel and request type.
TYPE_COUNTS = (
    "offered",  # contacts of the type reaching the channel (new, transfers in, returns)
    "bot_sessions",
    "contained",  # truly contained by the bot
    "falsely_contained",
    "answered",
    "handle_time",  # seconds, summed over those answered
    "resolved",  # resolved by the agent who answered
    "first_contact_resolutions",  # resolved at the customer's first handled contact
    "escalated",
    "unresolved",
)
_INDEX = {name: k for k, name in enumerate(TYPE_COUNTS)}

#: The shares and means made from them: (name, numerator, denominator).
TYPE_KPIS = (
    ("containment_rate", "contained", "bot_sessions"),
    ("false_containment_rate", "falsely_contained", "bot_sessions"),
    ("resolution_rate", "resolved", "answered"),
    ("escalation_rate", "escalated", "answered"),
    ("unresolved_rate", "unresolved", "answered"),
    ("aht", "handle_time", "answered"),
)


class TypeCounts:
    """The counts of one replication per (channel, request type)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[float]] = {}

    def add(self, channel, request: str, name: str, value: float = 1.0) -> None:
        key = (channel.name, request)
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = [0.0] * len(TYPE_COUNTS)
        counts[_INDEX[name]] += value

    def totals(self) -> dict[tuple[str, str], dict[str, float]]:
        """Per (channel, request type), sorted: each count by name."""
        return {
            key: dict(zip(TYPE_COUNTS, self.counts[key], strict=True))
            for key in sorted(self.counts)
        }


def type_kpis(counts: dict[str, float]) -> dict[str, float]:
    """One channel and type's shares (NaN where nothing was counted under them)."""
    return {
        name: counts[top] / counts[bottom] if counts[bottom] > 0 else math.nan
        for name, top, bottom in TYPE_KPIS
    }
