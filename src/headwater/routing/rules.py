"""Routing: does an event go to a destination, and in what shape? (pure, no I/O)

Three checks, in this order; the first that says no names the reason:

1. **integrations** (``integrations``): an entry for the destination's name, else for its
   connector kind (both case-sensitive), decides; ``false`` or ``null`` turns it off, ``true``
   or an object (destination options) turns it on. Without an entry, ``All`` decides
   (default ``true``).
2. **consent** (``context.consent.categoryPreferences``): an event without preferences (no
   consent object, an empty one, or one without ``categoryPreferences``) goes everywhere;
   otherwise the user must have consented (``true``) to *every* category of the destination. A
   category missing from the preferences counts as refused, so an empty ``categoryPreferences``
   reaches no destination that has categories. A destination with no categories receives
   every event.
3. **filters**, in the order listed: ``sample``, ``drop`` (when a condition holds), ``only``
   (unless it holds), ``drop_properties`` and ``allow_properties`` (which reshape the event).

Conditions and the reshaping filters read the message as the JSON document it was stored as
(a field is a dotted path into it); a message without filters is not converted.

>>> from headwater.spec import message_of
>>> decide(message_of({"type": "track", "integrations": {"All": False, "Hook": True}}),
...        names=("Hook", "webhook"), categories=(), filters=[]).reason is None
True
"""

from __future__ import annotations

import copy
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from headwater.destinations.model import (
    AllOf,
    AllowProperties,
    AnyOf,
    Compare,
    Condition,
    DropProperties,
    DropWhen,
    Filter,
    NotOf,
    OnlyWhen,
    Sample,
)
from headwater.spec import Message, message_builtins, message_of, stored_field

__all__ = ["Decision", "Reason", "consented", "decide", "integration_enabled", "matches"]

Reason = Literal["integrations", "consent", "filters"]

_MISSING = object()


class Decision(msgspec.Struct, frozen=True):
    """The event to send (``reason`` None), or why it is skipped (``event`` None). An event
    that no filter reshaped is the message routed itself."""

    event: Message | None
    reason: Reason | None = None


def decide(
    event: Message,
    *,
    names: Sequence[str],
    categories: Sequence[str],
    filters: Sequence[Filter],
) -> Decision:
    """Route ``event`` to one destination known by ``names`` (its name, then its kind)."""
    if not integration_enabled(stored_field(event, "integrations"), names):
        return Decision(None, "integrations")
    if not consented(event, categories):
        return Decision(None, "consent")
    if not filters:
        return Decision(event)
    document = message_builtins(event)
    shaped = document
    for rule in filters:
        if isinstance(rule, Sample):
            if not _sampled(event.message_id, rule.percent):
                return Decision(None, "filters")
        elif isinstance(rule, DropWhen):
            if matches(rule.when, shaped):
                return Decision(None, "filters")
        elif isinstance(rule, OnlyWhen):
            if not matches(rule.when, shaped):
                return Decision(None, "filters")
        elif isinstance(rule, DropProperties):
            shaped = _drop(shaped, rule.paths)
        elif isinstance(rule, AllowProperties):
            shaped = _allow(shaped, rule.paths)
    if shaped is document:
        return Decision(event)
    shaped["type"] = event.type  # dropping it would leave no message to send
    return Decision(message_of(shaped))


def integration_enabled(integrations: Any, names: Sequence[str]) -> bool:
    """The ``integrations`` object's answer for a destination known by ``names``."""
    if not isinstance(integrations, Mapping):
        return True
    for name in names:
        if name in integrations:
            return _on(integrations[name])
    return _on(integrations.get("All", True))


def _on(value: Any) -> bool:
    return value is not None and value is not False


def consented(event: Message, categories: Sequence[str]) -> bool:
    """True when the destination has no categories, the event carries no preferences (no
    consent object, or one without ``categoryPreferences``), or it consents to every category.
    An empty ``categoryPreferences`` object consents to none (Segment's rule)."""
    consent = event.context.consent
    preferences = consent.category_preferences if consent is not None else None
    if preferences is None or not categories:
        return True
    return all(preferences.get(category) is True for category in categories)


def _sampled(message_id: str, percent: float) -> bool:
    return zlib.crc32(message_id.encode()) % 10_000 < percent * 100


def _get(event: Mapping[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def matches(condition: Condition, event: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for ``event``; comparisons of unlike types are false."""
    if isinstance(condition, AllOf):
        return all(matches(c, event) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(matches(c, event) for c in condition.any)
    if isinstance(condition, NotOf):
        return not matches(condition.not_, event)
    return _compare(condition, _get(event, condition.field))


def _compare(rule: Compare, found: Any) -> bool:
    op, value = rule.op, rule.value
    if op == "exists":
        return found is not _MISSING and found is not None
    if op == "missing":
        return found is _MISSING or found is None
    if found is _MISSING:
        return op in ("ne", "not_in")
    if op == "eq":
        return bool(found == value)
    if op == "ne":
        return bool(found != value)
    if op in ("in", "not_in"):
        inside = isinstance(value, list) and found in value
        return inside if op == "in" else not inside
    if op == "contains":
        if isinstance(found, str) and isinstance(value, str):
            return value in found
        return isinstance(found, list) and value in found
    if op in ("starts_with", "ends_with"):
        if not (isinstance(found, str) and isinstance(value, str)):
            return False
        return found.startswith(value) if op == "starts_with" else found.endswith(value)
    return _order(op, found, value)


def _order(op: str, found: Any, value: Any) -> bool:
    numbers = (int, float)
    comparable = (
        isinstance(found, numbers)
        and isinstance(value, numbers)
        and not isinstance(found, bool)
        and not isinstance(value, bool)
    ) or (isinstance(found, str) and isinstance(value, str))
    if not comparable:
        return False
    if op == "gt":
        return bool(found > value)
    if op == "gte":
        return bool(found >= value)
    if op == "lt":
        return bool(found < value)
    return bool(found <= value)


_SEGMENT = re.compile(r"[^.]+")


def _drop(event: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    result = copy.deepcopy(event)
    for path in paths:
        *parents, last = _SEGMENT.findall(path) or [""]
        node: Any = result
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return result


def _allow(event: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """Keep only the named keys inside each object the paths go through."""
    result = copy.deepcopy(event)
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        parts = _SEGMENT.findall(path)
        if len(parts) < 2:
            continue  # a top-level field alone names no object to narrow
        for part in parts:
            node = node.setdefault(part, {})
    for container, keep in tree.items():
        if isinstance(result.get(container), dict):
            result[container] = _narrow(result[container], keep)
    return result


def _narrow(value: dict[str, Any], keep: dict[str, Any]) -> dict[str, Any]:
    narrowed: dict[str, Any] = {}
    for key, below in keep.items():
        if key not in value:
            continue
        inner = value[key]
        narrowed[key] = _narrow(inner, below) if below and isinstance(inner, dict) else inner
    return narrowed
