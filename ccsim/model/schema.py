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


def _partial(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` as a file that extends another may give it: no property required in it or
    in the mappings below it (new ``Partial*`` entries of ``defs``); an array's items are
    left whole, since a list in such a file replaces the base's list."""
    if isinstance(node, list):
        return [_partial(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    partial: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("required", "if", "then", "else", "$defs", "$schema"):
            continue  # requirements, conditional ones included: none in a partial file
        if key == "$ref":
            name = value.rsplit("/", 1)[-1]
            if f"Partial{name}" not in defs:
                defs[f"Partial{name}"] = {}  # placeholder: a definition may refer to itself
                defs[f"Partial{name}"] = _partial(defs[name], defs)
            partial[key] = f"#/$defs/Partial{name}"
        elif key == "properties":
            partial[key] = {name: _partial(field, defs) for name, field in value.items()}
        elif key in ("items", "prefixItems", "default", "examples", "enum", "const"):
            partial[key] = value
        else:
            partial[key] = _partial(value, defs)
    return partial


def scenario_schema() -> dict[str, Any]:
    """The schema of a scenario file (``configs/*.yaml``)."""
    from ccsim.model.scenario import Scenario

    schema = json_schema(
        Scenario,
        "ccsim scenario",
        "A contact centre: channels, sites, routing (ccsim run, ccsim staff).",
    )
    # `extends: base.yaml` is read before validation (ccsim.model.loading), and a file that
    # extends another may leave out what the other gives.
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a scenario file this one starts from, relative to it",
    }
    # It is merged into its base mapping by mapping (a list replaces the base's whole), so
    # the top level is the partial form (no `required` along mappings, each list item still
    # whole: what editors complete from) and a file without `extends` is held to the whole.
    defs = schema.pop("$defs")
    head = {key: schema.pop(key) for key in ("$schema", "title", "description")}
    defs["Scenario"] = schema
    schema = {**head, **_partial(schema, defs), "$defs": defs}
    schema["if"] = {"required": ["extends"]}
    schema["else"] = {"$ref": "#/$defs/Scenario"}
    # An outbound channel's objective has a default (an agent within 2 s), filled in before
    # validation: every other kind must state its service level.
    channel = defs["Channel"]
    channel["required"] = [key for key in channel.get("required", []) if key != "service_level"]
    channel["if"] = {"properties": {"kind": {"const": "outbound"}}, "required": ["kind"]}
    channel["else"] = {"required": ["service_level"]}
    return schema
