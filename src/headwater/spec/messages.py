"""Segment messages as types: a tagged union on ``type``, decoded once when the log is read.

:data:`Message` is one of :class:`Identify`, :class:`Track`, :class:`Page`, :class:`Screen`,
:class:`Group` and :class:`Alias`, with Segment's camelCase wire names (``messageId``,
``userId``, ...) and snake_case attributes. Every reader past the event log reads these, never
the stored JSON::

    >>> message = decode_message(b'{"type": "track", "messageId": "m1", "userId": "u1",'
    ...                          b' "event": "Signed Up", "context": {"ip": "10.0.0.1"},'
    ...                          b' "rudderId": "r1"}')
    >>> (type(message).__name__, message.event, message.context.ip, message.extra)
    ('Track', 'Signed Up', '10.0.0.1', {'rudderId': 'r1'})
    >>> sorted(msgspec.json.decode(encode_message(message)))
    ['context', 'event', 'messageId', 'rudderId', 'type', 'userId']

What is kept as sent, so that :func:`encode_message` gives back the JSON as stored (the same
keys and values; the forwarding connectors send it on):

- a field the message type does not declare (RudderStack's ``rudderId``, a vendor's own) is
  kept in :attr:`extra`;
- a declared field stored with another type than documented (a numeric ``category``) is kept
  in :attr:`extra` too, and its attribute reads as absent;
- a field absent from the stored message is :data:`msgspec.UNSET` (falsy), so absent and
  ``null`` stay apart;
- ``context`` keeps its whole object (:class:`~headwater.spec.context.Context`), custom keys
  included; ``properties``, ``traits`` and ``integrations`` are plain objects.

Timestamps stay the text stored (UTC, milliseconds, ``Z``): parsed datetimes are on the log
entry (:class:`~headwater.log.LogEntry`), and a decoded-then-encoded datetime would not give
the same text back. Traits are ``dict[str, Any]`` (Segment's reserved traits are conventions,
not a schema; clients send any value): :func:`reserved_trait` reads one reserved trait typed.

One decode: :func:`decode_message` parses the text once, typed (msgspec, in C; ``context``
through :class:`Context`, which only keeps its object). The types refuse undeclared fields, so
that a message carrying one (or a field of another type than documented) is not silently
cut: it is parsed again into builtins and converted with those fields kept in ``extra``
(:func:`message_of`). Server libraries send no such field; ``channel`` and ``_metadata`` are
declared for the browser's. :func:`encode_message` is one pass over the struct too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from headwater.spec.context import Context

__all__ = [
    "Alias",
    "Group",
    "Identify",
    "InvalidMessage",
    "Message",
    "Page",
    "Screen",
    "Track",
    "decode_message",
    "encode_message",
    "encode_messages",
    "message_builtins",
    "message_of",
    "properties_of",
    "reserved_trait",
    "stored_field",
    "traits_of",
]

# The wire name of ``extra``: a stored key of that name is kept in ``extra`` like any other
# undeclared one (the typed pass would take it for the field: its result is set aside).
_EXTRA_WIRE: Final = "$headwater:extra"


def _wire(name: str) -> str:
    """Segment's camelCase name of an attribute (``message_id`` -> ``messageId``)."""
    if name == "extra":
        return _EXTRA_WIRE
    if name == "metadata":
        return "_metadata"
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


# The context of messages stored without one: omitted when encoding (it is the default).
_NO_CONTEXT: Final = Context.absent()


class InvalidMessage(ValueError):
    """A stored message that is not a Segment message (not an object, or an unknown type)."""


class _Message(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename=_wire,
    tag_field="type",
    omit_defaults=True,
    forbid_unknown_fields=True,
):
    """The fields every message type has."""

    message_id: str = ""
    """Set on every stored message (the normaliser assigns one); ``""`` is never stored."""
    user_id: str | UnsetType | None = UNSET
    anonymous_id: str | UnsetType | None = UNSET
    timestamp: str | UnsetType = UNSET
    original_timestamp: str | UnsetType | None = UNSET
    sent_at: str | UnsetType | None = UNSET
    received_at: str | UnsetType = UNSET
    integrations: dict[str, Any] | UnsetType = UNSET
    context: Context = _NO_CONTEXT
    channel: str | UnsetType = UNSET
    """``server``, ``browser``, ``mobile``: sent by some libraries."""
    metadata: dict[str, Any] | UnsetType = UNSET
    """``_metadata``, analytics.js's notes on bundled integrations."""
    extra: dict[str, Any] = {}
    """Stored fields this type does not declare (or stored with another type), as sent."""

    @property
    def type(self) -> str:
        """The message type (``track``, ``identify``, ...), as on the wire."""
        return _KINDS[self.__class__]


class Identify(_Message, tag="identify", frozen=True):
    traits: dict[str, Any] | UnsetType | None = UNSET


class Track(_Message, tag="track", frozen=True):
    event: str = ""
    """Set on every stored track (the normaliser refuses one without)."""
    properties: dict[str, Any] | UnsetType | None = UNSET


class Page(_Message, tag="page", frozen=True):
    name: str | UnsetType | None = UNSET
    category: str | UnsetType | None = UNSET
    properties: dict[str, Any] | UnsetType | None = UNSET


class Screen(_Message, tag="screen", frozen=True):
    name: str | UnsetType | None = UNSET
    category: str | UnsetType | None = UNSET
    properties: dict[str, Any] | UnsetType | None = UNSET


class Group(_Message, tag="group", frozen=True):
    group_id: str | UnsetType | None = UNSET
    traits: dict[str, Any] | UnsetType | None = UNSET


class Alias(_Message, tag="alias", frozen=True):
    previous_id: str | UnsetType | None = UNSET


Message = Identify | Track | Page | Screen | Group | Alias
"""A Segment message of any type."""

_TYPES: Final[dict[str, type[_Message]]] = {
    "identify": Identify,
    "track": Track,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
}
# The stored keys each type declares (``type`` included: it is the tag).
_DECLARED: Final = {
    kind: frozenset({"type", *cls.__struct_encode_fields__} - {_EXTRA_WIRE})
    for kind, cls in _TYPES.items()
}
_KINDS: Final[dict[type, str]] = {cls: kind for kind, cls in _TYPES.items()}
# Each type's attribute of each declared stored key (``extra`` left out: it is no stored key).
_ATTRIBUTES: Final = {
    cls: {
        wire: name
        for wire, name in zip(cls.__struct_encode_fields__, cls.__struct_fields__, strict=True)
        if name != "extra"
    }
    for cls in _TYPES.values()
}
# Fields that must have their documented type: the others are kept in ``extra`` if they do not.
# (``type`` only: it is the tag, checked before conversion.)
_REQUIRED: Final = frozenset({"type"})

_NO_FIELDS: Final[Mapping[str, Any]] = {}
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def _dec_hook(kind: type, value: Any) -> Any:
    # A ValueError becomes a ValidationError naming the field (then kept in ``extra``).
    if kind is Context and type(value) is dict:
        return Context(value)
    raise ValueError(f"expected an object, got {type(value).__name__}")


_typed_decoder = msgspec.json.Decoder(Message, dec_hook=_dec_hook)


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Context):
        return value.fields
    raise NotImplementedError


_struct_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_EXTRA_MEMBER: Final = b',"' + _EXTRA_WIRE.encode() + b'":'


def decode_message(data: bytes | str) -> Message:
    """The message stored as the JSON text ``data``; raises :class:`InvalidMessage`.

    One typed pass over the text (the types refuse undeclared fields); a message with one,
    or with a field of another type than documented, is parsed again to builtins and
    converted by :func:`message_of`, which keeps them in ``extra``.
    """
    try:
        message: Message = _typed_decoder.decode(data)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as error:
        raise InvalidMessage(f"a message must be JSON: {error}") from None
    else:
        if not message.extra:  # else the text has a key named like the field
            return message
    return message_of(_decoder.decode(data))


def message_of(value: Any) -> Message:
    """The message stored as the decoded JSON object ``value``; raises :class:`InvalidMessage`.

    ``value`` is not copied: the message's objects (``properties``, ``context``'s fields, ...)
    are ``value``'s own. Do not change it afterwards.
    """
    if not isinstance(value, dict):
        raise InvalidMessage(f"a message must be a JSON object, not {type(value).__name__}")
    kind = value.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        expected = ", ".join(sorted(_TYPES))
        raise InvalidMessage(f"unknown message type {kind!r}: expected one of {expected}")
    declared = _DECLARED[str(kind)]
    extra: dict[str, Any] = {}
    if not value.keys() <= declared:
        extra = {k: v for k, v in value.items() if k not in declared}
        value = {k: v for k, v in value.items() if k in declared}
    try:
        message: Message = msgspec.convert(value, cls, dec_hook=_dec_hook)  # type: ignore[assignment]
    except msgspec.ValidationError:
        value = _without_mistyped(value, cls, extra)
        try:
            message = msgspec.convert(value, cls, dec_hook=_dec_hook)  # type: ignore[assignment]
        except msgspec.ValidationError as error:  # fields that fit alone but not together
            raise InvalidMessage(f"not a {value['type']} message: {error}") from None
    if extra:
        msgspec.structs.force_setattr(message, "extra", extra)
    return message


def _without_mistyped(
    value: dict[str, Any], cls: type[_Message], extra: dict[str, Any]
) -> dict[str, Any]:
    """``value`` without the declared fields that do not have their documented type (each
    converted alone), moved to ``extra`` (kept as sent)."""
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if key in _REQUIRED or _fits(cls, {"type": value["type"], key: item}):
            kept[key] = item
        else:
            extra[key] = item
    return kept


def _fits(cls: type[_Message], fields: dict[str, Any]) -> bool:
    try:
        msgspec.convert(fields, cls, dec_hook=_dec_hook)
    except msgspec.ValidationError:
        return False
    return True


def message_builtins(message: Message) -> dict[str, Any]:
    """The message as the JSON object it was stored as (a new dict; nested objects shared)."""
    out: dict[str, Any] = msgspec.to_builtins(message, enc_hook=_enc_hook)
    if message.extra:
        del out[_EXTRA_WIRE]
        out.update(message.extra)
    return out


def encode_message(message: Message) -> bytes:
    """The message as UTF-8 JSON with the keys and values it was stored with.

    One pass over the struct; ``extra`` (its last field, omitted when empty) is spliced in
    as the object's last keys.
    """
    data = _struct_encoder.encode(message)
    if not message.extra:
        return data
    tail = _encoder.encode(message.extra)  # b'{"channel":"web"}'
    return data[: -(len(_EXTRA_MEMBER) + len(tail) + 1)] + b"," + tail[1:]


def stored_field(message: Message, key: str, default: Any = None) -> Any:
    """The value of the top-level ``key`` as stored (any type's field, declared or not), for
    the rules that read a message as a JSON document (filters by path, identifiers Segment
    reads from any call): ``default`` when the message was stored without it.

    >>> stored_field(message_of({"type": "track", "event": "E", "groupId": "g"}), "groupId")
    'g'
    """
    if key == "type":
        return message.type
    attribute = _ATTRIBUTES[message.__class__].get(key)
    if attribute is not None:
        value = getattr(message, attribute)
        if isinstance(value, Context):
            if value.present:
                return value.fields
        elif value is not UNSET:
            return value
    return message.extra.get(key, default)


def properties_of(message: Message) -> Mapping[str, Any]:
    """The message's ``properties`` object (any call that carries one), else an empty one."""
    value = stored_field(message, "properties")
    return value if isinstance(value, dict) else _NO_FIELDS


def encode_messages(messages: Sequence[Message]) -> bytes:
    """The messages as one JSON array, each as :func:`encode_message` gives it (in one pass
    when none has an undeclared field)."""
    if not any(message.extra for message in messages):
        return _struct_encoder.encode(messages)
    return b"[" + b",".join(encode_message(message) for message in messages) + b"]"


def traits_of(message: Message) -> Mapping[str, Any]:
    """An identify's or group's ``traits``, else the ``context.traits`` other calls carry."""
    own = getattr(message, "traits", None)
    return own if isinstance(own, dict) else message.context.traits


def reserved_trait(traits: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` (spellings of one reserved trait: ``firstName``,
    ``first_name``) holding a non-empty string or a number, as text; None otherwise.

    >>> reserved_trait({"first_name": "Ada", "phone": 33}, "firstName", "first_name")
    'Ada'
    """
    for name in names:
        value = traits.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str) and value:
            return value
    return None
