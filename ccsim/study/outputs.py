"""The study's answer, written next to the experiment's tables: whether each model meets its
targets at its plan (``targets.csv``), and with a ``frontier:`` block its frontier
(``frontier.csv``) and cost at equal service (``equal_service.csv``), and with a
``selection:`` block the cheapest model with its guarantee (``selection.csv``).

Everything here reads replications already run (the main ones and the frontier's sweep);
nothing is simulated. The files are written atomically and listed in the manifest, whose
``study`` entry carries the one-sentence results for the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.experiment.contrast_tables import write_contrasts
from ccsim.experiment.factorial import factorial
from ccsim.experiment.summary import INTERVAL_KEYS
from ccsim.files import write_csv
from ccsim.model.overrides import expand_grid
from ccsim.sim.metrics import RATIO_KPIS
from ccsim.study.attainment import targets_rows
from ccsim.study.equal_service import Sweep, equal_service_table, replication_costs, study_frontier
from ccsim.study.selection import select
from ccsim.study.site_scales import point_label

__all__ = ["BLOCK_SUM_COLUMNS", "TARGET_COLUMNS", "write_study"]

_NUMERATOR, _DENOMINATOR = RATIO_KPIS["service_level"]
#: Replication columns the targets need: weekly service level, site occupancy, cost.
TARGET_COLUMNS = sorted(
    {
        "replication",
        "channel",
        "site",
        *_NUMERATOR,
        *_DENOMINATOR,
        "busy_time",
        "staffed_time",
        "labour_cost",
        "operating_cost",
    }
)
#: Interval running-sum columns the core-hours occupancy reads, block by block.
BLOCK_SUM_COLUMNS = [*INTERVAL_KEYS, "n", "s_scheduled_time", "s_busy_time", "s_staffed_time"]


def write_study(
    out: Path,
    experiment,
    rows: Callable[[str, list[str]], pd.DataFrame],
    interval_sums: dict[str, pd.DataFrame],
    block_sums: Callable[[str], list[pd.DataFrame]],
    n_reps: int,
    sweep: Sweep | None,
) -> tuple[list[Path], dict[str, Any]]:
    """Write the study's files into ``out``; ``rows(name, columns)`` reads a model's main
    replication rows, ``block_sums(name)`` its interval sums per saved block
    (:data:`BLOCK_SUM_COLUMNS`). Returns the paths and the manifest's ``study`` entry."""
    spec = experiment.spec
    names = list(experiment.scenarios)
    plan_rows = {name: rows(name, TARGET_COLUMNS) for name in names}
    costs = replication_costs(experiment, sweep) if sweep is not None else None
    targets = pd.concat(
        [
            targets_rows(
                name,
                experiment.scenarios[name],
                plan_rows[name],
                interval_sums[name],
                block_sums(name),
                n_reps,
                _occupancy_at_equal_service(costs, name),
            )
            for name in names
        ],
        ignore_index=True,
    )
    paths = [write_csv(out / "targets.csv", targets)]
    channels = targets[targets.kind == "channel"]
    met = channels.groupby("scenario", sort=False)["met"].all().reindex(names).fillna(True)
    entry: dict[str, Any] = {
        "targets_met": {name: bool(met[name]) for name in names},
    }
    if sweep is not None:
        paths.append(write_csv(out / "frontier.csv", study_frontier(experiment, sweep)))
        table = equal_service_table(costs, experiment.baseline)
        paths.append(write_csv(out / "equal_service.csv", table))
        entry |= _frontier_entry(spec, sweep)
        entry["equal_service"] = _equal_service_sentence(table, experiment.baseline)
    if spec.selection is not None:
        more, selected = _selection(out, experiment, costs, plan_rows, met)
        paths += more
        entry |= selected
    return paths, entry


def _occupancy_at_equal_service(costs, name: str) -> dict[str, tuple[float, float]] | None:
    """Per site of ``name``, its mean occupancy and live occupancy over the core hours at
    its own equal-service point (per-site sweeps record them: ``occupancy_<site>``); None
    without."""
    if costs is None or "unbracketed" not in costs:
        return None
    own = costs[costs.scenario == name]
    found = {}
    for column in own.columns:
        if column.startswith("occupancy_") and own[column].notna().any():
            site = column.removeprefix("occupancy_")
            live = own.get(f"live_occupancy_{site}")
            found[site] = (
                float(own[column].mean()),
                float(live.mean()) if live is not None else math.nan,
            )
    return found or None


def _selection(out: Path, experiment, costs, plan_rows, met) -> tuple[list[Path], dict]:
    """``selection.csv`` and the manifest's entry. At equal service a model without a cost
    in any replication (a site not bracketed) is left out of it, and with fewer than two
    replications costed in every model left, nothing is selected (the manifest says so)."""
    selection, names = experiment.spec.selection, list(experiment.scenarios)
    if selection.on == "equal_service":
        wide = costs.pivot(index="replication", columns="scenario", values="cost")[names]
        names = [name for name in names if wide[name].notna().any()]
        wide, eligible, what = wide[names], [True] * len(names), "cost at equal service"
    else:
        wide = pd.DataFrame({name: _plan_costs(plan_rows[name]) for name in names})
        eligible = [bool(met[name]) for name in names]
        what = "cost at its plan"
    complete = wide.dropna()  # a replication without a cost in some model pairs nothing
    if len(complete) < 2 or experiment.baseline not in complete:
        return [], {
            "selection_skipped": "No selection: fewer than two replications have a cost "
            "in every model (widen the frontier or add rounds)."
        }
    base_cost = float(complete[experiment.baseline].mean())
    delta = selection.indifference_zone * base_cost
    result = select(complete.to_numpy(float), names, delta, selection.confidence, eligible, what)
    table = result.table.assign(
        indifference_zone=delta,
        replications=result.replications,
        replications_needed=result.needed,
        guaranteed=result.guaranteed,
    )
    return [write_csv(out / "selection.csv", table)], {
        "selection": {
            "on": selection.on,
            "selected": result.selected,
            "guaranteed": result.guaranteed,
            "indifference_zone": delta,
            "confidence": selection.confidence,
            "replications": result.replications,
            "replications_needed": result.needed,
            "left_out": int(len(wide) - len(complete)),
            "sentence": result.sentence,
        }
    }


def _frontier_entry(spec, sweep: Sweep) -> dict[str, Any]:
    """The frontier's settings and, per site, every point each model ran, in the order run."""
    entry: dict[str, Any] = {"frontier": spec.frontier.model_dump()}
    if sweep.points:
        entry["frontier_points"] = {
            name: [point_label(point) for point in points] for name, points in sweep.points.items()
        }
    return entry


def _plan_costs(rows: pd.DataFrame) -> pd.Series:
    whole = rows[rows.site == "all"]
    if (whole.channel == "all").any():
        whole = whole[whole.channel == "all"]
    return whole.set_index("replication")["operating_cost"].sort_index()


def _equal_service_sentence(table: pd.DataFrame, baseline: str) -> str:
    """The cheapest model at equal service and its difference to the baseline, in words."""
    known = table[table["cost"].notna()]
    if known.empty:
        return "No model's cost at equal service is known: widen the frontier's scales."
    row = known.loc[known["cost"].idxmin()]
    if row["scenario"] == baseline:
        return f"{baseline} (the baseline) is the cheapest model at equal service."
    pct = row["difference_pct"], row["difference_pct_low"], row["difference_pct_high"]
    verdict = "significant" if bool(row["significant"]) else "not significant"
    text = ", ".join("nan" if math.isnan(v) else f"{v:+.1f}" for v in pct[1:])
    return (
        f"{row['scenario']} is the cheapest model at equal service: {pct[0]:+.1f}% "
        f"[{text}] against {baseline} ({verdict} after Holm)."
    )


def write_contrasts_of(out: Path, experiment, pairs: str) -> list[Path]:
    """``pairs.csv`` (every two scenarios, as ``pairs`` asks) and, for a factorial grid,
    ``effects.csv``, from the run's ``replications.parquet``
    (:func:`~ccsim.experiment.contrast_tables.write_contrasts`)."""
    spec = experiment.spec
    design = None
    if spec.grid:
        points = expand_grid(spec.grid, spec.grid_name, experiment.source)
        design = factorial(spec.grid, points)
    names = list(experiment.scenarios)
    return write_contrasts(out, names, experiment.baseline, design, pairs)  # type: ignore[arg-type]
