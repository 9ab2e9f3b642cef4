"""ccsim: discrete-event simulation of contact centres, validated against queueing theory.

The public API::

    scenario = ccsim.load_scenario("configs/example.yaml")
    result = ccsim.simulate(scenario, seed=1)
    result.kpis            # one row per channel

Exact Erlang B/C/A results live in :mod:`ccsim.analytic`.
"""

from ccsim.config import ConfigError, Scenario, load_scenario, parse_scenario
from ccsim.engine import SimulationResult, simulate
from ccsim.experiment import load_experiment, run_experiment, run_replications
from ccsim.summary import compare, summarise

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Scenario",
    "SimulationResult",
    "__version__",
    "analytic",
    "compare",
    "load_experiment",
    "load_scenario",
    "parse_scenario",
    "run_experiment",
    "run_replications",
    "simulate",
    "summarise",
]


def __getattr__(name: str):
    # ccsim.analytic pulls in scipy's integrators: load it when first used, not in every
    # worker process that only simulates.
    if name == "analytic":
        import importlib

        return importlib.import_module("ccsim.analytic")
    raise AttributeError(f"module 'ccsim' has no attribute {name!r}")
