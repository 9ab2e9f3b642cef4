"""The experiment report's tables of KPIs, as data for the page's template: per model each
KPI's estimate with its 95% interval, and each model's paired difference to the baseline in
planners' words.

A :class:`KpiTable` has a column per model and, per :class:`Group` (a channel or a site), a
:class:`Row` per KPI whose cells are :class:`Cell` objects (None where a model has no value);
``macros.html`` lays it out. The rows follow :data:`MODEL_ROWS` and :data:`CHANNEL_ROWS`, the
KPIs the files do not hold left out, the cost rows only when a site has a cost, and the
waiting-time KPIs (:data:`~ccsim.sim.kpis.PER_CHANNEL`) only in a channel's own rows: over
all channels together they blend a call's seconds with an email's hours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from ccsim.model.units import format_duration
from ccsim.report.formatting import flag, format_difference, format_estimate
from ccsim.report.outputs import ExperimentOutputs
from ccsim.sim.kpis import KPIS, MEAN, PER_CHANNEL, SITE_SUMMARY

__all__ = [
    "CHANNEL_ROWS",
    "MODEL_ROWS",
    "Cell",
    "Group",
    "KpiTable",
    "Row",
    "channel_heading",
    "cost_label",
    "difference_table",
    "duration",
    "model_tables",
    "verdict",
]

_KEYS = ("scenario", "channel", "site", "kpi")

# fmt: off
#: Rows of each table, in order; KPIs absent from the files are left out.
MODEL_ROWS = ("cost_per_resolved_contact", "cost_per_handled_contact", "operating_cost",
              "labour_cost", "contract_cost", "bot_cost", "ai_fixed_cost", "service_level",
              "asa", "abandon_rate",
              "containment_rate", "bot_resolution_share", "fcr", "agent_fcr",
              "ticket_resolution_time", "request_resolution_time", "mean_resolution_time",
              "median_resolution_time", "resolved_within_24h",
              "resolved_within_72h", "censored_share", "csat", "contact_csat",
              "poor_journey_share", "occupancy")
CHANNEL_ROWS = ("offered", "service_level", "asa", "abandon_rate", "aht", "occupancy",
                "containment_rate", "fcr", "agent_fcr", "escalation_rate",
                "ticket_resolution_time", "request_resolution_time", "mean_resolution_time",
                "median_resolution_time", "resolved_within_24h", "csat", "contact_csat",
                "backlog",
                "cost_per_handled_contact", "labour_cost")
# fmt: on
#: Cost rows that only some scenarios have: left out where every value is 0.
_BILLED = frozenset({"contract_cost", "service_credits", "ai_fixed_cost", "bot_cost"})


@dataclass(frozen=True)
class Cell:
    """A number and its interval; for a difference also the verdict and its CSS class."""

    text: str
    interval: str
    verdict: str = ""
    css: str = ""


@dataclass(frozen=True)
class Row:
    """One KPI across the models."""

    kpi: str
    label: str
    cells: list[Cell | None]  # one per model of the table


@dataclass(frozen=True)
class Group:
    """The rows of one channel or one site, under a heading when the table has several."""

    heading: str
    channel: str
    site: str
    rows: list[Row]


@dataclass(frozen=True)
class KpiTable:
    """A table of the page (``id``: models, channels, sites or differences)."""

    id: str
    scenarios: list[str]
    baseline: str | None
    groups: list[Group]


# --- numbers in planners' words -----------------------------------------------------------


def duration(seconds: float) -> str:
    """A length of time in the largest whole unit (``1 day``, ``30 min``)."""
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''}"
    return format_duration(seconds)


def cost_label(window: float, what: str = "Labour cost") -> str:
    """``what`` per the period a replication counts (``window`` seconds): a week, a day, a run."""
    if not math.isfinite(window) or window <= 0:
        return f"{what} per run"
    for length, name in ((7 * 86400, "week"), (86400, "day")):
        if abs(window - length) <= 3600:  # a week or a day with a daylight-saving change
            return f"{what} per {name}"
    return f"{what} per run ({duration(window)})"


def verdict(kpi: str, value: float, low: float, high: float, significant) -> tuple[str, str]:
    """The CSS class and the words of a difference. "no difference" only when the models
    gave identical values in every replication (a zero difference with a zero-width
    interval); a difference that merely rounds to zero is "not significant", never that.
    No words for a difference that is not defined (a KPI the channel does not have, such as
    tier 2's bot resolution): no test was made."""
    if not math.isfinite(value):
        return "", ""
    if value == 0 and low == 0 and high == 0:
        return "same", "no difference"
    if flag(significant):
        direction = KPIS[kpi].direction * math.copysign(1, value) if value else 0
        css = {1: "better", -1: "worse"}.get(int(direction), "sig")
        return css, f"significant, {css}" if css != "sig" else "significant"
    return "ns", "not significant"


def channel_heading(channel: str) -> str:
    """A channel as a heading of the page names it."""
    return "All channels" if channel == "all" else f"Channel {channel}"


# --- cells and tables ------------------------------------------------------------------------


def _estimate_cell(row: pd.Series, currency: str) -> Cell:
    text, interval = format_estimate(
        row["kpi"], row["estimate"], row["ci_low"], row["ci_high"], currency=currency
    )
    return Cell(text, interval)


def _difference_cell(row: pd.Series, currency: str) -> Cell:
    kpi, value, low, high = row["kpi"], row["difference"], row["ci_low"], row["ci_high"]
    baseline = row.get("baseline_value", math.nan)
    text, interval = format_difference(kpi, value, low, high, baseline, currency=currency)
    p_holm = row.get("p_holm", math.nan)  # Holm-adjusted, where the table has it
    significant = p_holm < 0.05 if pd.notna(p_holm) else row["significant"]
    css, words = verdict(kpi, value, low, high, significant)
    return Cell(text, interval, words, css)


def _per_period(kpi: str) -> bool:
    """An amount over the whole window (labour, bot, operating cost), not per contact: its
    label names the period."""
    return KPIS[kpi].kind == "money" and KPIS[kpi].aggregate == MEAN


def _rows(frame: pd.DataFrame, kpis: Sequence[str], channels, outputs: ExperimentOutputs, site):
    """The (KPI, label) rows with a value somewhere, the cost rows only if costs exist."""
    value = "estimate" if "estimate" in frame else "difference"
    rows = frame[frame["channel"].isin(channels) & (frame["site"] == site) & frame[value].notna()]
    present = set(rows["kpi"])
    # A bill, credit or fee no model has (every value 0) is not a row of zeros.
    present -= {k for k in _BILLED if k in present and (rows[rows.kpi == k][value] == 0).all()}
    return [
        (kpi, cost_label(outputs.window, KPIS[kpi].label) if _per_period(kpi) else label)
        for kpi, label in ((kpi, _label(kpi, site)) for kpi in kpis)
        if kpi in present and (outputs.priced or KPIS[kpi].kind != "money")
    ]


def _label(kpi: str, site: str) -> str:
    """A row's label. A channel's occupancy is its share of the time of every agent who may
    take it, other channels' work included (voice, chat and email at one site add up to the
    site's): read as a team's own occupancy, a mixed site's channels look half idle."""
    if kpi == "occupancy" and site == "all":
        return "Occupancy (the channel's busy time / time at work of agents who may take it)"
    return KPIS[kpi].label


def _table(
    table_id: str,
    frame: pd.DataFrame,
    groups: list[tuple[str, str, str]],
    rows: list[tuple[str, str]],
    outputs: ExperimentOutputs,
    cell: Callable[[pd.Series, str], Cell],
    scenarios: list[str] | None = None,
) -> KpiTable:
    """One column per scenario and, per group ``(heading, channel, site)``, one row per
    ``(KPI, label)``, each cell drawn by ``cell``."""
    scenarios = outputs.scenarios if scenarios is None else scenarios
    frame = frame[frame["kpi"].isin([kpi for kpi, _ in rows])]
    index = {tuple(row[k] for k in _KEYS): row for _, row in frame.iterrows()}

    def cells(channel: str, site: str, kpi: str) -> list[Cell | None]:
        found = [index.get((s, channel, site, kpi)) for s in scenarios]
        return [None if row is None else cell(row, outputs.currency) for row in found]

    return KpiTable(
        table_id,
        scenarios,
        outputs.baseline,
        [
            Group(
                heading,
                channel,
                site,
                [
                    Row(k, label, cells(channel, site, k))
                    for k, label in rows
                    if channel != "all" or k not in PER_CHANNEL
                ],
            )
            for heading, channel, site in groups
        ],
    )


def model_tables(outputs: ExperimentOutputs) -> dict[str, KpiTable | None]:
    """The models side by side: the headline channel (``models``), each channel when there
    are several (``channels``), each site (``sites``); None for a table not shown."""
    summary, headline = outputs.summary, outputs.headline
    rows = _rows(summary, MODEL_ROWS, [headline], outputs, "all")
    tables = {
        "models": _table("models", summary, [("", headline, "all")], rows, outputs, _estimate_cell),
        "channels": None,
        "sites": None,
    }
    if len(outputs.channels) > 1:
        groups = [(channel_heading(c), c, "all") for c in outputs.channels]
        rows = _rows(summary, CHANNEL_ROWS, outputs.channels, outputs, "all")
        tables["channels"] = _table("channels", summary, groups, rows, outputs, _estimate_cell)
    sites = dict.fromkeys(summary.loc[summary["channel"] == headline, "site"])
    sites = [s for s in sites if s != "all"]
    if sites:
        groups = [(f"Site {s}", headline, s) for s in sites]
        rows = _rows(summary, SITE_SUMMARY, [headline], outputs, sites[0])
        tables["sites"] = _table("sites", summary, groups, rows, outputs, _estimate_cell)
    return tables


def difference_table(outputs: ExperimentOutputs) -> tuple[KpiTable | None, str]:
    """Each model minus the baseline, per shown channel; without a table, why not."""
    comparisons, baseline = outputs.comparisons, outputs.baseline
    others = [s for s in outputs.scenarios if s != baseline]
    if comparisons is None or baseline is None or not others:
        return None, "no comparisons.csv" if comparisons is None else "a single model"
    channels = outputs.shown_channels
    groups = [(channel_heading(c), c, "all") for c in channels]
    rows = _rows(comparisons, MODEL_ROWS, channels, outputs, "all")
    table = _table("differences", comparisons, groups, rows, outputs, _difference_cell, others)
    return table, ""
