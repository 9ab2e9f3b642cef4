"""JSON Schema of scenario files, for editors (experiment files: :mod:`ccsim.study.spec`).

Editors that read JSON Schema (VS Code's YAML extension, PyCharm) complete keys, show each
field's description and flag a misspelt key or a duration without its unit as it is typed.
The schema is generated from the same pydantic models that validate the files, so the two
cannot drift: durations and rates are strings with the patterns of :mod:`.units`
(``20s``, ``3/min``), and every mapping refuses keys it does not know.
"""

from __future__ import annotations

from typing import Any

__all__ = ["json_schema", "scenario_schema"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


#: Constraints pydantic writes from ``Field(gt=...)`` that are no JSON Schema keywords (a
#: rate's bound is checked on its value in seconds, not on the text an editor sees).
_NOT_KEYWORDS = ("gt", "lt")


def _tidy(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _tidy(v) for k, v in node.items() if k not in _NOT_KEYWORDS}
        if node.get("format") == "date-time":  # YAML's 2026-03-02 07:00 is no RFC 3339 time
            node.pop("format")
            node["pattern"] = r"^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$"
        return node
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    return node


def json_schema(model, title: str, description: str) -> dict[str, Any]:
    """The JSON Schema of a pydantic model of a file, as editors read it."""
    schema = _tidy(model.model_json_schema(mode="validation"))
    return {"$schema": _DRAFT, **schema, "title": title, "description": description}


def scenario_schema() -> dict[str, Any]:
    """The schema of a scenario file (``configs/*.yaml``)."""
    from ccsim.model.scenario import Scenario

    schema = json_schema(
        Scenario,
        "ccsim scenario",
        "A contact centre: channels, sites, routing (ccsim run, ccsim staff).",
    )
    # `extends: base.yaml` is read before validation (ccsim.model.loading), and a file that
    # extends another may leave out what the other gives: only the key is added here.
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a scenario file this one starts from, relative to it",
    }
    required = schema.pop("required", [])
    schema["if"] = {"required": ["extends"]}
    schema["else"] = {"required": required}
    # An outbound channel's objective has a default (an agent within 2 s), filled in before
    # validation: every other kind must state its service level.
    channel = schema["$defs"]["Channel"]
    channel["required"] = [key for key in channel.get("required", []) if key != "service_level"]
    channel["if"] = {"properties": {"kind": {"const": "outbound"}}, "required": ["kind"]}
    channel["else"] = {"required": ["service_level"]}
    return schema
