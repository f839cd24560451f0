"""Decoding a tracking request's body: gzip, size limits and JSON, before any message is read.

Every failure raises :class:`~headwater.errors.BadRequest` naming the problem; nothing here
returns a partial result. Sizes are checked on the decompressed bytes, and decompression stops
one byte past the limit, so a gzip bomb costs at most the limit.

>>> body = b'{"batch": [{"type": "track"}]}'
>>> request = decode_body(body, gzip=False, batch=True, limits=Limits())
>>> [size for _, size in request.items]
[17]
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import msgspec

from headwater.errors import BadRequest

__all__ = ["DecodedRequest", "Limits", "Unreadable", "decode_body"]


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    max_event_bytes: int = 32 * 1024
    max_request_bytes: int = 500 * 1024
    max_batch_events: int = 10_000
    """Items of one batch that are read; those past it become one :class:`Unreadable`."""
    max_depth: int = 100
    """How deep objects and arrays may nest: deeper payloads break the JSON encoders that
    read them back (the management API's stops near 250 levels)."""


class Unreadable(msgspec.Struct, frozen=True):
    """Stands in for a batch item that could not be decoded (too large, not JSON)."""

    reason: str
    excerpt: str | None = None
    """The item's first bytes as text, kept with the rejection to tell which item it was."""
    count: int = 1
    """How many items it stands for: the items past the batch limit are one, with the first's
    excerpt, so that a body of tiny items costs one record, not one per item."""


class DecodedRequest(msgspec.Struct, kw_only=True):
    items: list[tuple[Any, int]]
    """Each decoded message (or :class:`Unreadable`) with its size in bytes."""
    has_nul: bool = False
    """The body escapes a NUL character, which PostgreSQL cannot store: strings need cleaning."""
    write_key: str | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    sent_at: str | None = None


class _Batch(msgspec.Struct):
    batch: list[msgspec.Raw]
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    sentAt: str | None = None
    writeKey: str | None = None


_batch_decoder = msgspec.json.Decoder(_Batch)
_any_decoder = msgspec.json.Decoder()
_EXCERPT_BYTES = 1024


def decode_body(body: bytes, *, gzip: bool, batch: bool, limits: Limits) -> DecodedRequest:
    """Decode a request body into messages; raise BadRequest when the request itself is bad."""
    if gzip:
        body = _gunzip(body, limits.max_request_bytes)
    if len(body) > limits.max_request_bytes:
        raise BadRequest(
            "request_too_large", f"request body exceeds {limits.max_request_bytes} bytes"
        )
    if not body.strip():
        raise BadRequest("empty_body", "request body is empty")
    decoded = _decode_batch(body, limits) if batch else _decode_single(body, limits)
    decoded.has_nul = b"\\u0000" in body
    return decoded


def _decode_single(body: bytes, limits: Limits) -> DecodedRequest:
    if len(body) > limits.max_event_bytes:
        raise BadRequest("event_too_large", f"event exceeds {limits.max_event_bytes} bytes")
    message = _decode(_any_decoder, body)
    _check_depth(message, body, limits.max_depth)
    if not isinstance(message, dict):
        raise BadRequest("invalid_body", "request body must be a JSON object")
    write_key = message.get("writeKey")
    return DecodedRequest(
        items=[(message, len(body))],
        write_key=write_key if isinstance(write_key, str) else None,
    )


def _decode_batch(body: bytes, limits: Limits) -> DecodedRequest:
    envelope = _decode(_batch_decoder, body)
    for part in (envelope.context, envelope.integrations):
        _check_depth(part, body, limits.max_depth - 1)
    items: list[tuple[Any, int]] = []
    write_key = envelope.writeKey
    for raw in envelope.batch[: limits.max_batch_events]:
        item = _decode_item(raw, limits)
        if write_key is None and isinstance(item[0], dict):
            key = item[0].get("writeKey")
            write_key = key if isinstance(key, str) else None
        items.append(item)
    past = envelope.batch[limits.max_batch_events :]
    if past:
        reason = (
            f"batch holds {len(envelope.batch)} events: the {len(past)} past the limit of "
            f"{limits.max_batch_events} were not stored"
        )
        items.append((Unreadable(reason, _excerpt(past[0]), len(past)), sum(map(len, past))))
    if items and not any(isinstance(message, dict | Unreadable) for message, _ in items):
        # Not one item could be a message (all arrays, strings, numbers): the body is not a
        # batch of messages, as RudderStack also answers. A mixed batch keeps its objects.
        raise BadRequest("invalid_body", "batch items must be JSON objects; none is")
    return DecodedRequest(
        items=items,
        write_key=write_key,
        context=envelope.context,
        integrations=envelope.integrations,
        sent_at=envelope.sentAt,
    )


def _decode_item(raw: msgspec.Raw, limits: Limits) -> tuple[Any, int]:
    """One batch item, or an :class:`Unreadable` saying why it cannot be read."""
    size = len(raw)
    if size > limits.max_event_bytes:
        return Unreadable(f"event exceeds {limits.max_event_bytes} bytes", _excerpt(raw)), size
    try:
        message = _decode(_any_decoder, raw)
        _check_depth(message, bytes(raw), limits.max_depth)
    except BadRequest as error:
        reason = error.message.replace("request body", "event")
        return Unreadable(reason, _excerpt(raw)), size
    return message, size


# A \u escape preceded by an even number of backslashes (so the escape is real): a high and low
# surrogate pair (kept), or a lone surrogate (replaced).
_SURROGATES = re.compile(
    rb"(?<!\\)((?:\\\\)*)(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
)


def _replace_lone_surrogate(match: re.Match[bytes]) -> bytes:
    escape = match.group(2)
    return match.group(1) + (escape if len(escape) == 12 else b"\\ufffd")


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes | msgspec.Raw) -> Any:
    """Decode JSON; a lone surrogate escape (JavaScript cutting a string in the middle of an
    emoji) becomes U+FFFD, as Segment's API does, instead of failing the whole request."""
    try:
        return _decode_strict(decoder, body)
    except BadRequest:
        data = bytes(body)
        if b"\\u" not in data:
            raise
        repaired = _SURROGATES.sub(_replace_lone_surrogate, data)
        if repaired == data:
            raise
        return _decode_strict(decoder, repaired)


def _decode_strict(decoder: msgspec.json.Decoder[Any], body: bytes | msgspec.Raw) -> Any:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        raise BadRequest("invalid_body", f"invalid request body: {error}") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        # Bad UTF-8 is named by our own check: msgspec's exception type and wording for it
        # changed between releases (UnicodeDecodeError before 0.23, DecodeError since).
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError as bad:
            raise BadRequest(
                "invalid_json", f"request body is not valid UTF-8 (byte {bad.start})"
            ) from None
        raise BadRequest("invalid_json", f"request body is not valid JSON: {error}") from None
    except RecursionError:
        raise BadRequest("invalid_json", "request body is nested too deeply") from None


def _check_depth(value: Any, data: bytes, limit: int) -> None:
    """Raise BadRequest when ``value`` nests objects and arrays deeper than ``limit`` levels.

    Counting brackets first spares the common case (fewer brackets than the limit) a walk.
    """
    if not isinstance(value, dict | list) or data.count(b"{") + data.count(b"[") <= limit:
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                if depth >= limit:
                    raise BadRequest(
                        "invalid_json", f"request body is nested deeper than {limit} levels"
                    )
                stack.append((child, depth + 1))


def _excerpt(raw: msgspec.Raw) -> str:
    """The first bytes of an item as text PostgreSQL can store (no NUL, no bad UTF-8)."""
    text = bytes(memoryview(raw)[:_EXCERPT_BYTES]).decode("utf-8", "replace")
    return text.replace("\x00", "\ufffd")


def _gunzip(body: bytes, limit: int) -> bytes:
    """Inflate every gzip member (RFC 1952 allows several, concatenated), up to ``limit``."""
    data = b""
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            data += inflater.decompress(body, limit + 1 - len(data))
        except zlib.error as error:
            raise BadRequest("invalid_gzip", f"request body is not valid gzip: {error}") from None
        if len(data) > limit:
            raise BadRequest(
                "request_too_large", f"request body exceeds {limit} bytes after decompression"
            )
        if not inflater.eof:
            raise BadRequest("invalid_gzip", "request body is truncated gzip")
        body = inflater.unused_data
        if not body:
            return data
