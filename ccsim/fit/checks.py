"""A contact log that reads but looks wrong. Where no reading of it can be right it is
refused, naming a row (a stray row weeks away from the rest, handle times in
milliseconds); where it is usable the fit says what it assumed (rows repeated by a double
export are dropped; waits averaging over a day are read as seconds all the same). Each
assumption is printed and written at the head of the fitted file.
"""

from __future__ import annotations

import pandas as pd

from ccsim.fit.cells import fail

__all__ = [
    "LONGEST_GAP",
    "LONGEST_MEAN",
    "LONGEST_MEDIAN_HANDLE",
    "REPEATED_SHARE",
    "STRAY_SHARE",
    "implausible",
    "refuse_gap",
    "screen",
]

#: A mean wait above this (a day, in seconds) is no contact's: milliseconds?
LONGEST_MEAN = 86400.0

#: A median handle time above this (4 hours) is no contact's: a log in milliseconds has
#: medians of 100,000 s and more (a 100 s call), a long real call is an hour.
LONGEST_MEDIAN_HANDLE = 4 * 3600.0

#: Rows repeating another exactly, beyond this share of the log, look like a double export
#: (a few can be chance: two calls in one second with the same wait and outcome).
REPEATED_SHARE = 0.01

#: Days without any contact, in a row, beyond which the log is two logs (or a stray row):
#: the fit would count every day between as a closed day (a centre's holiday closure is
#: shorter).
LONGEST_GAP = 28

#: The part of a log beyond a gap that is named as stray rows rather than a second period.
STRAY_SHARE = 0.01

_ROW = (
    "replication",
    "channel",
    "arrival",
    "wait",
    "outcome",
    "handle_time",
    "site",
    "request_type",
)


def screen(
    frame: pd.DataFrame, source: str, columns: dict[str, str], assumed: list[str]
) -> pd.DataFrame:
    """Checked records (sorted by arrival) refused where implausible, with a double
    export's repeated rows dropped; ``columns``: the file's names of ``arrival`` and
    ``handle_time``; what is assumed is added to ``assumed``."""
    refuse_gap(frame, source, columns["arrival"])
    _refuse_milliseconds(frame, source, columns["handle_time"])
    repeated = frame.duplicated(subset=[c for c in _ROW if c in frame.columns])
    n = int(repeated.sum())
    if n > REPEATED_SHARE * len(frame):
        first = int(frame.loc[repeated, "line"].iloc[0])
        assumed.append(
            f"{n:,} rows ({n / len(frame):.0%}) repeat another row exactly, field for field "
            f"(the first at line {first}): assumed a repeated export and dropped, "
            f"{len(frame) - n:,} contacts kept"
        )
        frame = frame[~repeated].reset_index(drop=True)
    return frame


def refuse_gap(
    frame: pd.DataFrame,
    source: str,
    column: str,
    rows: str = "contacts",
    consequence: str = "the fit would count them as closed days; fit the periods on either "
    "side apart",
) -> None:
    """A log's days with ``rows`` (``arrival`` and ``line`` columns: contacts, or a
    history's intervals) broken by more than :data:`LONGEST_GAP` days without any."""
    days = frame["arrival"].dt.tz_localize(None).dt.normalize()
    dates = pd.Series(days.unique()).sort_values(ignore_index=True)
    if len(dates) < 2:
        return
    gaps = dates.diff().dt.days.to_numpy()[1:] - 1
    at = int(gaps.argmax())
    if gaps[at] <= LONGEST_GAP:
        return
    before, after = dates.iloc[at], dates.iloc[at + 1]
    early = days <= before
    side = early if early.sum() <= (~early).sum() else ~early
    row = frame[side].iloc[0]
    if side.sum() <= max(1, STRAY_SHARE * len(frame)):
        rest = frame.loc[~side, "arrival"]
        raise fail(
            source,
            int(row["line"]),
            column,
            f"{row['arrival']:%Y-%m-%d %H:%M} is {int(gaps[at]) + 1:,} days away from the "
            f"other {rows} ({rest.min():%Y-%m-%d} to {rest.max():%Y-%m-%d}): a stray row? "
            f"correct or remove it ({int(side.sum())} row(s) there)",
        )
    raise fail(
        source,
        int(row["line"]),
        column,
        f"no {rows} for {int(gaps[at]):,} days ({before:%Y-%m-%d} to {after:%Y-%m-%d}): "
        + consequence,
    )


def _refuse_milliseconds(frame: pd.DataFrame, source: str, column: str) -> None:
    answered = frame[(frame["outcome"] == "answered") & (frame["handle_time"] > 0)]
    if answered.empty:
        return
    median = float(answered["handle_time"].median())
    if median > LONGEST_MEDIAN_HANDLE:
        row = answered.iloc[0]
        raise fail(
            source,
            int(row["line"]),
            column,
            f"the median handle time of answered contacts is {median:,.0f}s "
            f"({median / 3600:,.1f} hours; this row {row['handle_time']:,.6g}): no contact's; "
            "milliseconds? give seconds (the column divided by 1000)",
        )


def implausible(frame: pd.DataFrame) -> list[str]:
    """What looks wrong in checked records (:attr:`ccsim.fit.Records.frame`) but is
    fitted as read, one sentence each, with what the fit assumed."""
    notes = []
    answered = frame["outcome"] == "answered"
    for column, rows, what in (
        ("handle_time", answered, "handle times of answered contacts"),
        ("wait", slice(None), "waits"),
    ):
        values = frame.loc[rows, column].dropna()
        mean = float(values.mean()) if len(values) else 0.0
        if mean > LONGEST_MEAN:
            notes.append(
                f"{what} average {mean:,.0f}s ({mean / 86400:,.1f} days): assumed seconds; "
                f"if they are milliseconds, divide the column by 1000"
            )
    return notes
