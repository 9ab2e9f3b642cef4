"""A finished experiment as :func:`~ccsim.study.run.run_experiment` returns it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.study.stopping import RuleCheck

__all__ = ["ExperimentResult"]


class ExperimentResult:
    """A finished experiment: its summary and comparisons, and the larger tables, which
    are read from ``out`` on first use (they can be far larger than memory needs to be)."""

    def __init__(
        self,
        summary: pd.DataFrame,
        comparisons: pd.DataFrame,
        manifest: dict[str, Any],
        out: Path,
        stopped_early: bool = False,
        rule: RuleCheck | None = None,
    ) -> None:
        self.summary, self.comparisons, self.manifest = summary, comparisons, manifest
        self.out, self.stopped_early = out, stopped_early
        #: Where the stopping rule stood at the end (None without a rule).
        self.rule = rule
        self._tables: dict[str, pd.DataFrame] = {}

    def _table(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            path = self.out / f"{name}.parquet"
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is gone: this result reads its {name} table from the output "
                    f"folder when first asked, so read result.{name} before removing it"
                )
            self._tables[name] = pd.read_parquet(path)
        return self._tables[name]

    @property
    def replications(self) -> pd.DataFrame:
        """One row per scenario, replication, channel and site (``replications.parquet``)."""
        return self._table("replications")

    @property
    def intervals(self) -> pd.DataFrame:
        """One row per scenario, channel, site, interval and KPI (``intervals.parquet``)."""
        return self._table("intervals")
