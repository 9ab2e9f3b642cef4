"""Attrition and learning: the steady-state tenure mix by hand, the multipliers it gives a
site, the simulated site's handle time and resolution against them, the cost of replacing
leavers and the paid hours of a schedule by hand, and bad input in one line."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
import yaml
from scipy import stats

from ccsim.experiment.parallel import run_replications
from ccsim.model import ConfigError
from ccsim.model.loading import parse_scenario
from ccsim.model.workforce import (
    WEEKS_PER_YEAR,
    LearningStep,
    Workforce,
    paid_hours_per_week,
    replacement_cost,
    steady_state,
    tenure_multipliers,
    tenure_shares,
)

#: At attrition 0.5 a year, half the floor has less tenure than this: exp(-0.5 t) = 1/2 at
#: t = 2 ln 2 years.
HALF_FLOOR_WEEKS = 2 * math.log(2) * WEEKS_PER_YEAR
TWO_STEPS = [
    LearningStep(weeks=0, handle_time=1.5, resolution=0.8),
    LearningStep(weeks=HALF_FLOOR_WEEKS, handle_time=1.0, resolution=1.0),
]

SCENARIO = textwrap.dedent(
    """\
    name: learning
    horizon: 8h
    channels:
      voice:
        arrivals: {rate: 4/min}
        handle_time: {dist: exponential, mean: 3min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 22
        cost_per_hour: 20
    """
)
WORKFORCE = {
    "attrition": 0.5,
    "learning": [
        {"weeks": 0, "handle_time": 1.5, "resolution": 0.8},
        {"weeks": HALF_FLOOR_WEEKS, "handle_time": 1.0, "resolution": 1.0},
    ],
}


def _scenario(workforce=None, **site):
    data = yaml.safe_load(SCENARIO)
    data["sites"][0].update(site)
    if workforce is not None:
        data["sites"][0]["workforce"] = workforce
    return parse_scenario(data, source="learning.yaml")


def test_exponential_tenure_shares_by_hand():
    # mu = 0.5217857 / 52.17857 = 0.01 a week: 1 - e^-0.1 under 10 weeks, e^-0.1 - e^-0.5
    # from 10 to 50, e^-0.5 beyond.
    shares = tenure_shares(0.01 * WEEKS_PER_YEAR, [0, 10, 50])
    expected = [1 - math.exp(-0.1), math.exp(-0.1) - math.exp(-0.5), math.exp(-0.5)]
    assert shares == pytest.approx(expected)
    assert sum(shares) == pytest.approx(1.0)
    assert tenure_shares(0.0, [0, 10]) == [0.0, 1.0]  # nobody leaves: everyone experienced


def test_two_step_curve_by_hand():
    # Half the floor at 1.5 x the handle time and 0.8 x the resolution, half at 1: per agent
    # the floor clears 0.5/1.5 + 0.5/1 = 5/6 of an experienced floor's work, so the site's
    # multiplier is 6/5; of its contacts (1/3) / (5/6) = 2/5 are the new agents', so its
    # resolution is 2/5 x 0.8 + 3/5 x 1 = 0.92.
    handle, resolution = tenure_multipliers(0.5, TWO_STEPS)
    assert handle == pytest.approx(1.2)
    assert resolution == pytest.approx(0.92)
    assert tenure_multipliers(0.3, []) == (1.0, 1.0)


def test_more_attrition_means_a_slower_site():
    low, _ = tenure_multipliers(0.30, TWO_STEPS)
    high, _ = tenure_multipliers(0.45, TWO_STEPS)
    assert 1.0 < low < high < 1.5


def test_steady_state_folds_the_curve_into_proficiency_and_resolution():
    scenario = _scenario(WORKFORCE, proficiency={"voice": 1.1})
    built = steady_state(scenario)
    site = built.sites[0]
    assert site.proficiency["voice"] == pytest.approx(1.1 * 1.2)
    assert site.resolution["voice"] == pytest.approx(0.92)  # the channel's 1.0 x 0.92
    assert site.workforce is None  # folded once: building it again changes nothing
    assert steady_state(built) is built
    plain = _scenario()
    assert steady_state(plain) is plain  # no block: the same scenario, the same draws


def _mean_interval(values) -> tuple[float, float]:
    values = np.asarray(values, float)
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean()), float(half)


def test_simulated_handle_time_and_resolution_are_the_tenure_weighted_curve():
    frame = run_replications(_scenario(WORKFORCE), 12, seed=7)
    rows = frame[frame.site == "all"]
    aht, half = _mean_interval(rows["aht"])
    assert abs(aht - 180.0 * 1.2) <= half  # the curve's steady state: 6/5 x 3 min
    fcr, half = _mean_interval(rows["agent_fcr"])
    assert abs(fcr - 0.92) <= half
    base = run_replications(_scenario(), 12, seed=7)
    aht_base, half = _mean_interval(base[base.site == "all"]["aht"])
    assert abs(aht_base - 180.0) <= half  # without it, the channel's own mean


def test_replacement_cost_by_hand():
    # 0.45 x 100 FTE = 45 leavers a year, each 2,000 in fees plus 4 paid weeks of 40 h at 10.
    force = Workforce(attrition=0.45, cost_per_hire=2000, training_weeks=4)
    assert force.cost_per_leaver(10.0) == pytest.approx(2000 + 4 * 40 * 10)
    assert replacement_cost(force, 100.0, 10.0) == pytest.approx(45 * 3600)


def test_paid_hours_of_a_weekly_schedule_by_hand():
    # 10 agents Monday to Friday on 8.5 h with a 30-minute unpaid lunch: 10 x 5 x 8 h; and
    # 4 on Saturday for 6 h with paid breaks only.
    scenario = _scenario(
        agents=None,
        shifts=[
            {"start": "08:00", "length": "8.5h", "headcount": 10,
             "days": ["mon", "tue", "wed", "thu", "fri"],
             "breaks": [{"after": "4h", "length": "30min", "paid": False}]},
            {"start": "09:00", "length": "6h", "headcount": {"sat": 4}},
        ],
    )  # fmt: skip
    assert paid_hours_per_week(scenario.sites[0]) == pytest.approx(400 + 24)
    assert paid_hours_per_week(_scenario().sites[0]) == pytest.approx(22 * 168)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"attrition": 1.5}, "sites.0.workforce.attrition", "less than or equal to 1"),
        ({"attrition": -0.1}, "sites.0.workforce.attrition", "greater than or equal to 0"),
        ({"cost_per_hire": -5}, "sites.0.workforce.cost_per_hire", "greater than or equal"),
        ({"learning": [{"weeks": 4, "handle_time": 1.2}]}, "sites.0.workforce.learning",
         "starts at 0 weeks"),
        ({"learning": [{"weeks": 0}, {"weeks": 0}]}, "sites.0.workforce.learning",
         "increasing weeks"),
        ({"learning": [{"weeks": 0, "handle_time": 0}]}, "sites.0.workforce.learning.0",
         "greater than 0"),
    ],
)  # fmt: skip
def test_bad_workforce_is_one_line_naming_the_field(change, field, words):
    with pytest.raises(ConfigError) as caught:
        _scenario({**WORKFORCE, **change})
    text = str(caught.value)
    assert "\n" not in text and field in text and words in text


def test_a_drawn_attrition_re_plans_the_site_by_its_tenure_multiplier():
    from ccsim.model.overrides import apply_overrides
    from ccsim.study.sensitivity import replanned

    base = _scenario(WORKFORCE)
    variant = apply_overrides(base, {"sites.main.workforce.attrition": 0.8}, source="x")
    # The same demand: the requirement at proficiency 1 does not move, the speed does.
    moved = tenure_multipliers(0.8, TWO_STEPS)[0] / tenure_multipliers(0.5, TWO_STEPS)[0]
    assert replanned(base, variant) == {"main": pytest.approx(round(moved, 3))}
    assert moved > 1


def test_the_theory_check_reads_the_site_at_its_tenure_mix():
    from ccsim.theory.exact import markovian_queue

    queue = markovian_queue(_scenario(WORKFORCE).model_copy(update={"warmup": 3600.0}))
    assert queue.aht == pytest.approx(180.0 * 1.2)
