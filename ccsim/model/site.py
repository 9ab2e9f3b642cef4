"""A site: where agents work, in its own time zone and at its own cost; its staffing
(constant, or shift templates per weekday), breaks, skills and pay.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    field_validator,
    model_validator,
)

from ccsim.model.calendar import WEEKDAYS
from ccsim.model.contract import Contract
from ccsim.model.errors import ConfigError
from ccsim.model.fields import FrozenModel, Name, Probability, TimeOfDay, TimeZone, time_of_day
from ccsim.model.units import Duration, PositiveDuration, format_duration
from ccsim.model.workforce import Workforce

__all__ = ["Absence", "Break", "BreakRule", "NightDifferential", "Shift", "Site"]


class Break(FrozenModel):
    """A break in a shift, ``after`` its start. With ``within`` the shift's agents take it
    in turn, their starts spread evenly over that window (so the floor never empties).
    An agent busy when the break is due takes it, in full, once the contact is finished."""

    after: Duration
    length: PositiveDuration
    within: Duration = 0.0
    paid: bool = True


class Shift(FrozenModel):
    """A shift template in the site's local time: agents start at ``start`` and stay
    ``length``.

    ``headcount`` is one number for each of ``days`` (local weekdays, default every day), or
    a headcount per local weekday (``{mon: 12, tue: 10}``; a day left out has none), the
    compact form of a week's schedule. A shift without ``breaks`` takes its site's break
    rules (:class:`BreakRule`)."""

    start: TimeOfDay
    length: PositiveDuration
    headcount: NonNegativeInt | dict[str, NonNegativeInt]
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    breaks: list[Break] = Field(default_factory=list)

    @field_validator("length")
    @classmethod
    def _at_most_a_day(cls, length: float) -> float:
        # Longer would put the same agents on the floor twice (and shifts are laid per day).
        if length > 86400:
            raise ValueError(f"must be at most 24h, got {format_duration(length)}")
        return length

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[str]) -> list[str]:
        for day in days:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        return days

    @field_validator("headcount")
    @classmethod
    def _headcount_weekdays(cls, headcount):
        if isinstance(headcount, dict):
            unknown = sorted(set(headcount) - set(WEEKDAYS))
            if unknown:
                raise ValueError(f"unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})")
        return headcount

    @model_validator(mode="after")
    def _breaks_inside(self) -> Shift:
        # The full week is the default (and what a dumped model writes back): not a conflict.
        if isinstance(self.headcount, dict) and list(self.days) != list(WEEKDAYS):
            raise ConfigError(
                "", "days", "a headcount per weekday says the days already: leave 'days' out"
            )
        _check_breaks_fit(self.breaks, self.length, "breaks")
        return self

    def headcount_on(self, weekday: str) -> int:
        """Agents who start this shift on a local ``weekday`` (``"mon"`` ...)."""
        if isinstance(self.headcount, dict):
            return self.headcount.get(weekday, 0)
        return self.headcount if weekday in self.days else 0

    @property
    def start_minute(self) -> int:
        return time_of_day(self.start)

    @property
    def paid_hours(self) -> float:
        """Paid hours of one agent's shift: its length less its own unpaid breaks."""
        unpaid = sum(item.length for item in self.breaks if not item.paid)
        return (self.length - unpaid) / 3600


def _check_breaks_fit(breaks: list[Break], length: float, where: str) -> None:
    for number, item in enumerate(breaks):
        if item.after + item.within + item.length > length:
            raise ConfigError(
                "",
                f"{where}.{number}",
                f"ends after the shift: after + within + length exceeds {format_duration(length)}",
            )


class BreakRule(FrozenModel):
    """The breaks of a site's shifts that state none: those of the rule with the longest
    ``at_least`` not above the shift's length (a shift shorter than every rule has none).
    Stated once per site, e.g. 8 h and more: two paid 15-minute breaks and an unpaid lunch;
    from 4 h: one paid 15-minute break."""

    at_least: PositiveDuration
    breaks: list[Break] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits(self) -> BreakRule:
        _check_breaks_fit(self.breaks, self.at_least, "breaks")
        return self


class NightDifferential(FrozenModel):
    """A pay premium for hours worked inside a local night window (it may cross midnight),
    e.g. the Philippine legal minimum of 10% for 22:00-06:00."""

    start: TimeOfDay = "22:00"
    end: TimeOfDay = "06:00"
    premium: float = Field(gt=0, le=5, description="0.10 = 10% on top of the hourly cost")


class Absence(FrozenModel):
    """Random absence: each agent scheduled on a shift is away that day with
    ``probability``, independently of the others (a site's plan judged against a bad day,
    where ``shrinkage`` takes the same share away every day). Absent agents are paid, as
    for shrinkage; with both, shrinkage applies to the agents who came."""

    probability: Probability = Field(lt=1)


class Site(FrozenModel):
    """A place where agents work, in its own time zone and at its own cost.

    ``resolution`` gives this site's own probability, per channel, that an answered
    contact is resolved (first-contact resolution differs by site).

    Staffing is either constant (``agents``) or ``shifts`` in the site's local time.
    ``shrinkage`` is the share of scheduled agents who are paid but not there (absence,
    training, meetings; breaks given in the shifts come on top). ``skills`` lists the
    channels the site's agents answer (default: all); ``proficiency`` multiplies a channel's
    handle times here (1.1 = 10% slower). ``cost_per_hour`` is per paid agent hour, fully
    loaded, in the currency of the study."""

    name: Name
    location: Literal["onshore", "nearshore", "offshore"] | None = None
    timezone: TimeZone | None = Field(None, description="default: the customers' time zone")
    agents: int | None = Field(None, ge=0)
    shifts: list[Shift] | None = None
    breaks: list[BreakRule] = Field(default_factory=list)
    shrinkage: float = Field(0.0, ge=0, lt=1)
    cost_per_hour: NonNegativeFloat = 0.0
    night_differential: NightDifferential | None = None
    skills: list[Name] | None = None
    proficiency: dict[Name, PositiveFloat] = Field(default_factory=dict)
    resolution: dict[Name, Probability] = Field(default_factory=dict)
    # Customer outcome (issue 27): the odds of a satisfied customer multiplied here.
    quality: PositiveFloat = Field(
        1.0,
        le=10,
        description=(
            "multiplies the odds that a customer this site handles is satisfied (1: neutral;"
            " 0.41 reproduces the CFI Group offshore index with its lower FCR)"
        ),
    )
    reserve: int | list[int] = Field(
        0, description="blending: dial only while more agents than this are idle"
    )
    deferred_reserve: float = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "share of the agents logged on kept free of deferred work (email): an agent"
            " takes an item only while more than this share, rounded up, are idle"
        ),
    )
    # Attrition and learning (ccsim.model.workforce): folded into proficiency and
    # resolution when a replication is built; priced by the study's total cost.
    workforce: Workforce | None = Field(
        None, description="annual attrition, cost per hire and the learning curve by tenure"
    )

    # Outsourcing (issue #27): what the vendor bills; cost_per_hour is then the vendor's pay.
    contract: Contract | None = Field(
        None, description="an outsourced site's contract: its cost is what the contract bills"
    )

    @model_validator(mode="after")
    def _margin_on_a_wage(self) -> Site:
        margin = self.contract.margin if self.contract is not None else None
        if margin is not None and not self.cost_per_hour:
            raise ConfigError(
                "", "contract.margin", "a margin is on the site's cost_per_hour: give one above 0"
            )
        return self

    absence: Absence | None = None

    @field_validator("reserve")
    @classmethod
    def _not_negative(cls, reserve):
        if any(k < 0 for k in (reserve if isinstance(reserve, list) else [reserve])):
            raise ValueError("idle agents kept for inbound must be 0 or more")
        return reserve

    def reserve_at(self, slot: int) -> int:
        """Idle agents kept for inbound in the ``slot``-th reporting interval of the day."""
        return self.reserve[slot] if isinstance(self.reserve, list) else self.reserve

    @model_validator(mode="after")
    def _one_staffing(self) -> Site:
        if (self.agents is None) == (self.shifts is None):
            raise ValueError("give either a constant number of 'agents' or 'shifts', not both")
        return self

    @field_validator("breaks")
    @classmethod
    def _distinct_rules(cls, rules: list[BreakRule]) -> list[BreakRule]:
        lengths = [rule.at_least for rule in rules]
        if len(set(lengths)) < len(lengths):
            raise ValueError("two break rules for the same 'at_least': keep one")
        return sorted(rules, key=lambda rule: rule.at_least)

    @property
    def staffed(self) -> bool:
        """Whether any agent is ever scheduled here."""
        if self.shifts is not None:
            return any(shift.headcount_on(day) > 0 for shift in self.shifts for day in WEEKDAYS)
        return bool(self.agents)

    def shift_breaks(self, shift: Shift) -> list[Break]:
        """The breaks ``shift`` takes here: its own, or else the site's rule for its length."""
        if shift.breaks:
            return list(shift.breaks)
        # The longest rule that fits, whatever the order: a copy made without validation
        # (``model_copy``) keeps its rules as given, not sorted.
        fitting = [rule for rule in self.breaks if rule.at_least <= shift.length]
        return list(max(fitting, key=lambda rule: rule.at_least).breaks) if fitting else []

    def serves(self, channel: str) -> bool:
        return self.staffed and (self.skills is None or channel in self.skills)
