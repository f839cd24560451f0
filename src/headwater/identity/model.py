"""The vocabulary of identity resolution: identifiers, a workspace's rules, and identity events.

Everything here is pure and immutable. :class:`Rules` carries Segment Unify's defaults and
round-trips through a JSON-able dict, because each workspace stores its own::

    >>> rules = Rules.default()
    >>> rules.limit("user_id").max, rules.limit("phone").max
    (1, 5)
    >>> rules.is_blocked("NULL"), rules.is_blocked("u-42")
    (True, False)
    >>> Rules.from_dict(rules.to_dict()) == rules
    True
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple

import msgspec

__all__ = [
    "DEFAULT_BLOCKED",
    "STANDARD_TYPES",
    "EventKey",
    "Identifier",
    "IdentityEvent",
    "Limit",
    "Rules",
]

EventKey = tuple[datetime, str]
"""The canonical order of events: ``(timestamp, message_id)``."""

STANDARD_TYPES: Final = (
    "user_id",
    "email",
    "anonymous_id",
    "device_id",
    "ios.id",
    "android.id",
    "advertising_id",
    "ios.idfa",
    "android.idfa",
    "push_token",
    "ios.push_token",
    "android.push_token",
    "ga_client_id",
    "group_id",
)
"""The identifier types :func:`~headwater.identity.extract.extract` produces by itself."""

DEFAULT_BLOCKED: Final = ("^[0-]*$", "^-1$", "^null$", "^anonymous$")
"""Segment's suggested blocked values: zeroes and dashes (and so the empty string), ``-1``,
``null`` and ``anonymous``."""


class Identifier(NamedTuple):
    """One external id of a person, such as ``Identifier("email", "jane@example.com")``."""

    type: str
    value: str


class Limit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """At most ``max`` identifiers of one type on a profile, counting only those added within
    ``window`` before the event when a window is set (``Limit(5, timedelta(days=7))``: five a
    week, a sliding window)."""

    max: int
    window: timedelta | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max, bool) or not isinstance(self.max, int) or self.max < 1:
            raise ValueError(f"a limit's max must be an integer >= 1, not {self.max!r}")
        if self.window is not None and self.window <= timedelta(0):
            raise ValueError(
                f"a limit's window must be positive, not {self.window.total_seconds():g} s"
            )


def _default_limits() -> dict[str, Limit]:
    return {kind: Limit(1 if kind == "user_id" else 5) for kind in STANDARD_TYPES}


def _default_priorities() -> dict[str, int]:
    return {"user_id": 1, "email": 2}


class Rules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A workspace's identity resolution settings, Segment Unify's defaults unless changed.

    - ``blocked``: regular expressions; a value any of them matches, case-insensitively and on
      the whole value, is never an identifier. Blank values and values longer than
      ``max_length`` characters are never identifiers either.
    - ``limits``: per type; a type not listed gets ``default_limit``.
    - ``priorities``: smaller is stronger. Unlisted types come after every listed one; ties
      (and unlisted types) are ordered by type name, so the order is total.
    - ``max_merges``, ``max_identifiers``: caps per profile.
    - ``trait_identifiers`` / ``property_identifiers``: custom identifiers read from a trait
      (``traits``, ``context.traits``) or property key, mapped to their identifier type, such as
      ``{"phone": "phone"}``. A key matches in snake_case and camelCase alike.
    """

    blocked: tuple[str, ...] = DEFAULT_BLOCKED
    limits: dict[str, Limit] = msgspec.field(default_factory=_default_limits)
    default_limit: Limit = Limit(5)
    priorities: dict[str, int] = msgspec.field(default_factory=_default_priorities)
    max_merges: int = 100
    max_identifiers: int = 1000
    trait_identifiers: dict[str, str] = msgspec.field(default_factory=dict)
    property_identifiers: dict[str, str] = msgspec.field(default_factory=dict)
    max_length: int = 512
    """Longer values are not identifiers (they would not fit a database index either)."""

    def __post_init__(self) -> None:
        for pattern in self.blocked:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                raise ValueError(
                    f"blocked value {pattern!r} is not a valid regex: {error}"
                ) from None
        try:
            _compiled(self.blocked)
        except re.error as error:  # a flag group like (?i) that only works at the start
            raise ValueError(f"blocked values do not combine into one regex: {error}") from None
        _check_count("max_merges", self.max_merges, 0)
        _check_count("max_identifiers", self.max_identifiers, 1)
        _check_count("max_length", self.max_length, 1)
        for kind in (*self.limits, *self.priorities):
            _check_type(kind)
        for field in ("trait_identifiers", "property_identifiers"):
            for key, kind in getattr(self, field).items():
                if not key:
                    raise ValueError(f"{field} has an empty key")
                _check_type(kind)

    @classmethod
    def default(cls) -> Rules:
        """Segment's defaults: the blocked values above, user_id 1 and every other type 5,
        user_id then email first, 100 merges and 1,000 identifiers per profile."""
        return cls()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; windows are ISO 8601 durations (``"P7D"``)."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    @classmethod
    def from_dict(cls, data: Any) -> Rules:
        """Rules from :meth:`to_dict`'s form; missing fields take their defaults.

        A window may also be a number of seconds. Raises :class:`ValueError` with a readable
        message on anything else::

            >>> Rules.from_dict({"limits": {"email": {"max": 0}}})
            Traceback (most recent call last):
            ...
            ValueError: invalid identity rules: limits.email: a limit's max must be ...
        """
        if not isinstance(data, dict):
            raise ValueError(f"identity rules must be an object, not {type(data).__name__}")
        data = dict(data)
        try:
            limits = data.get("limits")
            if isinstance(limits, dict):
                data["limits"] = {
                    kind: _limit(f"limits.{kind}", value) for kind, value in limits.items()
                }
            if "default_limit" in data:
                data["default_limit"] = _limit("default_limit", data["default_limit"])
            return msgspec.convert(data, cls)
        except (ValueError, msgspec.ValidationError) as error:
            raise ValueError(f"invalid identity rules: {error}") from None

    def is_blocked(self, value: str) -> bool:
        """Whether ``value`` may not be an identifier: blank, too long, or blocked."""
        if not value or value.isspace() or len(value) > self.max_length:
            return True
        return _compiled(self.blocked).fullmatch(value) is not None

    def limit(self, kind: str) -> Limit:
        """The limit of one identifier type."""
        return self.limits.get(kind, self.default_limit)

    def rank(self, kind: str) -> tuple[int, int, str]:
        """A sort key of identifier types, strongest first: ``rank("user_id") < rank("email")``."""
        priority = self.priorities.get(kind)
        return (0, priority, kind) if priority is not None else (1, 0, kind)

    def order(self, identifiers: Iterable[Identifier]) -> tuple[Identifier, ...]:
        """Distinct identifiers by priority, then type, then value (the lowest priority last)."""
        unique = dict.fromkeys(identifiers)
        if len(unique) < 2:
            return tuple(unique)
        priorities = self.priorities

        def key(i: Identifier) -> tuple[int, int, str, str]:  # rank(), inlined: hot
            priority = priorities.get(i.type)
            return (0, priority, i.type, i.value) if priority is not None else (1, 0, *i)

        return tuple(sorted(unique, key=key))


class IdentityEvent(msgspec.Struct, frozen=True):
    """What identity resolution needs of one event.

    ``identifiers`` are already extracted, blocked values removed, without duplicates (see
    :func:`~headwater.identity.extract.identity_event`). ``alias_previous_id`` is an alias
    call's ``previousId``. ``timestamp`` must be timezone-aware.
    """

    message_id: str
    timestamp: datetime
    identifiers: tuple[Identifier, ...]
    alias_previous_id: str | None = None

    def __post_init__(self) -> None:
        if self.timestamp.utcoffset() is None:
            raise ValueError(f"event {self.message_id!r}: timestamp must be timezone-aware")

    @property
    def key(self) -> EventKey:
        """The canonical order: ``(timestamp, message_id)``."""
        return (self.timestamp, self.message_id)

    @property
    def mentions(self) -> tuple[Identifier, ...]:
        """Every identifier this event may touch: its own, and for an alias both readings of
        ``previousId`` (a user_id or an anonymous_id)."""
        if self.alias_previous_id is None:
            return self.identifiers
        previous = self.alias_previous_id
        return (
            *self.identifiers,
            Identifier("user_id", previous),
            Identifier("anonymous_id", previous),
        )


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that fully matches what any of ``patterns`` fully matches (one regex call
    per value instead of one per pattern)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns) or "(?!)", re.IGNORECASE)


def _check_type(kind: Any) -> None:
    if not isinstance(kind, str) or not kind or kind != kind.strip():
        raise ValueError(f"identifier type {kind!r} must be a non-empty string without spaces")


def _check_count(name: str, count: Any, least: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < least:
        raise ValueError(f"{name} must be an integer >= {least}, not {count!r}")


def _limit(where: str, value: Any) -> Limit:
    """One limit from its dict form; a window may be a number of seconds."""
    if isinstance(value, dict):
        window = value.get("window")
        if isinstance(window, int | float) and not isinstance(window, bool):
            try:
                value = {**value, "window": timedelta(seconds=window)}
            except (OverflowError, ValueError):
                raise ValueError(f"{where}: window {window!r} is out of range") from None
    try:
        return msgspec.convert(value, Limit)
    except msgspec.ValidationError as error:
        raise ValueError(f"{where}: {error}") from None
