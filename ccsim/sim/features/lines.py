"""Lines: a voice channel with ``lines`` holds at most that many calls, waiting or in
service; a caller who finds every line busy is blocked (and may retry: a retrial).

Each channel gets its own :class:`_Lines`, whose bound methods are its hooks: a call takes
and frees a line of its channel without a lookup by channel index."""

from __future__ import annotations

from ccsim.sim.state import LINE, attach

__all__ = ["Lines"]


class _Lines:
    """One channel's lines: how many, how many in use."""

    __slots__ = ("capacity", "core", "in_use", "returns")

    def __init__(self, core, capacity: int) -> None:
        self.core = core
        self.capacity = capacity
        self.in_use = 0
        self.returns = None  # the returns feature, once every feature is built

    def take(self, contact, now: float) -> bool:
        if self.in_use >= self.capacity:
            self.core.count.outcome(contact, "blocked")
            if self.returns is not None:
                self.returns.maybe_retry(contact, now)
            return False
        self.in_use += 1
        contact.followup |= LINE
        return True

    def free(self, contact, *_) -> None:
        if contact.followup & LINE:
            contact.followup &= ~LINE
            self.in_use -= 1


class Lines:
    name = "lines"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.lines is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.lines: dict[int, _Lines] = {}  # channel index -> its lines
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.lines is None:
                continue
            lines = self.lines[channel.index] = _Lines(core, config.lines)
            attach(channel, "on_enter", lines.take)
            for point in ("on_end", "on_abandon", "on_leave"):
                attach(channel, point, lines.free)

    @property
    def in_use(self) -> dict[int, int]:
        """Lines in use now, per channel index."""
        return {index: lines.in_use for index, lines in self.lines.items()}

    def start(self) -> None:
        returns = self.core.features.get("returns")
        for lines in self.lines.values():
            lines.returns = returns
