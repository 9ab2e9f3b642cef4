"""Request types fitted from a log's type column (issue #26): shares from counts, handle-time
multipliers as a type's mean over the mix's, the channel's family fitted within types.

Logs are synthesized with numpy from known per-type shares and mean handle times, so the
true multipliers are known: m_t / sum_s p_s m_s. The 95% intervals must cover them as often
as 95% intervals do (a binomial bound on the misses over seeds).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ccsim import load_scenario
from ccsim.cli import main
from ccsim.fit import fit_centre, read_records
from ccsim.fit.types import fit_request_types

NAMES = ("simple", "standard", "complex")
SHARES = np.array([0.5, 0.3, 0.2])
MEANS = np.array([150.0, 300.0, 600.0])  # seconds; the mix's mean is 285 s
TRUE_MULTIPLIERS = MEANS / (SHARES @ MEANS)
CV = 0.5  # within each type


def typed_rows(n: int, seed: int, abandon: float = 0.1) -> pd.DataFrame:
    """``n`` contacts of one channel: a type each, answered or abandoned, handle times
    lognormal with the type's mean and cv :data:`CV`."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(len(NAMES), size=n, p=SHARES)
    sigma = math.sqrt(math.log1p(CV * CV))
    handle = rng.lognormal(np.log(MEANS[kind]) - sigma**2 / 2, sigma)
    answered = rng.random(n) >= abandon
    return pd.DataFrame({
        "type": np.asarray(NAMES)[kind],
        "handle_time": np.where(answered, handle.round(3), 0.0),
        "outcome": np.where(answered, "answered", "abandoned"),
    })  # fmt: skip


def typed_log(path: Path, days: int = 10, per_day: int = 300, seed: int = 0,
              column: str = "type") -> Path:  # fmt: skip
    rng = np.random.default_rng([seed, 1])
    frames = []
    for k, day in enumerate(pd.bdate_range("2026-01-05", periods=days)):
        rows = typed_rows(rng.poisson(per_day), seed=seed * 1000 + k)
        starts = np.sort(rng.uniform(8 * 3600, 18 * 3600, len(rows))).round()
        rows["arrival"] = [(day + pd.Timedelta(seconds=float(s))).isoformat() for s in starts]
        rows["wait"] = rng.exponential(20, len(rows)).round()
        frames.append(rows)
    pd.concat(frames).rename(columns={"type": column}).to_csv(path, index=False)
    return path


def test_shares_and_multipliers_cover_the_truth_over_seeds():
    seeds = 40
    misses = {"share": 0, "multiplier": 0}
    for seed in range(seeds):
        rows = typed_rows(3000, seed)
        fit = fit_request_types(rows["type"], rows["handle_time"], rows["outcome"] == "answered")
        table = fit.table.loc[list(NAMES)]
        for what, truth in (("share", SHARES), ("multiplier", TRUE_MULTIPLIERS)):
            low, high = table[f"{what}_low"].to_numpy(), table[f"{what}_high"].to_numpy()
            misses[what] += int(((truth < low) | (truth > high)).sum())
        # The mix's mean is 1 exactly, as a scenario requires.
        assert table["share"] @ table["multiplier"] == pytest.approx(1.0, abs=1e-12)
    # 120 intervals each at 95%: more misses than this happen with probability 0.001.
    bound = stats.binom.ppf(0.999, seeds * len(NAMES), 0.05)
    assert misses["share"] <= bound and misses["multiplier"] <= bound


def test_a_type_without_handle_times_takes_the_mix():
    rows = typed_rows(2000, 0)
    rows.loc[rows["type"] == "complex", ["outcome", "handle_time"]] = ["abandoned", 0.0]
    fit = fit_request_types(rows["type"], rows["handle_time"], rows["outcome"] == "answered")
    assert fit.table.loc["complex", "multiplier"] == 1.0
    assert fit.table["share"] @ fit.table["multiplier"] == pytest.approx(1.0, abs=1e-12)
    assert "no handle time" in fit.describe("complex")


def test_the_channel_family_is_fitted_within_types(tmp_path):
    # Fitted to the raw times the cv would be the mix's (about 0.8 here), not the types'.
    pooled_cv = float(
        np.sqrt(SHARES @ (MEANS**2 * (1 + CV**2)) - (SHARES @ MEANS) ** 2) / (SHARES @ MEANS)
    )
    assert pooled_cv > 0.75
    fitted = fit_centre(read_records(typed_log(tmp_path / "log.csv")))
    handle = fitted.channels["voice"].handle_time
    low, high = handle.chosen.parameter_ci
    assert handle.chosen.family == "lognormal" and low <= CV <= high
    low, high = handle.chosen.mean_ci
    assert low <= SHARES @ MEANS <= high


@pytest.mark.parametrize("column", ["type", "request_type", "reason", "Topic"])
def test_fit_writes_request_types_that_load(tmp_path, capsys, column):
    log = typed_log(tmp_path / "log.csv", days=5, column=column)
    out = tmp_path / "fitted.yaml"
    mapped = ["--columns", "request_type=Topic"] if column == "Topic" else []
    assert main(["fit", str(log), "--out", str(out), *mapped]) == 0
    assert "types      share x handle-time multiplier: complex" in capsys.readouterr().out
    channel = load_scenario(out).channels["voice"]
    types = channel.request_types
    assert set(types) == set(NAMES)
    assert math.fsum(t.share for t in types.values()) == 1.0
    mean = math.fsum(t.share * t.handle_time_multiplier for t in types.values())
    assert mean == pytest.approx(1.0, abs=1e-4)
    # Each type's simulated mean handle time, the channel's times its multiplier, is the
    # log's mean of that type.
    frame = pd.read_csv(log)
    handled = frame[(frame.outcome == "answered") & (frame.handle_time > 0)]
    means = handled.groupby(column)["handle_time"].mean()
    for name, kind in types.items():
        simulated = channel.handle_time.mean * kind.handle_time_multiplier
        assert simulated == pytest.approx(means[name], rel=0.02)


def test_a_log_without_types_writes_none(tmp_path):
    log = typed_log(tmp_path / "log.csv", days=5)
    pd.read_csv(log).drop(columns="type").to_csv(log, index=False)
    fitted = fit_centre(read_records(log))
    assert fitted.channels["voice"].request_types is None
