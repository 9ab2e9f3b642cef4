"""An output folder's tables read back for the pages: only an empty cell is missing, a
name stays a name ("NA" is a channel), and a number column holding a word is refused naming
its cell, since a table may have been edited or damaged after ccsim wrote it (the manifest's
checksums catch the damage, not an edit made with the checksum updated); and the experiment
file that ran, where it is still the one the manifest's checksum names."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.model import ConfigError

__all__ = ["experiment_that_ran", "read_csv"]


def read_csv(path: Path, columns: Sequence[str], key: Sequence[str] = ()) -> pd.DataFrame | None:
    """A table of the output folder, or None if the file is absent; a file that cannot be
    read, lacks a column or repeats a ``key`` (the columns that name a row: a KPI of a
    scenario, channel and site) raises :class:`~ccsim.model.ConfigError` naming it."""
    if not path.is_file():
        return None
    try:
        # Only an empty cell is missing: a channel or site called "NA" stays a name.
        names = dict.fromkeys(("scenario", "channel", "site", *_LEVELS), str)
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=names)
    except pd.errors.EmptyDataError:  # no header either (older runs of a single scenario)
        return pd.DataFrame(columns=list(columns))
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ConfigError(str(path), "", f"missing column(s): {', '.join(missing)}")
    key = [column for column in key if column in frame.columns]
    repeated = frame.duplicated(key).to_numpy().nonzero()[0] if key else []
    if len(repeated):  # an edited table: which of the two rows would the page show?
        line = int(repeated[0]) + 2  # the header is line 1
        raise ConfigError(str(path), "", f"line {line} repeats an earlier row's {', '.join(key)}")
    return _numbers_checked(frame, path)


#: Columns of names the user chose (a model called "2026" is still a name).
_NAMES = ("scenario", "channel", "site", "model", "parameter", "kpi", "baseline")
#: Columns of the factorial effects and pairs that name a scenario, a path or a grid value
#: as written ("10" agents beside "2min" of patience is text, not a number with a word).
_LEVELS = ("reference", "term", "factor", "level", "factor_2", "level_2")
#: Columns every table of ccsim writes as numbers, whatever else it holds.
_NUMERIC = ("estimate", "sd", "ci_low", "ci_high", "half_width", "n")


def _number(cell: Any) -> float | None:
    """A cell as a number (an empty one: NaN), or None for a word."""
    if not isinstance(cell, str):
        return math.nan if cell is None or pd.isna(cell) else float(cell)
    try:
        return float(cell)  # Python's float reads "nan", "inf", "1e308"
    except ValueError:
        return None


def _numbers_checked(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` with its number columns as numbers: a column of numbers with a word in it
    (an edited or damaged table) is refused naming the cell, before any page code does
    arithmetic on text. A column is one of numbers if ccsim always writes it so, or if any
    of its cells reads as one."""
    if "scenario" in frame.columns and frame["scenario"].isna().any():
        # Every row ccsim writes belongs to a scenario, whose name is never empty
        # (ccsim.model.overrides.check_scenario_name): an empty cell is an edit.
        row = int(frame["scenario"].isna().to_numpy().argmax())
        raise ConfigError(str(path), "scenario", f"row {row + 2}: empty, expected a name")
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or column in _NAMES + _LEVELS:
            continue
        numbers = [_number(cell) for cell in values]
        words = [row for row, number in enumerate(numbers) if number is None]
        if not words:
            frame[column] = pd.Series(numbers, index=frame.index, dtype=float)
        elif column in _NUMERIC or len(words) < values.notna().sum():
            row = words[0]
            raise ConfigError(
                str(path), column, f"row {row + 2}: expected a number, got {values.iloc[row]!r}"
            )
    return frame


def experiment_that_ran(manifest: dict[str, Any]):
    """The experiment file the manifest names, loaded, if it is still the one that ran (its
    digest, over the experiment file and every scenario file, is the manifest's sha256);
    else None."""
    from ccsim.study.spec import load_experiment

    try:
        experiment = load_experiment(manifest["file"])
    except (KeyError, TypeError, OSError, ConfigError):
        return None
    return experiment if experiment.digest == manifest.get("sha256") else None
