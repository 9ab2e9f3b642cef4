"""The bot: a ``share`` of new contacts start a bot session (unless the bot is full). At
its end the contact is contained (truly: the customer is resolved; or falsely: the
customer comes back later) or handed over to the human queue, its handle time and
patience multiplied (context lost or passed on).

Every new contact draws its bot choice, session time and outcome, so the draws stay aligned
across scenarios whatever the share."""

from __future__ import annotations

from ccsim.sim.state import GONE, attach

__all__ = ["Bot"]


class Bot:
    name = "bot"

    @staticmethod
    def used(scenario) -> bool:
        return any(channel.bot is not None for channel in scenario.channels.values())

    def __init__(self, core, scenario, streams) -> None:
        self.core, self.count, self.after = core, core.count, core.after
        self.env = core.env
        self.config = {}
        self.sessions = {}  # channel index -> sessions in progress
        self.draws = {}
        for channel in core.channels:
            config = scenario.channels.get(channel.name)
            if channel.internal or config is None or config.bot is None:
                continue
            bot = config.bot
            self.config[channel.index] = bot
            self.sessions[channel.index] = 0
            self.draws[channel.index] = (
                streams.uniforms("bot", channel.name),
                streams.draws("bot_time", channel.name, bot.handle_time),
                streams.uniforms("bot_outcome", channel.name),
                streams.draws("bot_return", channel.name, bot.return_delay)
                if bot.return_delay is not None
                else None,
            )
            attach(channel, "on_arrive", self.start_session)

    def start_session(self, contact, now: float) -> bool:
        """Start a bot session for a new contact, if it tries the bot and there is room."""
        index = contact.channel.index
        bot = self.config[index]
        tries, session_time, outcome, _ = self.draws[index]
        tries = tries() < bot.share
        session = session_time()
        outcome = outcome()
        if not tries or (bot.concurrency is not None and self.sessions[index] >= bot.concurrency):
            return False
        self.sessions[index] += 1
        cost = bot.cost_per_session + bot.cost_per_minute * session / 60.0
        self.count.bot_session(contact, session, cost)
        self.after(session, self._done, (contact, outcome))
        return True

    def _done(self, event) -> None:
        contact, outcome = event._value
        index = contact.channel.index
        bot = self.config[index]
        self.sessions[index] -= 1
        now = self.env._now
        customer = contact.customer
        if outcome < bot.containment + bot.false_containment:
            contact.state = GONE
            self.count.outcome(contact, "contained")
            if outcome < bot.containment:
                self.count.resolution(customer, now)
            else:  # falsely contained: the customer comes back
                customer.first = False
                back = now + self.draws[index][3]()
                self.core.features["returns"].come_back_at(customer, back)
            return
        # Handed over: the customer queues for a human, with the context lost or passed on.
        contact.handle_time *= bot.handle_time_multiplier
        contact.patience *= bot.patience_multiplier
        contact.arrival = now
        self.core.enter(contact, now)
