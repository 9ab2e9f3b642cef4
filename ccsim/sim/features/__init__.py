"""Features: the parts of a contact's or an agent's life beyond the core's queue.

Each feature is one module and one class, built only when the scenario uses it
(:func:`install`), so a plain inbound run pays nothing for the others. The engine knows
features only through this package's two functions, :func:`internal_channels` and
:func:`install`, and the protocol below; it imports no feature module.

The protocol
------------
A feature class has:

``name``
    its key in ``core.features`` (features find each other there, in ``start()``).
``used(scenario)``
    a static method: whether the scenario needs it.
``__init__(core, scenario, streams)``
    builds its state and attaches its hooks (below) to the channels it concerns, with
    :func:`attach`; it draws only from its own streams (``streams.uniforms("bot", channel)``).

and may have:

``internal_channels(scenario)``
    a static method: the channels it adds to the user's
    (:class:`~ccsim.sim.state.InternalChannel`: call backs ``<voice>:callback``, messages
    ``<channel>:message``), named, configured and later found (in ``core.channels``) by the
    feature alone. The engine builds them after the user's channels, in :data:`FEATURES`
    order, before the sites and routing, as their counts are rows like any channel's.
``start()``
    called once every feature is built and arrivals are scheduled.
``finish(end)``
    called when the run is over (agents log off, open email is carried over).
``held(pending)``
    the contacts whose customers the feature still has in hand when the run stops (at the
    cut-off, with ``follow_journeys``): a bot session, a chat service that escalates.
    ``pending`` is the clock's events left, as ``(callback, value)`` pairs
    (:meth:`ccsim.sim.clock.Clock.pending`); a feature recognises its own callbacks and
    yields their contacts. The engine counts each such customer as censored, once
    (``engine._censor_open``), with the core's own (:meth:`ccsim.sim.core.Core.held`).

**Owned state.** A feature keeps its state in its own objects: lines in use, bot sessions,
each agent's chats in hand (:mod:`.chats`), balking's waiting counts. The runtime objects of
:mod:`ccsim.sim.state` hold only what the core reads; where the core must call a feature on
its hot path, a channel attribute holds the feature's function (``serve``, ``pick_up``,
``stretched``) or a site's (``on_idle``). The agents are the staffing feature's
(:class:`~.staffing.ShiftAgent`, the core's agent with the shift's slots).

**Rules.** A hook that ends a contact counts its outcome through the counter
(``core.count``); one that takes a waiting contact out of its queue calls
``core.leave_queue`` (lines are freed there); ``core.bring`` brings a new contact for a
customer (a transfer, a return, a call back). An end hook acts on a ``followup`` flag its
feature set: the core skips the end hooks of a contact without one. A feature on the hot
path keeps one object per channel whose bound methods are the hooks (tiers, the bot, call
backs), so that a contact reads its channel's settings as attributes, not from dicts keyed
by channel index. A feature can be tested alone with ``ccsim.sim.engine.build``.

Hooks
-----
A feature attaches hooks to the named points of a contact's life (see
:mod:`ccsim.sim.core`):

=========== ====================================== =====================================
point       called                                 a hook returns
=========== ====================================== =====================================
on_arrive   a new contact, before the human queue  True: it took the contact
on_enter    the contact reaches the human queue    False: turned away
on_wait     no agent was free                      True: it took the contact (balking
                                                   is the last: after it, the queue)
on_answer   an agent took it (after counting)      -
on_end      its service ended, if it has a         -
            ``followup`` flag (what remains to do)
on_abandon  its patience ran out                   -
on_leave    a feature took it out of the queue     -
=========== ====================================== =====================================

Beside these, a site's ``on_idle(now)`` is called when an agent joins its idle agents
(outbound: a dialer's cue to dial). Hooks are called in the order of :data:`FEATURES`.
"""

from __future__ import annotations

from ccsim.model import Scenario
from ccsim.sim.features.balking import Balking
from ccsim.sim.features.bot import Bot
from ccsim.sim.features.callbacks import Callbacks
from ccsim.sim.features.chats import Chats
from ccsim.sim.features.closing import Closing
from ccsim.sim.features.email import Email
from ccsim.sim.features.lines import Lines
from ccsim.sim.features.messages import Messages
from ccsim.sim.features.outbound import Outbound
from ccsim.sim.features.request_types import RequestTypes
from ccsim.sim.features.returns import Returns
from ccsim.sim.features.silent import SilentAbandonment
from ccsim.sim.features.staffing import Staffing
from ccsim.sim.features.tiers import Tiers
from ccsim.sim.features.trunks import Trunks
from ccsim.sim.state import InternalChannel, attach
from ccsim.sim.streams import Streams

__all__ = ["FEATURES", "attach", "install", "internal_channels"]

#: Every feature, in the order its hooks run at a point they share.
FEATURES = (
    RequestTypes,
    Staffing,
    Lines,
    Trunks,
    Chats,
    SilentAbandonment,
    Returns,
    Tiers,
    Bot,
    Callbacks,
    Balking,
    Messages,
    Closing,
    Email,
    Outbound,
)


def internal_channels(scenario: Scenario) -> list[InternalChannel]:
    """The channels the features the scenario uses add to the user's, in :data:`FEATURES`
    order (the order of their rows)."""
    return [
        channel
        for feature in FEATURES
        if hasattr(feature, "internal_channels") and feature.used(scenario)
        for channel in feature.internal_channels(scenario)
    ]


def install(core, scenario: Scenario, streams: Streams) -> list:
    """Build the features the scenario uses, in :data:`FEATURES` order."""
    built = []
    for feature in FEATURES:
        if feature.used(scenario):
            instance = feature(core, scenario, streams)
            core.features[feature.name] = instance
            built.append(instance)
    return built
