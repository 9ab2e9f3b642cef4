"""Runtime state of a replication: contacts, customers, channels, agents and sites.

These are plain slotted objects the engine's callbacks read and change; they hold no logic
beyond their set-up. The engine (:mod:`ccsim.sim.engine`) is where a contact's life happens.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ccsim.model import Channel, Site
from ccsim.model.calendar import Calendar
from ccsim.sim.arrivals import arrival_epochs
from ccsim.sim.metrics import WAIT_POINTS, ChannelTally
from ccsim.sim.shifts import PayScale, roster
from ccsim.sim.streams import BatchedDraws, Streams

__all__ = ["AgentState", "ChannelState", "Contact", "Customer", "SiteState"]

# Contact states.
WAITING, ANSWERED, ABANDONED, SILENT, GONE = 0, 1, 2, 3, 4

# What happens when a contact's service ends (beyond freeing the agent).
NOTHING, ESCALATE = 0, 1


def _uniform(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.random(size)


class Customer:
    """A customer across contacts (bot, queues, transfers, retrials, repeats): where and
    when they first arrived, and whether they are still on their first handled contact."""

    __slots__ = ("arrival", "entry", "first", "tally")

    def __init__(self, arrival: float, tally: ChannelTally | None, entry: ChannelState):
        self.arrival = arrival
        self.tally = tally  # the entry channel's tally of the first arrival (None: warm-up)
        self.entry = entry
        self.first = True


class Contact:
    """One contact with one channel: a call, a chat, an email, a transfer, a call back."""

    __slots__ = (
        "arrival",
        "channel",
        "customer",
        "followup",
        "handle_time",
        "patience",
        "slot",
        "state",
        "tally",
    )

    def __init__(self, channel, arrival, handle_time, patience, slot, tally):
        self.channel = channel
        self.arrival = arrival  # when it reached this channel's queue (or bot)
        self.handle_time = handle_time
        self.patience = patience
        self.slot = slot  # its arrival interval
        self.tally = tally  # that interval's tally, or None before the warm-up
        self.state = WAITING
        self.customer: Customer | None = None  # None: a plain first contact
        self.followup = NOTHING


class ChannelState:
    """One channel: its queue, tallies per interval, behaviour flags and random draws.

    Each purpose draws from its own stream (arrivals, handle times, patience, bot, retrials,
    resolution, ...), so turning a feature on leaves the others' draws unchanged."""

    __slots__ = (
        "always_resolved",
        "bot",
        "bot_sessions",
        "callback",
        "callback_channel",
        "closed",
        "concurrency",
        "config",
        "deferred",
        "draw_bot_return",
        "draw_bot_time",
        "draw_handle_time",
        "draw_patience",
        "draw_repeat_delay",
        "draw_retrial_delay",
        "draw_return_handle_time",
        "draw_return_patience",
        "draw_silent_time",
        "draw_uniform",
        "epochs",
        "escalation",
        "in_system",
        "index",
        "intervals",
        "kind",
        "lines",
        "mean_handle_time",
        "name",
        "opened",
        "priority",
        "queue",
        "queue_time",
        "repeat",
        "resolution",
        "retrial",
        "silent",
        "site_resolution",
        "staged",
        "steps",
        "stretch",
        "staged_answered",
        "staged_time",
        "is_callback",
        "threshold",
        "wait_bins",
    )

    def __init__(
        self,
        index: int,
        name: str,
        channel: Channel,
        calendar: Calendar,
        streams: Streams,
        priority: int,
    ):
        self.index, self.name, self.config, self.priority = index, name, channel, priority
        self.kind = channel.kind
        self.steps: list[tuple[SiteState, float]] = []  # eligible sites and their delays
        self.queue: deque[Contact] = deque()
        n = len(calendar.slots)
        self.intervals = [ChannelTally() for _ in range(n)]
        self.queue_time = [0.0] * n  # contact-seconds waiting, per interval
        # Answered contacts per interval by wait: bin i holds waits in (P[i-1], P[i]] of
        # WAIT_POINTS, the last bin those above; accounting turns them into waits_within_*.
        self.wait_bins = [[0] * (len(WAIT_POINTS) + 1) for _ in range(n)]
        # Answered contacts per interval that were not plain first contacts, and their
        # wait + handle time: the rest are resolved at first contact (see accounting).
        self.staged_answered = [0] * n
        self.staged_time = [0.0] * n
        self.is_callback = False  # a call-back channel: its contacts are not new customers
        self.threshold = channel.service_level.threshold
        self.staged = channel.staged
        self.concurrency, self.stretch = channel.concurrency, channel.stretch
        self.lines = channel.lines
        self.in_system = 0  # voice with lines: contacts waiting or being served
        self.deferred = channel.kind == "email"
        self.opened = [0] * n  # email: items entering the queue, per interval
        self.closed = [0] * n  # email: items taken by an agent, per interval
        self.escalation: ChannelState | None = None
        self.callback_channel: ChannelState | None = None
        self.callback = channel.callback
        self.mean_handle_time = channel.handle_time.expected() * channel.agent_assist
        self.resolution = channel.resolution
        self.site_resolution: dict[str, float] = {}
        self.always_resolved = channel.resolution >= 1.0
        self.bot = channel.bot
        self.bot_sessions = 0  # sessions in progress
        self.repeat = channel.repeat
        self.retrial = channel.retrial
        self.silent = channel.silent_abandonment
        self.epochs = (
            arrival_epochs(
                channel.arrivals,
                calendar,
                streams.generator("arrivals", name),
                streams.generator("busyness", name),
            )
            if channel.arrivals is not None
            else iter(())
        )
        assist = channel.agent_assist

        def draws(purpose: str, distribution, scale: float = 1.0):
            sample = distribution.sample
            if scale != 1.0:
                return BatchedDraws(
                    lambda rng, size: sample(rng, size) * scale, streams.generator(purpose, name)
                )
            return BatchedDraws(sample, streams.generator(purpose, name))

        self.draw_handle_time = draws("handle_time", channel.handle_time, assist)
        patience = channel.patience
        self.draw_patience = draws("patience", patience) if patience is not None else None
        # Returning customers (retrials, repeats) draw from streams of their own, so that
        # new arrivals keep the same draws whatever the returns do.
        self.draw_return_handle_time = draws("return_handle_time", channel.handle_time, assist)
        self.draw_return_patience = (
            draws("return_patience", patience) if patience is not None else None
        )
        self.draw_uniform = {
            purpose: BatchedDraws(_uniform, streams.generator(purpose, name))
            for purpose in (
                "bot",
                "bot_outcome",
                "resolution",
                "repeat",
                "retrial",
                "callback",
                "silent",
            )
        }
        if channel.bot is not None:
            self.draw_bot_time = draws("bot_time", channel.bot.handle_time)
            if channel.bot.return_delay is not None:
                self.draw_bot_return = draws("bot_return", channel.bot.return_delay)
        if channel.repeat is not None:
            self.draw_repeat_delay = draws("repeat_delay", channel.repeat.delay)
        if channel.retrial is not None:
            self.draw_retrial_delay = draws("retrial_delay", channel.retrial.delay)
        if channel.silent_abandonment is not None:
            self.draw_silent_time = draws("silent_time", channel.silent_abandonment.handle_time)


class AgentState:
    """One agent of one shift. ``leaving`` is set when the agent's shift ends or a break is
    due while a contact is in hand: the agent leaves (or takes the break) on finishing."""

    __slots__ = (
        "break_due",
        "breaks",
        "busy_since",
        "contact",
        "ended",
        "generation",
        "idle_since",
        "leaving",
        "n_chats",
        "on",
        "on_since",
        "shift_end",
        "site",
    )

    def __init__(self, site: SiteState, shift_end: float) -> None:
        self.site = site
        self.shift_end = shift_end
        self.idle_since = 0.0
        self.on = False  # logged on: idle or busy
        self.on_since = 0.0
        self.ended = False
        self.leaving = False
        self.break_due = 0.0  # length of a break waiting for the contact in hand to end
        self.breaks: list[tuple[float, float]] = []  # (start, length) to come, last first
        self.contact: Contact | None = None  # the contact in hand (one at a time)
        self.n_chats = 0  # chats in hand, on a channel with concurrency
        self.busy_since = 0.0  # when the agent's first chat in hand began
        self.generation = 0  # invalidates the agent's free chat slots once it is idle


class SiteState:
    """One site: its idle agents (longest idle first), free chat slots, the time its agents
    are logged on and busy, per channel and interval, and the contacts they answered."""

    def __init__(self, index: int, site: Site, channel_names: list[str], calendar: Calendar):
        self.index, self.site, self.name = index, site, site.name
        n = len(calendar.slots)
        self.instances = roster(site, calendar)
        self.upcoming = iter(self.instances)
        self.shrinkage = site.shrinkage
        self.agents: list[AgentState] = []
        self.idle: deque[AgentState] = deque()
        self.n_on = 0  # agents logged on now
        self.available_time = [0.0] * n  # agent-seconds logged on, per interval
        # Agent-seconds busy and contacts answered, per channel index and interval.
        self.busy = [[0.0] * n for _ in channel_names]
        self.answered = [[ChannelTally() for _ in range(n)] for _ in channel_names]
        # Free chat slots per channel index: (agent, generation), stale ones skipped.
        self.slots: list[deque[tuple[AgentState, int]]] = [deque() for _ in channel_names]
        self.overruns: list[tuple[float, float]] = []  # (shift end, left), paid time
        self.speed = [site.proficiency.get(name, 1.0) for name in channel_names]
        self.channels: list[tuple[ChannelState, float]] = []  # highest priority first
        self.after: dict[int, float] = {}  # channel index -> wait before this site may take it
        self.rank = 0.0  # routing order among sites: lower first
        self.pay = PayScale(site, calendar, calendar.horizon + 86400.0)
