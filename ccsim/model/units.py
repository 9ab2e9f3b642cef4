"""Units at the edges: durations and rates as people write them, seconds inside.

The engine works in one time unit, the second. Scenario files may say ``20s``, ``4.5min``,
``8h`` or ``1d``; rates must say what they are per (``45/min``, ``2700/h``, ``100/30min``)
because a bare "3" is as likely to mean per minute as per hour, and guessing wrong makes a
model look fine while it is off by a factor of sixty.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

__all__ = [
    "MAX_SECONDS",
    "UNIT_SECONDS",
    "Duration",
    "PositiveDuration",
    "Rate",
    "format_duration",
    "parse_duration",
    "parse_rate",
]

#: Seconds per unit. ``m`` is left out on purpose: next to ``ms`` and ``mo`` it is the
#: classic typo, and ``min`` cannot be misread.
UNIT_SECONDS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}

#: Longest duration accepted: a thousand years. Anything longer is a typo, and bounding
#: every duration keeps the arithmetic on them (squares, dates) finite.
MAX_SECONDS = 1000 * 365.25 * 86400

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION = re.compile(rf"^\s*(?P<value>{_NUMBER})\s*(?P<unit>[A-Za-z]*)\s*$")
_RATE = re.compile(rf"^\s*(?P<count>{_NUMBER})\s*/\s*(?P<per>.+?)\s*$")


def _units_hint() -> str:
    return ", ".join(UNIT_SECONDS)


def parse_duration(value: object) -> float:
    """Return a duration in seconds.

    Accepts a number (seconds) or a string with a unit: ``"20s"``, ``"4.5min"``, ``"8h"``,
    ``"1d"``; a string without a unit is read as seconds. Sign and range are checked by
    the caller, which knows whether zero makes sense (a warm-up may be 0, a horizon not).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '20s' or '3min', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) if abs(value) <= MAX_SECONDS else math.inf  # no int overflow
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"expected a duration such as '20s' or '3min', got {value!r}")
        unit = match["unit"] or "s"
        if unit not in UNIT_SECONDS:
            raise ValueError(f"unknown time unit {unit!r} in {value!r} (use {_units_hint()})")
        seconds = float(match["value"]) * UNIT_SECONDS[unit]
    else:
        raise ValueError(f"expected a duration such as '20s' or '3min', got {value!r}")
    if math.isnan(seconds):
        raise ValueError("a duration cannot be NaN")
    if abs(seconds) > MAX_SECONDS:
        raise ValueError(f"must be finite and at most 1000 years, got {value!r}")
    return seconds


def parse_rate(value: object) -> float:
    """Return a rate in events per second from ``"COUNT/PERIOD"``, e.g. ``"100/30min"``.

    A bare number is refused: the unit of a rate is the commonest silent error in staffing
    models, so it must be written down.
    """
    if isinstance(value, bool | int | float):
        raise ValueError(f"a rate needs a unit, e.g. '{value}/min' or '{value}/h'")
    if not isinstance(value, str):
        raise ValueError(f"expected a rate such as '45/min', got {value!r}")
    match = _RATE.match(value)
    if match is None:
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


#: Field types for the scenario models: parsed from text, stored as float seconds.
Duration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_non_negative)]
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_positive)]
# Dumped as "X/s" so that a dumped scenario validates again (a bare number is refused).
Rate = Annotated[
    float, BeforeValidator(parse_rate), PlainSerializer(lambda rate: f"{rate!r}/s", return_type=str)
]
