"""``ccsim run --theory``: a scenario read as the Markovian queue it is, its exact KPIs under
the simulator's definitions, the refusal (one line, exit 2, nothing simulated) of a scenario
the theory does not describe, and the run beside the exact values.

As in ``tests/test_validation.py`` the tolerance is the replications' own confidence
interval at a family-wise error rate of 1% (Bonferroni over the KPIs compared), and each
interval must be narrow enough for the comparison to mean something.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import channel, scenario, scenario_data

import ccsim
from ccsim.cli import main
from ccsim.experiment.summary import summarise
from ccsim.experiment.theory_check import theory_rows
from ccsim.theory.birth_death import balking_performance
from ccsim.theory.erlang import performance
from ccsim.theory.exact import Mismatch, Queue, exact_kpis, markovian_queue

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "erlang_a.yaml"


def _queue(**fields) -> Queue | Mismatch:
    sites = fields.pop("sites", [{"name": "main", "agents": 11}])
    channels = fields.pop("channels", None) or {"voice": channel("3/min", "3min", "2min")}
    return markovian_queue(scenario(channels, sites, horizon="10h", **({"warmup": "1h"} | fields)))


def test_the_shipped_example_is_the_readme_queue():
    queue = markovian_queue(ccsim.load_scenario(EXAMPLE))
    assert queue == Queue("voice", 3 / 60, 180.0, 11, 20.0, 120.0, None)
    assert queue.model == "Erlang A (M/M/11+M)"
    exact = exact_kpis(queue)
    expected = performance(3 / 60, 180.0, 11, 20.0, 120.0)
    assert exact == {
        "service_level": expected.service_level,
        "asa": expected.asa,
        "mean_wait": expected.mean_wait,
        "p_wait": expected.p_wait,
        "abandon_rate": expected.abandon_rate,
        "occupancy": expected.occupancy,
    }


def test_handle_time_multipliers_are_part_of_the_queue():
    queue = _queue(
        channels={"voice": channel("3/min", "3min", None, agent_assist=0.9)},
        sites=[{"name": "main", "agents": 11, "proficiency": {"voice": 1.1}}],
    )
    assert queue.aht == pytest.approx(180 * 0.9 * 1.1)
    assert queue.model == "Erlang C (M/M/11)"
    assert "abandon_rate" not in exact_kpis(queue)  # nobody abandons: nothing to compare


def test_a_chat_held_one_at_a_time_is_the_same_queue():
    chat = channel("3/min", "3min", "2min", kind="chat", stretch=0.2)
    assert _queue(channels={"chat": chat}) == Queue("chat", 3 / 60, 180.0, 11, 20.0, 120.0, None)
    held = _queue(channels={"chat": channel(kind="chat", concurrency=2)})
    assert held.path == "channels.chat.concurrency"


def test_balking_counts_over_the_contacts_that_queued():
    # With a balking probability of 0 the chain is Erlang A: the conversion to the
    # simulator's definitions must give Erlang A's shares back.
    queue = Queue("voice", 3 / 60, 180.0, 11, 20.0, 120.0, (0.0,))
    chain, erlang = exact_kpis(queue), performance(3 / 60, 180.0, 11, 20.0, 120.0)
    for kpi in ("p_wait", "abandon_rate", "occupancy", "mean_wait"):
        assert chain[kpi] == pytest.approx(getattr(erlang, kpi), rel=1e-9), kpi
    # With balking, shares of those who joined are the chain's over all arrivals / P(join).
    queue = Queue("voice", 3 / 60, 180.0, 11, 20.0, None, (0.0, 0.2, 0.5))
    exact = balking_performance(3 / 60, 180.0, 11, (0.0, 0.2, 0.5))
    kpis = exact_kpis(queue)
    assert kpis["p_wait"] == pytest.approx(exact.p_wait / (1 - exact.balk_rate))
    assert kpis["balk_rate"] == exact.balk_rate and kpis["asa"] == exact.asa
    assert "service_level" not in kpis  # the chain has no wait distribution


REFUSALS = {
    "profile": (
        {"channels": {"voice": channel(arrivals={"volume": 4000, "profile": [1.0] * 48})}},
        "channels.voice.arrivals",
        "needs a constant arrival rate; voice has a profile",
    ),
    "lognormal": (
        {"channels": {"voice": channel(handle={"dist": "lognormal", "mean": "3min", "cv": 1})}},
        "channels.voice.handle_time",
        "needs exponential handle times; voice's are lognormal",
    ),
    "two channels": (
        {"channels": {"voice": channel(), "chat": channel(kind="chat")}},
        "channels",
        "needs one channel; there are voice, chat",
    ),
    "shifts": (
        {
            "sites": [
                {"name": "main", "shifts": [{"start": "00:00", "length": "8h", "headcount": 9}]}
            ]
        },
        "sites.0.shifts",
        "needs a fixed number of agents all day",
    ),
    "shrinkage": (
        {"sites": [{"name": "main", "agents": 11, "shrinkage": 0.2}]},
        "sites.0.shrinkage",
        "needs a fixed number of agents all day",
    ),
    "no warm-up": ({"warmup": "0s"}, "warmup", "needs a warm-up"),
    "lines": (
        {"channels": {"voice": channel(lines=12)}},
        "channels.voice.lines",
        "no formula for lines",
    ),
}


@pytest.mark.parametrize("case", REFUSALS, ids=str)
def test_a_scenario_the_theory_does_not_describe_is_named(case):
    fields, path, reason = REFUSALS[case]
    mismatch = _queue(**fields)
    assert isinstance(mismatch, Mismatch)
    assert mismatch.path == path and reason in mismatch.reason


@pytest.mark.e2e
def test_the_command_refuses_a_profile_before_simulating(tmp_path, capsys):
    data = scenario_data(
        {"voice": channel(arrivals={"volume": 4000, "profile": [1.0] * 48})},
        [{"name": "main", "agents": 11}],
        horizon="10h",
        warmup="1h",
    )
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert main(["run", str(path), "--theory", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert str(path) in err and "channels.voice.arrivals" in err
    assert "needs a constant arrival rate; voice has a profile" in err
    assert not out.exists()  # refused before anything ran or was written


@pytest.mark.e2e
def test_the_command_refuses_a_queue_without_steady_state(tmp_path, capsys):
    data = scenario_data(
        {"voice": channel("12/min", "1min", None)},
        [{"name": "main", "agents": 10}],
        horizon="2h",
        warmup="1h",
    )
    path = tmp_path / "unstable.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", str(path), "--theory", "--out", str(tmp_path / "out")]) == 2
    assert "needs a steady state; 12 Erlangs on 10 agents" in capsys.readouterr().err


def _shown(command: str) -> str:
    """The text block the README shows after the block holding ``command``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"{re.escape(command)}\n```\n\n```text\n(.*?)```", readme, re.DOTALL)
    assert found, f"README.md shows no output of {command!r}"
    return found.group(1)


@pytest.mark.e2e
def test_the_readme_shows_what_the_command_prints(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    command = "ccsim run configs/erlang_a.yaml --reps 100 --theory"
    out = tmp_path / "out"
    assert main([*command.split()[1:], "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert _shown(command) in printed
    assert "6 of 6 intervals cover the exact value" in printed
    assert (out / "summary.csv").exists()  # the tables are written as by any run


@pytest.mark.e2e
def test_the_run_page_sets_the_run_beside_the_theory(tmp_path, capsys, monkeypatch):
    """A student who asks for --theory and --plot gets the comparison on the page too: the
    same rows the terminal prints (simulated, interval, exact, covered), from the exact
    values the manifest records; a run without --theory has no such section."""
    import json
    from html import unescape

    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    args = ["run", "configs/erlang_a.yaml", "--reps", "10", "--no-progress", "--plot"]
    assert main([*args, "--theory", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    theory = json.loads((out / "manifest.json").read_text())["theory"]
    assert theory["model"] == "Erlang A (M/M/11+M)"
    assert theory["exact"]["service_level"] == pytest.approx(0.8272, abs=1e-4)
    page = unescape((out / "run.html").read_text())
    assert 'id="theory"' in page and "voice against Erlang A (M/M/11+M)" in page
    row = re.search(r"service_level +(\S+) +\[(\S+), (\S+)\] +(\S+) +(yes|NO)", printed)
    simulated, low, high, exact, covered = row.groups()
    cells = f'{simulated}</td><td class="ci">[{low}, {high}]</td><td>{exact}</td>'
    assert cells in page  # the numbers the terminal printed
    assert f"{printed.count(' yes')} of 6 intervals cover the exact value" in page
    plain = tmp_path / "plain"
    assert main([*args, "--out", str(plain)]) == 0
    assert 'id="theory"' not in (plain / "run.html").read_text()


@pytest.mark.e2e
def test_the_readme_shows_the_refusal_given(capsys, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = next(line for line in readme.splitlines() if "the theory check needs" in line)
    monkeypatch.chdir(ROOT)
    assert main(["run", "configs/example.yaml", "--theory"]) == 2
    assert capsys.readouterr().err.strip() == shown


def _balking() -> ccsim.Scenario:
    """M/M/11+M with balking by queue length, near full load: the birth-death chain's case."""
    voice = channel("12/min", "1min", "2min", balking={"probability": [0.0, 0.1, 0.3]})
    return scenario({"voice": voice}, [{"name": "main", "agents": 11}], horizon="12h", warmup="1h")


#: Each case with its replications: the shipped Erlang A example, and balking.
COVERAGE = {"erlang_a": (lambda: ccsim.load_scenario(EXAMPLE), 100), "balking": (_balking, 40)}
#: The KPIs compared in every case, Bonferroni's family: a 1% chance that any interval
#: misses by chance.
LEVEL = 1 - 0.01 / (6 + 5)
#: An interval wider than this share of the exact value would let a biased simulation pass;
#: waits are heavy-tailed sums, and abandonment a small share: they get more room.
MAX_RELATIVE_HALF_WIDTH = {"asa": 0.08, "mean_wait": 0.08, "abandon_rate": 0.08}
DEFAULT_RELATIVE_HALF_WIDTH = 0.05


@pytest.mark.parametrize("case", COVERAGE)
def test_the_intervals_of_a_run_cover_the_exact_values(case):
    build, n_reps = COVERAGE[case]
    model = build()
    queue = markovian_queue(model)
    table = ccsim.run_replications(model, n_reps=n_reps, seed=2026, n_jobs=1)
    rows = theory_rows(summarise(table, level=LEVEL), "voice", exact_kpis(queue))
    assert [row.kpi for row in rows] == list(exact_kpis(queue))
    for row in rows:
        half_width = (row.ci_high - row.ci_low) / 2
        allowance = MAX_RELATIVE_HALF_WIDTH.get(row.kpi, DEFAULT_RELATIVE_HALF_WIDTH)
        assert half_width <= allowance * row.exact, f"{row.kpi}: too wide ({half_width:.3g})"
        assert row.covered, (
            f"{row.kpi}: exact {row.exact:.6g} outside [{row.ci_low:.6g}, {row.ci_high:.6g}]"
        )
