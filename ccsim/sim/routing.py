"""Routing policies: which idle agent takes a contact, as small plug-ins chosen by name.

The core asks a policy two things. For a contact that enters a channel,
``router(channel)`` gives a function ``route(contact) -> agent | None`` that picks an idle
agent among the sites whose overflow step the contact has reached (at entry: the steps
with ``after == 0`` of the contact's lane), or None when none is idle. When a waiting
contact reaches one more site's step, ``take(site)`` picks the agent of that site (any
site reached earlier had no idle agent, or would have taken it). A policy may also split a
channel into lanes (``lanes(channel)``): queues of contacts meant for different sites.

Which contact a freed agent takes does not depend on the policy: the core's
:meth:`~ccsim.sim.core.Core.next_waiting` (highest priority, then longest waiting).

Policies register by name (:data:`POLICIES`, :func:`register`) and are selected by
``routing.policy`` in the scenario. Every policy passes one contract test
(``tests/test_routing_policies.py``): conservation, eligibility, work conservation, common
random numbers and reproducibility. A policy that draws random numbers draws them from its
own named stream (``("routing", channel)``), so every other draw stays aligned.
"""

from __future__ import annotations

from collections.abc import Callable

from ccsim.model import Scenario
from ccsim.sim.state import AgentState, ChannelState, Contact, Lane, SiteState
from ccsim.sim.streams import Streams

__all__ = [
    "POLICIES",
    "Cheapest",
    "LongestIdle",
    "Preference",
    "RandomAgent",
    "RoutingPolicy",
    "Split",
    "make_policy",
    "register",
]

POLICIES: dict[str, type[RoutingPolicy]] = {}


def register(cls: type[RoutingPolicy]) -> type[RoutingPolicy]:
    """Make a policy selectable as ``routing.policy: <cls.name>``."""
    POLICIES[cls.name] = cls
    return cls


def make_policy(scenario: Scenario, streams: Streams) -> RoutingPolicy:
    return POLICIES[scenario.routing.policy](scenario, streams)


class RoutingPolicy:
    """The interface; subclasses choose among the sites reached (:meth:`better`) or
    override :meth:`router` and :meth:`take` altogether."""

    name = ""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        self.streams = streams

    def lanes(self, channel: ChannelState) -> list[Lane]:
        """The channel's lanes: by default one, served by every eligible site."""
        return [channel.lane]

    def better(self, site: SiteState, best: SiteState) -> bool:
        """Whether ``site``'s head idle agent goes before ``best``'s: the longest idle."""
        return site.idle[0].idle_since < best.idle[0].idle_since

    def router(self, channel: ChannelState) -> Callable[[Contact], AgentState | None]:
        """The choice for a contact entering ``channel``, among its lane's sites that
        may take it at once and have an idle agent."""
        first = [site for site, after in channel.lane.steps if after <= 0.0]
        if len(first) == 1 and len(channel.lanes) == 1:
            idle = first[0].idle  # one site: its agent idle longest, without a loop

            def route_one(contact: Contact) -> AgentState | None:
                return idle.popleft() if idle else None

            # The core takes from this deque itself, one call fewer a contact, while a
            # channel's route is this function (not wrapped by a feature).
            route_one.idle = idle
            return route_one
        better = self.better

        def route(contact: Contact) -> AgentState | None:
            best = None
            for site, after in contact.lane.steps:
                if after <= 0.0 and site.idle and (best is None or better(site, best)):
                    best = site
            return self.take(best) if best is not None else None

        return route

    def take(self, site: SiteState) -> AgentState:
        """The idle agent of ``site`` who takes a contact: the one idle longest."""
        return site.idle.popleft()


@register
class LongestIdle(RoutingPolicy):
    """The agent idle longest, whatever the site (the default)."""

    name = "longest_idle"


@register
class Preference(RoutingPolicy):
    """The first site in the channel's list (``routing.overflow`` order) with an idle
    agent; within it, the agent idle longest."""

    name = "preference"

    def better(self, site: SiteState, best: SiteState) -> bool:
        return False  # the first one found stays


@register
class Cheapest(RoutingPolicy):
    """The site with the lowest ``cost_per_hour``; the longest idle among equals."""

    name = "cheapest"

    def better(self, site: SiteState, best: SiteState) -> bool:
        return (site.cost, site.idle[0].idle_since) < (best.cost, best.idle[0].idle_since)

    def router(self, channel: ChannelState) -> Callable[[Contact], AgentState | None]:
        """As :meth:`RoutingPolicy.router` with :meth:`better`, with the sites ranked by
        cost once (a site's cost does not change during a run): the first rank with an
        idle agent takes the contact, its longest idle agent among equals."""
        first = [site for site, after in channel.lane.steps if after <= 0.0]
        if len(first) == 1 or len(channel.lanes) > 1:
            return super().router(channel)
        ranks: list[list[SiteState]] = []
        for site in sorted(first, key=lambda site: site.cost):  # stable: list order in a rank
            if ranks and ranks[-1][0].cost == site.cost:
                ranks[-1].append(site)
            else:
                ranks.append([site])
        if all(len(rank) == 1 for rank in ranks):
            idles = [rank[0].idle for rank in ranks]

            def route_by_cost(contact: Contact) -> AgentState | None:
                for idle in idles:
                    if idle:
                        return idle.popleft()
                return None

            return route_by_cost

        def route(contact: Contact) -> AgentState | None:
            for rank in ranks:
                best = None
                for site in rank:
                    if site.idle and (
                        best is None or site.idle[0].idle_since < best.idle[0].idle_since
                    ):
                        best = site
                if best is not None:
                    return best.idle.popleft()
            return None

        return route


@register
class RandomAgent(RoutingPolicy):
    """A free eligible agent chosen uniformly at random (each agent, not each site, is
    equally likely), from the channel's own stream ``("routing", channel)``."""

    name = "random"

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        super().__init__(scenario, streams)
        self._draws: dict[str, Callable[[], float]] = {}

    def _draw(self, channel: ChannelState) -> Callable[[], float]:
        if channel.name not in self._draws:
            self._draws[channel.name] = self.streams.uniforms("routing", channel.name)
        return self._draws[channel.name]

    def router(self, channel: ChannelState) -> Callable[[Contact], AgentState | None]:
        draw = self._draw(channel)

        def route(contact: Contact) -> AgentState | None:
            reached = [
                site.idle for site, after in contact.lane.steps if after <= 0.0 and site.idle
            ]
            if not reached:
                return None
            pick = int(draw() * sum(len(idle) for idle in reached))
            for idle in reached:
                if pick < len(idle):
                    agent = idle[pick]
                    del idle[pick]
                    return agent
                pick -= len(idle)
            agent = reached[-1].pop()  # u * n rounded up to n: the last agent
            return agent

        return route

    def take(self, site: SiteState) -> AgentState:
        # A contact overflowing to a site: uniformly among its idle agents, from a stream
        # of the site's own so that the channels' routing draws stay aligned.
        draw = self._draw_site(site)
        idle = site.idle
        pick = min(int(draw() * len(idle)), len(idle) - 1)
        agent = idle[pick]
        del idle[pick]
        return agent

    def _draw_site(self, site: SiteState) -> Callable[[], float]:
        key = "site:" + site.name  # not a channel name: those cannot hold ':'
        if key not in self._draws:
            self._draws[key] = self.streams.uniforms("routing", key)
        return self._draws[key]


@register
class Split(RoutingPolicy):
    """A stated share of a channel's contacts for each site (``routing.shares``), as
    outsourcing contracts are written: each contact entering the channel draws its site
    from the channel's stream ``("routing", channel)`` and waits in that site's lane. Other
    sites take it only from their ``routing.overflow`` step's wait on. Channels without
    shares are routed as ``longest_idle``."""

    name = "split"

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        super().__init__(scenario, streams)
        self.shares = scenario.routing.shares

    def lanes(self, channel: ChannelState) -> list[Lane]:
        shares = self.shares.get(channel.served_as)
        if not shares or channel.internal:
            return [channel.lane]
        overflow = channel.served_as in self.scenario.routing.overflow
        by_name = {site.name: (site, after) for site, after in channel.steps}
        lanes = []
        for name in shares:
            home = by_name[name][0]
            others = [(s, a) for s, a in channel.steps if s is not home and overflow]
            lanes.append(Lane(channel, [(home, 0.0), *others]))
        return lanes

    def router(self, channel: ChannelState) -> Callable[[Contact], AgentState | None]:
        shares = self.shares.get(channel.served_as)
        if not shares or channel.internal:
            return super().router(channel)
        lanes = channel.lanes
        bounds, total = [], 0.0
        for share in shares.values():
            total += share
            bounds.append(total)
        draw = self.streams.uniforms("routing", channel.name)
        last = len(lanes) - 1
        better = self.better

        def route(contact: Contact) -> AgentState | None:
            u = draw()
            index = next((i for i, bound in enumerate(bounds) if u < bound), last)
            lane = contact.lane = lanes[index]
            best = None
            for site, after in lane.steps:
                if after <= 0.0 and site.idle and (best is None or better(site, best)):
                    best = site
            return best.idle.popleft() if best is not None else None

        return route
