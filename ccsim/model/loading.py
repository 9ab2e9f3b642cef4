"""Reading scenario files: strict YAML, ``extends``, and validation errors in the user's words.

YAML is read as YAML 1.2 (``no``, ``off`` and ``21:00`` are text, not booleans or base-60
numbers), safely (no tags but YAML's own), duplicate keys are refused, and where each field
is written is kept so that every error names ``file:line:column``. Pydantic's errors become
one :class:`ConfigError` naming the file and the field path, with a suggestion for a
mistyped key.
"""

from __future__ import annotations

import copy
import difflib
import re
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ccsim.model.distributions import TAG_PREFIX
from ccsim.model.errors import ConfigError, record_positions, recorded_positions
from ccsim.model.scenario import Scenario
from ccsim.model.units import UNITS_REQUIRED

__all__ = [
    "load_scenario",
    "parse_scenario",
    "read_scenario_mapping",
    "read_yaml_mapping",
    "resolve_path",
    "validate",
]


#: Tags a file may write: YAML's own scalar and collection types. Anything else (Python
#: objects, binary, sets) is refused rather than built or kept as an opaque value.
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
_MERGE = "tag:yaml.org,2002:merge"

#: Digits an integer may have: more is no count of anything (and Python refuses to read
#: integers of over 4,300 digits from text, with an error that is no message for the user).
_MAX_DIGITS = 30

#: How deep mappings and lists may nest. A scenario needs about eight levels; the limit
#: keeps every later walk over the data (validation, merging, copying) far from Python's
#: recursion limit.
MAX_DEPTH = 64


class _YamlRefusal(Exception):
    """Something in a file's YAML that ccsim does not read, at a node's position."""

    def __init__(self, node, problem: str) -> None:
        super().__init__(problem)
        self.line, self.column = node.start_mark.line + 1, node.start_mark.column + 1


class _Reader:
    """Builds plain dicts, lists and scalars from ruamel's node tree (YAML 1.2: ``no``,
    ``off`` and ``21:00`` stay text), recording where each field is written.

    The tree is composed by ruamel and constructed here, so that every refusal has a
    position: duplicate keys (plain YAML keeps the last), keys that are lists or mappings,
    tags other than YAML's own, integers of more than :data:`_MAX_DIGITS` digits. A node
    reached through several aliases is built once and shared, so an alias bomb costs no
    more than its nodes (:func:`_check_plain` walks shared nodes once too)."""

    def __init__(self) -> None:
        self.positions: dict[str, tuple[int, int]] = {}
        self._built: dict[int, Any] = {}

    def build(self, node, path: tuple[Any, ...] = ()) -> Any:
        if len(path) > MAX_DEPTH:
            raise _YamlRefusal(node, f"nested more than {MAX_DEPTH} levels deep")
        tag = str(node.tag)
        if tag not in _PLAIN_TAGS:
            raise _YamlRefusal(node, f"tag {tag} is not allowed (ccsim reads plain YAML only)")
        if id(node) in self._built:
            return self._built[id(node)]
        if isinstance(node, MappingNode):
            value: Any = {}
            self._built[id(node)] = value
            self._mapping(node, value, path)
        elif isinstance(node, SequenceNode):
            value = []
            self._built[id(node)] = value
            for index, item in enumerate(node.value):
                self.positions.setdefault(_dotted((*path, index)), _where(item))
                value.append(self.build(item, (*path, index)))
        else:
            value = self._scalar(node, tag)
            self._built[id(node)] = value
        return value

    def _mapping(self, node, into: dict[Any, Any], path: tuple[Any, ...]) -> None:
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if str(key_node.tag) == _MERGE:  # `<<: *anchor`: keys written here override
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    part = self.build(source, path)
                    if not isinstance(part, dict):
                        raise _YamlRefusal(source, "a merge (<<) takes a mapping")
                    merged = {**part, **merged}
                continue
            if not isinstance(key_node, ScalarNode):  # `? [a, b]`: no field is named so
                raise _YamlRefusal(key_node, "a key must be plain text, not a list or a mapping")
            key = self.build(key_node, path)
            if key in into:
                raise _YamlRefusal(key_node, f"duplicate key {key!r}")
            self.positions[_dotted((*path, key))] = _where(key_node)
            into[key] = self.build(value_node, (*path, key))
        for key, value in merged.items():
            into.setdefault(key, value)

    @staticmethod
    def _scalar(node, tag: str) -> Any:
        text = node.value
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool"):
            return text.lower() == "true"
        if tag.endswith(":int"):
            digits = text.replace("_", "").lstrip("+-")
            if len(digits) > _MAX_DIGITS:
                raise _YamlRefusal(node, f"an integer of {len(digits):,} digits is too large")
            sign = -1 if text.startswith("-") else 1
            body = digits.lower()
            try:
                for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
                    if body.startswith(prefix):
                        return sign * int(body[2:], base)
                return sign * int(body, 10)
            except ValueError:
                raise _YamlRefusal(node, f"{text!r} is not an integer") from None
        if tag.endswith(":float"):
            body = text.replace("_", "").lower()
            if body.lstrip("+-") in (".inf", ".nan"):
                return float(body.replace(".", ""))
            try:
                return float(body)
            except ValueError:
                raise _YamlRefusal(node, f"{text!r} is not a number") from None
        return text  # str, and timestamps: text that the models parse as dates


def _where(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


#: Documents parsed in this process, by file name and text: (data, positions). The pure-Python
#: composer takes about a third of a second for a staffed model file, and one run of the
#: main job reads each model file three times (the experiment, its frontier and its report).
_PARSED: OrderedDict[tuple[str, str], tuple[Any, dict]] = OrderedDict()
_PARSED_KEPT = 64


def _parse_yaml(text: str, source: str) -> Any:
    """The data of a YAML 1.2 document, its fields' positions recorded for
    :class:`ConfigError` (``file:line:column: field: problem``). The same text of the same
    file is parsed once per process; each call gets its own copy of the data."""
    key = (source, text)
    if key not in _PARSED:
        from ruamel.yaml import YAML  # the pure-Python composer: positions for every node

        yaml = YAML(typ="safe", pure=True)
        yaml.allow_duplicate_keys = True  # refused by _Reader, with the key's position
        node = yaml.compose(text)
        if node is None:
            return None
        reader = _Reader()
        data = reader.build(node)
        _PARSED[key] = (data, {path: (source, *at) for path, at in reader.positions.items()})
        while len(_PARSED) > _PARSED_KEPT:
            _PARSED.popitem(last=False)
    data, positions = _PARSED[key]
    _PARSED.move_to_end(key)
    record_positions(source, positions)
    return copy.deepcopy(data)


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; every failure is a :class:`ConfigError`."""
    from ruamel.yaml.error import YAMLError, YAMLFutureWarning

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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", YAMLFutureWarning)
            data = _parse_yaml(text, source)
    except _YamlRefusal as exc:
        raise ConfigError(
            source, "", f"invalid YAML at line {exc.line}, column {exc.column}: {exc}"
        ) from None
    except YAMLError as exc:
        raise ConfigError(source, "", _describe_yaml_error(exc)) from None
    except RecursionError:  # the YAML parser recurses once per level of nesting
        raise ConfigError(source, "", f"nested more than {MAX_DEPTH} levels deep") from None
    if data is None:
        raise ConfigError(source, "", "file is empty")
    if not isinstance(data, dict):
        raise ConfigError(source, "", f"expected a mapping of keys, got a {type(data).__name__}")
    _check_plain(data, source)
    return data


def _check_plain(data: dict[str, Any], source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and text that cannot be written out
    (a lone surrogate such as ``"\ud800"``), naming the field.

    Without recursion, and visiting a node shared through YAML aliases again only when it
    is reached deeper than before, so that an alias bomb costs no more than its nodes."""
    deepest: dict[int, int] = {}
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(
                    source, _dotted(path), "contains a lone surrogate (not valid Unicode text)"
                ) from None
            continue
        if not isinstance(node, dict | list):
            continue
        if len(path) >= MAX_DEPTH:
            where = _dotted(path[:4]) + "..."
            raise ConfigError(source, where, f"nested more than {MAX_DEPTH} levels deep")
        if deepest.get(id(node), -1) >= len(path):
            continue
        deepest[id(node)] = len(path)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(key, str):
                stack.append((key, path))
            stack.append((value, (*path, key)))


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _describe_yaml_error(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"invalid YAML at {where}{problem}".replace(" at invalid", "")


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
