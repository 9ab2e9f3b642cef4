"""What a contact centre is: units, distributions, calendar, the scenario models, loading
and errors, overrides. Knows nothing of simulation."""

import importlib
from typing import TYPE_CHECKING

from ccsim.model.errors import ConfigError, UserError

if TYPE_CHECKING:
    from ccsim.model.loading import load_scenario, parse_scenario, read_yaml_mapping, validate
    from ccsim.model.scenario import (
        Arrivals,
        Bot,
        Break,
        BreakRule,
        Busyness,
        Callback,
        Channel,
        NightDifferential,
        OverflowStep,
        Repeat,
        Retrial,
        Routing,
        Scenario,
        ServiceLevel,
        Shift,
        SilentAbandonment,
        Site,
    )

__all__ = [
    "Arrivals",
    "Bot",
    "Break",
    "BreakRule",
    "Busyness",
    "Callback",
    "Channel",
    "ConfigError",
    "UserError",
    "NightDifferential",
    "OverflowStep",
    "Repeat",
    "Retrial",
    "Routing",
    "Scenario",
    "ServiceLevel",
    "Shift",
    "SilentAbandonment",
    "Site",
    "load_scenario",
    "parse_scenario",
    "read_yaml_mapping",
    "validate",
]

_LOADING = ("load_scenario", "parse_scenario", "read_yaml_mapping", "validate")


def __getattr__(name: str):
    # Loaded on first use: the models need pydantic, the loader ruamel.yaml, and the command
    # line's quick commands (``ccsim erlang``) need only the units.
    if name in _LOADING:
        return getattr(importlib.import_module("ccsim.model.loading"), name)
    if name in __all__:
        return getattr(importlib.import_module("ccsim.model.scenario"), name)
    raise AttributeError(f"module 'ccsim.model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
