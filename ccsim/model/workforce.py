"""A site's workforce over time: attrition, the cost of replacing a leaver, and the learning
curve that makes a site with many new agents slower and less often right first time.

In **steady state** the headcount is constant and every leaver is replaced at once. Annual
attrition ``a`` is read as the industry states it, leavers in a year over the average
headcount; with a constant hazard that is the hazard itself, ``a`` per agent-year, so an
agent's tenure is exponential with rate ``a`` per year (mean ``1 / a`` years) and the share
of the floor with tenure in ``[w1, w2)`` weeks is ``exp(-mu w1) - exp(-mu w2)``, ``mu = a /``
:data:`WEEKS_PER_YEAR`. The learning curve is piecewise constant: each step gives the
handle-time and resolution multipliers of agents from its ``weeks`` of tenure to the next
step's, the last step holding for every longer tenure.

The site's multipliers are those of a floor of that tenure mix kept busy: each tenure band
answers contacts in proportion to its speed (its share over its handle-time multiplier), so
the band mix of the contacts answered, and the rate at which the floor clears work, are
those of a site whose every agent has the **harmonic** mean of the handle-time multipliers;
the resolution multiplier is the mean over those contacts. :func:`steady_state` puts them
into each site's ``proficiency`` and ``resolution`` before a replication is built, so a
scenario without a ``workforce`` block is simulated exactly as before (same draws).
"""

from __future__ import annotations

import math

from pydantic import Field, NonNegativeFloat, PositiveFloat, field_validator

from ccsim.model.calendar import WEEKDAYS
from ccsim.model.fields import FrozenModel, Probability

__all__ = [
    "WEEKS_PER_YEAR",
    "LearningStep",
    "Workforce",
    "paid_hours_per_week",
    "replacement_cost",
    "steady_state",
    "tenure_multipliers",
    "tenure_shares",
]

#: Weeks in a mean (Julian) year: 365.25 / 7.
WEEKS_PER_YEAR = 365.25 / 7


class LearningStep(FrozenModel):
    """From ``weeks`` of tenure on (until the next step), an agent's handle time is
    ``handle_time`` times an experienced agent's at the site and its resolution
    ``resolution`` times theirs."""

    weeks: NonNegativeFloat
    handle_time: PositiveFloat = 1.0
    resolution: PositiveFloat = 1.0


class Workforce(FrozenModel):
    """``attrition``: leavers a year over the average headcount (a share); ``cost_per_hire``:
    recruiting and training fees per hire, in the study's currency; ``training_weeks``: paid
    weeks of a hire before the first contact (at the site's ``cost_per_hour``, for
    ``fte_hours`` a week); ``learning``: the curve by tenure, from 0 weeks, in increasing
    weeks (absent: every agent works as the site's proficiency and resolution say)."""

    attrition: Probability
    cost_per_hire: NonNegativeFloat = 0.0
    training_weeks: NonNegativeFloat = 0.0
    fte_hours: PositiveFloat = Field(40.0, le=168, description="paid hours of a full-time week")
    learning: list[LearningStep] = Field(default_factory=list)

    @field_validator("learning")
    @classmethod
    def _from_hire_on(cls, steps: list[LearningStep]) -> list[LearningStep]:
        if steps and steps[0].weeks != 0:
            raise ValueError("the first step starts at 0 weeks (a new hire)")
        weeks = [step.weeks for step in steps]
        if any(b <= a for a, b in zip(weeks, weeks[1:], strict=False)):
            raise ValueError("steps must be in increasing weeks, each once")
        return steps

    def cost_per_leaver(self, cost_per_hour: float) -> float:
        """What replacing one leaver costs: the hire's fees and its paid weeks of training."""
        return self.cost_per_hire + self.training_weeks * self.fte_hours * cost_per_hour


def tenure_shares(attrition: float, weeks: list[float]) -> list[float]:
    """The share of a steady-state floor in each tenure band ``[weeks[k], weeks[k + 1])``,
    the last band open-ended (module docstring). With no attrition every agent is past
    every step."""
    if attrition <= 0:
        return [0.0] * (len(weeks) - 1) + [1.0]
    mu = attrition / WEEKS_PER_YEAR
    edges = [*weeks, math.inf]
    pairs = zip(edges, edges[1:], strict=False)
    return [math.exp(-mu * lo) - math.exp(-mu * hi) for lo, hi in pairs]


def tenure_multipliers(attrition: float, learning: list[LearningStep]) -> tuple[float, float]:
    """(handle-time, resolution) multipliers of a steady-state floor: the harmonic mean of
    the bands' handle-time multipliers weighted by their shares, and the mean of their
    resolution multipliers over the contacts each band answers (share / handle time)."""
    if not learning:
        return 1.0, 1.0
    shares = tenure_shares(attrition, [step.weeks for step in learning])
    speed = [share / step.handle_time for share, step in zip(shares, learning, strict=True)]
    throughput = sum(speed)
    resolution = sum(v * step.resolution for v, step in zip(speed, learning, strict=True))
    return 1.0 / throughput, resolution / throughput


def steady_state(scenario):
    """``scenario`` with each site's learning curve folded into its ``proficiency`` (every
    channel it serves) and ``resolution`` (a resolution clipped at 1); the scenario itself
    where no site has a curve."""
    if not any(s.workforce is not None and s.workforce.learning for s in scenario.sites):
        return scenario
    sites = []
    for site in scenario.sites:
        force = site.workforce
        if force is None or not force.learning:
            sites.append(site)
            continue
        handle, resolved = tenure_multipliers(force.attrition, force.learning)
        proficiency = {c: site.proficiency.get(c, 1.0) * handle for c in scenario.channels}
        resolution = dict(site.resolution)
        if resolved != 1.0:
            for name, channel in scenario.channels.items():
                own = site.resolution.get(name, channel.resolution)
                resolution[name] = min(1.0, own * resolved)
        update = {"proficiency": proficiency, "resolution": resolution, "workforce": None}
        sites.append(site.model_copy(update=update))
    return scenario.model_copy(update={"sites": sites})


def paid_hours_per_week(site) -> float:
    """Paid agent-hours of the site's weekly schedule: every shift's headcount on each
    weekday times its length less its unpaid breaks (absent agents are paid); constant
    staffing, around the clock."""
    if site.shifts is None:
        return float(site.agents or 0) * 168.0
    hours = 0.0
    for shift in site.shifts:
        unpaid = sum(b.length for b in site.shift_breaks(shift) if not b.paid)
        heads = sum(shift.headcount_on(day) for day in WEEKDAYS)
        hours += heads * (shift.length - unpaid) / 3600.0
    return hours


def replacement_cost(force: Workforce, fte: float, cost_per_hour: float) -> float:
    """Cost a year of replacing leavers: ``attrition x fte`` leavers, each at
    :meth:`Workforce.cost_per_leaver`."""
    return force.attrition * fte * force.cost_per_leaver(cost_per_hour)
