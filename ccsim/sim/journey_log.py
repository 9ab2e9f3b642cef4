"""The resolutions' log: what the counter and the survey add for each contact an agent
resolves, kept as one record and added to the tallies with numpy with the answered
contacts' logs (:mod:`ccsim.sim.answer_log`).

A resolution adds to the tally of the customer's first arrival (a resolution, its time,
first-contact resolution, the journey's bin, the journey's probability of a satisfied
customer, a poor journey) and to the contact's (the ticket's time, the survey's
probability, the site's part): on the hot path that was the largest part, after the
answer, of what the hybrid model counted per contact. The counter appends one tuple
instead (:meth:`ccsim.sim.counting.Counter.resolved`,
:meth:`~ccsim.sim.counting.Counter.resolved_first`); the survey's probabilities are worked
out for the records at once by :meth:`ccsim.sim.satisfaction.Survey.resolved`. Counts are
counted, and the times summed record by record in the records' order (``numpy.add.at``);
the resolution and ticket times and the probabilities, to which other outcomes add too,
are summed in another order than before, equal to within rounding.
"""

from __future__ import annotations

import numpy as np

from ccsim.sim.answer_log import add_bins, add_counts, add_sums, as_table
from ccsim.sim.metrics import JOURNEY_BINS
from ccsim.sim.satisfaction import POOR_CONTACTS

__all__ = [
    "BOT_RECORD",
    "FIRST_RECORD", "RESOLVED_RECORD", "SESSION_RECORD", "UNRESOLVED_RECORD", "JourneyLog",
]  # fmt: skip

#: A first contact resolved at its first answer (no customer made): its channel's index,
#: its arrival interval, and its journey's time (arrival to the end of its handling).
FIRST_RECORD = ("channel", "slot", "time")
#: A contact answered and not resolved (counted): its channel, interval and site, its
#: customer's tolls (its wait's included) and queue time lost at the entry channel, the
#: entry channel, its wait, whether its customer was made at its answer, whether escalated.
UNRESOLVED_RECORD = (
    "channel", "slot", "site", "logit", "customer_wait", "entry", "wait", "fresh", "escalated",
)  # fmt: skip
#: A bot session (counted): its channel and interval, its length and its cost.
SESSION_RECORD = ("channel", "slot", "session", "cost")
#: A journey the bot truly resolved (counted): its entry channel and first interval, its
#: time, whether on its first contact, its customer's tolls, queue time lost at the entry
#: channel, contacts and whether the bot misled it.
BOT_RECORD = (
    "entry", "first_slot", "time", "first", "logit", "customer_wait", "contacts", "misled",
)  # fmt: skip
#: A contact with a customer history resolved by an agent.
RESOLVED_RECORD = (
    "entry", "first_slot", "first_counted", "channel", "slot", "counted", "site", "ends",
    "customer_arrival", "arrival", "answered_at", "first", "logit", "customer_wait",
    "contacts", "misled",
)  # fmt: skip

_JOURNEY_POINTS = np.asarray([point for _, point in JOURNEY_BINS], dtype=float)


class JourneyLog:
    """A run's resolutions since the last flush, over every channel."""

    __slots__ = (
        "bot", "by_site", "cells", "firsts", "n", "resolved", "rows", "sessions", "site_cells",
        "survey", "unresolved",
    )  # fmt: skip

    def __init__(self, channels, sites, survey, n: int) -> None:
        self.n, self.survey = n, survey
        self.firsts: list[tuple] = []
        self.resolved: list[tuple] = []
        self.unresolved: list[tuple] = []
        self.sessions: list[tuple] = []
        self.bot: list[tuple] = []
        # Every channel's tallies (and journey bins) in one list: channel i's interval k
        # is cell i * n + k.
        self.cells = [tally for channel in channels for tally in channel.intervals]
        self.rows = [row for channel in channels for row in channel.counts.journey_bins]
        self.by_site = np.asarray([channel.by_site for channel in channels], dtype=bool)
        # Each site's part of each channel: site j's part of cell c is j * len(cells) + c.
        self.site_cells = [
            cell for site in sites for cells in site.counts.answered for cell in cells
        ]

    def size(self) -> int:
        """The records held."""
        lists = (self.firsts, self.resolved, self.unresolved, self.sessions, self.bot)
        return sum(map(len, lists))

    def flush(self) -> None:
        """Add the records to the counts."""
        if self.firsts:
            self._firsts()
        if self.resolved:
            self._resolved()
        if self.unresolved:
            self._unresolved()
        if self.sessions:
            self._sessions()
        if self.bot:
            self._bot()

    def _firsts(self) -> None:
        table = as_table(self.firsts, len(FIRST_RECORD))
        cell = table[:, 0].astype(np.intp) * self.n + table[:, 1].astype(np.intp)
        time = table[:, 2]
        cells, size = self.cells, len(self.cells)
        for name in (
            "reached_agent", "agent_first_resolutions", "resolutions", "first_contact_resolutions",
        ):  # fmt: skip
            add_counts(cells, name, cell, size)
        add_sums(cells, "resolution_time", cell, time, size)
        add_bins(self.rows, cell, _JOURNEY_POINTS, time, size)
        add_sums(cells, "ticket_time", cell, time, size)

    def _resolved(self) -> None:
        table = as_table(self.resolved, len(RESOLVED_RECORD))
        n, cells, size = self.n, self.cells, len(self.cells)
        column = dict(zip(RESOLVED_RECORD, table.T, strict=True))
        index = {name: column[name].astype(np.intp) for name in ("entry", "channel", "site")}
        first = index["entry"] * n + column["first_slot"].astype(np.intp)
        cell = index["channel"] * n + column["slot"].astype(np.intp)
        first_counted, counted = column["first_counted"] != 0.0, column["counted"] != 0.0
        ends = column["ends"]
        # The customer's journey, on its first arrival's tally.
        journey = ends - column["customer_arrival"]
        mine = first[first_counted]
        add_counts(cells, "resolutions", mine, size)
        add_sums(cells, "resolution_time", mine, journey[first_counted], size)
        add_counts(
            cells,
            "first_contact_resolutions",
            first[first_counted & (column["first"] != 0.0)],
            size,
        )
        add_bins(self.rows, mine, _JOURNEY_POINTS, journey[first_counted], size)
        add_sums(cells, "ticket_time", cell[counted], (ends - column["arrival"])[counted], size)
        # The journey's and the contact's survey.
        wait = column["answered_at"] - column["arrival"]
        probability = self.survey.resolved(
            index["site"], column["logit"], wait, index["channel"], index["entry"],
            column["customer_wait"],
        )  # fmt: skip
        add_sums(cells, "satisfied", mine, probability[first_counted], size)
        poor = (column["contacts"] >= POOR_CONTACTS) | (column["misled"] != 0.0)
        add_counts(cells, "poor_journeys", first[first_counted & poor], size)
        # A contact answered at once was counted in bulk at its site's constant, as a
        # journey too (Survey.complete): taken back.
        once = np.where(wait <= 0.0, self.survey.at_once_of(index["site"]), 0.0)
        at_once = counted & (wait <= 0.0)
        add_sums(cells, "satisfied", cell[at_once], -once[at_once], size)
        survey = probability - once
        add_sums(cells, "contact_satisfied", cell[counted], survey[counted], size)
        here = counted & self.by_site[index["channel"]]
        add_sums(
            self.site_cells, "contact_satisfied", index["site"][here] * size + cell[here],
            survey[here], len(self.site_cells),
        )  # fmt: skip

    def _unresolved(self) -> None:
        table = as_table(self.unresolved, len(UNRESOLVED_RECORD))
        n, cells, size = self.n, self.cells, len(self.cells)
        column = dict(zip(UNRESOLVED_RECORD, table.T, strict=True))
        index = {name: column[name].astype(np.intp) for name in ("channel", "entry", "site")}
        cell = index["channel"] * n + column["slot"].astype(np.intp)
        escalated = column["escalated"] != 0.0
        add_counts(cells, "escalated", cell[escalated], size)
        add_counts(cells, "unresolved", cell[~escalated], size)
        probability, counted = self.survey.not_resolved(
            index["site"], column["logit"], column["customer_wait"], index["entry"],
            index["channel"], column["wait"], column["fresh"] != 0.0, escalated,
        )  # fmt: skip
        add_sums(cells, "satisfied", cell, -counted, size)
        survey = probability - counted
        add_sums(cells, "contact_satisfied", cell, survey, size)
        here = self.by_site[index["channel"]]
        if here.any():
            site_cell = index["site"] * size + cell
            add_counts(
                self.site_cells, "escalated", site_cell[here & escalated], len(self.site_cells)
            )
            add_counts(
                self.site_cells, "unresolved", site_cell[here & ~escalated], len(self.site_cells)
            )
            add_sums(
                self.site_cells,
                "contact_satisfied",
                site_cell[here],
                survey[here],
                len(self.site_cells),
            )

    def _sessions(self) -> None:
        table = as_table(self.sessions, len(SESSION_RECORD))
        cells, size = self.cells, len(self.cells)
        cell = table[:, 0].astype(np.intp) * self.n + table[:, 1].astype(np.intp)
        add_counts(cells, "bot_sessions", cell, size)
        add_sums(cells, "bot_time", cell, table[:, 2], size)
        add_sums(cells, "bot_cost", cell, table[:, 3], size)

    def _bot(self) -> None:
        table = as_table(self.bot, len(BOT_RECORD))
        cells, size = self.cells, len(self.cells)
        column = dict(zip(BOT_RECORD, table.T, strict=True))
        entry = column["entry"].astype(np.intp)
        first = entry * self.n + column["first_slot"].astype(np.intp)
        time = column["time"]
        add_counts(cells, "resolutions", first, size)
        add_sums(cells, "resolution_time", first, time, size)
        add_counts(cells, "first_contact_resolutions", first[column["first"] != 0.0], size)
        add_counts(cells, "bot_resolutions", first, size)
        add_bins(self.rows, first, _JOURNEY_POINTS, time, size)
        probability = self.survey.bot_resolved(column["logit"], column["customer_wait"], entry)
        add_sums(cells, "satisfied", first, probability, size)
        poor = (column["contacts"] >= POOR_CONTACTS) | (column["misled"] != 0.0)
        add_counts(cells, "poor_journeys", first[poor], size)
