"""Accounting: from a finished replication's counts to tallies per (channel, site) and interval.

The counter (:mod:`ccsim.sim.counting`) has counted every contact in the run's counts
(:mod:`ccsim.sim.counts`); agent time and pay are put together here, once the run is over:
logged-on and busy time per site and channel, the schedule's scheduled time and pay
(:func:`ccsim.sim.shifts.schedule_tallies`) and overruns. Row ``(channel, "all")`` is a
channel as a whole, ``("all", "all")`` every channel together, ``(channel, site)`` and
``("all", site)`` a site's part and the site itself (see ``docs/metrics.md``). A contracted
site's cost is its contract's bill and a bot's price per resolution and per month are
added here too, by :mod:`ccsim.sim.billing`'s rules.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import sub

from ccsim.sim import billing
from ccsim.sim.counts import RunRecord, SiteCounts
from ccsim.sim.intervals import Intervals
from ccsim.sim.metrics import (
    AGENT_TALLIES,
    CONTACT_TALLIES,
    LEVEL_TALLIES,
    RATIO_KPIS,
    ChannelTally,
)
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


def account(
    run: RunRecord, prices: billing.Prices | None = None
) -> dict[tuple[str, str], list[ChannelTally]]:
    """Tallies per (channel, site) and interval of the finished replication ``run``.

    A site's pay in an interval is split over the channels it serves in proportion to its
    agents' busy time on each (evenly when they were all idle), so channel costs add up to
    the site's. A row's agent times (scheduled, logged on) are those of the sites that may
    serve the row's channels; its busy time is the time spent on them. With ``prices``
    (:func:`ccsim.sim.billing.prices`) a contracted site's cost is its bill, and the bots'
    resolutions and fixed monthly costs are charged.
    """
    prices = prices or billing.Prices({}, {}, {})
    observed = run.observed
    n = len(observed)
    rows: dict[tuple[str, str], list[ChannelTally]] = {}
    for channel in run.channels:
        if isinstance(channel.intervals, Intervals) and (
            prices.contracts or channel.name in prices.per_resolution or prices.per_month
        ):  # billed per interval: every interval's tally, as with several channels
            channel.intervals = channel.intervals.full()
        rows[(channel.name, "all")] = channel.intervals
        _bot_prices(channel.name, channel.intervals, observed, prices)
    multi_channel = len(run.channels) > 1
    if multi_channel:
        everyone = [ChannelTally(observed_time=observed[k]) for k in range(n)]
        rows[("all", "all")] = everyone
        for channel in run.channels:
            for k, tally in enumerate(channel.intervals):
                _add_contacts(everyone[k], tally)
    multi_site = len(run.sites) > 1
    for site in run.sites:
        whole = _site(run, site, prices.contracts.get(site.name), multi_site or multi_channel)
        if multi_site:
            for index in site.served:
                rows[(run.channels[index].name, site.name)] = site.answered[index]
            rows[("all", site.name)] = whole
        if multi_channel:
            for k in range(n):
                _add_site_times(everyone[k], whole[k])
    return rows


def _bot_prices(name: str, tallies: list[ChannelTally], observed, prices) -> None:
    """A channel's bot: each contained session at its price per resolution (on the
    session's interval, as it was counted), its fixed monthly costs prorated."""
    per_resolution = prices.per_resolution.get(name, 0.0)
    per_month = prices.per_month.get(name, 0.0)
    if per_resolution:
        for tally in tallies:
            tally.bot_cost += per_resolution * tally.contained
    if per_month:
        for tally, amount in zip(tallies, billing.prorated(per_month, observed), strict=True):
            tally.ai_fixed_cost += amount


def _site(run: RunRecord, site: SiteCounts, contract=None, whole_too=True):
    """The site's tallies per interval; its agent times and pay (a contracted site's
    bill) also go to its part of each channel it serves and to the channel's row.
    Without ``whole_too`` (one site serving one channel: the site's row would be the
    channel's) only the channel's row is filled, and None is returned."""
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
    total_busy = _by_interval([site.busy[index] for index in served], n)
    busy_out = _by_interval([site.busy[index] for index in outbound], n)
    busy_in = list(map(sub, total_busy, busy_out))
    idle = [max(a - b, 0.0) for a, b in zip(site.available_time, total_busy, strict=True)]
    available = site.available_time
    whole = None
    if whole_too:
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
    shares = _shares(site, total_busy)
    billed = _billed(run, site, contract, cost, overrun, shares) if contract else None
    for j, index in enumerate(served):
        busy, cells, rows = site.busy[index], site.answered[index], run.channels[index].intervals
        if isinstance(rows, Intervals) and not rows.materialized and whole is None:
            _times_series(rows, busy, available, busy_in, busy_out, idle, scheduled)
            rows.series["overrun_time"] = [overrun[k] * shares[j][k] for k in range(n)]
            rows.series["labour_cost"] = [cost[k] * shares[j][k] for k in range(n)]
            continue
        if cells is None:  # one site: no row holds its part; one cell carries its times
            cells = [ChannelTally()] * n
        for k in range(n):
            share = shares[j][k]
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
            if billed is not None:
                cell.vendor_pay = cell.labour_cost
                cell.contract_cost = cell.labour_cost = billed.charges[j][k] - billed.credits[j][k]
                cell.service_credits = billed.credits[j][k]
            cell.observed_time = observed[k]
            _add_site_times(rows[k], cell)
            if whole is not None:
                _add_counts(whole[k], cell)
                whole[k].busy_time += busy[k]
    if billed is not None and whole is not None:
        for k in range(n):
            whole[k].vendor_pay, whole[k].labour_cost = whole[k].labour_cost, 0.0
            for j in range(len(served)):
                whole[k].contract_cost += billed.charges[j][k] - billed.credits[j][k]
                whole[k].service_credits += billed.credits[j][k]
            whole[k].labour_cost = whole[k].contract_cost
    return whole


def _by_interval(series: list[list[float]], n: int) -> list:
    """The series added up interval by interval, in their order from 0 (as a sum over
    them per interval; 0 where there are none), column by column in C."""
    return list(map(sum, zip(*series, strict=True))) if series else [0] * n


def _times_series(rows: Intervals, busy, available, busy_in, busy_out, idle, scheduled) -> None:
    """A one-site, one-channel row's agent times, a series each (as ``_site`` adds them to
    every interval's tally; its bill's three amounts stay zeros)."""
    rows.series.update(
        busy_time=busy,
        staffed_time=available,
        staffed_hours=[a / 3600.0 for a in available],
        inbound_busy_time=busy_in,
        outbound_busy_time=busy_out,
        idle_time=idle,
        scheduled_time=scheduled,
    )


def _shares(site: SiteCounts, total_busy: list[float]) -> list[list[float]]:
    """Each served channel's share of the site's time in each interval: its agents' busy
    time on it (evenly when they were all idle)."""
    even = 1.0 / len(site.served) if site.served else 0.0
    pairs = (zip(site.busy[index], total_busy, strict=True) for index in site.served)
    return [[busy / total if total > 0 else even for busy, total in row] for row in pairs]


class _Seconds:
    """A pay scale of one per second: :func:`schedule_tallies` gives paid seconds."""

    rate, premium = 1.0, 0.0

    @staticmethod
    def cost(start: float, end: float) -> float:
        return max(end - start, 0.0)


_REACHED, _JUDGED = RATIO_KPIS["service_level"]


def _billed(run: RunRecord, site: SiteCounts, terms, pay, overrun, shares) -> billing.Bill:
    """A contracted site's bill per served channel and interval (:func:`billing.bill`):
    its units of work in the pricing form's unit, priced, with the penalties' levels."""
    contract, wage = terms
    calendar, observed = run.calendar, run.observed
    n, served = len(observed), site.served
    # One site: its part of a channel is the channel (the site's own cells are not
    # completed then, see counts.complete).
    parts = [
        run.channels[index].intervals if len(run.sites) == 1 else site.answered[index]
        for index in served
    ]
    price = contract.rate if contract.rate is not None else wage * (1 + contract.margin)
    if contract.pricing == "fte_hour":
        paid = schedule_tallies(site.instances, _Seconds, calendar, run.warmup)[1]
        hours = [(paid[k] + overrun[k]) / 3600.0 for k in range(n)]
    elif contract.pricing == "productive_hour":
        hours = [site.available_time[k] / 3600.0 for k in range(n)]
    if contract.pricing in ("fte_hour", "productive_hour"):
        units = [[hours[k] * share[k] for k in range(n)] for share in shares]
    elif contract.pricing == "handled_minute":
        units = [[tally.handle_time / 60.0 for tally in part] for part in parts]
    else:
        units = [[float(tally.answered) for tally in part] for part in parts]
    if contract.rate is None:  # cost plus margin: the pay, night premium and overrun included
        markup = 1 + contract.margin
        charges = [[pay[k] * share[k] * markup for k in range(n)] for share in shares]
    else:
        charges = [[price * u for u in row] for row in units]
    # The scenario checks that each penalty's channel is one the site serves.
    rows = {run.channels[index].name: j for j, index in enumerate(served)}
    levels = []
    for penalty in contract.penalties:
        j = rows[penalty.channel]
        source = parts[j] if penalty.measure == "site" else run.channels[served[j]].intervals
        judged = ("answered",) if penalty.measure == "site" else _JUDGED
        levels.append(
            (
                j,
                [sum(getattr(t, name) for name in _REACHED) for t in source],
                [sum(getattr(t, name) for name in judged) for t in source],
            )
        )
    week = billing.weeks(calendar.edges, run.warmup, observed)
    return billing.bill(contract, price, units, charges, shares, levels, observed, week)
