"""One scenario's results as a page: ``ccsim run --plot``, or ``ccsim report`` on the folder
``ccsim run`` wrote.

:func:`render_run_page` reads that folder (``summary.csv``, ``replications.csv``,
``intervals.csv``) and writes ``run.html``: the KPIs of each channel with their 95%
intervals, then the figures a reader of one scenario needs — the service level and the load
by reporting interval with confidence bands, the waiting-time distribution and occupancy by
time of day — drawn by :mod:`ccsim.report.run_figures` and embedded as PNG data URIs,
from the template ``templates/run.html``, as in the experiment report. The page needs no
other file, no network and no JavaScript. Interval estimates are computed from the
per-replication interval rows with the same running sums and delta-method intervals as an
experiment's (:mod:`ccsim.experiment.summary`).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ccsim.experiment.folder import check_generation, output_folder
from ccsim.experiment.summary import interval_block_stats, summarise_intervals
from ccsim.experiment.theory_check import theory_rows
from ccsim.files import FileTooLargeError, NotRegularFileError, read_small, write_text
from ccsim.model import ConfigError
from ccsim.report.formatting import format_estimate, format_interval, format_value
from ccsim.report.outputs import headline_channel
from ccsim.report.reading import read_csv
from ccsim.sim.kpis import KPIS, PER_CHANNEL

__all__ = ["is_run_folder", "render_run_page", "theory_cells"]

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
    "csat",
    "contact_csat",
    "poor_journey_share",
    "operating_cost",
    "labour_cost",
    "contract_cost",
    "service_credits",
    "bot_cost",
    "ai_fixed_cost",
    "cost_per_handled_contact",
    "revenue_at_risk",
)
#: Cost rows shown only where the run has them (a priced site, a contract, a bot).
_WHEN_NOT_ZERO = frozenset(
    {"operating_cost", "labour_cost", "contract_cost", "service_credits", "bot_cost",
     "ai_fixed_cost", "cost_per_handled_contact", "revenue_at_risk"}
)  # fmt: skip
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
    "csat": "Customers satisfied (CSAT, journeys)",
    "contact_csat": "Contacts satisfied (post-contact survey)",
    "poor_journey_share": "Customers with a poor journey",
    "revenue_at_risk": "Revenue at risk (churn; beside the cost, not in it)",
    "operating_cost": "Operating cost (per replication: labour or bills, bots, AI fees)",
    "labour_cost": "Labour cost (a contracted site: its bill)",
    "contract_cost": "of which contracts' bills (after service credits)",
    "service_credits": "Service credits taken off the bills",
    "bot_cost": "Bot sessions",
    "ai_fixed_cost": "AI platform and operations fees",
    "cost_per_handled_contact": "Cost per handled contact",
}
_KEYS = ("channel", "site")


def is_run_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds what ``ccsim run`` writes: its manifest says so (an
    experiment's names no command); without a manifest (a run cut short), its tables do."""
    folder = Path(folder)
    if not (folder / "summary.csv").is_file():
        return False
    try:
        manifest = json.loads(read_small(folder / "manifest.json").decode("utf-8"))
    except (FileNotFoundError, NotRegularFileError, FileTooLargeError):
        # a folder cut short (or its manifest replaced), refused by the page: the tables tell
        return not (folder / "replications.parquet").exists()
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("command") == "run"


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    if not folder.is_dir():
        raise ConfigError(str(folder), "", "not a folder" if folder.exists() else "no such folder")
    summary = read_csv(
        folder / "summary.csv", (*_KEYS, "kpi", "estimate", "ci_low", "ci_high"), (*_KEYS, "kpi")
    )
    if summary is None or summary.empty:
        raise ConfigError(str(folder), "", "no summary.csv: not the output of ccsim run")
    replications = read_csv(folder / "replications.csv", ("replication", *_KEYS, "answered"))
    intervals = read_csv(
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


def _table(summary: pd.DataFrame, channel: str, currency: str = "USD") -> dict[str, object]:
    """A channel's KPIs: (label, estimate, interval) rows for the page's template."""
    rows = summary[(summary["channel"] == channel) & (summary["site"] == "all")]
    rows = rows.set_index("kpi")
    cells = []
    for kpi in _TABLE_KPIS:
        if kpi not in rows.index or (channel == "all" and kpi in PER_CHANNEL):
            continue  # the channels' waits each on its own: together they blend
        row = rows.loc[kpi]
        if not math.isfinite(row["estimate"]):
            continue
        if kpi in _WHEN_NOT_ZERO and row["estimate"] == 0:
            continue  # no priced site, contract, bot or churn: nothing to show
        text, interval = format_estimate(
            kpi, row["estimate"], row["ci_low"], row["ci_high"], currency=currency
        )
        cells.append((_LABELS[kpi], text, interval))
    return {"title": "all channels" if channel == "all" else channel, "rows": cells}


def theory_cells(rows) -> list[tuple[str, str, str, bool]]:
    """Each :class:`~ccsim.experiment.theory_check.TheoryRow` as the terminal and the page
    show it: estimate, interval, exact value (to the estimate's precision), covered."""
    return [
        (
            format_value(row.kpi, row.estimate),
            format_interval(row.kpi, row.ci_low, row.ci_high, row.estimate),
            format_value(row.kpi, row.exact, reference=row.estimate),
            row.covered,
        )
        for row in rows
    ]


def _theory(summary: pd.DataFrame, theory) -> dict | None:
    """The run beside the exact values its manifest records (``ccsim run --theory``): per
    KPI the estimate, its interval, the exact value and whether the interval covers it, as
    the terminal prints them; None for a run without the check."""
    if not isinstance(theory, dict) or not isinstance(theory.get("exact"), dict):
        return None
    try:
        rows = theory_rows(summary, str(theory["channel"]), theory["exact"])
    except (KeyError, TypeError, ValueError):
        return None  # a manifest edited by hand: the page shows the run without it
    cells = [
        (_LABELS.get(row.kpi) or (KPIS[row.kpi].label if row.kpi in KPIS else row.kpi), *row_)
        for row, row_ in zip(rows, theory_cells(rows), strict=True)
    ]
    missed = sum(not covered for *_, covered in cells)
    return {
        "heading": f"{theory['channel']} against {theory.get('model', 'theory')}",
        "inputs": str(theory.get("inputs", "")),
        "rows": cells,
        "covered": f"{len(cells) - missed} of {len(cells)}",
    }


def render_run_page(out_dir: str | Path, name: str | None = None) -> Path:
    """Write ``out_dir/run.html`` for the results ``ccsim run`` wrote to ``out_dir``; return
    its path. ``name`` (the scenario's) titles the page; the folder's name otherwise.

    A missing folder, manifest or summary, or an unreadable file, raises
    :class:`~ccsim.model.ConfigError`; tables that do not match the manifest
    :class:`~ccsim.experiment.folder.IncompleteOutputError`, and a folder another run is
    writing to :class:`~ccsim.experiment.folder.OutputLockedError`.
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        _read(folder)  # says which: no such folder, or not a folder
    with output_folder(folder):  # no run rewrites the tables while the page is drawn
        facts = _manifest(folder)
        summary, replications, intervals = _read(folder)
        check_generation(folder, facts)  # never a page from tables of different runs
        return _render(folder, name, facts, summary, replications, intervals)


def _manifest(folder: Path) -> dict:
    """The run's manifest; a folder without one (a run cut short, or written by a ccsim
    before manifests, whose tables nothing vouches for) is refused."""
    path = folder / "manifest.json"
    again = "run 'ccsim run' again with --out pointing here"
    if not path.is_file():
        raise ConfigError(
            str(folder), "", f"no manifest.json: the run did not finish or is too old; {again}"
        )
    try:
        facts = json.loads(read_small(path).decode("utf-8"))
    except (NotRegularFileError, FileTooLargeError) as exc:
        raise ConfigError(str(path), "", f"{exc.strerror}; {again}") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(str(path), "", f"cannot read it ({exc}); {again}") from None
    if not isinstance(facts, dict):
        raise ConfigError(str(path), "", f"expected a JSON object; {again}")
    return facts


def _render(folder, name, facts, summary, replications, intervals) -> Path:
    # matplotlib and jinja2: loaded only when a page is drawn
    from ccsim.report import run_figures
    from ccsim.report.page import render_page

    # The scenario's currency, which the run records; USD (the default) for older runs.
    currency = str(facts.get("currency") or "USD")
    name = name or folder.resolve().name
    channels = [c for c in dict.fromkeys(summary["channel"]) if c != "all"]
    shown = (["all"] if headline_channel(summary) == "all" else []) + channels
    estimates = _interval_estimates(intervals, name)
    n_reps = int(replications["replication"].nunique()) if replications is not None else 0
    charts = [
        run_figures.service_level_chart(estimates, [name], shown, None),
        run_figures.load_chart(estimates, summary, channels),
        run_figures.waiting_time_chart(
            # copy(): a wide table read from CSV is one block per column; assign would warn
            replications.copy().assign(scenario=name) if replications is not None else None,
            [name],
            channels,
            None,
            facts.get("thresholds"),
        ),
        run_figures.occupancy_chart(estimates, [name], "all" if len(channels) > 1 else channels[0]),
    ]
    if estimates is None:  # the plots' own notes name an experiment's file
        note = "No intervals.csv in the folder."
        charts = [
            c if c.png is not None or c.name == "waiting_times" else replace(c, note=note)
            for c in charts
        ]
    title = f"{name}: {n_reps} replications" if n_reps else name
    page = render_page(
        "run.html",
        title=title,
        folder=folder,
        tables=[_table(summary, channel, currency) for channel in shown],
        theory=_theory(summary, facts.get("theory")),
        charts=charts,
    )
    return write_text(folder / "run.html", page)
