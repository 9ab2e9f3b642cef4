"""The calling windows of an outbound channel's dialer on the simulation clock: the
windows of the called parties' wall clock, day after day in their time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["calling_windows"]


def calling_windows(calendar, windows, zone: str) -> list[tuple[float, float, bool]]:
    """The calling windows as ``(open, close, first of its day)`` in simulated seconds,
    day after day in the time zone ``zone``, clipped to ``[0, horizon)``."""
    tz = ZoneInfo(zone)
    ordered = sorted(windows, key=lambda window: window.start)
    first_day = calendar.origin.astimezone(tz).date() - timedelta(days=1)
    found: list[tuple[float, float, bool]] = []

    def instant(day, text: str) -> float:
        hour, minute = text.split(":")  # validated as "HH:MM"
        local = datetime.combine(day, time(int(hour), int(minute)), tzinfo=tz)
        return (local.astimezone(UTC) - calendar.origin).total_seconds()

    day = first_day
    while instant(day, "00:00") < calendar.horizon:
        first = True
        for window in ordered:
            opens, closes = instant(day, window.start), instant(day, window.end)
            if closes > 0.0 and opens < calendar.horizon:
                found.append((max(opens, 0.0), min(closes, calendar.horizon), first))
                first = False
        day += timedelta(days=1)
    return found
