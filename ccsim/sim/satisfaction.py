"""Customer outcome: the probability that a customer is satisfied, summed into tallies.

The model (its inputs: :class:`ccsim.model.satisfaction.Satisfaction`) is logistic: a
customer is satisfied with probability ``sigmoid(score)``, where the score is the
scenario's ``base`` plus the log of the handling site's ``quality`` less a toll for each
minute queued at a live channel (each hour at a deferred one: email, messages) over the
journey, each retrial, repeat contact and transfer, a false
containment and, for a journey never resolved, ``unresolved``. Nothing is drawn: each
journey adds its probability to the tally of its first arrival (``satisfied``), each
contact an agent handled the probability of its post-contact survey (``contact_satisfied``),
so CSAT is a ratio of totals whose interval the delta method gives, and every random draw
of a run stays as it was.

Where the numbers are added, to keep the engine's common path cheap (the model is this
module's; its per-contact sums are inlined where the contact's outcome is counted, in the
same call, as each call costs more than the sum):

* a customer (:class:`~ccsim.sim.state.Customer`) carries its score's tolls so far
  (``logit``), its contacts and whether the bot misled it; ``Core.bring`` (a retrial,
  repeat, transfer, call back: :attr:`Survey.tolls`), :meth:`Survey.misled` and
  ``Journeys.not_resolved`` (:mod:`ccsim.sim.journeys`, from the tiers feature) add to
  them, and ``Journeys.resolved`` (an agent) and ``Journeys.contained`` (the bot, truly:
  at no site) read them when the journey is resolved;
* a first contact that waited is scored, as one resolved at its answer, by the counter
  (``Counter.answered``, inline), one answered at once by :meth:`Survey.complete` from the
  counts per site: it is the site's constant ``sigmoid(base + log(quality))``; the
  survey of a first contact not resolved takes that back (``Journeys.not_resolved``);
* journeys never resolved (given up, or still open at the cut-off) score
  ``sigmoid(base - unresolved)`` each, counted from the totals (customers less
  resolutions) by :meth:`Survey.complete`, as are the poor journeys among them and the
  churn.

A contact's survey reads the customer's journey so far: the survey of the contact that
resolves a journey is the journey's probability; an escalated contact's carries the
transfer's toll, an unresolved one's the ``unresolved`` toll.
"""

from __future__ import annotations

import math

__all__ = ["POOR_CONTACTS", "SATISFACTION_TALLIES", "Survey", "journey_probability", "sigmoid"]

#: The tallies this model adds to (:class:`ccsim.sim.metrics.ChannelTally`): probabilities
#: summed, with no random draw behind them.
SATISFACTION_TALLIES: tuple[str, ...] = (
    "satisfied", "contact_satisfied", "poor_journeys", "customers_lost", "revenue_at_risk",
)  # fmt: skip

#: A resolved journey of this many contacts or more (the first, retrials, repeats,
#: transfers, call backs) is a poor journey.
POOR_CONTACTS = 3


def sigmoid(score: float) -> float:
    """The probability of a satisfied customer from the log-odds ``score``."""
    return 1.0 / (1.0 + math.exp(-score))


def journey_probability(
    config,
    quality: float = 1.0,
    wait: float = 0.0,
    deferred_wait: float = 0.0,
    retrials: int = 0,
    repeats: int = 0,
    transfers: int = 0,
    misled: bool = False,
    resolved: bool = True,
) -> float:
    """The model's closed form: the probability that a journey with ``wait`` seconds of
    queue time at live channels and ``deferred_wait`` at deferred ones over its contacts,
    these returns and transfers, resolved (or not) by a site of ``quality``, satisfies
    its customer (``config``: a ``Satisfaction``)."""
    if not resolved:
        return sigmoid(config.base - config.unresolved)
    score = (
        config.base
        + math.log(quality)
        - config.wait_per_minute * wait / 60.0
        - config.deferred_wait_per_hour * deferred_wait / 3600.0
        - config.retrial * retrials
        - config.repeat_contact * repeats
        - config.transfer * transfers
        - (config.false_containment if misled else 0.0)
    )
    return sigmoid(score)


class Survey:
    """One replication's satisfaction model at work: the sites' scores and the tolls."""

    def __init__(self, config, sites, channels) -> None:
        self.config = config
        # Per second queued: a live channel's by the minute, deferred work's by the hour. A
        # feature's internal channel (call backs, messages) is worked after the live ones,
        # its customer not on hold: by the hour too.
        for channel in channels:
            deferred = channel.counts.deferred or channel.internal
            channel.toll = (
                config.deferred_wait_per_hour / 3600.0
                if deferred
                else config.wait_per_minute / 60.0
            )
        # A site's score for a journey resolved at once by it, and that journey's probability.
        self.scores = [config.base + math.log(site.config.quality) for site in sites]
        self.at_once = [sigmoid(score) for score in self.scores]
        for site, score in zip(sites, self.scores, strict=True):
            site.csat = score
        # What a contact brought for a customer takes off its score, by its kind (one more
        # contact and the toll are added by Core.bring, on the path of every return).
        self.tolls = {
            "retrials": config.retrial,
            "repeat_contacts": config.repeat_contact,
            "transfers_in": config.transfer,
            "": 0.0,
        }
        self.unresolved = sigmoid(config.base - config.unresolved)
        self.transfer, self.unresolved_toll = config.transfer, config.unresolved

    def misled(self, customer) -> None:
        """The bot closed the request without meeting the need."""
        customer.misled = True
        customer.logit -= self.config.false_containment

    def complete(self, channels, sites) -> None:
        """What is counted from the totals once the run is over: the contacts answered at
        once (each site's constant), the journeys never resolved, and the churn."""
        churn = self.config.churn
        for index, counts in enumerate(channels):
            cells = [(site.answered[index], self.at_once[k]) for k, site in enumerate(sites)]
            own = counts.sole_site is not None
            intervals = counts.intervals  # a sparse row (sim.intervals): the others add zeros
            made = intervals.present() if hasattr(intervals, "present") else enumerate(intervals)
            for slot, tally in made:
                bulk = 0.0
                for answered, once in cells:
                    if answered is None:  # the one site: its part is the channel, if it serves it
                        waited = tally.waited - tally.abandoned  # as counts.complete's copy
                        at_once = ((tally.answered - waited) if own else 0) * once
                    else:
                        cell = answered[slot]
                        at_once = (cell.answered - cell.waited) * once
                        cell.contact_satisfied += at_once
                    bulk += at_once
                tally.contact_satisfied += bulk
                tally.satisfied += bulk
                never = tally.customers - tally.resolutions
                tally.satisfied += never * self.unresolved
                tally.poor_journeys += never
                if churn is not None:
                    lost = (
                        churn.dissatisfied * tally.customers
                        - (churn.dissatisfied - churn.satisfied) * tally.satisfied
                    )
                    tally.customers_lost = lost
                    tally.revenue_at_risk = lost * churn.revenue_per_customer
