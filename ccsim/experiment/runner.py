"""Experiments: several scenarios, many replications, common random numbers, saved as they go.

An experiment file names a base scenario file, variants of it (dotted-path overrides and
grid sweeps, :mod:`ccsim.model.overrides`), a baseline, a master seed and how many replications
to run: a fixed number, or a stopping rule that adds batches until the 95% confidence
intervals of named KPIs are narrow enough.

Replication ``r`` of every scenario is seeded with child ``r`` of ``SeedSequence(seed)``, so
scenarios see the same arrivals, handle times and patience (common random numbers) and
paired differences are precise. Replications run in blocks whose boundaries depend only on
the experiment, never on the number of workers; each finished block is saved at once with
its checksums (:class:`~.chunks.ChunkStore`), so an interrupted run resumes where it
stopped, and the final tables are streamed from the blocks in replication order
(:mod:`.tables`): identical for any ``--jobs``, either backend, and with or without
interruptions, in memory that does not grow with the number of replications.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, overload

import numpy as np
import pandas as pd
import pyarrow as pa
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
from ccsim.experiment.blocks import (
    REPLICATION_COLUMNS,
    code_digest,
    replication_seed,
    replication_seeds,
    run_block,
)
from ccsim.experiment.chunks import Block, BlockError, ChunkStore
from ccsim.experiment.progress import finish
from ccsim.experiment.progress import progress as progress_bar
from ccsim.experiment.sensitivity import BASE, check_uncertain, sensitivity_table, variants
from ccsim.experiment.stats import (
    mean_ci,
    paired_mean_difference_ci,
    paired_quantile_difference_ci,
    paired_ratio_difference_ci,
    quantile_ci,
    ratio_ci,
)
from ccsim.experiment.store import (
    OutputError,
    commit_generation,
    output_folder,
    write_csv,
    write_text,
    writing_to,
)
from ccsim.experiment.summary import INTERVAL_KEYS
from ccsim.experiment.tables import write_tables
from ccsim.model import ConfigError, Scenario, load_scenario, read_yaml_mapping, validate
from ccsim.model.distributions import TAG_PREFIX
from ccsim.model.loading import resolve_path
from ccsim.model.overrides import OverrideError, apply_overrides, expand_grid
from ccsim.sim.arrivals import expected_arrivals
from ccsim.sim.metrics import KPI_NAMES, QUANTILE_KPIS, RATIO_KPIS

__all__ = [
    "REPLICATION_COLUMNS",
    "Experiment",
    "ExperimentResult",
    "ExperimentSpec",
    "RuleCheck",
    "StoppingRule",
    "iter_replications",
    "load_experiment",
    "replication_seed",
    "replication_seeds",
    "run_block",
    "run_experiment",
    "run_replications",
]

#: Blocks aim at about this many simulated contacts: a second or two of work, so that the
#: cost of sending a task and saving its block stays small next to the simulation.
_CONTACTS_PER_BLOCK = 300_000
_MAX_BLOCK = 100
#: Interval rows a block of ``iter_replications`` may hold (replications x intervals):
#: what bounds the memory of ``ccsim run``, whose interval rows are written as they come.
_INTERVAL_ROWS_PER_BLOCK = 2_000


def _blocks(start: int, stop: int, size: int) -> list[Block]:
    return [(lo, min(lo + size, stop)) for lo in range(start, stop, size)]


def _named_block(name, scenario, seeds, first, raw=False):
    reps, sums = run_block(scenario, seeds, first, raw)
    return name, first, first + len(seeds), reps, sums


def iter_replications(
    scenario: Scenario,
    n_reps: int,
    seed: int = 0,
    n_jobs: int = 1,
    intervals: bool = False,
    progress: bool = False,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Run ``n_reps`` replications of one scenario and yield them block by block, in
    replication order: the replication rows and, with ``intervals``, the interval rows
    (otherwise the interval running sums). Blocks finished out of order wait for their
    turn; a block's size is bounded, so memory does not grow with ``n_reps``. The rows
    depend only on (scenario, n_reps, seed), never on ``n_jobs``. ``progress``: a bar on
    a terminal, a line every 10 s elsewhere."""
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}")
    seeds = replication_seeds(seed, n_reps)
    n_intervals = max(1, len(scenario.calendar().slots))
    with open_executor("loky", n_jobs) as executor:
        # Blocks only spread the work here (nothing is summed across them): a few per worker.
        size = max(1, math.ceil(n_reps / (4 * executor.workers)))
        size = max(1, min(size, _block_size(scenario), _INTERVAL_ROWS_PER_BLOCK // n_intervals))
        tasks = [("", scenario, seeds[a:b], a, intervals) for a, b in _blocks(0, n_reps, size)]
        waiting: dict[int, tuple[int, pd.DataFrame, pd.DataFrame]] = {}
        turn = 0
        bar = progress_bar(n_reps, progress)
        try:
            for _, first, stop, reps, rows in executor.map_unordered(_named_block, tasks):
                bar.update(stop - first)
                waiting[first] = (stop, reps, rows)
                while turn in waiting:
                    stop, reps, rows = waiting.pop(turn)
                    yield reps, rows
                    turn = stop
        finally:
            bar.close()


@overload
def run_replications(
    scenario: Scenario,
    n_reps: int,
    seed: int = 0,
    n_jobs: int = 1,
    intervals: Literal[False] = False,
) -> pd.DataFrame: ...


@overload
def run_replications(
    scenario: Scenario, n_reps: int, seed: int = 0, n_jobs: int = 1, *, intervals: Literal[True]
) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def run_replications(
    scenario: Scenario, n_reps: int, seed: int = 0, n_jobs: int = 1, intervals: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``n_reps`` replications of one scenario in memory; one row per replication,
    channel and site (see :mod:`ccsim.sim.result`). With ``intervals=True``, the pair
    (those rows, one row per replication, channel, site and reporting interval) instead:
    the overloads give each call its one return type. The result depends only on
    (scenario, n_reps, seed), never on ``n_jobs``."""
    done = list(iter_replications(scenario, n_reps, seed, n_jobs, intervals))
    reps = pd.concat([reps for reps, _ in done], ignore_index=True)
    if not intervals:
        return reps
    return reps, pd.concat([rows for _, rows in done], ignore_index=True)


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
    ``relative_half_width`` of its estimate, in every scenario.

    With ``on: differences`` the rule is on the paired difference of each scenario to the
    baseline instead, its half-width within ``relative_half_width`` of the baseline's
    estimate: common random numbers make differences far tighter than the estimates, so a
    comparison needs fewer replications than each figure alone would."""

    min: int = Field(ge=2)
    max: int
    batch: int = Field(ge=1)
    relative_half_width: float = Field(gt=0, lt=1)
    kpis: list[str] = Field(min_length=1)
    on: Literal["estimates", "differences"] = "estimates"

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


class UncertainRange(_Frozen):
    """The range of an uncertain input: the values at its low and high ends."""

    low: Any
    high: Any

    @model_validator(mode="after")
    def _ordered(self) -> UncertainRange:
        numbers = all(isinstance(v, int | float) for v in (self.low, self.high))
        if numbers and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class FrontierSpec(_Frozen):
    """The cost-service frontier of every model inside the experiment: ``replications`` at
    each of ``scales`` of its staffed headcounts (:mod:`.equal_service`)."""

    scales: list[float] = Field(min_length=2)
    replications: int = Field(10, ge=2)

    @field_validator("scales")
    @classmethod
    def _a_sweep_through_the_plan(cls, scales: list[float]) -> list[float]:
        if any(not scale > 0 for scale in scales):
            raise ValueError("every scale must be positive")
        if any(b <= a for a, b in zip(scales, scales[1:], strict=False)):
            raise ValueError("scales must be in increasing order, each once")
        # The plan is a point of its own curve: scale 1.0 reuses the main replications,
        # and the sensitivity's correction moves along the curve from it.
        if 1.0 not in scales:
            raise ValueError("scales must contain 1.0 (the plan)")
        return [float(scale) for scale in scales]


class SelectionSpec(_Frozen):
    """Select the cheapest model with a probability-of-correct-selection guarantee
    (:mod:`.selection`): ``indifference_zone`` is a share of the baseline's mean cost."""

    indifference_zone: float = Field(gt=0, lt=1)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    on: Literal["equal_service", "plan"] = "equal_service"


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
    uncertain: dict[str, UncertainRange] = Field(
        default_factory=dict,
        description="inputs known only within a range: dotted path -> low, high",
    )
    sensitivity_replications: int = Field(20, ge=2)
    frontier: FrontierSpec | None = None
    selection: SelectionSpec | None = None

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
        """Identity of a scenario's replications: what determines their rows, i.e. the
        validated scenario, the seeding and the code that simulates
        (:func:`~.blocks.code_digest`). Each saved block also names its replication range."""
        return self.fingerprint_of(scenario, self.scenarios[scenario])

    def fingerprint_of(self, model: str, scenario, *tags: str) -> str:
        """:meth:`fingerprint` of ``scenario`` (``model`` changed: a frontier's scaled
        staffing, a sensitivity's end), seeded as ``model``; ``tags`` (``frontier``,
        ``sensitivity``) keep its saved blocks apart from the main run's."""
        parts = [
            *tags,
            scenario.model_dump_json(),
            str(self.spec.seed),
            "crn" if self.spec.common_random_numbers else f"independent:{model}",
            code_digest(),
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
        except ConfigError as exc:
            if exc.source != f"{source}: {where}":
                raise
            # A value written here: named by its path in this file, so that the error
            # points at its line (ccsim.model.errors).
            raise ConfigError(source, f"{where}.{exc.path}", exc.message) from None
    currencies = {scenario.currency for scenario in scenarios.values()}
    if len(currencies) > 1:  # a difference of amounts in two currencies means nothing
        raise ConfigError(
            source, "scenarios", f"models in different currencies: {', '.join(sorted(currencies))}"
        )
    baseline = spec.baseline if spec.baseline is not None else next(iter(scenarios))
    if baseline not in scenarios:
        raise ConfigError(
            source, "baseline", f"{baseline!r} is not a scenario ({', '.join(scenarios)})"
        )
    if isinstance(spec.replications, StoppingRule):
        if spec.replications.on == "differences" and len(scenarios) < 2:
            raise ConfigError(
                source, "replications.on", "differences need a second scenario to the baseline"
            )
        channels = {"all", *(c for s in scenarios.values() for c in s.channels)}
        for name in spec.replications.kpis:
            channel = name.rsplit(".", 1)[0] if "." in name else None
            if channel is not None and channel not in channels:
                raise ConfigError(source, "replications.kpis", f"no channel {channel!r}")
    if spec.selection is not None and spec.selection.on == "equal_service" and not spec.frontier:
        raise ConfigError(
            source, "selection.on", "equal_service needs a frontier block (or use on: plan)"
        )
    digest = hashlib.sha256()
    if spec.uncertain:
        check_uncertain(Experiment(spec, source, scenarios, baseline, ""), source)
    source_path = Path(source)
    if source_path.is_file():
        digest.update(source_path.read_bytes())
    for path in files:
        digest.update(path.read_bytes())
    return Experiment(spec, source, scenarios, baseline, digest.hexdigest(), str(scenario_path))


# --- running --------------------------------------------------------------------------------


class ExperimentResult:
    """A finished experiment: its summary and comparisons, and the larger tables, which
    are read from ``out`` on first use (they can be far larger than memory needs to be)."""

    def __init__(
        self,
        summary: pd.DataFrame,
        comparisons: pd.DataFrame,
        manifest: dict[str, Any],
        out: Path,
        stopped_early: bool = False,
        rule: RuleCheck | None = None,
    ) -> None:
        self.summary, self.comparisons, self.manifest = summary, comparisons, manifest
        self.out, self.stopped_early = out, stopped_early
        #: Where the stopping rule stood at the end (None without a rule).
        self.rule = rule
        self._tables: dict[str, pd.DataFrame] = {}

    def _table(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            path = self.out / f"{name}.parquet"
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is gone: this result reads its {name} table from the output "
                    f"folder when first asked, so read result.{name} before removing it"
                )
            self._tables[name] = pd.read_parquet(path)
        return self._tables[name]

    @property
    def replications(self) -> pd.DataFrame:
        """One row per scenario, replication, channel and site (``replications.parquet``)."""
        return self._table("replications")

    @property
    def intervals(self) -> pd.DataFrame:
        """One row per scenario, channel, site, interval and KPI (``intervals.parquet``)."""
        return self._table("intervals")


def _block_size(scenario: Scenario) -> int:
    calendar = scenario.calendar()
    expected = sum(
        expected_arrivals(c.arrivals, calendar)
        for c in scenario.channels.values()
        if c.arrivals is not None
    )
    return int(min(_MAX_BLOCK, max(1, math.ceil(_CONTACTS_PER_BLOCK / max(expected, 1.0)))))


def _plan(rounds: list[int], size: int) -> list[list[Block]]:
    """Blocks of each round; boundaries depend only on the rounds and the block size."""
    plan, start = [], 0
    for stop in rounds:
        plan.append(_blocks(start, stop, size))
        start = stop
    return plan


@dataclass(frozen=True)
class RuleCheck:
    """Where a stopping rule stands: whether it is met and, for the figure furthest from
    its target (the one that decides), the scenario, channel, KPI and precision reached
    (the half-width relative to the estimate, or with ``on: differences`` to the
    baseline's estimate)."""

    met: bool
    scenario: str = ""
    channel: str = ""
    kpi: str = ""
    relative_half_width: float = 0.0
    target: float = 0.0
    on: str = "estimates"

    def describe(self, n_reps: int, stopped: bool) -> str:
        if not self.kpi:
            return f"stopping rule: no figure to judge after {n_reps} replications"
        what = "difference to the baseline of " if self.on == "differences" else ""
        figure = (
            f"{what}{self.scenario} {self.channel}.{self.kpi}: ±{self.relative_half_width:.1%} "
            f"(target ±{self.target:.1%})"
        )
        if self.met:
            when = "stopped early" if stopped else "met"
            return f"stopping rule {when} at {n_reps} replications; the widest was {figure}"
        return f"stopping rule NOT met at the maximum of {n_reps} replications: {figure}"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _estimate(kpi: str, group: pd.DataFrame):
    if kpi in QUANTILE_KPIS:
        q = QUANTILE_KPIS[kpi]
        within = group[list(q.numerator)].to_numpy(dtype=float)
        return quantile_ci(within, group[list(q.denominator)].sum(axis=1), q.points, q.quantile)
    if kpi in RATIO_KPIS:
        numerator, denominator = RATIO_KPIS[kpi]
        return ratio_ci(group[list(numerator)].sum(axis=1), group[list(denominator)].sum(axis=1))
    return mean_ci(group[kpi])


def _difference(kpi: str, pair: pd.DataFrame):
    """The paired difference (scenario minus baseline) of one channel's rows joined by
    replication (baseline columns suffixed ``_base``)."""
    if kpi in QUANTILE_KPIS:
        q = QUANTILE_KPIS[kpi]
        parts = [
            part
            for suffix in ("", "_base")
            for part in (
                pair[[f"{c}{suffix}" for c in q.numerator]].to_numpy(dtype=float),
                pair[[f"{c}{suffix}" for c in q.denominator]].sum(axis=1),
            )
        ]
        return paired_quantile_difference_ci(*parts, q.points, q.quantile)
    if kpi in RATIO_KPIS:
        numerator, denominator = RATIO_KPIS[kpi]
        parts = [
            pair[[f"{c}{suffix}" for c in columns]].sum(axis=1)
            for suffix in ("", "_base")
            for columns in (numerator, denominator)
        ]
        return paired_ratio_difference_ci(*parts)
    return paired_mean_difference_ci(pair[kpi], pair[f"{kpi}_base"])


def _check_rule(
    rule: StoppingRule,
    reps: dict[str, Callable[[list[str]], pd.DataFrame]],
    baseline: str,
) -> RuleCheck:
    """Whether every scenario meets the rule, and the figure furthest from it;
    ``reps[name](columns)`` reads those columns of the scenario's saved rows (only the
    columns the rule needs are read)."""
    columns = {"replication", "channel", "site"}
    for name in rule.kpis:
        kpi = name.rpartition(".")[2]
        if kpi in QUANTILE_KPIS:
            columns.update((*QUANTILE_KPIS[kpi].numerator, *QUANTILE_KPIS[kpi].denominator))
        else:
            columns.update(
                (*RATIO_KPIS[kpi][0], *RATIO_KPIS[kpi][1]) if kpi in RATIO_KPIS else (kpi,)
            )
    tables = {}
    for scenario, read in reps.items():
        table = read(sorted(columns))
        tables[scenario] = table[table.site == "all"]
    worst: RuleCheck | None = None
    for scenario, whole in tables.items():
        if rule.on == "differences" and scenario == baseline:
            continue
        for name in rule.kpis:
            channel, _, kpi = name.rpartition(".")
            groups = whole[whole.channel == channel] if channel else whole
            for channel_name, group in groups.groupby("channel", sort=False):
                if rule.on == "differences":
                    base = tables[baseline]
                    base = base[base.channel == channel_name]
                    if base.empty:  # the baseline has no such channel: nothing to pair
                        continue
                    pair = group.merge(base, on=["replication"], suffixes=("", "_base"))
                    estimate = _difference(kpi, pair)
                    scale = abs(_estimate(kpi, base).value)
                else:
                    estimate = _estimate(kpi, group)
                    scale = abs(estimate.value)
                if estimate.half_width == 0:
                    continue
                relative = estimate.half_width / scale if scale > 0 else math.inf
                if math.isnan(relative):
                    relative = math.inf
                check = RuleCheck(
                    relative <= rule.relative_half_width,
                    scenario,
                    str(channel_name),
                    kpi,
                    relative,
                    rule.relative_half_width,
                    rule.on,
                )
                if worst is None or relative > worst.relative_half_width:
                    worst = check
    if worst is None:
        return RuleCheck(True, target=rule.relative_half_width, on=rule.on)
    return worst


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("simpy", "numpy", "pandas", "scipy", "joblib", "pydantic", "pyarrow", "dask"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _stderr(line: str) -> None:
    print(f"ccsim: {line}", file=sys.stderr, flush=True)


def run_experiment(
    experiment: str | Path | Experiment | ExperimentSpec | dict,
    *,
    reps: int | None = None,
    n_jobs: int = 1,
    out: str | Path | None = None,
    backend: str = "loky",
    scheduler: str | None = None,
    progress: bool = False,
    notify: Callable[[str], None] = _stderr,
    command: str | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment and return its tables.

    ``experiment`` is an experiment file, a loaded :class:`Experiment`, or a spec as a dict
    (its ``scenario`` path relative to the working directory). Tables also go to ``out``
    (default ``results/<name>``): ``replications.parquet``, ``intervals.parquet``,
    ``summary.csv``, ``comparisons.csv`` and, last, ``manifest.json`` with their checksums.
    ``out`` is locked for the run: a second run on it raises
    :class:`~.store.OutputLockedError`.

    ``reps`` replaces the file's replications by a fixed number (and caps the frontier's and
    the sensitivity's at it). Blocks already saved in
    ``out`` by an earlier, interrupted run of the same scenarios are reused once their
    checksums are verified; a block that fails its check is recomputed, and ``notify``
    (default: a line on stderr) says which and why.

    ``progress`` shows a bar on a terminal and a line every 10 s elsewhere (a log, a
    notebook). ``command`` is what the manifest records as having made the tables (the
    command line, for ``ccsim experiment``); by default this call, written out.
    """
    if command is None:
        command = _call_text(experiment, reps, n_jobs, out, backend)
    if isinstance(experiment, dict | ExperimentSpec):  # a spec built in a notebook
        spec = validate(ExperimentSpec, experiment, "<experiment>")
        experiment = build_experiment(spec, "<experiment>", Path.cwd())
    elif not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    if reps is not None and reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    if reps is not None:
        experiment = _capped(experiment, reps)
    out = Path(out) if out is not None else Path("results") / experiment.spec.name
    with output_folder(out):
        return _run(experiment, reps, n_jobs, out, backend, scheduler, progress, notify, command)


def _simulate(experiment, executor, store, save, progress, jobs, what, columns=None):
    """The rows of each job ``(key, fingerprint, model, scenario, replications)``, by key, in
    blocks: saved ones read back (``columns`` of them), the others run in one batch on
    ``executor`` on ``model``'s seeds, saved by ``save`` as they finish, with a progress bar
    ``what``. The frontier's and the sensitivity's runs, after the main rounds."""
    rows: dict[Any, list[pd.DataFrame]] = {}
    tasks = []
    for key, fingerprint, model, scenario, n in jobs:
        good, _ = store.saved(fingerprint)
        rows[key] = []
        for first, stop in _blocks(0, n, _block_size(scenario)):
            if (first, stop) in good:
                rows[key].append(store.reps(fingerprint, (first, stop), columns).to_pandas())
            else:
                seeds = [experiment.seed_for(model, r) for r in range(first, stop)]
                tasks.append(((key, fingerprint), scenario, seeds, first))
    bar = progress_bar(sum(len(task[2]) for task in tasks), progress, what)
    try:
        for (key, fingerprint), first, stop, reps, sums in executor.map_unordered(
            _named_block, tasks
        ):
            save(fingerprint, first, stop, reps, sums)
            rows[key].append(reps if columns is None else reps[columns])
            bar.update(stop - first)
    finally:
        bar.close()
    return rows


def _run_variants(experiment, simulate, collectors, n_main):
    """The sensitivity's replications (:func:`~.sensitivity.variants`) by ``simulate`` (see
    :func:`_simulate`): (each model's base rows, the variants' rows by
    :attr:`~.sensitivity.Variant.key`, their fingerprints). With common random numbers on
    the same seeds, a model's base is the main run's first replications, not simulated
    again."""
    n = experiment.spec.sensitivity_replications
    with_base = n > n_main
    jobs = [
        (v.key, v.fingerprint(experiment), v.model, v.scenario, v.replications)
        for v in variants(experiment, with_base)
    ]
    rows = simulate(jobs, "sensitivity ")
    fingerprints = {fingerprint for _, fingerprint, _, _, _ in jobs}
    simulated = {
        key: pd.concat(frames, ignore_index=True).sort_values("replication", kind="stable")
        for key, frames in rows.items()
    }
    if with_base:
        models = experiment.scenarios
        base = {model: simulated.pop((BASE, BASE, model, 1.0, False)) for model in models}
    else:
        base = {}
        for model in experiment.scenarios:
            own = collectors[model].read_columns(None)
            base[model] = own[own.replication < n].reset_index(drop=True)
    return base, simulated, fingerprints


def _write_sensitivity(out: Path, experiment, base, simulated, sweep) -> Path:
    """``sensitivity.csv``, from the variants' rows and (with a frontier) its sweep."""
    table = sensitivity_table(experiment, base, simulated, sweep)
    return write_csv(out / "sensitivity.csv", table)


def _capped(experiment: Experiment, reps: int) -> Experiment:
    """``experiment`` with its frontier and sensitivity at most ``reps`` replications each (at
    least 2, what an interval needs): ``--reps 2`` is asked for a quick look at everything."""
    spec, update = experiment.spec, {}
    if spec.frontier is not None and spec.frontier.replications > max(reps, 2):
        update["frontier"] = spec.frontier.model_copy(update={"replications": max(reps, 2)})
    if spec.sensitivity_replications > max(reps, 2):
        update["sensitivity_replications"] = max(reps, 2)
    return (
        dataclasses.replace(experiment, spec=spec.model_copy(update=update))
        if update
        else experiment
    )


def _call_text(experiment, reps, n_jobs, out, backend) -> str:
    """``ccsim.run_experiment('experiments/x.yaml', reps=40)``: the call, for the manifest."""
    if isinstance(experiment, str | Path):
        what = repr(str(experiment))
    elif isinstance(experiment, Experiment):
        what = repr(experiment.source)
    else:
        what = "<spec>"
    given = {"reps": reps, "n_jobs": n_jobs, "out": None if out is None else str(out)}
    given["backend"] = backend
    defaults = {"reps": None, "n_jobs": 1, "out": None, "backend": "loky"}
    arguments = [f"{k}={v!r}" for k, v in given.items() if v != defaults[k]]
    return f"ccsim.run_experiment({', '.join([what, *arguments])})"


#: Wall time of every session that ran (part of) an experiment in an output folder, kept
#: beside the saved blocks (not among them: their folder holds only blocks) so that a
#: resumed run's manifest can give the total.
_SESSIONS = ".sessions.json"


def _earlier_sessions(store: ChunkStore, fingerprints: set[str]) -> list[dict[str, Any]]:
    """Sessions recorded in the store that computed blocks of these scenarios."""
    try:
        sessions = json.loads((store.root.parent / _SESSIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(sessions, list):
        return []
    return [
        session
        for session in sessions
        if isinstance(session, dict)
        and isinstance(session.get("wall_s"), int | float)
        and fingerprints & set(session.get("fingerprints", []))
    ]


def _record_session(store: ChunkStore, earlier: list[dict[str, Any]], session: dict) -> None:
    write_text(store.root.parent / _SESSIONS, json.dumps([*earlier, session], indent=1))


def _run(experiment, reps, n_jobs, out, backend, scheduler, progress, notify, command):
    from ccsim import __version__

    spec = experiment.spec
    rule = spec.replications if isinstance(spec.replications, StoppingRule) else None
    if reps is not None:
        rule = None
    rounds = rule.rounds() if rule is not None else [reps or int(spec.replications)]
    names = list(experiment.scenarios)
    fingerprints = {name: experiment.fingerprint(name) for name in names}
    plans = {name: _plan(rounds, _block_size(experiment.scenarios[name])) for name in names}
    store = ChunkStore(out)
    started, clock = datetime.now(UTC), time.perf_counter()
    earlier = _earlier_sessions(store, set(fingerprints.values()))
    session = {
        "started": started.isoformat(timespec="seconds"),
        "wall_s": 0.0,
        "fingerprints": sorted(set(fingerprints.values())),
    }

    def keep_time() -> None:  # after each saved block: a killed run still counts its time
        session["wall_s"] = round(time.perf_counter() - clock, 3)
        _record_session(store, earlier, session)

    collectors = {}
    for name in names:
        good, bad = store.saved(fingerprints[name])
        planned = {block for blocks in plans[name] for block in blocks}
        for (first, stop), why in sorted(bad.items()):
            if (first, stop) in planned:
                notify(
                    f"saved block {first}-{stop} of scenario {name!r} "
                    f"({store.root.name}/{fingerprints[name]}): {why}; recomputing"
                )
        collectors[name] = _Collector(store, fingerprints[name], good)
    bar = progress_bar(len(names) * rounds[-1], progress)
    completed_rounds = 0
    check: RuleCheck | None = None
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
                    with writing_to(out, "a saved block"):
                        store.save(fingerprints[name], first, stop, rows, sums)
                        keep_time()
                    del rows
                    collectors[name].add((first, stop), sums)
                    bar.update(stop - first)
                completed_rounds = index + 1
                if rule is not None:
                    check = _check_rule(
                        rule,
                        {n: c.read_columns for n, c in collectors.items()},
                        experiment.baseline,
                    )
                    if check.met:
                        break
            n_reps = rounds[completed_rounds - 1]
            if rule is not None:
                finish(bar, len(names) * n_reps)  # the rule stopped before its maximum
            bar.close()  # the frontier and the sensitivity count on bars of their own

            def save(fingerprint, first, stop, rows, sums):
                with writing_to(out, "a saved block"):
                    store.save(fingerprint, first, stop, rows, sums)
                    keep_time()

            def simulate(jobs, what, columns=None):
                return _simulate(experiment, executor, store, save, progress, jobs, what, columns)

            sweep = None
            if spec.frontier is not None:
                from ccsim.experiment.equal_service import SWEEP_COLUMNS, run_sweep

                sweep = run_sweep(
                    experiment,
                    lambda name: collectors[name].read_columns(SWEEP_COLUMNS),
                    n_reps,
                    simulate,
                )
            sensitivity = None
            if spec.uncertain:
                sensitivity = _run_variants(experiment, simulate, collectors, n_reps)
    finally:
        bar.close()

    with writing_to(out, "the final tables"):
        interval_sums = {name: collectors[name].interval_sums() for name in names}
        summary, comparisons, paths = write_tables(
            out,
            store,
            {name: (fingerprints[name], collectors[name].order) for name in names},
            interval_sums,
            experiment.baseline,
        )
        from ccsim.experiment.study import BLOCK_SUM_COLUMNS, write_study

        written, study = write_study(
            out,
            experiment,
            lambda name, columns: collectors[name].read_columns(columns),
            interval_sums,
            lambda name: [
                collectors[name]._checked(
                    lambda b=b: store.sums(fingerprints[name], b, BLOCK_SUM_COLUMNS)
                )
                for b in collectors[name].order
            ],
            n_reps,
            sweep,
        )
        paths += written
        if sensitivity is not None:
            paths.append(_write_sensitivity(out, experiment, *sensitivity[:2], sweep))
        manifest = {
            "experiment": spec.name,
            "file": experiment.source,
            "scenario_file": experiment.scenario_file,
            "sha256": experiment.digest,
            "ccsim": __version__,
            "code": code_digest()[:20],
            "versions": _versions(),
            "platform": platform.platform(),
            "seed": spec.seed,
            "common_random_numbers": spec.common_random_numbers,
            "scenarios": names,
            "fingerprints": fingerprints,
            "descriptions": {name: experiment.scenarios[name].description for name in names},
            "question": spec.description.strip(),
            "horizon_s": experiment.scenarios[experiment.baseline].horizon,
            "warmup_s": experiment.scenarios[experiment.baseline].warmup,
            "baseline": experiment.baseline,
            "currency": experiment.scenarios[experiment.baseline].currency,
            "replications": n_reps,
            "stopping_rule": rule.model_dump() if rule is not None else None,
            "stopped_early": rule is not None and n_reps < rounds[-1],
            "stopping_rule_result": check.as_dict() if check is not None else None,
            "backend": backend,
            "jobs": n_jobs,
            "started": started.isoformat(timespec="seconds"),
            "wall_time_s": round(time.perf_counter() - clock, 3),
            "wall_time_total_s": round(
                sum(s["wall_s"] for s in earlier) + time.perf_counter() - clock, 3
            ),
            "sessions": len(earlier) + 1,
            "command": command,
            "study": study,
        }
        keep_time()
        manifest = commit_generation(out, paths, manifest)
        kept = set(fingerprints.values()) | (sweep.fingerprints if sweep else set())
        store.prune(kept | (sensitivity[2] if sensitivity else set()))
    return ExperimentResult(summary, comparisons, manifest, out, manifest["stopped_early"], check)


class _Collector:
    """The blocks of one scenario: their order, and the interval running sums folded in
    replication order as blocks arrive.

    Workers finish blocks in any order; a block's sums wait in ``pending`` until every
    block before it has been folded in, so the sums are added in one fixed order (the same
    last bits for any number of workers). Replication rows are not kept: they are saved
    with the block and read back from the store when needed, one block at a time.
    """

    def __init__(self, store: ChunkStore, fingerprint: str, saved_before: set[Block]) -> None:
        self.store, self.fingerprint, self.saved_before = store, fingerprint, saved_before
        self.order: list[Block] = []
        self.folded = 0
        self.pending: dict[Block, pd.DataFrame] = {}
        self.keys: pd.DataFrame | None = None
        self.totals: np.ndarray | None = None
        self.columns: list[str] = []

    def extend(self, blocks: list[Block]) -> None:
        self.order.extend(blocks)
        self._fold()

    def add(self, block: Block, sums: pd.DataFrame) -> None:
        self.pending[block] = sums
        self._fold()

    def _fold(self) -> None:
        while self.folded < len(self.order):
            block = self.order[self.folded]
            if block in self.pending:
                sums = self.pending.pop(block)
            elif block in self.saved_before:
                sums = self._checked(lambda b=block: self.store.sums(self.fingerprint, b))
            else:
                return
            self.folded += 1
            values = sums.drop(columns=INTERVAL_KEYS).to_numpy(dtype=float)
            if self.totals is None:
                self.keys = sums[INTERVAL_KEYS].reset_index(drop=True)
                self.columns = [c for c in sums.columns if c not in INTERVAL_KEYS]
                self.totals = values.copy()
            else:
                self.totals += values

    def _checked(self, read):
        try:
            return read()
        except BlockError as exc:  # it was checked when the run started
            raise OutputError(
                f"{self.store.root / self.fingerprint}: a saved block changed during the run "
                f"({exc}); run the same command again"
            ) from None

    def read_columns(self, columns: list[str]) -> pd.DataFrame:
        """Those columns of the rows of every block folded so far."""
        blocks = self.order[: self.folded]
        tables = [
            self._checked(lambda b=b: self.store.reps(self.fingerprint, b, columns)) for b in blocks
        ]
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def interval_sums(self) -> pd.DataFrame:
        sums = pd.concat([self.keys, pd.DataFrame(self.totals, columns=self.columns)], axis=1)
        sums["n"] = sums["n"].astype(int)
        return sums
