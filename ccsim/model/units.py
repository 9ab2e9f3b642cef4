"""Units at the edges: durations and rates as people write them, seconds inside.

The engine works in one time unit, the second. Files, experiment overrides and the command
line must say the unit of every duration (``20s``, ``4.5min``, ``8 hours``, ``1d``, or
compound: ``2h30min``, ``1h 30min``, ``1d 2h``) and what
every rate is per (``45/min``, ``2700/h``, ``600 per hour``, ``100/30min``): a bare ``4.5``
is as likely minutes as seconds, and guessing wrong makes a model look fine while it is off
by a factor of sixty. Only mappings built in Python may give durations as numbers of seconds
(:data:`UNITS_REQUIRED` unset), the unit of every attribute of a scenario.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BeforeValidator,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)

__all__ = [
    "DURATION_PATTERN",
    "MAX_SECONDS",
    "NEVER",
    "RATE_PATTERN",
    "UNITS_REQUIRED",
    "UNIT_SECONDS",
    "Duration",
    "DurationOrNever",
    "PositiveDuration",
    "Rate",
    "dump_duration",
    "dump_wait",
    "format_duration",
    "parse_duration",
    "parse_rate",
]

#: Seconds per unit, in the spellings people write. ``m`` is left out on purpose: next to
#: ``ms`` and ``mo`` it is the classic typo, and ``min`` cannot be misread.
UNIT_SECONDS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}

#: Longest duration accepted: a thousand years. Anything longer is a typo, and bounding
#: every duration keeps the arithmetic on them (squares, dates) finite.
MAX_SECONDS = 1000 * 365.25 * 86400

#: The forms a duration and a rate take in a file (also the JSON Schema's patterns). A
#: duration may be compound, its parts added up: ``2h30min``, ``1h 30min``, ``1d 2h``.
DURATION_PATTERN = (
    r"^\s*[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*"
    r"(s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|d|days?)\s*)+$"
)
RATE_PATTERN = (
    r"^\s*(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*(/|per\s)\s*"
    r"((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*)?"
    r"(s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$"
)

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION = re.compile(rf"^\s*(?P<value>{_NUMBER})\s*(?P<unit>[A-Za-z]*)\s*$")
# One part of a compound duration: a number and its unit (the number written one way only,
# so that a long string of digits is refused in linear time).
_PART = re.compile(r"\s*(?P<value>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[A-Za-z]+)")
_RATE = re.compile(rf"^\s*(?P<count>{_NUMBER})\s*(?:/|\bper\s)\s*(?P<per>.+?)\s*$")


def _units_hint() -> str:
    return "s, min, h or d"


def _missing_unit(number: float) -> str:
    """The one-line fix for a duration written without its unit: ``270`` -> ``270s`` or
    ``4.5min``; ``4.5`` -> ``4.5s`` or ``4.5min`` (which of the two was meant)."""
    other = format_duration(number) if abs(number) >= 60 else f"{number:g}min"
    return (
        f"{number:g} has no unit: write '{number:g}s' or '{other}' "
        "(a bare number is as likely minutes as seconds)"
    )


def parse_duration(value: object, *, numbers_are_seconds: bool = False) -> float:
    """Return a duration in seconds.

    Accepts a string with a unit: ``"20s"``, ``"4.5min"``, ``"8 hours"``, ``"1d"``, or
    compound, its parts added up: ``"2h30min"``, ``"1h 30min"``, ``"1d 2h"``. A
    number without a unit is refused (``handle_time: 4.5`` is as likely minutes as
    seconds) unless ``numbers_are_seconds``, for values built in Python, where seconds are
    the unit of every attribute. Sign and range are checked by the caller, which knows
    whether zero makes sense (a warm-up may be 0, a horizon not).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '20s' or '3min', got {value!r}")
    if isinstance(value, int | float):
        if not numbers_are_seconds and value != 0:  # zero is zero in any unit
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"must be finite and at most 1000 years, got {value!r}")
            if abs(value) > MAX_SECONDS:
                raise ValueError(f"must be finite and at most 1000 years, got {value!r}")
            raise ValueError(_missing_unit(float(value)))
        seconds = float(value) if abs(value) <= MAX_SECONDS else math.inf  # no int overflow
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            seconds = _compound(value)
            if seconds is None:
                raise ValueError(f"expected a duration such as '20s' or '3min', got {value!r}")
            if abs(seconds) > MAX_SECONDS:
                raise ValueError(f"must be finite and at most 1000 years, got {value!r}")
            return seconds
        unit = match["unit"]
        if not unit:
            number = float(match["value"])
            if not numbers_are_seconds and number != 0 and abs(number) <= MAX_SECONDS:
                raise ValueError(_missing_unit(number))
            unit = "s"
        if unit.lower() not in UNIT_SECONDS:
            raise ValueError(f"unknown time unit {unit!r} in {value!r} (use {_units_hint()})")
        seconds = float(match["value"]) * UNIT_SECONDS[unit.lower()]
    else:
        raise ValueError(f"expected a duration such as '20s' or '3min', got {value!r}")
    if math.isnan(seconds):
        raise ValueError("a duration cannot be NaN")
    if abs(seconds) > MAX_SECONDS:
        raise ValueError(f"must be finite and at most 1000 years, got {value!r}")
    return seconds


def _compound(text: str) -> float | None:
    """Seconds in a compound duration (``2h30min``, ``1h 30min``: the parts added up, the
    sign in front applying to the whole), or None when ``text`` is not one."""
    body = text.strip()
    sign = -1.0 if body[:1] == "-" else 1.0
    position = 1 if body[:1] in ("+", "-") else 0
    parts = []
    while position < len(body):
        part = _PART.match(body, position)
        if part is None:
            return None
        parts.append(part)
        position = part.end()
    if len(parts) < 2:
        return None
    seconds = 0.0
    for part in parts:
        unit = part["unit"].lower()
        if unit not in UNIT_SECONDS:
            raise ValueError(
                f"unknown time unit {part['unit']!r} in {text!r} (use {_units_hint()})"
            )
        seconds += float(part["value"]) * UNIT_SECONDS[unit]
    return sign * seconds


def parse_rate(value: object) -> float:
    """Return a rate in events per second from ``"COUNT/PERIOD"``: ``"100/30min"``,
    ``"600/hour"``, ``"10 per min"``.

    A bare number is refused: the unit of a rate is the commonest silent error in staffing
    models, so it must be written down.
    """
    if isinstance(value, bool | int | float):
        raise ValueError(f"a rate needs a unit: write '{value}/min' or '{value}/h'")
    if not isinstance(value, str):
        raise ValueError(f"expected a rate such as '45/min', got {value!r}")
    match = _RATE.match(value)
    if match is None:
        if _DURATION.match(value) and not _DURATION.match(value)["unit"]:
            raise ValueError(
                f"a rate needs a unit: write '{value.strip()}/h' or '{value.strip()}/min'"
            )
        raise ValueError(f"expected a rate such as '45/min' or '2700/h', got {value!r}")
    per = match["per"]
    # "45/min" means per one minute: give the period an implicit count of 1.
    try:
        period = parse_duration(per if per[0].isdigit() or per[0] == "." else f"1{per}")
    except ValueError:
        raise ValueError(
            f"unknown period {per!r} in rate {value!r} (e.g. '45/min', '2700/h', '100/30min')"
        ) from None
    if period <= 0:
        raise ValueError(f"the period of a rate must be positive, got {value!r}")
    count = float(match["count"])
    if count < 0 or math.isnan(count):
        raise ValueError(f"a rate cannot be negative, got {value!r}")
    if not math.isfinite(count / period):
        raise ValueError(f"a rate must be finite, got {value!r}")
    return count / period


def format_duration(seconds: float) -> str:
    """Render seconds in the largest unit that keeps the number readable (``90 -> '1.5min'``)."""
    if math.isinf(seconds):
        return "inf"
    for unit in ("d", "h", "min"):
        size = UNIT_SECONDS[unit]
        if abs(seconds) >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _non_negative(seconds: float) -> float:
    if seconds < 0:
        raise ValueError(f"must not be negative, got {format_duration(seconds)}")
    return seconds


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"must be positive, got {format_duration(seconds)}")
    return seconds


#: Validation context key: a duration must say its unit. Set for what is read from files
#: and experiment overrides (:func:`ccsim.model.load_scenario`); a model built in Python
#: without it takes numbers as seconds, the unit of every attribute.
UNITS_REQUIRED = "units_required"


def _duration_field(value: object, info: ValidationInfo) -> float:
    context = info.context or {}
    return parse_duration(value, numbers_are_seconds=not context.get(UNITS_REQUIRED, False))


def dump_duration(seconds: float) -> str:
    """A duration as text that reads back to exactly ``seconds`` (``270.0`` -> ``4.5min``)."""
    text = format_duration(seconds)
    return text if parse_duration(text) == seconds else f"{seconds!r}s"


_DUMP_DURATION = PlainSerializer(dump_duration, return_type=str)
# For editors (`ccsim schema`): text with a unit, or a bare 0 (zero in any unit).
_DURATION_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string", "pattern": DURATION_PATTERN},
            {"type": "number", "const": 0},
        ],
        "description": "a duration with its unit: 20s, 4.5min, 8h, 1d, 2h30min",
        "examples": ["20s", "4.5min", "8h"],
    },
    mode="validation",
)
_RATE_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "pattern": RATE_PATTERN,
        "description": "a rate with its period: 600/h, 10/min, 100/30min",
        "examples": ["600/h", "10/min"],
    },
    mode="validation",
)

#: The word for a wait that is never reached (``after: never``), and its value in seconds.
NEVER = "never"


def _never_or_duration(value: object, info: ValidationInfo) -> float:
    # Only the word means never: a number .inf in a file is refused like any non-finite one.
    if isinstance(value, str) and value.strip().lower() == NEVER:
        return math.inf
    try:
        return _duration_field(value, info)
    except ValueError as error:
        if str(error).startswith("expected a duration"):
            message = f"expected a duration such as '30s', or never, got {value!r}"
            raise ValueError(message) from None
        raise


def dump_wait(seconds: float) -> str:
    """A wait as text that reads back: ``never`` for an infinite one, else a duration."""
    return NEVER if seconds == math.inf else dump_duration(seconds)


#: Field types for the scenario models: parsed from text, stored as float seconds, dumped
#: as text with a unit so that a dumped scenario validates again.
Duration = Annotated[
    float,
    BeforeValidator(_duration_field),
    AfterValidator(_non_negative),
    _DUMP_DURATION,
    _DURATION_SCHEMA,
]
PositiveDuration = Annotated[
    float,
    BeforeValidator(_duration_field),
    AfterValidator(_positive),
    _DUMP_DURATION,
    _DURATION_SCHEMA,
]
#: A wait that may be ``never`` (stored as ``math.inf``): an overflow step's ``after``.
DurationOrNever = Annotated[
    float,
    AllowInfNan(True),  # never is math.inf: the models' finite-number check would refuse it
    BeforeValidator(_never_or_duration),
    AfterValidator(_non_negative),
    PlainSerializer(dump_wait, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "const": 0},
                {"type": "string", "const": NEVER},
            ],
            "description": "a duration with its unit (20s, 4.5min, 2h30min), or never",
            "examples": ["30s", "2min", "never"],
        },
        mode="validation",
    ),
]
# Dumped as "X/s" so that a dumped scenario validates again (a bare number is refused).
Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    PlainSerializer(lambda rate: f"{rate!r}/s", return_type=str),
    _RATE_SCHEMA,
]
