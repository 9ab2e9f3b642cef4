"""A queue's patience deadlines (``ccsim.sim.clock.Deadlines``): only the earliest is on
the clock's heap, and each fires at its time, in the order the clock would have processed
it had it been pushed when it was set."""

from __future__ import annotations

from ccsim.sim.clock import Clock

LIVE, LEFT = 0, 1


class Item:
    def __init__(self, name: str) -> None:
        self.name, self.state = name, LIVE


def _fired(clock: Clock, plan, leave=()):
    """Set each ``(when, name)`` of ``plan`` at time 0, make the items of ``leave``
    ``(time, name)`` leave then, run the clock: the ``(time, name)`` of each call back."""
    fired = []
    deadlines = clock.deadlines(lambda item: fired.append((clock.now, item.name)), LIVE)
    items = {name: Item(name) for _, name in plan}
    for when, name in plan:
        deadlines.add(when, items[name])
    for when, name in leave:
        clock.call_at(when, lambda event: setattr(event._value, "state", LEFT), items[name])
    clock.run()
    return fired


def test_each_live_item_is_called_at_its_deadline_in_time_order():
    plan = [(5.0, "a"), (2.0, "b"), (9.0, "c"), (1.0, "d"), (7.0, "e")]
    assert _fired(Clock(), plan) == sorted(plan)


def test_only_the_earliest_is_on_the_heap_and_an_item_that_left_costs_no_event():
    clock = Clock()
    fired = []
    deadlines = clock.deadlines(lambda item: fired.append((clock.now, item.name)), LIVE)
    items = {name: Item(name) for name in "abcd"}
    for when, name in [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")]:
        deadlines.add(when, items[name])
    assert len(clock.pending()) == 1  # a's deadline alone
    items["b"].state = items["c"].state = LEFT  # answered before their deadlines
    clock.run()
    # a is called at 1; then d is the earliest deadline whose item is live, and goes on
    # the heap: b's and c's are dropped without an event.
    assert fired == [(1.0, "a"), (4.0, "d")]
    assert deadlines.entries == []  # no deadline left to come


def _order(steps) -> list[str]:
    clock = Clock()
    order = []
    deadlines = clock.deadlines(lambda item: order.append(item.name), LIVE)
    for when, name in steps:
        if name.startswith("event"):
            clock.call_at(when, lambda event: order.append(event._value), name)
        else:
            deadlines.add(when, Item(name))
    clock.run()
    return order


def test_a_deadline_keeps_its_place_among_events_due_at_the_same_time():
    """Events due at the same time are processed in the order they were scheduled: a
    deadline set before an event due at the same moment comes first, though it went on
    the heap only once the earlier deadline was done."""
    assert _order([(1.0, "a"), (3.0, "b"), (3.0, "event at 3")]) == ["a", "b", "event at 3"]
    assert _order([(1.0, "a"), (3.0, "event at 3"), (3.0, "b")]) == ["a", "event at 3", "b"]


def test_a_deadline_set_aside_by_an_earlier_one_is_taken_up_again():
    """b's deadline goes on the heap, then an earlier one (c) is set: b's is set aside, and
    taken up again, in its place, once c's is done."""
    steps = [(3.0, "b"), (3.0, "event at 3"), (2.0, "c")]
    assert _order(steps) == ["c", "b", "event at 3"]


def test_the_hot_paths_makers_make_what_the_classes_make():
    """``new_contact``, ``new_customer`` and the clock's timers skip the class call (its
    ``__init__``) for speed: every slot must be set as the class sets it."""
    from ccsim.sim.state import ChannelState, Contact, Customer, new_contact, new_customer

    def slots(obj):
        return {name: getattr(obj, name) for name in type(obj).__slots__}

    channel = ChannelState(0, "voice", "voice", 0, counts=type("Counts", (), {"intervals": []}))
    made = Contact(channel, 12.5, 300.0, 60.0, 3, None)
    fast = new_contact(channel, 12.5, 300.0, 60.0, 3, None)
    assert slots(fast) == slots(made)
    made.request = fast.request = "billing"
    assert slots(new_customer(fast, 20.0)) == slots(Customer(made, 20.0))

    clock = Clock()
    clock.call_at(5.0, print, "value")
    clock.after(1.0, print, "later")
    clock.first(2.0, print)
    assert sorted(clock.pending(), key=lambda pair: str(pair[1])) == [
        (print, None), (print, "later"), (print, "value"),
    ]  # fmt: skip
