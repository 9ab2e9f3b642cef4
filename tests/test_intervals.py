"""A row of tallies made only where something was counted reads, totals and lays out as
the full list of every interval's tallies would (worked by hand on a four-interval row)."""

from __future__ import annotations

from operator import attrgetter

import numpy as np

from ccsim.sim.intervals import Intervals, Tallies
from ccsim.sim.metrics import TALLY_NAMES, ChannelTally, total


def _row() -> Intervals:
    made = Tallies()
    made[1].offered += 3  # the subscript makes the tally of interval 1
    made[1].wait_answered += 12.5
    made[3].offered += 1
    made[3].answered += 1
    series = {
        "queue_time": [0.0, 12.5, 4.0, 0.0],  # a wait across the edge into interval 2
        "observed_time": [1800.0] * 4,
        "outbound_busy_time": [0, 0, 0, 0],  # a site without outbound: sums of nothing
    }
    return Intervals(4, made, series)


def test_the_subscript_makes_a_tally_once_in_its_interval():
    made = Tallies()
    first = made[2]
    first.offered += 1
    assert made[2] is first and list(made) == [2] and made[2].offered == 1


def test_missing_intervals_read_as_zeros_with_the_series():
    full = list(_row())
    assert [t.offered for t in full] == [0, 3, 0, 1]
    assert [t.queue_time for t in full] == [0.0, 12.5, 4.0, 0.0]
    assert full[2].observed_time == 1800.0 and full[0].answered == 0
    assert isinstance(full[0].outbound_busy_time, float)  # as a float field adds an int


def test_the_total_is_the_full_lists_to_the_bit_and_type():
    by_hand = total(list(_row()))
    sparse = _row().total()
    assert sparse == by_hand
    assert (sparse.offered, sparse.answered, sparse.queue_time) == (4, 1, 16.5)
    assert sparse.observed_time == 7200.0 and sparse.wait_answered == 12.5
    for name in TALLY_NAMES:
        assert type(getattr(sparse, name)) is type(getattr(by_hand, name)), name
    assert total(_row()) == by_hand  # metrics.total hands a sparse row to its own


def test_an_empty_row_totals_to_zeros_of_each_fields_type():
    empty = Intervals(3, Tallies(), {"observed_time": [60.0, 60.0, 60.0]})
    assert empty.total() == ChannelTally(observed_time=180.0)


def test_the_table_is_the_full_lists_rows():
    fields = attrgetter(*TALLY_NAMES)
    expected = np.array([fields(t) for t in _row()], dtype=float)
    np.testing.assert_array_equal(_row().table(fields), expected)
    materialized = _row()
    materialized.full()
    np.testing.assert_array_equal(materialized.table(fields), expected)
