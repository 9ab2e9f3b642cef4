"""One scenario's results as a page: ``ccsim run --plot``, or ``ccsim report`` on the folder
``ccsim run`` wrote.

:func:`render_run_page` reads that folder (``summary.csv``, ``replications.csv``,
``intervals.csv``) and writes ``run.html``: the KPIs of each channel with their 95%
intervals, then the figures a reader of one scenario needs — the service level and the load
by reporting interval with confidence bands, the waiting-time distribution and occupancy by
time of day — drawn by :mod:`ccsim.report.plots` (plus the load figure, drawn here) and
embedded as PNG data URIs, as in the experiment report. The page needs no other file, no
network and no JavaScript. Interval estimates are computed from the per-replication interval
rows with the same running sums and delta-method intervals as an experiment's
(:mod:`ccsim.experiment.summary`).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ccsim.experiment.folder import check_generation
from ccsim.experiment.summary import interval_block_stats, summarise_intervals
from ccsim.files import write_text
from ccsim.model import ConfigError
from ccsim.report.html import _CSS, _csv, _e, _figure_html, format_estimate

__all__ = ["is_run_folder", "render_run_page"]

#: Rows of each channel's table, in order; KPIs a run did not produce are left out.
_TABLE_KPIS = (
    "offered",
    "service_level",
    "asa",
    "p_wait",
    "abandon_rate",
    "aht",
    "occupancy",
    "mean_queue_length",
    "busy_agents",
    "available_agents",
    "containment_rate",
    "fcr",
    "labour_cost",
    "cost_per_handled_contact",
)
_LABELS = {
    "offered": "Offered contacts (per replication)",
    "service_level": "Service level",
    "asa": "Average speed of answer",
    "p_wait": "Share who waited",
    "abandon_rate": "Abandonment",
    "aht": "Average handle time",
    "occupancy": "Occupancy",
    "mean_queue_length": "Contacts waiting (time average)",
    "busy_agents": "Busy agents (time average)",
    "available_agents": "Agents at work (time average)",
    "containment_rate": "Bot containment",
    "fcr": "First-contact resolution",
    "labour_cost": "Labour cost (per replication)",
    "cost_per_handled_contact": "Cost per handled contact",
}
_KEYS = ("channel", "site")


def is_run_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds what ``ccsim run`` writes: its manifest says so (an older
    run wrote none; an experiment's manifest names no command)."""
    folder = Path(folder)
    if not (folder / "summary.csv").is_file():
        return False
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:  # an older run's, or a folder cut short: look at the tables
        return not (folder / "replications.parquet").exists()
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("command") == "run"


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    if not folder.is_dir():
        raise ConfigError(str(folder), "", "not a folder" if folder.exists() else "no such folder")
    summary = _csv(folder / "summary.csv", (*_KEYS, "kpi", "estimate", "ci_low", "ci_high"))
    if summary is None or summary.empty:
        raise ConfigError(str(folder), "", "no summary.csv: not the output of ccsim run")
    replications = _csv(folder / "replications.csv", ("replication", *_KEYS, "answered"))
    intervals = _csv(
        folder / "intervals.csv",
        ("replication", *_KEYS, "interval", "interval_start", "local_start"),
    )
    return summary, replications, intervals


def _interval_estimates(intervals: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    """Per channel, site, interval and KPI: estimate and 95% interval over the replications."""
    if intervals is None or intervals.empty:
        return None
    rows = intervals.copy()
    rows["local_start"] = rows["local_start"].astype(str)
    estimates = summarise_intervals(interval_block_stats(rows))
    return estimates.assign(scenario=name)


def load_chart(intervals: pd.DataFrame | None, summary: pd.DataFrame, channels: list[str]):
    """Per channel: offered load, busy agents and agents at work by reporting interval.

    Offered load (Erlangs) is the contacts that arrived in the interval, per replication,
    times the channel's average handle time, over the interval's length: the agents its
    work would keep busy. Its band is that of the count. Busy agents (the load carried) and
    agents at work are time averages of the interval.
    """
    from ccsim.report import plots

    name, title = "load", "Offered load and agents by interval"
    caption = (
        "Per reporting interval, in customer time: offered load (contacts that arrived in it, "
        "mean per replication, times the channel's average handle time over the interval's "
        "length, in Erlangs), busy agents (the load carried) and agents at work (idle or "
        "busy), each with its 95% confidence band over the replications. Busy agents below "
        "the offered load mean contacts still waiting or abandoned; agents at work are those "
        "of every site that may serve the channel."
    )
    if intervals is None:
        return plots.Chart(name, title, note="No intervals.csv in the folder.")
    whole = intervals[intervals["site"] == "all"]
    channels = [c for c in channels if c in set(whole["channel"])]
    if not channels:
        return plots.Chart(name, title, note="intervals.csv has no rows of whole channels.")
    clock = plots._clock(whole["interval_start"], whole["local_start"])
    # Each interval's length, from the next one's start (days of 23 or 25 hours have
    # intervals of the usual length: only the last needs the typical step).
    starts = np.sort(whole["interval_start"].unique().astype(float))
    lengths = dict(zip(starts, np.append(np.diff(starts), clock.interval_h * 3600), strict=True))
    with plots.mpl.rc_context(plots._STYLE):
        figure = plots._figure(0.6 + 2.7 * len(channels))
        panels = figure.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
        for axes, channel in zip(panels, channels, strict=True):
            part = whole[whole["channel"] == channel]
            aht = summary[
                (summary["channel"] == channel)
                & (summary["site"] == "all")
                & (summary["kpi"] == "aht")
            ]["estimate"]
            aht = float(aht.iloc[0]) if len(aht) else math.nan
            lines = [
                ("offered", "offered load", "tab:grey"),
                ("busy_agents", "busy agents", "tab:blue"),
                ("available_agents", "agents at work", "tab:green"),
            ]
            for kpi, label, colour in lines:
                rows = part[part["kpi"] == kpi].sort_values("interval_start")
                if rows.empty:
                    continue
                start = rows["interval_start"].to_numpy(float)
                factor = aht / rows["interval_start"].map(lengths).to_numpy(float)
                factor = factor if kpi == "offered" else 1.0
                x = start / 3600 + clock.interval_h / 2
                estimate = rows["estimate"].to_numpy(float) * factor
                low = rows["ci_low"].to_numpy(float) * factor
                high = rows["ci_high"].to_numpy(float) * factor
                axes.plot(x, estimate, color=colour, label=label)
                axes.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
            axes.set_title(plots._channel_title(channel), loc="left")
            axes.set_ylabel("agents (Erlangs)")
            axes.set_ylim(bottom=0)
        plots._apply_clock(panels[-1], clock)
        panels[-1].set_xlabel(clock.xlabel)
        plots._legend(figure, panels[0], 3)
        return plots.Chart(name, title, caption, plots._png(figure))


def _table(summary: pd.DataFrame, channel: str, currency: str = "USD") -> str:
    rows = summary[(summary["channel"] == channel) & (summary["site"] == "all")]
    rows = rows.set_index("kpi")
    cells = []
    for kpi in _TABLE_KPIS:
        if kpi not in rows.index:
            continue
        row = rows.loc[kpi]
        if not math.isfinite(row["estimate"]):
            continue
        if kpi in ("labour_cost", "cost_per_handled_contact") and row["estimate"] == 0:
            continue  # no site has a cost per hour
        text, interval = format_estimate(
            kpi, row["estimate"], row["ci_low"], row["ci_high"], currency=currency
        )
        cells.append(
            f"<tr><th>{_e(_LABELS[kpi])}</th><td>{_e(text)}</td>"
            f'<td class="ci">{_e(interval)}</td></tr>'
        )
    title = "all channels" if channel == "all" else channel
    return (
        f"<h3>{_e(title)}</h3><table><thead><tr><th>KPI</th><th>estimate</th>"
        f"<th>95% interval</th></tr></thead><tbody>{''.join(cells)}</tbody></table>"
    )


def render_run_page(out_dir: str | Path, name: str | None = None) -> Path:
    """Write ``out_dir/run.html`` for the results ``ccsim run`` wrote to ``out_dir``; return
    its path. ``name`` (the scenario's) titles the page; the folder's name otherwise.

    A missing folder or summary, or an unreadable file, raises
    :class:`~ccsim.model.ConfigError`.
    """
    from ccsim.report import plots  # matplotlib: loaded only when a page is drawn

    folder = Path(out_dir)
    summary, replications, intervals = _read(folder)
    manifest, facts = folder / "manifest.json", {}
    if manifest.is_file():  # never a page from tables of different runs
        facts = json.loads(manifest.read_text(encoding="utf-8"))
        check_generation(folder, facts)
    # The scenario's currency, which the run records; USD (the default) for older runs.
    currency = str(facts.get("currency") or "USD") if isinstance(facts, dict) else "USD"
    name = name or folder.resolve().name
    channels = [c for c in dict.fromkeys(summary["channel"]) if c != "all"]
    shown = (["all"] if "all" in set(summary["channel"]) else []) + channels
    estimates = _interval_estimates(intervals, name)
    n_reps = int(replications["replication"].nunique()) if replications is not None else 0
    charts = [
        plots.service_level_chart(estimates, [name], shown, None),
        load_chart(estimates, summary, channels),
        plots.waiting_time_chart(
            # copy(): a wide table read from CSV is one block per column; assign would warn
            replications.copy().assign(scenario=name) if replications is not None else None,
            [name],
            channels,
            None,
        ),
        plots.occupancy_chart(estimates, [name], "all" if len(channels) > 1 else channels[0]),
    ]
    if estimates is None:  # the plots' own notes name an experiment's file
        note = "No intervals.csv in the folder."
        charts = [
            c if c.png is not None or c.name == "waiting_times" else replace(c, note=note)
            for c in charts
        ]
    title = f"{name}: {n_reps} replications" if n_reps else name
    body = "".join(_table(summary, channel, currency) for channel in shown)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body><header>"
        f"<h1>{_e(title)}</h1><p>Results of <code>ccsim run</code> in "
        f"<code>{_e(folder)}</code>: each KPI with its 95% confidence interval over the "
        "independent replications (ratios as ratios of totals; docs/metrics.md defines each)."
        f'</p></header>\n<section id="kpis"><h2>KPIs</h2>{body}</section>\n'
        '<section id="figures"><h2>Figures</h2>'
        + "".join(_figure_html(chart) for chart in charts)
        + "</section>\n</body></html>\n"
    )
    return write_text(folder / "run.html", page)
