"""Time-varying demand: interval counts follow the profile (a spike included), and day-level
busyness gives Poisson-gamma counts with variance Lambda + Lambda^2 / alpha."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scipy import stats

import ccsim
from ccsim.model import Arrivals, ConfigError
from ccsim.model.calendar import Calendar
from ccsim.sim.arrivals import arrival_epochs, expected_arrivals, interval_rates

#: 24 hourly weights: a quiet night, a morning ramp, a one-hour spike at 14:00, an evening.
PROFILE = [1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 8, 9, 40, 8, 7, 6, 5, 4, 3, 2, 1, 1]


def counts_per_interval(arrivals: Arrivals, calendar: Calendar, seeds: range) -> np.ndarray:
    edges = [*calendar.edges, calendar.horizon]
    counts = np.zeros(len(calendar.slots))
    for seed in seeds:
        epochs = np.fromiter(
            arrival_epochs(arrivals, calendar, np.random.default_rng(seed)), dtype=float
        )
        counts += np.histogram(epochs, bins=edges)[0]
    return counts


def test_interval_counts_follow_a_piecewise_constant_profile_with_a_spike():
    calendar = Calendar(datetime(2026, 3, 2), "UTC", 86400, 3600)
    arrivals = Arrivals(volume=2400, profile=PROFILE)
    counts = counts_per_interval(arrivals, calendar, range(40))
    expected = 40 * 2400 * np.array(PROFILE) / sum(PROFILE)
    assert counts.sum() == pytest.approx(expected.sum(), rel=0.02)
    # Chi-square goodness of fit of the 24 hourly counts to the profile.
    statistic, p_value = stats.chisquare(counts, expected * counts.sum() / expected.sum())
    assert p_value > 0.001, (statistic, p_value)
    # The spike hour alone: its count is Poisson(40 * 2400 * 40/167).
    spike = expected[14]
    assert abs(counts[14] - spike) < 4 * np.sqrt(spike)
    assert counts[14] > 3 * counts[13]


def test_a_short_spike_between_empty_intervals_is_never_skipped():
    # Drawing the next gap at the current rate would jump over a 15-minute spike that
    # follows a long zero-rate stretch; inversion of the cumulative rate cannot.
    calendar = Calendar(datetime(2026, 3, 2), "UTC", 86400, 900)
    profile = [0.0] * 96
    profile[50] = 1.0
    arrivals = Arrivals(volume=30, profile=profile)
    for seed in range(20):
        epochs = np.fromiter(
            arrival_epochs(arrivals, calendar, np.random.default_rng(seed)), dtype=float
        )
        assert np.all((epochs >= 50 * 900) & (epochs < 51 * 900))
    counts = counts_per_interval(arrivals, calendar, range(200))
    assert counts[50] == counts.sum()
    assert abs(counts.sum() - 6000) < 4 * np.sqrt(6000)


def test_volume_per_weekday():
    calendar = Calendar(datetime(2026, 3, 2), "UTC", 7 * 86400, 3600)  # Monday to Sunday
    volumes = {"mon": 700, "tue": 600, "wed": 600, "thu": 600, "fri": 500, "sat": 200, "sun": 0}
    arrivals = Arrivals(volume=volumes)
    rates = interval_rates(arrivals, calendar).reshape(7, 24)
    assert np.allclose(rates.sum(axis=1) * 3600, list(volumes.values()))
    assert expected_arrivals(arrivals, calendar) == pytest.approx(3200)


def test_poisson_gamma_daily_counts_have_the_extra_variance():
    alpha, volume, days = 8.0, 400.0, 2000
    calendar = Calendar(datetime(2026, 3, 2), "UTC", days * 86400, 86400)
    arrivals = Arrivals(volume=volume, busyness={"alpha": alpha})
    rng, busy = np.random.default_rng(1), np.random.default_rng(2)
    epochs = np.fromiter(arrival_epochs(arrivals, calendar, rng, busy), dtype=float)
    daily = np.bincount((epochs // 86400).astype(int), minlength=days)
    mean, variance = daily.mean(), daily.var(ddof=1)
    theory = volume + volume**2 / alpha  # 20,400, fifty times the Poisson variance
    assert mean == pytest.approx(volume, abs=4 * np.sqrt(theory / days))
    # The sample variance of n draws has relative sd about sqrt(2/n) (a bit more with the
    # gamma's excess kurtosis): allow 5 of them.
    assert variance == pytest.approx(theory, rel=5 * np.sqrt(2 / days) * 1.3)
    assert variance > 20 * volume


def test_constant_rate_is_one_flat_segment():
    calendar = Calendar(datetime(2026, 3, 2), "UTC", 7200, 1800)
    assert np.allclose(interval_rates(Arrivals(rate="90/h"), calendar), 0.025)


SCENARIO = {
    "name": "t",
    "horizon": "1d",
    "interval": "1h",
    "channels": {
        "voice": {
            "arrivals": {"volume": 2400, "profile": PROFILE},
            "handle_time": {"dist": "exponential", "mean": "3min"},
            "service_level": {"threshold": "20s", "target": 0.8},
        }
    },
    "sites": [{"name": "main", "agents": 40}],
}


def test_the_engine_reports_demand_per_interval():
    result = ccsim.simulate(ccsim.parse_scenario(SCENARIO), seed=3)
    offered = result.interval_kpis.offered.to_numpy()
    assert offered.argmax() == 14 and len(offered) == 24
    assert result.interval_kpis.local_start.iloc[14] == "2026-01-05T14:00:00+00:00"


def with_arrivals(arrivals: dict) -> dict:
    channel = SCENARIO["channels"]["voice"] | {"arrivals": arrivals}
    return SCENARIO | {"channels": {"voice": channel}}


@pytest.mark.parametrize(
    ("arrivals", "path", "words"),
    [
        ({"volume": 100, "profile": [1, 2]}, "channels.voice.arrivals.profile", "24 intervals"),
        ({"volume": 100, "rate": "3/min"}, "channels.voice.arrivals", "not both"),
        ({}, "channels.voice.arrivals", "either"),
        ({"rate": "3/min", "profile": PROFILE}, "channels.voice.arrivals", "go with 'volume'"),
        ({"volume": -5}, "channels.voice.arrivals.volume", ""),
        ({"volume": {"mon": 1}}, "channels.voice.arrivals.volume", "tue is missing"),
        ({"volume": {"monday": 1}}, "channels.voice.arrivals.volume", "unknown weekday"),
        ({"volume": 100, "profile": [0] * 24}, "channels.voice.arrivals.profile", "zero"),
        ({"volume": 100, "busyness": {"alpha": 0}}, "channels.voice.arrivals.busyness.alpha", ""),
        ({"volume": 100, "profile": {"file": "nope.csv"}}, "channels.voice.arrivals", "cannot"),
    ],
)
def test_bad_demand_names_the_field(arrivals, path, words):
    with pytest.raises(ConfigError) as info:
        ccsim.parse_scenario(with_arrivals(arrivals), source="s.yaml")
    assert info.value.path.startswith(path), info.value
    assert words in info.value.message


def test_profile_from_a_csv_file_next_to_the_scenario(tmp_path):
    (tmp_path / "profile.csv").write_text(
        "hour,weight\n" + "\n".join(f"{h},{w}" for h, w in enumerate(PROFILE))
    )
    import json  # JSON is YAML

    data = with_arrivals({"volume": 2400, "profile": {"file": "profile.csv"}})
    (tmp_path / "s.yaml").write_text(json.dumps(data))
    scenario = ccsim.load_scenario(tmp_path / "s.yaml")
    assert scenario.channels["voice"].arrivals.profile == [float(w) for w in PROFILE]
