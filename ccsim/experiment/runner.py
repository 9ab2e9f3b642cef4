"""Experiments: several scenarios, many replications, common random numbers, saved as they go.

An experiment file names a base scenario file, variants of it (dotted-path overrides and
grid sweeps, :mod:`ccsim.model.overrides`), a baseline, a master seed and how many replications
to run: a fixed number, or a stopping rule that adds batches until the 95% confidence
intervals of named KPIs are narrow enough.

Replication ``r`` of every scenario is seeded with child ``r`` of ``SeedSequence(seed)``, so
scenarios see the same arrivals, handle times and patience (common random numbers) and
paired differences are precise. Replications run in blocks whose boundaries depend only on
the experiment, never on the number of workers; each finished block is saved at once
(:class:`~.store.ChunkStore`), so an interrupted run resumes where it stopped, and the
final tables are built from the blocks in replication order: identical for any ``--jobs``,
either backend, and with or without interruptions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import platform
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from ccsim.experiment.backends import open_executor
from ccsim.experiment.stats import mean_ci, ratio_ci
from ccsim.experiment.store import ChunkStore, write_csv, write_parquet, write_text
from ccsim.experiment.summary import (
    INTERVAL_KEYS,
    compare,
    interval_block_stats,
    summarise,
    summarise_intervals,
)
from ccsim.model import ConfigError, Scenario, load_scenario, read_yaml_mapping, validate
from ccsim.model.distributions import TAG_PREFIX
from ccsim.model.loading import resolve_path
from ccsim.model.overrides import OverrideError, apply_overrides, expand_grid
from ccsim.sim.arrivals import expected_arrivals
from ccsim.sim.engine import simulate
from ccsim.sim.metrics import KPI_NAMES, RATIO_KPIS, TALLY_NAMES

__all__ = [
    "REPLICATION_COLUMNS",
    "Experiment",
    "ExperimentResult",
    "ExperimentSpec",
    "StoppingRule",
    "load_experiment",
    "replication_seed",
    "replication_seeds",
    "run_experiment",
    "run_replications",
]

#: Columns of a replications table: identification, KPIs, then the tallies behind them
#: (kept so that ratios over replications can be taken as ratios of totals).
REPLICATION_COLUMNS: tuple[str, ...] = (
    "replication",
    "channel",
    "site",
    *KPI_NAMES,
    *(name for name in TALLY_NAMES if name not in KPI_NAMES),
)

#: Blocks aim at about this many simulated contacts: a second or two of work, so that the
#: cost of sending a task and saving its block stays small next to the simulation.
_CONTACTS_PER_BLOCK = 300_000
_MAX_BLOCK = 100


# --- seeds ---------------------------------------------------------------------------------


def replication_seed(seed: int, replication: int, stream: str | None = None):
    """Seed of replication ``r``: child ``r`` of ``SeedSequence(seed)`` (what ``spawn`` gives).

    With ``stream`` (a scenario name) the replication gets streams of its own instead:
    independent sampling, used to measure what common random numbers gain.
    """
    key = (replication,) if stream is None else (zlib.crc32(stream.encode()), replication)
    return np.random.SeedSequence(seed, spawn_key=key)


def replication_seeds(seed: int, n_reps: int) -> list[np.random.SeedSequence]:
    """Seeds of replications ``0..n_reps-1``, as ``SeedSequence(seed).spawn(n_reps)``."""
    return np.random.SeedSequence(seed).spawn(n_reps)


# --- one block of replications (the task sent to workers) -----------------------------------


def run_block(
    scenario: Scenario, seeds: list[np.random.SeedSequence], first: int, raw: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replications ``first, first+1, ...``: their rows, and the running sums of their
    interval KPIs (:func:`.summary.interval_block_stats`), or with ``raw`` the interval
    rows themselves (one per replication, channel, site and interval)."""
    rows, tables = [], []
    for offset, seed in enumerate(seeds):
        result = simulate(scenario, seed)
        rows.extend({"replication": first + offset, **row} for row in result.rows())
        table = result.interval_table()
        if raw:
            table.insert(0, "replication", first + offset)
        tables.append(table)
    reps = pd.DataFrame(rows, columns=list(REPLICATION_COLUMNS))
    intervals = pd.concat(tables, ignore_index=True)
    if raw:
        columns = ["replication", *INTERVAL_KEYS, *KPI_NAMES]
        return reps, intervals.loc[:, columns + [c for c in TALLY_NAMES if c not in columns]]
    return reps, interval_block_stats(intervals)


def _blocks(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, stop)) for lo in range(start, stop, size)]


def run_replications(
    scenario: Scenario, n_reps: int, seed: int = 0, n_jobs: int = 1, intervals: bool = False
):
    """Run ``n_reps`` replications of one scenario in memory; one row per replication,
    channel and site (see :mod:`ccsim.sim.result`). With ``intervals``, also return one row per
    replication, channel, site and reporting interval. The result depends only on
    (scenario, n_reps, seed), never on ``n_jobs``."""
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}")
    seeds = replication_seeds(seed, n_reps)
    with open_executor("loky", n_jobs) as executor:
        # Here blocks only spread the work (nothing is summed across them): a few per worker.
        size = max(1, math.ceil(n_reps / (4 * executor.workers)))
        tasks = [("", scenario, seeds[a:b], a, intervals) for a, b in _blocks(0, n_reps, size)]
        done = sorted(executor.map_unordered(_named_block, tasks), key=lambda item: item[1])
    reps = pd.concat([reps for _, _, _, reps, _ in done], ignore_index=True)
    if not intervals:
        return reps
    return reps, pd.concat([rows for _, _, _, _, rows in done], ignore_index=True)


# --- experiment files -----------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_kpi(name: str) -> str:
    kpi = name.rsplit(".", 1)[-1]
    if kpi not in KPI_NAMES:
        raise ValueError(f"unknown KPI {kpi!r} (KPIs: {', '.join(KPI_NAMES)})")
    return name


class StoppingRule(_Frozen):
    """Add ``batch`` replications (from ``min`` up to ``max``) until the 95% interval of every
    named KPI (``asa``, or ``voice.asa`` for one channel) has a half-width within
    ``relative_half_width`` of its estimate, in every scenario."""

    min: int = Field(ge=2)
    max: int
    batch: int = Field(ge=1)
    relative_half_width: float = Field(gt=0, lt=1)
    kpis: list[str] = Field(min_length=1)

    @field_validator("kpis")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        return [_check_kpi(name) for name in names]

    @model_validator(mode="after")
    def _ordered(self) -> StoppingRule:
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self

    def rounds(self) -> list[int]:
        """Replication counts at which the rule is checked: min, min + batch, ..., max."""
        counts = list(range(self.min, self.max, self.batch))
        return counts + [self.max] if not counts or counts[-1] != self.max else counts


class ExperimentSpec(_Frozen):
    """An experiment file, validated."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    description: str = ""
    scenario: str = Field(min_length=1, description="base scenario file, relative to this one")
    seed: int = Field(0, ge=0)
    replications: Annotated[
        Annotated[int, Tag(f"{TAG_PREFIX}count")]
        | Annotated[StoppingRule, Tag(f"{TAG_PREFIX}rule")],
        Discriminator(
            lambda v: f"{TAG_PREFIX}{'rule' if isinstance(v, dict | StoppingRule) else 'count'}"
        ),
    ] = Field(description="a number, or a stopping rule")
    common_random_numbers: bool = True
    baseline: str | None = None
    scenarios: dict[str, dict[str, Any]] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    grid_name: str | None = None

    @field_validator("replications")
    @classmethod
    def _at_least_one(cls, value):
        if isinstance(value, int) and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("grid")
    @classmethod
    def _non_empty_lists(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in grid.items():
            if not values:
                raise ValueError(f"{path}: needs at least one value")
        return grid


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment: the spec, its validated scenarios (in order) and the baseline."""

    spec: ExperimentSpec
    source: str
    scenarios: dict[str, Scenario]
    baseline: str
    digest: str  # sha256 of the experiment file and its base scenario file
    scenario_file: str = ""

    def seed_for(self, scenario: str, replication: int) -> np.random.SeedSequence:
        stream = None if self.spec.common_random_numbers else scenario
        return replication_seed(self.spec.seed, replication, stream)

    def fingerprint(self, scenario: str) -> str:
        """Identity of a scenario's replications: content, seeding and code version."""
        from ccsim import __version__

        parts = [
            self.scenarios[scenario].model_dump_json(),
            str(self.spec.seed),
            "crn" if self.spec.common_random_numbers else f"independent:{scenario}",
            __version__,
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file and every scenario it defines."""
    path = Path(path)
    spec = validate(ExperimentSpec, read_yaml_mapping(path), str(path))
    return build_experiment(spec, str(path), path.parent)


def build_experiment(spec: ExperimentSpec, source: str, base_dir: Path) -> Experiment:
    """Resolve the base scenario and the variants of ``spec``; errors name ``source``."""
    scenario_path = resolve_path(base_dir / spec.scenario, source, "scenario")
    try:
        base = load_scenario(scenario_path)
    except ConfigError as exc:
        if exc.message == "file not found":
            raise ConfigError(source, "scenario", f"{spec.scenario}: file not found") from None
        raise
    definitions: dict[str, tuple[str, dict[str, Any]]] = {
        name: (f"scenarios.{name}", overrides) for name, overrides in spec.scenarios.items()
    }
    for name, point in expand_grid(spec.grid, spec.grid_name).items():
        if name in definitions:
            raise ConfigError(source, "grid", f"grid point {name!r} repeats a scenario name")
        definitions[name] = ("grid", point)
    if not definitions:
        definitions["base"] = ("scenarios", {})
    scenarios = {}
    files = [scenario_path]
    for name, (where, overrides) in definitions.items():
        overrides = dict(overrides)
        own = overrides.pop("scenario", None)  # a model described by a scenario file of its own
        start = base
        if own is not None:
            path = resolve_path(base_dir / str(own), source, f"{where}.scenario")
            if not path.is_file():
                raise ConfigError(source, f"{where}.scenario", f"{own}: file not found")
            start = load_scenario(path)
            files.append(path)
        try:
            scenarios[name] = apply_overrides(start, overrides, source=f"{source}: {where}")
        except OverrideError as exc:
            raise ConfigError(source, f"{where}.{exc.path}", exc.message) from None
    baseline = spec.baseline if spec.baseline is not None else next(iter(scenarios))
    if baseline not in scenarios:
        raise ConfigError(
            source, "baseline", f"{baseline!r} is not a scenario ({', '.join(scenarios)})"
        )
    if isinstance(spec.replications, StoppingRule):
        channels = {*base.channels, "all"}
        for name in spec.replications.kpis:
            channel = name.rsplit(".", 1)[0] if "." in name else None
            if channel is not None and channel not in channels:
                raise ConfigError(source, "replications.kpis", f"no channel {channel!r}")
    digest = hashlib.sha256()
    source_path = Path(source)
    if source_path.is_file():
        digest.update(source_path.read_bytes())
    for path in files:
        digest.update(path.read_bytes())
    return Experiment(spec, source, scenarios, baseline, digest.hexdigest(), str(scenario_path))


# --- running --------------------------------------------------------------------------------


@dataclass
class ExperimentResult:
    """The tables of a finished experiment (also saved in ``out``)."""

    replications: pd.DataFrame
    intervals: pd.DataFrame
    summary: pd.DataFrame
    comparisons: pd.DataFrame
    manifest: dict[str, Any]
    out: Path
    stopped_early: bool = field(default=False)


def _block_size(scenario: Scenario) -> int:
    calendar = scenario.calendar()
    expected = sum(
        expected_arrivals(c.arrivals, calendar)
        for c in scenario.channels.values()
        if c.arrivals is not None
    )
    return int(min(_MAX_BLOCK, max(1, math.ceil(_CONTACTS_PER_BLOCK / max(expected, 1.0)))))


def _plan(rounds: list[int], size: int) -> list[list[tuple[int, int]]]:
    """Blocks of each round; boundaries depend only on the rounds and the block size."""
    plan, start = [], 0
    for stop in rounds:
        plan.append(_blocks(start, stop, size))
        start = stop
    return plan


def _rule_met(rule: StoppingRule, reps: dict[str, pd.DataFrame]) -> bool:
    for table in reps.values():
        for name in rule.kpis:
            channel, _, kpi = name.rpartition(".")
            whole = table[table.site == "all"]
            groups = whole[whole.channel == channel] if channel else whole
            for _, group in groups.groupby("channel"):
                if kpi in RATIO_KPIS:
                    numerator, denominator = RATIO_KPIS[kpi]
                    estimate = ratio_ci(
                        group[list(numerator)].sum(axis=1), group[list(denominator)].sum(axis=1)
                    )
                else:
                    estimate = mean_ci(group[kpi])
                if estimate.half_width == 0:
                    continue
                if not estimate.half_width <= rule.relative_half_width * abs(estimate.value):
                    return False
    return True


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("simpy", "numpy", "pandas", "scipy", "joblib", "pydantic", "pyarrow", "dask"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def run_experiment(
    experiment: str | Path | Experiment | ExperimentSpec | dict,
    *,
    reps: int | None = None,
    n_jobs: int = 1,
    out: str | Path | None = None,
    backend: str = "loky",
    scheduler: str | None = None,
    progress: bool = False,
) -> ExperimentResult:
    """Run (or resume) an experiment and return its tables.

    ``experiment`` is an experiment file, a loaded :class:`Experiment`, or a spec as a dict
    (its ``scenario`` path relative to the working directory). Tables also go to ``out``
    (default ``results/<name>``): ``replications.parquet``, ``intervals.parquet``,
    ``summary.csv``, ``comparisons.csv`` and ``manifest.json``.

    ``reps`` replaces the file's replications by a fixed number. Blocks already saved in
    ``out`` by an earlier, interrupted run of the same scenarios are reused.
    """
    from ccsim import __version__

    if isinstance(experiment, dict | ExperimentSpec):  # a spec built in a notebook
        spec = validate(ExperimentSpec, experiment, "<experiment>")
        experiment = build_experiment(spec, "<experiment>", Path.cwd())
    elif not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    if reps is not None and reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    spec = experiment.spec
    out = Path(out) if out is not None else Path("results") / spec.name
    rule = spec.replications if isinstance(spec.replications, StoppingRule) else None
    if reps is not None:
        rule = None
    rounds = rule.rounds() if rule is not None else [reps or int(spec.replications)]
    names = list(experiment.scenarios)
    fingerprints = {name: experiment.fingerprint(name) for name in names}
    plans = {name: _plan(rounds, _block_size(experiment.scenarios[name])) for name in names}
    store = ChunkStore(out)
    started, clock = datetime.now(UTC), time.perf_counter()

    collectors = {
        name: _Collector(store, fingerprints[name], store.done(fingerprints[name]))
        for name in names
    }
    bar = _progress_bar(len(names) * rounds[-1], progress)
    completed_rounds = 0
    try:
        with open_executor(backend, n_jobs, scheduler) as executor:
            for index, _ in enumerate(rounds):
                tasks = []
                for name in names:
                    collector = collectors[name]
                    for first, stop in plans[name][index]:
                        if (first, stop) in collector.saved_before:
                            bar.update(stop - first)
                        else:
                            seeds = [experiment.seed_for(name, r) for r in range(first, stop)]
                            tasks.append((name, experiment.scenarios[name], seeds, first))
                    collector.extend(plans[name][index])
                for name, first, stop, rows, sums in executor.map_unordered(_named_block, tasks):
                    store.save(fingerprints[name], first, stop, rows, sums)
                    collectors[name].add((first, stop), rows, sums)
                    bar.update(stop - first)
                completed_rounds = index + 1
                if (
                    rule is not None
                    and index + 1 < len(rounds)
                    and _rule_met(rule, {n: c.replications() for n, c in collectors.items()})
                ):
                    break
    finally:
        bar.close()

    n_reps = rounds[completed_rounds - 1]
    result = _finish(experiment, collectors, out)
    manifest = {
        "experiment": spec.name,
        "file": experiment.source,
        "scenario_file": experiment.scenario_file,
        "sha256": experiment.digest,
        "ccsim": __version__,
        "versions": _versions(),
        "platform": platform.platform(),
        "seed": spec.seed,
        "common_random_numbers": spec.common_random_numbers,
        "scenarios": names,
        "descriptions": {name: experiment.scenarios[name].description for name in names},
        "question": spec.description.strip(),
        "horizon_s": experiment.scenarios[experiment.baseline].horizon,
        "warmup_s": experiment.scenarios[experiment.baseline].warmup,
        "baseline": experiment.baseline,
        "replications": n_reps,
        "stopping_rule": rule.model_dump() if rule is not None else None,
        "stopped_early": rule is not None and n_reps < rounds[-1],
        "backend": backend,
        "jobs": n_jobs,
        "started": started.isoformat(timespec="seconds"),
        "wall_time_s": round(time.perf_counter() - clock, 3),
        "command": " ".join(sys.argv),
    }
    write_text(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    store.prune(set(fingerprints.values()))
    return ExperimentResult(
        *result, manifest=manifest, out=out, stopped_early=manifest["stopped_early"]
    )


def _named_block(name, scenario, seeds, first, raw=False):
    reps, sums = run_block(scenario, seeds, first, raw)
    return name, first, first + len(seeds), reps, sums


class _Collector:
    """The blocks of one scenario, folded in replication order as they arrive.

    Workers finish blocks in any order; a block waits in ``pending`` until every block
    before it has been folded in, so the interval sums are added in one fixed order (the
    same last bits for any number of workers) and only out-of-order blocks are held in
    memory. Blocks saved by an earlier, interrupted run are read from disk when their turn
    comes.
    """

    def __init__(self, store: ChunkStore, fingerprint: str, saved_before: set) -> None:
        self.store, self.fingerprint, self.saved_before = store, fingerprint, saved_before
        self.order: list[tuple[int, int]] = []
        self.pending: dict[tuple[int, int], tuple[pd.DataFrame, pd.DataFrame]] = {}
        self.tables: list[pd.DataFrame] = []
        self.keys: pd.DataFrame | None = None
        self.totals: np.ndarray | None = None
        self.columns: list[str] = []

    def extend(self, blocks: list[tuple[int, int]]) -> None:
        self.order.extend(blocks)
        self._fold()

    def add(self, block: tuple[int, int], reps: pd.DataFrame, sums: pd.DataFrame) -> None:
        self.pending[block] = (reps, sums)
        self._fold()

    def _fold(self) -> None:
        while len(self.tables) < len(self.order):
            block = self.order[len(self.tables)]
            if block in self.pending:
                reps, sums = self.pending.pop(block)
            elif block in self.saved_before:
                reps, sums = self.store.load(self.fingerprint, block)
            else:
                return
            self.tables.append(reps)
            values = sums.drop(columns=INTERVAL_KEYS).to_numpy(dtype=float)
            if self.totals is None:
                self.keys = sums[INTERVAL_KEYS].reset_index(drop=True)
                self.columns = [c for c in sums.columns if c not in INTERVAL_KEYS]
                self.totals = values.copy()
            else:
                self.totals += values

    def replications(self) -> pd.DataFrame:
        return pd.concat(self.tables, ignore_index=True)

    def interval_sums(self) -> pd.DataFrame:
        sums = pd.concat([self.keys, pd.DataFrame(self.totals, columns=self.columns)], axis=1)
        sums["n"] = sums["n"].astype(int)
        return sums


def _finish(experiment: Experiment, collectors: dict[str, _Collector], out: Path):
    """Write the final tables, in scenario and replication order."""
    reps_tables, interval_tables = [], []
    for name, collector in collectors.items():
        table = collector.replications()
        table.insert(0, "scenario", name)
        reps_tables.append(table)
        sums = collector.interval_sums()
        sums.insert(0, "scenario", name)
        interval_tables.append(summarise_intervals(sums))
    replications = pd.concat(reps_tables, ignore_index=True)
    intervals = pd.concat(interval_tables, ignore_index=True)
    summary = summarise(replications)
    comparisons = compare(replications, experiment.baseline)
    write_parquet(out / "replications.parquet", replications)
    write_parquet(out / "intervals.parquet", intervals)
    write_csv(out / "summary.csv", summary)
    write_csv(out / "comparisons.csv", comparisons)
    return replications, intervals, summary, comparisons


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="rep",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        desc="replications",
    )
