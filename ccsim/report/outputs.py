"""An experiment's output folder as the report reads it: the manifest, the tables, the
study's tables, and what the experiment file says of the models.

:func:`read_outputs` checks the folder (a manifest, tables of one run, the columns the page
needs) and returns :class:`ExperimentOutputs`; a missing folder or a missing or unreadable
file raises :class:`~ccsim.model.ConfigError`. A KPI an older or newer ccsim did not write is
simply absent from the tables, never an error.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.experiment.folder import check_generation
from ccsim.files import FileTooLargeError, NotRegularFileError, read_small
from ccsim.model import ConfigError
from ccsim.report.answer import Study, read_study
from ccsim.report.reading import experiment_that_ran, read_csv

__all__ = [
    "INTERVAL_KPIS",
    "ExperimentOutputs",
    "descriptions",
    "experiment_file",
    "grid_points",
    "headline_channel",
    "read_outputs",
]

_KEYS = ("scenario", "channel", "site", "kpi")
_SUMMARY_COLUMNS = (*_KEYS, "estimate", "ci_low", "ci_high")
_COMPARISON_COLUMNS = (*_KEYS, "difference", "ci_low", "ci_high", "significant")
_INTERVAL_COLUMNS = (*_KEYS, "interval_start", "local_start", "estimate", "ci_low", "ci_high")
#: The KPIs of intervals.parquet that the figures draw (the file holds every KPI).
INTERVAL_KPIS = ["service_level", "busy_agents", "available_agents"]
_TABLES = ("summary.csv", "comparisons.csv", "replications.parquet", "intervals.parquet")


@dataclass(frozen=True)
class ExperimentOutputs:
    """The tables of one experiment output folder, and what the page needs to know of them."""

    folder: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    comparisons: pd.DataFrame | None
    intervals: pd.DataFrame | None
    replications: pd.DataFrame | None
    requirements: pd.DataFrame | None
    scenarios: list[str]
    baseline: str | None
    study: Study

    @cached_property
    def experiment(self):
        """The experiment that ran (:func:`experiment_that_ran`), loaded once per page: a
        study's model files take seconds to validate."""
        return experiment_that_ran(self.manifest)

    @property
    def channels(self) -> list[str]:  # without "all"
        return [c for c in dict.fromkeys(self.summary["channel"]) if c != "all"]

    @property
    def headline(self) -> str:  # the channel of the headline figures
        return headline_channel(self.summary)

    @property
    def shown_channels(self) -> list[str]:  # the headline, then each channel if several
        return [self.headline] + (self.channels if len(self.channels) > 1 else [])

    @property
    def currency(self) -> str:
        """The ISO code of every amount: the scenarios' ``currency``, which a run records in
        its manifest; USD, the scenarios' default, for a run from before the field."""
        return str(self.manifest.get("currency") or "USD")

    @property
    def priced(self) -> bool:
        costs = self.summary.loc[self.summary["kpi"] == "labour_cost", "estimate"]
        return bool((costs.abs() > 0).any())

    @property
    def reps_label(self) -> str:
        """The replications of each model: the manifest's, else the most behind a row."""
        n = self.manifest.get("replications")
        return str(n if n is not None else self.summary.get("n", pd.Series(["?"])).max())

    @property
    def window(self) -> float:
        """Seconds counted per replication: the replications' observed time, else the
        manifest's horizon less warm-up; NaN if unknown."""
        reps, manifest = self.replications, self.manifest
        if reps is not None and "observed_time" in reps:
            return float(reps.loc[reps["site"] == "all", "observed_time"].max())
        if isinstance(manifest.get("horizon_s"), int | float):
            return float(manifest["horizon_s"]) - float(manifest.get("warmup_s") or 0)
        return math.nan


def headline_channel(summary: pd.DataFrame) -> str:
    """The channel of a run's headline figures: ``all`` where the table has the whole
    centre's rows (channel and site both ``all``, written for several channels), else the
    first channel. A site's rows over its channels also say channel ``all`` (one channel
    with several sites has them), so the channel alone does not tell."""
    whole = (summary["channel"] == "all") & (summary["site"] == "all")
    if whole.any():
        return "all"
    return next((c for c in dict.fromkeys(summary["channel"]) if c != "all"), "all")


def _checked(path: Path, columns: Sequence[str], names: Sequence[str]) -> None:
    missing = [column for column in columns if column not in names]
    if missing:
        raise ConfigError(str(path), "", f"missing column(s): {', '.join(missing)}")


def _parquet(path: Path, columns: Sequence[str], wanted=lambda name: False, filters=None):
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None
    _checked(path, columns, names)
    keep = [name for name in names if name in columns or wanted(name)]
    try:
        return pd.read_parquet(path, columns=keep, filters=filters)
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        if any((folder / name).is_file() for name in _TABLES):
            # A run writes the manifest last: tables without it are a run cut short.
            raise ConfigError(
                str(folder),
                "",
                "no manifest.json: the run that wrote these tables did not finish; run the "
                "experiment again (it resumes from the saved blocks and rewrites the tables)",
            )
        raise ConfigError(str(folder), "", "no manifest.json: not an experiment's output folder")
    try:
        manifest = json.loads(read_small(path).decode("utf-8"))
    except (NotRegularFileError, FileTooLargeError) as exc:
        raise ConfigError(str(path), "", f"{exc.strerror}: not a manifest ccsim wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), "", f"not JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:  # "[[[[..." a hundred thousand deep: no manifest ccsim wrote
        raise ConfigError(str(path), "", "nested too deeply: not a manifest ccsim wrote") from None
    if not isinstance(manifest, dict):
        raise ConfigError(str(path), "", "expected a JSON object")
    return manifest


def read_outputs(out_dir: str | Path) -> ExperimentOutputs:
    """The output folder ``out_dir`` of an experiment, checked: tables of one run, with the
    columns the page needs."""
    folder = Path(out_dir)
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise ConfigError(str(out_dir), "", what)
    manifest = _manifest(folder)
    check_generation(folder, manifest)  # never a page from tables of different runs
    summary = read_csv(folder / "summary.csv", _SUMMARY_COLUMNS, _KEYS)
    if summary is None or summary.empty:
        raise ConfigError(str(folder), "", "no summary.csv: the experiment did not finish")
    comparisons = read_csv(folder / "comparisons.csv", _COMPARISON_COLUMNS)
    intervals = _parquet(
        folder / "intervals.parquet", _INTERVAL_COLUMNS, filters=[("kpi", "in", INTERVAL_KPIS)]
    )
    replications = _parquet(
        folder / "replications.parquet",
        ("scenario", "channel", "site"),
        lambda name: name in ("answered", "observed_time") or name.startswith("waits_within_"),
    )
    requirements = None
    for path in (folder / "requirements.csv", folder / "staffing" / "requirements.csv"):
        if requirements is None:
            requirements = read_csv(path, ("interval_start", "channel", "method", "required"))

    found = list(dict.fromkeys(summary["scenario"]))
    listed = [s for s in manifest.get("scenarios") or [] if s in found]
    scenarios = listed + [s for s in found if s not in listed]
    baseline = manifest.get("baseline")
    if baseline not in scenarios and comparisons is not None and "baseline" in comparisons:
        baseline = next(iter(comparisons["baseline"]), None)
    baseline = baseline if baseline in scenarios else None
    tables = (summary, comparisons, intervals, replications, requirements)
    study = read_study(folder, manifest)
    return ExperimentOutputs(folder, manifest, *tables, scenarios, baseline, study)


def experiment_file(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The experiment file, if it is still the one that ran (the manifest's sha256)."""
    from ccsim.model import read_yaml_mapping
    from ccsim.model.yaml_reader import YAML_BYTES

    try:
        paths = [Path(manifest["file"]), Path(manifest["scenario_file"])]
        # Paths from the manifest, which may have been edited: read only what a scenario
        # or experiment file may be (a regular file of at most YAML_BYTES).
        data = b"".join(read_small(path, YAML_BYTES) for path in paths)
        digest = hashlib.sha256(data).hexdigest()
        return read_yaml_mapping(paths[0]) if digest == manifest.get("sha256") else None
    except (KeyError, TypeError, OSError, ConfigError):
        return None


def descriptions(manifest: dict[str, Any], spec: dict[str, Any] | None) -> dict[str, str]:
    """Each model in words: its scenario's description, else its overrides, else both."""
    given = manifest.get("descriptions") if isinstance(manifest.get("descriptions"), dict) else {}
    given = {str(k): str(v) for k, v in given.items() if v}
    if spec is None:
        return given
    from ccsim.model.overrides import expand_grid

    points = dict(spec.get("scenarios") or {})
    if isinstance(spec.get("grid"), dict) and spec["grid"]:
        try:
            points.update(expand_grid(spec["grid"], spec.get("grid_name")))
        except ConfigError:  # an experiment file edited since: the manifest's words only
            return given
    changes = {
        str(name): "; ".join(
            f"{path} = {v if isinstance(v, str) else json.dumps(v)}"
            for path, v in point.items()
            if path != "scenario"
        )
        for name, point in points.items()
        if isinstance(point, dict)
    }
    names = set(given) | set(changes)
    return {
        name: " — ".join(part for part in (given.get(name), changes.get(name)) if part)
        or "the base scenario unchanged"
        for name in names
    }


def grid_points(manifest: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """The parameter of a grid over one numeric dotted path, and each model's value of it
    (nothing for a grid over several parameters or over text)."""
    spec = experiment_file(manifest)
    grid = spec.get("grid") if spec is not None else None
    if not isinstance(grid, dict) or len(grid) != 1:
        return "", {}
    from ccsim.model.overrides import expand_grid

    ((parameter, values),) = grid.items()
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "", {}
    try:
        points = expand_grid(grid, spec.get("grid_name"))
    except ConfigError:  # an experiment file edited since it ran
        return "", {}
    return str(parameter), {str(name): float(point[parameter]) for name, point in points.items()}
