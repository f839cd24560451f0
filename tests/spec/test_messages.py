"""The typed Segment messages: every type round trips, nothing sent is lost, bad types refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given

from headwater.spec import (
    Alias,
    Envelope,
    Event,
    Group,
    Identify,
    InvalidMessage,
    Page,
    Screen,
    Track,
    decode_message,
    encode_message,
    message_builtins,
    message_of,
    normalise,
    properties_of,
    reserved_trait,
    stored_field,
    traits_of,
)
from tests.spec.test_normalise_properties import ENVELOPES, MESSAGES, ROUTE_TYPES, _settings

RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CONTEXT = {
    "ip": "203.0.113.7",
    "userAgent": "Mozilla/5.0",
    "locale": "en-GB",
    "timezone": "Europe/London",
    "library": {"name": "analytics.js", "version": "2.1.0", "x-build": 7},
    "page": {"path": "/", "url": "https://example.com/", "title": "Home", "referrer": ""},
    "traits": {"email": "ada@example.com"},
    "consent": {"categoryPreferences": {"Analytics": True, "Advertising": False}},
    "campaign": {"source": "news", "medium": "email"},
    "device": {"id": "d-1", "type": "ios", "adTrackingEnabled": True, "advertisingId": "ad"},
    "app": {"name": "Shop", "version": "3.2"},
    "os": {"name": "iOS", "version": "18"},
    "groupId": "g-9",
    "shopId": "custom: kept as sent",
    "headwater": {"replay": {"id": 1}},
}
SENT = {
    "identify": {"userId": "u1", "traits": {"email": "ada@example.com", "plan": "pro"}},
    "track": {"userId": "u1", "event": "Order Completed", "properties": {"total": 9.5}},
    "page": {"anonymousId": "a1", "name": "Home", "category": "Docs", "properties": {"a": 1}},
    "screen": {"userId": "u1", "name": "Cart", "properties": {}},
    "group": {"userId": "u1", "groupId": "g1", "traits": {"name": "Acme"}},
    "alias": {"userId": "u1", "previousId": "a1"},
}
CLASSES = {
    "identify": Identify,
    "track": Track,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
}


def stored(kind: str, **extra: Any) -> dict[str, Any]:
    """A message of ``kind`` as the tracking API stores it (normalised)."""
    sent = {"type": kind, **SENT[kind], "context": CONTEXT, "channel": "web", **extra}
    event = normalise(sent, index=0, route_type=None, envelope=Envelope(received_at=RECEIVED))
    assert isinstance(event, Event), event
    document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(event.payload))
    return document


@pytest.mark.parametrize("kind", sorted(SENT))
def test_every_type_round_trips_to_the_json_stored(kind: str) -> None:
    document = stored(kind, _metadata={"bundled": ["Segment.io"]}, rudderId="r-1")
    message = decode_message(msgspec.json.encode(document))
    assert type(message) is CLASSES[kind]
    assert message.type == kind
    assert msgspec.json.decode(encode_message(message)) == document
    assert message_builtins(message) == document
    assert message.message_id == document["messageId"]
    assert message.received_at == document["receivedAt"]
    assert (message.channel, message.metadata) == ("web", {"bundled": ["Segment.io"]})
    assert message.extra == {"rudderId": "r-1"}


def test_per_type_fields_are_typed() -> None:
    track = decode_message(msgspec.json.encode(stored("track")))
    assert isinstance(track, Track)
    assert (track.event, track.properties) == ("Order Completed", {"total": 9.5})
    page = message_of(stored("page"))
    assert isinstance(page, Page)
    assert (page.name, page.category) == ("Home", "Docs")
    group = message_of(stored("group"))
    assert isinstance(group, Group)
    assert (group.group_id, traits_of(group)) == ("g1", {"name": "Acme"})
    alias = message_of(stored("alias"))
    assert isinstance(alias, Alias)
    assert alias.previous_id == "a1"
    assert traits_of(alias) == {"email": "ada@example.com"}, "context.traits of other calls"


def test_context_is_typed_and_keeps_custom_keys() -> None:
    message = message_of(stored("track"))
    context = message.context
    assert (context.ip, context.user_agent, context.locale) == (
        "203.0.113.7",
        "Mozilla/5.0",
        "en-GB",
    )
    assert (context.timezone, context.group_id) == ("Europe/London", "g-9")
    assert context.library is not None
    assert (context.library.name, context.library.version) == ("analytics.js", "2.1.0")
    assert context.page is not None
    assert context.page.url == "https://example.com/"
    assert context.consent is not None
    assert context.consent.category_preferences == {"Analytics": True, "Advertising": False}
    assert context.campaign is not None
    assert context.campaign.medium == "email"
    assert context.device is not None
    assert context.device.advertising_id == "ad"
    assert context.app is not None
    assert context.app.version == "3.2"
    assert context.os is not None
    assert context.os.name == "iOS"
    assert context.traits == {"email": "ada@example.com"}
    assert context.get("shopId") == "custom: kept as sent"
    sent = msgspec.json.decode(encode_message(message))["context"]
    assert sent["shopId"] == "custom: kept as sent"
    assert sent["library"]["x-build"] == 7
    assert sent == CONTEXT


def test_a_field_of_another_type_than_documented_is_kept_as_sent() -> None:
    document = {"type": "page", "messageId": "m", "category": 5, "context": {"ip": 7}}
    message = message_of(dict(document))
    assert isinstance(message, Page)
    assert message.category is msgspec.UNSET
    assert message.extra == {"category": 5}
    assert stored_field(message, "category") == 5
    assert message.context.ip is None
    assert message_builtins(message) == document


def test_a_nested_context_field_of_another_type_leaves_the_others_typed() -> None:
    message = message_of({"type": "track", "context": {"device": {"id": 42, "model": "X"}}})
    assert message.context.device is not None
    assert (message.context.device.id, message.context.device.model) == (None, "X")


def test_absent_and_null_stay_apart() -> None:
    without = message_of({"type": "track", "messageId": "m", "event": "E"})
    with_null = message_of({"type": "track", "messageId": "m", "event": "E", "properties": None})
    assert msgspec.json.decode(encode_message(without)) == {
        "type": "track",
        "messageId": "m",
        "event": "E",
    }
    assert msgspec.json.decode(encode_message(with_null))["properties"] is None
    assert properties_of(without) == properties_of(with_null) == {}


@pytest.mark.parametrize("value", [1, {"a": 1}])
def test_a_key_named_like_the_extra_field_is_kept(value: Any) -> None:
    document = {"type": "alias", "messageId": "m", "$headwater:extra": value, "extra": {"a": 1}}
    assert message_builtins(message_of(dict(document))) == document
    assert msgspec.json.decode(encode_message(decode_message(msgspec.json.encode(document)))) == (
        document
    )


def test_changes_go_through_replace() -> None:
    message = message_of(stored("track"))
    assert isinstance(message, Track)
    changed = msgspec.structs.replace(message, properties={})
    assert message_builtins(changed)["properties"] == {}
    assert message_builtins(changed)["channel"] == "web"
    assert message.properties == {"total": 9.5}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"type": "purchase", "messageId": "m"}', "unknown message type 'purchase'"),
        (b'{"messageId": "m"}', "unknown message type None"),
        (b"[1]", "a message must be a JSON object, not list"),
        (b"{", "a message must be JSON"),
    ],
)
def test_what_is_no_message_is_refused_with_a_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=r"expected one of|must be") as error:
        decode_message(data)
    assert reason in str(error.value)


def test_reserved_traits_read_as_text() -> None:
    traits = {"firstName": "", "first_name": "Ada", "phone": 4420, "age": True}
    assert reserved_trait(traits, "firstName", "first_name") == "Ada"
    assert reserved_trait(traits, "phone") == "4420"
    assert reserved_trait(traits, "age") is None
    assert reserved_trait(traits, "email") is None


@_settings
@given(message=MESSAGES, route_type=ROUTE_TYPES, env=ENVELOPES)
def test_any_stored_message_encodes_back_to_the_same_json(
    message: Any, route_type: str | None, env: Envelope
) -> None:
    result = normalise(message, index=0, route_type=route_type, envelope=env, clean_nul=True)
    if not isinstance(result, Event):
        return
    text = msgspec.json.encode(result.payload)
    typed = decode_message(text)
    assert typed.type == result.type
    assert typed.message_id == result.message_id
    assert (typed.user_id or None) == result.user_id
    assert (typed.anonymous_id or None) == result.anonymous_id
    assert msgspec.json.decode(encode_message(typed)) == msgspec.json.decode(text)
