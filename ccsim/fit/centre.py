"""A contact log turned into a scenario: each channel's demand, handle time and patience,
the sites and their agents, written as a normal scenario file with comments that state each
estimate's 95% interval and sample size.

Staffing is not in a contact log; each site gets a constant number of agents: the number
given, or else the most contacts the site's agents handled at once in the log. That is the
site's staffing when staffing was constant and a queue formed at some point (every agent
was busy then); otherwise it is a lower bound and ``agents`` should be given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ccsim.fit.checks import implausible
from ccsim.fit.demand import DemandFit, fit_demand
from ccsim.fit.durations import HandleTimeFit, fit_handle_times
from ccsim.fit.forecast import ForecastResult, forecast_volumes
from ccsim.fit.patience import PatienceFit, fit_patience
from ccsim.fit.records import Records, plain_name
from ccsim.fit.types import TypeFit, fit_request_types
from ccsim.model.calendar import WEEKDAYS
from ccsim.model.errors import UserError
from ccsim.model.units import format_duration
from ccsim.planning.scenario_file import OneLine, dump_yaml

__all__ = [
    "ChannelFit",
    "FittedCentre",
    "fit_centre",
    "overlap_tolerance",
    "peak_busy_agents",
    "scenario_text",
]

#: Outcomes that never queued: left out of the service level's denominator.
NOT_QUEUED = frozenset({"balked", "blocked", "contained", "callbacks"})


class FitError(UserError):
    """Records that cannot give an estimate (no answered contact, one day, ...)."""


@dataclass(frozen=True)
class ChannelFit:
    name: str
    n_contacts: int
    demand: DemandFit
    handle_time: HandleTimeFit
    patience: PatienceFit | None  # None: nobody abandoned
    forecast: ForecastResult | None = None
    request_types: TypeFit | None = None  # None: the log has no type column


@dataclass(frozen=True)
class FittedCentre:
    source: str
    timezone: str
    interval: float
    first_date: pd.Timestamp
    n_days: int
    n_replications: int
    channels: dict[str, ChannelFit]
    agents: dict[str, int]
    agents_estimated: bool
    threshold: float
    target: float
    odd: dict[str, int] = field(default_factory=dict)
    skills: dict[str, list[str]] = field(default_factory=dict)  # site -> channels it answered
    warnings: tuple[str, ...] = ()  # what looks wrong in the log, and what was assumed


#: Times in exports are rounded: a service that ends this close before the next one starts
#: on the same agent is never counted as overlapping it (more when the log is coarser).
_RESOLUTION = 1.0

#: Steps a log's times may be rounded to, coarsest first (seconds).
_STEPS = (60.0, 1.0, 0.1)


def _step(values: np.ndarray) -> float:
    """The coarsest of :data:`_STEPS` that every value is a whole multiple of, else 0."""
    values = values[np.isfinite(values)]
    for step in _STEPS:
        ratio = values / step
        if len(values) and np.all(np.abs(ratio - np.round(ratio)) < 1e-3):
            return step
    return 0.0


def overlap_tolerance(frame: pd.DataFrame) -> float:
    """How far one service may seem to run into the next on the same agent through the
    log's rounding alone: start = arrival + wait and end = start + handle time are each off
    by up to half their steps, so an end and the next start by up to arrival step + wait
    step + half the handle-time step (2.5 s for whole seconds); at least 1 s."""
    clock = frame["arrival"].dt.tz_localize(None)
    of_day = (clock - clock.dt.normalize()).dt.total_seconds().to_numpy()
    arrival, wait = _step(of_day), _step(frame["wait"].to_numpy(dtype=float))
    handle = _step(frame["handle_time"].to_numpy(dtype=float))
    return max(_RESOLUTION, arrival + wait + handle / 2)


def peak_busy_agents(frame: pd.DataFrame) -> int:
    """The most answered contacts in service at once (per replication, the largest)."""
    answered = frame[(frame["outcome"] == "answered") & frame["handle_time"].notna()]
    best = 0
    tolerance = overlap_tolerance(answered) if len(answered) else _RESOLUTION
    for _, run in answered.groupby("replication"):
        start = (run["arrival"] - run["arrival"].iloc[0]).dt.total_seconds() + run["wait"]
        start = start.to_numpy()
        end = start + run["handle_time"].to_numpy() - tolerance
        times = np.concatenate((start, end))
        steps = np.concatenate((np.ones(len(start)), -np.ones(len(end))))
        # Ends before starts at the same instant: an agent freed takes the next contact.
        order = np.lexsort((steps, times))
        best = max(best, int(np.cumsum(steps[order]).max()))
    return best


def fit_centre(
    records: Records,
    interval: float = 1800.0,
    agents: dict[str, int] | int | None = None,
    threshold: float = 20.0,
    target: float = 0.8,
    forecast_weeks: int | None = None,
    holdout_weeks: int = 4,
) -> FittedCentre:
    """Fit every channel of ``records`` (see the modules of :mod:`ccsim.fit`)."""
    if not 0 < interval <= 86400 or 86400 % interval:
        raise FitError(
            f"--interval {format_duration(interval)} does not divide a day (e.g. 15min, 30min, 1h)"
        )
    frame = records.frame
    local = frame["arrival"].dt.tz_localize(None).dt.normalize()
    dates = pd.date_range(local.min(), local.max(), freq="D")
    runs = sorted(frame["replication"].unique())
    channels = {
        name: _fit_channel(records, name, (runs, dates), interval, forecast_weeks, holdout_weeks)
        for name in records.channels
    }
    sites = [s for s in dict.fromkeys(frame.loc[frame.outcome == "answered", "site"]) if s]
    estimated = agents is None
    if isinstance(agents, int):
        if len(sites) > 1:
            raise FitError(f"the log has {len(sites)} sites: give agents per site (site=N,...)")
        staffing = {sites[0] if sites else "main": agents}
    elif agents:
        agents = {plain_name(site, "main"): n for site, n in agents.items()}  # as the log's
        unknown = sorted(set(agents) - set(sites)) if sites else []
        if unknown:
            raise FitError(f"no site {unknown[0]!r} answers in the log (sites: {sites})")
        staffing = dict(agents)
    else:
        staffing = {
            site or "main": max(1, peak_busy_agents(frame[frame["site"] == site]))
            for site in (sites or [""])
        }
    answered = frame[frame.outcome == "answered"]
    skills = {
        site or "main": list(dict.fromkeys(group["channel"]))
        for site, group in answered.groupby("site", sort=False)
    }
    return FittedCentre(
        records.source,
        records.timezone,
        interval,
        dates[0],
        len(dates),
        len(runs),
        channels,
        staffing,
        estimated,
        threshold,
        target,
        dict(records.odd),
        skills,
        (*records.assumed, *implausible(frame)),
    )


def _fit_channel(
    records: Records,
    name: str,
    days: tuple,
    interval: float,
    forecast_weeks: int | None,
    holdout_weeks: int,
) -> ChannelFit:
    """One channel's demand, handle time (per request type where the log has types),
    patience and forecast; ``days``: the log's runs and dates."""
    rows = records.channel(name)
    demand = fit_demand(rows["arrival"], rows["replication"], days, interval)
    answered = rows["outcome"] == "answered"
    handled = rows.loc[answered, "handle_time"]
    types = None
    try:
        if "request_type" in rows and rows["request_type"].ne("").any():
            types = fit_request_types(rows["request_type"], rows["handle_time"], answered)
            handled = handled / rows.loc[answered, "request_type"].map(types.multipliers())
        handle_time = fit_handle_times(handled.to_numpy())
    except ValueError as exc:
        raise FitError(f"{records.source}: channel {name}: {exc}") from None
    queued = rows[~rows["outcome"].isin(NOT_QUEUED)]
    abandoned = queued["outcome"] == "abandoned"
    patience = (
        fit_patience(queued["wait"].to_numpy(), abandoned.to_numpy()) if abandoned.any() else None
    )
    forecast = None
    if forecast_weeks:
        history = _interval_counts(rows, interval)
        forecast = forecast_volumes(history, forecast_weeks, holdout_weeks)
    return ChannelFit(name, len(rows), demand, handle_time, patience, forecast, types)


def _interval_counts(rows: pd.DataFrame, interval: float) -> pd.Series:
    """Arrivals per reporting interval (one replication: the first), as a history."""
    first = rows[rows["replication"] == rows["replication"].min()]
    local = first["arrival"].dt.tz_localize(None)
    starts = local.dt.floor(f"{int(interval)}s")
    counts = starts.value_counts().sort_index()
    zone = first["arrival"].dt.tz
    full = pd.date_range(
        counts.index[0].normalize(),
        counts.index[-1].normalize() + timedelta(days=1),
        freq=f"{int(interval)}s",
        inclusive="left",
    )
    counts = counts.reindex(full, fill_value=0)
    index = counts.index.tz_localize(zone, ambiguous=True, nonexistent="NaT")
    return pd.Series(counts.to_numpy(float), index=index)[~index.isna()]


# --- the scenario file ----------------------------------------------------------------------
#
# Every value is written by the YAML library (quoted where it must be), every comment is
# made one line: no text from the log or the command line can add a field to the file.

#: Characters that would end a comment's line (YAML 1.1 readers also break at NEL, LS, PS).
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_WIDTH = 96


def _one_line(text) -> str:
    return _BREAKS.sub(" ", str(text))


def _comment(text: str, indent: str = "") -> str:
    return f"{indent}# {_one_line(text)}"


def _field(key: str, value, indent: str = "", comment: str = "") -> list[str]:
    """``key: value`` at ``indent``, written by ruamel.yaml; ``comment`` at its end."""
    text = dump_yaml({key: value}, width=max(40, _WIDTH - len(indent)))
    lines = [indent + line for line in text.splitlines()]
    if comment:
        lines[-1] += f"  # {_one_line(comment)}"
    return lines


def _open(key: str, indent: str = "") -> str:
    """``key:`` opening a block mapping (the key quoted by the library where it must be)."""
    text = dump_yaml({key: OneLine()}).strip()
    if "\n" in text or not text.endswith(": {}"):
        raise FitError(f"{key!r} cannot be a name in a scenario file")
    return indent + text[: -len(" {}")]


def _distribution(spec: dict) -> OneLine:
    shown = OneLine(dist=spec["dist"], mean=f"{spec['mean']:.6g}s")
    shown.update({k: spec[k] for k in ("cv", "k") if k in spec})
    return shown


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def scenario_text(fitted: FittedCentre, name: str = "fitted") -> str:
    """The fitted scenario as YAML, each estimate commented with its interval and n."""
    start = datetime.combine(fitted.first_date.date(), datetime.min.time())
    days = fitted.n_days
    forecasting = any(c.forecast is not None for c in fitted.channels.values())
    if forecasting:
        first = min(c.forecast.daily["date"].min() for c in fitted.channels.values())
        last = max(c.forecast.daily["date"].max() for c in fitted.channels.values())
        start = datetime.combine(first, datetime.min.time())
        days = (last - first).days + 1
    runs = f" x {fitted.n_replications} runs" if fitted.n_replications > 1 else ""
    out = [
        _comment(
            f"Fitted by `ccsim fit` from {fitted.source}: {_days(fitted.n_days)}{runs} of "
            f"contacts from {fitted.first_date.date()}, {fitted.timezone}."
        ),
        "# Every estimate is commented with its 95% interval and sample size; see docs/fitting.md.",
    ]
    if fitted.odd:
        out.append(
            _comment(
                "Odd rows, kept and counted: "
                + "; ".join(f"{what}: {count:,}" for what, count in fitted.odd.items())
            )
        )
    out += [_comment(f"Warning: {warning}") for warning in fitted.warnings]
    if forecasting:
        out.append(
            "# Demand: the forecast of the next weeks (volumes by weekday), busyness "
            "from the forecast's hold-out error."
        )
    out += _field("name", name)
    out += _field("horizon", f"{days}d")
    out += _field("interval", format_duration(fitted.interval))
    out += _field("start", start.isoformat())
    out += _field("timezone", fitted.timezone)
    out.append("channels:")
    for channel in fitted.channels.values():
        out += _channel_lines(channel, fitted)
    out.append("sites:")
    how = (
        "the most agents busy at once in the log (a lower bound unless a queue formed)"
        if fitted.agents_estimated
        else "given on the command line"
    )
    for site, n in fitted.agents.items():
        lines = _field("name", site, "    ")
        out += ["  - " + lines[0][4:], *lines[1:]]
        out += _field("agents", n, "    ", how)
        served = fitted.skills.get(site)
        if len(fitted.agents) > 1 and served:
            out += _field("skills", list(served), "    ")
    return "\n".join(out) + "\n"


def _channel_lines(channel: ChannelFit, fitted: FittedCentre) -> list[str]:
    d, h, p = channel.demand, channel.handle_time, channel.patience
    out = [_open(channel.name, "  "), "    kind: voice", "    arrivals:"]
    if channel.forecast is not None:
        f = channel.forecast
        volume = f.volume_by_weekday()
        alpha = f.alpha
        best = f.errors.set_index("method").loc[f.method]
        out.append(
            _comment(
                f"volume per weekday: mean of the {f.method} forecast; hold-out MAPE "
                f"{best.mape_interval:.1f}% per interval, MASE {best.mase_interval:.3f}",
                "      ",
            )
        )
    else:
        volume, alpha = d.volume, d.alpha
        out.append(_comment(f"volume per weekday: mean day total; {d.describe_volume()}", "      "))
    out += _field("volume", OneLine({w: round(float(volume[w]), 2) for w in WEEKDAYS}), "      ")
    out.append(
        f"      # share of the day's contacts per {format_duration(d.interval)} of the "
        f"customers' day, from {d.n_arrivals:,} arrivals"
    )
    shares = [float(f"{x:.6g}") if x else 0 for x in d.profile]
    out += _field("profile", shares, "      ")
    out.append(_comment(f"busyness (day-level overdispersion): {alpha.describe()}", "      "))
    if math.isfinite(alpha.alpha) and alpha.overdispersed:
        out += _field("busyness", OneLine(alpha=float(f"{alpha.alpha:.4g}")), "      ")
    else:
        out.append("      # no busyness: plain Poisson days are not rejected")
    types = channel.request_types
    if types is not None:
        out.append(_comment("handle time of the mix: times over their type's multiplier", "    "))
    out.append(_comment(f"handle time: {h.describe()}", "    "))
    out += _field("handle_time", _distribution(h.chosen.distribution()), "    ")
    if types is not None:
        out.append(
            "    # request types: share of the channel's contacts; handle_time_multiplier: the "
            "type's mean handle time over the mix's (95% intervals, n)"
        )
        out.append("    request_types:")
        for kind, spec in types.written().items():
            out += _field(kind, OneLine(spec), "      ", types.describe(kind))
    if p is None:
        out.append("    # patience: nobody abandoned in the log, so none is set (no abandonment)")
    else:
        out.append(_comment(f"patience: {p.describe()}", "    "))
        out += _field("patience", _distribution(p.chosen.distribution()), "    ")
    level = OneLine(threshold=format_duration(fitted.threshold), target=float(fitted.target))
    out += _field("service_level", level, "    ")
    return out
