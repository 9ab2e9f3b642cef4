"""Scenario files: what a contact centre is, validated once at load into frozen models.

A scenario describes an operation (its channels, demand, handle times, patience and sites);
how it is experimented on (replications, seeds) lives elsewhere. Every field is checked
when the file is read, so a typo or a wrong unit stops the run before any simulation with
a one-line :class:`ConfigError` that names the file and the field path, e.g.::

    configs/example.yaml: channels.voice.handle_time.mean: must be positive, got -3min

Models are frozen: a variant of a scenario is a validated copy, never a mutation.

The parts live in their own modules (:mod:`.channel`, :mod:`.arrivals`, :mod:`.features`,
:mod:`.outbound`, :mod:`.site`, :mod:`.routing`, :mod:`.limits`); this one holds the whole
scenario and the checks that need more than one part: every channel served, tiers without
loops, trunks of voice channels, profiles and reserves that fit the day, the run's limits.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ccsim.model.calendar import Calendar
from ccsim.model.channel import Channel, Trunk
from ccsim.model.errors import ConfigError
from ccsim.model.fields import FrozenModel, Name, check_zone
from ccsim.model.limits import Limits, check_limits
from ccsim.model.routing import Routing
from ccsim.model.satisfaction import Satisfaction
from ccsim.model.site import Site
from ccsim.model.transition import FixedCost, Transition
from ccsim.model.units import Duration, PositiveDuration, format_duration

__all__ = ["Scenario"]


class Scenario(FrozenModel):
    """One contact-centre operation: the input of a replication."""

    name: Name
    description: str = ""
    horizon: PositiveDuration = Field(description="arrivals occur in [0, horizon)")
    warmup: Duration = Field(0.0, description="arrivals before this are simulated, not counted")
    follow_journeys: PositiveDuration | None = Field(
        None,
        description=(
            "how long after the horizon the customers of the window are followed (returns,"
            " retrials, transfers, backlog) until resolved; a journey still open then is"
            " censored"
        ),
    )
    interval: PositiveDuration = Field(1800.0, description="reporting interval (default 30min)")
    start: datetime = Field(
        datetime(2026, 1, 5), description="the customers' wall-clock time at simulated time 0"
    )
    timezone: str = Field("UTC", description="the customers' IANA time zone")
    currency: str = Field(
        "USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of every amount (cost_per_hour, bot costs): USD, EUR, ...",
    )
    channels: dict[Name, Channel] = Field(min_length=1)
    sites: list[Site] = Field(min_length=1)
    routing: Routing = Field(default_factory=Routing)
    trunks: dict[Name, Trunk] = Field(
        default_factory=dict, description="lines shared by voice channels, by trunk name"
    )
    limits: Limits = Field(default_factory=Limits, description="what one replication may cost")
    # Customer outcome (issue 27): the satisfaction model's coefficients, calibrated defaults.
    satisfaction: Satisfaction = Field(
        default_factory=Satisfaction, description="the customer-outcome model (CSAT, churn)"
    )
    # Beyond the simulated week (ccsim.model.transition): priced by the study's total cost.
    transition: Transition | None = Field(None, description="one-off costs of moving here")
    fixed_costs: dict[Name, FixedCost] = Field(
        default_factory=dict, description="costs that do not move with the work, by name"
    )

    @model_validator(mode="after")
    def _ramps_of_sites(self) -> Scenario:
        names = {site.name for site in self.sites}
        for site in self.transition.ramp if self.transition is not None else ():
            if site not in names:
                raise ConfigError("", f"transition.ramp.{site}", f"no site {site!r}")
        return self

    @field_validator("warmup")
    @classmethod
    def _warmup_inside_horizon(cls, warmup: float, info: ValidationInfo) -> float:
        horizon = info.data.get("horizon")
        if horizon is not None and warmup >= horizon:
            raise ValueError("must be shorter than the horizon")
        return warmup

    @field_validator("interval")
    @classmethod
    def _part_of_a_day(cls, interval: float) -> float:
        # Intervals are parts of the customers' day: a profile has a weight for each.
        if interval > 86400:
            raise ValueError(f"must be at most 1d, got {format_duration(interval)}")
        return interval

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        return check_zone(timezone)

    @field_validator("start")
    @classmethod
    def _naive_and_aligned(cls, start: datetime, info: ValidationInfo) -> datetime:
        if start.tzinfo is not None:
            raise ValueError("give a wall-clock time without offset; 'timezone' says where")
        interval = info.data.get("interval")
        seconds = start.hour * 3600 + start.minute * 60 + start.second
        if interval is not None and (seconds % interval or start.microsecond):
            raise ValueError("must fall on a reporting-interval boundary of the day")
        return start

    @model_validator(mode="after")
    def _within_limits(self) -> Scenario:
        # Before anything is built for the run: intervals, agents, contacts (limits.py).
        check_limits(self)
        try:  # the calendar's wall clock must stay within the years datetime knows
            zone = ZoneInfo(self.timezone)
            first = datetime.combine(self.start.date(), datetime.min.time())
            for moment in (first, self.start + timedelta(seconds=self.horizon, days=2)):
                moment.replace(tzinfo=zone).astimezone(UTC)
        except (OverflowError, ValueError):
            raise ConfigError(
                "", "horizon", "from start, the calendar must stay within the years 1 to 9999"
            ) from None
        return self

    @model_validator(mode="after")
    def _every_channel_is_served(self) -> Scenario:
        sites = {site.name: site for site in self.sites}
        for index, site in enumerate(self.sites):
            for field in ("skills", "proficiency", "resolution"):
                for channel in getattr(site, field) or ():
                    if channel not in self.channels:
                        raise ConfigError("", f"sites.{index}.{field}", f"no channel {channel!r}")
        for channel, steps in self.routing.overflow.items():
            where = f"routing.overflow.{channel}"
            if channel not in self.channels:
                raise ConfigError("", where, f"no channel {channel!r}")
            for number, step in enumerate(steps):
                if step.site not in sites:
                    raise ConfigError("", f"{where}.{number}.site", f"no site {step.site!r}")
                if not sites[step.site].serves(channel):
                    raise ConfigError(
                        "", f"{where}.{number}.site", f"{step.site!r} has no agent for {channel}"
                    )
        for channel in self.channels:
            if not any(site.serves(channel) for site, _ in self.eligible_sites(channel)):
                raise ConfigError("", f"channels.{channel}", "no site has agents for it")
        return self

    @model_validator(mode="after")
    def _penalties_on_served_channels(self) -> Scenario:
        # A vendor owes no credit for a channel it does not answer (issue #27, contracts).
        for index, site in enumerate(self.sites):
            for number, penalty in enumerate(site.contract.penalties if site.contract else ()):
                known = penalty.channel in self.channels
                if not known or not site.serves(penalty.channel):
                    what = "no agent for" if known else "no channel"
                    raise ConfigError(
                        "",
                        f"sites.{index}.contract.penalties.{number}.channel",
                        f"{site.name!r} has {what} {penalty.channel!r}: a penalty is on a "
                        "channel the site serves",
                    )
        return self

    @model_validator(mode="after")
    def _tiers_connect(self) -> Scenario:
        fed = {c.escalation_to for c in self.channels.values() if c.escalation is not None}
        for name, channel in self.channels.items():
            if channel.escalation is not None:
                field = f"channels.{name}.escalation"
                where = field if isinstance(channel.escalation, str) else f"{field}.to"
                if channel.escalation_to not in self.channels:
                    raise ConfigError("", where, f"no channel {channel.escalation_to!r}")
                seen, step = {name}, channel.escalation_to
                while step is not None:
                    if step in seen:
                        raise ConfigError("", field, "tiers form a loop")
                    seen.add(step)
                    step = self.channels[step].escalation_to
            if channel.arrivals is None and name not in fed and channel.kind != "outbound":
                raise ConfigError(
                    "",
                    f"channels.{name}.arrivals",
                    "required unless another channel escalates here",
                )
        return self

    @model_validator(mode="after")
    def _trunks_carry_voice(self) -> Scenario:
        owner: dict[str, str] = {}
        for name, trunk in self.trunks.items():
            for number, channel in enumerate(trunk.channels):
                where = f"trunks.{name}.channels.{number}"
                if channel not in self.channels:
                    raise ConfigError("", where, f"no channel {channel!r}")
                if self.channels[channel].kind != "voice":
                    raise ConfigError("", where, f"{channel!r} is no voice channel")
                if self.channels[channel].lines is not None:
                    raise ConfigError(
                        "", where, f"{channel!r} has lines of its own: leave them out"
                    )
                if channel in owner:
                    raise ConfigError("", where, f"{channel!r} is already on {owner[channel]!r}")
                owner[channel] = name
        return self

    def eligible_sites(self, channel: str) -> list[tuple[Site, float]]:
        """The sites that may answer ``channel``, with the wait after which they may."""
        sites = {site.name: site for site in self.sites}
        steps = self.routing.overflow.get(channel)
        if steps is not None:
            return [(sites[step.site], step.after) for step in steps]
        return [(site, 0.0) for site in self.sites if site.serves(channel)]

    @model_validator(mode="after")
    def _profiles_fit_the_day(self) -> Scenario:
        per_day = 86400 / self.interval
        for name, channel in self.channels.items():
            if channel.arrivals is None:
                continue
            profile = channel.arrivals.profile
            if profile is not None and len(profile) != per_day:
                raise ConfigError(
                    "",
                    f"channels.{name}.arrivals.profile",
                    f"has {len(profile)} weights; a day has {per_day:g} intervals of "
                    f"{format_duration(self.interval)}",
                )
        return self

    @model_validator(mode="after")
    def _reserve_per_interval(self) -> Scenario:
        per_day = 86400 / self.interval
        for index, site in enumerate(self.sites):
            if isinstance(site.reserve, list) and len(site.reserve) != per_day:
                raise ConfigError(
                    "",
                    f"sites.{index}.reserve",
                    f"has {len(site.reserve)} values; a day has {per_day:g} intervals of "
                    f"{format_duration(self.interval)}",
                )
        return self

    @field_validator("sites")
    @classmethod
    def _staffed_and_unique(cls, sites: list[Site]) -> list[Site]:
        names = [site.name for site in sites]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"site names must be unique, {repeated[0]!r} repeats")
        if not any(site.staffed for site in sites):
            raise ValueError("the sites have no agents: at least one is needed")
        return sites

    @model_validator(mode="after")
    def _costs_for_cheapest(self) -> Scenario:
        if self.routing.policy == "cheapest" and len({s.cost_per_hour for s in self.sites}) < 2:
            raise ConfigError(
                "", "routing.policy", "'cheapest' needs sites with different cost_per_hour"
            )
        return self

    @model_validator(mode="after")
    def _shares_fit_the_sites(self) -> Scenario:
        for channel, shares in self.routing.shares.items():
            where = f"routing.shares.{channel}"
            if channel not in self.channels:
                raise ConfigError("", where, f"no channel {channel!r}")
            eligible = {site.name for site, _ in self.eligible_sites(channel)}
            for name in shares:
                site = next((s for s in self.sites if s.name == name), None)
                if site is None:
                    raise ConfigError("", f"{where}.{name}", f"no site {name!r}")
                if name not in eligible or not site.serves(channel):
                    raise ConfigError("", f"{where}.{name}", f"{name!r} has no agent for {channel}")
        return self

    @model_validator(mode="after")
    def _threshold_dialers_count_sites(self) -> Scenario:
        names = {site.name for site in self.sites}
        for channel, config in self.channels.items():
            dialing = config.dialing
            if dialing is None or dialing.threshold is None or dialing.threshold.sites is None:
                continue
            for number, name in enumerate(dialing.threshold.sites):
                if name not in names:
                    where = f"channels.{channel}.dialing.threshold.sites.{number}"
                    raise ConfigError("", where, f"no site {name!r}")
        return self

    @property
    def total_agents(self) -> int:
        """Agents of the sites with constant staffing."""
        return sum(site.agents or 0 for site in self.sites)

    def calendar(self) -> Calendar:
        """Reporting intervals on the customers' wall clock: one calendar per start, time
        zone, horizon and interval, shared (it is never changed). Walking a month of
        half-hours through the time zone costs about 10 ms, a few percent of a
        replication, paid once rather than by every replication of an experiment."""
        return _calendar(self.start, self.timezone, self.horizon, self.interval)


@functools.lru_cache(maxsize=64)
def _calendar(start: datetime, timezone: str, horizon: float, interval: float) -> Calendar:
    return Calendar(start, timezone, horizon, interval)
