"""Which keys a schema plans: the basis of unplanned-property detection (pure).

A property is *unplanned* when the plan does not declare it, whether or not the schema would
accept it. The top level of an event's properties (or of identify or group traits) is closed:
only declared keys (``properties``, or names matching ``patternProperties``) are planned. A
nested object without declared keys is free-form. A schema that says ``additionalProperties``
is ``true`` or a schema, or that combines others (``allOf``, ``anyOf``, ``oneOf``, ``$ref``,
``if``), plans everything at its level: which keys it means cannot be told without guessing.

>>> planned = planned_keys({"properties": {"a": {"properties": {"b": {}}}}})
>>> list(planned.unplanned({"a": {"b": 1, "c": 2}, "d": 3}))
[('a', 'c'), ('d',)]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Planned", "planned_keys"]

_COMBINATORS = ("allOf", "anyOf", "oneOf", "$ref", "if")
Below = tuple["Planned | None", "Planned | None"]
"""What is planned inside a key's value: as an object, and in each element as an array."""


class Planned:
    """The keys planned at one level, with what is planned below each of them."""

    __slots__ = ("keys", "open", "patterns")

    def __init__(
        self,
        *,
        keys: dict[str, Below],
        patterns: Sequence[str] = (),
        open: bool = False,
    ) -> None:
        self.keys = keys
        self.patterns = [re.compile(p) for p in patterns]
        self.open = open

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches one of the ``patternProperties``."""
        return any(p.search(name) for p in self.patterns)

    def unplanned(self, value: dict[str, Any]) -> Iterator[tuple[str | int, ...]]:
        """Paths (relative to ``value``) of every key the plan does not declare; a key inside
        an array of objects has the element's index in its path."""
        if self.open:
            return
        keys = self.keys
        for name, item in value.items():
            if name not in keys:
                if not self.patterns or not self.matches(name):
                    yield (name,)
                continue
            inside, elements = keys[name]
            if inside is not None and isinstance(item, dict):
                for path in inside.unplanned(item):
                    yield (name, *path)
            elif elements is not None and isinstance(item, list):
                for index, element in enumerate(item):
                    if isinstance(element, dict):
                        for path in elements.unplanned(element):
                            yield (name, index, *path)

    def merged(self, other: Planned) -> Planned:
        """Planned by either (the common schema adds keys to every event's)."""
        if self.open or other.open:
            return Planned(keys={}, open=True)
        keys = dict(self.keys)
        for name, below in other.keys.items():
            mine = keys.get(name)
            keys[name] = (
                below if mine is None else (_both(mine[0], below[0]), _both(mine[1], below[1]))
            )
        merged = Planned(keys=keys)
        merged.patterns = self.patterns + other.patterns
        return merged


def _both(first: Planned | None, second: Planned | None) -> Planned | None:
    """Free-form (None) when either is."""
    return None if first is None or second is None else first.merged(second)


def _declared(schema: Any) -> Planned | None:
    if not isinstance(schema, dict) or not (
        "properties" in schema or "patternProperties" in schema
    ):
        return None
    return _level(schema)


def _nested(schema: dict[str, Any]) -> Below:
    """What is planned inside a property's value when it is an object, and inside each element
    when it is an array; None where it is free-form."""
    return _declared(schema), _declared(schema.get("items"))


def _level(schema: dict[str, Any]) -> Planned:
    extra = schema.get("additionalProperties", False)
    if extra is True or isinstance(extra, dict) or any(k in schema for k in _COMBINATORS):
        return Planned(keys={}, open=True)
    declared = schema.get("properties") or {}
    keys = {
        str(name): _nested(sub) if isinstance(sub, dict) else (None, None)
        for name, sub in declared.items()
    }
    return Planned(keys=keys, patterns=list(schema.get("patternProperties") or ()))


def planned_keys(schema: dict[str, Any], path: Sequence[str] = ()) -> Planned | None:
    """What ``schema`` plans at its top level, or, with ``path`` (for example
    ``("properties", "traits")`` into a common schema), at the subschema found there; None when
    there is no subschema at ``path``."""
    target: Any = schema
    for step in path:
        if not isinstance(target, dict):
            return None
        target = target.get(step)
    if not isinstance(target, dict):
        return None
    return _level(target)
