"""The engine: one replication of a scenario, wired from the core, its features and a
routing policy.

:func:`simulate` builds the runtime state from the scenario (channels, including the
internal ones features need, and sites), the routing policy (:mod:`ccsim.sim.routing`),
the core (:mod:`ccsim.sim.core`) and the features the scenario uses
(:mod:`ccsim.sim.features`), runs the clock until no event is left, and hands the counts
(:mod:`ccsim.sim.counting`, :mod:`ccsim.sim.counts`) to :mod:`ccsim.sim.accounting`.

The engine knows no feature by name: it builds the internal channels the features ask for
(:func:`~ccsim.sim.features.internal_channels`), installs them
(:func:`~ccsim.sim.features.install`) and, at the end, asks the core and each feature which
contacts they still hold (``held``), to censor those customers' journeys.

All randomness comes from named streams (:mod:`ccsim.sim.streams`), and each contact draws
its handle time and patience at arrival, so contact *i* of a channel gets the same values
in every scenario run with the same seed: the basis of common random numbers.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ccsim.model import Scenario
from ccsim.model.calendar import Calendar
from ccsim.model.workforce import steady_state
from ccsim.sim.accounting import account
from ccsim.sim.arrivals import arrival_batches
from ccsim.sim.billing import prices
from ccsim.sim.clock import Clock
from ccsim.sim.core import Core
from ccsim.sim.counting import Counter
from ccsim.sim.counts import ChannelCounts, RunRecord, SiteCounts
from ccsim.sim.features import install, internal_channels
from ccsim.sim.result import CONTACT_COLUMNS, SimulationResult
from ccsim.sim.routing import RoutingPolicy, make_policy
from ccsim.sim.satisfaction import Survey
from ccsim.sim.shifts import PayScale, roster
from ccsim.sim.state import ChannelState, SiteState
from ccsim.sim.streams import Streams

__all__ = ["CONTACT_COLUMNS", "SimulationResult", "build", "run", "simulate"]

# Channels after inbound live work unless given a priority: deferred work and dialling.
_AFTER_INBOUND = ("email", "outbound")


def _channels(
    scenario: Scenario, calendar: Calendar, streams: Streams, counter: Counter
) -> list[ChannelState]:
    """The user's channels, then the internal channels of the features (call backs,
    messages). Email and the internal channels come after every live channel unless given
    a priority (deferred work)."""
    n = len(calendar.slots)
    inbound = [c.priority or 0 for c in scenario.channels.values() if c.kind not in _AFTER_INBOUND]
    # Outbound comes after every inbound live channel (blending: inbound first), email
    # and call backs after both, unless given a priority.
    outbound = min(inbound or [0]) - 1
    live = [
        c.priority if c.priority is not None else (outbound if c.kind == "outbound" else 0)
        for c in scenario.channels.values()
        if c.kind != "email"
    ]
    deferred = min(live or [0]) - 1
    channels = []
    for name, config in scenario.channels.items():
        priority = config.priority if config.priority is not None else 0
        if config.kind in _AFTER_INBOUND and config.priority is None:
            priority = deferred if config.kind == "email" else outbound
        counts = ChannelCounts(
            name, n, deferred=config.kind == "email", outbound=config.kind == "outbound"
        )
        channel = ChannelState(len(channels), name, config.kind, priority, counts)
        channel.threshold = config.service_level.threshold
        channel.concurrency = config.concurrency
        channel.mean_handle_time = config.handle_time.expected() * config.agent_assist
        if config.arrivals is not None:
            batches = arrival_batches(
                config.arrivals,
                calendar,
                streams.generator("arrivals", name),
                streams.generator("busyness", name),
            )
            channel.epochs = counter.arrivals(channel, batches)
        channel.draw_handle_time = streams.draws(
            "handle_time", name, config.handle_time, config.agent_assist
        )
        if config.patience is not None:
            channel.draw_patience = streams.draws("patience", name, config.patience)
        channels.append(channel)
    by_name = {channel.name: channel for channel in channels}
    for internal in internal_channels(scenario):
        served = by_name[internal.served_as]
        counts = ChannelCounts(internal.name, n, deferred=internal.deferred, new_customers=False)
        channel = ChannelState(len(channels), internal.name, internal.kind, deferred, counts)
        channel.served_as, channel.internal = internal.served_as, True
        channel.threshold = internal.threshold
        channel.mean_handle_time = served.mean_handle_time
        channels.append(channel)
    for channel in channels:
        config = scenario.channels[channel.served_as]
        channel.plain = not config.staged and all(
            site.resolution.get(channel.served_as, config.resolution) >= 1.0
            for site in scenario.sites
        )
    return channels


def _sites(scenario: Scenario, calendar: Calendar, channels: list[ChannelState], until: float):
    """The sites, their schedules laid up to ``until`` (the cut-off: with journeys followed
    after the horizon, agents keep coming to work as the schedule says)."""
    n = len(calendar.slots)
    sites = []
    for index, config in enumerate(scenario.sites):
        counts = SiteCounts(
            config.name,
            n,
            len(channels),
            roster(config, calendar, until),
            PayScale(config, calendar, until + 86400.0),
            parts=len(scenario.sites) > 1,  # one site reports no part of a channel
        )
        speed = [config.proficiency.get(c.served_as, 1.0) for c in channels]
        sites.append(SiteState(index, config, counts, speed))
    return sites


def _route(scenario, channels, sites, policy: RoutingPolicy) -> None:
    """Each channel's eligible sites and lanes; each site's lanes, highest priority first
    (stable: in channel order within a priority)."""
    by_name = {site.name: site for site in sites}
    for channel in channels:
        for config, after in scenario.eligible_sites(channel.served_as):
            site = by_name[config.name]
            channel.steps.append((site, after))
            site.counts.served.append(channel.index)
        # A channel one site serves has that site's part copied from its own counts at the
        # end (Counter.record) rather than counted twice as contacts are answered.
        channel.by_site = len(channel.steps) > 1
        channel.counts.sole_site = channel.steps[0][0].index if len(channel.steps) == 1 else None
        channel.lanes = policy.lanes(channel)
        for lane in channel.lanes:
            # A step never reached (``after: never``) costs nothing: no timer, no lane to
            # look at when an agent of its site is free.
            lane.later = [(site, after) for site, after in lane.steps if 0.0 < after < math.inf]
            for site, after in lane.steps:
                if after == math.inf:
                    continue
                site.lanes.append((lane, after))
                site.lanes_of.setdefault(channel.index, []).append((lane, after))
    for site in sites:
        site.lanes.sort(key=lambda pair: -pair[0].channel.priority)


def build(scenario: Scenario, streams: Streams, record_contacts: bool = False) -> Core:
    """The core of one replication, with the routing policy and the features the
    scenario uses attached (``core.features``), ready to :func:`run`."""
    scenario = steady_state(scenario)  # the sites' learning curves, at their tenure mix
    calendar = scenario.calendar()
    counter = Counter(calendar, scenario.warmup, record_contacts, scenario.follow_journeys)
    channels = _channels(scenario, calendar, streams, counter)
    sites = _sites(scenario, calendar, channels, counter.cutoff)
    counter.channels = [channel.counts for channel in channels]
    counter.sites = [site.counts for site in sites]
    counter.by_site = len(sites) > 1
    counter.survey = Survey(scenario.satisfaction, sites, channels)
    policy = make_policy(scenario, streams)
    _route(scenario, channels, sites, policy)
    core = Core(Clock(), counter, channels, sites, policy)
    install(core, scenario, streams)
    return core


def _censor_open(core: Core) -> None:
    """Count each customer whose journey is still open at the end of the run as censored,
    once: the contacts the core holds (waiting; stopped at the cut-off, in a service that
    escalates it) and those each feature says it holds (``held``: in the bot, in a chat
    that escalates). Returns due after the cut-off were counted when drawn (``Returns``)."""
    pending = core.clock.pending()
    holders = [core, *(f for f in core.features.values() if hasattr(f, "held"))]
    seen: set[int] = set()
    for holder in holders:
        for contact in holder.held(pending):
            customer = contact.customer
            key = id(customer) if customer is not None else id(contact)
            if key not in seen:
                seen.add(key)
                core.count.open_journey(contact)


def run(core: Core) -> RunRecord:
    """Run the replication until no event is left (with ``follow_journeys``: until the
    cut-off), then close it: agents log off, contacts still waiting are carried over, and
    journeys still open are censored."""
    features = list(core.features.values())
    count = core.count
    count.start(core.clock)
    core.start()
    for feature in features:
        if hasattr(feature, "start"):
            feature.start()
    core.clock.run(count.cutoff if count.follow else None)
    end = max(core.clock.now, core.horizon)
    _censor_open(core)
    for feature in features:
        if hasattr(feature, "finish"):
            feature.finish(end)
    core.carry_over(end)
    return count.record()


@contextmanager
def _without_cyclic_collection():
    """Pause Python's cyclic garbage collector while a replication is built and run.

    A run keeps thousands of tallies alive (one per interval, channel and site part) and
    allocates a contact, its events and tuples for every arrival; each allocation counts
    towards the collector's thresholds, and each full pass then traverses every tally
    for nothing: the objects made per contact form no reference cycles and are freed by
    their reference counts. The only cycles are the runtime state's own (the core and
    its channels, sites and events), fixed in size for a scenario and collected once the
    collector is back on. Without the pause a four-week follow-the-sun run spent about
    7% of its time in the collector. The collector's state before the run is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence = 0,
    *,
    record_contacts: bool = False,
) -> SimulationResult:
    """Run one replication of ``scenario``; a pure function of its arguments.

    ``seed`` is an integer or a ``numpy.random.SeedSequence`` (replication ``r`` of a run
    with seed ``S`` uses ``SeedSequence(S).spawn(n)[r]``). With ``record_contacts`` the
    result also holds one row per contact (columns :data:`CONTACT_COLUMNS`), in the order
    in which their outcomes happened; otherwise nothing per contact is kept.
    """
    streams = Streams(seed)
    with _without_cyclic_collection():
        core = build(scenario, streams, record_contacts)
        record = run(core)
        rows = account(record, prices(scenario))
        log = core.count.contacts
        types = core.request_types.totals() if core.request_types is not None else {}
        # The runtime state is let go while the collector is still paused: its cycles are
        # garbage by the first collection after the pause, freed there, not promoted to an
        # older generation alive (and then traversed by every collection of that
        # generation until a full one frees them).
        del core
    contacts = None
    if log is not None:
        contacts = pd.DataFrame(log, columns=list(CONTACT_COLUMNS))
    return SimulationResult(
        scenario.name, streams.seed, scenario.warmup, record.calendar, rows, contacts, types
    )
