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
    """The counts of one replication per (channel, request type).

    ``table`` holds every count of every channel (the :class:`~ccsim.sim.state.ChannelState`
    itself) and type, ``(channel, request, name)``, from zero: made once at the start (a
    few dozen keys), so that adding is one subscript with no test of a first time, and a
    feature that counts on every contact adds to ``table`` inline, without a call. A pair
    is reported once something was counted under it: every count adds one but the handle
    time, which is added with ``answered``.
    """

    def __init__(self, channels, requests) -> None:
        self.table: dict[tuple, float] = {
            (channel, request, name): 0.0
            for channel in channels
            for request in requests
            for name in TYPE_COUNTS
        }

    def add(self, channel, request: str, name: str, value: float = 1.0) -> None:
        self.table[channel, request, name] += value

    def totals(self) -> dict[tuple[str, str], dict[str, float]]:
        """Per (channel, request type) with something counted, sorted: each count by name."""
        table = self.table
        totals = {}
        for channel, request in {(channel, request) for channel, request, _ in table}:
            counts = {name: table[channel, request, name] for name in TYPE_COUNTS}
            if any(counts.values()):
                totals[channel.name, request] = counts
        return dict(sorted(totals.items()))


def type_kpis(counts: dict[str, float]) -> dict[str, float]:
    """One channel and type's shares (NaN where nothing was counted under them)."""
    return {
        name: counts[top] / counts[bottom] if counts[bottom] > 0 else math.nan
        for name, top, bottom in TYPE_KPIS
    }
