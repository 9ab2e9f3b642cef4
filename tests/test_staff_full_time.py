"""A vendor that takes full-time shifts only (issue #27 item 7: BPO contracts usually bill
full-time seats): ``--part-time-share SITE=0,0`` bounds one site's part-time hours at zero
while the others keep the default, and a site the scenario lacks is refused in one line."""

from __future__ import annotations

import json

import ccsim
from ccsim.cli.staff_search import part_time_shares
from ccsim.planning.search import staff_scenario
from ccsim.planning.targets import Targets
from ccsim.planning.templates import ShiftOffer

#: Open 06:00-22:00 with a midday peak: part-time shifts are worth using at the peak.
PROFILE = [0] * 12 + [1, 1, 2, 2, 3, 3, 4, 6, 8, 8, 6, 4, 3, 3, 3, 3] + [2] * 16 + [0] * 4


def _two_sites() -> dict:
    return {
        "name": "two_sites",
        "start": "2026-03-02T00:00",
        "horizon": "24h",
        "channels": {
            "voice": {
                "arrivals": {"volume": 3000, "profile": PROFILE},
                "handle_time": {"dist": "exponential", "mean": "4min"},
                "patience": {"dist": "exponential", "mean": "3min"},
                "service_level": {"threshold": "20s", "target": 0.8},
            }
        },
        "routing": {"policy": "cheapest"},
        "sites": [
            {"name": "inhouse", "agents": 1, "cost_per_hour": 30},
            {"name": "vendor", "agents": 1, "cost_per_hour": 20},
        ],
    }


def test_a_site_bound_to_full_time_gets_no_part_time_shift():
    scenario = ccsim.parse_scenario(_two_sites())
    shares = part_time_shares([("vendor", (0.0, 0.0))], scenario)
    assert shares == {"*": (0.0, 0.5), "vendor": (0.0, 0.0)}
    offer = ShiftOffer(part_time_share=shares)
    plan = staff_scenario(
        scenario, Targets.of(scenario), offer, reps=2, seed=1, max_trim_simulations=2
    )
    used = plan.headcounts[plan.headcounts.headcount > 0]
    assert used[(used.site == "vendor") & used.part_time].empty
    assert (used.site == "vendor").any()  # the cheaper site is staffed, on full time


def test_an_unknown_site_is_refused_in_one_line(tmp_path, capsys):
    from ccsim.cli import main

    path = tmp_path / "two.yaml"
    path.write_text(json.dumps(_two_sites()))
    code = main(
        ["staff", str(path), "--method", "search", "--part-time-share", "vendr=0,0",
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "no site 'vendr'" in err and "vendor" in err
    assert not (tmp_path / "out").exists()


def test_the_model_file_names_the_roster_rules_it_was_staffed_under(tmp_path, capsys):
    """A reader re-staffing from the model file's header gets the same shifts only with the
    same roster rules, so the header names them."""
    from ccsim.cli import main

    # The header is what is checked, not the staffing: a tenth of the day's volume keeps the
    # search short (the day's search ran 30-100 s on two busy cores).
    data = _two_sites()
    data["channels"]["voice"]["arrivals"]["volume"] = 300
    path = tmp_path / "two.yaml"
    path.write_text(json.dumps(data))
    model = tmp_path / "staffed.yaml"
    code = main(
        ["staff", str(path), "--method", "search", "--reps", "2", "--max-trim", "2",
         "--part-time-share", "vendor=0,0", "--model", str(model), "--out", str(tmp_path / "out")]
    )  # fmt: skip
    capsys.readouterr()
    assert code == 0
    header = model.read_text().splitlines()[1]
    assert header.startswith("# Staffed by `ccsim staff ")
    assert "--method search --part-time-share vendor=0,0`" in header
    assert " ;" not in model.read_text()
