"""Is the fitted model the centre? Simulate the fitted scenario and set its KPIs beside the
log's, by time of day.

The log's KPIs are computed with ccsim's own definitions (``docs/metrics.md``): service
level = answered within the threshold / contacts that queued (answered, abandoned, or left
otherwise; balked and blocked never queued), abandon rate = abandoned / (answered +
abandoned), ASA = mean wait of the answered; offered per open day (a day whose weekday
has a volume: a Mon-Fri centre's weekends do not count). Contacts count in the
reporting interval of their arrival, on the customers' wall clock, pooled over the log's
days. The fitted scenario is simulated over the same days (``reps`` replications); each KPI
gets the simulation's 95% interval of its mean and a 95% prediction interval for one log
as long as the observed one (the per-replication spread, scaled by the log's runs). A log
KPI inside its prediction interval *agrees*: it could have come from the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ccsim.fit.centre import NOT_QUEUED
from ccsim.fit.records import Records
from ccsim.model.scenario import Scenario

__all__ = ["VALIDATION_KPIS", "Validation", "open_days", "validate", "write_validation"]

VALIDATION_KPIS = ("offered", "service_level", "abandon_rate", "asa")


def _kpis(t: pd.DataFrame, days: float) -> pd.DataFrame:
    """KPIs from summed tallies (columns offered, queued, answered, abandoned, within,
    wait_answered)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "offered": t["offered"] / days,
                "service_level": t["within"] / t["queued"],
                "abandon_rate": t["abandoned"] / (t["answered"] + t["abandoned"]),
                "asa": t["wait_answered"] / t["answered"],
            },
            index=t.index,
        )


def _label(slot: int, interval: float) -> str:
    minutes = int(slot * interval // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def observed_tallies(rows: pd.DataFrame, interval: float, threshold: float) -> pd.DataFrame:
    """One channel's log summed per reporting interval of the day."""
    local = rows["arrival"].dt.tz_localize(None)
    slot = ((local.dt.hour * 60 + local.dt.minute) * 60 // interval).astype(int)
    answered = rows["outcome"] == "answered"
    frame = pd.DataFrame(
        {
            "slot": slot.to_numpy(),
            "offered": 1.0,
            "queued": (~rows["outcome"].isin(NOT_QUEUED)).to_numpy(float),
            "answered": answered.to_numpy(float),
            "abandoned": (rows["outcome"] == "abandoned").to_numpy(float),
            "within": (answered & (rows["wait"] <= threshold)).to_numpy(float),
            "wait_answered": rows["wait"].where(answered, 0.0).to_numpy(),
        }
    )
    return frame.groupby("slot").sum()


def simulated_tallies(intervals: pd.DataFrame, channel: str, interval: float) -> pd.DataFrame:
    """Interval rows of a run (``run_replications(..., intervals=True)``) summed per
    (replication, reporting interval of the day)."""
    rows = intervals[(intervals["channel"] == channel) & (intervals["site"] == "all")]
    clock = rows["local_start"].str.slice(11, 16)
    minutes = clock.str.slice(0, 2).astype(int) * 60 + clock.str.slice(3, 5).astype(int)
    frame = pd.DataFrame(
        {
            "replication": rows["replication"].to_numpy(),
            "slot": (minutes * 60 // interval).astype(int).to_numpy(),
            "offered": rows["offered"].to_numpy(),
            "queued": (
                rows["answered"]
                + rows["abandoned"]
                + rows["carried_over"]
                + rows["messages"]
                + rows["disconnected"]
            ).to_numpy(),
            "answered": rows["answered"].to_numpy(),
            "abandoned": rows["abandoned"].to_numpy(),
            "within": rows["answered_within_threshold"].to_numpy(),
            "wait_answered": rows["wait_answered"].to_numpy(),
        }
    )
    return frame.groupby(["replication", "slot"]).sum()


@dataclass(frozen=True)
class Validation:
    """Observed and simulated KPIs side by side: one row per (channel, interval of the
    day or ``all``, KPI)."""

    table: pd.DataFrame
    reps: int
    seed: int

    def agreement(self, channel: str | None = None) -> pd.DataFrame:
        """The whole-day rows."""
        rows = self.table[self.table["interval"] == "all"]
        return rows if channel is None else rows[rows["channel"] == channel]


def _compare(
    channel: str,
    observed: pd.DataFrame,
    simulated: pd.DataFrame,
    days: int,
    log_runs: int,
    interval: float,
) -> list[dict]:
    reps = simulated.index.get_level_values("replication").nunique()
    z = stats.norm.ppf(0.975)
    t = stats.t.ppf(0.975, max(reps - 1, 1))
    groups = {
        "all": (observed.sum().to_frame().T, simulated.groupby("replication").sum()),
    }
    for slot in observed.index.union(simulated.index.get_level_values("slot").unique()):
        obs = observed.loc[[slot]] if slot in observed.index else None
        sim = (
            simulated.xs(slot, level="slot")
            if slot in simulated.index.get_level_values("slot")
            else None
        )
        if obs is None or sim is None:
            continue
        groups[_label(int(slot), interval)] = (obs, sim)
    rows = []
    for label, (obs, sim) in groups.items():
        seen = _kpis(obs.reset_index(drop=True), days * log_runs).iloc[0]
        per_rep = _kpis(sim, days)
        totals = _kpis(sim.sum().to_frame().T, days * reps).iloc[0]
        for kpi in VALIDATION_KPIS:
            values = per_rep[kpi].dropna()
            sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
            half = t * sd / math.sqrt(len(values)) if len(values) > 1 else math.nan
            spread = z * sd * math.sqrt(1.0 / log_runs + 1.0 / max(len(values), 1))
            estimate = float(totals[kpi])
            # Every KPI here is non-negative and the shares are at most 1.
            low = max(estimate - spread, 0.0)
            high = estimate + spread
            if kpi in ("service_level", "abandon_rate"):
                high = min(high, 1.0)
            observed_value = float(seen[kpi])
            rows.append(
                {
                    "channel": channel,
                    "interval": label,
                    "kpi": kpi,
                    "observed": observed_value,
                    "simulated": estimate,
                    "ci_low": estimate - half,
                    "ci_high": estimate + half,
                    "prediction_low": low,
                    "prediction_high": high,
                    "agrees": bool(low <= observed_value <= high)
                    if math.isfinite(observed_value) and math.isfinite(sd)
                    else None,
                }
            )
    return rows


def open_days(scenario: Scenario, channel: str) -> int:
    """Days of the horizon on which ``channel`` expects contacts: offered is per open day
    (a Mon-Fri centre's weekends would otherwise cut it by two sevenths)."""
    days = max(round(scenario.horizon / 86400), 1)
    arrivals = scenario.channels[channel].arrivals
    if arrivals is None or arrivals.volume is None:
        return days
    first = scenario.start.weekday()
    return sum(arrivals.daily_volume((first + k) % 7) > 0 for k in range(days)) or days


def validate(
    scenario: Scenario, records: Records, reps: int = 20, seed: int = 1, n_jobs: int = 1
) -> Validation:
    """Simulate ``scenario`` (fitted to ``records``) and compare interval KPIs."""
    from ccsim.experiment.parallel import run_replications

    _, intervals = run_replications(scenario, reps, seed=seed, n_jobs=n_jobs, intervals=True)
    threshold_of = {name: ch.service_level.threshold for name, ch in scenario.channels.items()}
    log_runs = records.frame["replication"].nunique()
    rows: list[dict] = []
    for channel in records.channels:
        if channel not in scenario.channels:
            continue
        observed = observed_tallies(
            records.channel(channel), scenario.interval, threshold_of[channel]
        )
        simulated = simulated_tallies(intervals, channel, scenario.interval)
        days = open_days(scenario, channel)
        rows += _compare(channel, observed, simulated, days, log_runs, scenario.interval)
    return Validation(pd.DataFrame(rows), reps, seed)


def _chart(table: pd.DataFrame, channel: str):
    from matplotlib.figure import Figure

    from ccsim.report.chart import Chart, png_bytes

    rows = table[(table["channel"] == channel) & (table["interval"] != "all")]
    figure = Figure(figsize=(10, 6.5), layout="constrained")
    panels = figure.subplots(2, 2, sharex=True).ravel()
    for axes, kpi in zip(panels, VALIDATION_KPIS, strict=True):
        part = rows[rows["kpi"] == kpi]
        x = np.arange(len(part))
        axes.fill_between(
            x,
            part["prediction_low"],
            part["prediction_high"],
            alpha=0.25,
            label="simulated, 95% prediction",
        )
        axes.plot(x, part["simulated"], label="simulated mean")
        axes.plot(x, part["observed"], "o", markersize=3, color="black", label="log")
        axes.set_title(kpi.replace("_", " "))
        step = max(1, len(part) // 8)
        axes.set_xticks(x[::step], part["interval"].iloc[::step])
    panels[0].legend(loc="best", fontsize=8)
    return Chart(
        f"validation-{channel}",
        f"{channel}: the log against the fitted model",
        "By reporting interval of the customers' day, pooled over the log's days.",
        png_bytes(figure),
    )


def _cell(kpi: str, value: float) -> str:
    from ccsim.report.formatting import PAGE, format_value

    return format_value(kpi, value, style=PAGE) if math.isfinite(value) else "-"


def write_validation(out: str | Path, validation: Validation, title: str) -> list[Path]:
    """``validation.csv`` and ``validation.html`` in ``out`` (written atomically)."""
    from ccsim.files import write_csv, write_text
    from ccsim.report.page import render_page

    out = Path(out)
    table = validation.table
    paths = [write_csv(out / "validation.csv", table)]
    channels = [
        {
            "name": channel,
            "rows": [
                {
                    "kpi": row.kpi,
                    "log": _cell(row.kpi, row.observed),
                    "simulated": _cell(row.kpi, row.simulated),
                    "low": _cell(row.kpi, row.prediction_low),
                    "high": _cell(row.kpi, row.prediction_high),
                    "agrees": "yes" if row.agrees else "no" if row.agrees is not None else "-",
                }
                for row in rows[rows["interval"] == "all"].itertuples()
            ],
            "chart": _chart(table, channel),
        }
        for channel, rows in table.groupby("channel", sort=False)
    ]
    page = render_page(
        "validation.html",
        title=title,
        reps=validation.reps,
        seed=validation.seed,
        channels=channels,
    )
    paths.append(write_text(out / "validation.html", page))
    return paths
