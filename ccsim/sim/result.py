"""What one replication produced, and its tables.

The engine hands over tallies per (channel, site) and reporting interval. Site ``"all"``
is a channel as a whole; channel ``"all"`` (present when there are several channels) is
every channel together; a named site (present when there are several sites) is the part
of a channel that site answered, or with channel ``"all"`` the site itself. Every table
here is made from those tallies with the KPI definitions of :mod:`ccsim.sim.metrics`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
import pandas as pd

from ccsim.model.calendar import Calendar
from ccsim.sim.metrics import (
    KPI_NAMES,
    SITE_KPIS,
    TALLY_NAMES,
    ChannelTally,
    kpi_frame,
    kpis,
    tally_values,
    total,
)
from ccsim.sim.type_counts import type_kpis

__all__ = ["CONTACT_COLUMNS", "SimulationResult", "row_kpis"]

#: Key columns of interval tables.
INTERVAL_COLUMNS = ("channel", "site", "interval", "interval_start", "local_start")

#: Columns of ``SimulationResult.contacts`` (only filled when asked for).
CONTACT_COLUMNS = ("channel", "arrival", "wait", "outcome", "handle_time", "counted", "site")


@functools.lru_cache(maxsize=64)
def _interval_keys(calendar: Calendar, warmup: float) -> tuple[list, list, list]:
    """The intervals inside the window, their starts and their local starts as text: the
    same for every replication of a scenario (the calendar is shared, never changed)."""
    kept = [k for k, slot in enumerate(calendar.slots) if slot.end > warmup]
    starts = [calendar.slots[k].start for k in kept]
    return kept, starts, [calendar.slots[k].local_start.isoformat() for k in kept]


@functools.lru_cache(maxsize=8)
def _columns(names: tuple[str, ...]) -> pd.Index:
    # An Index is immutable: one per set of names, rather than 170 names converted to
    # pandas' strings for every replication's table.
    return pd.Index(names)


def row_kpis(site: str, tally: ChannelTally) -> dict[str, float]:
    """The KPIs of one row; for the part one site answered, only :data:`SITE_KPIS`."""
    values = kpis(tally)
    if site != "all":
        values = {k: (v if k in SITE_KPIS else math.nan) for k, v in values.items()}
    return values


@dataclass(frozen=True)
class SimulationResult:
    """What one replication produced: tallies per (channel, site), in total and per
    interval, and contacts if asked for."""

    scenario: str
    seed: np.random.SeedSequence = field(repr=False)
    warmup: float
    calendar: Calendar = field(repr=False)
    interval_tallies: dict[tuple[str, str], list[ChannelTally]] = field(repr=False)
    contacts: pd.DataFrame | None = field(default=None, repr=False)
    #: Totals per (channel, request type) in a scenario with request types, else empty.
    request_type_counts: dict[tuple[str, str], dict[str, float]] = field(
        default_factory=dict, repr=False
    )

    @property
    def totals(self) -> dict[tuple[str, str], ChannelTally]:
        """Totals over the observation window per (channel, site)."""
        return {key: total(tallies) for key, tallies in self.interval_tallies.items()}

    @property
    def tallies(self) -> dict[str, ChannelTally]:
        """Totals per channel (site ``"all"``) over the observation window."""
        # Only the channels' rows totalled: the sites' parts are most rows with several sites.
        tallies = self.interval_tallies.items()
        return {channel: total(own) for (channel, site), own in tallies if site == "all"}

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per channel (index ``channel``), one column per KPI."""
        tallies = self.tallies
        rows = [tuple(kpis(tally).values()) for tally in tallies.values()]
        index = pd.Index(list(tallies), name="channel")
        if not rows:
            return pd.DataFrame.from_records(rows, columns=list(KPI_NAMES), index=index)
        # A numpy array per KPI (int64 for a count, float64 otherwise, the dtypes pandas
        # infers): a dict of dicts cost pandas a Python pass per column, as much as a short
        # replication's event loop.
        columns = {
            name: np.array(values)
            for name, values in zip(KPI_NAMES, zip(*rows, strict=True), strict=True)
        }
        return pd.DataFrame(columns, index=index)

    @property
    def site_kpis(self) -> pd.DataFrame:
        """One row per (channel, site) a named site served; empty with a single site."""
        rows = [
            {"channel": c, "site": s, **row_kpis(s, tally)}
            for (c, s), tally in self.totals.items()
            if s != "all"
        ]
        return pd.DataFrame(rows, columns=["channel", "site", *KPI_NAMES]).set_index(
            ["channel", "site"]
        )

    def rows(self) -> list[dict]:
        """One record per (channel, site): KPIs and the tallies behind them."""
        return [
            {"channel": c, "site": s, **row_kpis(s, tally), **tally_values(tally)}
            for (c, s), tally in self.totals.items()
        ]

    def request_type_rows(self) -> list[dict]:
        """One record per (channel, request type): the counts and their shares (none
        without request types)."""
        return [
            {"channel": c, "request_type": t, **counts, **type_kpis(counts)}
            for (c, t), counts in self.request_type_counts.items()
        ]

    def interval_table(self) -> pd.DataFrame:
        """One row per (channel, site) and interval inside the window: keys, KPIs and
        tallies, built column-wise."""
        kept, starts, local = _interval_keys(self.calendar, self.warmup)
        get = attrgetter(*TALLY_NAMES)
        keys: dict[str, list] = {name: [] for name in INTERVAL_COLUMNS}
        values = []
        for (c, s), tallies in self.interval_tallies.items():
            keys["channel"].extend([c] * len(kept))
            keys["site"].extend([s] * len(kept))
            keys["interval"].extend(kept)
            keys["interval_start"].extend(starts)
            keys["local_start"].extend(local)
            if hasattr(tallies, "table"):  # a sparse row: its tallies are not made for this
                values.append(tallies.table(get)[kept])
            else:
                block = np.array([get(tallies[k]) for k in kept], dtype=float)
                values.append(block.reshape(len(kept), len(TALLY_NAMES)))
        empty = np.empty((0, len(TALLY_NAMES)))
        array = np.concatenate(values) if values else empty
        tallies = {name: array[:, i] for i, name in enumerate(TALLY_NAMES)}
        frame = pd.DataFrame(keys)
        # As in interval_rows: KPIs, then the tallies (a count KPI is its tally).
        columns = {**kpi_frame(tallies, keys["site"]), **tallies}
        # Every KPI and tally column is of floats: one block made at once, as pandas
        # would consolidate them, instead of a column at a time (170 columns of a few
        # hundred rows: pandas' checks per column cost more than the numbers).
        numbers = np.empty((len(array), len(columns)))
        for i, column in enumerate(columns.values()):
            numbers[:, i] = column
        return pd.concat([frame, pd.DataFrame(numbers, columns=_columns(tuple(columns)))], axis=1)

    def interval_rows(self) -> list[dict]:
        """One record per (channel, site) and interval inside the window: KPIs and tallies.

        ``interval_start`` is in simulated seconds, ``local_start`` the customers' wall-clock
        time (ISO 8601 with its UTC offset, so the repeated hour of autumn stays distinct).
        """
        return self.interval_table().to_dict("records")

    @property
    def interval_kpis(self) -> pd.DataFrame:
        """One row per (channel, site) and reporting interval (contacts by arrival interval,
        agent times by overlap)."""
        return self.interval_table().loc[:, [*INTERVAL_COLUMNS, *KPI_NAMES]]
