"""The balking birth-death solution reduces to Erlang B, C and A at its edges, and matches a
hand-computed small case."""

from __future__ import annotations

import math

import pytest

from ccsim.theory.birth_death import balking_performance
from ccsim.theory.erlang import ErlangA, erlang_b, erlang_c, erlang_c_performance


@pytest.mark.parametrize(("rate", "aht", "n"), [(0.05, 180, 11), (1.0, 10, 12), (3.0, 30, 100)])
def test_no_balking_without_patience_is_erlang_c(rate, aht, n):
    exact = erlang_c_performance(rate, aht, n, 20.0)
    got = balking_performance(rate, aht, n, balk=0.0)
    assert got.balk_rate == 0.0
    assert got.p_wait == pytest.approx(erlang_c(n, rate * aht), rel=1e-9)
    assert got.asa == pytest.approx(exact.asa, rel=1e-9)
    assert got.occupancy == pytest.approx(rate * aht / n, rel=1e-9)


@pytest.mark.parametrize(("rate", "aht", "n"), [(0.05, 180, 11), (1.0, 10, 8), (3.0, 30, 100)])
def test_certain_balking_is_erlang_b(rate, aht, n):
    got = balking_performance(rate, aht, n, balk=1.0)
    assert got.balk_rate == pytest.approx(erlang_b(n, rate * aht), rel=1e-9)
    assert got.p_wait == 0.0


@pytest.mark.parametrize(
    ("rate", "aht", "n", "patience"), [(0.05, 180, 11, 120), (1.2, 10, 10, 30)]
)
def test_no_balking_with_patience_is_erlang_a(rate, aht, n, patience):
    exact = ErlangA(rate=rate, aht=aht, n=n, patience=patience).performance(20.0)
    got = balking_performance(rate, aht, n, balk=0.0, patience=patience)
    assert got.abandon_rate == pytest.approx(exact.abandon_rate, rel=1e-7)
    assert got.p_wait == pytest.approx(exact.p_wait, rel=1e-7)
    assert got.mean_queue_length == pytest.approx(exact.mean_queue_length, rel=1e-7)


def test_one_agent_who_balks_by_queue_length_by_hand():
    # M/M/1, rate 1, mu 1; join with prob 1/2 when 0 wait, never when 1 waits: states 0, 1, 2
    # with pi proportional to 1, 1, 1/2 -> pi = (2/5, 2/5, 1/5).
    got = balking_performance(1.0, 1.0, 1, balk=[0.5, 1.0])
    assert got.balk_rate == pytest.approx(2 / 5 * 0.5 + 1 / 5 * 1.0)
    assert got.p_wait == pytest.approx(2 / 5 * 0.5)
    assert got.mean_queue_length == pytest.approx(1 / 5)
    assert got.occupancy == pytest.approx(3 / 5)
    assert got.asa == pytest.approx((1 / 5) / (1 - 0.4))


def test_unstable_without_abandonment_is_refused():
    with pytest.raises(ValueError, match="unstable"):
        balking_performance(2.0, 1.0, 1, balk=0.4)
    assert math.isfinite(balking_performance(2.0, 1.0, 1, balk=0.6).asa)
