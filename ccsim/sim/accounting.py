"""Accounting: from a finished replication's counts to tallies per (channel, site) and interval.

The counter (:mod:`ccsim.sim.counting`) has counted every contact in the run's counts
(:mod:`ccsim.sim.counts`); agent time and pay are put together here, once the run is over:
logged-on and busy time per site and channel, the schedule's scheduled time and pay
(:func:`ccsim.sim.shifts.schedule_tallies`) and overruns. Row ``(channel, "all")`` is a
channel as a whole, ``("all", "all")`` every channel together, ``(channel, site)`` and
``("all", site)`` a site's part and the site itself (see ``docs/metrics.md``).
"""

from __future__ import annotations

from collections.abc import Callable

from ccsim.sim.counts import RunRecord, SiteCounts
from ccsim.sim.metrics import AGENT_TALLIES, CONTACT_TALLIES, LEVEL_TALLIES, ChannelTally
from ccsim.sim.shifts import interval_pieces, schedule_tallies

__all__ = ["account"]

_ADDED = tuple(name for name in CONTACT_TALLIES if name not in LEVEL_TALLIES)
_SITE_TIMES = tuple(name for name in AGENT_TALLIES if name != "observed_time")


def _adder(names: tuple[str, ...]) -> Callable[[ChannelTally, ChannelTally], None]:
    """A function that adds ``tally``'s ``names`` to ``into``'s, one statement per name.

    Written out and compiled once (as :mod:`dataclasses` writes its ``__init__``): a
    multi-site month adds tens of thousands of tallies of 80 names, and attribute access by
    statement costs a fraction of ``getattr``/``setattr`` by name. Same additions in the
    same order: the same sums."""
    body = "".join(f"    into.{name} += tally.{name}\n" for name in names)
    namespace: dict = {}
    exec(f"def add(into, tally):\n{body or '    pass'}\n", namespace)
    return namespace["add"]


_add_contacts = _adder(CONTACT_TALLIES)
_add_site_times = _adder(_SITE_TIMES)
_add_counts = _adder(_ADDED)


def account(run: RunRecord) -> dict[tuple[str, str], list[ChannelTally]]:
    """Tallies per (channel, site) and interval of the finished replication ``run``.

    A site's pay in an interval is split over the channels it serves in proportion to its
    agents' busy time on each (evenly when they were all idle), so channel costs add up to
    the site's. A row's agent times (scheduled, logged on) are those of the sites that may
    serve the row's channels; its busy time is the time spent on them.
    """
    observed = run.observed
    n = len(observed)
    rows: dict[tuple[str, str], list[ChannelTally]] = {}
    for channel in run.channels:
        rows[(channel.name, "all")] = channel.intervals
    multi_channel = len(run.channels) > 1
    if multi_channel:
        everyone = [ChannelTally(observed_time=observed[k]) for k in range(n)]
        rows[("all", "all")] = everyone
        for channel in run.channels:
            for k, tally in enumerate(channel.intervals):
                _add_contacts(everyone[k], tally)
    multi_site = len(run.sites) > 1
    for site in run.sites:
        whole = _site(run, site)
        if multi_site:
            for index in site.served:
                rows[(run.channels[index].name, site.name)] = site.answered[index]
            rows[("all", site.name)] = whole
        if multi_channel:
            for k in range(n):
                _add_site_times(everyone[k], whole[k])
    return rows


def _site(run: RunRecord, site: SiteCounts) -> list[ChannelTally]:
    """The site's tallies per interval; its agent times and pay also go to its part of
    each channel it serves and to the channel's row."""
    calendar, warmup, observed = run.calendar, run.warmup, run.observed
    n = len(observed)
    scheduled, cost = schedule_tallies(site.instances, site.pay, calendar, warmup)
    overrun = [0.0] * n
    for shift_end, left in site.overruns:
        for k, low, high in interval_pieces(shift_end, left, calendar, warmup):
            overrun[k] += high - low
            cost[k] += site.pay.cost(low, high)
    served = site.served
    outbound = [index for index in served if run.channels[index].outbound]
    total_busy = [sum(site.busy[index][k] for index in served) for k in range(n)]
    busy_in, busy_out, idle = [0.0] * n, [0.0] * n, [0.0] * n
    for k in range(n):
        busy_out[k] = sum(site.busy[index][k] for index in outbound)
        busy_in[k] = total_busy[k] - busy_out[k]
        idle[k] = max(site.available_time[k] - total_busy[k], 0.0)
    available = site.available_time
    whole = [
        ChannelTally(
            staffed_time=available[k],
            staffed_hours=available[k] / 3600.0,
            inbound_busy_time=busy_in[k],
            outbound_busy_time=busy_out[k],
            idle_time=idle[k],
            scheduled_time=scheduled[k],
            overrun_time=overrun[k],
            labour_cost=cost[k],
            observed_time=observed[k],
        )
        for k in range(n)
    ]
    even = 1.0 / len(served) if served else 0.0
    for index in served:
        busy, cells, rows = site.busy[index], site.answered[index], run.channels[index].intervals
        for k in range(n):
            share = busy[k] / total_busy[k] if total_busy[k] > 0 else even
            cell = cells[k]
            cell.resolved = cell.answered - cell.escalated - cell.unresolved
            cell.busy_time = busy[k]
            cell.staffed_time = available[k]
            cell.staffed_hours = available[k] / 3600.0
            cell.inbound_busy_time, cell.outbound_busy_time = busy_in[k], busy_out[k]
            cell.idle_time = idle[k]
            cell.scheduled_time = scheduled[k]
            cell.overrun_time = overrun[k] * share
            cell.labour_cost = cost[k] * share
            cell.observed_time = observed[k]
            _add_site_times(rows[k], cell)
            _add_counts(whole[k], cell)
            whole[k].busy_time += busy[k]
    return whole
