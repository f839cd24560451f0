"""A message's ``context``: the fields Headwater and the connectors read, typed; the rest kept.

:class:`Context` is built once from the decoded ``context`` object (see
:func:`~headwater.spec.messages.decode_message`) and keeps that object whole in
:attr:`Context.fields`, so that encoding a message gives back every key it was stored with,
custom ones included (the forwarding connectors send the message as sent). The typed
attributes are read from it at construction; a known field whose value has another type than
documented reads as absent (``None``), as Segment's own libraries treat it, and is still
forwarded unchanged::

    >>> context = Context.of({"ip": "10.0.0.1", "library": {"name": "analytics.js"}, "x": 1})
    >>> (context.ip, context.library.name if context.library else None, context.fields["x"])
    ('10.0.0.1', 'analytics.js', 1)

A context is immutable: to change one, build another from a changed copy of :attr:`fields`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final, TypeVar

import msgspec

__all__ = ["App", "Campaign", "Consent", "Context", "Device", "Library", "Os", "PageContext"]


class _Part(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A typed view of one nested context object (its other keys stay in the context's fields)."""


class Library(_Part, frozen=True):
    name: str | None = None
    version: str | None = None


class PageContext(_Part, frozen=True):
    """``context.page``, sent by browser libraries."""

    path: str | None = None
    referrer: str | None = None
    search: str | None = None
    title: str | None = None
    url: str | None = None


class App(_Part, frozen=True):
    name: str | None = None
    version: str | None = None
    build: str | None = None
    namespace: str | None = None


class Device(_Part, frozen=True):
    id: str | None = None
    advertising_id: str | None = None
    ad_tracking_enabled: bool | None = None
    manufacturer: str | None = None
    model: str | None = None
    name: str | None = None
    type: str | None = None
    token: str | None = None


class Os(_Part, frozen=True):
    name: str | None = None
    version: str | None = None


class Campaign(_Part, frozen=True):
    name: str | None = None
    source: str | None = None
    medium: str | None = None
    term: str | None = None
    content: str | None = None


class Consent(_Part, frozen=True):
    """``context.consent``: Segment's consent preferences, category name -> consented."""

    category_preferences: dict[str, Any] | None = None


_PartT = TypeVar("_PartT", bound=_Part)

_EMPTY: Final[dict[str, Any]] = {}


def _part(value: Any, kind: type[_PartT]) -> _PartT | None:
    """``value`` as ``kind`` when it is an object, else None; a field of another type than
    documented reads as absent (the others are kept)."""
    if not isinstance(value, dict):
        return None
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError:
        # Keep the fields that have their documented type, each converted alone.
        return msgspec.convert({k: v for k, v in value.items() if _fits({k: v}, kind)}, kind)


def _fits(fields: dict[str, Any], kind: type[_Part]) -> bool:
    try:
        msgspec.convert(fields, kind)
    except msgspec.ValidationError:
        return False
    return True


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Context:
    """The typed ``context`` of a message; :attr:`fields` is the object as stored.

    Built for every message read from the log, so construction only keeps the object: each
    typed field is read from it when asked (scalars), or converted on first use and kept
    (nested objects). Most readers look at one or two fields.
    """

    __slots__ = ("_parts", "fields")

    fields: Mapping[str, Any]
    present: ClassVar[bool] = True
    """False for a message stored without ``context`` (encoded back without one)."""
    _parts: dict[str, Any]

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields

    @property
    def ip(self) -> str | None:
        return _text(self.fields.get("ip"))

    @property
    def user_agent(self) -> str | None:
        return _text(self.fields.get("userAgent"))

    @property
    def locale(self) -> str | None:
        return _text(self.fields.get("locale"))

    @property
    def timezone(self) -> str | None:
        return _text(self.fields.get("timezone"))

    @property
    def group_id(self) -> str | None:
        return _text(self.fields.get("groupId"))

    @property
    def traits(self) -> Mapping[str, Any]:
        """``context.traits`` (empty when absent or not an object)."""
        traits = self.fields.get("traits")
        return traits if isinstance(traits, dict) else _EMPTY

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> Context:
        """The context of a stored ``context`` object."""
        return cls(fields)

    @classmethod
    def absent(cls) -> Context:
        """The context of a message stored without one: empty, and not encoded back."""
        return _Absent(_EMPTY)

    def _part(self, key: str, kind: type[_PartT]) -> _PartT | None:
        try:
            parts = self._parts
        except AttributeError:  # no nested object read yet
            parts = self._parts = {}
        if key not in parts:
            parts[key] = _part(self.fields.get(key), kind)
        found: _PartT | None = parts[key]
        return found

    @property
    def library(self) -> Library | None:
        return self._part("library", Library)

    @property
    def page(self) -> PageContext | None:
        return self._part("page", PageContext)

    @property
    def consent(self) -> Consent | None:
        return self._part("consent", Consent)

    @property
    def app(self) -> App | None:
        return self._part("app", App)

    @property
    def device(self) -> Device | None:
        return self._part("device", Device)

    @property
    def os(self) -> Os | None:
        return self._part("os", Os)

    @property
    def campaign(self) -> Campaign | None:
        return self._part("campaign", Campaign)

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value of ``key`` (custom keys included), as sent."""
        return self.fields.get(key, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Context):
            return NotImplemented
        return self.present == other.present and self.fields == other.fields

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Context({dict(self.fields)!r})"


class _Absent(Context):
    """The context of a message stored without one."""

    __slots__ = ()
    present: ClassVar[bool] = False
