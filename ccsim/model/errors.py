"""Bad input in the user's words: the one exception every user-caused failure becomes.

The command line prints it as one line (``file: field.path: what is wrong``) and exits 2.
"""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """Bad input, reported in the user's words: file, field path, what is wrong."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.message = source, path, message
        super().__init__(": ".join(part for part in (source, path, message) if part))
