"""Random streams: one independent generator per purpose and entity, keyed by name.

Common random numbers only reduce the variance of a comparison if the same draw serves the
same purpose in both scenarios (ContactCenters' rule: one stream per type of random
variate). So every stream is identified by a stable key such as ``("handle_time",
"voice")``, hashed into the replication's ``SeedSequence`` spawn key; it does not depend on
the order in which streams are created, and adding a stream for a new purpose leaves every
existing stream unchanged. Draws are taken from numpy in batches, since a scalar numpy call
costs about a microsecond, as much as the rest of a contact's bookkeeping.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import partial
from itertools import chain

import numpy as np

__all__ = ["batched_draws", "Streams", "as_seed_sequence"]


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Accept an integer seed or an existing ``SeedSequence`` (e.g. one of ``spawn(n)``)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def _stable_id(name: str) -> int:
    # crc32 rather than hash(): Python salts str hashes per process.
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Factory of named generators for one replication."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.seed = as_seed_sequence(seed)

    def generator(self, purpose: str, entity: str = "") -> np.random.Generator:
        """The generator for ``purpose`` (arrivals, handle_time, patience, ...) of ``entity``."""
        key = (*self.seed.spawn_key, _stable_id(purpose), _stable_id(entity))
        child = np.random.SeedSequence(self.seed.entropy, spawn_key=key)
        return np.random.Generator(np.random.PCG64(child))

    def draws(
        self, purpose: str, entity: str, distribution, scale: float = 1.0
    ) -> Callable[[], float]:
        """Values of ``distribution`` (times ``scale``) from the stream of ``(purpose, entity)``."""
        sample = distribution.sample
        if scale != 1.0:
            return batched_draws(
                lambda rng, size: sample(rng, size) * scale, self.generator(purpose, entity)
            )
        return batched_draws(sample, self.generator(purpose, entity))

    def uniforms(self, purpose: str, entity: str) -> Callable[[], float]:
        """Uniform values in [0, 1) from the stream of ``(purpose, entity)``."""
        return batched_draws(_uniform, self.generator(purpose, entity))


def _uniform(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.random(size)


def batched_draws(
    sample: Callable[[np.random.Generator, int], np.ndarray],
    rng: np.random.Generator,
    size: int = 2048,
) -> Callable[[], float]:
    """One value at a time from batches drawn by ``sample(rng, size)``.

    The sequence of values is what ``sample`` yields batch after batch, so it is the same
    whichever order the engine asks for other streams. The function returned is
    ``next`` on a chain of batches: a call costs no Python frame, only a new batch does.
    """

    def batches():
        while True:
            yield sample(rng, size).tolist()

    return partial(next, chain.from_iterable(batches()))
