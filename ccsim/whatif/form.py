"""The what-if form: a scenario's key inputs as fields a planner edits, and a filled-in form
read back as the overrides of a variant.

A field's ``path`` is the dotted override path of :func:`ccsim.model.overrides.apply_overrides`
(``channels.voice.handle_time.mean``, ``sites.inhouse.shifts.0.headcount``), except for two
kinds of field that stand for several scenario values at once, whose path starts with a word
and a colon and is the form's own:

- ``scale:channels.<channel>.arrivals.volume``: the channel's volume on every weekday as a
  percentage (``110%`` is 10% more on each day). A scenario has no scale field; the daily
  volumes (``volume: {mon: ..., sun: ...}``) are what a planner calls the volume, and the
  profile only spreads each day over its intervals, so "scale the profile" is this
  multiplication of every day's volume, except a day typed in its own field: that day is
  simulated as typed (1500 typed on Monday is 1500 on Monday whatever the scale).
- ``headcount:sites.<site>.shifts@<start>/<length>`` or ``@<length>``: the agents of a group
  of shifts in all, for a site with more shift rows than a form can show (a staffed
  model's hundred tours); a new total is spread over the group's shifts in proportion to
  their headcounts (largest remainders, so the total is exact).

Values are shown as the scenario file writes them (durations with their unit, ``never`` for
an overflow that never happens); an error is the command line's message for that field
(:class:`~ccsim.model.ConfigError`'s or :class:`~ccsim.model.overrides.OverrideError`'s), so
the form and ``ccsim experiment`` refuse a value in the same words.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ccsim.model import ConfigError, Scenario, load_scenario
from ccsim.model.overrides import OverrideError, apply_overrides
from ccsim.model.units import parse_duration, parse_rate
from ccsim.whatif.fields import (
    HEADCOUNT,
    SCALE,
    SHARE_HINT,
    FormField,
    scenario_fields,
    shift_groups,
    silent,
)

__all__ = ["FormField", "Variant", "form_fields", "variant"]

#: The source named by the errors of a variant (never printed: the form shows the message).
SOURCE = "<what-if>"
#: A currency other than the base's (``{}``), refused before anything runs.
CURRENCY = (
    "currency: the page compares amounts in the base's currency ({}); another code would "
    "relabel the costs, not convert them"
)


@dataclass(frozen=True)
class Variant:
    """A filled-in form read back: the overrides that differ from the base, the errors by
    field path (``""``: one that belongs to no single field), one line per change."""

    overrides: dict[str, Any]
    errors: dict[str, str]
    changes: list[str] = field(default_factory=list)


def form_fields(scenario_path: str | Path) -> list[FormField]:
    """The scenario's key inputs in page order (Demand, Handle time and patience, Bot,
    Staffing, Routing, Costs): only those the scenario has. Raises
    :class:`~ccsim.model.ConfigError` for a file that is no valid scenario."""
    return scenario_fields(load_scenario(scenario_path))


def _read_value(text: str) -> Any:
    """The typed text as a YAML scalar, as a file would hold it: ``1200`` a number, ``5min``
    and ``never`` text (YAML 1.2: ``no`` stays text)."""
    try:
        value = YAML(typ="safe").load(io.StringIO(text))
    except YAMLError:
        return text
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else text


def _index_path(data: Any, path: str) -> str:
    """``path`` with named list items as their index (``sites.inhouse`` -> ``sites.0``), the
    way a validation error names a field."""
    parts, node = [], data
    for part in path.split("."):
        if isinstance(node, list):
            names = [
                i
                for i, item in enumerate(node)
                if isinstance(item, dict) and item.get("name") == part
            ]
            index = (
                names[0] if names and not part.isdigit() else int(part) if part.isdigit() else None
            )
            if index is None or index >= len(node):
                return path
            parts.append(str(index))
            node = node[index]
        elif isinstance(node, dict) and part in node:
            parts.append(part)
            node = node[part]
        else:
            return path
    return ".".join(parts)


def _at(data: Any, path: str) -> Any:
    """The value at an override path in a scenario's dump; None where it has none."""
    node = data
    for part in _index_path(data, path).split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _same(base: Any, value: Any) -> bool:
    """Whether a typed value is the base's in another spelling: ``11.0`` for ``11``,
    ``300s`` for ``5min``, ``3/min`` for ``180/h`` (a change that changes nothing)."""
    if isinstance(base, bool) or isinstance(value, bool):
        return base == value
    if isinstance(base, int | float) and isinstance(value, int | float):
        return float(base) == float(value)
    if not (isinstance(base, str) and isinstance(value, str)):
        return False
    if base.strip() == value.strip():
        return True
    for parse in (parse_duration, parse_rate):
        try:
            return math.isclose(parse(base), parse(value), rel_tol=1e-12)
        except ValueError:
            continue
    return False


def _form_only_same(known: FormField, text: str) -> bool:
    """Whether a form-only field is typed as its base in another spelling (``100.0%``,
    ``773.0`` agents in all)."""
    if known.path.startswith(SCALE):
        try:
            return _percent(text) == 1
        except ValueError:
            return False
    return _same(_read_value(known.value), _read_value(text))


def _share(text: str, value: Any) -> Any:
    """A share typed as a percentage (``40%``) as the share (0.4), as the command line's
    share options read it; other text as read."""
    if not text.endswith("%"):
        return value
    try:
        return float(text[:-1].strip()) / 100
    except ValueError:
        return text


def _plain(known: FormField, text: str) -> Any:
    """The value typed in a field that is an override path."""
    value = _read_value(text)
    return _share(text, value) if known.hint == SHARE_HINT else value


def _in_words(known: FormField, text: str, value: Any, message: str) -> str:
    """A field's message; for a share that is no number, what to type rather than the
    parser's words."""
    if known.hint == SHARE_HINT and isinstance(value, str):
        return f"a share such as 0.4 or 40%, got {text!r}"
    return message


def _check_alone(scenario: Scenario, path: str, value: Any) -> str | None:
    """The command line's message for ``value`` at ``path``, if the field itself refuses it
    (an error elsewhere, such as shares that no longer add up, waits for the whole form)."""
    try:
        apply_overrides(scenario, {path: value}, SOURCE)
    except OverrideError as error:
        return error.message
    except ConfigError as error:
        own = _index_path(scenario.model_dump(), path)
        if error.path == own or error.path.startswith(own + "."):
            return error.message
    return None


def _percent(text: str) -> float:
    number = text[:-1].strip() if text.endswith("%") else ""
    try:
        factor = float(number) / 100
    except ValueError:
        # A bare number is refused, not guessed: "110" meant as 110% would be 110 times the
        # volume if read as a factor, and "1.1" as 1.1%.
        raise ValueError(f"a percentage with its sign, such as '110%', got {text!r}") from None
    if not (math.isfinite(factor) and factor >= 0):
        raise ValueError(f"must be a percentage of at least 0%, got {text!r}")
    return factor


def _spread(headcounts: list[int], total: int) -> list[int]:
    """``total`` agents over shifts in proportion to ``headcounts`` (evenly if all are 0), by
    largest remainders so that they add up to ``total`` exactly."""
    weights = headcounts if sum(headcounts) > 0 else [1] * len(headcounts)
    exact = [total * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _headcount_group(scenario: Scenario, path: str) -> list[int]:
    site, key = path[len(HEADCOUNT) + len("sites.") :].split(".shifts@", 1)
    shifts = next(s for s in scenario.model_dump()["sites"] if s["name"] == site)["shifts"]
    return next(m for k, m in shift_groups(shifts).items() if "/".join(k) == key)


def _expand(scenario: Scenario, path: str, text: str, overrides: dict[str, Any]) -> str | None:
    """Add the scenario values a form-only field stands for; its error if refused."""
    data = scenario.model_dump()
    if path.startswith(SCALE):
        try:
            factor = _percent(text)
        except ValueError as error:
            return str(error)
        base = path[len(SCALE) :]
        channel = base.split(".")[1]
        for day, count in data["channels"][channel]["arrivals"]["volume"].items():
            day_path = f"{base}.{day}"
            # A day typed in its own field is what the planner wants simulated that day:
            # the scale is for the days left as they were.
            if day_path in overrides:
                continue
            scaled = float(f"{count * factor:.10g}")
            if scaled != count:
                overrides[day_path] = scaled
        return None
    site = path[len(HEADCOUNT) + len("sites.") :].split(".shifts@", 1)[0]
    members = _headcount_group(scenario, path)
    first = f"sites.{site}.shifts.{members[0]}.headcount"
    value = _read_value(text)
    message = _check_alone(scenario, first, value)
    if message is not None:
        return message
    shifts = next(s for s in data["sites"] if s["name"] == site)["shifts"]
    counts = _spread([shifts[i]["headcount"] for i in members], int(value))
    for i, count in zip(members, counts, strict=True):
        overrides[f"sites.{site}.shifts.{i}.headcount"] = count
    return None


def _typed_days(volume: str, overrides: dict[str, Any], fields: Mapping[str, FormField]) -> str:
    """What a change of the scale leaves out: the days typed in their own fields."""
    days = [
        field.label.rsplit(" ", 1)[-1]
        for path, field in fields.items()
        if path.startswith(volume + ".") and path in overrides
    ]
    return f" on the other days ({', '.join(days)} as typed)" if days else ""


def _silenced(scenario: Scenario, changed: Scenario, typed: Mapping[str, str]) -> dict[str, str]:
    """A channel with contacts in the base and none in the variant: its service level and
    waits are undefined there, so there is nothing to compare (and a stopping rule on them
    would run every replication for nothing). On the channel's scale field if typed."""
    for name, channel in scenario.channels.items():
        if not silent(channel) and silent(changed.channels[name]):
            scale = f"{SCALE}channels.{name}.arrivals.volume"
            what = f"{typed[scale]} leaves" if scale in typed else "this variant leaves"
            message = f"{what} {name} with no contacts on any day: nothing to compare"
            return {scale if scale in typed else "": message}
    return {}


def _whole(
    scenario: Scenario,
    overrides: dict[str, Any],
    fields: Mapping[str, FormField],
    typed: Mapping[str, str],
) -> dict[str, str]:
    """The error of the whole variant, on the field it names or on ``""``."""
    try:
        changed = apply_overrides(scenario, overrides, SOURCE)
    except OverrideError as error:
        return {error.path: error.message}
    except ConfigError as error:
        data = scenario.model_dump()
        for path in fields:
            if _index_path(data, path) == error.path:
                return {path: error.message}
        return {"": f"{error.path}: {error.message}" if error.path else error.message}
    return _silenced(scenario, changed, typed)


def variant(scenario_path: str | Path, values: Mapping[str, str]) -> Variant:
    """The variant that a filled-in form describes: ``values`` maps a field's path to the
    text typed in it (a field left out, or typed as shown, keeps the base value).

    Each changed field is checked alone first, so that every bad field gets its own
    message; then, if none is bad, the variant as a whole (an error that belongs to no
    single field, such as shares that no longer add up to 1, goes under ``""``). Nothing
    is run. Raises :class:`~ccsim.model.ConfigError` if the base scenario itself is bad."""
    scenario = load_scenario(scenario_path)
    data = scenario.model_dump()
    fields = {f.path: f for f in scenario_fields(scenario)}
    overrides: dict[str, Any] = {}
    errors: dict[str, str] = {}
    changes: list[str] = []
    later = []  # form-only fields, expanded once the plain ones are read
    unknown: list[str] = []
    for path, typed in values.items():
        text = str(typed).strip()
        known = fields.get(path)
        if known is not None and text == known.value:
            continue
        if path == "currency":
            if text != scenario.currency:
                errors[""] = CURRENCY.format(scenario.currency)
            continue
        if known is None:
            # The server checks every value: a path the form does not show (the horizon, a
            # limit) would run a variant that the page and its history cannot explain.
            unknown.append(path)
            continue
        line = f"{known.label}: {known.value} -> {text}"
        if not text:
            changes.append(line)
            errors[path] = "a value is needed"
        elif path.startswith((SCALE, HEADCOUNT)):
            if not _form_only_same(known, text):
                changes.append(line)
                later.append((path, text, len(changes) - 1))
        else:
            value = _plain(known, text)
            if _same(_at(data, path), value):
                continue  # the base's value in another spelling
            changes.append(line)
            message = _check_alone(scenario, path, value)
            if message is not None:
                errors[path] = _in_words(known, text, value, message)
            overrides[path] = value
    for path, text, line in later:
        typed = _typed_days(path[len(SCALE) :], overrides, fields) if path.startswith(SCALE) else ""
        message = _expand(scenario, path, text, overrides)
        if message is not None:
            errors[path] = message
        changes[line] += typed
    if unknown:
        errors[""] = f"{', '.join(unknown)}: not an input of this page"
    if not errors and overrides:
        errors = _whole(scenario, overrides, fields, {p: t for p, t, _ in later})
    return Variant(overrides, errors, changes)
