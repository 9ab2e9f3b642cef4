"""Failures the user caused or can fix, in the user's words.

The command line prints any :class:`UserError` as one line (``file:line:column:
field.path: what is wrong``) and exits 2; everything else is a bug in ccsim.
:class:`ConfigError` is the one for bad input files and options; other layers subclass
:class:`UserError` for theirs (an output folder another run holds, a backend that is not
installed).
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["ConfigError", "UserError", "record_positions", "recorded_positions"]

#: Where each field of a recently read file is written: source -> dotted path -> (file,
#: line, column), 1-based (the file differs from the source for a field that a scenario
#: inherits through ``extends``). Filled by the YAML reader (:mod:`ccsim.model.yaml_reader`)
#: and read by :class:`ConfigError`, so that an error raised anywhere later (validation,
#: overrides, an experiment's checks) can point at the line without each raiser carrying
#: positions.
#: Bounded: only the files of the last few loads are kept.
_POSITIONS: OrderedDict[str, dict[str, tuple[str, int, int]]] = OrderedDict()
_KEPT_FILES = 256


def record_positions(source: str, positions: dict[str, tuple[str, int, int]]) -> None:
    """Remember where the fields of the file ``source`` are written."""
    _POSITIONS[source] = positions
    _POSITIONS.move_to_end(source)
    while len(_POSITIONS) > _KEPT_FILES:
        _POSITIONS.popitem(last=False)


def recorded_positions(source: str) -> dict[str, tuple[str, int, int]]:
    """The positions recorded for ``source`` (empty if none)."""
    return dict(_POSITIONS.get(source, {}))


def _position(source: str, path: str) -> tuple[str, int, int] | None:
    """The position of ``path`` in ``source``, or of its nearest enclosing field written
    there (a missing key is reported where its mapping is)."""
    positions = _POSITIONS.get(source)
    if not positions or not path:
        return None
    parts = path.split(".")
    # Keys may hold dots themselves (an experiment's override paths): try every prefix.
    for end in range(len(parts), 0, -1):
        found = positions.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


class UserError(Exception):
    """A failure the user can fix: printed as one line, exit status 2."""


class ConfigError(UserError, ValueError):
    """Bad input, reported in the user's words: file, field path, what is wrong."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.message = source, path, message
        position = _position(source, path)
        file, self.line, self.column = position if position is not None else (source, None, None)
        where = f"{file}:{self.line}:{self.column}" if position is not None else source
        super().__init__(": ".join(part for part in (where, path, message) if part))
