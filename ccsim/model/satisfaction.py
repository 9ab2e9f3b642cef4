"""The customer-outcome model's inputs: the scenario's ``satisfaction:`` block.

A customer's probability of being satisfied is a logistic function of a log-odds score
(:mod:`ccsim.sim.satisfaction` computes it): ``base`` for a journey resolved at its first
contact, answered at once, by a site of neutral quality; each minute queued at a live
channel (each hour at a deferred one: email, messages) over the journey, each retrial,
repeat contact and transfer, a false containment by the bot and a journey never resolved
take their toll off that score; a site's ``quality`` multiplies the odds. Every coefficient
is an uncertain input: its field says the range the sources support, so that a study can
vary it (``configs/README.md`` gives the sources and how the defaults reproduce the CFI
Group index gap of 79 against 58).

``churn`` is optional: the probability that a satisfied and a dissatisfied customer leave,
and the revenue a customer brings, give the customers expected to be lost and the revenue
at risk, reported beside the cost and never added to it.
"""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, model_validator

from ccsim.model.fields import FrozenModel, Probability

__all__ = ["Churn", "Satisfaction"]


class Churn(FrozenModel):
    """Who leaves after a journey: by whether the journey satisfied them."""

    dissatisfied: Probability = Field(
        0.25,
        description=(
            "probability a dissatisfied customer leaves (SQM: 25% of unresolved callers say"
            " they would defect; range 0.05-0.3)"
        ),
    )
    satisfied: Probability = Field(
        0.05,
        description=(
            "probability a satisfied customer leaves (SQM: 5% after first-call resolution;"
            " range 0.01-0.1)"
        ),
    )
    revenue_per_customer: NonNegativeFloat = Field(
        0.0,
        description="revenue a customer brings over the horizon the study weighs, in the currency",
    )

    @model_validator(mode="after")
    def _dissatisfied_leave_more(self) -> Churn:
        if self.dissatisfied < self.satisfied:
            raise ValueError("a dissatisfied customer leaves at least as often as a satisfied one")
        return self


class Satisfaction(FrozenModel):
    """Log-odds of a satisfied customer and what takes from them; defaults calibrated in
    ``configs/README.md`` (``satisfaction``)."""

    base: float = Field(
        1.55,
        ge=-5,
        le=5,
        description=(
            "log-odds of satisfaction of a journey resolved at its first contact, answered at"
            " once, at a site of quality 1 (1.55: 82.5% satisfied; range 1.0-2.2)"
        ),
    )
    wait_per_minute: NonNegativeFloat = Field(
        0.10,
        description=(
            "log-odds lost per minute of queue time at a live channel (voice, chat, call"
            " backs) over the journey (range 0.02-0.25)"
        ),
    )
    deferred_wait_per_hour: NonNegativeFloat = Field(
        0.05,
        description=(
            "log-odds lost per hour an item of deferred work (email, a message) waits: a"
            " reply is expected in hours, not seconds (range 0.01-0.2)"
        ),
    )
    retrial: NonNegativeFloat = Field(
        0.30, description="log-odds lost per retrial after a lost attempt (range 0-0.7)"
    )
    repeat_contact: NonNegativeFloat = Field(
        0.70,
        description=(
            "log-odds lost per repeat contact (0.70: 15% fewer satisfied after one repeat;"
            " range 0.4-1.0)"
        ),
    )
    transfer: NonNegativeFloat = Field(
        0.58,
        description=(
            "log-odds lost per transfer to another tier (0.58: SQM's 12% lower satisfaction"
            " of transferred calls; range 0.3-0.9)"
        ),
    )
    false_containment: NonNegativeFloat = Field(
        0.50,
        description=(
            "log-odds lost when the bot closed the request unresolved, besides the repeat"
            " contact it brings (range 0-1.5)"
        ),
    )
    unresolved: NonNegativeFloat = Field(
        2.65,
        description=(
            "log-odds lost by a journey never resolved (given up or still open at the"
            " cut-off), and by a handled contact left unresolved (2.65: 25% satisfied;"
            " range 1.5-4)"
        ),
    )
    churn: Churn | None = Field(
        None, description="customers lost and revenue at risk; none without it"
    )
