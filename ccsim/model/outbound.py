"""An outbound channel's call list and dialer: when records may be dialled (calling
windows on the called party's clock), what an attempt meets, redials, and the dialer's
pacing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ccsim.model.distributions import Distribution
from ccsim.model.errors import ConfigError
from ccsim.model.fields import (
    FrozenModel,
    Name,
    Probability,
    TimeOfDay,
    TimeZone,
    check_loop_delay,
    time_of_day,
)
from ccsim.model.units import Duration, PositiveDuration, Rate

__all__ = ["CallingWindow", "DialOutcomes", "Dialing", "Redial", "ThresholdDialer"]


class CallingWindow(FrozenModel):
    """Hours in which a record may be dialled, on the called party's wall clock, inside
    one day (``end`` after ``start``; e.g. the US rule 08:00-21:00)."""

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _inside_the_day(self) -> CallingWindow:
        if time_of_day(self.end) <= time_of_day(self.start):
            raise ValueError(
                f"a calling window must end after it starts, within one day; got "
                f"{self.start}-{self.end}"
            )
        return self


class DialOutcomes(FrozenModel):
    """What an attempt meets, with probabilities that sum to 1: the person sought
    (``right_party``, a live answer put through to an agent), an answering ``machine``
    (detected and dropped), ``busy`` or ``no_answer``."""

    right_party: Probability
    machine: Probability = 0.0
    busy: Probability = 0.0
    no_answer: Probability = 0.0

    @model_validator(mode="after")
    def _sum_to_one(self) -> DialOutcomes:
        total = self.right_party + self.machine + self.busy + self.no_answer
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"right_party + machine + busy + no_answer must sum to 1, got {total:g}"
            )
        return self


class Redial(FrozenModel):
    """A record not reached (no answer, busy, machine, or a live answer dropped for want
    of an agent) is dialled again after ``delay``, up to ``max_attempts`` in all."""

    delay: Distribution
    max_attempts: int = Field(ge=1)

    @field_validator("delay")
    @classmethod
    def _not_at_once(cls, delay):
        return check_loop_delay(delay)


class ThresholdDialer(FrozenModel):
    """ContactCenters' Blend dialer (Deslauriers et al.): at each end of service that
    leaves an agent free, when at least ``free_agents`` agents are idle across ``sites``
    (default every site, inbound-only agents included), dial ``calls_per_free_agent`` x the
    idle agents of the dialing sites at once, whatever is already ringing."""

    free_agents: int = Field(4, ge=1, description="dial only with at least this many idle")
    calls_per_free_agent: float = Field(
        2.0, gt=0, le=10, description="calls dialled per idle agent of the dialing sites"
    )
    sites: list[Name] | None = Field(
        None, min_length=1, description="the sites whose idle agents count (default: all)"
    )


class Dialing(FrozenModel):
    """An outbound channel's call list and dialer.

    The list gets ``records`` new records each day (callable from the day's first calling
    window), or records become callable at ``rate`` around the clock; they are dialled in
    order (redials when due) only inside ``windows``, on the called parties' wall clock
    (``timezone``, default the customers'). An attempt rings for ``ring_time`` before a
    right party or a machine answers, ``no_answer_time`` before giving up, ``busy_time``
    on a busy line.

    ``dialer``: ``preview`` (an agent is reserved, reads the record for ``preview_time``,
    then dials and stays on the line), ``progressive`` (one call per free agent, the agent
    reserved while it rings) or ``predictive`` (calls in progress kept at ``pacing`` x
    free agents, no agent reserved: a right party who finds no agent free waits at most
    the channel's ``patience``, then is an abandoned outbound call) or ``threshold``
    (ContactCenters' Blend dialer, as predictive with no agent reserved, but dialling a
    batch at each end of service while enough agents are idle: ``threshold``). Each site
    dials only while more than its ``reserve`` agents are idle.
    """

    dialer: Literal["preview", "progressive", "predictive", "threshold"] = "progressive"
    records: int | None = Field(None, ge=0, description="new records per day")
    rate: Rate | None = Field(None, gt=0, description="records becoming callable")
    windows: list[CallingWindow] = Field(
        default_factory=lambda: [CallingWindow(start="08:00", end="21:00")], min_length=1
    )
    timezone: TimeZone | None = Field(None, description="the called parties' time zone")
    outcomes: DialOutcomes
    ring_time: Distribution
    no_answer_time: PositiveDuration = 30.0
    busy_time: PositiveDuration = 5.0
    preview_time: Duration = 0.0
    pacing: float = Field(1.0, ge=1, le=10, description="predictive: calls per free agent")
    redial: Redial | None = None
    threshold: ThresholdDialer | None = Field(
        None, description="threshold dialer: when to dial and how many (default 4 and 2)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Dialing:
        if (self.records is None) == (self.rate is None):
            raise ValueError("give either 'records' per day or a 'rate', not both")
        if self.preview_time > 0 and self.dialer != "preview":
            raise ConfigError("", "preview_time", f"only for a preview dialer, not {self.dialer}")
        if self.pacing != 1.0 and self.dialer != "predictive":
            raise ConfigError("", "pacing", f"only for a predictive dialer, not {self.dialer}")
        if self.threshold is not None and self.dialer != "threshold":
            raise ConfigError("", "threshold", f"only for a threshold dialer, not {self.dialer}")
        starts = sorted(time_of_day(w.start) for w in self.windows)
        ends = sorted(time_of_day(w.end) for w in self.windows)
        if any(start < end for start, end in zip(starts[1:], ends[:-1], strict=True)):
            raise ConfigError("", "windows", "calling windows must not overlap")
        return self

    @property
    def threshold_policy(self) -> ThresholdDialer:
        """The threshold dialer's settings, its defaults when left out."""
        return self.threshold if self.threshold is not None else ThresholdDialer()

    @property
    def attempts(self) -> int:
        """The most attempts per record."""
        return self.redial.max_attempts if self.redial is not None else 1
