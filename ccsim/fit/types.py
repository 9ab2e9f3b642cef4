"""Request types from a log's type column (``request_type``, ``type`` or ``reason``): each
type's share of the channel's contacts and its handle time relative to the mix's
(:mod:`ccsim.model.request_types`).

The share of type t is its count over the channel's contacts (every outcome: a type is what
a new contact is about, answered or not); its 95% interval is Wilson's. Its mean handle time
m_t is the mean of its answered contacts' positive handle times, and its multiplier is
m_t / M with M = sum_s share_s m_s, the mix's mean over new contacts: so the share-weighted
mean of the multipliers is 1 exactly, as a scenario requires, and the channel's handle time
is M. A type with no handle time takes the mix's (multiplier 1, M taken over the others).
The multiplier's 95% interval is the delta method's over the shares (multinomial) and the
type means (each its sample variance over n), with M's own uncertainty in it.

The channel's handle-time family is then fitted to each handle time divided by its type's
multiplier: the spread within a type, which the simulation scales by the type's multiplier
(fitted to the raw times, the cv would also hold the spread between types, counted twice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["TypeFit", "fit_request_types"]

_Z = float(stats.norm.ppf(0.975))

#: Decimals written for a share and a multiplier: shares then sum to 1 exactly once the
#: largest takes the rounding's remainder.
DECIMALS = 4


@dataclass(frozen=True)
class TypeFit:
    """A channel's request types: per type its count, share, mean handle time and
    multiplier, with 95% intervals (a table indexed by type)."""

    column: str  # the log's column the types came from
    table: pd.DataFrame  # n, share, share_low, share_high, n_handled, mean, multiplier, ...
    mix_mean: float  # M: the share-weighted mean handle time of new contacts

    def multipliers(self) -> pd.Series:
        return self.table["multiplier"]

    def written(self) -> dict[str, dict[str, float]]:
        """Shares and multipliers as a scenario writes them: rounded, the shares summing
        to 1 exactly and the multipliers' share-weighted mean within rounding of 1."""
        shares = self.table["share"].round(DECIMALS)
        largest = shares.idxmax()
        shares[largest] = round(1.0 - math.fsum(shares.drop(largest)), DECIMALS + 6)
        return {
            str(name): {
                "share": float(shares[name]),
                "handle_time_multiplier": float(round(row.multiplier, DECIMALS)),
            }
            for name, row in self.table.iterrows()
        }

    def describe(self, name: str) -> str:
        row = self.table.loc[name]
        text = (
            f"share {row.share:.3f} (95% {row.share_low:.3f}-{row.share_high:.3f}, "
            f"n = {int(row.n):,} of {int(self.table.n.sum()):,})"
        )
        if row.n_handled == 0:
            return text + "; no handle time: the mix's"
        return text + (
            f"; mean handle {row['mean']:.1f}s, multiplier {row.multiplier:.3f} "
            f"(95% {row.multiplier_low:.3f}-{row.multiplier_high:.3f}, n = {int(row.n_handled):,})"
        )


def fit_request_types(
    types: pd.Series, handle_times: pd.Series, answered: pd.Series, column: str = "type"
) -> TypeFit:
    """Types of one channel's contacts (``types``, a name per row), with their handle times
    and whether each was answered (aligned Series)."""
    n = types.value_counts(sort=False).sort_index()
    total = int(n.sum())
    handled = answered.to_numpy(bool) & (handle_times.to_numpy(float) > 0)
    times = pd.DataFrame({"type": types.to_numpy()[handled], "h": handle_times.to_numpy()[handled]})
    by_type = times.groupby("type")["h"]
    table = pd.DataFrame({"n": n.astype(int)})
    table["share"] = table.n / total
    table["share_low"], table["share_high"] = _wilson(table.n.to_numpy(), total)
    table["n_handled"] = by_type.size().reindex(table.index, fill_value=0).astype(int)
    table["mean"] = by_type.mean().reindex(table.index)
    table["variance"] = by_type.var(ddof=1).reindex(table.index).fillna(0.0)
    known = table.n_handled > 0
    if not known.any():
        raise ValueError("no type has an answered contact with a handle time")
    mix = float(np.average(table.loc[known, "mean"], weights=table.loc[known, "share"]))
    table["mean"] = table["mean"].fillna(mix)
    table["multiplier"] = table["mean"] / mix
    low, high = _multiplier_interval(table, total)
    table["multiplier_low"], table["multiplier_high"] = low, high
    return TypeFit(column, table.drop(columns="variance"), mix)


def _wilson(counts: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    p = counts / total
    centre = (p + _Z**2 / (2 * total)) / (1 + _Z**2 / total)
    half = _Z * np.sqrt(p * (1 - p) / total + _Z**2 / (4 * total**2)) / (1 + _Z**2 / total)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _multiplier_interval(table: pd.DataFrame, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Delta-method 95% intervals of m_t / sum_s p_s m_s over (p, m): p multinomial, each
    m_s its sample variance over its n (a type without handle times: no variance)."""
    p, m = table["share"].to_numpy(), table["mean"].to_numpy()
    handled = table["n_handled"].to_numpy()
    var_m = np.where(handled > 1, table["variance"].to_numpy() / np.maximum(handled, 1), 0.0)
    k = len(p)
    cov = np.zeros((2 * k, 2 * k))
    cov[:k, :k] = (np.diag(p) - np.outer(p, p)) / total
    cov[k:, k:] = np.diag(var_m)
    mix = float(p @ m)
    low, high = np.empty(k), np.empty(k)
    for t in range(k):
        # d(m_t / M)/dp_s = -m_t m_s / M^2; d/dm_s = [s == t] / M - m_t p_s / M^2
        grad = np.concatenate((-m[t] * m / mix**2, -m[t] * p / mix**2))
        grad[k + t] += 1.0 / mix
        half = _Z * math.sqrt(max(float(grad @ cov @ grad), 0.0))
        low[t], high[t] = m[t] / mix - half, m[t] / mix + half
    return np.maximum(low, 0.0), high
