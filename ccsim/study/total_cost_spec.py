"""The experiment's ``total_cost:`` block: the horizon (with its unit), the discount rate,
and the inputs the total cost reprices over a range (attrition, cost per hire, training,
the transition's items, fixed costs, the discount rate), with the check that every one of
them names something a model has.

These inputs are never simulated: the week at equal service is priced again at each draw,
as wages are (:mod:`.total_cost`). A site's attrition is the one that also moves what is
simulated (the learning curve's tenure mix): named here it is repriced, its handle-time
effect to first order; named under ``uncertainty.inputs`` it is simulated at each point
and priced at the value drawn there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ccsim.model import ConfigError
from ccsim.study.uncertainty_design import UncertainInput

__all__ = ["REPRICED", "TotalCostSpec", "check_total_cost", "horizon_years", "transition_with"]

#: The paths the total cost reprices, besides ``discount_rate``.
REPRICED = re.compile(
    r"sites\.[^.]+\.workforce\.(attrition|cost_per_hire|training_weeks)"
    r"|transition\.(dual_running_weeks|dual_running_share|knowledge_transfer|severance)"
    r"|transition\.ramp\.[^.]+\.(start|weeks)"
    r"|fixed_costs\.[^.]+\.amount"
)
_HORIZON = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(y|yr|yrs|years?|mo|months?)\s*$")


def horizon_years(text: str) -> float:
    """``3y``, ``3 years``, ``30mo``, ``36 months`` in years; anything else a ValueError."""
    match = _HORIZON.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} needs a unit: years (3y) or months (36mo)")
    number = float(match.group(1))
    years = number / 12 if match.group(2).startswith("mo") else number
    if not 0 < years <= 100:
        raise ValueError(f"{text!r}: must be above 0 and at most 100 years")
    return years


class TotalCostSpec(BaseModel):
    """``total_cost: {horizon: 3y, discount_rate: 0.08}``: per model, the annual cost and
    its net present value over ``horizon`` (:mod:`.total_cost`); ``uncertain``: the inputs
    repriced over their ranges (a Latin hypercube of its own, ``points`` draws without an
    ``uncertainty:`` block, else one row for each of its points)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon: str = Field("3y", description="with its unit: 3y, 36mo")
    discount_rate: float = Field(0.08, ge=0, lt=1, description="a year, on yearly costs")
    points: int = Field(64, ge=8, le=10_000, description="draws without an uncertainty block")
    uncertain: dict[str, UncertainInput] = Field(default_factory=dict)

    @field_validator("horizon", mode="before")
    @classmethod
    def _with_unit(cls, value: Any) -> str:
        horizon_years(value)
        return str(value)

    @field_validator("uncertain")
    @classmethod
    def _repriced_paths(cls, inputs: dict[str, UncertainInput]) -> dict[str, UncertainInput]:
        for name, spec_input in inputs.items():
            for path, (low, high) in spec_input.ranges(name).items():
                if path != "discount_rate" and not REPRICED.fullmatch(path):
                    raise ValueError(
                        f"{name}: {path} is not repriced here (discount_rate, "
                        "sites.<site>.workforce.*, transition.*, fixed_costs.<name>.amount); "
                        "simulated inputs go under uncertainty.inputs"
                    )
                if low < 0 or (path == "discount_rate" and high >= 1):
                    raise ValueError(f"{name}: {path} must lie in [0, 1) for a rate, >= 0 else")
        return inputs

    @property
    def years(self) -> float:
        return horizon_years(self.horizon)


def _has(scenario, path: str) -> bool:
    """Whether ``scenario`` states what ``path`` names (its block and, for a site, the site)."""
    parts = path.split(".")
    if parts[0] == "sites":
        site = next((s for s in scenario.sites if s.name == parts[1]), None)
        return site is not None and site.workforce is not None
    if parts[0] == "transition":
        transition = scenario.transition
        if transition is None:
            return False
        return parts[1] != "ramp" or parts[2] in transition.ramp
    return parts[1] in scenario.fixed_costs


def check_total_cost(experiment) -> None:
    """Refuse, before anything runs, a ``total_cost:`` without a frontier, an uncertain path
    no model has, or one also simulated under ``uncertainty.inputs``: one line each."""
    spec, source = experiment.spec.total_cost, experiment.source
    if spec is None:
        return
    if experiment.spec.frontier is None:
        raise ConfigError(source, "total_cost", "needs a frontier block (cost at equal service)")
    simulated = set()
    if experiment.spec.uncertainty is not None:
        for name, spec_input in experiment.spec.uncertainty.inputs.items():
            simulated |= set(spec_input.ranges(name))
    for name, spec_input in spec.uncertain.items():
        for path in spec_input.ranges(name):
            where = f"total_cost.uncertain.{name}"
            if path in simulated:
                raise ConfigError(source, where, f"{path} is already under uncertainty.inputs")
            if path != "discount_rate" and not any(
                _has(s, path) for s in experiment.scenarios.values()
            ):
                raise ConfigError(source, where, f"no model has {path}")
            for end in spec_input.ranges(name)[path]:
                for scenario in experiment.scenarios.values():
                    problem = _refused(scenario, path, end)
                    if problem:
                        raise ConfigError(source, where, f"{path} at {end:g}: {problem}")


def transition_with(transition, values: Mapping[str, float]):
    """``transition`` with the ``transition.*`` paths of ``values`` set, validated (a
    ValidationError where a field refuses its value); a ramp of a site it does not open
    is left alone (the site is new in another model only)."""
    data = transition.model_dump()
    for path, value in values.items():
        parts = path.split(".")
        if parts[0] != "transition":
            continue
        if parts[1] == "ramp":
            if parts[2] in data["ramp"]:
                data["ramp"][parts[2]][parts[3]] = value
        else:
            data[parts[1]] = value
    return type(transition).model_validate(data)


def _refused(scenario, path: str, value: float) -> str:
    """What the model's own field says of ``value`` at ``path`` ("" where it takes it, or
    the model lacks the path): a range end is checked before anything runs, not found
    wanting after a study's simulations."""
    if path == "discount_rate" or not _has(scenario, path):
        return ""
    parts = path.split(".")
    try:
        if parts[0] == "sites":
            force = next(s for s in scenario.sites if s.name == parts[1]).workforce
            type(force).model_validate({**force.model_dump(), parts[3]: value})
        elif parts[0] == "transition":
            transition_with(scenario.transition, {path: value})
        else:
            cost = scenario.fixed_costs[parts[1]]
            type(cost).model_validate({**cost.model_dump(), "amount": value})
    except ValidationError as error:
        return str(error.errors()[0]["msg"]).lower()
    return ""
