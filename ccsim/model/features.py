"""What a channel may add to the plain queue: customers who come back (retrials, repeat
contacts), a bot in front of the agents, call backs, balking, messages left, and chats
abandoned without a word.

Each is optional and off unless written; :class:`~ccsim.model.channel.Channel` says which
channel kinds may have which.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, NonNegativeFloat, PositiveFloat, field_validator, model_validator

from ccsim.model.distributions import Distribution
from ccsim.model.fields import FrozenModel, Probability, check_loop_delay
from ccsim.model.units import Duration, PositiveDuration

__all__ = [
    "Balking",
    "Bot",
    "Callback",
    "Message",
    "Repeat",
    "Retrial",
    "SilentAbandonment",
]


class Retrial(FrozenModel):
    """A voice customer who abandons, is blocked or balks calls again, with
    ``probability``, after ``delay``: the same customer, counted as a retrial. A retrial
    draws a new patience, unless ``keep_patience``: then it waits as long as the caller's
    first attempt would have (the patience drawn at the first attempt, after any bot
    multiplier), not what was left of it (an abandoner has none left)."""

    probability: Probability
    delay: Distribution
    keep_patience: bool = False

    @field_validator("delay")
    @classmethod
    def _not_at_once(cls, delay):
        return check_loop_delay(delay)


class Repeat(FrozenModel):
    """A customer whose issue was not resolved (and not escalated) contacts the centre
    again, with ``probability``, after ``delay``: a repeat contact."""

    probability: Probability
    delay: Distribution

    @field_validator("delay")
    @classmethod
    def _not_at_once(cls, delay):
        return check_loop_delay(delay)


class Bot(FrozenModel):
    """AI deflection in front of the human queue.

    A ``share`` of new contacts try the bot; a session lasts ``handle_time`` and ends
    contained (``containment``: the bot resolved it), falsely contained
    (``false_containment``: counted as contained, but the customer comes back as a repeat
    contact after ``return_delay``), or handed over to the human queue, where handle time
    and patience are multiplied by ``handle_time_multiplier`` and ``patience_multiplier``
    (context lost or passed on). Cost: ``cost_per_session`` plus ``cost_per_minute``, plus
    ``cost_per_resolution`` for each session that ends contained (truly or falsely: the
    vendor bills the resolutions its dashboard counts), plus ``platform_cost_per_month``
    and ``operations_cost_per_month``, fixed, prorated to the observed window.
    With ``concurrency`` the bot holds at most that many sessions; a contact arriving when
    it is full goes straight to the humans.
    """

    share: Probability = 1.0
    handle_time: Distribution
    containment: Probability
    false_containment: Probability = 0.0
    return_delay: Distribution | None = None
    handle_time_multiplier: PositiveFloat = 1.0
    patience_multiplier: PositiveFloat = 1.0
    cost_per_session: NonNegativeFloat = 0.0
    cost_per_minute: NonNegativeFloat = 0.0
    # AI costs as vendors charge them (issue #27): per resolution, and fixed per month
    # (a month of 365.25 / 12 days, prorated to the observed window).
    cost_per_resolution: NonNegativeFloat = 0.0
    platform_cost_per_month: NonNegativeFloat = 0.0
    operations_cost_per_month: NonNegativeFloat = 0.0
    concurrency: int | None = Field(None, ge=1)

    @field_validator("return_delay")
    @classmethod
    def _not_at_once(cls, delay):
        return check_loop_delay(delay)

    @model_validator(mode="after")
    def _consistent(self) -> Bot:
        if self.containment + self.false_containment > 1:
            raise ValueError("containment + false_containment must not exceed 1")
        if self.false_containment > 0 and self.return_delay is None:
            raise ValueError("false_containment needs a return_delay (when customers come back)")
        return self


class Callback(FrozenModel):
    """Voice customers whose expected wait exceeds ``threshold`` are offered a call back;
    a share ``acceptance`` accept, leave the queue, and are called back when an agent is
    free and no live call waits, within ``deadline`` of their request (else missed)."""

    threshold: Duration
    acceptance: Probability
    deadline: PositiveDuration


def _number_or_list(schema: dict[str, Any]) -> None:
    """JSON Schema (``ccsim schema``) of a probability given as one number or a list."""
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    schema.clear()
    schema["anyOf"] = [probability, {"type": "array", "items": probability, "minItems": 1}]


class Balking(FrozenModel):
    """A contact that arrives when no agent is free to take it leaves at once (balks)
    with ``probability``: one number, or a list whose item k applies when k contacts
    already wait (the last item repeated), e.g. ``[0.0, 0.1, 0.3]``."""

    probability: list[float] = Field(json_schema_extra=_number_or_list)

    @field_validator("probability", mode="before")
    @classmethod
    def _probabilities(cls, value: Any) -> list[float]:
        # One check for both forms: a union type would report each form's error.
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ValueError("give a probability, or a list of at least one")
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int | float) or not 0 <= item <= 1:
                raise ValueError(f"expected a probability from 0 to 1 (or a list), got {item!r}")
        return [float(item) for item in items]

    def by_waiting(self) -> tuple[float, ...]:
        """The probability for 0, 1, ... contacts waiting (the last one repeated)."""
        return tuple(self.probability)


class Message(FrozenModel):
    """A caller or chat customer still waiting after ``max_wait`` leaves a message and
    the queue (outcome ``messages``). With ``served`` the message is worked later as
    deferred work, like email, in the internal channel ``<channel>:message`` (after every
    live channel, with the caller's handle time, open messages carried over at the
    horizon; its service-level threshold is ``response_target``); without, it is only
    counted."""

    max_wait: PositiveDuration
    served: bool = True
    response_target: PositiveDuration = 86400.0


class SilentAbandonment(FrozenModel):
    """A ``share`` of chat customers who give up do not close the chat: an agent finds out
    on picking it up, after ``handle_time``."""

    share: Probability
    handle_time: Distribution
