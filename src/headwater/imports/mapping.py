"""From a file's row to a Segment message: the column mapping, its default, and typing.

>>> mapping = default_mapping("events", ["user_id", "event", "timestamp", "plan", "price"])
>>> to_message({"user_id": "u1", "event": "Bought", "timestamp": "2026-01-02T03:04:05Z",
...             "price": "9.5", "plan": "pro"}, kind="events", mapping=mapping, typed_cells=True)
{'type': 'track', 'userId': 'u1', 'event': 'Bought', 'timestamp': '2026-01-02T03:04:05Z',
 'properties': {'plan': 'pro', 'price': 9.5}}

A kind says what each row becomes: ``profiles`` an identify (fields become traits), ``events``
a track (fields become properties; an event column is required), ``accounts`` a group (fields
become the group's traits; a groupId column is required). Every row also needs a userId or an
anonymousId, as Segment's calls do.

A row that cannot become a message gives a :class:`RowError` naming the column at fault.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import msgspec

__all__ = [
    "KINDS",
    "ImportKind",
    "Mapping",
    "RowError",
    "default_mapping",
    "mapping_problems",
    "message_ids",
    "to_message",
    "typed",
]

ImportKind = Literal["profiles", "events", "accounts"]
KINDS: Final[dict[ImportKind, str]] = {
    "profiles": "identify",
    "events": "track",
    "accounts": "group",
}
_FIELDS_OF: Final[dict[ImportKind, str]] = {
    "profiles": "traits",
    "events": "properties",
    "accounts": "traits",
}


class Mapping(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Which column holds what; a column named nowhere is left out.

    ``key``: a column whose value names the row for good (an order id, a customer number).
    With it, a row's messageId comes from that value alone, so a corrected row imported again
    is a duplicate of the first; without it, from the whole message (any change is new).
    ``fields``: column → trait or property name.
    """

    user_id: str | None = None
    anonymous_id: str | None = None
    group_id: str | None = None
    event: str | None = None
    timestamp: str | None = None
    key: str | None = None
    fields: dict[str, str] = {}

    def columns(self) -> set[str]:
        """Every column the mapping reads."""
        named = (self.user_id, self.anonymous_id, self.group_id, self.event, self.timestamp)
        return {c for c in (*named, self.key) if c} | set(self.fields)


class RowError(msgspec.Struct, frozen=True):
    """What is wrong with one row: its number (from 1), the column at fault if one is, why."""

    row: int
    column: str | None
    message: str


_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "user_id": ("userid", "user", "customerid", "externalid", "memberid"),
    "anonymous_id": ("anonymousid", "anonid", "deviceid", "visitorid"),
    "group_id": ("groupid", "accountid", "companyid", "organizationid", "organisationid"),
    "event": ("event", "eventname", "name", "action"),
    "timestamp": ("timestamp", "time", "occurredat", "eventtime", "sentat", "datetime"),
}
_EMAIL: Final = ("email", "emailaddress", "mail")


def _squash(column: str) -> str:
    return re.sub(r"[\s_\-.]", "", column).lower()


def default_mapping(kind: ImportKind, columns: Sequence[str]) -> Mapping:
    """The mapping a file's columns suggest: ``userId``/``user_id``/``customer_id`` and the
    like name the identifiers, ``event``/``event_name`` the event, ``timestamp``/``time`` its
    time, every other column a trait or property under its own name. With no user id column,
    an ``email`` column is the userId too (and stays a trait)."""
    found: dict[str, str] = {}
    for role, names in _NAMES.items():
        if role == "event" and kind != "events":
            continue
        for column in columns:
            if _squash(column) in names and column not in found.values():
                found[role] = column
                break
    if "user_id" not in found:
        email = next((c for c in columns if _squash(c) in _EMAIL), None)
        if email is not None:
            found["user_id"] = email
    taken = set(found.values())
    fields = {c: c for c in columns if c not in taken or _squash(c) in _EMAIL}
    return Mapping(fields=fields, **found)


def mapping_problems(kind: ImportKind, mapping: Mapping, columns: Sequence[str]) -> list[str]:
    """What makes a mapping unusable for a file's columns (empty when it is fine)."""
    problems = [
        f"column {c!r} is not in the file" for c in sorted(mapping.columns() - set(columns))
    ]
    if mapping.user_id is None and mapping.anonymous_id is None:
        problems.append("map a column to userId or anonymousId: every row must name a person")
    if kind == "events" and mapping.event is None:
        problems.append("map a column to the event name: an events import needs one")
    if kind == "accounts" and mapping.group_id is None:
        problems.append("map a column to groupId: an accounts import needs one")
    return problems


_INT: Final = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT: Final = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_NUMBER_STARTS: Final = frozenset("-0123456789")
_BOOLEANS: Final = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}


def typed(cell: str) -> Any:
    """A CSV cell with its type back: ``true``/``false`` booleans, numbers (not those with a
    leading zero, such as postcodes or phone numbers, which stay text), else the text as is
    (timestamps stay ISO-8601 text, as JSON carries them)."""
    if cell in _BOOLEANS:
        return _BOOLEANS[cell]
    if cell[:1] not in _NUMBER_STARTS:  # most text: no regular expression run
        return cell
    if _INT.fullmatch(cell):
        return int(cell)
    if _FLOAT.fullmatch(cell) and ("." in cell or "e" in cell.lower()):
        value = float(cell)
        if value == value and abs(value) != float("inf"):
            return value
    return cell


def _identifier(row: dict[str, Any], column: str | None) -> str | RowError | None:
    """A row's identifier: text, numbers as text; absent when empty."""
    if column is None:
        return None
    value = row.get(column)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return RowError(0, column, f"must be text or a number, not {type(value).__name__}")


def to_message(
    row: dict[str, Any], *, kind: ImportKind, mapping: Mapping, typed_cells: bool, number: int = 0
) -> dict[str, Any] | RowError:
    """The Segment message of ``row`` (without a messageId), or what is wrong with it.

    ``typed_cells``: the row's values are CSV text, to be typed (:func:`typed`)."""
    message: dict[str, Any] = {"type": KINDS[kind]}
    for field, column in (
        ("userId", mapping.user_id),
        ("anonymousId", mapping.anonymous_id),
        ("groupId", mapping.group_id),
    ):
        value = _identifier(row, column)
        if isinstance(value, RowError):
            return RowError(number, value.column, value.message)
        if value is not None:
            message[field] = value
    if "userId" not in message and "anonymousId" not in message:
        column = mapping.user_id or mapping.anonymous_id
        return RowError(number, column, "is empty: every row needs a userId or an anonymousId")
    if kind == "accounts" and "groupId" not in message:
        return RowError(number, mapping.group_id, "is empty: every account needs a groupId")
    if kind == "events":
        event = row.get(mapping.event) if mapping.event else None
        if not isinstance(event, str) or not event.strip():
            return RowError(number, mapping.event, "is empty: every event needs a name")
        message["event"] = event
    if mapping.timestamp is not None:
        stamp = row.get(mapping.timestamp)
        if stamp is not None and stamp != "":
            if not isinstance(stamp, str):
                return RowError(number, mapping.timestamp, "is not a date and time")
            message["timestamp"] = stamp  # parsed by the normalisation (a rejection if bad)
    fields: dict[str, Any] = {}
    for column, name in mapping.fields.items():
        value = row.get(column)
        if value is None:
            continue
        fields[name] = typed(value) if typed_cells and isinstance(value, str) else value
    message[_FIELDS_OF[kind]] = fields
    return message


def message_ids(
    *, workspace_id: int, kind: ImportKind, mapping: Mapping
) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """The function giving a row's messageId from (message, row): the same whenever the same
    row is imported with the same mapping into the same workspace, a digest of those (of the
    ``key`` column's value alone when the mapping has one, else of the whole message), so the
    log's dedup drops a row imported again."""
    base = hashlib.blake2b(digest_size=20)
    base.update(b"%d\x00%s\x00" % (workspace_id, kind.encode()))
    encode = msgspec.json.Encoder(order="sorted").encode
    key = mapping.key
    if key is None:
        base.update(encode(mapping))

    def message_id(message: dict[str, Any], row: dict[str, Any]) -> str:
        digest = base.copy()
        digest.update(b"key\x00" + encode(row.get(key)) if key is not None else encode(message))
        return f"imp-{digest.hexdigest()}"

    return message_id
