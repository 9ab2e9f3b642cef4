"""Per request type: one row per replication, channel and type, and their summary.

A scenario whose channels declare ``request_types`` counts, per channel and type, what the
bot contained and what the agents resolved, escalated or left unresolved
(:mod:`ccsim.sim.type_counts`). ``ccsim run`` asks the blocks for those rows
(``by_type``): they travel in the replications frame with a ``request_type`` column, and
:func:`split_types` takes them out again, so that the tables of a scenario without types
are the same as ever. Shares over replications are ratios of totals, as for the channel
KPIs (``docs/metrics.md``, Request types).
"""

from __future__ import annotations

import math

import pandas as pd

from ccsim.sim.type_counts import TYPE_COUNTS, TYPE_KPIS

__all__ = ["TYPE_COLUMNS", "split_types", "summarise_types", "type_rows"]

#: Columns of a per-type table.
TYPE_COLUMNS: tuple[str, ...] = (
    "replication",
    "channel",
    "request_type",
    *TYPE_COUNTS,
    *(name for name, _, _ in TYPE_KPIS),
)


def type_rows(result, replication: int) -> list[dict]:
    """One replication's per-type rows (none without request types)."""
    return [{"replication": replication, **row} for row in result.request_type_rows()]


def split_types(reps: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The replication rows as ever, and the per-type rows that travelled with them."""
    if "request_type" not in reps.columns:
        return reps, pd.DataFrame(columns=list(TYPE_COLUMNS))
    typed = reps["request_type"].notna()
    # The per-type columns were added after the replication columns (``run_block``).
    plain = reps.columns[: reps.columns.get_loc("request_type")]
    return (
        reps.loc[~typed, plain].reset_index(drop=True),
        reps.loc[typed, list(TYPE_COLUMNS)].reset_index(drop=True),
    )


def summarise_types(types: pd.DataFrame) -> pd.DataFrame:
    """Per (channel, request type): counts as means per replication, shares as ratios of
    totals over the replications, and the mean handle time."""
    if types.empty:
        return pd.DataFrame(columns=["channel", "request_type", *TYPE_COUNTS])
    n = types["replication"].nunique()
    totals = types.groupby(["channel", "request_type"], sort=True)[list(TYPE_COUNTS)].sum()
    frame = totals / n
    for name, top, bottom in TYPE_KPIS:
        frame[name] = [
            t / b if b > 0 else math.nan for t, b in zip(totals[top], totals[bottom], strict=True)
        ]
    return frame.reset_index()
