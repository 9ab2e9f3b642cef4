"""Accounting: from a finished replication's state to tallies per (channel, site) and interval.

The engine counts contacts as their outcomes happen; agent time, pay and levels are put
together here, once the run is over: logged-on and busy time per site and channel, the
schedule's scheduled time and pay (:func:`ccsim.sim.shifts.schedule_tallies`), overruns, and
email backlogs. Row ``(channel, "all")`` is a channel as a whole, ``("all", "all")`` every
channel together, ``(channel, site)`` and ``("all", site)`` a site's part and the site
itself (see ``docs/metrics.md``).
"""

from __future__ import annotations

from ccsim.sim.metrics import CONTACT_TALLIES, LEVEL_TALLIES, WAIT_POINTS, ChannelTally
from ccsim.sim.shifts import interval_pieces, schedule_tallies

__all__ = ["account"]

_ADDED = tuple(name for name in CONTACT_TALLIES if name not in LEVEL_TALLIES)


def _add_contacts(into: ChannelTally, tally: ChannelTally) -> None:
    for name in CONTACT_TALLIES:
        setattr(into, name, getattr(into, name) + getattr(tally, name))


def _backlogs(channel) -> None:
    """Email items open at the end of each interval: opened so far less taken so far."""
    level = 0
    for k, tally in enumerate(channel.intervals):
        level += channel.opened[k] - channel.closed[k]
        tally.backlog = level


def _waits(channel) -> None:
    """Cumulative wait counts (answered within each point) from the engine's bins."""
    for tally, bins in zip(channel.intervals, channel.wait_bins, strict=True):
        within = 0
        for point, count in zip(WAIT_POINTS, bins, strict=False):
            within += count
            setattr(tally, f"waits_within_{point}s", within)


def _customers(channel) -> None:
    """Counts the engine leaves to totals: new customers (offered less retrials, repeats
    and transfers; a call back is no new customer), contacts resolved (answered less
    escalated and unresolved), and the plain first contacts, each its own customer resolved
    at first contact with its wait and handle time."""
    for k, tally in enumerate(channel.intervals):
        if not channel.is_callback:
            tally.customers = (
                tally.offered - tally.retrials - tally.repeat_contacts - tally.transfers_in
            )
        tally.resolved = tally.answered - tally.escalated - tally.unresolved
        plain = tally.answered - channel.staged_answered[k]
        if plain:
            tally.first_contact_resolutions += plain
            tally.resolutions += plain
            tally.resolution_time += (
                tally.wait_answered + tally.handle_time - channel.staged_time[k]
            )


def account(run, observed: list[float]) -> dict[tuple[str, str], list[ChannelTally]]:
    """Tallies per (channel, site) and interval of the finished replication ``run``.

    A site's pay in an interval is split over the channels it serves in proportion to its
    agents' busy time on each (evenly when they were all idle), so channel costs add up to
    the site's. A row's agent times (scheduled, logged on) are those of the sites that may
    serve the row's channels; its busy time is the time spent on them.
    """
    calendar, warmup, n = run.calendar, run.warmup, run.n_intervals
    rows: dict[tuple[str, str], list[ChannelTally]] = {}
    for channel in run.channels:
        if channel.deferred:
            _backlogs(channel)
        _waits(channel)
        _customers(channel)
        for k, tally in enumerate(channel.intervals):
            tally.queue_time = channel.queue_time[k]
            tally.observed_time = observed[k]
        rows[(channel.name, "all")] = channel.intervals
    multi_channel = len(run.channels) > 1
    if multi_channel:
        everyone = [ChannelTally(observed_time=observed[k]) for k in range(n)]
        rows[("all", "all")] = everyone
        for channel in run.channels:
            for k, tally in enumerate(channel.intervals):
                _add_contacts(everyone[k], tally)
    multi_site = len(run.sites) > 1
    for site in run.sites.values():
        scheduled, cost = schedule_tallies(site.instances, site.pay, calendar, warmup)
        overrun = [0.0] * n
        for shift_end, left in site.overruns:
            for k, low, high in interval_pieces(shift_end, left, calendar, warmup):
                overrun[k] += high - low
                cost[k] += site.pay.cost(low, high)
        served = [channel for channel in run.channels if any(s is site for s, _ in channel.steps)]
        whole = [
            ChannelTally(
                staffed_time=site.available_time[k],
                scheduled_time=scheduled[k],
                overrun_time=overrun[k],
                labour_cost=cost[k],
                observed_time=observed[k],
            )
            for k in range(n)
        ]
        for channel in served:
            part = site.answered[channel.index]
            busy = site.busy[channel.index]
            for k in range(n):
                total_busy = sum(site.busy[c.index][k] for c in served)
                share = busy[k] / total_busy if total_busy > 0 else 1.0 / len(served)
                cell = part[k]
                cell.resolved = cell.answered - cell.escalated - cell.unresolved
                cell.busy_time = busy[k]
                cell.staffed_time = site.available_time[k]
                cell.scheduled_time = scheduled[k]
                cell.overrun_time = overrun[k] * share
                cell.labour_cost = cost[k] * share
                cell.observed_time = observed[k]
                channel_row = channel.intervals[k]
                channel_row.busy_time += busy[k]
                channel_row.staffed_time += site.available_time[k]
                channel_row.scheduled_time += scheduled[k]
                channel_row.overrun_time += cell.overrun_time
                channel_row.labour_cost += cell.labour_cost
                for name in _ADDED:
                    setattr(whole[k], name, getattr(whole[k], name) + getattr(cell, name))
                whole[k].busy_time += busy[k]
            if multi_site:
                rows[(channel.name, site.name)] = part
        if multi_channel:
            for k in range(n):
                for name in (
                    "busy_time",
                    "staffed_time",
                    "scheduled_time",
                    "overrun_time",
                    "labour_cost",
                ):
                    setattr(everyone[k], name, getattr(everyone[k], name) + getattr(whole[k], name))
        if multi_site:
            rows[("all", site.name)] = whole
    return rows
