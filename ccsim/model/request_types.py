"""Request types: what a channel's contacts are about, and how that changes their fate.

A channel may declare named types (``simple``, ``standard``, ``complex``, or contact
reasons), each a ``share`` of its new contacts, with the handle time, first-contact
resolution, escalation share and bot containment that differ by type. What a type leaves
out is the channel's. The channel's ``handle_time`` stays the mean of the mix: the
share-weighted mean of the multipliers must be 1. Escalation apart from non-resolution is
the channel's ``escalation: {to: tier2, share: 0.17}`` (:class:`Escalation`).
"""

from __future__ import annotations

import math

from pydantic import Field, PositiveFloat

from ccsim.model.errors import ConfigError
from ccsim.model.fields import FrozenModel, Name, Probability

__all__ = [
    "Escalation",
    "RequestType",
    "check_request_types",
    "drop_escalation",
    "escalation_target",
    "human_mix",
    "type_mean",
]

#: Shares must sum to 1 this closely (written to two or three decimals, they do exactly).
SHARE_TOLERANCE = 1e-9
#: The share-weighted mean handle-time multiplier must be 1 this closely.
MEAN_TOLERANCE = 0.005


class Escalation(FrozenModel):
    """Escalation apart from non-resolution: of the answered contacts a share
    ``resolution`` (the channel's) is resolved, a ``share`` is transferred to the channel
    ``to``, and the rest is left unresolved (the customer may come back: ``repeat``)."""

    to: Name
    share: Probability


class RequestType(FrozenModel):
    """One request type of a channel: its ``share`` of the channel's new contacts and what
    differs for it (left out: the channel's value)."""

    share: Probability
    handle_time_multiplier: PositiveFloat = Field(
        1.0, description="this type's handle time over the channel's mean"
    )
    resolution: Probability | None = Field(None, description="first-contact resolution")
    escalation: Probability | None = Field(None, description="share of answered escalated")
    containment: Probability | None = Field(None, description="the bot's true containment")
    false_containment: Probability | None = Field(None, description="the bot's false containment")


def check_request_types(channel) -> None:
    """The checks across a channel's types and its own settings (raised as ConfigError)."""
    types = channel.request_types
    if types is None:
        return
    if not types:
        raise ConfigError("", "request_types", "name at least one type, or leave it out")
    total = math.fsum(t.share for t in types.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ConfigError("", "request_types", f"the types' shares sum to {total:.6g}, not 1")
    mean = math.fsum(t.share * t.handle_time_multiplier for t in types.values())
    if abs(mean - 1.0) > MEAN_TOLERANCE:
        raise ConfigError(
            "", "request_types", f"the share-weighted mean handle_time_multiplier is "
            f"{mean:.4g}, not 1 (within {MEAN_TOLERANCE}): the channel's handle_time is the "
            "mix's mean",
        )  # fmt: skip
    for name, kind in types.items():
        _check_type(channel, name, kind)


def _check_type(channel, name: str, kind: RequestType) -> None:
    where = f"request_types.{name}"
    if kind.escalation is not None and channel.escalation is None:
        raise ConfigError("", f"{where}.escalation", "the channel has no escalation to go to")
    resolution = kind.resolution if kind.resolution is not None else channel.resolution
    escalation = kind.escalation if kind.escalation is not None else channel.escalation_share
    if escalation is not None and resolution + escalation > 1 + SHARE_TOLERANCE:
        field = "escalation" if kind.escalation is not None else "resolution"
        raise ConfigError(
            "", f"{where}.{field}", f"resolution {resolution:g} + escalation {escalation:g} "
            "exceeds 1",
        )  # fmt: skip
    for field in ("containment", "false_containment"):
        if getattr(kind, field) is not None and channel.bot is None:
            raise ConfigError("", f"{where}.{field}", "the channel has no bot")
    if channel.bot is not None:
        contained = kind.containment if kind.containment is not None else channel.bot.containment
        false = (
            kind.false_containment
            if kind.false_containment is not None
            else channel.bot.false_containment
        )
        if contained + false > 1 + SHARE_TOLERANCE:
            raise ConfigError(
                "", f"{where}.containment", "containment + false_containment exceeds 1"
            )
        if false > 0 and channel.bot.return_delay is None:
            raise ConfigError("", f"{where}.false_containment", "needs the bot's return_delay")


def type_mean(
    channel, field: str, value: float | None, weights: dict[str, float] | None = None
) -> float | None:
    """The mean over the channel's types of a per-type ``field``, a type that leaves it
    out taking ``value`` (the channel's), weighted by the types' shares or by ``weights``
    (:func:`human_mix`): what the mix does on average, for stationary planning. Without
    types: ``value``."""
    types = channel.request_types
    if not types or value is None and all(getattr(t, field) is None for t in types.values()):
        return value
    weights = weights or {name: t.share for name, t in types.items()}
    return math.fsum(
        weights[name] * (getattr(t, field) if getattr(t, field) is not None else value)
        for name, t in types.items()
    )


def human_mix(channel) -> dict[str, float] | None:
    """Each type's share of the new contacts that reach the agents: the bot keeps the
    types it truly contains (more of the simple ones). None without types."""
    types = channel.request_types
    if not types:
        return None
    bot = channel.bot
    reach = {
        name: t.share
        * (
            1.0 - (bot.share * (t.containment if t.containment is not None else bot.containment))
            if bot is not None
            else 1.0
        )
        for name, t in types.items()
    }
    total = math.fsum(reach.values())
    if total <= 0:
        return None
    return {name: r / total for name, r in reach.items()}


def escalation_target(spec: dict) -> str | None:
    """The next tier named by a channel's dumped ``spec``, whichever form it takes."""
    escalation = spec.get("escalation")
    return escalation.get("to") if isinstance(escalation, dict) else escalation


def drop_escalation(spec: dict) -> None:
    """Take the next tier out of a channel's dumped ``spec`` (a tier not simulated with it),
    with its types' escalation shares: what they escalated is left unresolved."""
    spec["escalation"] = None
    for kind in (spec.get("request_types") or {}).values():
        kind["escalation"] = None
