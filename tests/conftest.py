"""Scenario builders shared by the tests.

A test states a scenario as the plain data a YAML file would hold and has it validated like
one (``ccsim.parse_scenario``), so a builder can never make a scenario a user could not
write. Test modules import these functions (``from conftest import channel, scenario``) and
fix their own defaults with :func:`functools.partial` or a short wrapper.
"""

from __future__ import annotations

from typing import Any

import ccsim

#: Every way a contact ends, stated here rather than taken from the code, so that a
#: conservation test (offered = the sum of these) catches an outcome the code forgets to count.
OUTCOMES = (
    "contained",
    "blocked",
    "balked",
    "abandoned",
    "callbacks",
    "messages",
    "disconnected",
    "carried_over",
    "resolved",
    "escalated",
    "unresolved",
)


def exponential(mean: Any) -> dict:
    """An exponential distribution of the given mean (``"3min"`` or seconds)."""
    return {"dist": "exponential", "mean": mean}


def service_level(threshold: Any = "20s", target: float = 0.8) -> dict:
    return {"threshold": threshold, "target": target}


def _distribution(spec: Any) -> dict:
    return spec if isinstance(spec, dict) else exponential(spec)


def channel(
    rate: str = "1/min",
    handle: Any = "3min",
    patience: Any = "2min",
    *,
    threshold: Any = "20s",
    dist: str = "exponential",
    **extra: Any,
) -> dict:
    """A channel with Poisson arrivals at ``rate``. ``handle`` and ``patience`` are means of
    exponential times, or whole distributions as dicts; ``patience=None`` is a channel
    nobody abandons. ``dist`` names another handle-time distribution given by its mean
    (``deterministic``: by its value). ``extra`` adds or replaces channel fields."""
    if isinstance(handle, dict):
        handle_time = handle
    elif dist == "exponential":
        handle_time = exponential(handle)
    else:
        handle_time = {"dist": dist, "value" if dist == "deterministic" else "mean": handle}
    spec = {
        "arrivals": {"rate": rate},
        "handle_time": handle_time,
        "service_level": service_level(threshold),
    }
    if patience is not None:
        spec["patience"] = _distribution(patience)
    return spec | extra


def scenario_data(
    channels: dict, sites: list, routing: dict | None = None, *, name: str = "t", **fields: Any
) -> dict:
    """A scenario file's content: ``fields`` are top-level keys (``horizon``, ``warmup``,
    ``start``, ...); a field or ``routing`` given as None is left out."""
    data = {"name": name, **fields, "channels": channels, "sites": sites, "routing": routing}
    return {key: value for key, value in data.items() if value is not None}


def scenario(
    channels: dict,
    sites: list,
    routing: dict | None = None,
    *,
    source: str = "<scenario>",
    **fields: Any,
) -> ccsim.Scenario:
    """:func:`scenario_data` validated as a scenario file named ``source`` would be."""
    return ccsim.parse_scenario(scenario_data(channels, sites, routing, **fields), source=source)
