"""The bot: a ``share`` of new contacts start a bot session (unless the bot is full). At
its end the contact is contained (truly: the customer is resolved; or falsely: the
customer comes back later) or handed over to the human queue, its handle time and
patience multiplied (context lost or passed on).

Every new contact draws its bot choice, session time and outcome, so the draws stay aligned
across scenarios whatever the share. A contact the bot takes gets its
:class:`~ccsim.sim.state.Customer` then (its first arrival is the bot's). Each channel gets
its own :class:`_Bot`, whose bound method is the channel's arrive hook."""

from __future__ import annotations

from heapq import heappush

from simpy.events import NORMAL

from ccsim.sim.clock import Due
from ccsim.sim.state import GONE, Customer, attach

__all__ = ["Bot"]


class _Bot:
    """One channel's bot: its settings, streams and sessions in progress."""

    __slots__ = (
        "_done_hook", "_eid", "_queue", "config", "contained", "core", "count", "draw_outcome",
        "draw_return", "draw_session", "draw_tries", "env", "returns", "sessions",
    )  # fmt: skip

    def __init__(self, core, config, streams, name: str) -> None:
        self.core, self.count, self.env = core, core.count, core.env
        self.config = config
        self.contained = config.containment + config.false_containment
        self.sessions = 0
        self.draw_tries = streams.uniforms("bot", name)
        self.draw_session = streams.draws("bot_time", name, config.handle_time)
        self.draw_outcome = streams.uniforms("bot_outcome", name)
        self.draw_return = (
            streams.draws("bot_return", name, config.return_delay)
            if config.return_delay is not None
            else None
        )
        self.returns = None  # the returns feature, once every feature is built
        # A session's end is scheduled as ``Clock.after`` does, inline (one per session).
        self._queue, self._eid, self._done_hook = core._queue, core._eid, self._done

    def start_session(self, contact, now: float) -> bool:
        """Start a bot session for a new contact, if it tries the bot and there is room."""
        bot = self.config
        tries = self.draw_tries() < bot.share
        session = self.draw_session()
        outcome = self.draw_outcome()
        if not tries or (bot.concurrency is not None and self.sessions >= bot.concurrency):
            return False
        self.sessions += 1
        contact.customer = Customer(now, contact.tally, contact.channel)
        cost = bot.cost_per_session + bot.cost_per_minute * session / 60.0
        self.count.bot_session(contact, session, cost)
        heappush(
            self._queue,
            (now + session, NORMAL, next(self._eid), Due(self._done_hook, (contact, outcome))),
        )
        return True

    def _done(self, event) -> None:
        contact, outcome = event._value
        bot = self.config
        self.sessions -= 1
        now = self.env._now
        if outcome < self.contained:
            contact.state = GONE
            self.count.outcome(contact, "contained")
            customer = contact.customer
            if outcome < bot.containment:
                self.count.resolution(customer, now, bot=True)
            else:  # falsely contained: the customer comes back
                customer.first = False
                self.returns.come_back_at(customer, now + self.draw_return())
            return
        # Handed over: the customer queues for a human, with the context lost or passed on.
        contact.handle_time *= bot.handle_time_multiplier
        contact.patience *= bot.patience_multiplier
        contact.arrival = now
        self.core.enter(contact, now)


class Bot:
    name = "bot"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.bot is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core = core
        self.bots: dict[int, _Bot] = {}  # channel index -> its bot
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.bot is None:
                continue
            bot = self.bots[channel.index] = _Bot(core, config.bot, streams, channel.name)
            attach(channel, "on_arrive", bot.start_session)

    def start(self) -> None:
        returns = self.core.features.get("returns")
        for bot in self.bots.values():
            bot.returns = returns
