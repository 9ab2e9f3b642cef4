"""Per request type: one row per replication, channel and type, and their summary.

A scenario whose channels declare ``request_types`` counts, per channel and type, what the
bot contained and what the agents resolved, escalated or left unresolved
(:mod:`ccsim.sim.type_counts`). ``ccsim run`` asks the blocks for those rows
(``by_type``), and so do the main rounds of an experiment: they travel in the replications
frame, and a saved block's table, with a ``request_type`` column, after the replication
rows, and :func:`split_types` (:func:`plain_rows`, :func:`typed_rows` for a saved block)
takes them out again, so that the tables of a scenario without types are the same as
ever and an experiment with types writes them to ``request_types.parquet``. Shares over
replications are ratios of totals, as for the channel KPIs (``docs/metrics.md``, Request
types).
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ccsim.sim.type_counts import TYPE_COUNTS, TYPE_KPIS

__all__ = [
    "TYPE_COLUMNS",
    "plain_rows",
    "plain_schema",
    "split_types",
    "summarise_types",
    "type_rows",
    "typed_rows",
]

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


def plain_rows(table: pa.Table) -> pa.Table:
    """A saved block's replication rows without the per-type rows that travel with them
    (a block of a scenario without types is returned as it is)."""
    if "request_type" not in table.column_names:
        return table
    plain = table.column_names[: table.column_names.index("request_type")]
    return table.filter(pc.is_null(table["request_type"])).select(plain)


def typed_rows(table: pa.Table) -> pa.Table | None:
    """A saved block's per-type rows (:data:`TYPE_COLUMNS`), or None without types."""
    if "request_type" not in table.column_names:
        return None
    return table.filter(pc.is_valid(table["request_type"])).select(list(TYPE_COLUMNS))


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """A saved block's schema without the columns that only per-type rows fill."""
    if "request_type" not in schema.names:
        return schema
    index = schema.get_field_index("request_type")
    return pa.schema(list(schema)[:index])


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
