"""A what-if variant saved as a scenario file: the base file's own text with the changed
values written in, its comments, order and layout kept (ruamel.yaml's round trip), so that
the planner's file stays the planner's file, with a comment on top saying what changed.

A value the base file inherits (``extends:``) and does not write itself is added to the
saved file: a mapping key by key (files extending others merge mappings), a list whole
(they replace lists), copied from the base scenario as loaded. Paths the file names relative
to itself (``extends``, ``profile: {file: ...}``) are rewritten relative to the new file.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ccsim.files import write_text
from ccsim.model import load_scenario
from ccsim.planning.scenario_file import dump_yaml
from ccsim.whatif.fields import plain

__all__ = ["save_variant"]


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments, key order, flow style and quotes kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # a long bracketed list stays on its lines
    return yaml


def _index(node: list, part: str) -> int:
    """The item of a list that ``part`` names: by its ``name`` (sites), or its index."""
    for i, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == part and not part.isdigit():
            return i
    return int(part)


def _set(
    document: Any, resolved: dict[str, Any], path: str, value: Any, mapping=CommentedMap
) -> None:
    """Set ``path`` in ``document`` (the file's text as read), filling in from ``resolved``
    (the scenario as loaded) what the file inherits."""
    parts = path.split(".")
    node, full = document, resolved
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            key = _index(node, part)
            full = full[_index(full, part)] if isinstance(full, list) else None
        else:
            key = part
            full = full.get(part) if isinstance(full, dict) else None
            if not last and key not in node:
                # Inherited: a mapping is merged key by key, a list replaced whole.
                node[key] = copy.deepcopy(full) if isinstance(full, list) else mapping()
        if last:
            node[key] = plain(value)
        else:
            node = node[key]


def _relative(text: str, source: Path, dest: Path) -> str:
    """A path written relative to ``source``'s folder, rewritten relative to ``dest``'s."""
    target = Path(text) if Path(text).is_absolute() else source.parent / text
    return os.path.relpath(target.resolve(), dest.parent.resolve())


def _moved_paths(document: Any, source: Path, dest: Path) -> dict[str, str]:
    """The file names the scenario writes relative to itself, rewritten for ``dest``."""
    paths = {}
    if isinstance(document.get("extends"), str):
        paths["extends"] = _relative(document["extends"], source, dest)
    for name, channel in (document.get("channels") or {}).items():
        arrivals = channel.get("arrivals") if isinstance(channel, dict) else None
        profile = arrivals.get("profile") if isinstance(arrivals, dict) else None
        if isinstance(profile, dict) and isinstance(profile.get("file"), str):
            paths[f"channels.{name}.arrivals.profile.file"] = _relative(
                profile["file"], source, dest
            )
    return paths


def _appended(values: dict[str, Any], resolved: dict[str, Any]) -> str:
    """Sections the file lacks, holding ``values`` (filled in from ``resolved`` where a
    path goes through a list), as YAML text."""
    sections: dict[str, Any] = {}
    for path, value in values.items():
        _set(sections, resolved, str(path), value, dict)
    return dump_yaml(sections)


def _header(source: Path, overrides: dict[str, Any]) -> str:
    lines = [f"# A what-if variant of {source.name} (ccsim whatif), changed:"]
    lines += [f"#   {path}: {plain(value)}" for path, value in overrides.items()]
    return "\n".join(lines) + "\n"


def _scalar_text(value: Any) -> str:
    """``value`` as a YAML scalar that reads back as itself: plain where it can be."""
    value = plain(value)
    text = str(value) if not isinstance(value, bool) else str(value).lower()
    try:
        if YAML(typ="safe").load(io.StringIO(text)) == value:
            return text
    except Exception:  # noqa: BLE001 - any text ruamel cannot read back is quoted
        pass
    return json.dumps(value)


def _written_at(document: Any, path: str) -> tuple[int, int] | None:
    """Where the file writes the scalar at ``path`` (0-based line and column), or None
    where it does not (inherited, or not a plain value)."""
    node = document
    parts = path.split(".")
    for depth, part in enumerate(parts):
        if isinstance(node, list):
            try:
                key: Any = _index(node, part)
            except ValueError:
                return None
            if key >= len(node):
                return None
        elif isinstance(node, dict) and part in node:
            key = part
        else:
            return None
        child = node[key]
        if depth == len(parts) - 1:
            if isinstance(child, dict | list):
                return None
            return node.lc.item(key) if isinstance(node, list) else node.lc.value(key)
        node = child
    return None


def _replace_scalar(lines: list[str], line: int, column: int, text: str) -> None:
    """Put ``text`` in place of the scalar written at ``line``, ``column``."""
    source = lines[line]
    rest = source[column:]
    if rest[:1] in ("'", '"'):
        end = rest.index(rest[0], 1) + 1
    else:
        match = re.match(r"[^,\]}#\n]*", rest)
        end = len(match.group(0).rstrip()) if match else 0
    lines[line] = source[:column] + text + rest[end:]


def save_variant(scenario_path: str | Path, overrides: dict[str, Any], dest: Path) -> Path:
    """Write the variant (``overrides`` on the scenario file ``scenario_path``, as
    :func:`ccsim.whatif.form.variant` gives them) to ``dest``, atomically: the base file's
    text with the changed values, its comments kept. It loads with
    :func:`ccsim.model.load_scenario` to the scenario the overrides describe.

    A value the file writes is replaced where it stands, every other character of the file
    kept; only a value the file inherits makes the file be written out again by ruamel
    (which keeps comments, except those inside a bracketed list)."""
    source, dest = Path(scenario_path), Path(dest)
    resolved = load_scenario(source).model_dump()
    text = source.read_text(encoding="utf-8")
    document = _yaml().load(text)
    edits = dict(overrides)
    if source.parent.resolve() != dest.parent.resolve():
        edits |= _moved_paths(document, source, dest)
    placed = {path: _written_at(document, str(path)) for path in edits}
    lines = text.split("\n")
    # From the end of the file back, so that an edit does not move the next one.
    written = sorted(((at, path) for path, at in placed.items() if at is not None), reverse=True)
    for (line, column), path in written:
        _replace_scalar(lines, line, column, _scalar_text(edits[path]))
    body = "\n".join(lines)
    inherited = {path: value for path, value in edits.items() if placed[path] is None}
    # A section the file does not have at all is added at its end, as text: nothing else moves.
    absent = {p: v for p, v in inherited.items() if str(p).split(".")[0] not in document}
    inherited = {p: v for p, v in inherited.items() if p not in absent}
    if absent:
        body = body.rstrip("\n") + "\n" + _appended(absent, resolved)
    if inherited:
        yaml = _yaml()
        document = yaml.load(body)
        for path, value in inherited.items():
            _set(document, resolved, str(path), value)
        stream = io.StringIO()
        yaml.dump(document, stream)
        body = stream.getvalue()
    # An editor's schema line stays the first line, where editors look for it.
    first, _, rest = body.partition("\n")
    head = ""
    if first.startswith("# yaml-language-server:"):
        body, head = rest, first + "\n"
    return write_text(dest, head + _header(source, overrides) + body)
