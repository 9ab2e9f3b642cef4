"""A channel: a stream of contacts of one kind (voice, chat, email, outbound) with its own
demand, handle time, patience, objective and queue features; and the trunks of lines that
voice channels share.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from ccsim.model.arrivals import Arrivals
from ccsim.model.distributions import Distribution
from ccsim.model.errors import ConfigError
from ccsim.model.features import (
    Balking,
    Bot,
    Callback,
    Message,
    Repeat,
    Retrial,
    SilentAbandonment,
)
from ccsim.model.fields import FrozenModel, Name, Probability, TimeOfDay
from ccsim.model.outbound import Dialing
from ccsim.model.request_types import Escalation, RequestType, check_request_types
from ccsim.model.units import Duration

__all__ = ["Channel", "ServiceLevel", "Trunk"]


class ServiceLevel(FrozenModel):
    """The service-level objective: ``target`` of contacts answered within ``threshold``."""

    threshold: Duration
    target: float = Field(gt=0, le=1)


class Channel(FrozenModel):
    """A stream of contacts with its own demand, handle time, patience and objective.

    ``kind``: ``voice`` (real time; optional ``lines``, ``retrial`` and ``callback``),
    ``chat`` (real time; an agent holds up to ``concurrency`` chats, each one's handle time
    stretched by ``stretch`` per other chat held; optional ``silent_abandonment``) or
    ``email`` (deferred work: no patience, worked when no real-time contact waits at the
    same priority or by dedicated sites; open items carry over; the service level's
    threshold is the response-time target) or ``outbound`` (a call list and a dialer,
    ``dialing``: its contacts are the right parties who answer, its handle time their
    conversation, its patience how long one holds for an agent; after every inbound
    channel unless given a priority; objective by default an agent within 2 s).
    ``patience`` left out means customers never abandon. A channel without ``arrivals``
    is fed by escalations from another channel.

    Tiers: an answered contact is resolved with probability ``resolution`` (sites may
    override it); otherwise it is transferred to the ``escalation`` channel's queue, or,
    with ``repeat``, the customer comes back later. ``escalation: {to: tier2, share: s}``
    transfers a share ``s`` of the answered contacts and leaves the rest unresolved.
    ``request_types`` splits new contacts into types with their own handle time,
    resolution, escalation and bot containment
    (:mod:`ccsim.model.request_types`).

    The queue (voice and chat): with ``balking`` a contact that finds no agent free may
    leave at once; with ``message`` one still waiting after ``message.max_wait`` leaves a
    message; with ``close`` the contacts still waiting at that time of the customers' day
    are disconnected, every day (``close_rule: at_close``), or at each end of a service
    of the channel that was in hand at the close (``at_end_of_service``, ContactCenters'
    rule; at the close itself when none was). Lines shared by several voice channels are the
    scenario's ``trunks``.
    """

    kind: Literal["voice", "chat", "email", "outbound"] = "voice"
    arrivals: Arrivals | None = None
    dialing: Dialing | None = None
    handle_time: Distribution
    patience: Distribution | None = None
    service_level: ServiceLevel
    # None, not 0, when unsaid: email and outbound then come after every live channel. A
    # default that depended on whether the field was written would be lost by every copy of
    # the scenario through its dump (overrides, staffing, the frontier).
    priority: int | None = Field(
        None,
        description=(
            "an agent who comes free serves higher first (unsaid: 0, and email and outbound "
            "after every live channel)"
        ),
    )
    lines: int | None = Field(None, ge=1)
    retrial: Retrial | None = None
    callback: Callback | None = None
    concurrency: int = Field(1, ge=1)
    stretch: NonNegativeFloat = 0.0
    silent_abandonment: SilentAbandonment | None = None
    balking: Balking | None = None
    message: Message | None = None
    close: TimeOfDay | None = Field(
        None, description="each day at this customers' time the queue is disconnected"
    )
    close_rule: Literal["at_close", "at_end_of_service"] = Field(
        "at_close",
        description=(
            "when the queue is disconnected: at the close, or (ContactCenters) at each end, "
            "after the close, of a service in hand at the close"
        ),
    )
    bot: Bot | None = None
    agent_assist: PositiveFloat = Field(1.0, description="human handle-time multiplier")
    resolution: Probability = 1.0
    escalation: Name | Escalation | None = Field(
        None,
        description=(
            "the next tier: a channel name (every unresolved contact goes there) or "
            "{to, share} (a share of the answered contacts goes there)"
        ),
    )
    repeat: Repeat | None = None
    request_types: dict[Name, RequestType] | None = Field(
        None,
        description=(
            "named types of the new contacts (shares summing to 1), each with what differs "
            "for it: handle-time multiplier, resolution, escalation share, bot containment"
        ),
    )

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Channel:
        voice_only = ("lines", "retrial", "callback")
        chat_only = ("silent_abandonment",)
        for name in voice_only:
            if getattr(self, name) is not None and self.kind != "voice":
                raise ConfigError("", name, f"only for voice channels, not {self.kind}")
        for name in chat_only:
            if getattr(self, name) is not None and self.kind != "chat":
                raise ConfigError("", name, f"only for chat channels, not {self.kind}")
        if (self.concurrency > 1 or self.stretch > 0) and self.kind != "chat":
            raise ConfigError("", "concurrency", f"only for chat channels, not {self.kind}")
        if self.kind == "email" and self.patience is not None:
            raise ConfigError("", "patience", "email items do not abandon: leave it out")
        if self.silent_abandonment is not None and self.patience is None:
            raise ConfigError("", "silent_abandonment", "needs a patience (abandonment)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _outbound_objective(cls, data: Any) -> Any:
        # The regulators' objective for a live answer: an agent (or a message) within 2 s.
        if isinstance(data, dict) and data.get("kind") == "outbound":
            data = {"service_level": {"threshold": "2s", "target": 0.97}, **data}
        return data

    @model_validator(mode="after")
    def _outbound_is_dialled(self) -> Channel:
        if self.kind != "outbound":
            if self.dialing is not None:
                raise ConfigError("", "dialing", f"only for outbound channels, not {self.kind}")
            return self
        if self.dialing is None:
            raise ConfigError("", "dialing", "an outbound channel needs its call list and dialer")
        for name in (
            "arrivals", "bot", "balking", "message", "close", "escalation", "repeat",
            "request_types",
        ):  # fmt: skip
            if getattr(self, name) is not None:
                raise ConfigError("", name, "not for an outbound channel")
        if self.dialing.dialer in ("predictive", "threshold") and self.patience is None:
            raise ConfigError(
                "", "patience", f"a {self.dialing.dialer} dialer needs how long a called "
                "party holds for an agent (a few seconds)"
            )  # fmt: skip
        return self

    @model_validator(mode="after")
    def _escalation_adds_up(self) -> Channel:
        share = self.escalation_share
        if share is not None and self.resolution + share > 1 + 1e-9:
            raise ConfigError(
                "", "escalation.share",
                f"resolution {self.resolution:g} + escalation share {share:g} exceeds 1",
            )  # fmt: skip
        check_request_types(self)
        return self

    @property
    def escalation_to(self) -> str | None:
        """The next tier's channel name, whichever form ``escalation`` takes."""
        escalation = self.escalation
        return escalation.to if isinstance(escalation, Escalation) else escalation

    @property
    def escalation_share(self) -> float | None:
        """The share of answered contacts escalated; None: every unresolved one."""
        escalation = self.escalation
        return escalation.share if isinstance(escalation, Escalation) else None

    @model_validator(mode="after")
    def _queue_features_are_live(self) -> Channel:
        # Email items never leave the queue: no balking, message or disconnection.
        for name in ("balking", "message", "close"):
            if getattr(self, name) is not None and self.kind == "email":
                raise ConfigError("", name, "only for voice and chat channels, not email")
        if self.close_rule != "at_close" and self.close is None:
            raise ConfigError("", "close_rule", "needs a 'close' time")
        return self

    @property
    def staged(self) -> bool:
        """Whether contacts need more than the plain voice path: a bot, tiers, returns."""
        return (
            self.bot is not None
            or self.escalation is not None
            or self.repeat is not None
            or self.resolution < 1
            or any(
                t.resolution is not None and t.resolution < 1
                for t in (self.request_types or {}).values()
            )
        )


class Trunk(FrozenModel):
    """Lines shared by voice channels: a call of any of ``channels`` needs one of the
    ``lines`` free to enter, holds it while it waits and is served, and is blocked when
    every line is busy."""

    lines: int = Field(ge=1)
    channels: list[Name] = Field(min_length=1)
