"""Email: deferred work (email, and messages left in a queue: ``<channel>:message``).
Items never abandon; they are worked when no live contact waits at
a higher priority (by default email comes after every live channel) or by dedicated sites.
The counter keeps items opened and taken per interval (the backlog); at the horizon the
items still open are carried over, unless journeys are followed after it
(``follow_journeys``): then they are worked on until the cut-off, and only those still open
then are carried over (by the core, at the end of the run).

**A site's deferred reserve** (``deferred_reserve``, a share of its agents logged on): on a
blended site email takes every minute live work leaves, so occupancy with email runs at
97-99% whatever the staffing, above any planner's cap. With a reserve, an agent of the site
takes an item only while more than ``ceil(share x agents logged on)`` of its agents are
idle, so that share stays free for live contacts and for rest between them. The site's
agents then no longer find items in their lanes when they finish a contact
(:meth:`Email._gate` takes the deferred lanes out of the site's); an item goes to an agent
when one becomes idle beyond the reserve (the site's ``on_idle`` cue, the agent who has just
finished) or, on arrival, to an idle agent a router found beyond the reserve. An agent a
router found within the reserve goes back to its place among the idle and the item waits.
Overflow steps of deferred work (``after`` > 0) to a reserved site are not gated. At such a
site arriving chats take free chat slots before idle agents (:meth:`.chats.Chats.fill_first`):
spread over idle agents first, they would leave none idle beyond the reserve."""

from __future__ import annotations

import math

from ccsim.sim.state import GONE, WAITING, attach

__all__ = ["Email"]


class Email:
    name = "email"

    @staticmethod
    def used(scenario) -> bool:
        return any(
            channel.kind == "email" or (channel.message is not None and channel.message.served)
            for channel in scenario.channels.values()
        )

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count = core, core.count
        # Items opened or taken after the horizon (when followed) are not the window's.
        self.counting_end = core.horizon if core.count.follow else float("inf")
        self.channels = [c for c in core.channels if c.counts.deferred]
        for channel in self.channels:
            attach(channel, "on_enter", self.opened)
            attach(channel, "on_answer", self.closed)
        reserved = [site for site in core.sites if site.config.deferred_reserve > 0]
        if reserved:
            self._gate(reserved)

    def _gate(self, reserved) -> None:
        """Keep each reserved site's share of idle agents free of deferred work."""
        core = self.core
        shares = {site.index: site.config.deferred_reserve for site in reserved}

        def spare(site) -> bool:  # an idle agent beyond the reserve (math.ceil: at least)
            return len(site.idle) > math.ceil(shares[site.index] * site.n_on - 1e-9)

        for site in reserved:
            deferred = [(lane, after) for lane, after in site.lanes if lane.channel.counts.deferred]
            if not deferred:
                continue
            site.lanes = [pair for pair in site.lanes if pair not in deferred]
            site.on_idle = _then(_cue(core, site, deferred, spare), site.on_idle)
        for channel in self.channels:
            if any(site.index in shares for site, _ in channel.steps):
                channel.route = _gated(channel.route, shares, spare)

    def opened(self, contact, now: float) -> bool:
        if now < self.counting_end:
            self.count.opened(contact.channel)
        return True

    def closed(self, contact, site, handle_time: float, now: float) -> None:
        if now < self.counting_end:
            self.count.closed(contact.channel)

    def start(self) -> None:
        if not self.core.count.follow:
            self.core.after(self.core.horizon, self._close)

    def _close(self, event) -> None:
        """At the horizon, items still open are carried over: the backlog."""
        now = self.core.clock.now
        for channel in self.channels:
            for lane in channel.lanes:
                for contact in lane.queue:
                    if contact.state == WAITING:
                        contact.state = GONE
                        self.count.carried_over(contact, now)
                        self.count.open_journey(contact)
                lane.queue.clear()


def _cue(core, site, deferred, spare):
    """The site's idle cue: the agent who has just become idle takes the longest-waiting
    item of its deferred lanes, if the site has an idle agent beyond its reserve."""
    idle = site.idle

    def take_deferred(now: float) -> None:
        if spare(site):
            item = core.next_waiting(deferred, now)
            if item is not None:
                core.answer(item, idle.pop(), now)  # the newest idle: the one just freed

    return take_deferred


def _then(first, then):
    """Two idle cues in turn (a dialer's, set before, goes first: outbound outranks email)."""
    if then is None:
        return first

    def both(now: float) -> None:
        then(now)
        first(now)

    return both


def _gated(route, shares, spare):
    """A deferred channel's router that gives an arriving item to no agent within a site's
    reserve: such an agent goes back to its place among the idle (longest idle first)."""

    def gated(contact):
        agent = route(contact)
        if agent is None:
            return None
        site = agent.site
        if site.index not in shares or len(site.idle) >= math.ceil(
            shares[site.index] * site.n_on - 1e-9
        ):
            return agent
        idle = site.idle
        place = sum(1 for other in idle if other.idle_since <= agent.idle_since)
        idle.insert(place, agent)
        return None

    return gated
