"""What a contact centre is: units, distributions, calendar, the scenario models, loading
and errors, overrides. Knows nothing of simulation."""

import importlib
from typing import TYPE_CHECKING

from ccsim.model.errors import ConfigError, UserError

if TYPE_CHECKING:
    from ccsim.model.arrivals import Arrivals, Busyness
    from ccsim.model.channel import Channel, ServiceLevel
    from ccsim.model.features import Bot, Callback, Repeat, Retrial, SilentAbandonment
    from ccsim.model.loading import load_scenario, parse_scenario, validate
    from ccsim.model.routing import ROUTING_POLICIES, OverflowStep, Routing
    from ccsim.model.scenario import Scenario
    from ccsim.model.site import Absence, Break, BreakRule, NightDifferential, Shift, Site
    from ccsim.model.yaml_reader import read_yaml_mapping

__all__ = [
    "Absence",
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
    "ROUTING_POLICIES",
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

#: The module of each name, imported on first use: the models need pydantic, the loader
#: ruamel.yaml, and the command line's quick commands (``ccsim erlang``) need only the units.
_HOMES = {
    "arrivals": ("Arrivals", "Busyness"),
    "channel": ("Channel", "ServiceLevel"),
    "features": ("Bot", "Callback", "Repeat", "Retrial", "SilentAbandonment"),
    "loading": ("load_scenario", "parse_scenario", "validate"),
    "routing": ("ROUTING_POLICIES", "OverflowStep", "Routing"),
    "scenario": ("Scenario",),
    "site": ("Absence", "Break", "BreakRule", "NightDifferential", "Shift", "Site"),
    "yaml_reader": ("read_yaml_mapping",),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(importlib.import_module(f"ccsim.model.{_HOME[name]}"), name)
    raise AttributeError(f"module 'ccsim.model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
