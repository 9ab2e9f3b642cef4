"""Fuzzing the planner's own data: contact logs for ``ccsim fit`` and interval histories for
``ccsim forecast``, edited as an export, a spreadsheet or a hand might edit them, either fit
(exit 0, a file that loads) or are refused in one line (exit 2, nothing written); never a
traceback, never a hang, never a result with numbers that cannot be (a negative or infinite
volume).

Each case starts from a small valid file made here with a fixed seed (a two-week log of 300
contacts, six weeks of hourly volumes: a fit or forecast of it takes about a second) and
changes one to three things: a cell (empty, text, a huge, negative or non-finite number, a
date in another format, a decimal comma, milliseconds, a far-away date, a newline or YAML in
a name), a whole column reformatted, rows duplicated, dropped or shuffled, a column dropped,
renamed or duplicated, and the bytes (a BOM, latin-1, an empty file, only the header, a NUL).
The history gets the edits a real series has too: a closed weekday, every volume 0, one
weekday only, a gap of days, dates repeated. Seeds are fixed (``derandomize``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import signal
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ccsim import load_scenario
from ccsim.cli import main


def _contact_log() -> list[list[str]]:
    """Two weeks of a two-channel, two-site centre, 300 contacts: header and rows."""
    rng = np.random.default_rng(30)
    n = 300
    day = rng.integers(0, 14, n)
    second = rng.integers(8 * 3600, 18 * 3600, n)
    arrival = pd.Timestamp("2026-03-02") + pd.to_timedelta(day, "D") + pd.to_timedelta(second, "s")
    abandoned = rng.random(n) < 0.1
    frame = pd.DataFrame(
        {
            "arrival": arrival.strftime("%Y-%m-%d %H:%M:%S"),
            "channel": rng.choice(["voice", "chat"], n),
            "wait": rng.exponential(30, n).round(1),
            "outcome": np.where(abandoned, "abandoned", "answered"),
            "handle_time": np.where(abandoned, 0, rng.gamma(2, 150, n).round(1)),
            "site": rng.choice(["main", "far"], n),
        }
    ).sort_values("arrival")
    return [list(frame.columns)] + frame.astype(str).to_numpy().tolist()


def _history() -> list[list[str]]:
    """Six weeks of hourly volumes, 08:00-18:00 every day: header and rows."""
    rng = np.random.default_rng(30)
    starts = pd.date_range("2026-01-05", periods=24 * 7 * 6, freq="1h")
    starts = starts[(starts.hour >= 8) & (starts.hour < 18)]
    volumes = rng.poisson(20, len(starts))
    rows = [[t.strftime("%Y-%m-%d %H:%M"), str(v)] for t, v in zip(starts, volumes, strict=True)]
    return [["interval_start", "volume"], *rows]


LOG = _contact_log()
HISTORY = _history()

ODD_CELLS = st.sampled_from(
    ["", " ", "word", "nan", "NaN", "inf", "-inf", "-5", "0", "1e300", "1e400", "2**63",
     "3,5", "1,250", "00:03:20", "99:99:99", "200000", "2026-03-02", "02/03/2026 09:00",
     "03/13/2026 09:00", "13/03/2026 09:00", "05/01/26 08:30", "2029-01-07 09:00:00",
     "1900-01-01 09:00", "3000-01-01 09:00", "2026-03-08 02:30", "2026-03-29 02:30",
     "2026-03-02T09:00:00+05:00", "2026-03-02 09:00:00.123", "1772442000", "a\nb",
     "main\n    cost_per_hour: 999", "{a: 1}", "- x", "&a *a", "'", '"', "answered",
     "abandoned", "balked", "ANS", "caf\u00e9", "\u202e", "x" * 5000]
)  # fmt: skip
#: Whole-column rewrites, as an export set up another way would write them.
COLUMN_FORMATS = ["dayfirst", "monthfirst", "two_digit_year", "date_only", "epoch", "offset",
                  "millis", "comma", "clock", "upper", "blank", "constant", "negative"]  # fmt: skip
BYTES = ["bom", "latin1", "crlf", "empty", "header", "nul", "truncate", "semicolon"] + ["none"] * 4


def _reformat(cell: str, how: str, first: str) -> str:
    """``cell`` as an export set to ``how`` would write it; left as it is where ``how`` says
    nothing of such a cell (a date format for a number)."""
    if how == "upper":
        return cell.upper()
    if how == "blank":
        return ""
    if how == "constant":
        return first
    try:
        number = float(cell)
    except ValueError:
        number = None
    if number is not None and not np.isfinite(number):
        return cell
    if number is not None:
        whole = int(number)
        return {
            "millis": f"{number * 1000:g}",
            "comma": cell.replace(".", ","),
            "clock": f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}",
            "negative": f"{-number:g}",
        }.get(how, cell)
    if not _is_time(cell):
        return cell
    when = pd.Timestamp(cell)
    return {
        "dayfirst": when.strftime("%d/%m/%Y %H:%M:%S"),
        "monthfirst": when.strftime("%m/%d/%Y %H:%M"),
        "two_digit_year": when.strftime("%d/%m/%y %H:%M"),
        "date_only": when.strftime("%Y-%m-%d"),
        "epoch": f"{when.timestamp():.0f}",
        "offset": when.isoformat() + "+01:00",
    }.get(how, cell)


def _table_edits(draw, series: bool) -> list[tuple]:
    """One to three edits of a table (each a tuple ``_edit_table`` applies)."""
    kinds = ["cell", "cell", "column", "rows", "header"] + ["series"] * series
    edits = []
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        kind = draw(st.sampled_from(kinds))
        at = draw(st.floats(0, 0.999))
        if kind == "cell":
            edits.append(("cell", at, draw(st.floats(0, 0.999)), draw(ODD_CELLS)))
        elif kind == "column":
            edits.append(("column", at, draw(st.sampled_from(COLUMN_FORMATS))))
        elif kind == "rows":
            op = draw(st.sampled_from(["duplicate", "double", "drop", "keep", "shuffle", "far"]))
            edits.append(("rows", op, at, draw(st.integers(0, 5))))
        elif kind == "header":
            op = draw(st.sampled_from(["drop", "rename", "duplicate", "extra", "swap", "case"]))
            edits.append(("header", op, at))
        else:
            op = draw(st.sampled_from(["closed", "zero", "one_day", "gap", "repeat", "channel"]))
            edits.append(("series", op, draw(st.integers(0, 6)), draw(ODD_CELLS)))
    return edits


def _edit_rows(rows: list[list[str]], op: str, at: float, count: int) -> list[list[str]]:
    index = int(at * len(rows)) if rows else 0
    if not rows:
        return rows
    if op == "duplicate":
        return rows[: index + 1] + [rows[index]] * (count + 1) + rows[index + 1 :]
    if op == "double":  # the export run twice
        return rows + rows
    if op == "drop":
        return rows[:index] + rows[index + count + 1 :]
    if op == "keep":
        return rows[:count]
    if op == "shuffle":
        return [rows[i] for i in np.random.default_rng(count).permutation(len(rows))]
    far = list(rows[index])  # a stray row years on
    if _is_time(far[0]):
        far[0] = str(pd.Timestamp(far[0]) + pd.DateOffset(years=count + 1))
    return [*rows, far]


def _edit_series(rows: list[list[str]], op: str, weekday: int, odd: str) -> list[list[str]]:
    """The edits of an interval history that a centre's calendar makes."""
    day = [pd.Timestamp(r[0]).weekday() if r and _is_time(r[0]) else -1 for r in rows]
    rows = [r if r else [""] for r in rows]
    if op == "closed":  # zero-filled, as an export of a closed day is
        return [[r[0], "0", *r[2:]] if d == weekday else r for r, d in zip(rows, day, strict=True)]
    if op == "zero":
        return [[r[0], "0", *r[2:]] for r in rows]
    if op == "one_day":
        return [r for r, d in zip(rows, day, strict=True) if d == weekday]
    if op == "gap":
        return rows[: 70 * weekday] + rows[70 * weekday + 10 * (weekday + 3) :]
    if op == "repeat":
        return rows + rows[-10 * (weekday + 1) :]
    return [[*r, odd if i % 3 == 0 else "voice"] for i, r in enumerate(rows)]


def _edit_table(table: list[list[str]], edit: tuple) -> list[list[str]]:
    header, rows = list(table[0]), [list(r) for r in table[1:]]
    if edit[0] == "cell" and rows:
        _, row_at, column_at, value = edit
        row = rows[int(row_at * len(rows))]
        if row:
            row[int(column_at * len(row))] = value
    elif edit[0] == "column":
        _, at, how = edit
        column = int(at * len(header))
        first = rows[0][column] if rows and column < len(rows[0]) else ""
        for row in rows:
            if column < len(row):
                row[column] = _reformat(row[column], how, first)
    elif edit[0] == "rows":
        rows = _edit_rows(rows, *edit[1:])
    elif edit[0] == "series" and rows and len(header) >= 2 and header[0] == "interval_start":
        if rows[0] and _is_time(rows[0][0]):
            rows = _edit_series(rows, *edit[1:])
            if edit[1] == "channel":
                header.append("channel")
    elif edit[0] == "header":
        _, op, at = edit
        column = int(at * len(header))
        if op == "drop":
            header, rows = _without(header, column), [_without(r, column) for r in rows]
        elif op == "rename":
            header[column] = "x"
        elif op == "duplicate":
            header.append(header[column])
            rows = [[*r, r[column] if column < len(r) else ""] for r in rows]
        elif op == "extra":
            header.append("request_type")
            rows = [[*r, ["", "billing", "a\nb", "x" * 300][i % 4]] for i, r in enumerate(rows)]
        elif op == "swap":
            header[0], header[column] = header[column], header[0]
        else:
            header[column] = header[column].upper()
    return [header, *rows]


def _is_time(text: str) -> bool:
    try:
        return pd.Timestamp(text) is not pd.NaT
    except (ValueError, TypeError, OverflowError):
        return False


def _without(row: list[str], column: int) -> list[str]:
    return row[:column] + row[column + 1 :]


def _bytes(table: list[list[str]], how: str) -> bytes:
    text = io.StringIO()
    delimiter = ";" if how == "semicolon" else ","
    csv.writer(text, delimiter=delimiter, lineterminator="\n").writerows(table)
    data = text.getvalue()
    if how == "empty":
        return b""
    if how == "header":
        return data.split("\n", 1)[0].encode() + b"\n"
    if how == "latin1":
        return data.replace("main", "m\u00e9n").encode("latin-1", errors="replace")
    if how == "crlf":
        data = data.replace("\n", "\r\n")
    if how == "nul":
        data = data[: len(data) // 3] + "\x00" + data[len(data) // 3 :]
    if how == "truncate":
        data = data[: len(data) * 2 // 3]
    return (b"\xef\xbb\xbf" if how == "bom" else b"") + data.encode("utf-8")


@st.composite
def logs(draw):
    """(the edits, the file's bytes) of an edited contact log."""
    edits = _table_edits(draw, series=False)
    how = draw(st.sampled_from(BYTES))
    table = LOG
    for edit in edits:
        table = _edit_table(table, edit)
    return [*edits, how], _bytes(table, how)


@st.composite
def histories(draw):
    """(the edits, the options, the file's bytes) of an edited interval history."""
    edits = _table_edits(draw, series=True)
    how = draw(st.sampled_from(BYTES))
    table = HISTORY
    for edit in edits:
        table = _edit_table(table, edit)
    weeks = draw(st.sampled_from(["1", "1", "2", "104"]))
    options = ["--weeks", weeks, "--holdout", draw(st.sampled_from(["1", "1", "2", "6"]))]
    return [*edits, how], options, _bytes(table, how)


class _Hung(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hung


def _command(argv: list[str], seconds: int = 30) -> tuple[int, str]:
    """``ccsim ARGV`` in this process; past ``seconds`` it is a hang, and fails."""
    err = io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except _Hung:
        pytest.fail(f"ccsim {' '.join(argv)} ran past {seconds}s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def _check_outcome(what, code: int, err: str, out: Path) -> bool:
    """Exit 0 with warnings at most, or 2 with one line and nothing at ``out``; True for 0."""
    event(f"exit {code}")
    assert code in (0, 2) and "Traceback" not in err, (what, code, err)
    lines = err.strip().splitlines()
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("ccsim: "), (what, err)
        assert not out.exists(), (what, "a file left behind by a refused command")
        return False
    assert all(line.startswith("ccsim: warning: ") for line in lines), (what, err)
    return True


def _check_log(case) -> None:
    edits, data = case
    with tempfile.TemporaryDirectory() as folder:
        log, out = Path(folder) / "log.csv", Path(folder) / "fitted.yaml"
        log.write_bytes(data)
        code, err = _command(["fit", str(log), "--out", str(out)])
        if _check_outcome(edits, code, err, out):
            scenario = load_scenario(out)
            # Two weeks of contacts, and at most the gap a fit accepts (28 days) added by
            # an edited date: a longer horizon is a stray row read as a closed season.
            assert scenario.channels and scenario.horizon <= 45 * 86400, edits


def _check_history(case) -> None:
    edits, options, data = case
    with tempfile.TemporaryDirectory() as folder:
        history, out = Path(folder) / "history.csv", Path(folder) / "forecast.csv"
        history.write_bytes(data)
        code, err = _command(["forecast", str(history), *options, "--out", str(out)])
        if _check_outcome((edits, options), code, err, out):
            forecast = pd.read_csv(out)
            volume = forecast["volume"]
            assert len(volume) and np.isfinite(volume).all() and (volume >= 0).all(), edits
            # The history ends on 15 February 2026 (an edit may add a month): a forecast
            # that starts later came from a stray date, every day between filled.
            assert forecast["date"].min() < "2026-04-01", (edits, forecast["date"].min())


_INPUT_FUZZ = dict(
    derandomize=True,
    deadline=None,  # a hang is caught by _command's alarm; a slow machine is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@settings(max_examples=30, **_INPUT_FUZZ)
@given(case=logs())
def test_edited_contact_logs_are_fitted_or_refused_in_one_line(case):
    _check_log(case)


@settings(max_examples=30, **_INPUT_FUZZ)
@given(case=histories())
def test_edited_histories_are_forecast_or_refused_in_one_line(case):
    _check_history(case)


@pytest.mark.slow
@settings(max_examples=300, **_INPUT_FUZZ)
@given(case=logs())
def test_many_more_edited_contact_logs(case):
    _check_log(case)


@pytest.mark.slow
@settings(max_examples=300, **_INPUT_FUZZ)
@given(case=histories())
def test_many_more_edited_histories(case):
    _check_history(case)


def test_the_unedited_log_and_history_fit_and_forecast():
    """The fuzz starts from valid files: each is fitted or forecast as it is."""
    with tempfile.TemporaryDirectory() as folder:
        log, history = Path(folder) / "log.csv", Path(folder) / "history.csv"
        log.write_bytes(_bytes(LOG, "none"))
        history.write_bytes(_bytes(HISTORY, "none"))
        fit = ["fit", str(log), "--out", str(Path(folder) / "fitted.yaml")]
        assert _command(fit) == (0, "")
        forecast = ["forecast", str(history), "--weeks", "1", "--holdout", "1"]
        assert _command([*forecast, "--out", str(Path(folder) / "forecast.csv")]) == (0, "")
