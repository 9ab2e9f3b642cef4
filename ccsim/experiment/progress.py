"""Progress of long runs: a bar on a terminal, a plain line every few seconds elsewhere.

A run of many replications can take minutes. On a terminal tqdm draws a bar; without one
(a CI log, ``!ccsim`` in a notebook, output piped to a file) a bar's carriage returns are
noise or nothing, so a plain line is printed instead, at most every :data:`EVERY` seconds
and at the end, so that a log shows the run is alive and how far it got.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["EVERY", "Callback", "Progress", "finish", "progress"]

#: Seconds between two plain progress lines.
EVERY = 10.0


class Progress:
    """Counts finished replications; prints a line when :data:`EVERY` seconds have passed."""

    def __init__(self, total: int, stream: TextIO, every: float = EVERY, what: str = "") -> None:
        self.total, self.stream, self.every, self.what = total, stream, every, what
        self.done = 0
        self.started = self.last = time.monotonic()
        self.closed = False
        self.shown = -1  # the count the last line showed

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line(now)

    def _line(self, now: float) -> None:
        self.shown = self.done
        elapsed = now - self.started
        share = self.done / self.total if self.total else 1.0
        left = (
            f", about {elapsed * (1 - share) / share:.0f}s left"
            if 0 < share < 1 and elapsed > 0
            else ""
        )
        print(
            f"ccsim: {self.what}{self.done}/{self.total} replications ({share:.0%}), "
            f"{elapsed:.0f}s{left}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        now = time.monotonic()
        # A run short enough needs no closing line, nor one the last line already said; a
        # closed bar prints none again.
        if not self.closed and self.shown != self.done and now - self.started >= self.every:
            self._line(now)
        self.closed = True


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class Callback:
    """Counts finished replications and hands ``(done, total)`` to ``report`` at each
    update: for a caller that shows progress its own way (the what-if page reads it from a
    file its run writes, :mod:`ccsim.whatif.worker`)."""

    def __init__(self, total: int, report: Callable[[int, int], None]) -> None:
        self.total, self.report, self.done = total, report, 0

    def update(self, n: int) -> None:
        self.done += n
        self.report(self.done, self.total)

    def close(self) -> None:
        pass


def progress(
    total: int,
    enabled: bool | Callable[[int, int], None],
    what: str = "",
    stream: TextIO | None = None,
):
    """A tqdm bar when ``enabled`` and ``stream`` (default stderr) is a terminal, plain
    lines when enabled without one, nothing otherwise; a function ``enabled(done, total)``
    is called at each update instead (:class:`Callback`). It has ``update(n)`` and
    ``close()``."""
    if callable(enabled):
        return Callback(total, enabled)
    stream = stream if stream is not None else sys.stderr
    if not enabled:
        return _Silent()
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from tqdm import tqdm

        return tqdm(
            total=total, unit="rep", file=stream, dynamic_ncols=True, desc=what or "replications"
        )
    return Progress(total, stream, what=what)


def finish(bar, total: int) -> None:
    """Set ``bar``'s total to ``total`` replications: a stopping rule met before its maximum
    ends the run there, and the bar (and its closing line) should say done, not half-way."""
    if isinstance(bar, Callback):
        bar.total = total
        bar.report(bar.done, total)
    elif isinstance(bar, Progress):
        bar.total = total
        bar.shown = -1  # its last line said "of the maximum"
    elif hasattr(bar, "refresh"):  # tqdm
        bar.total = total
        bar.refresh()
