"""Field types the scenario models share: the frozen base, names, probabilities, times of
day, time zones, and the rule that a customer never comes back at once.

Every model of a scenario file forbids unknown keys, is frozen once validated and refuses
infinities and NaNs; the annotated types here carry their own checks, so a field declared
``Name`` or ``TimeOfDay`` is checked the same way wherever it appears.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from ccsim.model.units import format_duration

__all__ = [
    "MIN_LOOP_DELAY",
    "FrozenModel",
    "Name",
    "Probability",
    "TimeOfDay",
    "TimeZone",
    "check_loop_delay",
    "check_zone",
    "time_of_day",
]


class FrozenModel(BaseModel):
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


Probability = Annotated[float, Field(ge=0, le=1)]


#: Smallest mean delay of a loop (retrial, repeat, bot return, redial), in seconds. A
#: customer who comes back after no time at all would keep the clock at one instant forever.
MIN_LOOP_DELAY = 1.0


def check_loop_delay(delay):
    """A customer who comes back at once would hold the clock at one instant."""
    if delay is not None and delay.expected() < MIN_LOOP_DELAY:
        raise ValueError(
            f"a delay before coming back must average at least {MIN_LOOP_DELAY:g}s, got "
            f"{format_duration(delay.expected())}"
        )
    return delay


def time_of_day(text: Any) -> int:
    """Minutes after local midnight of a wall-clock time written ``"HH:MM"``."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"expected a time of day as 'HH:MM' (e.g. '21:00'), got {text!r}")
    return int(match[1]) * 60 + int(match[2])


def _check_time_of_day(text: Any) -> str:
    minutes = time_of_day(text)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


TimeOfDay = Annotated[str, BeforeValidator(lambda v: str(v)), AfterValidator(_check_time_of_day)]


def check_zone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {timezone!r}, e.g. America/New_York") from None
    return timezone


TimeZone = Annotated[str, AfterValidator(check_zone)]
