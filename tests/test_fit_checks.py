"""Silent wrong fits (issue #30): a contact log whose reading would be a guess is refused in
one line naming the file, the column and a row; one that is usable but looks wrong is fitted
with a warning saying what was assumed, printed and written at the head of the fitted file.

Each log here is a small Mon-Fri centre built with numpy, then spoilt the way exports spoil
them; the expected figures come from the unspoilt log (its day count, its row count).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccsim import load_scenario
from ccsim.cli import main
from ccsim.fit import read_records


def centre_log(path: Path, start: str = "2026-01-05", weeks: int = 2, per_day: int = 60,
               seed: int = 0, time_format: str | None = None) -> Path:  # fmt: skip
    """A Mon-Fri centre's log, 08:00-18:00, whole seconds; ``time_format``: the arrivals'
    strftime format (ISO 8601 without it)."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.bdate_range(start, periods=5 * weeks):
        n = rng.poisson(per_day)
        starts = np.sort(rng.uniform(8 * 3600, 18 * 3600, n)).round()
        abandoned = rng.random(n) < 0.1
        handle = np.where(abandoned, 0, rng.lognormal(math.log(200), 0.6, n).round())
        for start_s, wait, gone, talk in zip(
            starts, rng.exponential(20, n).round(), abandoned, handle, strict=True
        ):
            at = day + pd.Timedelta(seconds=float(start_s))
            rows.append({
                "arrival": at.strftime(time_format) if time_format else at.isoformat(),
                "wait": wait,
                "outcome": "abandoned" if gone else "answered",
                "handle_time": talk,
            })  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def fit(tmp_path: Path, log: Path, capsys) -> tuple[int, str, Path]:
    out = tmp_path / "fitted.yaml"
    status = main(["fit", str(log), "--out", str(out)])
    return status, capsys.readouterr().err, out


def spoil(log: Path, change) -> Path:
    frame = pd.read_csv(log, dtype=str)
    change(frame).to_csv(log, index=False)
    return log


# --- refused: no reading of the log can be right ---------------------------------------------


def stray(frame: pd.DataFrame) -> pd.DataFrame:
    row = frame.iloc[[5]].assign(arrival="2029-01-08T09:00:00")
    return pd.concat([frame, row])


def two_periods(frame: pd.DataFrame) -> pd.DataFrame:
    later = frame.assign(
        arrival=(pd.to_datetime(frame.arrival) + pd.Timedelta(days=91)).map(pd.Timestamp.isoformat)
    )
    return pd.concat([frame, later])


def comma(frame: pd.DataFrame) -> pd.DataFrame:
    seconds = frame.handle_time.astype(float) / 10
    return frame.assign(handle_time=seconds.map(lambda v: f"{v:.1f}".replace(".", ",")))


def milliseconds(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(handle_time=(frame.handle_time.astype(float) * 1000).astype(int))


def dates_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(arrival=frame.arrival.str[:10])


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        # The horizon became 1,099 days, every volume divided by 100.
        (stray, "column 'arrival'", "days away from the other contacts"),
        (two_periods, "column 'arrival'", "the fit would count them as closed days"),
        # "8,2" was read as a clock duration: 8.2 nanoseconds.
        (comma, "line 2, column 'handle_time'", "has a comma (a decimal comma"),
        # Mean 236,000 s and 212 agents, with a warning only.
        (milliseconds, "line 2, column 'handle_time'", "milliseconds? give seconds"),
        # Every arrival at midnight: 77 agents busy at once.
        (dates_only, "line 2, column 'arrival'", "'2026-01-05' has no time of day"),
    ],
)
def test_an_impossible_reading_is_refused_naming_a_row(tmp_path, capsys, change, where, message):
    log = spoil(centre_log(tmp_path / "log.csv"), change)
    status, err, out = fit(tmp_path, log, capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"ccsim: {log}: {where}") if "line" in where else where in err
    assert message in err and not out.exists()


def test_the_stray_row_is_named_by_its_line(tmp_path, capsys):
    log = spoil(centre_log(tmp_path / "log.csv"), stray)
    n = len(pd.read_csv(log))
    status, err, _ = fit(tmp_path, log, capsys)
    assert status == 2 and f"line {n + 1}, column 'arrival': 2029-01-08 09:00" in err


@pytest.mark.parametrize(
    ("start", "time_format", "message"),
    [
        # Days 5-9 and 12-16 of January: 12 is no help, nobody can say the order.
        ("2026-01-05", "%d/%m/%Y %H:%M", "no day above 12 tells which"),
        ("2026-01-05", "%d/%m/%y %H:%M", "a two-digit year"),
    ],
)
def test_dates_that_read_both_ways_are_refused(tmp_path, capsys, start, time_format, message):
    log = centre_log(tmp_path / "log.csv", start=start, weeks=1, time_format=time_format)
    status, err, out = fit(tmp_path, log, capsys)
    assert status == 2 and err.count("\n") == 1 and message in err and not out.exists()
    assert "ISO 8601" in err


def test_dates_written_both_orders_in_one_log_are_refused(tmp_path, capsys):
    log = centre_log(tmp_path / "log.csv", time_format="%d/%m/%Y %H:%M:%S")
    month_first = "01/13/2026 09:00:00"  # January the 13th, month first
    spoil(log, lambda frame: pd.concat([frame, frame.iloc[[0]].assign(arrival=month_first)]))
    status, err, _ = fit(tmp_path, log, capsys)
    assert status == 2 and "'01/13/2026 09:00:00' is month first" in err


# --- usable: fitted, saying what was assumed --------------------------------------------------


def test_day_first_dates_are_read_as_day_first_and_said_so(tmp_path, capsys):
    # Read month first, two weeks of January became 323 days with volumes of 2-5%.
    iso = centre_log(tmp_path / "iso.csv")
    log = centre_log(tmp_path / "log.csv", time_format="%d/%m/%Y %H:%M:%S")
    status, err, out = fit(tmp_path, log, capsys)
    assert status == 0
    scenario = load_scenario(out)
    assert scenario.horizon == 12 * 86400 and str(scenario.start.date()) == "2026-01-05"
    expected = read_records(iso).frame["arrival"].dt.tz_localize(None)
    assert (read_records(log).frame["arrival"].dt.tz_localize(None) == expected).all()
    assert err.count("\n") == 1 and "assumed day/month/year dates" in err
    assert "# Warning: arrival: assumed day/month/year dates" in out.read_text()


def test_a_double_export_is_dropped_and_said_so(tmp_path, capsys):
    log = centre_log(tmp_path / "log.csv")
    n = len(pd.read_csv(log))
    spoil(log, lambda frame: pd.concat([frame, frame]))
    status, err, out = fit(tmp_path, log, capsys)
    assert status == 0
    assert len(read_records(log).frame) == n  # the volumes were doubled
    volume = load_scenario(out).channels["voice"].arrivals.volume
    assert sum(volume.values()) == pytest.approx(n / 2, abs=0.05)  # two weeks of five days
    assert f"assumed a repeated export and dropped, {n:,} contacts kept" in err
    assert "# Warning: " in out.read_text() and "dropped" in out.read_text()


def test_a_fit_that_does_not_load_leaves_no_file(tmp_path, capsys):
    # Handle times in nanoseconds fit a mean that a scenario file writes as 0s: the error
    # named fitted.yaml's line, and the invalid file stayed on disk.
    log = spoil(
        centre_log(tmp_path / "log.csv"),
        lambda frame: frame.assign(handle_time=frame.handle_time.astype(float) * 1e-9),
    )
    status, err, out = fit(tmp_path, log, capsys)
    assert status == 2 and err.count("\n") == 1
    assert "the fitted scenario does not load, so it is not written" in err
    assert "handle_time.mean" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [log]


# --- histories: the same gap, in `ccsim forecast` ----------------------------------------------


def weekday_history(path: Path, extra: list[str] = (), cut: tuple[int, int] = (0, 0)) -> Path:
    """Ten weeks of hourly volumes, 08:00-18:00 Mon-Fri (500 intervals); ``cut``: the
    intervals left out (``start``, ``stop``); ``extra``: more CSV lines."""
    starts = [day + pd.Timedelta(hours=h) for day in pd.bdate_range("2026-01-05", periods=50)
              for h in range(8, 18)]  # fmt: skip
    rows = [f"{t:%Y-%m-%d %H:%M},20" for t in starts[: cut[0]] + starts[cut[1] :]]
    path.write_text("\n".join(["interval_start,volume", *rows, *extra]) + "\n")
    return path


@pytest.mark.parametrize(
    ("history", "message"),
    [
        # A forecast of January 2029 from 1,056 holidays filled from the week before.
        (dict(extra=["2029-01-08 09:00,20"]), "line 502, column 'interval_start': 2029-01-08"
         " 09:00 is 1,032 days away from the other intervals"),
        # Weeks 2 to 6 of 10 missing: each weekday filled from the week before.
        (dict(cut=(50, 300)), "no intervals for 37 days (2026-01-09 to 2026-02-16)"),
    ],
)  # fmt: skip
def test_a_history_with_a_month_missing_is_refused_naming_a_row(tmp_path, capsys, history, message):
    path = weekday_history(tmp_path / "history.csv", **history)
    out = tmp_path / "forecast.csv"
    status = main(["forecast", str(path), "--weeks", "1", "--holdout", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_a_history_with_three_weeks_missing_is_forecast(tmp_path, capsys):
    """A closure of 21 days is filled (shorter than the gap a fit refuses, 28 days)."""
    path = weekday_history(tmp_path / "history.csv", cut=(100, 250))
    out = tmp_path / "forecast.csv"
    assert main(["forecast", str(path), "--weeks", "1", "--holdout", "1", "--out", str(out)]) == 0
    assert "15 missing open days filled" in capsys.readouterr().out


def _naive_forecast(tmp_path, capsys, lines: list[str]) -> tuple[pd.Series, str]:
    path = weekday_history(tmp_path / "history.csv", extra=lines)
    out = tmp_path / "forecast.csv"
    argv = ["forecast", str(path), "--weeks", "1", "--holdout", "1", "--out", str(out)]
    assert main([*argv, "--method", "seasonal_naive"]) == 0
    return pd.read_csv(out)["volume"], capsys.readouterr().err.splitlines()


def test_a_double_exported_history_is_forecast_once_and_said_so(tmp_path, capsys):
    """Every interval 20, exported twice: the forecast is 20 (seasonal naive of a constant),
    not 40, the sum of the repeats."""
    path = weekday_history(tmp_path / "once.csv")
    rows = path.read_text().splitlines()[1:]
    volume, err = _naive_forecast(tmp_path, capsys, rows)
    assert (volume == 20).all()
    assert len(err) == 1 and "500 rows (50%) repeat another row's interval" in err[0]


def test_an_export_per_queue_is_added_up(tmp_path, capsys):
    """A second queue's rows, 10 in every interval: 20 + 10 = 30 forecast, no warning."""
    path = weekday_history(tmp_path / "once.csv")
    rows = [line.replace(",20", ",10") for line in path.read_text().splitlines()[1:]]
    volume, err = _naive_forecast(tmp_path, capsys, rows)
    assert (volume == 30).all() and err == []


def test_a_history_that_repeats_itself_is_forecast_exactly_without_numpy_notes(tmp_path, capsys):
    """Every interval 20: the in-sample weekly naive error is 0, so MASE is 0 for the exact
    seasonal naive forecast (not 0/0) and the better method is that one."""
    path = weekday_history(tmp_path / "history.csv")
    out = tmp_path / "forecast.csv"
    assert main(["forecast", str(path), "--weeks", "1", "--holdout", "1", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "forecast by seasonal_naive" in captured.out
    assert "MASE 0.000" in captured.out and (pd.read_csv(out)["volume"] == 20).all()
