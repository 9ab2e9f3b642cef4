"""Selection of the cheapest model, with a stated probability of correct selection.

The models' costs come as a (replications x models) array whose row r holds replication r
of every model: common random numbers make the rows paired, so every comparison is made on
the per-replication differences X_i - X_j, whose variance S_ij^2 the pairing shrinks.

**Multiple comparisons with the best** (Hsu 1984; with paired data and unequal variances,
the Bonferroni form of Nelson & Matejcik 1995): with k models, n replications and
t = t_{1 - alpha/(k-1), n-1}, w_ij = t S_ij / sqrt(n), the interval of
"mu_i minus the best of the others" is

    [min(0, max_{j != i} (Xbar_i - Xbar_j - w_ij)),  max(0, max_{j != i} (Xbar_i - Xbar_j + w_ij))]

and all k intervals hold together with probability at least 1 - alpha (lower cost is
better). A model whose lower end is 0 is, with that confidence, no cheaper than some other:
it cannot be the best. The selected model is the one with the lowest mean.

**The guarantee** is that of Nelson & Matejcik's two-stage procedure (their Procedure B,
after Clark & Yang): from n0 first-stage replications, the total N = max(n0, ceil(max_ij
(t S_ij / delta)^2)) with t on n0 - 1 degrees of freedom; selecting the lowest mean over N
replications picks the best with probability at least 1 - alpha whenever the best is at
least ``delta`` (the indifference zone) cheaper than every other model. An experiment has
one stage: when :func:`replications_needed` is at most the replications it ran, the
procedure has run to completion and the guarantee holds; otherwise the result says how many
replications it needs, and states the MCB intervals only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Selection", "mcb", "replications_needed", "select"]

SELECTION_COLUMNS = [
    "scenario",
    "mean",
    "mcb_low",
    "mcb_high",
    "eligible",
    "selected",
    "can_be_best",
]


def _quantile(confidence: float, k: int, n: int) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n < 2:
        raise ValueError(f"selection needs at least 2 replications, got {n}")
    from scipy import stats

    return float(stats.t.ppf(1 - (1 - confidence) / max(k - 1, 1), n - 1))


def _difference_sd(costs: np.ndarray) -> np.ndarray:
    """S_ij: the standard deviation of the paired differences of models i and j."""
    k = costs.shape[1]
    sd = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            sd[i, j] = sd[j, i] = float(np.std(costs[:, i] - costs[:, j], ddof=1))
    return sd


def mcb(costs: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """Per model (column of ``costs``): ``mean``, ``mcb_low``, ``mcb_high`` (its mean cost
    minus the best of the others) and ``can_be_best``; see the module docstring."""
    costs = np.asarray(costs, dtype=float)
    n, k = costs.shape
    means = costs.mean(axis=0)
    if k == 1:
        return pd.DataFrame(
            {"mean": means, "mcb_low": [0.0], "mcb_high": [0.0], "can_be_best": [True]}
        )
    half = _quantile(confidence, k, n) * _difference_sd(costs) / math.sqrt(n)
    low, high = np.empty(k), np.empty(k)
    for i in range(k):
        others = [j for j in range(k) if j != i]
        gaps = means[i] - means[others]
        # mu_i - min_j mu_j = max_j (mu_i - mu_j): bounded by the largest bounds.
        low[i] = min(0.0, float(np.max(gaps - half[i, others])))
        high[i] = max(0.0, float(np.max(gaps + half[i, others])))
    return pd.DataFrame({"mean": means, "mcb_low": low, "mcb_high": high, "can_be_best": low < 0})


def replications_needed(costs: np.ndarray, delta: float, confidence: float = 0.95) -> int:
    """Nelson & Matejcik's total N from the first ``len(costs)`` replications: enough for
    the lowest mean to be the best with probability ``confidence`` when the best is at
    least ``delta`` cheaper than every other model."""
    if not delta > 0:
        raise ValueError(f"the indifference zone must be positive, got {delta}")
    costs = np.asarray(costs, dtype=float)
    n, k = costs.shape
    if k == 1:
        return n
    t = _quantile(confidence, k, n)
    largest = float(np.max(_difference_sd(costs)))
    return max(n, math.ceil((t * largest / delta) ** 2))


@dataclass(frozen=True)
class Selection:
    """The outcome: the per-model table (:data:`SELECTION_COLUMNS`), the selected model,
    whether the probability-of-correct-selection guarantee holds (enough replications) and
    how many it needs, and the result in one sentence."""

    table: pd.DataFrame
    selected: str
    guaranteed: bool
    replications: int
    needed: int
    delta: float
    confidence: float
    sentence: str


def select(
    costs: np.ndarray,
    names: Sequence[str],
    delta: float,
    confidence: float = 0.95,
    eligible: Sequence[bool] | None = None,
    what: str = "cost",
    first_stage: int | None = None,
) -> Selection:
    """Select the cheapest of the eligible models (columns of ``costs``, named ``names``)
    with MCB intervals among them and the indifference-zone guarantee for ``delta`` (in the
    units of ``costs``). Ineligible models get no interval and are never selected.
    ``first_stage``: how many of the rows were the first stage of the two-stage procedure
    (default: all of them, a single stage)."""
    costs = np.asarray(costs, dtype=float)
    names = list(names)
    eligible = [True] * len(names) if eligible is None else [bool(e) for e in eligible]
    table = pd.DataFrame(
        {
            "scenario": names,
            "mean": costs.mean(axis=0) if len(costs) else math.nan,
            "mcb_low": math.nan,
            "mcb_high": math.nan,
            "eligible": eligible,
            "selected": False,
            "can_be_best": False,
        }
    )
    chosen = [i for i, ok in enumerate(eligible) if ok]
    if not chosen:
        why = "No model is eligible: none meets its targets at its plan."
        return Selection(table, "", False, len(costs), 0, delta, confidence, why)
    own = costs[:, chosen]
    intervals = mcb(own, confidence)
    for column in ("mean", "mcb_low", "mcb_high", "can_be_best"):
        table.loc[chosen, column] = intervals[column].to_numpy()
    best = chosen[int(np.argmin(own.mean(axis=0)))]
    table.loc[best, "selected"] = True
    needed = replications_needed(own[:first_stage], delta, confidence)
    guaranteed = needed <= len(costs)
    name = names[best]
    rivals = [names[i] for i in chosen if i != best and bool(table.loc[i, "can_be_best"])]
    level = f"{confidence:.0%}"
    zone = f"{delta:,.0f}" if delta >= 100 else f"{delta:.3g}"
    if guaranteed:
        sentence = (
            f"{name} has the lowest {what}: with probability at least {level} it is the "
            f"cheapest whenever the cheapest model is at least {zone} below every other"
        )
    else:
        sentence = (
            f"{name} has the lowest mean {what}, but the {level} selection guarantee for a "
            f"difference of {zone} needs {needed} replications, not {len(costs)}"
        )
    if rivals:
        sentence += f"; {', '.join(rivals)} may still be the cheapest (MCB, {level})."
    else:
        sentence += f"; every other model is costlier (MCB, {level})."
    return Selection(table, name, guaranteed, len(costs), needed, delta, confidence, sentence)
