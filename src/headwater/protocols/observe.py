"""The observed schema: which events, property paths and JSON types a source sends (pure).

The protocols stage feeds every message of a batch to :class:`Observations`, which counts
``(event type, event name, path, JSON type)``; the store adds the counts up. Paths are dotted
from the message root, array elements are ``[]``::

    properties.total            number
    properties.items            array
    properties.items[]          object
    properties.items[].sku      string
    traits.email                string

The event itself is the path ``""`` with the type ``event``. Only ``properties`` (track, page,
screen) and ``traits`` (identify, group) are walked, at most 6 levels deep and 200 paths a
message, so that one odd message cannot flood the table.

:func:`infer_plan` drafts a plan from observed rows: one event per track name, identify and
group traits; JSON types become ``type``; a property seen in every occurrence of its parent
becomes required.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import msgspec

from headwater.pii.detectors import detect
from headwater.pii.inbox import key_of
from headwater.spec import Group, Identify, Message, Page, Screen, Track

__all__ = ["Observations", "ObservedRow", "infer_plan", "json_type", "observe"]

MAX_DEPTH = 6
MAX_PATHS = 200
VALUES_CHECKED: Final = 3
"""Values of one path that a batch runs the PII detectors on (until one finds it personal)."""
_CHECKED_TYPES: Final = frozenset({"string", "number"})


def json_type(value: Any) -> str:
    """The JSON Schema type of a decoded JSON value (``1.0`` is a ``number``, ``1`` an
    ``integer``)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def escape(key: str) -> str:
    """A key as one path segment: ``~``, ``.`` and ``[`` escaped as ``~0``, ``~1``, ``~2``."""
    return key.replace("~", "~0").replace(".", "~1").replace("[", "~2")


def _walk(value: Any, path: str, depth: int, out: list[tuple[str, str, Any]]) -> None:
    if len(out) >= MAX_PATHS:
        return
    kind = json_type(value)
    out.append((path, kind, value))
    if depth >= MAX_DEPTH:
        return
    if kind == "object":
        for key, item in value.items():
            _walk(item, f"{path}.{escape(key)}", depth + 1, out)
    elif kind == "array":
        for item in value[:20]:
            _walk(item, f"{path}[]", depth + 1, out)


def event_key(message: Message) -> tuple[str, str]:
    """``(type, name)`` of a message: the track event, the page or screen name, else ``""``."""
    if isinstance(message, Track):
        return "track", message.event
    if isinstance(message, (Page, Screen)):
        return message.type, message.name or ""
    return message.type, ""


def observe(message: Message) -> list[tuple[str, str]]:
    """``(path, type)`` of every property or trait of one message, ``("", "event")`` first;
    a path inside an array is listed once per element (so that a key is required only when
    every element has it)."""
    return [("", "event"), *((path, kind) for path, kind, _ in _fields(message))]


def _fields(message: Message) -> list[tuple[str, str, Any]]:
    """``(path, type, value)`` of every property or trait of one message (see :func:`observe`)."""
    key = "traits" if isinstance(message, (Identify, Group)) else "properties"
    found: list[tuple[str, str, Any]] = []
    container = getattr(message, key, None)
    if isinstance(container, dict):
        for name, item in container.items():
            _walk(item, f"{key}.{escape(name)}", 1, found)
    return found


class ObservedRow(msgspec.Struct, frozen=True, kw_only=True):
    """One counted ``(source, event, path, type)`` of a batch."""

    source_id: int
    workspace_id: int
    event_type: str
    event_name: str
    path: str
    json_type: str
    partition: int
    count: int
    first_seen: datetime
    last_seen: datetime
    detected: str | None = None


class Observations:
    """Counts of one batch, ready to be added to the store, with the built-in PII detector
    (:func:`headwater.pii.detectors.detect`) that found a personal value at each path: the
    first :data:`VALUES_CHECKED` texts and numbers of a path in a batch are checked, until
    one is found, so that the cost per batch stays bounded whatever its size."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, str, str, str, str, int], list[Any]] = {}

    def add(
        self,
        *,
        source_id: int,
        workspace_id: int,
        partition: int,
        message: Message,
        seen_at: datetime,
    ) -> None:
        kind, name = event_key(message)
        rows = self._rows
        for path, type_, value in [("", "event", None), *_fields(message)]:
            key = (source_id, kind, name, path, type_, partition)
            row = rows.get(key)
            if row is None:
                # workspace, count, first and last seen, detector found, values checked
                row = rows[key] = [workspace_id, 1, seen_at, seen_at, None, 0]
            else:
                row[1] += 1
                row[2] = min(row[2], seen_at)
                row[3] = max(row[3], seen_at)
            if row[4] is None and row[5] < VALUES_CHECKED and type_ in _CHECKED_TYPES:
                row[5] += 1
                found = detect(key_of(path), value)
                row[4] = found[0] if found else None

    def rows(self) -> list[ObservedRow]:
        """The counted rows in key order (concurrent writers then lock rows in one order)."""
        return [
            ObservedRow(
                source_id=key[0],
                event_type=key[1],
                event_name=key[2],
                path=key[3],
                json_type=key[4],
                partition=key[5],
                workspace_id=row[0],
                count=row[1],
                first_seen=row[2],
                last_seen=row[3],
                detected=row[4],
            )
            for key, row in sorted(self._rows.items(), key=lambda item: item[0])
        ]


class _Node:
    """One path of the observed tree: the types seen there and what lies below."""

    def __init__(self) -> None:
        self.types: dict[str, int] = {}
        self.children: dict[str, _Node] = {}
        self.items: _Node | None = None

    def add(self, segments: list[str], type_: str, count: int) -> None:
        if not segments:
            self.types[type_] = self.types.get(type_, 0) + count
            return
        head, rest = segments[0], segments[1:]
        if head == "[]":
            self.items = self.items or _Node()
            self.items.add(rest, type_, count)
        else:
            self.children.setdefault(head, _Node()).add(rest, type_, count)

    def schema(self) -> dict[str, Any]:
        names = set(self.types)
        if {"integer", "number"} <= names:
            names.discard("integer")
        ordered = sorted(names)
        schema: dict[str, Any] = {"type": ordered[0] if len(ordered) == 1 else ordered}
        if "object" in names and self.children:
            shape = self.object(self.types["object"])
            schema |= {k: v for k, v in shape.items() if k != "type"}
        if "array" in names and self.items is not None:
            schema["items"] = self.items.schema()
        return schema

    def object(self, occurrences: int) -> dict[str, Any]:
        """The object schema of the children; a child present in every occurrence of this
        object is required."""
        properties = {key: child.schema() for key, child in sorted(self.children.items())}
        required = [
            key
            for key, child in sorted(self.children.items())
            if sum(child.types.values()) >= occurrences
        ]
        out: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            out["required"] = required
        return out


def _segments(path: str) -> list[str]:
    """``properties.a~1b.c[]`` -> ``["properties", "a.b", "c", "[]"]``."""
    out: list[str] = []
    for part in path.split("."):
        markers = 0
        while part.endswith("[]"):
            part, markers = part[:-2], markers + 1
        out.append(part.replace("~2", "[").replace("~1", ".").replace("~0", "~"))
        out.extend(["[]"] * markers)
    return out


def infer_plan(name: str, rows: Iterable[tuple[str, str, str, str, int]]) -> dict[str, Any]:
    """A draft plan document from observed ``(event_type, event_name, path, json_type,
    count)`` rows (counts added over partitions)."""
    events: dict[tuple[str, str], tuple[_Node, list[int]]] = {}
    for event_type, event_name, path, type_, count in rows:
        if event_type not in ("track", "identify", "group") or not (
            event_name or event_type != "track"
        ):
            continue
        root, total = events.setdefault((event_type, event_name), (_Node(), [0]))
        if path == "":
            total[0] += count
        else:
            root.add(_segments(path), type_, count)
    plan: dict[str, Any] = {"name": name, "description": "Drafted from observed traffic"}
    planned = []
    for (event_type, event_name), (root, total) in sorted(events.items()):
        key = "traits" if event_type in ("identify", "group") else "properties"
        container = root.children.get(key, _Node())
        schema = container.object(total[0])
        if event_type == "track":
            planned.append({"name": event_name, "type": "track", "schema": schema})
        else:
            schema.pop("required", None)  # traits are sent when they change: keep them optional
            plan[f"{event_type}_traits"] = schema
    plan["events"] = planned
    return plan
