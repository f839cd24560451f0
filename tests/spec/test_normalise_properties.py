"""Properties of normalisation over any JSON: it never raises, and what it accepts is sound."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from headwater.errors import BadRequest
from headwater.spec import (
    MESSAGE_TYPES,
    DecodedRequest,
    Envelope,
    Event,
    Limits,
    Rejection,
    decode_body,
    normalise,
    parse_timestamp,
)

_settings = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_text = st.text(max_size=12) | st.sampled_from(["", " ", "\x00", "a\x00b", "track", "x" * 101])
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
JSON = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=8,
)

_timestamps = st.sampled_from(
    [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.123456789+05:30",
        "20260101T000000Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999Z",
        "9999-12-31T23:59:59-23:59",
        "not a time",
        "",
    ]
)
_ids = st.none() | st.sampled_from(["", "u1", "x" * 100, "x" * 101]) | st.integers() | JSON
_library = st.fixed_dictionaries({"name": st.sampled_from(["analytics.js", "analytics-python"])})
_segment_fields: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(sorted(MESSAGE_TYPES)) | JSON,
    "userId": _ids,
    "anonymousId": _ids,
    "messageId": _ids,
    "groupId": _ids,
    "previousId": _ids,
    "event": st.sampled_from(["Signed Up", "", " "]) | JSON,
    "name": st.sampled_from(["Home"]) | JSON,
    "properties": JSON,
    "traits": JSON,
    "context": st.fixed_dictionaries(
        {}, optional={"ip": JSON, "library": _library | JSON, "traits": JSON}
    )
    | JSON,
    "integrations": JSON,
    "timestamp": _timestamps | JSON,
    "originalTimestamp": _timestamps | JSON,
    "sentAt": _timestamps | JSON,
    "writeKey": JSON,
}
# Messages shaped like Segment's (any subset of its fields, each any JSON), or any JSON at all.
MESSAGES = st.fixed_dictionaries({}, optional=_segment_fields) | JSON
ROUTE_TYPES = st.none() | st.sampled_from(sorted(MESSAGE_TYPES))
_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
ENVELOPES = st.builds(
    Envelope,
    received_at=_times,
    context=st.none() | st.dictionaries(_text, JSON, max_size=3),
    integrations=st.none() | st.dictionaries(_text, JSON, max_size=3),
    sent_at=st.none() | _times,
    ip=st.none() | st.just("203.0.113.7"),
    client_source=st.booleans(),
    anonymous_id_header=st.none() | _text,
)


def attempt(body: bytes, *, batch: bool) -> DecodedRequest | BadRequest:
    try:
        return decode_body(body, gzip=False, batch=batch, limits=Limits())
    except BadRequest as error:
        return error


def check(result: Event | Rejection, index: int, clean_nul: bool) -> None:
    assert isinstance(result, Event | Rejection)
    if isinstance(result, Rejection):
        assert isinstance(result.reason, str)
        assert result.reason
        assert result.index == index
        msgspec.json.encode(result.payload)
        return
    payload = result.payload
    assert payload["type"] == result.type
    assert result.type in MESSAGE_TYPES
    assert isinstance(payload["messageId"], str)
    assert 0 < len(payload["messageId"]) <= 100
    assert payload["messageId"] == result.message_id
    assert parse_timestamp(payload["receivedAt"]) == result.received_at.replace(
        microsecond=result.received_at.microsecond // 1000 * 1000
    )
    parse_timestamp(payload["timestamp"])
    assert "writeKey" not in payload
    assert isinstance(payload["context"], dict)
    assert isinstance(payload["integrations"], dict)
    assert result.user_id is None or isinstance(result.user_id, str)
    assert result.anonymous_id is None or isinstance(result.anonymous_id, str)
    assert result.user_id or result.anonymous_id or result.type == "alias"
    encoded = msgspec.json.encode(payload)
    if clean_nul:
        assert b"\\u0000" not in encoded


@_settings
@given(message=MESSAGES, route_type=ROUTE_TYPES, env=ENVELOPES, clean_nul=st.booleans())
def test_normalise_never_raises_for_any_json(
    message: Any, route_type: str | None, env: Envelope, clean_nul: bool
) -> None:
    result = normalise(message, index=5, route_type=route_type, envelope=env, clean_nul=clean_nul)
    check(result, 5, clean_nul)


@_settings
@example(
    items=[{"type": "track", "userId": "u", "event": "E"}],
    context={"nul\x00": "\x00"},
    integrations={"a\x00": True},
    sent_at=None,
    env=Envelope(received_at=datetime(2026, 1, 1, tzinfo=UTC), anonymous_id_header="\x00"),
)
@given(
    items=st.lists(MESSAGES, max_size=4),
    context=st.none() | st.dictionaries(_text, JSON, max_size=3) | JSON,
    integrations=JSON,
    sent_at=st.none() | _timestamps | JSON,
    env=ENVELOPES,
)
def test_any_batch_decodes_and_normalises_without_raising(
    items: list[Any], context: Any, integrations: Any, sent_at: Any, env: Envelope
) -> None:
    body = msgspec.json.encode(
        {"batch": items, "context": context, "integrations": integrations, "sentAt": sent_at}
    )
    decoded = attempt(body, batch=True)
    if isinstance(decoded, BadRequest):
        assert decoded.code in {"invalid_body", "invalid_json"}
        return
    assert len(decoded.items) == len(items)
    env = msgspec.structs.replace(env, context=decoded.context, integrations=decoded.integrations)
    for index, (message, size) in enumerate(decoded.items):
        assert size > 0
        result = normalise(
            message, index=index, route_type=None, envelope=env, clean_nul=decoded.has_nul
        )
        check(result, index, decoded.has_nul)


@_settings
@given(message=MESSAGES, route_type=st.sampled_from(sorted(MESSAGE_TYPES)), env=ENVELOPES)
def test_any_single_body_decodes_and_normalises_without_raising(
    message: Any, route_type: str, env: Envelope
) -> None:
    body = msgspec.json.encode(message)
    decoded = attempt(body, batch=False)
    if isinstance(decoded, BadRequest):
        assert decoded.code == "invalid_body"
        assert not isinstance(message, dict)
        return
    [(decoded_message, _)] = decoded.items
    result = normalise(
        decoded_message, index=0, route_type=route_type, envelope=env, clean_nul=decoded.has_nul
    )
    check(result, 0, decoded.has_nul)


@_settings
@given(message=st.fixed_dictionaries({}, optional=_segment_fields), env=ENVELOPES)
def test_a_message_id_never_repeats_when_generated(message: dict[str, Any], env: Envelope) -> None:
    message.pop("messageId", None)
    first = normalise(message, index=0, route_type="track", envelope=env)
    second = normalise(message, index=0, route_type="track", envelope=env)
    if isinstance(first, Event) and isinstance(second, Event):
        assert first.message_id != second.message_id
    else:
        assert type(first) is type(second)
