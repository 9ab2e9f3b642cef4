"""Scenario variants by dotted-path overrides, and grid sweeps over them.

An experiment names its scenarios as changes to one base scenario: ``sites.0.agents: 40``
or ``channels.voice.patience.mean: 3min``; an item of a list of named things by its name
(``sites.manila.cost_per_hour``). A path is checked against the base scenario's
full structure (every field, defaults included), so a misspelt path is an error that names
it rather than a silently ignored key; the changed scenario is then validated like any
scenario file. Variants are new frozen objects: the base is never mutated.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import re
from collections.abc import Mapping
from typing import Any

from ccsim.model import ConfigError, Scenario, parse_scenario

__all__ = ["OverrideError", "apply_overrides", "check_scenario_name", "expand_grid"]


class OverrideError(ValueError):
    """A dotted path that does not lead to a field of the scenario."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


def _step(node: Any, part: str, path: str, walked: str) -> tuple[Any, Any]:
    """The key (or index) for ``part`` inside ``node``, and the child there."""
    where = walked or "the scenario"
    if isinstance(node, dict):
        if part not in node:
            close = difflib.get_close_matches(part, [str(k) for k in node], n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"it has: {', '.join(node)}"
            raise OverrideError(path, f"{where} has no field {part!r} ({hint})")
        return part, node[part]
    if isinstance(node, list):
        # An item of a list of named things (sites) by its name: sites.manila.cost_per_hour.
        named = [
            i for i, item in enumerate(node) if isinstance(item, dict) and item.get("name") == part
        ]
        if not part.isdigit() and named:
            return named[0], node[named[0]]
        if not part.isdigit() or int(part) >= len(node):
            raise OverrideError(path, f"{where} is a list of {len(node)}: {part!r} is no index")
        return int(part), node[int(part)]
    raise OverrideError(path, f"{where} is a single value, not a mapping or a list")


def apply_overrides(base: Scenario, overrides: Mapping[str, Any], source: str) -> Scenario:
    """A validated copy of ``base`` with each dotted path set to its value.

    Errors are :class:`OverrideError` for a path that does not exist, and
    :class:`~ccsim.model.ConfigError` (with ``source``) for a value the scenario refuses.
    """
    data = copy.deepcopy(base.model_dump())
    for path, value in overrides.items():
        path = str(path)
        parts = path.split(".")
        node, walked = data, ""
        for part in parts[:-1]:
            key, child = _step(node, part, path, walked)
            walked = f"{walked}.{part}".lstrip(".")
            if child is None:
                raise OverrideError(
                    path, f"{walked} is not set in the base scenario: override it whole"
                )
            node = child
        key, _ = _step(node, parts[-1], path, walked)
        node[key] = value
    # The base dumps its durations with units; the values written here must say theirs.
    return parse_scenario(data, source=source, numbers_are_seconds=False)


#: What a scenario's name may not hold: control characters (a newline splits its row on the
#: terminal), and the line and paragraph separators that end a line as well.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_scenario_name(name: Any, source: str, field: str) -> None:
    """Refuse a scenario name that no table or page can show: an empty cell is read back as
    missing (an experiment named a scenario ``''`` and its report ended in a TypeError), and
    spaces at its ends or characters that break a line make it look like another name."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(source, field, f"scenario name {name!r}: must not be empty")
    if name != name.strip() or _UNPRINTABLE.search(name):
        raise ConfigError(
            source,
            field,
            f"scenario name {name!r}: no spaces at its ends and no control characters",
        )


def _grid_point_name(point: Mapping[str, Any], template: str | None) -> str:
    if template is not None:
        return re.sub(r"\{([^{}]+)\}", lambda m: str(point.get(m[1], m[0])), template)
    # Default: the last path segment, or the whole path where two paths end alike.
    lasts = [path.rsplit(".", 1)[-1] for path in point]
    return ",".join(
        f"{last if lasts.count(last) == 1 else path}={value}"
        for (path, value), last in zip(point.items(), lasts, strict=True)
    )


def _check_template(paths: list[str], template: str, source: str) -> None:
    """Refuse a placeholder that names no path of the grid (it would stay as written)."""
    for placeholder in re.findall(r"\{([^{}]+)\}", template):
        if placeholder not in paths:
            close = difflib.get_close_matches(placeholder, paths, n=1)
            hint = f"did you mean {{{close[0]}}}?" if close else f"the grid has: {', '.join(paths)}"
            raise ConfigError(
                source, "grid_name", f"{{{placeholder}}} is no path of the grid ({hint})"
            )


def expand_grid(
    grid: Mapping[str, list[Any]], template: str | None = None, source: str = "<experiment>"
) -> dict[str, dict[str, Any]]:
    """The cartesian product of override lists, each point named (by ``template`` if given,
    with ``{dotted.path}`` placeholders, else ``agents=40,mean=3min``).

    A template with a placeholder that is no path of the grid, or that gives two points one
    name (``grid_name: constant``, which would run one of them only), raises
    :class:`~ccsim.model.ConfigError` naming ``grid_name`` in ``source``.
    """
    if not grid:  # the product of no lists is one empty point: not a scenario
        return {}
    paths = list(grid)
    if template is not None:
        _check_template(paths, template, source)
    points = [dict(zip(paths, values, strict=True)) for values in itertools.product(*grid.values())]
    named: dict[str, dict[str, Any]] = {}
    for point in points:
        name = _grid_point_name(point, template)
        check_scenario_name(name, source, "grid_name" if template is not None else "grid")
        if name in named:
            why = f"two grid points are both named {name!r}"
            if template is None:
                raise ConfigError(source, "grid", f"{why}: a value repeated in a list?")
            varying = ", ".join(f"{{{path}}}" for path in paths if len(grid[path]) > 1)
            raise ConfigError(
                source, "grid_name", f"{why}; the name must vary over the grid (use {varying})"
            )
        named[name] = point
    return named
