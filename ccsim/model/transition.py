"""What moving the work to an operating model costs once, and what it costs a year beyond
the simulated week: the scenario's ``transition`` and ``fixed_costs`` blocks.

Neither is simulated: the study's total cost (:mod:`ccsim.study.total_cost`) prices them
from the week at equal service. The **learning ramp** of a new site is priced to first
order: over its first ``weeks`` its handle time falls linearly from ``start`` times its
steady state to the steady state, and the agents it needs go with the handle time (staff at
a given occupancy carry the workload), so the ramp costs the site's weekly pay at equal
service times the area of the excess, ``(start - 1) x weeks / 2``. The square-root safety
margin of staffing, which does not grow with the workload, is left out: the figure is a
slight overstatement.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat

from ccsim.model.fields import FrozenModel, Name, Probability

__all__ = ["FixedCost", "Ramp", "Transition", "fixed_cost_per_year", "transition_cost"]


class Ramp(FrozenModel):
    """A new site's handle time: ``start`` times its steady state at go-live, falling
    linearly to it over ``weeks``."""

    start: float = Field(ge=1, le=5, description="handle-time multiplier at go-live")
    weeks: PositiveFloat


class Transition(FrozenModel):
    """One-off costs of moving to this model, in the study's currency: ``dual_running_weeks``
    during which the outgoing operation (the experiment's baseline, at its weekly cost at
    equal service) is still paid for ``dual_running_share`` of its work;
    ``knowledge_transfer`` and ``severance`` as amounts; ``ramp``: the learning ramp of each
    new site, by name."""

    dual_running_weeks: NonNegativeFloat = 0.0
    dual_running_share: Probability = 1.0
    knowledge_transfer: NonNegativeFloat = 0.0
    severance: NonNegativeFloat = 0.0
    ramp: dict[Name, Ramp] = Field(default_factory=dict)


class FixedCost(FrozenModel):
    """A cost that does not move with the work (an AI platform's licence, a site's lease):
    ``amount`` per ``per``."""

    amount: NonNegativeFloat
    per: Literal["month", "year"] = "month"


def transition_cost(
    transition: Transition | None, outgoing_weekly: float, site_pay: dict[str, float]
) -> dict[str, float]:
    """The one-off items of ``transition``: ``outgoing_weekly`` is the outgoing operation's
    weekly cost at equal service, ``site_pay`` each site's weekly pay at equal service."""
    if transition is None:
        return {"dual_running": 0.0, "knowledge_transfer": 0.0, "severance": 0.0, "ramp": 0.0}
    ramp = sum(
        site_pay.get(site, 0.0) * (r.start - 1.0) * r.weeks / 2.0
        for site, r in transition.ramp.items()
    )
    dual = transition.dual_running_weeks * transition.dual_running_share * outgoing_weekly
    return {
        "dual_running": dual,
        "knowledge_transfer": transition.knowledge_transfer,
        "severance": transition.severance,
        "ramp": ramp,
    }


def fixed_cost_per_year(costs: dict[str, FixedCost]) -> float:
    """The scenario's fixed costs over a year (12 months)."""
    return sum(c.amount * (12.0 if c.per == "month" else 1.0) for c in costs.values())
