"""Features: the parts of a contact's or an agent's life beyond the core's queue.

Each feature is one module and one class, built only when the scenario uses it
(:func:`install`), so a plain inbound run pays nothing for the others. A feature attaches
hooks to the named points of a contact's life on the channels it concerns (see
:mod:`ccsim.sim.core`), with :func:`attach`:

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
(outbound: a dialer's cue to dial).

Hooks are called in the order of :data:`FEATURES`. A feature may also have ``start()``
(called once arrivals are scheduled) and ``finish(end)`` (called when the run is over);
features find each other in ``core.features`` by name.
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
from ccsim.sim.features.returns import Returns
from ccsim.sim.features.silent import SilentAbandonment
from ccsim.sim.features.staffing import Staffing
from ccsim.sim.features.tiers import Tiers
from ccsim.sim.features.trunks import Trunks
from ccsim.sim.state import attach
from ccsim.sim.streams import Streams

__all__ = ["FEATURES", "attach", "install"]

#: Every feature, in the order its hooks run at a point they share.
FEATURES = (
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


def install(core, scenario: Scenario, streams: Streams) -> list:
    """Build the features the scenario uses, in :data:`FEATURES` order."""
    built = []
    for feature in FEATURES:
        if feature.used(scenario):
            instance = feature(core, scenario, streams)
            core.features[feature.name] = instance
            built.append(instance)
    return built
