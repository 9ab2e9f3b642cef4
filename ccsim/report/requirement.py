"""Staffing against requirement: what each model's plan puts on the floor, per pool of agents,
against what its traffic requires, interval by interval.

The requirement is the staffing planner's seed (:func:`ccsim.planning.pools.pool_requirements`):
per pool (the channels the same sites answer) and reporting interval, the agents needed at
proficiency 1 for the channel's service-level objective, Erlang A per channel with the pooling
credit of the square-root law. What the plan gives is the simulated agents *available* at the
pool's sites (on shift, after shrinkage and breaks; ``available_agents`` of
``intervals.parquet``), so the comparison is like for like. The scenarios come from the
experiment file named in the manifest, used only when every model's fingerprint is still the
one that ran: a changed file would draw the requirement of another model.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ccsim.model import ConfigError

__all__ = ["staffing_against_requirement"]


def _scenarios(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The experiment's scenarios, if each is still the one that ran."""
    from ccsim.study.spec import load_experiment

    fingerprints = manifest.get("fingerprints")
    if not manifest.get("file") or not isinstance(fingerprints, dict):
        return None
    try:
        experiment = load_experiment(manifest["file"])
    except (ConfigError, OSError):
        return None
    names = list(experiment.scenarios)
    if any(fingerprints.get(name) != experiment.fingerprint(name) for name in names):
        return None
    return experiment.scenarios


def _groups(pools) -> list[tuple[list[str], list[str]]]:
    """Pools merged while they share a site: a site's agents cover every pool it serves, so
    only the merged requirement compares with them."""
    groups: list[tuple[list[str], list[str]]] = []
    for pool in pools:
        names, sites = [pool.name], set(pool.sites)
        for group in [g for g in groups if sites & set(g[1])]:
            groups.remove(group)
            names, sites = group[0] + names, sites | set(group[1])
        groups.append((names, sorted(sites)))
    return groups


def staffing_against_requirement(
    manifest: dict[str, Any], intervals: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, str]:
    """One row per model, pool and reporting interval: ``scenario``, ``pool`` (channels),
    ``sites``, ``interval_start``, ``local_start``, ``required`` and ``available``; or None
    and why not."""
    if intervals is None:
        return None, "No intervals.parquet in the folder."
    available = intervals[(intervals["kpi"] == "available_agents") & (intervals["site"] != "all")]
    if available.empty:
        return None, "intervals.parquet has no agents at work per site."
    scenarios = _scenarios(manifest)
    if scenarios is None:
        return None, (
            "The experiment and scenario files that ran are not at hand unchanged (their "
            "fingerprints differ from the manifest's), so the requirement cannot be computed."
        )
    from ccsim.planning.pools import pool_requirements, pools
    from ccsim.planning.targets import Targets

    frames = []
    for name, scenario in scenarios.items():
        own = available[available["scenario"] == name]
        # A site's agents at work are the same in each of its channels' rows: take one.
        per_site = own.groupby(["site", "interval_start", "local_start"], as_index=False)[
            "estimate"
        ].max()
        starts = per_site.drop_duplicates("interval_start").sort_values("interval_start")
        required = pool_requirements(scenario, Targets.of(scenario))
        # The requirement covers every slot of the calendar, warm-up included; the tables
        # hold the measured ones. Matched by start time; another calendar matches nothing.
        slot_of = {slot.start: slot.index for slot in scenario.calendar().slots}
        measured = [slot_of.get(float(start)) for start in starts["interval_start"]]
        if None in measured:
            continue
        for names, sites in _groups(pools(scenario)):
            need = sum(required[n] for n in names)[measured]
            at_work = (
                per_site[per_site["site"].isin(sites)]
                .groupby("interval_start")["estimate"]
                .sum()
                .reindex(starts["interval_start"])
                .fillna(0.0)
            )
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": name,
                        "pool": "+".join(names),
                        "sites": ", ".join(sites),
                        "interval_start": starts["interval_start"].to_numpy(),
                        "local_start": starts["local_start"].astype(str).to_numpy(),
                        "required": need,
                        "available": at_work.to_numpy(),
                    }
                )
            )
    if not frames:
        return None, "The scenarios' reporting intervals do not match intervals.parquet."
    return pd.concat(frames, ignore_index=True), ""
