"""Warnings about a contact log that reads but looks wrong: rows repeated by a double export,
handle times or waits in milliseconds. Each says what the fit assumed; none stops it (the
data may be right), and each is printed and written at the head of the fitted file.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["LONGEST_MEAN", "REPEATED_SHARE", "implausible"]

#: A mean handle time or wait above this (a day, in seconds) is no contact's: milliseconds?
LONGEST_MEAN = 86400.0

#: Rows repeating another exactly, beyond this share of the log, look like a double export
#: (a few can be chance: two calls in one second with the same wait and outcome).
REPEATED_SHARE = 0.01

_ROW = ("replication", "channel", "arrival", "wait", "outcome", "handle_time", "site")


def implausible(frame: pd.DataFrame) -> list[str]:
    """What looks wrong in checked records (:attr:`ccsim.fit.Records.frame`), one sentence
    each, with what the fit assumed."""
    notes = []
    repeated = int(frame.duplicated(subset=[c for c in _ROW if c in frame.columns]).sum())
    if repeated > REPEATED_SHARE * len(frame):
        notes.append(
            f"{repeated:,} rows ({repeated / len(frame):.0%}) repeat another row exactly "
            "(arrival, wait, outcome, handle time, site): counted as separate contacts, so "
            "the volumes include them; remove them if the export repeated rows"
        )
    answered = frame["outcome"] == "answered"
    for column, rows, what in (
        ("handle_time", answered, "handle times of answered contacts"),
        ("wait", slice(None), "waits"),
    ):
        values = frame.loc[rows, column].dropna()
        mean = float(values.mean()) if len(values) else 0.0
        if mean > LONGEST_MEAN:
            notes.append(
                f"{what} average {mean:,.0f}s ({mean / 86400:,.1f} days): read as seconds; "
                f"if they are milliseconds, divide the column by 1000"
            )
    return notes
