"""Reading YAML files strictly, remembering where each field is written.

YAML is read as YAML 1.2 (``no``, ``off`` and ``21:00`` are text, not booleans or base-60
numbers), safely (no tags but YAML's own), duplicate keys are refused, and where each field
is written is kept (:func:`ccsim.model.errors.record_positions`) so that every error names
``file:line:column``. Scenario and experiment files are both read here.
"""

from __future__ import annotations

import copy
import os
import stat
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ccsim.model.errors import ConfigError, record_positions

__all__ = ["MAX_DEPTH", "YAML_BYTES", "read_yaml_mapping"]


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

#: Largest scenario or experiment file read: the biggest shipped file is a few kilobytes,
#: and a device such as /dev/zero would otherwise be read until the memory runs out.
YAML_BYTES = 16 * 2**20


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
    text = _read_text(Path(path), source)
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


def _read_text(path: Path, source: str) -> str:
    """The text of a regular file of at most :data:`YAML_BYTES` (as profile files are read,
    :mod:`ccsim.model.arrivals`): a device (``/dev/zero``) or a pipe would be read without
    end, or wait for a writer at ``open``; so the node is checked before opening, opened
    without waiting (``O_NONBLOCK``, no effect on a regular file), and checked again."""
    not_regular = "is not a regular file (a scenario or experiment file must be one)"
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(source, "", "is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise ConfigError(source, "", not_regular)
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError(source, "", not_regular)
            data = file.read(YAML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read file ({exc})") from None
    if len(data) > YAML_BYTES:
        raise ConfigError(
            source, "", f"larger than {YAML_BYTES / 2**20:g} MiB: not a scenario or experiment file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, "", f"cannot read file ({exc})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it


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
