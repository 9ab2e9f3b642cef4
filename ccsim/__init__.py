"""ccsim: discrete-event simulation of contact centres, validated against queueing theory.

The public API::

    scenario = ccsim.load_scenario("configs/example.yaml")
    result = ccsim.simulate(scenario, seed=1)
    result.kpis            # one row per channel

Exact Erlang B/C/A results live in :mod:`ccsim.theory.erlang`.
"""

import importlib
from typing import TYPE_CHECKING

from ccsim.version import __version__

if TYPE_CHECKING:  # for type checkers and editors; at run time loaded on first use
    from ccsim.experiment.parallel import run_replications
    from ccsim.experiment.summary import compare, summarise
    from ccsim.model import ConfigError, Scenario, load_scenario, parse_scenario
    from ccsim.sim.engine import SimulationResult, simulate
    from ccsim.study.run import run_experiment
    from ccsim.study.spec import load_experiment

#: The public API by module, imported on first use: ``import ccsim`` (and so every command
#: line, even ``ccsim --version``) does not pay for pandas, pyarrow and the simulator.
_API = {
    "load_experiment": "ccsim.study.spec",
    "run_experiment": "ccsim.study.run",
    "run_replications": "ccsim.experiment.parallel",
    "compare": "ccsim.experiment.summary",
    "summarise": "ccsim.experiment.summary",
    "ConfigError": "ccsim.model",
    "Scenario": "ccsim.model",
    "load_scenario": "ccsim.model",
    "parse_scenario": "ccsim.model",
    "SimulationResult": "ccsim.sim.engine",
    "simulate": "ccsim.sim.engine",
}

__all__ = [
    "ConfigError",
    "Scenario",
    "Schedule",
    "ShiftOffer",
    "SimulationResult",
    "StaffingPlan",
    "Targets",
    "__version__",
    "analytic",
    "candidate_shifts",
    "compare",
    "erlang_requirements",
    "load_experiment",
    "load_scenario",
    "parse_scenario",
    "parse_target",
    "render_report",
    "run_experiment",
    "run_replications",
    "schedule_shifts",
    "scheduling",
    "simulate",
    "simulation_requirements",
    "staff_scenario",
    "staffing",
    "summarise",
    "write_schedule",
]

#: Staffing requirements and shift scheduling (``ccsim staff``), by module.
_PLANNING = {
    "erlang_requirements": "ccsim.planning.staffing",
    "parse_target": "ccsim.planning.staffing",
    "simulation_requirements": "ccsim.planning.simulation_staffing",
    "Schedule": "ccsim.planning.scheduling",
    "candidate_shifts": "ccsim.planning.templates",
    "schedule_shifts": "ccsim.planning.scheduling",
    "write_schedule": "ccsim.planning.schedule_files",
    "staff_scenario": "ccsim.planning.search",
    "StaffingPlan": "ccsim.planning.search",
    "ShiftOffer": "ccsim.planning.templates",
    "Targets": "ccsim.planning.targets",
}


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    # ccsim.theory.erlang pulls in scipy's integrators, the report matplotlib: load them when
    # first used, not in every worker process that only simulates.
    if name == "analytic":
        return importlib.import_module("ccsim.theory.erlang")
    if name == "render_report":
        from ccsim.report.html import render_report

        return render_report
    # Staffing and scheduling need the Erlang formulas, scipy's optimiser and matplotlib.
    if name in ("staffing", "scheduling"):
        return importlib.import_module(f"ccsim.planning.{name}")
    if name in _PLANNING:
        return getattr(importlib.import_module(_PLANNING[name]), name)
    raise AttributeError(f"module 'ccsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
