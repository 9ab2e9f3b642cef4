"""Experiment files: the spec (scenarios, replications or a stopping rule, the frontier, the
selection, the uncertain inputs), validated, and the loaded experiment with its scenarios,
baseline, seeds and fingerprints."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from ccsim.experiment.replications import code_digest, replication_seed
from ccsim.model import ConfigError, Scenario, load_scenario, read_yaml_mapping, validate
from ccsim.model.distributions import TAG_PREFIX
from ccsim.model.loading import resolve_path
from ccsim.model.overrides import OverrideError, apply_overrides, expand_grid
from ccsim.model.schema import json_schema
from ccsim.sim.metrics import KPI_NAMES
from ccsim.study.sensitivity import check_uncertain
from ccsim.study.total_cost_spec import TotalCostSpec
from ccsim.study.uncertainty_design import Applicable, UncertaintySpec, check_uncertainty

__all__ = [
    "Experiment",
    "ExperimentSpec",
    "FrontierSpec",
    "MAX_REPLICATIONS",
    "MAX_SCENARIOS",
    "SelectionSpec",
    "StoppingRule",
    "UncertainRange",
    "build_experiment",
    "check_total_replications",
    "experiment_schema",
    "load_experiment",
]


#: Scenarios an experiment may define (its ``scenarios`` and grid points together): each is
#: validated, and its seeds and blocks planned, before the first replication runs.
MAX_SCENARIOS = 10_000
#: Replications a run may plan, per scenario and in all (scenarios x replications): the
#: seeds of a round are built up front, about 400 bytes each (a million: 0.4 GB and 8 s).
MAX_REPLICATIONS = 1_000_000


def _at_most_max_replications(value: int) -> int:
    if value > MAX_REPLICATIONS:
        raise ValueError(
            f"{value:,} replications, above the {MAX_REPLICATIONS:,} a run may have "
            "(its seeds are built before it starts)"
        )
    return value


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

    _at_most = field_validator("max")(_at_most_max_replications)

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
    each of ``scales`` of its staffed headcounts (:mod:`.equal_service`); with ``per_site``,
    then at the points where each group of sites meets its own targets (:mod:`.site_scales`)."""

    scales: list[float] = Field(min_length=2)
    replications: int = Field(10, ge=2)
    per_site: bool = Field(
        False,
        description="scale each group of sites to its own binding target (.site_scales), "
        "widening the sweep until every crossing is bracketed",
    )
    max_occupancy: float | None = Field(
        None, gt=0, le=1, description="live-occupancy cap of the plans (per_site)"
    )
    max_occupancy_deferred: float | None = Field(
        None, gt=0, le=1, description="occupancy cap with deferred work (per_site)"
    )
    step: float = Field(0.05, gt=0, le=0.25, description="how far a widening goes (per_site)")
    max_rounds: int = Field(4, ge=1, le=10, description="rounds after the scales (per_site)")

    _at_most = field_validator("replications")(_at_most_max_replications)

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
    uncertainty: UncertaintySpec | None = Field(
        None, description="inputs sampled jointly (Latin hypercube), each with its source"
    )
    frontier: FrontierSpec | None = None
    selection: SelectionSpec | None = None
    total_cost: TotalCostSpec | None = Field(None, description="annual cost and NPV per model")

    @field_validator("replications")
    @classmethod
    def _at_least_one(cls, value):
        if isinstance(value, int) and value < 1:
            raise ValueError("must be at least 1")
        return _at_most_max_replications(value) if isinstance(value, int) else value

    _at_most = field_validator("sensitivity_replications")(_at_most_max_replications)

    @field_validator("grid")
    @classmethod
    def _non_empty_lists(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in grid.items():
            if not values:
                raise ValueError(f"{path}: needs at least one value")
        points = math.prod(len(values) for values in grid.values())
        if points > MAX_SCENARIOS:
            sizes = " x ".join(f"{len(values):,}" for values in grid.values())
            raise ValueError(
                f"{sizes} = {points:,} grid points, above the {MAX_SCENARIOS:,} scenarios "
                "an experiment may have"
            )
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
    uncertainty_paths: Applicable | None = None  # which paths of each input each model has

    def seed_for(self, scenario: str, replication: int) -> np.random.SeedSequence:
        stream = None if self.spec.common_random_numbers else scenario
        return replication_seed(self.spec.seed, replication, stream)

    def fingerprint(self, scenario: str) -> str:
        """Identity of a scenario's replications: what determines their rows, i.e. the
        validated scenario, the seeding and the code that simulates
        (:func:`~ccsim.experiment.replications.code_digest`). Each saved block also names its
        replication range."""
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
    _check_size(spec, source)
    definitions: dict[str, tuple[str, dict[str, Any]]] = {
        name: (f"scenarios.{name}", overrides) for name, overrides in spec.scenarios.items()
    }
    for name, point in expand_grid(spec.grid, spec.grid_name, source).items():
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
    applicable = _uncertainty_paths(spec, scenarios, source)
    source_path = Path(source)
    if source_path.is_file():
        digest.update(source_path.read_bytes())
    for path in files:
        digest.update(path.read_bytes())
    return Experiment(
        spec, source, scenarios, baseline, digest.hexdigest(), str(scenario_path), applicable
    )


def _uncertainty_paths(spec: ExperimentSpec, scenarios, source: str) -> Applicable | None:
    """Which paths of each uncertain input each model has (None without ``uncertainty:``)."""
    if spec.uncertainty is None:
        return None
    if spec.frontier is None:  # a point's cost at equal service steps along the frontier
        raise ConfigError(source, "uncertainty", "needs a frontier block")
    return check_uncertainty(spec.uncertainty, scenarios, source)


def _check_size(spec: ExperimentSpec, source: str) -> None:
    """Refuse, before anything is built, more scenarios or replications in all than a run
    may plan (:data:`MAX_SCENARIOS`, :data:`MAX_REPLICATIONS`)."""
    points = math.prod(len(values) for values in spec.grid.values()) if spec.grid else 0
    n_scenarios = max(1, len(spec.scenarios) + points)
    if n_scenarios > MAX_SCENARIOS:
        raise ConfigError(
            source,
            "grid",
            f"{len(spec.scenarios):,} scenarios and {points:,} grid points, above the "
            f"{MAX_SCENARIOS:,} scenarios an experiment may have",
        )
    rule = spec.replications
    most = rule.max if isinstance(rule, StoppingRule) else rule
    check_total_replications(n_scenarios, most, source, "replications")


def check_total_replications(n_scenarios: int, reps: int, source: str, field: str) -> None:
    """Refuse ``n_scenarios`` x ``reps`` replications above :data:`MAX_REPLICATIONS`."""
    if n_scenarios * reps > MAX_REPLICATIONS:
        raise ConfigError(
            source,
            field,
            f"{n_scenarios:,} scenarios x {reps:,} replications = {n_scenarios * reps:,} "
            f"replications in all, above the {MAX_REPLICATIONS:,} a run may have",
        )


def experiment_schema() -> dict[str, Any]:
    """The JSON Schema of an experiment file (``experiments/*.yaml``), for editors."""
    return json_schema(
        ExperimentSpec,
        "ccsim experiment",
        "Scenarios, replications and seeds of one study (ccsim experiment).",
    )
