"""Journeys' outcomes: the counts of a customer's need met or not, part of the
:class:`~ccsim.sim.counting.Counter` (its base class, apart for the length of a module).

An agent resolves a contact (:meth:`Journeys.resolved`, with the survey's part of
:mod:`ccsim.sim.satisfaction` inline; a first contact without a customer:
:meth:`Journeys.resolved_first`), leaves it unresolved or escalates it
(:meth:`Journeys.not_resolved`), a bot contains it (:meth:`Journeys.contained`), or the
journey is still open at the cut-off (:meth:`Journeys.open_journey`): each counted on
the tally of the customer's first arrival, with the journey's time in its bins.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from math import exp

from ccsim.sim.metrics import JOURNEY_BINS, ChannelTally
from ccsim.sim.satisfaction import POOR_CONTACTS

__all__ = ["JOURNEY_POINTS", "Journeys"]

#: The journey bins' upper points: a journey is binned by the first point it is within.
JOURNEY_POINTS = [point for _, point in JOURNEY_BINS]


class Journeys:
    """The counter's methods for journeys' outcomes (``self`` is the
    :class:`~ccsim.sim.counting.Counter`: its ``contacts`` rows and ``survey``)."""

    def contained(self, contact, now: float, truly: bool) -> None:
        """A bot session ends now as contained (what a dashboard counts as resolved at the
        session's end, from the contact's arrival) and, ``truly``, the customer's need met."""
        tally = contact.tally
        if tally is not None:
            tally.contained += 1
            tally.contained_time += now - contact.arrival
        if self.contacts is not None:
            row = (contact.channel.name, contact.arrival, 0.0, "contained", math.nan)
            self.contacts.append((*row, tally is not None, ""))
        if not truly:
            return
        # The customer's need met: as `resolution` counts it, and the journey's survey
        # (:mod:`ccsim.sim.satisfaction`, at no site), inline.
        customer = contact.customer
        first = customer.tally
        if first is not None:
            time = now - customer.arrival
            first.resolutions += 1
            first.resolution_time += time
            if customer.first:
                first.first_contact_resolutions += 1
            first.bot_resolutions += 1
            bins = customer.entry.counts.journey_bins[customer.slot]
            bins[bisect_left(JOURNEY_POINTS, time)] += 1
            score = self.survey.config.base + customer.logit - customer.entry.toll * customer.wait
            first.satisfied += 1.0 / (1.0 + exp(-score))
            if customer.contacts >= POOR_CONTACTS or customer.misled:
                first.poor_journeys += 1

    def resolved(self, contact, customer, site, now: float, ends: float) -> None:
        """An agent of ``site`` resolved the contact, answered now, its handling over at
        ``ends``: the customer's resolution; agent first-contact resolution if it was its
        first contact with an agent; the ticket, from its arrival here (plain first
        contacts: by :meth:`record`); and the survey's part (the model of
        :mod:`ccsim.sim.satisfaction`, inline: one call for both): the journey's
        probability, its tolls so far, this contact's wait and the queue time of the entry
        channel's attempts lost before a retrial, and the contact's survey (the same)."""
        first = customer.tally
        if not customer.human:
            customer.human = True
            if first is not None:
                first.reached_agent += 1
                first.agent_first_resolutions += 1
        channel = contact.channel
        wait = now - contact.arrival
        score = (
            site.csat + customer.logit - channel.toll * wait
            - customer.entry.toll * customer.wait
        )  # fmt: skip
        probability = 1.0 / (1.0 + exp(-score))
        if first is not None:  # as `resolution` does, inline (every resolution comes here)
            time = ends - customer.arrival
            first.resolutions += 1
            first.resolution_time += time
            if customer.first:
                first.first_contact_resolutions += 1
            bins = customer.entry.counts.journey_bins[customer.slot]
            bins[bisect_left(JOURNEY_POINTS, time)] += 1
            first.satisfied += probability
            if customer.contacts >= POOR_CONTACTS or customer.misled:
                first.poor_journeys += 1
        tally = contact.tally
        if tally is not None:
            tally.ticket_time += ends - contact.arrival
            if wait <= 0.0:  # counted in bulk at its site's constant, as a journey too
                once = self.survey.at_once[site.index]
                tally.satisfied -= once
                probability -= once
            tally.contact_satisfied += probability
            if channel.by_site:
                site.counts.answered[channel.index][contact.slot].contact_satisfied += probability

    def resolved_first(self, contact, ends: float) -> None:
        """An agent resolved a first contact (no customer history) at its first answer, its
        handling over at ``ends``: what :meth:`resolved` adds, without making the customer."""
        tally = contact.tally
        if tally is not None:
            time = ends - contact.arrival
            tally.reached_agent += 1
            tally.agent_first_resolutions += 1
            tally.resolutions += 1
            tally.resolution_time += time
            tally.first_contact_resolutions += 1
            bins = contact.channel.counts.journey_bins[contact.slot]
            bins[bisect_left(JOURNEY_POINTS, time)] += 1
            tally.ticket_time += time

    def not_resolved(self, contact, customer, site, now: float, fresh: bool, escalated: bool):
        """Answered by ``site`` now and not resolved: ``escalated`` or left unresolved;
        agent first-contact resolution is missed if it was the customer's first with an
        agent. The survey's part, inline (:mod:`ccsim.sim.satisfaction`): the wait joins
        the journey's tolls, and the contact's survey is the journey so far less the
        transfer or the ``unresolved`` toll. ``fresh``: a first contact whose customer was
        made at its answer; :meth:`Counter.answered` counted it, as one resolved at its
        answer, among the journeys and surveys (in bulk if it did not wait): taken back."""
        if not customer.human:
            customer.human = True
            first = customer.tally
            if first is not None:
                first.reached_agent += 1
        channel = contact.channel
        wait = now - contact.arrival
        toll = channel.toll
        customer.logit -= toll * wait
        score = site.csat + customer.logit - customer.entry.toll * customer.wait
        survey = self.survey
        probability = 1.0 / (
            1.0 + exp((survey.transfer if escalated else survey.unresolved_toll) - score)
        )
        tally = contact.tally
        if tally is None:
            return
        if wait <= 0.0:
            counted = survey.at_once[site.index]
        elif fresh:
            counted = 1.0 / (1.0 + exp(toll * wait - site.csat))
        else:
            counted = 0.0
        tally.satisfied -= counted
        probability -= counted
        tally.contact_satisfied += probability
        if escalated:
            tally.escalated += 1
        else:
            tally.unresolved += 1
        if channel.by_site:
            here = site.counts.answered[channel.index][contact.slot]
            here.contact_satisfied += probability
            if escalated:
                here.escalated += 1
            else:
                here.unresolved += 1

    def resolution(self, customer, ends: float, bot: bool = False) -> None:
        """The customer's need was met at ``ends`` (by an agent or, with ``bot``, truly by
        the bot): counted on the first arrival's tally, with the journey's time. Plain
        first contacts are counted in bulk by :meth:`record`, the same way."""
        first = customer.tally
        if first is not None:
            time = ends - customer.arrival
            first.resolutions += 1
            first.resolution_time += time
            if customer.first:
                first.first_contact_resolutions += 1
            if bot:
                first.bot_resolutions += 1
            bins = customer.entry.counts.journey_bins[customer.slot]
            bins[bisect_left(JOURNEY_POINTS, time)] += 1

    def censored(self, tally: ChannelTally | None) -> None:
        """A journey still open at the cut-off: neither resolved nor dropped."""
        if tally is not None:
            tally.censored += 1

    def open_journey(self, contact) -> None:
        """The journey behind ``contact``, still in hand at the end, is censored."""
        customer = contact.customer
        if customer is not None:
            self.censored(customer.tally)
        elif contact.channel.counts.new_customers:
            self.censored(contact.tally)
