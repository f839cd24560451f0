"""Reverse ETL's pure rules: what a sync is (target, message type, mode, mapping), which of
its combinations make sense, and the Segment message each changed row becomes.

>>> mapping = Mapping(user_id="id", fields={"plan": "plan_name"})
>>> check_sync(target="profiles", message_type="identify", mode="upsert", mapping=mapping,
...            has_cursor=False)
>>> message(Plan(sync_id=3, message_type="identify", mapping=mapping),
...         key="7", row={"id": 7, "plan_name": "pro"}, digest=b"\\x01" * 16)["traits"]
{'plan': 'pro'}

A removal (mirror mode) is the same message type with every mapped field set to null: traits
cleared on the profile (identify), on the account (group), or in a destination. Events
(track) cannot be taken back, so mirror mode is refused for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal, get_args

import msgspec

from headwater.errors import BadRequest

__all__ = [
    "MESSAGE_TYPES",
    "MODES",
    "TARGETS",
    "Mapping",
    "MessageType",
    "Mode",
    "Plan",
    "Target",
    "check_columns",
    "check_sync",
    "message",
    "message_id",
    "removal",
    "sends",
]

Target = Literal["profiles", "events", "destination"]
MessageType = Literal["identify", "group", "track"]
Mode = Literal["insert", "update", "upsert", "mirror"]
Change = Literal["added", "changed", "removed"]

TARGETS: tuple[str, ...] = get_args(Target)
MESSAGE_TYPES: tuple[str, ...] = get_args(MessageType)
MODES: tuple[str, ...] = get_args(Mode)

_TYPES_OF_TARGET: dict[str, tuple[str, ...]] = {
    "profiles": ("identify", "group"),
    "events": ("track",),
    "destination": MESSAGE_TYPES,
}

_SENT: dict[str, frozenset[str]] = {
    "insert": frozenset({"added"}),
    "update": frozenset({"changed"}),
    "upsert": frozenset({"added", "changed"}),
    "mirror": frozenset({"added", "changed", "removed"}),
}


class Mapping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which model columns become which message fields. Each value names a column."""

    user_id: str | None = None
    anonymous_id: str | None = None
    group_id: str | None = None
    event: str | None = None
    """A fixed track event name (or ``event_column``)."""
    event_column: str | None = None
    timestamp_column: str | None = None
    fields: dict[str, str] = {}
    """Trait (identify, group) or property (track) name -> column. Empty: every column not
    used above, under its own name."""

    def identifier_columns(self) -> list[str]:
        named = (
            self.user_id,
            self.anonymous_id,
            self.group_id,
            self.event_column,
            self.timestamp_column,
        )
        return [c for c in named if c is not None]

    def columns(self) -> list[str]:
        """Every column the mapping names."""
        return [*self.identifier_columns(), *self.fields.values()]


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """What building a sync's messages needs."""

    sync_id: int
    message_type: str
    mapping: Mapping


def check_sync(
    *, target: str, message_type: str, mode: str, mapping: Mapping, has_cursor: bool
) -> None:
    """Raise :class:`BadRequest` (``invalid_sync``, every problem listed) unless the sync can
    work."""
    problems: list[str] = []
    if target not in TARGETS:
        problems.append(f"target must be one of {', '.join(TARGETS)}")
    elif message_type not in _TYPES_OF_TARGET[target]:
        allowed = " or ".join(_TYPES_OF_TARGET[target])
        problems.append(f"a sync to {target} sends {allowed}, not {message_type!r}")
    if mode not in MODES:
        problems.append(f"mode must be one of {', '.join(MODES)}")
    if mode == "mirror" and message_type == "track":
        problems.append("mirror mode cannot take back events: use insert, update or upsert")
    if mode == "mirror" and has_cursor:
        problems.append(
            "mirror mode needs every row on each run; the model's cursor column reads only"
            " new rows: remove the cursor or use another mode"
        )
    if mapping.user_id is None and mapping.anonymous_id is None:
        problems.append("map a column to userId or anonymousId: each message needs one")
    if message_type == "group" and mapping.group_id is None:
        problems.append("a group sync needs a column mapped to groupId")
    if message_type == "track" and (mapping.event is None) == (mapping.event_column is None):
        problems.append("a track sync needs either a fixed event name or an event column")
    if problems:
        raise BadRequest("invalid_sync", "; ".join(problems), problems=problems)


def check_columns(mapping: Mapping, columns: Sequence[str]) -> str | None:
    """Why the mapping does not fit a model with ``columns``, or None when it does."""
    missing = sorted(set(mapping.columns()) - set(columns))
    if missing:
        return f"the mapping names columns the model does not have: {', '.join(missing)}"
    return None


def sends(mode: str, change: Change) -> bool:
    """Whether a sync in ``mode`` sends a row that was ``change``; rows a mode does not send
    are recorded as seen (``update`` mode's first sight of a key) or left for later."""
    return change in _SENT[mode]


def message_id(sync_id: int, key: str, digest: bytes, change: str = "") -> str:
    """The same for the same sync, key, row and change: a retried run's messages are
    duplicates, which collection and the delivery queue drop."""
    seed = b"%d\x00%s\x00%s\x00%s" % (sync_id, key.encode(), digest, change.encode())
    return "retl-" + hashlib.sha256(seed).hexdigest()[:40]


def message(plan: Plan, *, key: str, row: dict[str, Any], digest: bytes) -> dict[str, Any]:
    """The Segment message of one added or changed row (values already JSON-ready)."""
    mapping = plan.mapping
    fields = _fields(mapping, list(row))
    values = {name: row.get(column) for name, column in fields.items()}
    result = _identity(plan, key, row, message_id(plan.sync_id, key, digest))
    if plan.message_type == "track":
        result["event"] = row.get(mapping.event_column) if mapping.event_column else mapping.event
        result["properties"] = values
        if mapping.timestamp_column is not None:
            result["timestamp"] = row.get(mapping.timestamp_column)
    else:
        result["traits"] = values
    return result


def removal(
    plan: Plan, *, key: str, identity: dict[str, Any], columns: Sequence[str], digest: bytes
) -> dict[str, Any]:
    """The message that undoes a removed key's row (mirror mode): its mapped traits set to
    null. ``identity`` holds the identifier columns' values as last sent."""
    fields = _fields(plan.mapping, list(columns))
    result = _identity(plan, key, identity, message_id(plan.sync_id, key, digest, "removed"))
    result["traits"] = dict.fromkeys(fields)
    return result


def _identity(plan: Plan, key: str, row: dict[str, Any], mid: str) -> dict[str, Any]:
    mapping = plan.mapping
    result: dict[str, Any] = {"type": plan.message_type, "messageId": mid}
    for name, column in (("userId", mapping.user_id), ("anonymousId", mapping.anonymous_id)):
        if column is not None and row.get(column) is not None:
            result[name] = _text(row[column])
    if mapping.group_id is not None and row.get(mapping.group_id) is not None:
        result["groupId"] = _text(row[mapping.group_id])
    result["context"] = {"headwater": {"sync": plan.sync_id, "key": key}}
    return result


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _fields(mapping: Mapping, columns: list[str]) -> dict[str, str]:
    if mapping.fields:
        return dict(mapping.fields)
    skipped = set(mapping.identifier_columns())
    return {column: column for column in columns if column not in skipped}
