"""A contract with an outsourced site: how the vendor bills its work, the minimum volume it
is paid for, and the service credits it owes when it misses a service level.

BPO contracts price work in one of four units (``pricing``): an FTE hour billed (the
scheduled paid hours, at a ``rate`` or at the site's ``cost_per_hour`` plus a ``margin``),
a productive hour (logged on), a handled minute (the handle time of the contacts the site
answered) or a contact handled. A ``minimum_per_week`` is billed when the week's volume
falls short of it, and ``penalties`` are service credits, per missed week or per missed
interval, that lower the bill, capped at ``credit_cap`` of the week's bill (the "at-risk
amount"). The arithmetic is :mod:`ccsim.sim.billing`'s; ``docs/metrics.md`` states it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, NonNegativeFloat, field_validator, model_validator

from ccsim.model.errors import ConfigError
from ccsim.model.fields import FrozenModel, Name, Probability
from ccsim.model.units import parse_duration

__all__ = ["PRICING_UNITS", "Contract", "Penalty"]

#: The unit of each pricing form: what ``rate`` is per and ``minimum_per_week`` counts.
PRICING_UNITS = {
    "fte_hour": "hour",
    "productive_hour": "hour",
    "handled_minute": "minute",
    "contact": "contact",
}
_CONTACTS = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*contacts?\s*$")


class Penalty(FrozenModel):
    """A service credit the vendor owes when ``channel``'s service level falls below
    ``target``: in a week (``per: week``) or in a reporting interval (``per: interval``).
    ``measure: site`` judges the contacts the site answered (answered within the channel's
    threshold over answered there); ``measure: overall`` the channel's service level over
    every site. The credit is a fixed ``amount`` (currency) or a ``share`` of that week's or
    that interval's bill."""

    channel: Name
    target: Probability
    per: Literal["week", "interval"] = "week"
    measure: Literal["site", "overall"] = "site"
    amount: NonNegativeFloat | None = None
    share: Probability | None = None

    @model_validator(mode="after")
    def _one_credit(self) -> Penalty:
        if (self.amount is None) == (self.share is None):
            raise ValueError("give the credit as an 'amount' or as a 'share' of the bill, not both")
        return self


class Contract(FrozenModel):
    """What an outsourced site bills (see the module's docstring); ``rate`` is in the
    scenario's currency per unit of ``pricing`` (hour, minute, contact)."""

    pricing: Literal["fte_hour", "productive_hour", "handled_minute", "contact"]
    rate: NonNegativeFloat | None = None
    margin: float | None = Field(None, ge=0, le=5, description="0.15 = cost_per_hour + 15%")
    minimum_per_week: str | None = Field(
        None, description="in the pricing form's unit: '400h', '12000min', '2500 contacts'"
    )
    penalties: list[Penalty] = Field(default_factory=list)
    credit_cap: Probability = Field(1.0, description="credits at most this share of a week's bill")

    @field_validator("minimum_per_week", mode="before")
    @classmethod
    def _with_its_unit(cls, value):
        if value is not None and not isinstance(value, str):
            raise ValueError(
                f"{value!r} has no unit: write hours ('400h'), minutes ('12000min') or "
                "contacts ('2500 contacts'), in the pricing form's unit"
            )
        return value

    @model_validator(mode="after")
    def _priced_once(self) -> Contract:
        if self.pricing == "fte_hour":
            if (self.rate is None) == (self.margin is None):
                raise ValueError(
                    "price FTE hours at a 'rate' or at cost_per_hour plus a 'margin': "
                    "one of the two"
                )
        else:
            if self.margin is not None:
                raise ValueError(f"a margin prices FTE hours only, not pricing {self.pricing}")
            if self.rate is None:
                raise ValueError(f"pricing {self.pricing} needs a 'rate' per {self.unit}")
        if self.minimum_per_week is not None:
            try:
                self.minimum_units  # noqa: B018 (its unit checked against the pricing form)
            except ValueError as error:
                raise ConfigError("", "minimum_per_week", str(error)) from None
        return self

    @property
    def unit(self) -> str:
        """What ``rate`` is per and the minimum counts: hour, minute or contact."""
        return PRICING_UNITS[self.pricing]

    @property
    def minimum_units(self) -> float:
        """The weekly minimum in the pricing form's unit (0 without one)."""
        text = self.minimum_per_week
        if text is None:
            return 0.0
        contacts = _CONTACTS.match(text)
        if self.unit == "contact":
            if contacts is None:
                raise ValueError(
                    f"a per-contact contract's minimum is a number of contacts "
                    f"('2500 contacts'), got {text!r}"
                )
            return float(contacts[1])
        if contacts is not None:
            raise ValueError(
                f"a minimum of pricing {self.pricing} is {self.unit}s of work with "
                f"their unit ('400h', '12000min'), got {text!r}"
            )
        seconds = parse_duration(text)
        if seconds < 0:
            raise ValueError(f"must be 0 or more, got {text!r}")
        return seconds / (3600.0 if self.unit == "hour" else 60.0)
