"""The blocks of one scenario as a run saves them: their order, and the interval running
sums folded in replication order, whatever order the workers finish in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ccsim.experiment.folder import OutputError
from ccsim.experiment.replications import Block
from ccsim.experiment.saved_blocks import BlockError, BlockStore
from ccsim.experiment.summary import INTERVAL_KEYS

__all__ = ["Collector"]


class Collector:
    """The blocks of one scenario: their order, and the interval running sums folded in
    replication order as blocks arrive.

    Workers finish blocks in any order; a block's sums wait in ``pending`` until every
    block before it has been folded in, so the sums are added in one fixed order (the same
    last bits for any number of workers). Replication rows are not kept: they are saved
    with the block and read back from the store when needed, one block at a time.
    """

    def __init__(self, store: BlockStore, fingerprint: str, saved_before: set[Block]) -> None:
        self.store, self.fingerprint, self.saved_before = store, fingerprint, saved_before
        self.order: list[Block] = []
        self.folded = 0
        self.pending: dict[Block, pd.DataFrame] = {}
        self.keys: pd.DataFrame | None = None
        self.totals: np.ndarray | None = None
        self.columns: list[str] = []

    def extend(self, blocks: list[Block]) -> None:
        self.order.extend(blocks)
        self._fold()

    def add(self, block: Block, sums: pd.DataFrame) -> None:
        self.pending[block] = sums
        self._fold()

    def _fold(self) -> None:
        while self.folded < len(self.order):
            block = self.order[self.folded]
            if block in self.pending:
                sums = self.pending.pop(block)
            elif block in self.saved_before:
                sums = self.checked(lambda b=block: self.store.sums(self.fingerprint, b))
            else:
                return
            self.folded += 1
            values = sums.drop(columns=INTERVAL_KEYS).to_numpy(dtype=float)
            if self.totals is None:
                self.keys = sums[INTERVAL_KEYS].reset_index(drop=True)
                self.columns = [c for c in sums.columns if c not in INTERVAL_KEYS]
                self.totals = values.copy()
            else:
                self.totals += values

    def checked(self, read):
        """``read()`` of a saved block, a block changed since the run started as one line."""
        try:
            return read()
        except BlockError as exc:  # it was checked when the run started
            raise OutputError(
                f"{self.store.root / self.fingerprint}: a saved block changed during the run "
                f"({exc}); run the same command again"
            ) from None

    def read_columns(self, columns: list[str]) -> pd.DataFrame:
        """Those columns of the rows of every block folded so far."""
        blocks = self.order[: self.folded]
        tables = [
            self.checked(lambda b=b: self.store.reps(self.fingerprint, b, columns)) for b in blocks
        ]
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

    def interval_sums(self) -> pd.DataFrame:
        sums = pd.concat([self.keys, pd.DataFrame(self.totals, columns=self.columns)], axis=1)
        sums["n"] = sums["n"].astype(int)
        return sums
