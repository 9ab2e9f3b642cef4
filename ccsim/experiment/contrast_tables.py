"""The researcher's comparisons: what common random numbers bought in ``comparisons.csv``,
every pair of scenarios in ``pairs.csv`` and a factorial grid's effects in
``effects.csv``.

Each table is a family of linear contrasts of the scenarios' KPI estimates over paired
replications (:mod:`.contrasts`). ``pairs.csv`` holds, for every two scenarios, the later
(in the order: baseline first, then the experiment's order) minus the earlier, per channel,
site and KPI, Holm-adjusted over every pair, channel and site of the KPI; it is written by
default for up to :data:`AUTO_PAIRS` scenarios (k scenarios make k (k - 1) / 2 pairs).
``effects.csv`` holds the main effects and two-factor interactions of a grid of two
factors or more (:mod:`.factorial`), per channel (the whole channel, site ``all``) and KPI,
Holm-adjusted over every effect of the KPI. Both are read from ``replications.parquet``,
one scenario at a time, each kept as its linearised terms only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow.parquet as pq

from ccsim.experiment.contrasts import (
    RowParts,
    contrast_columns,
    row_parts,
    unpaired_contrast_ci,
    variance_reduction,
)
from ccsim.experiment.factorial import Factorial, effect_contrasts
from ccsim.experiment.summary import holm_by_kpi
from ccsim.files import write_csv
from ccsim.sim.kpis import KPIS

__all__ = [
    "AUTO_PAIRS",
    "PAIRS_MODES",
    "crn_columns",
    "effects_table",
    "pairs_table",
    "write_contrasts",
]

#: ``pairs: auto`` writes pairs.csv for up to this many scenarios (66 pairs).
AUTO_PAIRS = 12
PAIRS_MODES = ("auto", "all", "none")

_PAIR_COLUMNS = ["scenario", "reference", "channel", "site", "kpi", "reference_value"]
_PAIR_COLUMNS += ["difference", "ci_low", "ci_high", "half_width", "n", "p_value"]
_PAIR_COLUMNS += ["half_width_unpaired", "variance_reduction"]
_EFFECT_COLUMNS = ["term", "factor", "level", "factor_2", "level_2", "channel", "kpi"]
_EFFECT_COLUMNS += ["mean", "grand_mean", "effect", "ci_low", "ci_high", "half_width", "n"]
_EFFECT_COLUMNS += ["p_value", "half_width_unpaired", "variance_reduction"]
_LAST = ["p_holm", "significant", "half_width_unpaired", "variance_reduction"]


def _paired(a: RowParts | None, b: RowParts | None, kpi: str):
    """The two linearised estimates of a KPI, when both rows have it on the same
    replications."""
    if a is None or b is None or a.replications != b.replications:
        return None
    if kpi not in a.kpis or kpi not in b.kpis:
        return None
    return [a.kpis[kpi], b.kpis[kpi]]


def crn_columns(
    comparison: pd.DataFrame, parts: dict, base_parts: dict, level: float = 0.95
) -> pd.DataFrame:
    """``comparison`` (one scenario's rows of :func:`~.summary.compare`) with what common
    random numbers bought each difference: ``half_width_unpaired`` (the Welch half-width
    on independent random numbers) and ``variance_reduction``; ``parts`` and
    ``base_parts``: the scenario's and the baseline's :func:`~.contrasts.row_parts`."""
    unpaired, factors = [], []
    for row in comparison.itertuples(index=False):
        pair = _paired(
            parts.get((row.channel, row.site)), base_parts.get((row.channel, row.site)), row.kpi
        )
        unpaired.append(
            math.nan if pair is None else unpaired_contrast_ci((1, -1), pair, level).half_width
        )
        factors.append(math.nan if pair is None else variance_reduction((1, -1), pair))
    return comparison.assign(half_width_unpaired=unpaired, variance_reduction=factors)


def pairs_table(parts: dict[str, dict], order: list[str], level: float = 0.95) -> pd.DataFrame:
    """Every pair of the scenarios of ``order``: the later minus the earlier, per channel,
    site and KPI that both have, Holm-adjusted per KPI over the whole table (``parts``:
    each scenario's :func:`~.contrasts.row_parts`)."""
    rows = []
    for i, reference in enumerate(order):
        for scenario in order[i + 1 :]:
            for (channel, site), own in parts[scenario].items():
                other = parts[reference].get((channel, site))
                for kpi in own.kpis:
                    pair = _paired(own, other, kpi)
                    if pair is None:
                        continue
                    estimate, columns = contrast_columns((1, -1), pair, KPIS[kpi], level)
                    rows.append(
                        {
                            "scenario": scenario,
                            "reference": reference,
                            "channel": channel,
                            "site": site,
                            "kpi": kpi,
                            "reference_value": pair[1].value,
                            "difference": estimate.value,
                            **columns,
                        }
                    )
    return _holm(pd.DataFrame(rows, columns=_PAIR_COLUMNS), level)


def _holm(table: pd.DataFrame, level: float) -> pd.DataFrame:
    """Holm's adjustment per KPI, and the columns of what the pairing bought last."""
    table = holm_by_kpi(table, 1 - level)
    return table[[c for c in table.columns if c not in _LAST] + _LAST]


def effects_table(parts: dict[str, dict], design: Factorial, level: float = 0.95) -> pd.DataFrame:
    """The main effects and two-factor interactions of ``design`` per channel (site
    ``all``) and KPI that every cell has, Holm-adjusted per KPI over the whole table."""
    cells = list(design.cells)
    rows = []
    channels = [key for key in parts[cells[0]] if key[1] == "all"]
    for key in channels:
        rowparts = [parts[cell].get(key) for cell in cells]
        if any(p is None or p.replications != rowparts[0].replications for p in rowparts):
            continue
        for kpi in rowparts[0].kpis:
            if any(kpi not in p.kpis for p in rowparts):
                continue
            estimates = [p.kpis[kpi] for p in rowparts]
            grand = sum(e.value for e in estimates) / len(estimates)
            for effect in effect_contrasts(design):
                weights = [effect.weights[cell] for cell in cells]
                estimate, columns = contrast_columns(weights, estimates, KPIS[kpi], level)
                mean = sum(
                    effect.mean_weights[c] * e.value for c, e in zip(cells, estimates, strict=True)
                )
                second = effect.factor_2 is not None
                factor_2 = design.factors[effect.factor_2] if second else None
                rows.append(
                    {
                        "term": "interaction" if second else "main",
                        "factor": design.factors[effect.factor].path,
                        "level": design.factors[effect.factor].levels[effect.level],
                        "factor_2": factor_2.path if second else "",
                        "level_2": factor_2.levels[effect.level_2] if second else "",
                        "channel": key[0],
                        "kpi": kpi,
                        "mean": mean,
                        "grand_mean": grand,
                        "effect": estimate.value,
                        **columns,
                    }
                )
    return _holm(pd.DataFrame(rows, columns=_EFFECT_COLUMNS), level)


def _scenario_parts(path: Path, name: str, sites: list[str] | None) -> dict:
    filters = [("scenario", "==", name)]
    if sites is not None:
        filters.append(("site", "in", sites))
    frame = pq.read_table(path, filters=filters).to_pandas()
    for key in ("channel", "site"):  # a dictionary column reads back as a category
        frame[key] = frame[key].astype(str)
    return row_parts(frame, sites)


def write_contrasts(
    out: str | Path,
    scenarios: list[str],
    baseline: str,
    design: Factorial | None = None,
    pairs: Literal["auto", "all", "none"] = "auto",
    level: float = 0.95,
) -> list[Path]:
    """Write ``pairs.csv`` (all pairs of ``scenarios``, baseline first: always with
    ``all``, up to :data:`AUTO_PAIRS` scenarios with ``auto``) and, with a ``design``,
    ``effects.csv`` into ``out`` from its ``replications.parquet``; a table not written
    this time is removed, so that none is left from an earlier run. Returns the paths
    written."""
    if pairs not in PAIRS_MODES:
        raise ValueError(f"pairs must be one of {', '.join(PAIRS_MODES)}, got {pairs!r}")
    out = Path(out)
    order = [baseline, *(s for s in scenarios if s != baseline)]
    with_pairs = len(order) > 1 and (
        pairs == "all" or (pairs == "auto" and len(order) <= AUTO_PAIRS)
    )
    names = order if with_pairs else list(design.cells) if design is not None else []
    sites = None if with_pairs else ["all"]  # effects are the whole channel's
    source = out / "replications.parquet"
    parts = {name: _scenario_parts(source, name, sites) for name in names}
    for file, wanted in (("pairs.csv", with_pairs), ("effects.csv", design is not None)):
        if not wanted:
            (out / file).unlink(missing_ok=True)
    written = []
    if with_pairs:
        written.append(write_csv(out / "pairs.csv", pairs_table(parts, order, level)))
    if design is not None:
        written.append(write_csv(out / "effects.csv", effects_table(parts, design, level)))
    return written
