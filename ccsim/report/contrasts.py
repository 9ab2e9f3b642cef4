"""The researcher's comparisons on the page: every pair of models (``pairs.csv``), the
effects of a factorial grid (``effects.csv``) and, in a sentence, what common random
numbers bought (the ``variance_reduction`` of ``comparisons.csv`` or ``pairs.csv``).

Each table shows the headline channel's headline KPIs, a cell per difference or effect with
its 95% interval and its verdict (Holm-adjusted); factors are named in words
(:func:`~.formatting.input_label`), never by their dotted paths. A table is read only when
the manifest lists it, so a file left by another run is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccsim.report.formatting import format_difference, format_value, input_label
from ccsim.report.outputs import ExperimentOutputs
from ccsim.report.reading import read_csv
from ccsim.report.tables import Cell, cost_label, verdict
from ccsim.sim.kpis import KPIS, MEAN, PER_CHANNEL

__all__ = [
    "CONTRAST_ROWS",
    "ContrastTable",
    "contrast_sections",
    "crn_sentence",
    "effect_tables",
    "pair_table",
    "read_contrast",
]

#: The KPIs of the pairs and effects tables, those of them the files hold.
CONTRAST_ROWS = (
    "cost_per_resolved_contact",
    "operating_cost",
    "service_level",
    "asa",
    "abandon_rate",
    "occupancy",
)


@dataclass(frozen=True)
class ContrastTable:
    """A table of the page: a column per KPI, a row per pair, level or cell."""

    id: str
    heading: str
    kpis: list[str]
    labels: list[str]
    rows: list[tuple[str, list[Cell | None]]]


def read_contrast(outputs: ExperimentOutputs, name: str) -> pd.DataFrame | None:
    """``pairs.csv`` or ``effects.csv`` when the manifest vouches for it, else None."""
    files = outputs.manifest.get("files")
    if not isinstance(files, dict) or name not in files:
        return None
    value = "difference" if name == "pairs.csv" else "effect"
    return read_csv(outputs.folder / name, ("channel", "kpi", value, "ci_low", "ci_high"))


def _columns(frame: pd.DataFrame, outputs: ExperimentOutputs) -> list[tuple[str, str, str]]:
    """The (channel, KPI, label) columns of a table: the KPIs of :data:`CONTRAST_ROWS` that
    ``frame`` holds on the headline channel, money only when costs exist; over all channels
    the waiting times are each channel's own (together they would blend a call's seconds
    with an email's hours)."""
    present = set(zip(frame["channel"], frame["kpi"], strict=True))
    kpis = [k for k in CONTRAST_ROWS if outputs.priced or KPIS[k].kind != "money"]

    def label(k: str) -> str:
        if KPIS[k].kind == "money" and KPIS[k].aggregate == MEAN:
            return cost_label(outputs.window, KPIS[k].label)
        return KPIS[k].label

    headline = outputs.headline
    columns = [
        (headline, k, label(k))
        for k in kpis
        if (headline, k) in present and (headline != "all" or k not in PER_CHANNEL)
    ]
    if headline == "all":
        columns += [
            (c, k, f"{c}: {label(k)}")
            for c in outputs.channels
            for k in kpis
            if k in PER_CHANNEL and (c, k) in present
        ]
    return columns


def _cell(row, value: str, reference: float, currency: str) -> Cell:
    kpi = row["kpi"]
    text, interval = format_difference(
        kpi, row[value], row["ci_low"], row["ci_high"], reference, currency=currency
    )
    css, words = verdict(kpi, row[value], row["ci_low"], row["ci_high"], row["p_holm"] < 0.05)
    return Cell(text, interval, words, css)


def pair_table(outputs: ExperimentOutputs, pairs: pd.DataFrame) -> ContrastTable | None:
    """Every pair of models, the later minus the earlier, on the headline channel."""
    rows = pairs[pairs["site"] == "all"]
    columns = _columns(rows, outputs)
    if not columns:
        return None
    keys = ("scenario", "reference", "channel", "kpi")
    index = {tuple(r[k] for k in keys): r for _, r in rows.iterrows()}
    body = []
    for scenario, reference in dict.fromkeys(zip(rows["scenario"], rows["reference"], strict=True)):
        found = [index.get((scenario, reference, c, k)) for c, k, _ in columns]
        cells = [
            None if r is None else _cell(r, "difference", r["reference_value"], outputs.currency)
            for r in found
        ]
        body.append((f"{scenario} − {reference}", cells))
    return ContrastTable("pairs", "", [k for _, k, _ in columns], [t for *_, t in columns], body)


def _level(path: str, level: str) -> str:
    return f"{input_label(path)} = {level}"


def effect_tables(outputs: ExperimentOutputs, effects: pd.DataFrame) -> list[ContrastTable]:
    """The main effects (a row per factor and level, the grand mean first) and the
    two-factor interactions (a row per cell) on the headline channel."""
    columns = _columns(effects, outputs)
    if not columns:
        return []
    grand = effects.drop_duplicates(["channel", "kpi"]).set_index(["channel", "kpi"])["grand_mean"]
    mean_cells = [
        Cell(format_value(k, grand[c, k], currency=outputs.currency), "over every cell")
        for c, k, _ in columns
    ]
    tables = []
    for term, heading in (("main", "Main effects"), ("interaction", "Two-factor interactions")):
        part = effects[effects["term"] == term]
        if part.empty:
            continue
        keys = ["factor", "level", "factor_2", "level_2"]
        body = [("Grand mean", mean_cells)] if term == "main" else []
        for key, group in part.groupby(keys, sort=False, dropna=False):
            found = {(r["channel"], r["kpi"]): r for _, r in group.iterrows()}
            name = _level(key[0], key[1])
            if term == "interaction":
                name += f" × {_level(key[2], key[3])}"
            cells = [
                None
                if (c, k) not in found
                else _cell(found[c, k], "effect", grand[c, k], outputs.currency)
                for c, k, _ in columns
            ]
            body.append((name, cells))
        labels = [t for *_, t in columns]
        tables.append(
            ContrastTable(f"effects-{term}", heading, [k for _, k, _ in columns], labels, body)
        )
    return tables


def _factor(value: float) -> str:
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


def crn_sentence(frame: pd.DataFrame | None, outputs: ExperimentOutputs, what: str) -> str:
    """What common random numbers bought the differences of ``frame`` (the comparisons or
    the pairs) on the headline channel's KPIs, in one sentence; empty without the column."""
    if frame is None or "variance_reduction" not in frame or frame.empty:
        return ""
    shown = frame[frame["site"] == "all"] if "site" in frame else frame
    wanted = {(c, k) for c, k, _ in _columns(shown, outputs)}
    keep = [key in wanted for key in zip(shown["channel"], shown["kpi"], strict=True)]
    factors = shown.loc[keep, "variance_reduction"].to_numpy(dtype=float)
    finite = factors[np.isfinite(factors)]
    if len(finite) == 0:
        return ""
    if not outputs.manifest.get("common_random_numbers", True):
        return (
            "The models ran on independent random numbers, so pairing the replications buys "
            f"nothing: the variance ratio of the {what} is {np.median(finite):.2f} at the "
            "median, 1 up to noise."
        )
    median, low, high = np.median(finite), finite.min(), finite.max()
    sentence = (
        f"Common random numbers made the variance of the {what} of the KPIs in the tables "
        f"{median:.1f} times smaller at the median ({_factor(low)} to {_factor(high)}) than on "
        "independent random numbers: the same intervals would have needed about "
        f"{median:.0f} times the replications without them"
    )
    if low < 1:
        why = (
            "a main effect averages cells that share their days, which independent cells would not"
            if what == "effects"
            else "the two models answer the same days in opposite directions"
        )
        sentence += f" (below 1 the pairing cost precision: {why})"
    identical = int(np.isinf(factors).sum())
    if identical:
        sentence += f"; {identical} more are identical in every replication"
    return sentence + "."


def contrast_sections(outputs: ExperimentOutputs) -> dict:
    """What the page's sections of pairs and effects need: the tables (None or empty when
    the run wrote none) and the sentences on what common random numbers bought."""
    pairs = read_contrast(outputs, "pairs.csv")
    effects = read_contrast(outputs, "effects.csv")
    n_pairs = (
        0 if pairs is None else len(set(zip(pairs["scenario"], pairs["reference"], strict=True)))
    )
    return {
        # Two models make one pair: the difference to the baseline, shown above it.
        "pairs": None if pairs is None or n_pairs < 2 else pair_table(outputs, pairs),
        "n_pairs": n_pairs,
        "effects": [] if effects is None else effect_tables(outputs, effects),
        "crn": crn_sentence(outputs.comparisons, outputs, "differences to the baseline"),
        "crn_pairs": crn_sentence(pairs, outputs, "differences between pairs"),
        "crn_effects": crn_sentence(effects, outputs, "effects"),
    }
