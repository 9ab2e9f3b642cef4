"""What routing gives each site to plan for: the sites whose agents can answer a channel
within its threshold, and the shares of a ``split`` channel.

A site on a channel's overflow list that may take a contact only after it has waited its
threshold or longer (``after: 30s`` with 80/20s) answers nothing *within* the threshold: it
helps the contacts that have already missed, never the service level. Planning counts it out,
so that the cheapest site is not given every hour while the routing sends the work elsewhere
(``preference`` routing to the in-house site, the vendor after 30 s); a channel whose every
site is so delayed counts them all.

A ``split`` channel sends each contact to a site drawn with its share, and that site's queue
is where it waits: each share is planned as its own pool, named ``channel@site``
(:func:`share_name`), sized for the share's work alone. Overflow between the shares is left
out of the plan: it only relieves contacts that have waited a step's ``after``, which at or
beyond the threshold cannot lift the service level, and below it is a margin the plan does
not count on. The simulation judges each share by what its site answers within the
threshold over the contacts its share sends (:mod:`ccsim.planning.targets`).
"""

from __future__ import annotations

from ccsim.model import Scenario, Site

__all__ = ["channel_of", "service_sites", "share_name", "split_shares"]

#: Between a channel's and a site's name in a share's name; never in a name itself.
_SEPARATOR = "@"


def share_name(channel: str, site: str) -> str:
    """The name a share of a split channel is planned and judged under: ``voice@vendor``."""
    return f"{channel}{_SEPARATOR}{site}"


def channel_of(name: str) -> str:
    """The channel of a share's name (a channel's own name unchanged)."""
    return name.split(_SEPARATOR, 1)[0]


def split_shares(scenario: Scenario, channel: str) -> dict[str, float]:
    """The sites a ``split`` channel sends work to, with their shares (empty: not split)."""
    return {site: p for site, p in scenario.routing.shares.get(channel, {}).items() if p > 0}


def service_sites(scenario: Scenario, channel: str) -> list[Site]:
    """The sites that may answer ``channel`` within its threshold (see the module docstring)."""
    eligible = scenario.eligible_sites(channel)
    threshold = scenario.channels[channel].service_level.threshold
    prompt = [site for site, after in eligible if after < threshold]
    return prompt or [site for site, _ in eligible]
