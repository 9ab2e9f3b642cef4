"""Textbook SimPy twins of ccsim's benchmark models: the same model written the way a SimPy
textbook writes it (a generator process per call, ``Resource`` or a managed pool of agent
processes, ``env.timeout``, ``AnyOf`` for patience), so that ccsim's speed is measured
against the same model, not a simpler one.

:data:`MODELS` names each model: its ccsim scenario for a horizon (``scenario(h)``, h in
the model's own unit), its twin (``run(scenario, seed) -> KPIs by row``: per channel, and
``all`` with the contacts of the run under ``offered``; with several sites ``site:X`` and
``site:X:channel``), the benchmark's horizon, and the test's (short) horizon and
replications. Each twin computes, inside its processes, the KPIs ccsim reports for its
model that tests/test_twins.py compares; its module docstring says what it leaves out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for path in (str(ROOT), str(HERE.parent)):
    if path not in sys.path:
        sys.path.insert(0, path)

import ccsim  # noqa: E402
from ccsim.model import read_yaml_mapping  # noqa: E402

from . import blend, follow_the_sun, hybrid, mmc, telethon  # noqa: E402

__all__ = ["MODELS", "Model", "config_scenario"]


@dataclass(frozen=True)
class Model:
    name: str
    unit: str  # of the horizon: "h" or "d"
    scenario: Callable[[float], ccsim.Scenario]
    twin: Callable[[ccsim.Scenario, int], dict]
    bench_horizon: float
    test_horizon: float
    test_reps: int = 40


def config_scenario(name: str, unit: str):
    """A scenario of ``configs/<name>.yaml`` with its horizon set."""
    path = ROOT / "configs" / f"{name}.yaml"

    def build(horizon: float) -> ccsim.Scenario:
        data = read_yaml_mapping(path)
        data["horizon"] = f"{horizon:g}{unit}"
        return ccsim.parse_scenario(data, source=str(path), base_dir=path.parent)

    return build


def _mmc(hours: float) -> ccsim.Scenario:
    from bench_engine import mmc_scenario_dict

    return ccsim.parse_scenario(mmc_scenario_dict(hours), source="benchmark")


def _hybrid(days: float) -> ccsim.Scenario:
    from bench_hybrid import hybrid as hybrid_scenario

    return hybrid_scenario(days)


MODELS = (
    Model("M/M/50+M", "h", _mmc, mmc.run, 20, 4),
    Model("hybrid week", "d", _hybrid, hybrid.run, 7, 1, test_reps=12),
    Model(
        "follow the sun", "h", config_scenario("follow_the_sun", "h"), follow_the_sun.run, 167, 48
    ),
    Model("blended outbound day", "d", config_scenario("blended_nearshore", "d"), blend.run, 1, 1),
    Model("Telethon week", "d", config_scenario("telethon", "d"), telethon.run, 5, 5),
)
