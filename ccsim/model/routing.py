"""Routing: which site's agent takes a contact, by policy, overflow steps and shares.

The policy names are declared once, here (:data:`ROUTING_POLICIES`); the simulator
registers one policy class for each (``ccsim.sim.routing.POLICIES``).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

from pydantic import Field, model_validator

from ccsim.model.errors import ConfigError
from ccsim.model.fields import FrozenModel, Name, Probability
from ccsim.model.units import DurationOrNever

__all__ = ["ROUTING_POLICIES", "OverflowStep", "Routing", "RoutingPolicyName"]

#: The names as a type (the schema's enum and the field's check): spelled here, and the
#: tuple read from it, since a type checker cannot see a Literal built from a tuple.
RoutingPolicyName = Literal["longest_idle", "preference", "cheapest", "random", "split"]

#: The routing policies a scenario may name, in the order the documentation lists them.
ROUTING_POLICIES: tuple[str, ...] = get_args(RoutingPolicyName)


class OverflowStep(FrozenModel):
    """A site that may take a channel's contact once it has waited ``after`` (a duration,
    or ``never``: the site is listed, for a share of ``split``, but takes no other site's
    contacts)."""

    site: Name
    after: DurationOrNever = 0.0


class Routing(FrozenModel):
    """Which agent takes a contact.

    A channel is served by the sites in ``overflow[channel]`` (in preference order, each
    from its ``after`` wait on), or else by every site with its skill from the first second.
    Among the eligible sites with an idle agent, ``policy`` picks: ``longest_idle`` (the
    agent idle longest), ``preference`` (the first site in the channel's list), ``cheapest``
    (the site with the lowest ``cost_per_hour``; the longest idle among equals),
    ``random`` (a free agent chosen uniformly at random) or ``split`` (each contact of a
    channel in ``shares`` goes to a site drawn with the stated shares, e.g.
    ``{chat: {vendor: 0.4, inhouse: 0.6}}``). Within a site the agent idle longest goes
    first, except for ``random``.

    ``split`` with ``overflow``: a contact waits in the queue of the site its share drew,
    which takes it from the first second (its own step's ``after`` does not apply to its
    own contacts); each other site in ``overflow[channel]`` may take it once it has waited
    that site's ``after``. Without ``overflow`` for the channel no other site ever takes
    it; with it, every share's site must be listed. ``after: never`` lists a site that
    takes its share only: ``[{site: inhouse, after: 30s}, {site: vendor, after: never}]``
    sends the vendor's calls to in-house agents after 30 s and none of in-house's to the
    vendor (docs/planner.md, "A vendor split with overflow").
    """

    policy: RoutingPolicyName = "longest_idle"
    overflow: dict[Name, list[OverflowStep]] = Field(default_factory=dict)
    shares: dict[Name, dict[Name, Probability]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares_for_split(self) -> Routing:
        if self.shares and self.policy != "split":
            raise ConfigError("", "shares", "only with policy 'split'")
        if self.policy == "split" and not self.shares:
            raise ConfigError("", "shares", "policy 'split' needs shares per channel")
        for channel, steps in self.overflow.items():
            if steps and channel not in self.shares and all(s.after == math.inf for s in steps):
                raise ConfigError(
                    "", f"overflow.{channel}", "every step is never: no site answers it"
                )
        for channel, shares in self.shares.items():
            total = sum(shares.values())
            if not shares or abs(total - 1.0) > 1e-9:
                raise ConfigError("", f"shares.{channel}", f"shares must sum to 1, got {total:g}")
        return self
