"""What changed between two plan versions (pure).

>>> old = parse_plan({"name": "Web", "events": [{"name": "A"}]})
>>> new = parse_plan({"name": "Web", "events": [{"name": "A", "schema": {
...     "properties": {"x": {"type": "string"}}, "required": ["x"]}}, {"name": "B"}]})
>>> diff_plans(old, new)["events"]["added"]
[{'type': 'track', 'name': 'B'}]

Each changed event (and the traits and common schemas) lists its property changes: ``added``,
``removed`` or ``changed`` with the fields before and after (types, required, enum, pattern,
format). A change is ``breaking`` when messages valid before may now fail: a new required
property, a property becoming required, a type, enum, pattern or format that changed, a
removed property under ``additionalProperties: false``. Changes no flattened property shows
(other keywords) appear as one ``schema`` change.
"""

from __future__ import annotations

from typing import Any

import msgspec

from headwater.protocols.plan import PlanDocument, PropertyRule, flatten

__all__ = ["diff_plans", "diff_schemas"]

_FIELDS = ("types", "required", "enum", "pattern", "format")


def _rule_dict(rule: PropertyRule) -> dict[str, Any]:
    out = msgspec.to_builtins(rule)
    return {k: out[k] for k in _FIELDS if out.get(k) is not None}


def diff_schemas(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Property changes from ``before`` to ``after``; empty when the schemas are equal."""
    if before == after:
        return []
    old = {rule.path: rule for rule in flatten(before)}
    new = {rule.path: rule for rule in flatten(after)}
    closed = bool(after) and (after or {}).get("additionalProperties") is False
    changes: list[dict[str, Any]] = []
    for path in sorted(old.keys() | new.keys()):
        was, now = old.get(path), new.get(path)
        if was is None and now is not None:
            changes.append(
                {
                    "change": "added",
                    "path": path,
                    "after": _rule_dict(now),
                    "breaking": now.required,
                }
            )
        elif now is None and was is not None:
            changes.append(
                {"change": "removed", "path": path, "before": _rule_dict(was), "breaking": closed}
            )
        elif was is not None and now is not None and _rule_dict(was) != _rule_dict(now):
            breaking = (now.required and not was.required) or any(
                getattr(was, f) != getattr(now, f) for f in ("types", "enum", "pattern", "format")
            )
            changes.append(
                {
                    "change": "changed",
                    "path": path,
                    "before": _rule_dict(was),
                    "after": _rule_dict(now),
                    "breaking": breaking,
                }
            )
    if not changes:
        changes.append({"change": "schema", "before": before, "after": after, "breaking": True})
    return changes


def diff_plans(before: PlanDocument, after: PlanDocument) -> dict[str, Any]:
    """Events added, removed and changed; traits, common schema and metadata changes."""
    old = {(e.type, e.name): e for e in before.events}
    new = {(e.type, e.name): e for e in after.events}
    changed = []
    for key in sorted(old.keys() & new.keys()):
        was, now = old[key], new[key]
        properties = diff_schemas(was.schema, now.schema)
        meta = {
            field: {"before": getattr(was, field), "after": getattr(now, field)}
            for field in ("description", "labels")
            if getattr(was, field) != getattr(now, field)
        }
        if properties or meta:
            changed.append(
                {"type": key[0], "name": key[1], "properties": properties, "metadata": meta}
            )
    result: dict[str, Any] = {
        "events": {
            "added": [{"type": t, "name": n} for t, n in sorted(new.keys() - old.keys())],
            "removed": [{"type": t, "name": n} for t, n in sorted(old.keys() - new.keys())],
            "changed": changed,
        },
        "identify_traits": diff_schemas(before.identify_traits, after.identify_traits),
        "group_traits": diff_schemas(before.group_traits, after.group_traits),
        "common": diff_schemas(before.common, after.common),
        "metadata": {
            field: {"before": getattr(before, field), "after": getattr(after, field)}
            for field in ("name", "description")
            if getattr(before, field) != getattr(after, field)
        },
    }
    result["breaking"] = bool(result["events"]["removed"]) or any(
        change["breaking"]
        for changes in (
            *(event["properties"] for event in changed),
            result["identify_traits"],
            result["group_traits"],
            result["common"],
        )
        for change in changes
    )
    return result
