"""Forecasting next weeks' volumes per reporting interval from interval history.

Top-down, as workforce-management tools do it: the day totals are forecast, then split over
the day by each weekday's intraday shares (the mean share of each interval on that weekday
in the history). Two forecasts of the day totals:

- **seasonal naive**: the same interval of the same weekday last week (the baseline every
  method must beat; it copies last week's intervals, not a split of a day total);
- **Holt-Winters**: exponential smoothing with a damped additive trend and a weekly season
  of the weekdays the centre is open (multiplicative when every day has contacts),
  parameters by least squares (``statsmodels``, the optional ``fit`` extra; without it only
  the seasonal naive forecast is made, and said so).

Each is judged on a hold-out: the last ``holdout`` weeks are forecast from the weeks before,
at one origin (the planning case: weeks ahead), by MAPE (over intervals with contacts)
and MASE (the mean absolute error over that of the in-sample seasonal naive forecast,
Hyndman and Koehler 2006: below 1 beats last week's copy). The method with the lower
interval MASE makes the forecast.

The forecast's error becomes the scenario's busyness: the hold-out's day totals N_d against
their forecasts F_d are fitted as negative binomial with mean F_d, i.e. N_d = Poisson(F_d
B_d) with B_d ~ Gamma(alpha, alpha), so simulating the forecast volumes with that alpha
gives days that vary as much around the forecast as the real days did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ccsim.fit.checks import REPEATED_SHARE, refuse_gap
from ccsim.fit.demand import AlphaEstimate, estimate_alpha
from ccsim.fit.records import RecordError, check_timezone, local_times, read_table
from ccsim.model.calendar import WEEKDAYS
from ccsim.model.errors import UserError

__all__ = ["ForecastResult", "forecast_volumes", "holt_winters_available", "read_history"]

HISTORY_FIELDS = ("interval_start", "volume", "channel")


#: The longest forecast made: weeks ahead (a forecast beyond two years is a guess, and its
#: interval table would grow without bound).
MAX_WEEKS = 104


class HistoryError(UserError):
    """A history too short or irregular to forecast from."""


def holt_winters_available() -> bool:
    try:
        import statsmodels.tsa.holtwinters  # noqa: F401
    except ImportError:
        return False
    return True


def read_history(
    path,
    columns: dict[str, str] | None = None,
    timezone: str = "UTC",
    assumed: list[str] | None = None,
):
    """Interval volumes from a CSV (``interval_start``, ``volume`` and optionally
    ``channel`` columns, renamed by ``columns``): {channel: Series of volumes indexed by the
    interval's local start}. Rows of one interval are added up (an export per queue); a
    double export's repeats are dropped, and said so in ``assumed``."""
    source = str(path)
    zone = check_timezone(timezone)
    raw = read_table(path)
    names = {name: (columns or {}).get(name, name) for name in HISTORY_FIELDS}
    for name in ("interval_start", "volume"):
        if names[name] not in raw.columns:
            raise RecordError(
                source,
                "columns",
                f"no column {names[name]!r} for {name} (the file has: "
                f"{', '.join(raw.columns[:12])}); map it with --columns {name}=COLUMN",
            )
    lines = np.arange(2, 2 + len(raw))
    starts = local_times(
        raw[names["interval_start"]], zone, source, names["interval_start"], lines, {}
    )
    volume = pd.to_numeric(raw[names["volume"]], errors="coerce")
    bad = volume.isna() | (volume < 0) | np.isinf(volume)
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        raise RecordError(
            source,
            f"line {lines[at]}, column {names['volume']!r}",
            f"{raw[names['volume']].iloc[at]!r} is no volume (a count, 0 or more)",
        )
    channel = raw[names["channel"]].fillna("voice") if names["channel"] in raw.columns else "voice"
    frame = pd.DataFrame({"channel": channel, "start": starts, "volume": volume.astype(float)})
    frame = _without_repeats(frame, lines, assumed if assumed is not None else [])
    # Every open weekday between a channel's first and last date is filled when missing:
    # one stray row three years on made 1,056 holidays and a forecast of 2029.
    for _, group in frame.groupby("channel", sort=False):
        refuse_gap(
            group.rename(columns={"start": "arrival"}),
            source,
            names["interval_start"],
            "intervals",
            "the forecast would fill every open weekday between as a holiday; forecast from "
            "the period after it",
        )
    return {
        name: group.groupby("start")["volume"].sum().sort_index()
        for name, group in frame.groupby("channel", sort=False)
    }


def _without_repeats(frame: pd.DataFrame, lines, assumed: list[str]) -> pd.DataFrame:
    """Rows repeating another's interval and volume (not 0) beyond the share a fit takes
    for a double export: added up they would double those intervals' volumes."""
    frame = frame.assign(line=lines)
    repeated = frame.duplicated(["channel", "start", "volume"]) & (frame["volume"] > 0)
    n = int(repeated.sum())
    if n <= REPEATED_SHARE * len(frame):
        return frame
    first = int(frame.loc[repeated, "line"].iloc[0])
    assumed.append(
        f"{n:,} rows ({n / len(frame):.0%}) repeat another row's interval and volume (the first "
        f"at line {first}): assumed a repeated export and dropped, not added up"
    )
    return frame[~repeated]


@dataclass(frozen=True)
class ForecastResult:
    """One channel's forecast: per interval and per day, the hold-out errors, and alpha."""

    intervals: pd.DataFrame  # interval_start (aware, local), date, weekday, volume
    daily: pd.DataFrame  # date, weekday, volume
    errors: pd.DataFrame  # method, mape_interval, mase_interval, mape_day, holdout_days
    method: str
    alpha: AlphaEstimate
    interval: float
    shares: pd.DataFrame  # weekday x slot: intraday shares
    n_days: int
    n_filled: int  # open-weekday dates with no history, filled from the week before

    def volume_by_weekday(self) -> dict[str, float]:
        means = self.daily.groupby("weekday")["volume"].mean()
        return {day: float(means.get(day, 0.0)) for day in WEEKDAYS}


def _grid(series: pd.Series) -> tuple[pd.DataFrame, float, int]:
    """Days x slots of the local day; open-weekday dates missing are filled from the week
    before (or after)."""
    local = series.index.tz_localize(None)
    gaps = np.asarray((local[1:] - local[:-1]).total_seconds())
    same_day = np.asarray(local.normalize()[1:] == local.normalize()[:-1])
    if not same_day.any():
        raise HistoryError("the history has one interval per day at most: give intervals")
    interval = float(np.median(gaps[same_day]))
    if interval <= 0 or 86400 % interval:
        raise HistoryError(f"intervals of {interval:g}s do not divide a day")
    minutes = local.hour * 60 + local.minute
    frame = pd.DataFrame(
        {
            "date": local.normalize(),
            "slot": (minutes * 60 // interval).astype(int),
            "volume": series.to_numpy(),
        }
    )
    table = frame.pivot_table(index="date", columns="slot", values="volume", aggfunc="sum")
    table = table.fillna(0.0)
    # Open weekdays are those with contacts: a closed Sunday's rows of zeros (as a log's
    # zero-filled intervals have) are no day of the season.
    totals = table.sum(axis=1).groupby(table.index.day_of_week).sum()
    open_days = sorted(int(day) for day, total in totals.items() if total > 0)
    if not open_days:
        raise HistoryError("every interval of the history has volume 0: nothing to forecast")
    table = table[[d.weekday() in open_days for d in table.index]]
    every = pd.date_range(table.index[0], table.index[-1], freq="D")
    every = every[[d.weekday() in open_days for d in every]]
    missing = every.difference(table.index)
    table = table.reindex(every)
    for date in missing:
        for step in (-7, 7, -14, 14):
            other = date + timedelta(days=step)
            if other in table.index and not table.loc[other].isna().any():
                table.loc[date] = table.loc[other]
                break
        else:
            table.loc[date] = table.mean()
    return table, interval, len(missing)


def _shares(table: pd.DataFrame) -> pd.DataFrame:
    """Each weekday's mean intraday shares; a weekday whose days in ``table`` all had no
    contact (a holiday in a short training stretch) gets the mean shares of every day."""
    weekdays = sorted({d.weekday() for d in table.index})
    kept = table[table.sum(axis=1) > 0]
    if kept.empty:
        flat = np.full(table.shape[1], 1.0 / table.shape[1])
        return pd.DataFrame([flat] * len(weekdays), index=weekdays, columns=table.columns)
    shares = kept.div(kept.sum(axis=1), axis=0)
    by_weekday = shares.groupby(shares.index.day_of_week).mean().reindex(weekdays)
    empty = by_weekday.isna().all(axis=1)
    by_weekday.loc[empty] = np.tile(shares.mean().to_numpy(), (int(empty.sum()), 1))
    return by_weekday.div(by_weekday.sum(axis=1), axis=0)


def _holt_winters(days: np.ndarray, season: int, horizon: int) -> np.ndarray:
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    # A centre open one weekday has no weekly season among its days: trend only.
    seasonal = None if season < 2 else "mul" if np.all(days > 0) else "add"
    try:
        with warnings.catch_warnings():  # convergence chatter: judged on the hold-out
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                days,
                trend="add",
                damped_trend=True,
                seasonal=seasonal,
                seasonal_periods=season if seasonal else None,
                initialization_method="estimated",
            ).fit()
            forecast = np.asarray(model.forecast(horizon), dtype=float)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise HistoryError(f"Holt-Winters cannot be fitted to this history: {exc}") from None
    if not np.isfinite(forecast).all():
        raise HistoryError("Holt-Winters gave no finite forecast for this history")
    return np.maximum(forecast, 0.0)


def _forecast_table(train: pd.DataFrame, dates, method: str, season: int) -> pd.DataFrame:
    """Forecast rows (days x slots) for ``dates`` following ``train``."""
    if method == "seasonal_naive":
        last = train.iloc[-season:].to_numpy()
        rows = np.array([last[k % season] for k in range(len(dates))])
        return pd.DataFrame(rows, index=dates, columns=train.columns)
    daily = _holt_winters(train.sum(axis=1).to_numpy(), season, len(dates))
    shares = _shares(train).reindex(columns=train.columns, fill_value=0.0)
    rows = np.array([daily[k] * shares.loc[d.weekday()].to_numpy() for k, d in enumerate(dates)])
    return pd.DataFrame(rows, index=dates, columns=train.columns)


def _errors(actual: pd.DataFrame, predicted: pd.DataFrame, scale: float) -> dict[str, float]:
    a, f = actual.to_numpy().ravel(), predicted.to_numpy().ravel()
    positive = a > 0
    day_a, day_f = actual.sum(axis=1).to_numpy(), predicted.sum(axis=1).to_numpy()
    error = float(np.mean(np.abs(a - f)))
    # A history that repeats itself week on week gives the in-sample naive error 0: an exact
    # forecast then scores 0 and any other infinity, not numpy's 0/0.
    mase = error / scale if scale > 0 else (0.0 if error == 0 else math.inf)
    mape = np.mean(np.abs(a - f)[positive] / a[positive]) * 100 if positive.any() else math.nan
    return {
        "mape_interval": float(mape),
        "mase_interval": mase,
        "mape_day": float(np.mean(np.abs(day_a - day_f) / np.maximum(day_a, 1)) * 100),
    }


def _next_dates(last, open_days: list[int], n: int):
    dates, day = [], last
    while len(dates) < n:
        day = day + timedelta(days=1)
        if day.weekday() in open_days:
            dates.append(day)
    return pd.DatetimeIndex(dates)


def forecast_volumes(
    series: pd.Series, weeks: int, holdout_weeks: int = 4, method: str | None = None
) -> ForecastResult:
    """Forecast ``weeks`` weeks after ``series`` (volumes indexed by aware local interval
    starts), judging the methods on the last ``holdout_weeks`` weeks. ``method``:
    ``seasonal_naive`` or ``holt_winters`` (default: the better on the hold-out)."""
    if weeks > MAX_WEEKS:
        raise HistoryError(f"a forecast of {weeks} weeks: at most {MAX_WEEKS} weeks ahead")
    table, interval, n_filled = _grid(series)
    open_days = sorted({d.weekday() for d in table.index})
    season = len(open_days)
    holdout = holdout_weeks * season
    if len(table) < holdout + 3 * season:
        raise HistoryError(
            f"{len(table)} days of history: forecasting with a {holdout_weeks}-week hold-out "
            f"needs at least {holdout_weeks + 3} weeks"
        )
    train, test = table.iloc[:-holdout], table.iloc[-holdout:]
    flat_train = train.to_numpy().ravel()
    scale = float(
        np.mean(
            np.abs(flat_train[season * train.shape[1] :] - flat_train[: -season * train.shape[1]])
        )
    )
    methods = ["seasonal_naive"] + (["holt_winters"] if holt_winters_available() else [])
    if method is not None and method not in methods:
        raise UserError(f"forecast method {method!r} needs statsmodels: pip install 'ccsim[fit]'")
    rows, predictions = [], {}
    for name in methods:
        try:
            predicted = _forecast_table(train, test.index, name, season)
        except HistoryError:
            if method is not None:
                raise
            continue  # Holt-Winters failed on the training weeks: seasonal naive it is
        predictions[name] = predicted
        rows.append({"method": name, **_errors(test, predicted, scale), "holdout_days": holdout})
    errors = pd.DataFrame(rows)
    chosen = method or errors.sort_values("mase_interval").iloc[0]["method"]
    predicted_days = predictions[chosen].sum(axis=1).to_numpy()
    alpha = estimate_alpha(test.sum(axis=1).to_numpy(), predicted_days)
    dates = _next_dates(table.index[-1], open_days, weeks * season)
    future = _forecast_table(table, dates, chosen, season)
    zone = series.index.tz
    records = []
    for date, row in future.iterrows():
        for slot, volume in row.items():
            local = date + timedelta(seconds=int(slot) * interval)
            start = pd.Timestamp(local).tz_localize(zone, ambiguous=True, nonexistent="NaT")
            if start is pd.NaT:
                continue  # the hour skipped in spring: no such interval
            records.append((start, date.date(), WEEKDAYS[date.weekday()], float(volume)))
    intervals = pd.DataFrame(records, columns=["interval_start", "date", "weekday", "volume"])
    daily = intervals.groupby(["date", "weekday"], as_index=False)["volume"].sum()
    return ForecastResult(
        intervals,
        daily,
        errors,
        str(chosen),
        alpha,
        interval,
        _shares(table),
        len(table),
        n_filled,
    )


def write_forecast(path: str | Path, results: dict[str, ForecastResult]) -> Path:
    """One CSV of every channel's interval forecast (local starts with their offset)."""
    from ccsim.files import write_csv

    frames = []
    for channel, result in results.items():
        frame = result.intervals.copy()
        frame.insert(0, "channel", channel)
        frame["interval_start"] = frame["interval_start"].map(lambda t: t.isoformat())
        frame["volume"] = frame["volume"].round(3)
        frames.append(frame)
    return write_csv(path, pd.concat(frames, ignore_index=True))


def describe(result: ForecastResult) -> list[str]:
    lines = [
        f"{result.n_days} days of history ({result.n_filled} missing open days filled from "
        f"the week before), intervals of {result.interval / 60:g} min",
    ]
    for row in result.errors.itertuples():
        lines.append(
            f"  {row.method:<15} hold-out {row.holdout_days} days: MAPE {row.mape_interval:.1f}%"
            f" per interval, {row.mape_day:.1f}% per day; MASE {row.mase_interval:.3f}"
        )
    lines.append(f"forecast by {result.method}; busyness from its error: {result.alpha.describe()}")
    if not holt_winters_available():
        lines.append("(Holt-Winters needs statsmodels: pip install 'ccsim[fit]')")
    if math.isinf(result.alpha.alpha):
        lines.append("(no day-level error beyond Poisson: the scenario gets no busyness)")
    return lines
