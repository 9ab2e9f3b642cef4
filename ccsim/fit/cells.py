"""A contact log's cells read as durations and instants, refused where the reading would be
a guess: a decimal comma, a number no duration can be, a date that reads both ways
(``05/01/2026``), an arrival without its time of day, an instant pandas cannot hold.

Each refusal is one :class:`RecordError` naming the file, the CSV line and the column, with
the cell; each assumption made (a day-first date order told by a day above 12) is added to
``assumed``, a sentence the fit prints and writes at the head of the fitted file.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ccsim.model.errors import ConfigError

__all__ = ["MAX_DURATION", "RecordError", "fail", "local_times", "seconds"]

#: The longest wait or handle time read (a year, in seconds): beyond it a value is no
#: contact's duration, and 1e300 would overflow the fits.
MAX_DURATION = 366 * 86400.0

#: Instants pandas can hold (nanoseconds since 1970 in 64 bits), with a day to spare.
_EARLIEST, _LATEST = pd.Timestamp("1677-09-23"), pd.Timestamp("2262-04-10")

#: A number written with a comma: a decimal comma (``3,5``) or a thousands separator
#: (``1,250``); pandas read ``3,5`` as a clock duration of 3.5 nanoseconds.
_COMMA_NUMBER = re.compile(r"[+-]?\d+(?:,\d+)+")

#: A date written with numbers only, day and month in an order the cell does not say.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})(?=$|[ T])")

#: A time of day in a cell (``08:30``).
_CLOCK = re.compile(r"\d:\d\d")

ISO_EXAMPLE = "ISO 8601, e.g. 2026-01-05 08:30:00"


class RecordError(ConfigError):
    """Bad contact records: file, line and column, what is wrong (exit status 2)."""


def fail(source: str, line: int, column: str, message: str) -> RecordError:
    return RecordError(source, f"line {line}, column {column!r}", message)


def _first(mask: pd.Series | np.ndarray) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def seconds(raw: pd.Series, source: str, column: str, lines: np.ndarray) -> pd.Series:
    """Durations as seconds: a number, or a clock duration such as ``00:03:20``."""
    values = pd.to_numeric(raw, errors="coerce")
    text = raw.astype("string").str.strip()
    todo = values.isna() & text.notna() & (text != "")
    comma = todo & text.str.fullmatch(_COMMA_NUMBER).fillna(False).astype(bool)
    if comma.any():
        at = _first(comma)
        raise fail(
            source,
            lines[at],
            column,
            f"{raw.iloc[at]!r} has a comma (a decimal comma, or a thousands separator?): "
            "write durations in seconds with a decimal point and no separators, e.g. 3.5",
        )
    if todo.any():
        values[todo] = pd.to_timedelta(text[todo], errors="coerce").dt.total_seconds()
    bad = values.isna() & text.notna() & (text != "")
    if bad.any():
        at = _first(bad)
        raise fail(source, lines[at], column, f"{raw.iloc[at]!r} is no duration (seconds)")
    negative = values < 0
    if negative.any():
        at = _first(negative)
        raise fail(source, lines[at], column, f"{raw.iloc[at]!r} is negative")
    if np.isinf(values).any():
        at = _first(np.isinf(values.to_numpy()))
        raise fail(source, lines[at], column, f"{raw.iloc[at]!r} is not finite")
    too_long = values > MAX_DURATION
    if too_long.any():
        at = _first(too_long)
        raise fail(
            source, lines[at], column, f"{raw.iloc[at]!r} is more than a year: no contact's time"
        )
    return values.astype(float)


def _date_order(
    text: pd.Series, source: str, column: str, lines: np.ndarray, assumed: list[str]
) -> pd.Series:
    """Dates written as numbers (``05/01/2026``) rewritten year first: day first where a
    first number is above 12, month first where a second one is; refused when no number
    tells the order, or the cells tell both."""
    parts = text.str.extract(_NUMERIC_DATE)
    numeric = parts[0].notna().to_numpy()
    if not numeric.any():
        return text
    short = numeric & (parts[3].str.len() != 4).to_numpy()
    if short.any():
        at = _first(short)
        raise fail(
            source, lines[at], column, f"{text.iloc[at]!r}: a two-digit year; give {ISO_EXAMPLE}"
        )
    first = pd.to_numeric(parts[0]).to_numpy()
    second = pd.to_numeric(parts[2]).to_numpy()
    day_first, month_first = numeric & (first > 12), numeric & (second > 12)
    if day_first.any() and month_first.any():
        a, b = _first(day_first), _first(month_first)
        raise fail(
            source,
            lines[b],
            column,
            f"{text.iloc[b]!r} is month first, {text.iloc[a]!r} (line {lines[a]}) day first: "
            f"give {ISO_EXAMPLE}",
        )
    if not (day_first.any() or month_first.any()):
        at = _first(numeric)
        raise fail(
            source,
            lines[at],
            column,
            f"{text.iloc[at]!r} reads as day/month or month/day and no day above 12 tells "
            f"which: give {ISO_EXAMPLE}",
        )
    at = _first(day_first if day_first.any() else month_first)
    order = "day/month/year" if day_first.any() else "month/day/year"
    number = first[at] if day_first.any() else second[at]
    assumed.append(
        f"{column}: assumed {order} dates in every row (line {lines[at]}: {text.iloc[at]!r} "
        f"has day {number:.0f})"
    )

    def year_first(match: re.Match) -> str:
        a, b, year = match.group(1), match.group(3), match.group(4)
        day, month = (a, b) if day_first.any() else (b, a)
        return f"{year}-{int(month):02d}-{int(day):02d}"

    return text.str.replace(_NUMERIC_DATE, year_first, regex=True)


def _with_clock(text: pd.Series, source: str, column: str, lines: np.ndarray) -> None:
    """Arrivals need their time of day: a date alone would be read as midnight."""
    dateless = ~text.str.contains(_CLOCK).fillna(False).astype(bool)
    if dateless.any():
        at = _first(dateless)
        raise fail(
            source,
            lines[at],
            column,
            f"{text.iloc[at]!r} has no time of day: the fit needs each contact's arrival "
            f"time ({ISO_EXAMPLE})",
        )


def local_times(
    raw: pd.Series,
    zone: ZoneInfo,
    source: str,
    column: str,
    lines: np.ndarray,
    odd: dict,
    assumed: list[str] | None = None,
    *,
    clock: bool = False,
) -> pd.Series:
    """Instants on the customers' wall clock (aware, in ``zone``) from the text of a
    column: converted when it carries a UTC offset, read as wall-clock time otherwise.
    ``clock``: each cell must give a time of day (arrivals; an interval history's days
    may be dates)."""
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        at = _first(missing)
        raise fail(source, lines[at], column, "missing arrival time")
    text = _date_order(text, source, column, lines, assumed if assumed is not None else [])
    if clock:
        _with_clock(text, source, column, lines)
    offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    result = pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {zone.key}]")
    if offset.any():
        aware = pd.to_datetime(text[offset], utc=True, errors="coerce", format="ISO8601")
        _in_range(aware.dt.tz_localize(None), raw[offset], source, column, lines[offset])
        result[offset] = aware.dt.tz_convert(zone.key)
    if (~offset).any():
        wall = ~offset
        result[wall] = _wall_clock(text[wall], raw[wall], zone, source, column, lines[wall], odd)
    unparsed = result.isna()
    if unparsed.any():
        at = _first(unparsed)
        raise fail(source, lines[at], column, f"{raw.iloc[at]!r} is no date and time")
    return result


def _wall_clock(text, raw, zone: ZoneInfo, source: str, column: str, lines, odd) -> pd.Series:
    """Cells without a UTC offset, read as wall-clock times in ``zone``."""
    naive = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if naive.isna().any():  # not ISO 8601: let pandas guess, element by element
        naive = pd.to_datetime(text, errors="coerce", format="mixed")
    _in_range(naive, raw, source, column, lines)
    unparsed = naive.isna()
    if unparsed.any():
        at = _first(unparsed)
        raise fail(source, lines[at], column, f"{raw.iloc[at]!r} is no date and time")
    local = naive.dt.tz_localize(zone.key, ambiguous="NaT", nonexistent="NaT")
    skipped = local.isna()
    if not skipped.any():
        return local
    first = naive.dt.tz_localize(zone.key, ambiguous=True, nonexistent="NaT")
    gone = first.isna()
    if gone.any():
        at = _first(gone)
        raise fail(
            source,
            lines[at],
            column,
            f"{raw.iloc[at]!r} does not exist in {zone.key} (the hour skipped when "
            "daylight saving starts): give times with their UTC offset",
        )
    odd["ambiguous local times (autumn's repeated hour), taken as the first"] = int(skipped.sum())
    return first


def _in_range(times: pd.Series, raw: pd.Series, source: str, column: str, lines) -> None:
    outside = (times < _EARLIEST) | (times > _LATEST)
    if outside.any():
        at = _first(outside)
        raise fail(source, lines[at], column, f"{raw.iloc[at]!r} is outside the years 1678-2261")
