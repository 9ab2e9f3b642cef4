"""Billing: what a contract and a bot's vendor charge for the observed window, worked out
once the run is over (never on the hot path), as :mod:`ccsim.sim.accounting` asks.

A contracted site's work is billed per channel and interval in its pricing form's units
(:class:`~ccsim.model.contract.Contract`). The window is cut into weeks from its start (the
end of the warm-up), the last one partial: a week's minimum is prorated to the part of the
week observed, and when the week's units fall short of it the shortfall is billed at the
unit price, spread over the week's intervals by their observed time. Service credits are
judged per interval or per week on the penalty's channel and go to that channel's rows: an
interval's credit to its interval, a week's spread over the week's intervals by observed
time (a fixed amount prorated, like the minimum, to the part of the week observed). A
week's credits are at most ``credit_cap`` of its bill. A bot's fixed costs per month are
prorated to each interval's observed time over a month of 365.25 / 12 days.
``docs/metrics.md`` states the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ccsim.model.contract import Contract

__all__ = [
    "MONTH",
    "WEEK",
    "Bill",
    "Prices",
    "bill",
    "credits",
    "minimum_top_up",
    "prices",
    "prorated",
    "weeks",
]

WEEK = 7 * 86400.0
#: A month of a year of 365.25 days: 30.4375 days, 2,629,800 s.
MONTH = 365.25 / 12 * 86400.0


@dataclass(frozen=True)
class Prices:
    """What the accounting needs from the scenario beyond the wages: each contracted
    site's contract and its ``cost_per_hour``, and each bot's price per resolution and
    fixed cost per month, by channel."""

    contracts: dict[str, tuple[Contract, float]]
    per_resolution: dict[str, float]
    per_month: dict[str, float]


def prices(scenario) -> Prices:
    """The prices of ``scenario`` that are billed after the run."""
    contracts = {
        site.name: (site.contract, site.cost_per_hour)
        for site in scenario.sites
        if site.contract is not None
    }
    bots = {name: c.bot for name, c in scenario.channels.items() if c.bot is not None}
    return Prices(
        contracts,
        {name: bot.cost_per_resolution for name, bot in bots.items() if bot.cost_per_resolution},
        {
            name: bot.platform_cost_per_month + bot.operations_cost_per_month
            for name, bot in bots.items()
            if bot.platform_cost_per_month or bot.operations_cost_per_month
        },
    )


def weeks(starts: Sequence[float], warmup: float, observed: Sequence[float]) -> list[int]:
    """The week of the window each interval falls in (-1: not observed), from the
    intervals' ``starts`` (seconds): week 0 begins at the end of the warm-up."""
    return [
        int((max(start, warmup) - warmup) // WEEK) if seen > 0 else -1
        for start, seen in zip(starts, observed, strict=True)
    ]


def prorated(per_month: float, observed: Sequence[float]) -> list[float]:
    """A cost per month spread over intervals by their observed time (:data:`MONTH`)."""
    return [per_month * seen / MONTH for seen in observed]


def _by_week(values: Sequence[float], week: Sequence[int]) -> dict[int, float]:
    sums: dict[int, float] = {}
    for value, w in zip(values, week, strict=True):
        if w >= 0:
            sums[w] = sums.get(w, 0.0) + value
    return sums


def _spread(amounts: dict[int, float], observed: Sequence[float], week: Sequence[int]):
    """Each week's amount over its intervals in proportion to their observed time."""
    seen = _by_week(observed, week)
    return [
        amounts.get(w, 0.0) * t / seen[w] if w >= 0 and seen[w] > 0 else 0.0
        for t, w in zip(observed, week, strict=True)
    ]


def minimum_top_up(
    minimum: float,
    unit_price: float,
    units: Sequence[float],
    observed: Sequence[float],
    week: Sequence[int],
) -> list[float]:
    """Per interval, what a weekly ``minimum`` (in units) adds to the bill: each week's
    shortfall (the minimum prorated to the week's observed time, less its ``units``) at
    ``unit_price``, spread over the week's intervals by observed time."""
    done, seen = _by_week(units, week), _by_week(observed, week)
    short = {w: max(minimum * seen[w] / WEEK - done[w], 0.0) * unit_price for w in seen}
    return _spread(short, observed, week)


def credits(
    penalty,
    reached: Sequence[float],
    judged: Sequence[float],
    charged: Sequence[float],
    observed: Sequence[float],
    week: Sequence[int],
) -> list[float]:
    """Per interval, the service credit of one ``penalty``: the service level is
    ``reached / judged`` (answered within the threshold over those it counts), missed
    where it is below the target (a period with nothing judged is not missed); the credit
    is the penalty's ``amount`` or its ``share`` of the period's bill (``charged``, per
    interval)."""

    def missed(got: float, out_of: float) -> bool:
        return out_of > 0 and got < penalty.target * out_of

    if penalty.per == "interval":
        return [
            (penalty.amount if penalty.share is None else penalty.share * bill)
            if w >= 0 and missed(got, out_of)
            else 0.0
            for got, out_of, bill, w in zip(reached, judged, charged, week, strict=True)
        ]
    got, out_of = _by_week(reached, week), _by_week(judged, week)
    billed, seen = _by_week(charged, week), _by_week(observed, week)
    owed = {
        w: (penalty.amount * seen[w] / WEEK if penalty.share is None else penalty.share * billed[w])
        for w in seen
        if missed(got[w], out_of[w])
    }
    return _spread(owed, observed, week)


@dataclass
class Bill:
    """A contracted site's bill per served channel and interval: what is charged (the
    minimum's top-up included) and the service credits taken off it."""

    charges: list[list[float]]
    credits: list[list[float]]


def bill(
    contract: Contract,
    unit_price: float,
    units: list[list[float]],
    charges: list[list[float]],
    shares: list[list[float]],
    levels: list[tuple[int, Sequence[float], Sequence[float]]],
    observed: Sequence[float],
    week: Sequence[int],
) -> Bill:
    """The bill of a contracted site whose served channels ``j`` did ``units[j][k]`` of
    work in interval ``k``, charged ``charges[j][k]``; a minimum's top-up is split over the
    channels by ``shares[j][k]`` (as the site's pay is); ``levels``, one per penalty of
    ``contract.penalties`` in order: the row ``j`` of its channel, and the (reached,
    judged) counts per interval of its service level. Each credit goes to its channel."""
    n = len(observed)
    total_units = [sum(row[k] for row in units) for k in range(n)]
    top_up = minimum_top_up(contract.minimum_units, unit_price, total_units, observed, week)
    charged = [
        [row[k] + top_up[k] * share[k] for k in range(n)]
        for row, share in zip(charges, shares, strict=True)
    ]
    site_charge = [sum(row[k] for row in charged) for k in range(n)]
    owed = [[0.0] * n for _ in charged]
    site_owed = [0.0] * n
    for penalty, (j, reached, judged) in zip(contract.penalties, levels, strict=True):
        for k, amount in enumerate(credits(penalty, reached, judged, site_charge, observed, week)):
            owed[j][k] += amount
            site_owed[k] += amount
    # The at-risk amount: a week's credits at most credit_cap of its bill.
    cap = _by_week([contract.credit_cap * c for c in site_charge], week)
    due = _by_week(site_owed, week)
    scale = {w: min(1.0, cap[w] / due[w]) if due[w] > 0 else 1.0 for w in due}
    for row in owed:
        for k, w in enumerate(week):
            if w >= 0:
                row[k] *= scale[w]
    return Bill(charged, owed)
