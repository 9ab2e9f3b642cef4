"""Failures the user caused or can fix, in the user's words.

The command line prints any :class:`UserError` as one line (``file: field.path: what is
wrong``) and exits 2; everything else is a bug in ccsim. :class:`ConfigError` is the one for
bad input files and options; other layers subclass :class:`UserError` for theirs (an output
folder another run holds, a backend that is not installed).
"""

from __future__ import annotations

__all__ = ["ConfigError", "UserError"]


class UserError(Exception):
    """A failure the user can fix: printed as one line, exit status 2."""


class ConfigError(UserError, ValueError):
    """Bad input, reported in the user's words: file, field path, what is wrong."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.message = source, path, message
        super().__init__(": ".join(part for part in (source, path, message) if part))
