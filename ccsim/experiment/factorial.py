"""A full factorial grid of an experiment and the contrasts of its effects.

An experiment's ``grid:`` runs every combination of its lists' values, so it is a full
factorial; its **factors** are the dotted paths given two values or more (a path with one
value is a constant of every cell). With two factors or more the grid's effects are the
ANOVA effects of the cell means mu (Montgomery, *Design and Analysis of Experiments*, the
two-factor fixed-effects model): the **main effect** of level i of factor A is
alpha_i = mean(mu | A = i) - mu.., and the **interaction** of A = i and B = j is
mean(mu | A = i, B = j) - mean(mu | A = i) - mean(mu | B = j) + mu.., every mean over the
other factors' levels too. Each is a linear contrast sum(w_s mu_s) of the scenarios'
estimates (:func:`effect_contrasts`), taken with its interval by
:func:`~.contrasts.contrast_ci`. For a factor of two levels the classical 2^k effect (high
minus low) is twice the main effect of the high level, and the 2^2 interaction AB is twice
the interaction of the (high, high) cell.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Effect", "Factor", "Factorial", "effect_contrasts", "factorial", "level_text"]


def level_text(value: Any) -> str:
    """A grid value as the tables write it: as written for a number or a word (``3min``),
    compact JSON for a list or a mapping."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class Factor:
    """A dotted path of the grid with two values or more, in the grid's order."""

    path: str
    levels: tuple[str, ...]


@dataclass(frozen=True)
class Factorial:
    """The factors of a full factorial grid and each scenario's level of each (an index
    into the factor's levels)."""

    factors: tuple[Factor, ...]
    cells: dict[str, tuple[int, ...]]


def factorial(
    grid: Mapping[str, Sequence[Any]], points: Mapping[str, Mapping[str, Any]]
) -> Factorial | None:
    """The factorial design of ``grid`` (paths to lists of values) whose points are
    ``points`` (each scenario's name to its values, as
    :func:`~ccsim.model.overrides.expand_grid` gives them); None for fewer than two factors
    or points that do not cover every combination once."""
    factors = tuple(
        Factor(path, tuple(dict.fromkeys(level_text(v) for v in values)))
        for path, values in grid.items()
        if len({level_text(v) for v in values}) > 1
    )
    if len(factors) < 2:
        return None
    cells = {
        name: tuple(f.levels.index(level_text(point[f.path])) for f in factors)
        for name, point in points.items()
    }
    n_cells = 1
    for factor in factors:
        n_cells *= len(factor.levels)
    if len(set(cells.values())) != n_cells or len(cells) != n_cells:
        return None
    return Factorial(factors, cells)


@dataclass(frozen=True)
class Effect:
    """One main effect (``factor_2`` None) or two-factor interaction: its weights on the
    scenarios, and those of the mean it is measured from (the level's or the cell's)."""

    factor: int
    level: int
    factor_2: int | None
    level_2: int | None
    weights: dict[str, float]
    mean_weights: dict[str, float]


def _share(cells: dict[str, tuple[int, ...]], at: dict[int, int]) -> dict[str, float]:
    """Weights of the mean over the cells at the given levels (factor -> level)."""
    chosen = [name for name, levels in cells.items() if all(levels[f] == i for f, i in at.items())]
    return {name: (1 / len(chosen) if name in chosen else 0.0) for name in cells}


def effect_contrasts(design: Factorial) -> Iterator[Effect]:
    """Every main effect, factor by factor and level by level, then every two-factor
    interaction, pair of factors by pair and cell by cell."""
    cells = design.cells
    grand = _share(cells, {})
    for a, factor in enumerate(design.factors):
        for i in range(len(factor.levels)):
            at = _share(cells, {a: i})
            yield Effect(a, i, None, None, {s: at[s] - grand[s] for s in cells}, at)
    for a, b in itertools.combinations(range(len(design.factors)), 2):
        for i, j in itertools.product(
            range(len(design.factors[a].levels)), range(len(design.factors[b].levels))
        ):
            cell, row, column = (_share(cells, at) for at in ({a: i, b: j}, {a: i}, {b: j}))
            weights = {s: cell[s] - row[s] - column[s] + grand[s] for s in cells}
            yield Effect(a, i, b, j, weights, cell)
