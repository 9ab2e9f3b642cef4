"""A channel's demand: a constant rate, or a daily volume spread over the day by a profile,
with day-to-day forecast error.

A profile may be written in the scenario or read from a CSV file next to it; only a
regular file of bounded size is read (``limits.profile_bytes``).
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

from pydantic import Field, NonNegativeFloat, ValidationInfo, field_validator, model_validator

from ccsim.model.calendar import WEEKDAYS
from ccsim.model.errors import ConfigError
from ccsim.model.fields import FrozenModel
from ccsim.model.units import Rate

__all__ = ["PROFILE_BYTES", "Arrivals", "Busyness"]

#: Largest profile file read unless a scenario's ``limits.profile_bytes`` raises it.
PROFILE_BYTES = 16 * 2**20


class Busyness(FrozenModel):
    """Day-to-day forecast error: each day's rates are multiplied by B ~ Gamma(alpha, alpha)
    (mean 1, variance 1/alpha), so a day's count is Poisson-gamma with variance
    Lambda + Lambda^2 / alpha rather than Lambda."""

    alpha: float = Field(gt=0)


class Arrivals(FrozenModel):
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
            size = context.get("profile_bytes", PROFILE_BYTES)
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
