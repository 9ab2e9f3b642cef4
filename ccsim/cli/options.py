"""What every command's options share: the parser that reports bad input in one line with
exit status 2, and the converters of option values (counts, shares, durations with their
unit) that name the option in their message.

Nothing here imports more than the units: building the parser must stay quick.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from ccsim.model.units import parse_duration

__all__ = [
    "EXIT_USAGE",
    "MAX_REPS",
    "Parser",
    "add",
    "add_command",
    "duration",
    "shift_lengths",
    "int_at_least",
    "jobs",
    "non_negative_int",
    "open_share",
    "option",
    "output_path",
    "percent_or_share",
    "positive_duration",
    "positive_int",
    "reps",
    "share",
]

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage dump), exit status 2, and
    keeps the line breaks of descriptions and examples."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def option(parse, what: str):
    """``parse`` as an argparse type: its ValueError becomes a usage error naming ``what``."""

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{what}: {exc}") from None

    return convert


def output_path(text: str) -> Path:
    """A file or folder to write: an empty one (``--out ""``) would write into the working
    directory, among whatever the user keeps there."""
    if not text.strip():
        raise ValueError("an empty path; name the file or folder to write")
    return Path(text)


def add(parser, *names, help: str, **options) -> None:  # noqa: A002 - argparse's word
    """An option whose help ends with its default, when it has one worth saying."""
    default = options.get("default")
    if default not in (None, False) and "default" not in help:
        help += " (default %(default)s)"
    parser.add_argument(*names, help=help, **options)


def add_command(commands, name: str, summary: str, description: str, examples: str):
    """A command's parser: its one-line summary, what it does, and examples to copy."""
    return commands.add_parser(
        name,
        help=summary,
        description=f"{summary}.\n\n{description}" if description else f"{summary}.",
        epilog="examples:\n" + examples,
    )


def int_at_least(minimum: int):
    def convert(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        return value

    return convert


positive_int, non_negative_int = int_at_least(1), int_at_least(0)


#: The most replications ``--reps`` may ask for: ``ccsim.study.spec.MAX_REPLICATIONS``,
#: written out here so that building the parser does not import the study (a test holds
#: the two equal). A run's seeds are built before it starts: a million take 0.4 GB.
MAX_REPS = 1_000_000


def reps(text: str) -> int:
    """``--reps``: a number of replications, 1 to :data:`MAX_REPS`."""
    value = positive_int(text)
    if value > MAX_REPS:
        raise ValueError(f"at most {MAX_REPS:,} replications, got {value:,}")
    return value


def jobs(text: str) -> int:
    """``--jobs``: a number of worker processes, or -1 for all cores; at most 4 per core
    (``ccsim.experiment.backends.max_workers``: more only share the cores, and a
    mistyped ``--jobs 100000`` would start processes without end)."""
    value = int(text)
    if value == 0 or value < -1:
        raise ValueError("must be a positive number of workers, or -1 for all cores")
    cores = os.cpu_count() or 1
    if value > 4 * cores:
        raise ValueError(
            f"at most {4 * cores} workers (4 per core on the {cores} cores here; -1 starts "
            f"one per core), got {value:,}"
        )
    return value


def share(text: str) -> float:
    """A share in (0, 1]."""
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(f"must be in (0, 1], got {text!r}")
    return value


def percent_or_share(text: str) -> float:
    """``30%`` or ``0.3`` as the share 0.3 (the caller checks its range)."""
    stripped = text.strip()
    return float(stripped.rstrip("%")) / (100 if stripped.endswith("%") else 1)


def open_share(text: str) -> float:
    """A share in (0, 1), such as a confidence level."""
    value = float(text)
    if not 0 < value < 1:
        raise ValueError(f"must be in (0, 1), got {text!r}")
    return value


def duration(text: str, positive: bool = False) -> float:
    """A duration with its unit (``20s``, ``4.5min``), in seconds: at least 0 and finite."""
    value = parse_duration(text)
    if value < 0 or (positive and value == 0) or math.isinf(value):
        raise ValueError(f"must be {'positive' if positive else 'at least 0'}, got {text!r}")
    return value


def positive_duration(text: str) -> float:
    return duration(text, positive=True)


def shift_lengths(text: str) -> list[float]:
    """``8.5h,4h``: shift lengths, each positive and at most a day (a shift starts on one
    day of the roster; a longer one is a typo for minutes or a roster of its own)."""
    lengths = []
    for part in text.split(","):
        lengths.append(positive_duration(part))
        if lengths[-1] > 86400:
            raise ValueError(f"a shift is at most 24h, got {part.strip()!r}")
    return lengths
