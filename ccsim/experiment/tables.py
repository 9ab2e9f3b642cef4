"""The final tables of an experiment, streamed from its saved blocks.

``replications.parquet`` is written one row group per block, in scenario and replication
order, reading one block at a time from the :class:`~.saved_blocks.BlockStore`; the summary
and the paired comparisons (with what common random numbers bought each,
:func:`~.contrast_tables.crn_columns`) are computed one scenario at a time (with the
baseline's rows beside it), from the same rows and with the same functions as over the
whole table, so every estimate is exact; interval profiles come from running sums. Memory
therefore holds at most two scenarios' replication rows, never every replication of every
scenario.
Scenarios with request types add ``request_types.parquet``: their rows per replication,
channel and type.

The tables form one generation (:mod:`.folder`): the old manifest is removed first, the
tables are written, and the manifest listing their checksums is written by the caller.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ccsim.experiment.contrast_tables import crn_columns
from ccsim.experiment.contrasts import row_parts
from ccsim.experiment.folder import start_generation
from ccsim.experiment.saved_blocks import Block, BlockError, BlockStore
from ccsim.experiment.summary import compare, holm_by_kpi, summarise, summarise_intervals
from ccsim.experiment.type_tables import plain_schema
from ccsim.files import atomic_write, write_csv, write_parquet

__all__ = ["write_tables"]

TABLE_NAMES = (
    "replications.parquet",
    "intervals.parquet",
    "summary.csv",
    "comparisons.csv",
)


class _Blocks:
    """The saved blocks of every scenario, read one at a time as one table's rows: a
    column that is an integer in one scenario and has gaps (NaN) in another is a float
    everywhere, as concatenating the tables would make it."""

    def __init__(self, store: BlockStore, plans: dict[str, tuple[str, list[Block]]]) -> None:
        self.store, self.plans = store, plans
        schemas = []
        for fingerprint, blocks in plans.values():
            for block in blocks:
                path = store.path(fingerprint, block, "reps")
                try:
                    schemas.append(plain_schema(pq.read_schema(path).remove_metadata()))
                except (OSError, pa.ArrowException) as exc:
                    raise BlockError(f"{path.name} is not a readable table ({exc})") from None
        self.schema = pa.unify_schemas(schemas, promote_options="permissive")
        self.label = self.schema.field("channel").type

    def table(self, name: str, block: Block) -> pa.Table:
        fingerprint = self.plans[name][0]
        table = self.store.reps(fingerprint, block).select(self.schema.names)
        table = table.cast(self.schema)
        return table.add_column(
            0, pa.field("scenario", self.label), pa.array([name] * len(table), self.label)
        )

    def frame(self, name: str) -> pd.DataFrame:
        """Every replication row of one scenario."""
        blocks = self.plans[name][1]
        return pa.concat_tables([self.table(name, block) for block in blocks]).to_pandas()


def _write_replications(path: Path, blocks: _Blocks) -> Path:
    def write(tmp: str) -> None:
        schema = blocks.schema.insert(0, pa.field("scenario", blocks.label))
        with pq.ParquetWriter(tmp, schema) as writer:
            for name, (_, order) in blocks.plans.items():
                for block in order:
                    writer.write_table(blocks.table(name, block))

    return atomic_write(path, write)


def _types(store: BlockStore, plans) -> pd.DataFrame | None:
    """The rows per request type of every scenario that has them, or None."""
    frames = []
    for name, (fingerprint, order) in plans.items():
        for block in order:
            table = store.types(fingerprint, block)
            if table is not None:
                frame = table.to_pandas()
                frame.insert(0, "scenario", name)
                frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else None


def write_tables(
    out: Path,
    store: BlockStore,
    plans: dict[str, tuple[str, list[Block]]],
    interval_sums: dict[str, pd.DataFrame],
    baseline: str,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    """Write the tables of :data:`TABLE_NAMES` into ``out`` from the saved blocks;
    ``plans`` maps each scenario, in order, to its fingerprint and blocks in replication
    order. Returns the summary, the comparisons and the paths written."""
    start_generation(out)
    blocks = _Blocks(store, plans)
    paths = [_write_replications(out / "replications.parquet", blocks)]
    types = _types(store, plans)
    if types is not None:  # scenarios with request types: their rows per type
        paths.append(write_parquet(out / "request_types.parquet", types))

    profiles = []
    for name, sums in interval_sums.items():
        sums = sums.copy()
        sums.insert(0, "scenario", name)
        profiles.append(summarise_intervals(sums))
    paths.append(write_parquet(out / "intervals.parquet", pd.concat(profiles, ignore_index=True)))

    # Summaries and paired differences are per scenario (and per channel and site), so
    # taking them scenario by scenario gives the rows of the whole table, in its order.
    base = blocks.frame(baseline)
    base_parts = row_parts(base)  # each KPI's linearised terms: what the pairing bought
    summaries, comparisons = [], []
    for name in plans:
        frame = base if name == baseline else blocks.frame(name)
        summaries.append(summarise(frame))
        if name != baseline:
            paired = compare(pd.concat([frame, base], ignore_index=True), baseline)
            comparisons.append(crn_columns(paired, row_parts(frame), base_parts))
        del frame
    summary = pd.concat(summaries, ignore_index=True)
    # The family of a KPI spans every scenario: adjust once, over the whole table.
    if not comparisons:  # one scenario: no rows, but the table's columns
        comparisons.append(crn_columns(compare(base, baseline), {}, base_parts))
    comparison = holm_by_kpi(pd.concat(comparisons, ignore_index=True))
    paths.append(write_csv(out / "summary.csv", summary))
    paths.append(write_csv(out / "comparisons.csv", comparison))
    return summary, comparison, paths
