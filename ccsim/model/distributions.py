"""Probability distributions of durations (handle times, patience, bot sessions, ...).

Each distribution is a small frozen model chosen in a scenario by its ``dist`` field and
parametrised the way planners think: by its mean and coefficient of variation (cv = sd/mean)
rather than by the textbook shape and scale. ``sample(rng, size)`` draws a batch from a
caller-owned ``numpy.random.Generator``; there is no global random state.

References for the parametrisations: lognormal handle times (Brown et al. 2005, JASA
100:36-50) with sigma^2 = ln(1 + cv^2) and mu = ln(mean) - sigma^2/2; gamma with shape
1/cv^2; Erlang-k as a gamma with integer shape k.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from ccsim.model.units import Duration, PositiveDuration

__all__ = [
    "DISTRIBUTIONS",
    "DISTRIBUTION_NAMES",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Erlang",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Uniform",
]


#: Largest coefficient of variation accepted. Handle times in the field have cv near 1;
#: at cv 1e6 a lognormal's median is a millionth of its mean (a loop through it would spin
#: almost in place), and at cv 1e200 its parameters overflow.
MAX_CV = 10.0
#: Smallest: a gamma's shape is 1/cv^2, which at cv 1e-300 divides by zero. Below this,
#: the distribution is a constant: say ``deterministic``.
MIN_CV = 1e-6


def _not_constant(cv: float) -> float:
    if cv < MIN_CV:
        raise ValueError(f"must be at least {MIN_CV:g}; for a constant use 'deterministic'")
    return cv


Cv = Annotated[
    float,
    Field(gt=0, le=MAX_CV, description="coefficient of variation, sd/mean"),
    AfterValidator(_not_constant),
]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def expected(self) -> float:
        """Mean of the distribution in seconds."""
        raise NotImplementedError

    def mean_square(self) -> float:
        """E[X^2] in seconds squared: what bounds how often a loop through it may turn."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values in seconds."""
        raise NotImplementedError


class Exponential(_Base):
    dist: Literal["exponential"]
    mean: PositiveDuration

    def expected(self) -> float:
        return self.mean

    def mean_square(self) -> float:
        return 2 * self.mean**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


class Lognormal(_Base):
    dist: Literal["lognormal"]
    mean: PositiveDuration
    cv: Cv

    def expected(self) -> float:
        return self.mean

    def mean_square(self) -> float:
        return self.mean**2 * (1 + self.cv**2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), size)


class Gamma(_Base):
    dist: Literal["gamma"]
    mean: PositiveDuration
    cv: Cv

    def expected(self) -> float:
        return self.mean

    def mean_square(self) -> float:
        return self.mean**2 * (1 + self.cv**2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)


class Erlang(_Base):
    dist: Literal["erlang"]
    mean: PositiveDuration
    k: int = Field(ge=1, le=10_000, description="number of exponential phases")

    def expected(self) -> float:
        return self.mean

    def mean_square(self) -> float:
        return self.mean**2 * (1 + 1 / self.k)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.gamma(self.k, self.mean / self.k, size)


class Uniform(_Base):
    dist: Literal["uniform"]
    low: Duration
    high: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self

    def expected(self) -> float:
        return (self.low + self.high) / 2

    def mean_square(self) -> float:
        return (self.low**2 + self.low * self.high + self.high**2) / 3

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


class Deterministic(_Base):
    dist: Literal["deterministic"]
    value: PositiveDuration

    def expected(self) -> float:
        return self.value

    def mean_square(self) -> float:
        return self.value**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # Consume nothing from rng: a constant needs no randomness, and drawing anyway
        # would only waste time (streams are per purpose, so nothing else shifts).
        return np.full(size, self.value)


class Empirical(_Base):
    """Resampling of observed durations, each value equally likely (a bootstrap)."""

    dist: Literal["empirical"]
    values: list[PositiveDuration] = Field(min_length=1)

    def expected(self) -> float:
        return float(np.mean(self.values))

    def mean_square(self) -> float:
        return float(np.mean(np.square(self.values)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size)


#: Each distribution's model, by the name a file gives as ``dist``.
DISTRIBUTIONS: dict[str, type[_Base]] = {
    "exponential": Exponential,
    "lognormal": Lognormal,
    "gamma": Gamma,
    "erlang": Erlang,
    "uniform": Uniform,
    "deterministic": Deterministic,
    "empirical": Empirical,
}
DISTRIBUTION_NAMES: tuple[str, ...] = tuple(DISTRIBUTIONS)

#: Marks a union branch in pydantic error paths (any tagged union in the models uses it);
#: config error formatting drops such parts, which mean nothing to the user.
TAG_PREFIX = "branch="


def _tag(value: object) -> str | None:
    name = value.get("dist") if isinstance(value, dict) else getattr(value, "dist", None)
    # Only text names a distribution: `dist: [exponential]` is refused, not looked up.
    return f"{TAG_PREFIX}{name}" if isinstance(name, str) and name in DISTRIBUTIONS else None


Distribution = Annotated[
    Annotated[Exponential, Tag(f"{TAG_PREFIX}exponential")]
    | Annotated[Lognormal, Tag(f"{TAG_PREFIX}lognormal")]
    | Annotated[Gamma, Tag(f"{TAG_PREFIX}gamma")]
    | Annotated[Erlang, Tag(f"{TAG_PREFIX}erlang")]
    | Annotated[Uniform, Tag(f"{TAG_PREFIX}uniform")]
    | Annotated[Deterministic, Tag(f"{TAG_PREFIX}deterministic")]
    | Annotated[Empirical, Tag(f"{TAG_PREFIX}empirical")],
    Discriminator(
        _tag,
        custom_error_type="unknown_distribution",
        custom_error_message=("'dist' must name a distribution: " + ", ".join(DISTRIBUTION_NAMES)),
    ),
]
