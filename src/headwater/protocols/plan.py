"""Tracking plans and enforcement settings as typed values (pure, no I/O).

A plan document, as stored in each version and as imported or exported in JSON or YAML::

    name: Web
    description: What the web app sends
    common:            # JSON Schema (draft-07) of the whole message, applied to every call
      type: object
      required: [userId]
    identify_traits:   # JSON Schema of identify() traits
      properties: {email: {type: string, format: email}}
    group_traits:      # JSON Schema of group() traits
      properties: {plan: {enum: [free, pro]}}
    events:
      - name: Order Completed
        type: track    # or page, screen; track by default
        description: A checkout finished
        labels: {team: checkout}
        schema:        # JSON Schema of the event's properties
          type: object
          properties: {total: {type: number}, order_id: {type: string}}
          required: [order_id]

>>> plan = parse_plan({"name": "Web", "events": [{"name": "Signed Up"}]})
>>> plan.events[0].type
'track'

:func:`parse_plan` raises :class:`PlanError` with a readable reason for anything invalid: an
unknown field, a duplicate event, a schema that is not valid draft-07.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import fastjsonschema
import jsonschema
import msgspec

__all__ = [
    "EVENT_TYPES",
    "Enforcement",
    "EventSpec",
    "PlanDocument",
    "PlanError",
    "PropertyRule",
    "flatten",
    "parse_enforcement",
    "parse_plan",
    "plan_to_dict",
]

EVENT_TYPES = ("track", "page", "screen")
DRAFT_07 = "http://json-schema.org/draft-07/schema#"


class PlanError(ValueError):
    """The plan or the settings are invalid; the message says what to change."""


class EventSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One planned event: its name, call type and the JSON Schema of its properties."""

    name: str
    type: Literal["track", "page", "screen"] = "track"
    description: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    schema: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object"})


class PlanDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content of one plan version."""

    name: str
    description: str = ""
    common: dict[str, Any] | None = None
    identify_traits: dict[str, Any] | None = None
    group_traits: dict[str, Any] | None = None
    events: list[EventSpec] = msgspec.field(default_factory=list)

    def event(self, type_: str, name: str) -> EventSpec | None:
        for spec in self.events:
            if spec.type == type_ and spec.name == name:
                return spec
        return None


Action = Literal["allow", "flag", "omit", "block"]


class Enforcement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a source does with calls that do not match its plan (Segment's defaults: allow).

    - ``unplanned_events``: a track call whose name the plan lacks is let through or blocked;
    - ``unplanned_properties``: properties (and traits) the plan does not declare are kept or
      omitted before validation;
    - ``violations``: a call that fails its JSON Schema is let through (``allow``), let through
      with the violations under ``context.violations`` (``flag``), let through without the
      offending fields (``omit``), or quarantined (``block``).

    Violations are recorded whatever the action.
    """

    unplanned_events: Literal["allow", "block"] = "allow"
    unplanned_properties: Literal["allow", "omit"] = "allow"
    violations: Action = "allow"


class PropertyRule(msgspec.Struct, frozen=True, kw_only=True):
    """One property of a schema, flattened: what diffs, CSV rows and codegen talk about."""

    path: str
    types: tuple[str, ...]
    required: bool
    description: str = ""
    enum: tuple[Any, ...] | None = None
    pattern: str | None = None
    format: str | None = None


def _convert(raw: Any, kind: type[Any], what: str) -> Any:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as error:
        raise PlanError(f"invalid {what}: {error}") from None


NAME_LIMIT = 200
"""A plan's name, as long as other display names (workspaces, sources, destinations)."""
EVENT_NAME_LIMIT = 512
"""A planned event's name: no longer than the tracking API lets an event name be
(``HEADWATER_MAX_NAME_CHARS``' default)."""


def parse_plan(raw: Any) -> PlanDocument:
    """A validated plan from its dict form; raises :class:`PlanError`."""
    plan: PlanDocument = _convert(raw, PlanDocument, "tracking plan")
    if not plan.name.strip():
        raise PlanError("invalid tracking plan: name is empty")
    if len(plan.name) > NAME_LIMIT:
        raise PlanError(f"invalid tracking plan: name is longer than {NAME_LIMIT} characters")
    seen: set[tuple[str, str]] = set()
    for spec in plan.events:
        key = (spec.type, spec.name)
        if not spec.name:
            raise PlanError("invalid tracking plan: an event has an empty name")
        if len(spec.name) > EVENT_NAME_LIMIT:
            raise PlanError(
                f"invalid tracking plan: an event name is longer than {EVENT_NAME_LIMIT}"
                " characters, which the tracking API refuses"
            )
        if key in seen:
            raise PlanError(f"invalid tracking plan: {spec.type} {spec.name!r} is planned twice")
        seen.add(key)
        _check_schema(spec.schema, f"the schema of {spec.type} {spec.name!r}")
    for field in ("common", "identify_traits", "group_traits"):
        schema = getattr(plan, field)
        if schema is not None:
            _check_schema(schema, field)
    return plan


def _check_schema(schema: dict[str, Any], where: str) -> None:
    declared = schema.get("$schema")
    if declared is not None and declared.rstrip("#") != DRAFT_07.rstrip("#"):
        raise PlanError(f"{where}: only JSON Schema draft-07 is supported, not {declared!r}")
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        at = "/".join(str(p) for p in error.absolute_path)
        raise PlanError(f"{where} is not valid JSON Schema (at /{at}): {error.message}") from None
    try:
        fastjsonschema.compile(schema, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException as error:
        raise PlanError(f"{where} cannot be compiled: {error}") from None


def plan_to_dict(plan: PlanDocument) -> dict[str, Any]:
    """The plan's dict form, without empty optional fields (what export and versions hold)."""
    out: dict[str, Any] = {"name": plan.name}
    if plan.description:
        out["description"] = plan.description
    for field in ("common", "identify_traits", "group_traits"):
        if getattr(plan, field) is not None:
            out[field] = getattr(plan, field)
    events = []
    for spec in plan.events:
        event: dict[str, Any] = {"name": spec.name, "type": spec.type}
        if spec.description:
            event["description"] = spec.description
        if spec.labels:
            event["labels"] = dict(spec.labels)
        event["schema"] = spec.schema
        events.append(event)
    out["events"] = events
    return out


def parse_enforcement(raw: Any) -> Enforcement:
    """Validated settings (fields left out take their defaults); raises :class:`PlanError`."""
    if raw is None:
        return Enforcement()
    settings: Enforcement = _convert(raw, Enforcement, "enforcement settings")
    return settings


def _types(schema: dict[str, Any]) -> tuple[str, ...]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list):
        return tuple(str(t) for t in declared)
    if schema.get("enum"):
        return tuple(sorted({_json_type(v) for v in schema["enum"]}))
    return ()


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def flatten(schema: dict[str, Any] | None, prefix: str = "") -> Iterator[PropertyRule]:
    """Every declared property of an object schema, nested ones as ``a.b`` and array items of
    objects as ``a[].b``, parents before children.

    >>> [r.path for r in flatten({"properties": {"a": {"properties": {"b": {}}}}})]
    ['a', 'a.b']
    """
    if not schema:
        return
    required = set(schema.get("required") or ())
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        path = f"{prefix}{name}"
        enum = sub.get("enum")
        yield PropertyRule(
            path=path,
            types=_types(sub),
            required=name in required,
            description=str(sub.get("description", "")),
            enum=tuple(enum) if isinstance(enum, list) else None,
            pattern=sub.get("pattern") if isinstance(sub.get("pattern"), str) else None,
            format=sub.get("format") if isinstance(sub.get("format"), str) else None,
        )
        if "properties" in sub:
            yield from flatten(sub, f"{path}.")
        items = sub.get("items")
        if isinstance(items, dict) and "properties" in items:
            yield from flatten(items, f"{path}[].")
