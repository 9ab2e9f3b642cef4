"""Outbound: a call list dialled by a dialer, and agents who blend it with inbound work.

An outbound channel (``kind: outbound``) has a call list: ``records`` new records each day,
callable from the day's first calling window, or records becoming callable at a ``rate``.
Records are dialled inside the calling windows only, redials whose delay is over first
(a redial is an appointment with the list), then new records in the order they became
callable, on the called parties' wall clock. An attempt meets
a right party, an answering machine, a busy line or no answer (stream
``("dial_outcome", channel)``), known after the ring time (``("ring_time", channel)``) or
the busy or no-answer time. A right party is a **live answer**: a contact of the channel
(its ``offered``), served by an agent for the channel's handle time (a right-party
contact, the record reached). A record not reached is dialled again after the redial
delay (``("redial", channel)``) until ``max_attempts``, then it is exhausted; one still to
dial when the run ends is pending. Every record ends as one of the three.

The dialers differ in when they dial and whether an agent waits on the call:

- ``preview`` and ``progressive``: one call per free agent, who is reserved from the dial
  on (reading the record for ``preview_time`` first with ``preview``): the ring time is
  the agent's outbound busy time, and a right party is put through at once, so no live
  answer is ever dropped.
- ``predictive``: calls in progress are kept at ``pacing`` x free agents and no agent is
  reserved; a right party joins the channel's queue (after every inbound channel) and
  hangs up after the channel's patience (a few seconds) if no agent is free by then: a
  dropped call, the regulated outbound abandonment.
- ``threshold`` (ContactCenters' Blend, Deslauriers et al.): no agent reserved, as
  predictive, but the dialer acts only at an end of service that leaves an agent idle (a
  site's ``on_idle`` cue, the sites it counts included: inbound-only ones by default) and
  when a window opens: with at least ``free_agents`` idle across the counted sites it
  dials ``calls_per_free_agent`` x the idle agents of its own sites at once, whatever is
  already ringing. A new record, a redial due or an outcome does not make it dial.

**Blending** (Bhulai & Koole's threshold policy): the agents of a site with both skills
take inbound and outbound work, inbound first (the outbound channel comes after every
inbound one), and a site dials only while more than its ``reserve`` agents are idle (a
number, or one per reporting interval of the day). A site's idle agents are watched
through its ``on_idle`` cue, which the core calls when an agent joins them; dialing also
resumes when a call's outcome is known, a record becomes callable or a window opens.

Outbound draws come from their own streams, and a reserved agent is taken as the longest
idle without a routing draw, so a scenario that never dials (a reserve at least its
agents) gives its inbound contacts exactly what the inbound-only scenario gives them.
"""

from __future__ import annotations

from ccsim.sim.features.calling_windows import calling_windows
from ccsim.sim.features.dialer import Dialer

__all__ = ["Outbound", "calling_windows"]


class Outbound:
    name = "outbound"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.kind == "outbound" for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        calendar = scenario.calendar()
        self.dialers = [
            Dialer(core, channel, scenario.channels[channel.name], calendar, streams)
            for channel in core.channels
            if not channel.internal and scenario.channels[channel.name].kind == "outbound"
        ]
        # Each site's idle cue: the dialers of its agents, and the threshold dialers that
        # count its idle agents (inbound-only sites included).
        by_site: dict[int, list] = {}
        for dialer in self.dialers:
            if dialer.threshold is None:
                for site in dialer.sites:
                    by_site.setdefault(site.index, []).append(dialer.dial)
            else:
                for site in {*dialer.sites, *dialer.counted}:
                    by_site.setdefault(site.index, []).append(dialer.cue)
        for site in core.sites:
            cues = by_site.get(site.index)
            if cues is None:
                continue
            if site.on_idle is not None:  # email's reserve cue: after dialling (outranks it)
                cues = [*cues, site.on_idle]
            site.on_idle = cues[0] if len(cues) == 1 else _each(cues)

    def start(self) -> None:
        for dialer in self.dialers:
            dialer.start()

    def finish(self, end: float) -> None:
        for dialer in self.dialers:
            dialer.finish(end)


def _each(cues):
    def dial(now: float) -> None:
        for cue in cues:
            cue(now)

    return dial
