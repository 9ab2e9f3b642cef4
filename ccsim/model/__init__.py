"""What a contact centre is: units, distributions, calendar, the scenario models, loading
and errors, overrides. Knows nothing of simulation."""

from ccsim.model.errors import ConfigError, UserError
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
