"""Loading scenario files: ``extends``, validation, and validation errors in the user's
words.

The YAML itself is read by :mod:`ccsim.model.yaml_reader`, which records where each field
is written; pydantic's errors become one :class:`ConfigError` naming the file and the field
path (and so its line), with a suggestion for a mistyped key.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ccsim.model.distributions import DISTRIBUTIONS, TAG_PREFIX
from ccsim.model.errors import ConfigError, record_positions, recorded_positions
from ccsim.model.scenario import Scenario
from ccsim.model.units import UNITS_REQUIRED
from ccsim.model.yaml_reader import read_yaml_mapping

__all__ = [
    "load_scenario",
    "parse_scenario",
    "read_scenario_mapping",
    "resolve_path",
    "validate",
]


def parse_scenario(
    data: dict[str, Any],
    source: str = "<scenario>",
    base_dir: str | Path = ".",
    *,
    numbers_are_seconds: bool = True,
) -> Scenario:
    """Validate a mapping into a :class:`Scenario`; files it names (profiles) are relative
    to ``base_dir``.

    A mapping built in Python may give durations as numbers of seconds, the unit of every
    attribute of a scenario; one read from a file (``numbers_are_seconds=False``, as
    :func:`load_scenario` and experiment overrides do) must say each duration's unit."""
    context: dict[str, Any] = {"base_dir": str(base_dir), UNITS_REQUIRED: not numbers_are_seconds}
    # Profile files are read while the channels are validated, before the scenario's own
    # limits are: take the size limit from the raw mapping (validated with the rest).
    limits = data.get("limits") if isinstance(data, dict) else None
    size = limits.get("profile_bytes") if isinstance(limits, dict) else None
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        context["profile_bytes"] = size
    return validate(Scenario, data, source, context=context)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises :class:`ConfigError` on any bad input.

    A file may start from another with ``extends: other.yaml`` (relative to it): its own
    keys are merged into the other's, mappings key by key, anything else replaced. Several
    operating models can so share one customer demand."""
    return parse_scenario(
        _read_extended(Path(path)),
        source=str(path),
        base_dir=Path(path).parent,
        numbers_are_seconds=False,
    )


def read_scenario_mapping(path: str | Path) -> dict[str, Any]:
    """A scenario file's mapping as written, merged onto the files it ``extends``, before
    validation (what :func:`load_scenario` validates): to see how the user wrote a value."""
    return _read_extended(Path(path))


#: Files in one chain of ``extends``: a scenario, the one it extends, and so on.
MAX_EXTENDS = 32


def _read_extended(path: Path) -> dict[str, Any]:
    """The file's mapping merged onto the chain of files it extends (read in a loop, not
    by recursion, so a long chain is an error in the user's words)."""
    top = str(path)
    layers = [read_yaml_mapping(path)]
    sources = [top]
    seen = {resolve_path(path, str(path))}
    while (parent := layers[-1].pop("extends", None)) is not None:
        if not isinstance(parent, str):
            raise ConfigError(str(path), "extends", f"expected a file name, got {parent!r}")
        base = resolve_path(path.parent / parent, str(path), "extends")
        if base in seen:
            raise ConfigError(str(path), "extends", f"{parent}: files extend each other in a loop")
        if len(layers) >= MAX_EXTENDS:
            raise ConfigError(
                str(path), "extends", f"a chain of more than {MAX_EXTENDS} files extending others"
            )
        if not base.is_file():
            raise ConfigError(str(path), "extends", f"{parent}: file not found")
        seen.add(base)
        path = base
        layers.append(read_yaml_mapping(base))
        sources.append(str(base))
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = _merge(merged, layer)
    if len(layers) > 1:  # a field inherited is reported where it is written: in its file
        positions: dict[str, tuple[str, int, int]] = {}
        for source in reversed(sources):
            positions.update(recorded_positions(source))
        record_positions(top, positions)
    return merged


def resolve_path(path: Path, source: str, field: str = "") -> Path:
    """``path`` made absolute, its links followed; a loop of symbolic links (which
    :meth:`Path.resolve` reports as a RuntimeError) is a :class:`ConfigError`."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        raise ConfigError(
            source, field, f"{path}: cannot be resolved (a loop of symbolic links?)"
        ) from None


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate(
    model: type[BaseModel], data: Any, source: str, context: dict[str, Any] | None = None
) -> Any:
    """Validate ``data`` into ``model``, turning pydantic's report into one ConfigError."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = _without_echoes(model, exc.errors(include_url=False))
        path, message = _describe_error(model, errors[0])
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' * (len(errors) > 2)})"
        raise ConfigError(source, path, message) from None


def _without_echoes(model: type[BaseModel], errors: list[dict[str, Any]]) -> list[dict]:
    """Errors with the typos first, and without the "missing" errors that a typo causes:
    ``handle_tme`` is one problem, not an unknown key plus a missing ``handle_time``."""
    echoes = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            parent, key = error["loc"][:-1], str(error["loc"][-1])
            close = difflib.get_close_matches(key, _allowed_keys(model, parent), n=1)
            if close:
                echoes.add((*parent, close[0]))
    kept = [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in echoes)]
    # A value of a union type (a number, or a mapping of numbers) fails every branch; the
    # branch of the wrong shape only says "must be a valid dictionary": keep the other.
    unions = {_union_loc(e["loc"]) for e in kept if not _wrong_shape(e)}
    kept = [e for e in kept if not (_wrong_shape(e) and _union_loc(e["loc"]) in unions)]
    return sorted(kept, key=lambda e: e["type"] != "extra_forbidden")


#: Labels pydantic puts in an error's location for the branch of a union it tried:
#: ``constrained-float``, ``dict[str,constrained-float]``, ``function-after[...]``.
_BRANCH = re.compile(r"^(constrained-)?(float|int|str|bool)$|^(list|dict|function-\w+)\[")


def _is_branch(part: Any) -> bool:
    return isinstance(part, str) and bool(_BRANCH.match(part))


def _union_loc(loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The location of the union a branch error belongs to, or None."""
    for index, part in enumerate(loc):
        if _is_branch(part):
            return tuple(loc[:index])
    return None


def _wrong_shape(error: dict[str, Any]) -> bool:
    return _union_loc(error["loc"]) is not None and error["type"].endswith("_type")


def _describe_error(model: type[BaseModel], error: dict[str, Any]) -> tuple[str, str]:
    loc = [
        part
        for part in error["loc"]
        if not str(part).startswith(TAG_PREFIX) and not _is_branch(part)
    ]
    path = ".".join(str(part) for part in loc if part != "[key]")
    original = error.get("ctx", {}).get("error")
    if isinstance(original, ConfigError):  # a whole-model check that knows the field's path
        return ".".join(p for p in (path, original.path) if p), original.message
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
        allowed = _allowed_keys(model, error["loc"][:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        elif allowed:
            message += f" (allowed: {', '.join(allowed)})"
    elif kind == "missing":
        message = "required but missing"
    elif kind == "unknown_distribution":
        given = error["input"].get("dist") if isinstance(error["input"], dict) else None
        message += f"; got {given!r}" if given is not None else "; 'dist' is missing"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"expected a mapping of keys, got {error['input']!r}"
    elif message.startswith(("Value error, ", "Assertion failed, ")):
        message = message.split(", ", 1)[1]
    elif kind == "too_short" and error.get("ctx", {}).get("min_length") == 1:
        message = "must not be empty"
    message = message.replace("Input should be", "must be")
    return path or "(top level)", message


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Walk the models along ``loc`` to list the keys a mapping there may have."""
    current: Any = model
    for part in loc:
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            current = DISTRIBUTIONS.get(part[len(TAG_PREFIX) :])  # the branch pydantic chose
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
        else:
            current = _element_type(current)
        if current is None:
            return []
        current = _model_in(current) or current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _element_type(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    return args[-1] if args else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The single model class inside ``X | None``, ``list[X]``, ``dict[str, X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    models = [
        arg
        for arg in getattr(annotation, "__args__", ())
        if isinstance(arg, type) and issubclass(arg, BaseModel)
    ]
    return models[0] if len(models) == 1 and not _is_container(annotation) else None


def _is_container(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) in (list, dict)
