"""Scenario files: what a contact centre is, validated once at load into frozen models.

A scenario describes an operation (its channels, demand, handle times, patience and sites);
how it is experimented on (replications, seeds) lives elsewhere. Every field is checked
when the file is read, so a typo or a wrong unit stops the run before any simulation with
a one-line :class:`ConfigError` that names the file and the field path, e.g.::

    configs/example.yaml: channels.voice.handle_time.mean: must be positive, got -3min

Models are frozen: a variant of a scenario is a validated copy, never a mutation.
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ccsim.model.calendar import Calendar
from ccsim.model.distributions import Distribution
from ccsim.model.errors import ConfigError
from ccsim.model.limits import MIN_LOOP_DELAY, Limits, check_limits
from ccsim.model.units import Duration, PositiveDuration, Rate, format_duration

__all__ = [
    "Arrivals",
    "Balking",
    "Bot",
    "Break",
    "BreakRule",
    "Busyness",
    "Callback",
    "CallingWindow",
    "Channel",
    "DialOutcomes",
    "Dialing",
    "Message",
    "NightDifferential",
    "OverflowStep",
    "Redial",
    "Repeat",
    "Retrial",
    "Routing",
    "Scenario",
    "ServiceLevel",
    "Shift",
    "SilentAbandonment",
    "Site",
    "Trunk",
]


class _Frozen(BaseModel):
    # No infinities or NaNs in any number: an infinite cv or weight runs, and gives nonsense.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _check_name(name: str) -> str:
    # Names appear in dotted override paths and CSV columns: keep them plain.
    if not _NAME.match(name):
        raise ValueError(
            f"name {name!r} must start with a letter or '_' and contain only letters, digits, "
            "'_' or '-'"
        )
    return name


Name = Annotated[str, AfterValidator(_check_name)]


class ServiceLevel(_Frozen):
    """The service-level objective: ``target`` of contacts answered within ``threshold``."""

    threshold: Duration
    target: float = Field(gt=0, le=1)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Busyness(_Frozen):
    """Day-to-day forecast error: each day's rates are multiplied by B ~ Gamma(alpha, alpha)
    (mean 1, variance 1/alpha), so a day's count is Poisson-gamma with variance
    Lambda + Lambda^2 / alpha rather than Lambda."""

    alpha: float = Field(gt=0)


class Arrivals(_Frozen):
    """Arrival process of a channel (a Poisson process; rates per second inside).

    Either a constant ``rate``, or a ``volume`` of contacts per day (one number, or one per
    weekday) spread over the day by ``profile``, a weight per reporting interval of the
    customers' day (a list, or ``{file: profile.csv}`` with one weight per line); without a
    profile the day is flat. ``busyness`` adds day-level forecast error.
    """

    rate: Rate | None = Field(None, gt=0)
    volume: NonNegativeFloat | dict[str, NonNegativeFloat] | None = None
    profile: list[NonNegativeFloat] | None = None
    busyness: Busyness | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_profile_file(cls, data: Any, info: ValidationInfo) -> Any:
        profile = data.get("profile") if isinstance(data, dict) else None
        if isinstance(profile, dict):
            if set(profile) != {"file"}:
                raise ValueError("profile: give a list of weights or {file: PATH}")
            context = info.context or {}
            base = Path(context.get("base_dir", "."))
            size = context.get("profile_bytes", Limits().profile_bytes)
            data = {**data, "profile": _read_weights(base / str(profile["file"]), size)}
        return data

    @field_validator("volume")
    @classmethod
    def _weekdays(cls, volume):
        if isinstance(volume, dict):
            unknown = sorted(set(volume) - set(WEEKDAYS))
            if unknown:
                raise ValueError(f"unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})")
            missing = [day for day in WEEKDAYS if day not in volume]
            if missing:
                raise ValueError(
                    f"a volume per weekday needs all seven days; {missing[0]} is missing"
                )
        return volume

    @field_validator("profile")
    @classmethod
    def _some_weight(cls, profile):
        if profile is not None and not sum(profile) > 0:
            raise ValueError("the weights must not all be zero")
        if profile is not None and not math.isfinite(sum(profile)):  # shares would be 0
            raise ValueError("the weights add up to more than a float holds: scale them down")
        return profile

    @model_validator(mode="after")
    def _one_kind(self) -> Arrivals:
        if (self.rate is None) == (self.volume is None):
            raise ValueError("give either a constant 'rate' or a daily 'volume', not both")
        if self.rate is not None and (self.profile is not None or self.busyness is not None):
            raise ValueError("'profile' and 'busyness' go with 'volume', not with 'rate'")
        return self

    def daily_volume(self, weekday: int) -> float:
        """Contacts expected on a day with this weekday (0 = Monday)."""
        if isinstance(self.volume, dict):
            return self.volume[WEEKDAYS[weekday]]
        return float(self.volume or 0.0)


def _read_weights(path: Path, max_bytes: int) -> list[float]:
    """Weights from a CSV file: the last column of each line, a header line allowed.

    Only a regular file of at most ``max_bytes`` is read: a device such as /dev/zero or a
    pipe would be read without end."""
    try:
        # Checked before opening too: opening a pipe waits for a writer.
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError("", "profile", f"{str(path)!r} is not a regular file")
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError("", "profile", f"{str(path)!r} is not a regular file")
            data = file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ConfigError(
                "",
                "profile",
                f"{str(path)!r} is larger than limits.profile_bytes = {max_bytes:,} bytes",
            )
        lines = data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise ConfigError("", "profile", f"{str(path)!r} cannot be read") from None
    weights = []
    for number, line in enumerate(lines, start=1):
        cell = line.split(",")[-1].strip()
        if not cell:
            continue
        try:
            weights.append(float(cell))
        except ValueError:
            if number == 1:
                continue  # a header
            raise ConfigError(
                "",
                "profile",
                f"{path.name!r}, line {number}: {cell!r} is no number",
            ) from None
    return weights


Probability = Annotated[float, Field(ge=0, le=1)]


class Retrial(_Frozen):
    """A voice customer who abandons, is blocked or balks calls again, with
    ``probability``, after ``delay``: the same customer, counted as a retrial. A retrial
    draws a new patience, unless ``keep_patience``: then it waits as long as the caller's
    first attempt would have (the patience drawn at the first attempt, after any bot
    multiplier), not what was left of it (an abandoner has none left)."""

    probability: Probability
    delay: Distribution
    keep_patience: bool = False

    @field_validator("delay")
    @classmethod
    def _not_at_once(cls, delay):
        return _loop_delay(delay)


def _loop_delay(delay):
    """A customer who comes back at once would hold the clock at one instant."""
    if delay is not None and delay.expected() < MIN_LOOP_DELAY:
        raise ValueError(
            f"a delay before coming back must average at least {MIN_LOOP_DELAY:g}s, got "
            f"{format_duration(delay.expected())}"
        )
    return delay


class Repeat(_Frozen):
    """A customer whose issue was not resolved (and not escalated) contacts the centre
    again, with ``probability``, after ``delay``: a repeat contact."""

    probability: Probability
    delay: Distribution

    @field_validator("delay")
    @classmethod
    def _not_at_once(cls, delay):
        return _loop_delay(delay)


class Bot(_Frozen):
    """AI deflection in front of the human queue.

    A ``share`` of new contacts try the bot; a session lasts ``handle_time`` and ends
    contained (``containment``: the bot resolved it), falsely contained
    (``false_containment``: counted as contained, but the customer comes back as a repeat
    contact after ``return_delay``), or handed over to the human queue, where handle time
    and patience are multiplied by ``handle_time_multiplier`` and ``patience_multiplier``
    (context lost or passed on). Cost: ``cost_per_session`` plus ``cost_per_minute``.
    With ``concurrency`` the bot holds at most that many sessions; a contact arriving when
    it is full goes straight to the humans.
    """

    share: Probability = 1.0
    handle_time: Distribution
    containment: Probability
    false_containment: Probability = 0.0
    return_delay: Distribution | None = None
    handle_time_multiplier: PositiveFloat = 1.0
    patience_multiplier: PositiveFloat = 1.0
    cost_per_session: NonNegativeFloat = 0.0
    cost_per_minute: NonNegativeFloat = 0.0
    concurrency: int | None = Field(None, ge=1)

    @field_validator("return_delay")
    @classmethod
    def _not_at_once(cls, delay):
        return _loop_delay(delay)

    @model_validator(mode="after")
    def _consistent(self) -> Bot:
        if self.containment + self.false_containment > 1:
            raise ValueError("containment + false_containment must not exceed 1")
        if self.false_containment > 0 and self.return_delay is None:
            raise ValueError("false_containment needs a return_delay (when customers come back)")
        return self


class Callback(_Frozen):
    """Voice customers whose expected wait exceeds ``threshold`` are offered a call back;
    a share ``acceptance`` accept, leave the queue, and are called back when an agent is
    free and no live call waits, within ``deadline`` of their request (else missed)."""

    threshold: Duration
    acceptance: Probability
    deadline: PositiveDuration


def _number_or_list(schema: dict[str, Any]) -> None:
    """JSON Schema (``ccsim schema``) of a probability given as one number or a list."""
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    schema.clear()
    schema["anyOf"] = [probability, {"type": "array", "items": probability, "minItems": 1}]


class Balking(_Frozen):
    """A contact that arrives when no agent is free to take it leaves at once (balks)
    with ``probability``: one number, or a list whose item k applies when k contacts
    already wait (the last item repeated), e.g. ``[0.0, 0.1, 0.3]``."""

    probability: list[float] = Field(json_schema_extra=_number_or_list)

    @field_validator("probability", mode="before")
    @classmethod
    def _probabilities(cls, value: Any) -> list[float]:
        # One check for both forms: a union type would report each form's error.
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ValueError("give a probability, or a list of at least one")
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int | float) or not 0 <= item <= 1:
                raise ValueError(f"expected a probability from 0 to 1 (or a list), got {item!r}")
        return [float(item) for item in items]

    def by_waiting(self) -> tuple[float, ...]:
        """The probability for 0, 1, ... contacts waiting (the last one repeated)."""
        return tuple(self.probability)


class Message(_Frozen):
    """A caller or chat customer still waiting after ``max_wait`` leaves a message and
    the queue (outcome ``messages``). With ``served`` the message is worked later as
    deferred work, like email, in the internal channel ``<channel>:message`` (after every
    live channel, with the caller's handle time, open messages carried over at the
    horizon; its service-level threshold is ``response_target``); without, it is only
    counted."""

    max_wait: PositiveDuration
    served: bool = True
    response_target: PositiveDuration = 86400.0


class SilentAbandonment(_Frozen):
    """A ``share`` of chat customers who give up do not close the chat: an agent finds out
    on picking it up, after ``handle_time``."""

    share: Probability
    handle_time: Distribution


class CallingWindow(_Frozen):
    """Hours in which a record may be dialled, on the called party's wall clock, inside
    one day (``end`` after ``start``; e.g. the US rule 08:00-21:00)."""

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _inside_the_day(self) -> CallingWindow:
        if _time_of_day(self.end) <= _time_of_day(self.start):
            raise ValueError(
                f"a calling window must end after it starts, within one day; got "
                f"{self.start}-{self.end}"
            )
        return self


class DialOutcomes(_Frozen):
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


class Redial(_Frozen):
    """A record not reached (no answer, busy, machine, or a live answer dropped for want
    of an agent) is dialled again after ``delay``, up to ``max_attempts`` in all."""

    delay: Distribution
    max_attempts: int = Field(ge=1)

    @field_validator("delay")
    @classmethod
    def _not_at_once(cls, delay):
        return _loop_delay(delay)


class Dialing(_Frozen):
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
    the channel's ``patience``, then is an abandoned outbound call). Each site dials only
    while more than its ``reserve`` agents are idle.
    """

    dialer: Literal["preview", "progressive", "predictive"] = "progressive"
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

    @model_validator(mode="after")
    def _consistent(self) -> Dialing:
        if (self.records is None) == (self.rate is None):
            raise ValueError("give either 'records' per day or a 'rate', not both")
        if self.preview_time > 0 and self.dialer != "preview":
            raise ConfigError("", "preview_time", f"only for a preview dialer, not {self.dialer}")
        if self.pacing != 1.0 and self.dialer != "predictive":
            raise ConfigError("", "pacing", f"only for a predictive dialer, not {self.dialer}")
        starts = sorted(_time_of_day(w.start) for w in self.windows)
        ends = sorted(_time_of_day(w.end) for w in self.windows)
        if any(start < end for start, end in zip(starts[1:], ends[:-1], strict=True)):
            raise ConfigError("", "windows", "calling windows must not overlap")
        return self

    @property
    def attempts(self) -> int:
        """The most attempts per record."""
        return self.redial.max_attempts if self.redial is not None else 1


class Channel(_Frozen):
    """A stream of contacts with its own demand, handle time, patience and objective.

    ``kind``: ``voice`` (real time; optional ``lines``, ``retrial`` and ``callback``),
    ``chat`` (real time; an agent holds up to ``concurrency`` chats, each one's handle time
    stretched by ``stretch`` per other chat held; optional ``silent_abandonment``) or
    ``email`` (deferred work: no patience, worked when no real-time contact waits at the
    same priority or by dedicated sites; open items carry over; the service level's
    threshold is the response-time target) or ``outbound`` (a call list and a dialer,
    ``dialing``: its contacts are the right parties who answer, its handle time their
    conversation, its patience how long one holds for an agent; after every inbound
    channel unless given a priority; objective by default an agent within 2 s).
    ``patience`` left out means customers never abandon. A channel without ``arrivals``
    is fed by escalations from another channel.

    Tiers: an answered contact is resolved with probability ``resolution`` (sites may
    override it); otherwise it is transferred to the ``escalation`` channel's queue, or,
    with ``repeat``, the customer comes back later.

    The queue (voice and chat): with ``balking`` a contact that finds no agent free may
    leave at once; with ``message`` one still waiting after ``message.max_wait`` leaves a
    message; with ``close`` the contacts still waiting at that time of the customers' day
    are disconnected, every day. Lines shared by several voice channels are the
    scenario's ``trunks``.
    """

    kind: Literal["voice", "chat", "email", "outbound"] = "voice"
    arrivals: Arrivals | None = None
    dialing: Dialing | None = None
    handle_time: Distribution
    patience: Distribution | None = None
    service_level: ServiceLevel
    # None, not 0, when unsaid: email and outbound then come after every live channel. A
    # default that depended on whether the field was written would be lost by every copy of
    # the scenario through its dump (overrides, staffing, the frontier).
    priority: int | None = Field(
        None,
        description=(
            "an agent who comes free serves higher first (unsaid: 0, and email and outbound "
            "after every live channel)"
        ),
    )
    lines: int | None = Field(None, ge=1)
    retrial: Retrial | None = None
    callback: Callback | None = None
    concurrency: int = Field(1, ge=1)
    stretch: NonNegativeFloat = 0.0
    silent_abandonment: SilentAbandonment | None = None
    balking: Balking | None = None
    message: Message | None = None
    close: TimeOfDay | None = Field(
        None, description="each day at this customers' time the queue is disconnected"
    )
    bot: Bot | None = None
    agent_assist: PositiveFloat = Field(1.0, description="human handle-time multiplier")
    resolution: Probability = 1.0
    escalation: Name | None = None
    repeat: Repeat | None = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Channel:
        voice_only = ("lines", "retrial", "callback")
        chat_only = ("silent_abandonment",)
        for name in voice_only:
            if getattr(self, name) is not None and self.kind != "voice":
                raise ConfigError("", name, f"only for voice channels, not {self.kind}")
        for name in chat_only:
            if getattr(self, name) is not None and self.kind != "chat":
                raise ConfigError("", name, f"only for chat channels, not {self.kind}")
        if (self.concurrency > 1 or self.stretch > 0) and self.kind != "chat":
            raise ConfigError("", "concurrency", f"only for chat channels, not {self.kind}")
        if self.kind == "email" and self.patience is not None:
            raise ConfigError("", "patience", "email items do not abandon: leave it out")
        if self.silent_abandonment is not None and self.patience is None:
            raise ConfigError("", "silent_abandonment", "needs a patience (abandonment)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _outbound_objective(cls, data: Any) -> Any:
        # The regulators' objective for a live answer: an agent (or a message) within 2 s.
        if isinstance(data, dict) and data.get("kind") == "outbound":
            data = {"service_level": {"threshold": "2s", "target": 0.97}, **data}
        return data

    @model_validator(mode="after")
    def _outbound_is_dialled(self) -> Channel:
        if self.kind != "outbound":
            if self.dialing is not None:
                raise ConfigError("", "dialing", f"only for outbound channels, not {self.kind}")
            return self
        if self.dialing is None:
            raise ConfigError("", "dialing", "an outbound channel needs its call list and dialer")
        for name in ("arrivals", "bot", "balking", "message", "close", "escalation", "repeat"):
            if getattr(self, name) is not None:
                raise ConfigError("", name, "not for an outbound channel")
        if self.dialing.dialer == "predictive" and self.patience is None:
            raise ConfigError(
                "", "patience", "a predictive dialer needs how long a called party holds "
                "for an agent (a few seconds)"
            )  # fmt: skip
        return self

    @model_validator(mode="after")
    def _queue_features_are_live(self) -> Channel:
        # Email items never leave the queue: no balking, message or disconnection.
        for name in ("balking", "message", "close"):
            if getattr(self, name) is not None and self.kind == "email":
                raise ConfigError("", name, "only for voice and chat channels, not email")
        return self

    @property
    def staged(self) -> bool:
        """Whether contacts need more than the plain voice path: a bot, tiers, returns."""
        return (
            self.bot is not None
            or self.escalation is not None
            or self.repeat is not None
            or self.resolution < 1
        )


def _time_of_day(text: Any) -> int:
    """Minutes after local midnight of a wall-clock time written ``"HH:MM"``."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"expected a time of day as 'HH:MM' (e.g. '21:00'), got {text!r}")
    return int(match[1]) * 60 + int(match[2])


def _check_time_of_day(text: Any) -> str:
    minutes = _time_of_day(text)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


TimeOfDay = Annotated[str, BeforeValidator(lambda v: str(v)), AfterValidator(_check_time_of_day)]


def _check_zone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {timezone!r}, e.g. America/New_York") from None
    return timezone


TimeZone = Annotated[str, AfterValidator(_check_zone)]


class Break(_Frozen):
    """A break in a shift, ``after`` its start. With ``within`` the shift's agents take it
    in turn, their starts spread evenly over that window (so the floor never empties).
    An agent busy when the break is due takes it, in full, once the contact is finished."""

    after: Duration
    length: PositiveDuration
    within: Duration = 0.0
    paid: bool = True


class Shift(_Frozen):
    """A shift template in the site's local time: agents start at ``start`` and stay
    ``length``.

    ``headcount`` is one number for each of ``days`` (local weekdays, default every day), or
    a headcount per local weekday (``{mon: 12, tue: 10}``; a day left out has none), the
    compact form of a week's schedule. A shift without ``breaks`` takes its site's break
    rules (:class:`BreakRule`)."""

    start: TimeOfDay
    length: PositiveDuration
    headcount: NonNegativeInt | dict[str, NonNegativeInt]
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    breaks: list[Break] = Field(default_factory=list)

    @field_validator("length")
    @classmethod
    def _at_most_a_day(cls, length: float) -> float:
        # Longer would put the same agents on the floor twice (and shifts are laid per day).
        if length > 86400:
            raise ValueError(f"must be at most 24h, got {format_duration(length)}")
        return length

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[str]) -> list[str]:
        for day in days:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        return days

    @field_validator("headcount")
    @classmethod
    def _headcount_weekdays(cls, headcount):
        if isinstance(headcount, dict):
            unknown = sorted(set(headcount) - set(WEEKDAYS))
            if unknown:
                raise ValueError(f"unknown weekday {unknown[0]!r} (use {', '.join(WEEKDAYS)})")
        return headcount

    @model_validator(mode="after")
    def _breaks_inside(self) -> Shift:
        # The full week is the default (and what a dumped model writes back): not a conflict.
        if isinstance(self.headcount, dict) and list(self.days) != list(WEEKDAYS):
            raise ConfigError(
                "", "days", "a headcount per weekday says the days already: leave 'days' out"
            )
        _check_breaks_fit(self.breaks, self.length, "breaks")
        return self

    def headcount_on(self, weekday: str) -> int:
        """Agents who start this shift on a local ``weekday`` (``"mon"`` ...)."""
        if isinstance(self.headcount, dict):
            return self.headcount.get(weekday, 0)
        return self.headcount if weekday in self.days else 0

    @property
    def start_minute(self) -> int:
        return _time_of_day(self.start)

    @property
    def paid_hours(self) -> float:
        """Paid hours of one agent's shift: its length less its own unpaid breaks."""
        unpaid = sum(item.length for item in self.breaks if not item.paid)
        return (self.length - unpaid) / 3600


def _check_breaks_fit(breaks: list[Break], length: float, where: str) -> None:
    for number, item in enumerate(breaks):
        if item.after + item.within + item.length > length:
            raise ConfigError(
                "",
                f"{where}.{number}",
                f"ends after the shift: after + within + length exceeds {format_duration(length)}",
            )


class BreakRule(_Frozen):
    """The breaks of a site's shifts that state none: those of the rule with the longest
    ``at_least`` not above the shift's length (a shift shorter than every rule has none).
    Stated once per site, e.g. 8 h and more: two paid 15-minute breaks and an unpaid lunch;
    from 4 h: one paid 15-minute break."""

    at_least: PositiveDuration
    breaks: list[Break] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits(self) -> BreakRule:
        _check_breaks_fit(self.breaks, self.at_least, "breaks")
        return self


class NightDifferential(_Frozen):
    """A pay premium for hours worked inside a local night window (it may cross midnight),
    e.g. the Philippine legal minimum of 10% for 22:00-06:00."""

    start: TimeOfDay = "22:00"
    end: TimeOfDay = "06:00"
    premium: float = Field(gt=0, le=5, description="0.10 = 10% on top of the hourly cost")


class Site(_Frozen):
    """A place where agents work, in its own time zone and at its own cost.

    ``resolution`` gives this site's own probability, per channel, that an answered
    contact is resolved (first-contact resolution differs by site).

    Staffing is either constant (``agents``) or ``shifts`` in the site's local time.
    ``shrinkage`` is the share of scheduled agents who are paid but not there (absence,
    training, meetings; breaks given in the shifts come on top). ``skills`` lists the
    channels the site's agents answer (default: all); ``proficiency`` multiplies a channel's
    handle times here (1.1 = 10% slower). ``cost_per_hour`` is per paid agent hour, fully
    loaded, in the currency of the study."""

    name: Name
    location: Literal["onshore", "nearshore", "offshore"] | None = None
    timezone: TimeZone | None = Field(None, description="default: the customers' time zone")
    agents: int | None = Field(None, ge=0)
    shifts: list[Shift] | None = None
    breaks: list[BreakRule] = Field(default_factory=list)
    shrinkage: float = Field(0.0, ge=0, lt=1)
    cost_per_hour: NonNegativeFloat = 0.0
    night_differential: NightDifferential | None = None
    skills: list[Name] | None = None
    proficiency: dict[Name, PositiveFloat] = Field(default_factory=dict)
    resolution: dict[Name, Probability] = Field(default_factory=dict)
    reserve: int | list[int] = Field(
        0, description="blending: dial only while more agents than this are idle"
    )

    @field_validator("reserve")
    @classmethod
    def _not_negative(cls, reserve):
        if any(k < 0 for k in (reserve if isinstance(reserve, list) else [reserve])):
            raise ValueError("idle agents kept for inbound must be 0 or more")
        return reserve

    def reserve_at(self, slot: int) -> int:
        """Idle agents kept for inbound in the ``slot``-th reporting interval of the day."""
        return self.reserve[slot] if isinstance(self.reserve, list) else self.reserve

    @model_validator(mode="after")
    def _one_staffing(self) -> Site:
        if (self.agents is None) == (self.shifts is None):
            raise ValueError("give either a constant number of 'agents' or 'shifts', not both")
        return self

    @field_validator("breaks")
    @classmethod
    def _distinct_rules(cls, rules: list[BreakRule]) -> list[BreakRule]:
        lengths = [rule.at_least for rule in rules]
        if len(set(lengths)) < len(lengths):
            raise ValueError("two break rules for the same 'at_least': keep one")
        return sorted(rules, key=lambda rule: rule.at_least)

    @property
    def staffed(self) -> bool:
        """Whether any agent is ever scheduled here."""
        if self.shifts is not None:
            return any(shift.headcount_on(day) > 0 for shift in self.shifts for day in WEEKDAYS)
        return bool(self.agents)

    def shift_breaks(self, shift: Shift) -> list[Break]:
        """The breaks ``shift`` takes here: its own, or else the site's rule for its length."""
        if shift.breaks:
            return list(shift.breaks)
        rule = None
        for candidate in self.breaks:  # sorted by at_least
            if candidate.at_least <= shift.length:
                rule = candidate
        return list(rule.breaks) if rule is not None else []

    def serves(self, channel: str) -> bool:
        return self.staffed and (self.skills is None or channel in self.skills)


class Trunk(_Frozen):
    """Lines shared by voice channels: a call of any of ``channels`` needs one of the
    ``lines`` free to enter, holds it while it waits and is served, and is blocked when
    every line is busy."""

    lines: int = Field(ge=1)
    channels: list[Name] = Field(min_length=1)


class OverflowStep(_Frozen):
    """A site that may take a channel's contact once it has waited ``after``."""

    site: Name
    after: Duration = 0.0


class Routing(_Frozen):
    """Which agent takes a contact.

    A channel is served by the sites in ``overflow[channel]`` (in preference order, each
    from its ``after`` wait on), or else by every site with its skill from the first second.
    Among the eligible sites with an idle agent, ``policy`` picks: ``longest_idle`` (the
    agent idle longest), ``preference`` (the first site in the channel's list), ``cheapest``
    (the site with the lowest ``cost_per_hour``; the longest idle among equals),
    ``random`` (a free agent chosen uniformly at random) or ``split`` (each contact of a
    channel in ``shares`` goes to a site drawn with the stated shares, e.g.
    ``{chat: {vendor: 0.4, inhouse: 0.6}}``; other sites take it only from their overflow
    step's wait on). Within a site the agent idle longest goes first, except for
    ``random``.
    """

    policy: Literal["longest_idle", "preference", "cheapest", "random", "split"] = "longest_idle"
    overflow: dict[Name, list[OverflowStep]] = Field(default_factory=dict)
    shares: dict[Name, dict[Name, Probability]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares_for_split(self) -> Routing:
        if self.shares and self.policy != "split":
            raise ConfigError("", "routing.shares", "only with policy 'split'")
        if self.policy == "split" and not self.shares:
            raise ConfigError("", "routing.shares", "policy 'split' needs shares per channel")
        for channel, shares in self.shares.items():
            total = sum(shares.values())
            if not shares or abs(total - 1.0) > 1e-9:
                raise ConfigError(
                    "", f"routing.shares.{channel}", f"shares must sum to 1, got {total:g}"
                )
        return self


class Scenario(_Frozen):
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
        return _check_zone(timezone)

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
    def _tiers_connect(self) -> Scenario:
        fed = {c.escalation for c in self.channels.values() if c.escalation is not None}
        for name, channel in self.channels.items():
            if channel.escalation is not None:
                if channel.escalation not in self.channels:
                    raise ConfigError(
                        "", f"channels.{name}.escalation", f"no channel {channel.escalation!r}"
                    )
                seen, step = {name}, channel.escalation
                while step is not None:
                    if step in seen:
                        raise ConfigError("", f"channels.{name}.escalation", "tiers form a loop")
                    seen.add(step)
                    step = self.channels[step].escalation
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
