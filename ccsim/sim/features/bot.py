"""The bot: a ``share`` of new contacts start a bot session (unless the bot is full). At
its end the contact is contained (truly: the customer is resolved; or falsely: the
customer comes back later) or handed over to the human queue, its handle time and
patience multiplied (context lost or passed on).

Every new contact draws its bot choice, session time and outcome, so the draws stay aligned
across scenarios whatever the share. A contact the bot takes gets its
:class:`~ccsim.sim.state.Customer` then (its first arrival is the bot's). Each channel gets
its own :class:`_Bot`, whose ``start_session`` is the channel's arrive hook; on a channel
with request types a session ends by :meth:`_Bot._typed`, which contains by the contact's
type (complex requests are seldom contained) and counts sessions and outcomes per type."""

from __future__ import annotations

import math

from ccsim.sim.state import GONE, attach, new_customer

__all__ = ["Bot"]


class _Bot:
    """One channel's bot: its settings, streams and sessions in progress."""

    __slots__ = (
        "_call_at", "_contained", "_falsely_contained", "_handed_over", "clock", "concurrency",
        "config", "containment", "core", "count", "draw_outcome", "draw_return",
        "draw_session", "draw_tries", "false_limit", "kinds", "returns", "sessions",
        "share",
    )  # fmt: skip

    def __init__(self, core, config, streams, name: str) -> None:
        self.core, self.count, self.clock = core, core.count, core.clock
        self.config = config
        # The settings read for every new contact, as plain attributes.
        self.share = config.share
        self.concurrency = config.concurrency if config.concurrency is not None else math.inf
        self.containment = config.containment
        self.false_limit = config.containment + config.false_containment
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
        self.kinds = None  # the channel's request types (_typed), or None
        # A session's end is scheduled with the callback of its outcome, drawn when it
        # starts: the event holds the contact alone.
        self._call_at = core.clock.call_at
        self._contained = self.contained
        self._falsely_contained = self.falsely_contained
        self._handed_over = self.handed_over

    def start_session(self, contact, now: float) -> bool:
        """Start a bot session for a new contact, if it tries the bot and there is room;
        a contact with a request type is contained by its type's rates (:meth:`_typed`)."""
        tries = self.draw_tries() < self.share
        session = self.draw_session()
        outcome = self.draw_outcome()
        if not tries or self.sessions >= self.concurrency:
            return False
        self.sessions += 1
        contact.customer = new_customer(contact, now)
        tally = contact.tally
        if tally is not None:  # the session counted here, not by a call to the counter
            bot = self.config
            tally.bot_sessions += 1
            tally.bot_time += session
            tally.bot_cost += bot.cost_per_session + bot.cost_per_minute * session / 60.0
        if self.kinds is not None:
            done = self._typed(contact, outcome)
        elif outcome < self.containment:
            done = self._contained
        elif outcome < self.false_limit:
            done = self._falsely_contained
        else:
            done = self._handed_over
        self._call_at(now + session, done, contact)
        return True

    def _typed(self, contact, outcome: float):
        """The end of a typed contact's session by its type's containment, the session and
        its outcome counted for the type as the session starts."""
        kind = self.kinds[contact.request]
        counted = contact.tally is not None
        if counted:
            self.core.request_types.table[contact.channel, contact.request, "bot_sessions"] += 1.0
        if outcome < kind.containment:
            done, name = self._contained, "contained"
        elif outcome < kind.false_limit:
            done, name = self._falsely_contained, "falsely_contained"
        else:
            done, name = self._handed_over, ""
        if name and counted:
            self.core.request_types.table[contact.channel, contact.request, name] += 1.0
        return done

    def contained(self, event) -> None:
        """The session ends with the customer's need met by the bot."""
        contact = event._value
        self.sessions -= 1
        contact.state = GONE
        self.count.contained(contact, self.clock.now, True)

    def falsely_contained(self, event) -> None:
        """The session ends as contained, but the customer's need is not met: they come
        back later, straight to the humans."""
        contact = event._value
        self.sessions -= 1
        contact.state = GONE
        self.count.contained(contact, self.clock.now, False)
        customer = contact.customer
        customer.first = False
        self.core.survey.misled(customer)
        self.returns.come_back_at(customer, self.clock.now + self.draw_return())

    def handed_over(self, event) -> None:
        """The customer queues for a human, with the context lost or passed on."""
        contact = event._value
        self.sessions -= 1
        now = self.clock.now
        bot = self.config
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
            bot.kinds = channel.types
            attach(channel, "on_arrive", bot.start_session)

    def start(self) -> None:
        returns = self.core.features.get("returns")
        for bot in self.bots.values():
            bot.returns = returns

    @staticmethod
    def held(pending):
        """The contacts in a bot session when the run stops at the cut-off: whatever its
        outcome, the customer is still in hand (a session's end is the one event a
        :class:`_Bot` schedules)."""
        for callback, contact in pending:
            if isinstance(getattr(callback, "__self__", None), _Bot):
                yield contact
