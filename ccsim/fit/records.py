"""Contact records: a planner's ACD/CRM export (or ccsim's own ``contacts.csv``), read and
checked into one typed table.

One row is one contact: when it arrived, on which channel, how long it waited, whether it
was answered or abandoned (or left otherwise), its handle time and the site that answered
it. The column names of an export are mapped onto ccsim's (``ColumnMap``); ccsim's own
records need no mapping. Arrival times are put on the customers' wall clock: a time with
a UTC offset is converted, a time without one is read as wall-clock time in ``timezone``
(a time in the hour skipped in spring is an error; one in the hour repeated in autumn is
taken as the first and counted).

Bad data stops the read with one line naming the file, the CSV line and the column
(:class:`RecordError`); rows that are merely odd (a zero handle time, an answered contact
without one) are kept, counted in ``Records.odd`` and reported, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from ccsim.fit.cells import RecordError, fail, local_times, seconds
from ccsim.fit.checks import screen
from ccsim.model.errors import ConfigError

__all__ = [
    "FIELDS",
    "LOG_COLUMNS",
    "ColumnMap",
    "RecordError",
    "Records",
    "check_timezone",
    "contact_log",
    "local_times",
    "parse_columns",
    "plain_name",
    "read_table",
    "read_records",
    "seconds",
]

#: ccsim's names for the fields of a contact record; those marked True are required.
FIELDS: dict[str, bool] = {
    "arrival": True,
    "wait": True,
    "outcome": True,
    "channel": False,
    "handle_time": False,
    "site": False,
    "replication": False,
    "request_type": False,
}

#: Column names read as the request type when the log has no ``request_type`` column.
TYPE_COLUMNS = ("request_type", "type", "reason")

#: Outcome values understood without a mapping (lower case).
ANSWERED = frozenset({"answered", "answer", "handled", "served", "completed", "connected", "ans"})
ABANDONED = frozenset({"abandoned", "abandon", "aban", "abn", "lost", "hangup_in_queue"})

#: A header line precedes the first record: the first record is CSV line 2.
_FIRST_LINE = 2

_NAME = re.compile(r"[^A-Za-z0-9_-]+")


ColumnMap = dict[str, str]
"""ccsim field -> the export's column name, e.g. ``{"arrival": "CallStart"}``."""


def parse_columns(text: str) -> ColumnMap:
    """``arrival=CallStart,wait=QueueSec``: a column map from the command line."""
    mapping: ColumnMap = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, column = part.partition("=")
        name = name.strip()
        if not sep or not column.strip():
            raise ValueError(f"expected FIELD=COLUMN pairs, got {part!r}")
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r} (fields: {', '.join(FIELDS)})")
        mapping[name] = column.strip()
    return mapping


def check_timezone(timezone: str, where: str = "--timezone") -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "", where, f"unknown IANA time zone {timezone!r}, e.g. America/New_York"
        ) from None


@dataclass(frozen=True)
class Records:
    """Checked contact records: one row per contact with the columns ``channel``,
    ``arrival`` (aware, in ``timezone``), ``wait`` and ``handle_time`` (seconds),
    ``outcome`` (``answered``, ``abandoned`` or the export's own word for anything else),
    ``site``, ``request_type`` (empty without the column), ``replication`` and ``line``
    (the CSV line it came from)."""

    source: str
    frame: pd.DataFrame
    timezone: str
    odd: dict[str, int] = field(default_factory=dict)
    assumed: tuple[str, ...] = ()  # what the reading assumed of data that look wrong

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(self.frame["channel"]))

    def channel(self, name: str) -> pd.DataFrame:
        return self.frame[self.frame["channel"] == name]


def _outcomes(raw: pd.Series, mapping: dict[str, str], source: str, column, lines) -> pd.Series:
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        at = int(np.flatnonzero(missing.to_numpy())[0])
        raise fail(source, lines[at], column, "missing outcome")
    lower = text.str.lower()
    mapped = {key.lower(): value for key, value in mapping.items()}
    known = lower.map(
        lambda word: (
            mapped.get(word)
            or ("answered" if word in ANSWERED else "abandoned" if word in ABANDONED else None)
        )
    )
    if known.isna().all():
        words = ", ".join(repr(w) for w in text.drop_duplicates().head(6))
        raise RecordError(
            source,
            f"column {column!r}",
            f"no outcome is answered or abandoned (the file has: {words}); map them with "
            "--outcomes WORD=answered,WORD=abandoned",
        )
    # Another word is kept as the file has it.
    return known.astype(object).where(known.notna(), text.astype(object)).astype(str)


def plain_name(name: str, empty: str = "voice") -> str:
    """A log's channel or site name made a scenario name: letters, digits, '_' and '-'
    (names appear in dotted paths and CSV columns), ``empty`` when nothing is left. A cell
    with a line break and YAML in it becomes one plain word, never a field of the file."""
    plain = _NAME.sub("_", str(name).strip()).strip("_")
    if not plain:
        return empty
    return plain if plain[0].isalpha() or plain[0] == "_" else f"q_{plain}"


def read_records(
    path: str | Path,
    columns: ColumnMap | None = None,
    timezone: str | None = None,
    outcomes: dict[str, str] | None = None,
) -> Records:
    """Read and check a contact log (CSV).

    ``columns`` maps ccsim's field names (:data:`FIELDS`) to the file's column names where
    they differ; ``outcomes`` maps the file's outcome words to ``answered`` or
    ``abandoned`` beyond the common ones (:data:`ANSWERED`, :data:`ABANDONED`). Rows with
    another outcome (a message left, a transfer, ...) are kept and counted: for patience
    they are contacts that waited that long without abandoning.
    """
    source = str(path)
    for word, meaning in (outcomes or {}).items():
        if meaning not in ("answered", "abandoned"):
            raise ConfigError("", "--outcomes", f"{word}={meaning}: map to answered or abandoned")
    raw = read_table(path)
    zone = _zone(raw, timezone, source)
    names = {name: (columns or {}).get(name, name) for name in FIELDS}
    for name, required in FIELDS.items():
        if required and names[name] not in raw.columns:
            shown = ", ".join(raw.columns[:12])
            raise RecordError(
                source,
                "columns",
                f"no column {names[name]!r} for {name} (the file has: {shown}); map it with "
                f"--columns {name}=COLUMN",
            )
    if "request_type" not in (columns or {}):
        names["request_type"] = next((c for c in TYPE_COLUMNS if c in raw.columns), "")
    lines = np.arange(_FIRST_LINE, _FIRST_LINE + len(raw))
    odd: dict[str, int] = {}
    assumed: list[str] = []
    frame = pd.DataFrame(index=raw.index)
    frame["channel"] = _names(raw, names["channel"], "voice")
    arrival = names["arrival"]
    frame["arrival"] = local_times(
        raw[arrival], zone, source, arrival, lines, odd, assumed, clock=True
    )
    frame["wait"] = seconds(raw[names["wait"]], source, names["wait"], lines)
    missing_wait = frame["wait"].isna()
    if missing_wait.any():
        at = int(np.flatnonzero(missing_wait.to_numpy())[0])
        raise fail(source, lines[at], names["wait"], "missing wait")
    frame["outcome"] = _outcomes(
        raw[names["outcome"]], outcomes or {}, source, names["outcome"], lines
    )
    handle = names["handle_time"]
    frame["handle_time"] = (
        seconds(raw[handle], source, handle, lines) if handle in raw.columns else np.nan
    )
    frame["site"] = _names(raw, names["site"], "")
    frame["request_type"] = _names(raw, names["request_type"], "other", missing="")
    frame["replication"] = _runs(raw, names["replication"], source, lines)
    frame["line"] = lines
    frame = frame.sort_values(["replication", "arrival"], kind="stable").reset_index(drop=True)
    frame = screen(frame, source, {"arrival": arrival, "handle_time": handle}, assumed)
    _count_odd(frame, odd, handle in raw.columns)  # of the rows kept
    return Records(source, frame, zone.key, odd, tuple(assumed))


def _names(raw: pd.DataFrame, column: str, empty: str, missing: str | None = None) -> pd.Series:
    """A column of channel, site or type names made plain (:func:`plain_name`); ``empty``
    for a blank cell, ``missing`` (else ``empty``) for every row without the column."""
    if column not in raw.columns:
        return pd.Series(empty if missing is None else missing, index=raw.index)
    return raw[column].fillna("").map(lambda cell: plain_name(cell, empty))


def _count_odd(frame: pd.DataFrame, odd: dict[str, int], handle_times: bool) -> None:
    """Rows kept but counted: answered without a handle time, abandoned at once, other
    outcomes."""
    answered = frame["outcome"] == "answered"
    if handle_times:
        _count(odd, "answered without a handle time", answered & frame["handle_time"].isna())
        # Only an answered contact has a handle time: an abandoned one's 0 is no oddity.
        zero = answered & (frame["handle_time"] == 0)
        _count(odd, "answered with zero handle time (left out of the handle-time fit)", zero)
    _count(odd, "abandoned at once (wait 0)", (frame["outcome"] == "abandoned") & (frame.wait == 0))
    others = frame.loc[~answered & (frame["outcome"] != "abandoned"), "outcome"]
    for word, count in others.value_counts().items():
        odd[f"outcome {word!r} (neither answered nor abandoned)"] = int(count)


def _zone(raw: pd.DataFrame, timezone: str | None, source: str) -> ZoneInfo:
    """The given time zone, else the log's ``timezone`` column (its first value), else UTC."""
    if timezone is not None:
        return check_timezone(timezone)
    given = raw["timezone"].dropna() if "timezone" in raw.columns else []
    if len(given):
        return check_timezone(str(given.iloc[0]), f"{source}: timezone")
    return check_timezone("UTC")


def _runs(raw: pd.DataFrame, column: str, source: str, lines: np.ndarray) -> pd.Series | int:
    """The run (replication) of each row: a whole number >= 0, or 0 without the column."""
    if column not in raw.columns:
        return 0
    numbers = pd.to_numeric(raw[column], errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers != np.floor(numbers))
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        raise fail(source, lines[at], column, f"{raw[column].iloc[at]!r} is no run")
    return numbers.astype(int)


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV file as text cells (a header line, then at least one row)."""
    source = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise ConfigError(source, "", "no such file") from None
    except pd.errors.EmptyDataError:
        raise ConfigError(source, "", "is empty: no header and no records") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(source, "", f"cannot be read as CSV: {exc}".splitlines()[0]) from None
    if raw.empty:
        raise ConfigError(source, "", "has a header but no records")
    return raw


def _count(odd: dict[str, int], what: str, mask: pd.Series) -> None:
    if mask.any():
        odd[what] = int(mask.sum())


#: Columns of ``contacts.csv`` (``ccsim run --record-contacts``): the contact records of
#: ``simulate(record_contacts=True)`` with the replication, arrival on the wall clock.
LOG_COLUMNS = (
    "replication",
    "channel",
    "arrival",
    "wait",
    "outcome",
    "handle_time",
    "counted",
    "site",
    "timezone",
)


def contact_log(result, replication: int = 0) -> pd.DataFrame:
    """A simulation's contacts (``simulate(..., record_contacts=True)``) as a contact log:
    the arrival as an instant in the customers' time zone, durations in seconds."""
    contacts = result.contacts
    if contacts is None:
        raise ValueError("the run kept no contacts: simulate with record_contacts=True")
    calendar = result.calendar
    origin = pd.Timestamp(calendar.origin)
    arrival = (origin + pd.to_timedelta(contacts["arrival"].to_numpy(), unit="s")).tz_convert(
        calendar.zone.key
    )
    log = contacts.assign(
        replication=replication,
        arrival=arrival.round("ms"),
        wait=contacts["wait"].round(3),
        handle_time=contacts["handle_time"].round(3),
        timezone=calendar.zone.key,
    )
    # Internal channels (call backs, messages) are ccsim's machinery, not customer demand.
    log = log[~log["channel"].str.contains(":", regex=False)]
    return log.loc[:, list(LOG_COLUMNS)].reset_index(drop=True)
