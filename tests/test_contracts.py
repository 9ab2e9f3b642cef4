"""Costs as vendors bill them (issue #27): each pricing form of a contracted site, its
minimum volume and service credits, checked by hand against the run's own counts; the rows
adding up; a bot's price per resolution and its fixed monthly costs; bad inputs in one line.

The small case: 4 hours of voice in 1-hour intervals, 4 vendor agents on one 4-hour shift
with an unpaid 30-minute break and a paid 15-minute one: 4 x 3.5 h = 14 paid hours
(at 20 an hour: 280 of pay), 4 x 3.25 h = 13 hours logged on. The window is 4 h of a
168-hour week, so a weekly minimum or a fixed weekly credit counts 4/168 of itself.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import ccsim
from ccsim.model import ConfigError
from ccsim.model.overrides import apply_overrides
from ccsim.sim import billing
from ccsim.sim.metrics import kpis
from ccsim.study.sensitivity import _wage_site
from ccsim.study.uncertainty_design import wage_sites

FRACTION = 4 / 168  # the window's part of a week
PAID_HOURS, LOGGED_ON_HOURS, PAY = 14.0, 13.0, 280.0

BASE = textwrap.dedent(
    """\
    name: contracts
    horizon: 4h
    interval: 1h
    channels:
      voice:
        arrivals: {rate: 4/min}
        handle_time: {dist: exponential, mean: 3min}
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: inhouse
        agents: 6
        cost_per_hour: 30
      - name: vendor
        cost_per_hour: 20
        shifts:
          - start: "00:00"
            length: 4h
            headcount: 4
            breaks: [{after: 2h, length: 30min, paid: false}, {after: 1h, length: 15min}]
        contract: CONTRACT
    """
)


def run(tmp_path: Path, contract: str, seed: int = 1):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.replace("CONTRACT", contract), encoding="utf-8")
    return ccsim.simulate(ccsim.load_scenario(path), seed, record_contacts=True)


def vendor_answered(result):
    """The vendor's answered contacts of the window, from the contacts' own records."""
    contacts = result.contacts
    vendor = (contacts.site == "vendor") & contacts.counted
    return contacts[vendor & (contacts.outcome == "answered")]


def site_total(result, site="vendor"):
    return result.totals[("all", site)]


@pytest.mark.parametrize(
    ("contract", "expected"),
    [
        ("{pricing: fte_hour, rate: 25}", PAID_HOURS * 25),  # 350
        ("{pricing: fte_hour, margin: 0.25}", PAY * 1.25),  # 350
        ("{pricing: productive_hour, rate: 25}", LOGGED_ON_HOURS * 25),  # 325
    ],
)
def test_hour_forms_bill_paid_or_logged_on_hours(tmp_path, contract, expected):
    result = run(tmp_path, contract)
    whole = site_total(result)
    assert whole.staffed_time == pytest.approx(LOGGED_ON_HOURS * 3600)
    assert whole.contract_cost == pytest.approx(expected)
    assert whole.labour_cost == pytest.approx(expected)  # the bill is the site's cost
    assert whole.vendor_pay == pytest.approx(PAY)  # its pay stays visible, in no cost
    assert site_total(result, "inhouse").labour_cost == pytest.approx(6 * 4 * 30)
    channel = result.totals[("voice", "all")]
    assert channel.labour_cost == pytest.approx(6 * 4 * 30 + expected)
    assert kpis(channel)["operating_cost"] == pytest.approx(720 + expected)


def test_handled_minutes_and_contacts(tmp_path):
    minutes = run(tmp_path, "{pricing: handled_minute, rate: 0.5}")
    answered = vendor_answered(minutes)
    assert len(answered) > 100
    assert site_total(minutes).contract_cost == pytest.approx(0.5 * answered.handle_time.sum() / 60)
    contacts = run(tmp_path, "{pricing: contact, rate: 3}")
    assert site_total(contacts).contract_cost == pytest.approx(3 * len(vendor_answered(contacts)))


def test_a_minimum_is_billed_when_the_week_falls_short(tmp_path):
    # 20000 contacts a week: 476.2 in 4 hours, far above what 4 agents answer.
    result = run(tmp_path, "{pricing: contact, rate: 3, minimum_per_week: 20000 contacts}")
    assert len(vendor_answered(result)) < 20000 * FRACTION
    assert site_total(result).contract_cost == pytest.approx(3 * 20000 * FRACTION)  # 1428.57
    # Above the work done it is not billed: 5000 a week is 119 in the window.
    above = run(tmp_path, "{pricing: contact, rate: 3, minimum_per_week: 5000 contacts}")
    assert site_total(above).contract_cost == pytest.approx(3 * len(vendor_answered(above)))
    hours = run(tmp_path, "{pricing: fte_hour, rate: 25, minimum_per_week: 1000h}")
    assert site_total(hours).contract_cost == pytest.approx(25 * 1000 * FRACTION)  # 595.24


def _service_level(answered, judged) -> float:
    return (answered.wait <= 20).sum() / len(judged)


def test_a_weekly_credit_on_the_sites_service_level(tmp_path):
    contract = (
        "{pricing: contact, rate: 3, penalties: "
        "[{channel: voice, target: 0.99, per: week, measure: site, amount: 840}]}"
    )
    result = run(tmp_path, contract)
    answered = vendor_answered(result)
    assert _service_level(answered, answered) < 0.99  # 10 agents for 12 erlangs: missed
    credit = 840 * FRACTION  # 20.0
    whole = site_total(result)
    assert whole.service_credits == pytest.approx(credit)
    assert whole.contract_cost == pytest.approx(3 * len(answered) - credit)
    # Spread over the week's intervals by observed time: a quarter in each hour.
    hourly = [tally.service_credits for tally in result.interval_tallies[("all", "vendor")]]
    assert hourly == pytest.approx([credit / 4] * 4)


def test_credits_per_missed_interval_on_the_channels_service_level(tmp_path):
    contract = (
        "{pricing: contact, rate: 3, penalties: ["
        "{channel: voice, target: 0.8, per: interval, measure: overall, amount: 10},"
        "{channel: voice, target: 0.8, per: interval, measure: overall, share: 0.1}]}"
    )
    result = run(tmp_path, contract)
    contacts = result.contacts[result.contacts.counted & (result.contacts.channel == "voice")]
    hour = (contacts.arrival // 3600).astype(int)
    vendor = vendor_answered(result)
    vendor_hour = (vendor.arrival // 3600).astype(int)
    expected = []
    for k in range(4):
        judged = contacts[hour == k]
        answered = judged[judged.outcome == "answered"]
        missed = _service_level(answered, judged) < 0.8
        billed = 3 * (vendor_hour == k).sum()
        expected.append((10 + 0.1 * billed) if missed else 0.0)
    assert sum(1 for amount in expected if amount) >= 2  # the case exercises misses
    hourly = result.interval_tallies[("all", "vendor")]
    assert [t.service_credits for t in hourly] == pytest.approx(expected)
    assert site_total(result).contract_cost == pytest.approx(3 * len(vendor) - sum(expected))


def test_the_credit_cap_limits_a_weeks_credits(tmp_path):
    contract = (
        "{pricing: contact, rate: 3, credit_cap: 0.1, penalties: "
        "[{channel: voice, target: 0.99, per: week, share: 0.5}]}"
    )
    result = run(tmp_path, contract)
    bill = 3 * len(vendor_answered(result))
    assert site_total(result).service_credits == pytest.approx(0.1 * bill)
    assert site_total(result).contract_cost == pytest.approx(0.9 * bill)


TWO_CHANNELS = textwrap.dedent(
    """\
    name: rows
    horizon: 6h
    interval: 30min
    channels:
      voice:
        arrivals: {rate: 3/min}
        handle_time: {dist: exponential, mean: 3min}
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
      chat:
        kind: chat
        arrivals: {rate: 2/min}
        handle_time: {dist: exponential, mean: 6min}
        patience: {dist: exponential, mean: 5min}
        service_level: {threshold: 60s, target: 0.8}
        bot:
          handle_time: {dist: exponential, mean: 2min}
          containment: 0.3
          cost_per_session: 0.2
          cost_per_minute: 0.1
          cost_per_resolution: 0.99
          platform_cost_per_month: 3000
          operations_cost_per_month: 1000
    sites:
      - name: inhouse
        agents: 8
        cost_per_hour: 30
      - name: vendor
        agents: 6
        cost_per_hour: 20
        contract:
          pricing: fte_hour
          rate: 25
          minimum_per_week: 2000h
          penalties:
            - {channel: voice, target: 0.9, per: week, share: 0.05}
            - {channel: chat, target: 0.95, per: interval, measure: overall, amount: 5}
    """
)

_COSTS = ("labour_cost", "contract_cost", "service_credits", "vendor_pay")


@pytest.fixture(scope="module")
def two_channels(tmp_path_factory):
    path = tmp_path_factory.mktemp("rows") / "rows.yaml"
    path.write_text(TWO_CHANNELS, encoding="utf-8")
    return ccsim.simulate(ccsim.load_scenario(path), 3)


def test_rows_add_up_per_interval(two_channels):
    rows = two_channels.interval_tallies
    channels, sites = ("voice", "chat"), ("inhouse", "vendor")
    for name in (*_COSTS, "bot_cost", "ai_fixed_cost"):
        for k in range(12):

            def value(key, k=k, name=name):
                return getattr(rows[key][k], name)

            everything = value(("all", "all"))
            assert sum(value((c, "all")) for c in channels) == pytest.approx(everything)
            if name in _COSTS:
                assert sum(value(("all", s)) for s in sites) == pytest.approx(everything)
                for s in sites:
                    assert sum(value((c, s)) for c in channels) == pytest.approx(value(("all", s)))
                for c in channels:
                    assert sum(value((c, s)) for s in sites) == pytest.approx(value((c, "all")))
    whole = two_channels.totals[("all", "vendor")]
    # 6 agents for 6 hours = 36 h, under the minimum's 2000 h x 6/168 = 71.4 h.
    assert whole.contract_cost + whole.service_credits == pytest.approx(25 * 2000 * 6 / 168)
    assert whole.vendor_pay == pytest.approx(6 * 6 * 20)


def test_bot_per_resolution_and_fixed_monthly_costs(two_channels):
    chat = two_channels.totals[("chat", "all")]
    assert chat.contained > 0
    assert chat.bot_cost == pytest.approx(
        0.2 * chat.bot_sessions + 0.1 * chat.bot_time / 60 + 0.99 * chat.contained
    )
    month = 365.25 / 12 * 86400  # 2,629,800 s
    assert month == billing.MONTH
    assert chat.ai_fixed_cost == pytest.approx(4000 * 6 * 3600 / month)  # 32.85
    per_interval = [t.ai_fixed_cost for t in two_channels.interval_tallies[("chat", "all")]]
    assert per_interval == pytest.approx([4000 * 1800 / month] * 12)
    everything = two_channels.totals[("all", "all")]
    assert kpis(everything)["operating_cost"] == pytest.approx(
        everything.labour_cost + everything.bot_cost + everything.ai_fixed_cost
    )
    assert kpis(two_channels.totals[("voice", "all")])["ai_fixed_cost"] == 0


def test_weeks_minimum_and_credits_over_a_week_and_a_half():
    """Pure arithmetic: three intervals of half a week each; the last week is half seen."""
    half = billing.WEEK / 2
    observed = [half, half, half]
    week = billing.weeks([0.0, half, 2 * half], 0.0, observed)
    assert week == [0, 0, 1]
    # 100 units a week at 2 each: week 0 did 20 (short 80: 160), week 1 did 80 of its 50.
    assert billing.minimum_top_up(100, 2.0, [10, 10, 80], observed, week) == [80, 80, 0]
    penalty = type("P", (), {"target": 0.8, "per": "week", "amount": 100.0, "share": None})
    # Week 0 met 0.9, week 1 missed: a fixed credit of the half week it saw.
    owed = billing.credits(penalty, [9, 0, 5], [10, 0, 10], [1, 1, 1], observed, week)
    assert owed == [0, 0, 50]
    assert billing.weeks([0.0, 10.0], 10.0, [0.0, 5.0]) == [-1, 0]  # warm-up: not billed


def test_a_contracted_site_is_simulated_not_repriced_in_the_study(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.replace("CONTRACT", "{pricing: fte_hour, margin: 0.25}"))
    scenario = ccsim.load_scenario(path)
    # Its wage moves its bill only through the margin: a change to simulate, like the
    # contract's rate, never a repricing of its labour_cost.
    factors, changes = wage_sites(
        scenario, {"sites.vendor.cost_per_hour": 40.0, "sites.inhouse.cost_per_hour": 60.0}
    )
    assert factors == {"inhouse": 2.0}
    assert changes == {"sites.vendor.cost_per_hour": 40.0}
    # The one-at-a-time sensitivity alike; simulated, the new wage is billed with its margin.
    assert _wage_site(scenario, {"sites.vendor.cost_per_hour": 40.0}) is None
    assert _wage_site(scenario, {"sites.inhouse.cost_per_hour": 60.0}) == "inhouse"
    dearer = apply_overrides(scenario, changes, "x")
    assert site_total(ccsim.simulate(dearer, 1)).contract_cost == pytest.approx(
        PAID_HOURS * 40 * 1.25
    )  # 700
    rate = apply_overrides(
        scenario, {"sites.vendor.contract.margin": None, "sites.vendor.contract.rate": 30.0}, "x"
    )
    assert rate.sites[1].contract.rate == 30.0
    assert wage_sites(rate, {"sites.vendor.contract.rate": 30.0}) == (
        {},
        {"sites.vendor.contract.rate": 30.0},
    )
    result = ccsim.simulate(rate, 1)
    assert site_total(result).contract_cost == pytest.approx(PAID_HOURS * 30)


# --- bad inputs -------------------------------------------------------------------------


def error_for(tmp_path: Path, contract: str, base: str = BASE) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(base.replace("CONTRACT", contract), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ccsim.load_scenario(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


@pytest.mark.parametrize(
    ("contract", "where", "problem"),
    [
        ("{pricing: contact, rate: -3}", "sites.1.contract.rate", "greater than or equal to 0"),
        ("{pricing: contract, rate: 3}", "sites.1.contract.pricing", "fte_hour"),
        ("{pricing: fte_hour, rate: 25, margin: 0.2}", "sites.1.contract", "one of the two"),
        ("{pricing: fte_hour}", "sites.1.contract", "one of the two"),
        ("{pricing: contact, margin: 0.2}", "sites.1.contract", "FTE hours only"),
        ("{pricing: handled_minute}", "sites.1.contract", "needs a 'rate' per minute"),
        (
            "{pricing: contact, rate: 3, minimum_per_week: 400h}",
            "sites.1.contract.minimum_per_week",
            "number of contacts",
        ),
        (
            "{pricing: fte_hour, rate: 3, minimum_per_week: 2500 contacts}",
            "sites.1.contract.minimum_per_week",
            "hours of work",
        ),
        (
            "{pricing: handled_minute, rate: 3, minimum_per_week: 400}",
            "sites.1.contract.minimum_per_week",
            "has no unit",
        ),
        ("{pricing: contact, rate: 3, credit_cap: 1.5}", "sites.1.contract.credit_cap", "1"),
        (
            "{pricing: contact, rate: 3, penalties: [{channel: voice, target: 0.8, share: 1.5}]}",
            "sites.1.contract.penalties.0.share",
            "less than or equal to 1",
        ),
        (
            "{pricing: contact, rate: 3, penalties: [{channel: voice, target: -0.8, amount: 9}]}",
            "sites.1.contract.penalties.0.target",
            "greater than or equal to 0",
        ),
        (
            "{pricing: contact, rate: 3, penalties: [{channel: voice, target: 0.8}]}",
            "sites.1.contract.penalties.0",
            "'amount' or as a 'share'",
        ),
        (
            "{pricing: contact, rate: 3, penalties: [{channel: email, target: 0.8, amount: 9}]}",
            "sites.1.contract.penalties.0.channel",
            "has no channel 'email'",
        ),
    ],
)
def test_bad_contracts_are_refused_in_one_line(tmp_path, contract, where, problem):
    message = error_for(tmp_path, contract)
    assert f": {where}: " in message and problem in message, message


def test_a_penalty_on_a_channel_the_site_does_not_serve(tmp_path):
    base = BASE.replace(
        "    contract: CONTRACT",
        "    skills: [voice]\n    contract: CONTRACT",
    ).replace(
        "sites:",
        "  chat:\n    kind: chat\n    arrivals: {rate: 1/min}\n"
        "    handle_time: {dist: exponential, mean: 5min}\n"
        "    service_level: {threshold: 60s, target: 0.8}\nsites:",
    )
    contract = "{pricing: contact, rate: 3, penalties: [{channel: chat, target: 0.8, amount: 9}]}"
    message = error_for(tmp_path, contract, base)
    assert ": sites.1.contract.penalties.0.channel: 'vendor' has no agent for 'chat'" in message


def test_a_margin_needs_a_wage(tmp_path):
    base = BASE.replace("    cost_per_hour: 20\n", "")
    message = error_for(tmp_path, "{pricing: fte_hour, margin: 0.2}", base)
    assert ": sites.1.contract.margin: a margin is on the site's cost_per_hour" in message


@pytest.mark.parametrize(
    "field", ["cost_per_resolution", "platform_cost_per_month", "operations_cost_per_month"]
)
def test_negative_bot_prices_are_refused(tmp_path, field):
    base = BASE.replace(
        "    service_level: {threshold: 20s, target: 0.8}\n",
        "    service_level: {threshold: 20s, target: 0.8}\n"
        "    bot: {handle_time: {dist: exponential, mean: 1min}, containment: 0.2, "
        f"{field}: -1}}\n",
    )
    message = error_for(tmp_path, "{pricing: contact, rate: 3}", base)
    assert f": channels.voice.bot.{field}: " in message and "greater than or equal" in message
