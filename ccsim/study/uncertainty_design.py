"""The joint uncertainty of an experiment's inputs: what is uncertain, and the points sampled.

The intervals of a study cover simulation noise at the base inputs; wages, containment and
site penalties are estimates with ranges, and they move the answer far more. An experiment
names them under ``uncertainty.inputs``, each with a range and the ``source`` of that range.
An input is one dotted path (its name: ``sites.manila.cost_per_hour: {low: 8, high: 18}``)
or several paths moved together (``paths: {channels.chat.bot.containment: [0.15, 0.5],
...}``: one draw puts every path at the same position of its own range), so a quantity that
several channels or, later, several request types share is one input. Positions are drawn
jointly by a Latin hypercube (:func:`design`: each input's range cut into ``points`` strata
of equal probability, each stratum hit once), uniform or triangular (``mode``) within the
range, seeded from the experiment's seed.

A path applies to the models that have it (:func:`check_uncertainty` finds which, and says
in one line a path no model has or a value a model refuses). A site's wage is not
simulated: it is repriced (:func:`wage_sites`), unless routing goes to the cheapest site.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccsim.model import ConfigError
from ccsim.model.overrides import OverrideError, apply_overrides

__all__ = [
    "BreakEvenSpec",
    "DESIGN_KEY",
    "UncertainInput",
    "UncertaintySpec",
    "Applicable",
    "check_uncertainty",
    "design",
    "point_values",
    "wage_sites",
]

#: The spawn key of the design's generator under the experiment's seed: no replication
#: (keys 0, 1, ...) shares it.
DESIGN_KEY = 2**31 - 7
_WAGE = re.compile(r"sites\.([^.]+)\.cost_per_hour")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UncertainInput(_Frozen):
    """One uncertain input: ``low`` and ``high`` of the dotted path it is named by, or
    ``paths`` moved together (each with its own ``[low, high]``); drawn ``uniform`` or
    ``triangular`` with its ``mode`` (a value of the path; with ``paths``, a position from
    0 at every low end to 1 at every high end); ``unit``: a duration's (values are then
    written ``12.5h``); ``models``: the only models it applies to (a path a model has but
    does not use, an agent assist of 1 in a model without AI, is no uncertainty of it);
    ``source``: where the range comes from."""

    low: float | None = None
    high: float | None = None
    paths: dict[str, tuple[float, float]] | None = None
    dist: Literal["uniform", "triangular"] = "uniform"
    mode: float | None = None
    unit: str | None = Field(None, pattern=r"^[a-z]+$")  # of a duration: "h" sets "12.5h"
    models: list[str] = Field(default_factory=list)  # only these (else every one with a path)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_range(self) -> UncertainInput:
        if self.paths is None:
            if self.low is None or self.high is None:
                raise ValueError("needs low and high (or paths: {path: [low, high]})")
            if not self.low < self.high:
                raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        else:
            if self.low is not None or self.high is not None:
                raise ValueError("low and high go in each of paths, not beside them")
            if not self.paths:
                raise ValueError("paths: needs at least one path")
            for path, (low, high) in self.paths.items():
                if not low < high:
                    raise ValueError(f"paths.{path}: low ({low}) must be below high ({high})")
        if self.dist == "triangular":
            if self.mode is None:
                raise ValueError("a triangular input needs its mode")
            position = self.position(self.mode)
            if not 0 <= position <= 1:
                raise ValueError(f"mode ({self.mode}) must lie within the range")
        elif self.mode is not None:
            raise ValueError("mode is for dist: triangular")
        return self

    def ranges(self, name: str) -> dict[str, tuple[float, float]]:
        """Each path it moves, with its range."""
        return dict(self.paths) if self.paths is not None else {name: (self.low, self.high)}

    def value(self, number: float) -> float | str:
        """What a path is set to: ``number``, with the input's ``unit`` if it has one."""
        return f"{number:g}{self.unit}" if self.unit else number

    def position(self, mode: float) -> float:
        """``mode`` as a position in the range (0 at low, 1 at high)."""
        if self.paths is not None:
            return mode
        return (mode - self.low) / (self.high - self.low)


class BreakEvenSpec(_Frozen):
    """Where along ``input`` ``model`` costs what the cheapest of ``rivals`` costs (every
    other model when empty), at equal service."""

    input: str
    model: str
    rivals: list[str] = Field(default_factory=list)


class UncertaintySpec(_Frozen):
    """``uncertainty:``: ``points`` joint draws of the ``inputs`` (a Latin hypercube), each
    model simulated ``replications`` per point where an input that is not a wage moves it;
    ``simulated_points`` gives a model fewer simulated points, from which a linear fit
    (:mod:`.uncertainty`) gives its cost at every point."""

    points: int = Field(64, ge=8, le=10_000)
    replications: int = Field(1, ge=1, le=100)
    simulated_points: dict[str, int] = Field(default_factory=dict)
    break_even: BreakEvenSpec | None = None
    inputs: dict[str, UncertainInput] = Field(min_length=1)

    @model_validator(mode="after")
    def _fewer_points(self) -> UncertaintySpec:
        for model, n in self.simulated_points.items():
            if not 4 <= n <= self.points:
                raise ValueError(
                    f"simulated_points.{model}: {n} must be from 4 to points ({self.points})"
                )
        if self.break_even is not None and self.break_even.input not in self.inputs:
            raise ValueError(f"break_even.input: {self.break_even.input!r} is no input")
        return self


@dataclass(frozen=True)
class Applicable:
    """Per model, the paths of each input it has (an input none of whose paths it has is
    left out: it does not apply to that model)."""

    paths: dict[str, dict[str, list[str]]]  # model -> input -> paths

    def inputs(self, model: str) -> list[str]:
        return list(self.paths[model])


def check_uncertainty(spec: UncertaintySpec, scenarios: Mapping, source: str) -> Applicable:
    """Which paths of each input each model has; a value a model refuses, a path no model
    has, or a model name that is none, is one line naming ``uncertainty.<field>``."""
    where = "uncertainty"
    names = list(scenarios)
    for model in spec.simulated_points:
        if model not in scenarios:
            raise ConfigError(source, f"{where}.simulated_points.{model}", "is no model")
    if spec.break_even is not None:
        for model in [spec.break_even.model, *spec.break_even.rivals]:
            if model not in scenarios:
                why = f"{model!r} is no model ({', '.join(names)})"
                raise ConfigError(source, f"{where}.break_even", why)
    found: dict[str, dict[str, list[str]]] = {name: {} for name in names}
    for input_name, spec_input in spec.inputs.items():
        for model in spec_input.models:
            if model not in scenarios:
                why = f"{model!r} is no model ({', '.join(names)})"
                raise ConfigError(source, f"{where}.inputs.{input_name}.models", why)
        missing = []
        chosen = {n: s for n, s in scenarios.items() if n in (spec_input.models or names)}
        for path, (low, high) in spec_input.ranges(input_name).items():
            for name, scenario in chosen.items():
                try:
                    for value in (low, high):
                        value = spec_input.value(value)
                        apply_overrides(scenario, {path: value}, source=source)
                except OverrideError as exc:
                    missing.append(exc.message)
                    continue
                except ConfigError as exc:
                    why = f"{path} = {value!r} in model {name!r}: {exc.message}"
                    raise ConfigError(source, f"{where}.inputs.{input_name}", why) from None
                found[name].setdefault(input_name, []).append(path)
        if not any(input_name in found[name] for name in names):
            why = f"no model has it: {missing[0]}"
            raise ConfigError(source, f"{where}.inputs.{input_name}", why)
    return Applicable(found)


def design(spec: UncertaintySpec, seed: int, points: int | None = None, key: int = 0):
    """The positions (``points`` x inputs, each in [0, 1]) of a Latin hypercube, mapped
    through each input's distribution; ``key`` draws another hypercube from the same seed
    (the smaller design of a model with fewer simulated points)."""
    from scipy import stats
    from scipy.stats import qmc

    n = spec.points if points is None else points
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_KEY, key)))
    unit = qmc.LatinHypercube(d=len(spec.inputs), rng=rng).random(n)
    columns = []
    for j, (_, spec_input) in enumerate(spec.inputs.items()):
        u = unit[:, j]
        if spec_input.dist == "triangular":
            u = stats.triang.ppf(u, spec_input.position(spec_input.mode))
        columns.append(u)
    return np.column_stack(columns)


def point_values(spec: UncertaintySpec, positions: np.ndarray, paths=None) -> dict:
    """The value of each path at one point (``positions``: one row of :func:`design`), for
    the inputs in ``paths`` (input -> paths a model has; every path of every input when
    None)."""
    values = {}
    for j, (name, spec_input) in enumerate(spec.inputs.items()):
        ranges = spec_input.ranges(name)
        own = ranges if paths is None else {p: ranges[p] for p in paths.get(name, [])}
        for path, (low, high) in own.items():
            values[path] = spec_input.value(float(low + positions[j] * (high - low)))
    return values


def wage_sites(scenario, values: Mapping[str, float]) -> tuple[dict[str, float], dict]:
    """``values`` split into the wage factors of ``scenario``'s sites (a site's wage at the
    point over its base wage), repriced rather than simulated, and the other changes. Under
    routing to the cheapest site, or from a base wage of 0, a wage is a change like any; so
    is a contracted site's (its cost is its bill, which a wage moves through a margin only:
    the run bills it, as it does a change of ``sites.X.contract.rate``)."""
    factors, changes = {}, {}
    wages = {site.name: site.cost_per_hour for site in scenario.sites if site.contract is None}
    for path, value in values.items():
        match = _WAGE.fullmatch(path)
        site = match.group(1) if match else None
        if site in wages and wages[site] > 0 and scenario.routing.policy != "cheapest":
            factors[site] = value / wages[site]
        else:
            changes[path] = value
    return factors, changes
