"""Runtime state of a replication: contacts, customers, lanes, channels, agents and sites.

These are plain slotted objects that the core (:mod:`ccsim.sim.core`) and the features
(:mod:`ccsim.sim.features`) read and change; they hold no logic and only what the core
reads. A feature keeps its own state (bot sessions, lines in use, an agent's chats in hand
or shift) in its own objects, not here; the ``ChannelState`` attributes a feature sets
(``serve``, ``pick_up``, ``stretched`` and the hooks) are the points where the core calls
it.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from ccsim.sim.counts import ChannelCounts, SiteCounts

__all__ = [
    "AgentState",
    "ChannelState",
    "Contact",
    "Customer",
    "InternalChannel",
    "Lane",
    "SiteState",
    "attach",
    "new_contact",
    "new_customer",
]

# Contact states.
WAITING, ANSWERED, ABANDONED, SILENT, GONE = 0, 1, 2, 3, 4

# Flags of ``Contact.followup``: what remains to do when the contact leaves its channel
# (QUEUED: counted among the contacts waiting, for balking; TRUNK: holds a shared line;
# CLOSING: in service across its channel's close, whose end disconnects the queue).
NOTHING, ESCALATE, LINE, QUEUED, TRUNK, CLOSING = 0, 1, 2, 4, 8, 16


class Customer:
    """A customer across contacts (bot, queues, transfers, retrials, repeats), made from
    their first contact: where and when they first arrived, whether they are still on
    their first handled contact, and their queue time over the attempts at the entry
    channel until one is answered."""

    __slots__ = (
        "answered", "arrival", "contacts", "entry", "first", "human", "logit", "misled",
        "request", "slot", "tally", "wait",
    )  # fmt: skip

    def __init__(self, first: Contact, arrival: float):
        self.arrival = arrival
        self.tally = first.tally  # the entry channel's tally then (None: warm-up)
        self.entry = first.channel
        self.slot = first.slot  # the first arrival's interval (its journey's bin row)
        self.first = True
        self.wait = 0.0  # queue time of the entry channel's attempts not answered
        self.answered = False  # an attempt at the entry channel was answered
        self.human = False  # a human answered one of its contacts (agent FCR)
        self.request = first.request  # its request type, kept across its contacts
        # Its satisfaction so far (ccsim.sim.satisfaction): the log-odds its returns,
        # transfers and answered waits took, its contacts, and a false containment.
        self.logit = 0.0
        self.contacts = 1
        self.misled = False


# A class whose ``__init__`` is Python is called through C, a frame the interpreter cannot
# inline: ``new_contact`` and ``new_customer`` make the same objects for the hot path as a
# plain function (inlined) and ``object.__new__`` (C), at about half the cost.
_new = object.__new__


def new_customer(first: Contact, arrival: float) -> Customer:
    """``Customer(first, arrival)``, made at the cost of a plain call."""
    customer = _new(Customer)
    customer.arrival = arrival
    customer.tally = first.tally
    customer.entry = first.channel
    customer.slot = first.slot
    customer.first = True
    customer.wait = 0.0
    customer.answered = customer.human = customer.misled = False
    customer.request = first.request
    customer.logit = 0.0
    customer.contacts = 1
    return customer


def new_contact(channel, arrival, handle_time, patience, slot, tally) -> Contact:
    """``Contact(channel, arrival, handle_time, patience, slot, tally)``, made at the cost
    of a plain call."""
    contact = _new(Contact)
    contact.channel = channel
    contact.lane = channel.lane
    contact.arrival = arrival
    contact.handle_time = handle_time
    contact.patience = patience
    contact.slot = slot
    contact.tally = tally
    contact.state = WAITING
    contact.customer = contact.request = None
    contact.followup = NOTHING
    return contact


class Contact:
    """One contact with one channel: a call, a chat, an email, a transfer, a call back."""

    __slots__ = (
        "arrival",
        "channel",
        "customer",
        "followup",
        "handle_time",
        "lane",
        "patience",
        "request",
        "slot",
        "state",
        "tally",
    )

    def __init__(self, channel, arrival, handle_time, patience, slot, tally):
        self.channel = channel
        self.lane = channel.lane  # the queue it waits in; a routing policy may change it
        self.arrival = arrival  # when it reached this channel's queue (or bot)
        self.handle_time = handle_time
        self.patience = patience
        self.slot = slot  # its arrival interval
        self.tally = tally  # that interval's tally, or None before the warm-up
        self.state = WAITING
        self.customer: Customer | None = None  # None: a first contact, made when needed
        self.followup = NOTHING
        self.request = None  # its request type's name (a channel with request_types)


class Lane:
    """A FIFO queue of one channel's contacts that the same sites may take, each site from
    its ``after`` wait on. A channel has one lane, unless its routing splits its contacts
    between sites (one lane per site). Contacts that left are dropped when they reach the
    head."""

    __slots__ = ("channel", "deadline", "later", "queue", "steps")

    def __init__(self, channel: ChannelState, steps: list[tuple[SiteState, float]]) -> None:
        self.channel = channel
        self.steps = steps  # (site, after): the sites that may take a contact, and from when
        self.later: list[tuple[SiteState, float]] = []  # the steps with after > 0
        self.queue: deque[Contact] = deque()
        # Sets a waiting contact's patience deadline: the clock's Deadlines.add (the core's).
        self.deadline = None


class ChannelState:
    """One channel as the core sees it: its lanes, counts, draws and hooks.

    Each ``on_*`` tuple holds the hooks features attach to one point of a contact's life
    (see :mod:`ccsim.sim.features`); a channel no feature touches has them all empty and
    its contacts take the core's path alone.
    """

    __slots__ = (
        "by_site",
        "concurrency",
        "counts",
        "draw_handle_time",
        "draw_patience",
        "due",
        "epochs",
        "hooked",
        "index",
        "intervals",
        "internal",
        "kind",
        "lane",
        "lanes",
        "mean_handle_time",
        "name",
        "on_abandon",
        "on_answer",
        "on_arrive",
        "on_end",
        "on_enter",
        "on_leave",
        "on_wait",
        "pick_up",
        "plain",
        "priority",
        "route",
        "serve",
        "served_as",
        "sole_idle",
        "steps",
        "stretched",
        "threshold",
        "toll",
        "types",
    )

    def __init__(self, index: int, name: str, kind: str, priority: int, counts: ChannelCounts):
        self.index, self.name, self.kind, self.priority = index, name, kind, priority
        self.served_as = name  # the user channel whose sites and skills it uses
        self.internal = False  # made by a feature (call backs), not written by the user
        self.counts = counts
        self.intervals = counts.intervals
        self.threshold = 0.0
        self.toll = 0.0  # log-odds of satisfaction lost per second queued here (the survey's)
        self.by_site = False  # count each site's part as contacts are answered (several sites)
        self.concurrency = 1
        self.mean_handle_time = 0.0
        # A first contact is its own customer, resolved at first contact (no bot, tiers or
        # repeats; every site resolves): the counter counts those from its totals.
        self.plain = True
        self.steps: list[tuple[SiteState, float]] = []  # eligible sites and their waits
        self.lane = Lane(self, self.steps)
        self.lanes = [self.lane]
        self.epochs = iter(())
        self.draw_handle_time = None
        self.draw_patience = None  # None: contacts never abandon
        self.route = None  # set by the routing policy: an idle agent for a contact, or None
        self.sole_idle = None  # the one site's idle agents, the core's route inline (start)
        self.serve = None  # None: one contact at a time (the core); else the chats feature's
        # None, or the chats feature's handle time of a chat stretched for the chats its
        # agent holds: called as ``stretched(agent, handle_time)`` when it is answered.
        self.stretched = None
        self.pick_up = None  # an answered contact no longer waiting (silent abandonment)
        # Request type name -> what differs for it here (the request types feature's), or
        # None: the channel's own values serve every contact.
        self.types = None
        self.due = None  # the event of its next arrival (the core's)
        self.hooked = False  # whether a hook runs before the route (set when the run starts)
        self.on_arrive = self.on_enter = self.on_wait = ()
        self.on_answer = self.on_end = self.on_abandon = self.on_leave = ()


class InternalChannel(NamedTuple):
    """A channel a feature adds to the user's (call backs, messages), built by the engine
    after them: served by the sites and skills of ``served_as``, with its handle times, and
    after every live channel (deferred work). A feature names it ``<channel>:<what>``, a
    name no user channel can have (user names hold no ':')."""

    name: str
    served_as: str  # the user channel whose sites, skills and handle times it uses
    kind: str
    threshold: float  # its service-level threshold (a call back's deadline, a response target)
    deferred: bool  # counted as deferred work: items opened and closed, and the backlog


def attach(channel: ChannelState, point: str, hook) -> None:
    """Add ``hook`` to ``channel``'s hooks at ``point`` (``"on_enter"``, ...), after those
    already there."""
    setattr(channel, point, (*getattr(channel, point), hook))


class AgentState:
    """One agent of one shift, as the core sees it: its site, the contact in hand (one at a
    time) and the event of that service's end, since when it is idle, and ``leaving``: set
    by the staffing feature when the agent's shift ends or a break is due while a contact
    is in hand, so that the agent leaves (or takes the break) on finishing instead of
    taking the next contact.

    The staffing feature makes the agents, as a subclass with its own slots (the shift's
    end, the breaks to come); the chats feature keeps each agent's chats in hand in its
    own objects."""

    __slots__ = ("contact", "due", "idle_since", "leaving", "site")

    def __init__(self, site: SiteState) -> None:
        self.site = site
        self.idle_since = 0.0
        self.leaving = False
        self.contact: Contact | None = None  # the contact in hand (one at a time)
        self.due = None  # the event of the end of its service (one at a time)


class SiteState:
    """One site: its idle agents (longest idle first), the lanes its agents take from
    (highest channel priority first) and its counts."""

    __slots__ = (
        "agents",
        "busy",
        "config",
        "cost",
        "counts",
        "csat",
        "idle",
        "index",
        "lanes",
        "lanes_of",
        "n_on",
        "name",
        "on_idle",
        "speed",
    )

    def __init__(self, index: int, config, counts: SiteCounts, speed: list[float]) -> None:
        self.index, self.config, self.name = index, config, config.name
        self.counts = counts
        self.busy = counts.busy  # agent-seconds busy per channel index and interval
        self.cost = config.cost_per_hour
        self.agents: list[AgentState] = []
        self.idle: deque[AgentState] = deque()
        self.n_on = 0  # agents logged on now
        self.speed = speed  # handle-time multiplier per channel index
        # The log-odds of satisfaction of a journey it resolves at once (set by the survey).
        self.csat = 0.0
        self.lanes: list[tuple[Lane, float]] = []  # highest priority first
        self.lanes_of: dict[int, list[tuple[Lane, float]]] = {}  # per channel index
        # Called with the time when an agent joins the idle agents (a dialer's cue to
        # dial); None without outbound work.
        self.on_idle = None
