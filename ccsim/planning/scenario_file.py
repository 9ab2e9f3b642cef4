"""Scenario files the planner writes: YAML that :func:`ccsim.model.load_scenario` reads back to
the same scenario, and that a planner can read: keys in the model's order, durations in units
(``8.5h``) where that is exact, short lists (profiles, days) and chosen mappings on one line.

Written with ruamel.yaml, the library that reads scenario files, as YAML 1.2; times of day are
still quoted (``"06:00"``), so that a YAML 1.1 reader does not take them for base-60 numbers.
"""

from __future__ import annotations

import io
import math
import re

from ruamel.yaml import YAML
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.representer import SafeRepresenter

from ccsim.model import Scenario
from ccsim.model.units import format_duration, parse_duration

__all__ = [
    "DURATION_KEYS",
    "OneLine",
    "dump_yaml",
    "one_line",
    "readable_durations",
    "scenario_yaml",
]

#: Keys whose values are durations (``mean``, ``value``, ``low``, ``high``: of a distribution).
DURATION_KEYS = frozenset({
    "horizon", "warmup", "interval", "length", "after", "within", "threshold",
    "mean", "value", "low", "high",
})  # fmt: skip
_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}$")


class OneLine(dict):
    """A mapping written on one line (flow style)."""


class _Representer(SafeRepresenter):
    """Block style, except lists of plain values and :class:`OneLine` mappings on one line;
    mappings in their own order; no anchors (every node is written where it stands)."""

    def ignore_aliases(self, data) -> bool:
        return True

    def represent_float(self, data: float):
        node = super().represent_float(data)
        # 1e-05 is a float in YAML 1.2 but a string to a YAML 1.1 reader: write 1.0e-05.
        if "e" in node.value and "." not in node.value:
            node.value = node.value.replace("e", ".0e", 1)
        return node


class _Emitter(Emitter):
    """Flow collections folded between items only (as PyYAML does), never inside one."""

    def write_plain(self, text, split: bool = True) -> None:
        if not self.flow_level:
            super().write_plain(text, split)
            return
        # Without an indent ruamel does not move a value that would pass the width to the
        # next line, which could part a key from its value.
        indent, self.indent = self.indent, None
        try:
            super().write_plain(text, split=False)
        finally:
            self.indent = indent


def _represent_list(representer: _Representer, items: list):
    flow = all(not isinstance(item, dict | list) for item in items)
    return representer.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


def _represent_text(representer: _Representer, text: str):
    style = '"' if _TIME_OF_DAY.match(text) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_one_line(representer: _Representer, mapping: OneLine):
    return representer.represent_mapping("tag:yaml.org,2002:map", mapping, flow_style=True)


_Representer.add_representer(float, _Representer.represent_float)
_Representer.add_representer(list, _represent_list)
_Representer.add_representer(str, _represent_text)
_Representer.add_representer(OneLine, _represent_one_line)


def dump_yaml(data, width: int = 80) -> str:
    """``data`` (plain mappings, lists and scalars) as YAML text, lines folded before ``width``."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer, yaml.Emitter = _Representer, _Emitter
    yaml.default_flow_style = False
    yaml.width = width
    yaml.representer.sort_base_mapping_type_on_output = False
    stream = io.StringIO()
    yaml.dump(data, stream)
    # ruamel leaves a space at the end of a folded line; YAML drops it on reading anyway.
    return "".join(line.rstrip(" ") + "\n" for line in stream.getvalue().splitlines())


def readable_durations(node, key: str | None = None):
    """Durations in units (``8.5h``) where that reads back exactly; everything else as is."""
    if isinstance(node, dict):
        return {k: readable_durations(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [readable_durations(item, key) for item in node]
    if key in DURATION_KEYS and isinstance(node, float) and math.isfinite(node):
        text = format_duration(node)
        return text if parse_duration(text) == node else node
    return node


def one_line(node):
    """Every mapping inside ``node`` written on one line."""
    if isinstance(node, dict):
        return OneLine({k: one_line(v) for k, v in node.items()})
    if isinstance(node, list):
        return [one_line(item) for item in node]
    return node


def scenario_yaml(scenario: Scenario) -> str:
    """A scenario as a YAML file that :func:`ccsim.model.load_scenario` reads back to it."""
    data = readable_durations(scenario.model_dump(mode="json", exclude_defaults=True))
    header = f"# {scenario.name}: shifts chosen by `ccsim staff` (ccsim.planning.scheduling)\n"
    return header + dump_yaml(data)
