"""Reading scenario files: strict YAML, ``extends``, and validation errors in the user's words.

YAML is read safely (no tags that build objects), duplicate keys are refused, and numbers
resolve as YAML 1.2 does. Pydantic's errors become one :class:`ConfigError` naming the file
and the field path, with a suggestion for a mistyped key.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ccsim.model.distributions import TAG_PREFIX
from ccsim.model.errors import ConfigError
from ccsim.model.scenario import Scenario

__all__ = ["load_scenario", "parse_scenario", "read_yaml_mapping", "validate"]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader (no tags that build Python objects) that also refuses duplicate keys,
    which plain YAML silently resolves to the last value."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    # Keys written in the mapping must be unique; keys merged in with `<<: *anchor` may be
    # overridden by them, which is what merging is for.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# YAML 1.1 reads 21:00 as the base-60 integer 1260, which would turn a shift start into a
# number; ccsim resolves numbers as YAML 1.2 does, so times of day stay text.
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_StrictLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; every failure is a :class:`ConfigError`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(source, "", "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "", f"cannot read file ({exc})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", _describe_yaml_error(exc)) from None
    if data is None:
        raise ConfigError(source, "", "file is empty")
    if not isinstance(data, dict):
        raise ConfigError(source, "", f"expected a mapping of keys, got a {type(data).__name__}")
    return data


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "constructor for the tag" in problem:
        tag = problem.rsplit(" ", 1)[-1]
        problem = f"tag {tag} is not allowed (ccsim reads plain YAML only)"
    return f"invalid YAML at {where}{problem}".replace(" at invalid", "")


def parse_scenario(
    data: dict[str, Any], source: str = "<scenario>", base_dir: str | Path = "."
) -> Scenario:
    """Validate a mapping (as read from YAML) into a :class:`Scenario`; files it names
    (profiles) are relative to ``base_dir``."""
    return validate(Scenario, data, source, context={"base_dir": str(base_dir)})


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises :class:`ConfigError` on any bad input.

    A file may start from another with ``extends: other.yaml`` (relative to it): its own
    keys are merged into the other's, mappings key by key, anything else replaced. Several
    operating models can so share one customer demand."""
    return parse_scenario(
        _read_extended(Path(path), []), source=str(path), base_dir=Path(path).parent
    )


def _read_extended(path: Path, chain: list[Path]) -> dict[str, Any]:
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = (path.parent / str(parent)).resolve()
    if base in chain or base == path.resolve():
        raise ConfigError(str(path), "extends", f"{parent}: files extend each other in a loop")
    if not base.is_file():
        raise ConfigError(str(path), "extends", f"{parent}: file not found")
    return _merge(_read_extended(base, [*chain, path.resolve()]), data)


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
    return sorted(kept, key=lambda e: e["type"] != "extra_forbidden")


def _describe_error(model: type[BaseModel], error: dict[str, Any]) -> tuple[str, str]:
    loc = [part for part in error["loc"] if not str(part).startswith(TAG_PREFIX)]
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
            from ccsim.model.distributions import _KINDS  # the branch pydantic chose

            current = _KINDS.get(part[len(TAG_PREFIX) :])
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
