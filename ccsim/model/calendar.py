"""The calendar: simulated seconds on one side, the customers' wall clock on the other.

Simulation time is seconds since the scenario's ``start``, an instant given as a wall-clock
time in the customers' time zone. Reporting intervals follow that wall clock (09:00-09:30
New York time), so on the days daylight saving starts or ends a day has 23 or 25 hours of
intervals, and the intervals are found by their instants, not by dividing by 1800.
Time zones come from the IANA database through :mod:`zoneinfo`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Calendar", "IntervalSlot"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class IntervalSlot:
    """One reporting interval: where it is in simulated time and on the wall clock."""

    index: int
    start: float  # simulated seconds
    end: float
    local_start: datetime  # aware, in the customers' time zone
    day: int  # local calendar day since the start date (0, 1, ...)
    weekday: int  # 0 = Monday
    slot: int  # position within its local day: local minutes since midnight // interval


class Calendar:
    """Reporting intervals over ``[0, horizon)`` in the time zone ``timezone``."""

    def __init__(self, start: datetime, timezone: str, horizon: float, interval: float) -> None:
        self.zone = ZoneInfo(timezone)
        self.start = start.replace(tzinfo=self.zone) if start.tzinfo is None else start
        self.origin = self.start.astimezone(UTC)
        self.horizon, self.interval = horizon, interval
        # Tuples: one calendar is shared by every run of a scenario (Scenario.calendar).
        self.slots = tuple(self._slots())
        self.edges = tuple(slot.start for slot in self.slots)
        # Uniform intervals (no daylight-saving change inside the horizon) are found by a
        # division; otherwise by bisecting the edges.
        self.uniform = all(abs(s.start - i * interval) < 1e-6 for i, s in enumerate(self.slots))

    def _instant(self, local: datetime) -> float:
        return (local.astimezone(UTC) - self.origin).total_seconds()

    def _slots(self) -> list[IntervalSlot]:
        """Walk the local wall clock interval by interval; a time that does not exist (the
        hour skipped in spring) is left out, one that happens twice (autumn) appears twice."""
        step = timedelta(seconds=self.interval)
        first_day = self.start.date()
        instants: list[tuple[float, datetime]] = []
        day = 0
        while True:
            midnight = datetime.combine(first_day + timedelta(days=day), datetime.min.time())
            if self._instant(midnight.replace(tzinfo=self.zone)) >= self.horizon:
                break
            local = midnight
            while local.date() == midnight.date():
                for fold in (0, 1):
                    aware = local.replace(tzinfo=self.zone, fold=fold)
                    round_trip = aware.astimezone(UTC).astimezone(self.zone)
                    if round_trip.replace(tzinfo=None) == local:  # exists on this wall clock
                        instants.append((self._instant(aware), round_trip))
                local += step
            day += 1
        instants = sorted(set(instants), key=lambda item: item[0])
        slots = []
        kept = [(t, local) for t, local in instants if 0 <= t < self.horizon]
        for index, (t, local) in enumerate(kept):
            end = kept[index + 1][0] if index + 1 < len(kept) else self.horizon
            minutes = local.hour * 60 + local.minute
            slots.append(
                IntervalSlot(
                    index=index,
                    start=t,
                    end=min(end, self.horizon),
                    local_start=local,
                    day=(local.date() - first_day).days,
                    weekday=local.weekday(),
                    slot=int(minutes * 60 // self.interval),
                )
            )
        return slots

    @property
    def slots_per_day(self) -> int:
        return int(round(86400 / self.interval))

    def index(self, t: float) -> int:
        """The reporting interval containing simulated time ``t`` (0 <= t < horizon)."""
        if self.uniform:
            return int(t / self.interval)
        return bisect.bisect_right(self.edges, t) - 1
