"""Every rule of :mod:`headwater.spec.normalise`, one test each, without I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headwater.spec import (
    ADDED_BYTES,
    Envelope,
    Event,
    Rejection,
    Unreadable,
    normalise,
    parse_timestamp,
)

RECEIVED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def envelope(**fields: Any) -> Envelope:
    return Envelope(received_at=fields.pop("received_at", RECEIVED), **fields)


def accept(
    message: Any, *, route_type: str | None = None, clean_nul: bool = False, **env: Any
) -> Event:
    result = normalise(
        message, index=0, route_type=route_type, envelope=envelope(**env), clean_nul=clean_nul
    )
    assert isinstance(result, Event), result
    return result


def reject(message: Any, *, route_type: str | None = None, index: int = 0, **env: Any) -> Rejection:
    result = normalise(message, index=index, route_type=route_type, envelope=envelope(**env))
    assert isinstance(result, Rejection), result
    assert result.index == index
    assert result.reason
    return result


def track(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "u1", "event": "Signed Up", **fields}


# --- the type -------------------------------------------------------------------------------


def test_route_type_wins_over_the_message_type() -> None:
    event = accept({"type": "identify", "userId": "u1", "event": "E"}, route_type="track")
    assert event.type == "track"
    assert event.payload["type"] == "track"
    assert event.name == "E"


def test_route_type_fills_a_missing_type() -> None:
    assert accept({"userId": "u1"}, route_type="identify").payload["type"] == "identify"


def test_batch_item_takes_its_own_type() -> None:
    for kind in ("identify", "track", "page", "screen", "group", "alias"):
        message = {"type": kind, "userId": "u1", "event": "E", "groupId": "g", "previousId": "p"}
        assert accept(message).type == kind


def test_batch_item_without_type_is_rejected() -> None:
    rejection = reject({"userId": "u1", "event": "E"}, index=3)
    assert "type is required" in rejection.reason
    assert rejection.payload == {"userId": "u1", "event": "E"}


@pytest.mark.parametrize("kind", ["Track", "purchase", "", "tracks", 5, ["track"], {"a": 1}, True])
def test_unknown_type_is_rejected(kind: Any) -> None:
    rejection = reject({"type": kind, "userId": "u1", "event": "E", "messageId": "m-1"})
    assert "unknown type" in rejection.reason
    assert rejection.message_id == "m-1"
    # the type as sent, when it is text that fits the name cap (it is a column of the counts)
    assert rejection.type == (kind if isinstance(kind, str) else None)


def test_a_rejection_keeps_no_type_or_message_id_past_their_caps() -> None:
    rejection = reject({"type": "t" * 513, "userId": "u1", "messageId": "m" * 513})
    assert (rejection.type, rejection.message_id) == (None, None)
    assert "unknown type" in rejection.reason


def test_null_type_in_batch_is_missing() -> None:
    assert "type is required" in reject({"type": None, "userId": "u1"}).reason


@pytest.mark.parametrize("message", [None, 1, 1.5, "track", [], [{"type": "track"}], True])
def test_a_message_that_is_not_an_object_is_rejected(message: Any) -> None:
    rejection = reject(message, route_type="track")
    assert rejection.reason == "message must be a JSON object"
    assert rejection.payload == message


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("absent", [None, ""])
def test_null_and_empty_user_id_mean_absent(absent: Any) -> None:
    event = accept(track(userId=absent, anonymousId="a1"))
    assert event.user_id is None
    assert event.payload["userId"] is None
    assert event.anonymous_id == "a1"
    assert event.partition_key == "a1"


@pytest.mark.parametrize("absent", [None, ""])
def test_null_and_empty_ids_everywhere_mean_absent(absent: Any) -> None:
    rejection = reject(track(userId=absent, anonymousId=absent))
    assert rejection.reason == "userId or anonymousId is required"
    event = accept(track(messageId=absent))
    assert event.message_id
    assert event.payload["messageId"] == event.message_id


@pytest.mark.parametrize(
    ("value", "text"), [(42, "42"), (0, "0"), (-7, "-7"), (4.5, "4.5"), (10**20, str(10**20))]
)
def test_numeric_ids_become_strings(value: Any, text: str) -> None:
    event = accept(track(userId=value, anonymousId=value, messageId=value))
    assert event.user_id == event.anonymous_id == event.message_id == text
    assert event.payload["userId"] == event.payload["anonymousId"] == text
    assert event.payload["messageId"] == text
    group = accept({"type": "group", "userId": "u", "groupId": value})
    assert group.payload["groupId"] == text
    alias = accept({"type": "alias", "userId": "u", "previousId": value})
    assert alias.payload["previousId"] == text


@pytest.mark.parametrize("field", ["userId", "anonymousId", "messageId"])
@pytest.mark.parametrize("value", [True, False, {"id": 1}, {}, [1], []])
def test_objects_arrays_and_booleans_as_ids_are_rejected(field: str, value: Any) -> None:
    rejection = reject(track(**{field: value}))
    assert rejection.reason.startswith(f"{field} must be a string")


@pytest.mark.parametrize("value", [True, {"id": 1}, [1]])
def test_objects_as_group_and_previous_ids_are_rejected(value: Any) -> None:
    assert "groupId" in reject({"type": "group", "userId": "u", "groupId": value}).reason
    assert "previousId" in reject({"type": "alias", "userId": "u", "previousId": value}).reason


def test_message_id_is_generated_when_missing_and_unique() -> None:
    ids = {accept(track()).message_id for _ in range(1000)}
    assert len(ids) == 1000
    assert all(0 < len(message_id) <= 100 for message_id in ids)


def test_given_message_id_is_kept() -> None:
    event = accept(track(messageId="ajs-next-1"))
    assert event.message_id == event.payload["messageId"] == "ajs-next-1"


def test_message_id_longer_than_100_chars_is_rejected() -> None:
    assert accept(track(messageId="m" * 100)).message_id == "m" * 100
    rejection = reject(track(messageId="m" * 101))
    assert "longer than 100" in rejection.reason
    assert rejection.message_id == "m" * 101


def test_message_id_limit_comes_from_the_envelope() -> None:
    assert isinstance(
        normalise(
            track(messageId="m" * 11),
            index=0,
            route_type=None,
            envelope=envelope(max_message_id_chars=10),
        ),
        Rejection,
    )


@pytest.mark.parametrize("field", ["userId", "anonymousId", "groupId", "previousId"])
def test_ids_longer_than_the_limit_are_rejected_they_are_indexed(field: str) -> None:
    base = {"type": "group", "userId": "u", "anonymousId": "a", "groupId": "g", "previousId": "p"}
    accept({**base, field: "x" * 512})
    rejection = reject({**base, field: "x" * 513})
    assert rejection.reason == f"{field} is longer than 512 characters"
    assert rejection.type == "group"
    accept({**base, field: "x" * 20}, max_id_chars=20)


def test_a_long_anonymous_id_header_is_held_to_the_id_limit() -> None:
    assert reject(track(), anonymous_id_header="h" * 513).reason == (
        "anonymousId is longer than 512 characters"
    )
    assert accept(track(), anonymous_id_header="h" * 512).anonymous_id == "h" * 512


@pytest.mark.parametrize(
    ("kind", "field"), [("track", "event"), ("page", "name"), ("screen", "name")]
)
def test_names_longer_than_the_limit_are_rejected_they_are_indexed(kind: str, field: str) -> None:
    message = {"type": kind, "userId": "u", field: "n" * 512}
    assert accept(message).name == "n" * 512
    rejection = reject({**message, field: "n" * 3000})
    assert rejection.reason == f"{field} is longer than 512 characters"
    assert isinstance(rejection.payload, dict)
    reject({**message, field: "n" * 11}, max_name_chars=10)


def test_the_envelope_counts_in_the_size_of_each_event_as_stored() -> None:
    context = {"blob": "c" * 20_000}
    message = track(properties={"blob": "p" * 20_000})
    # Each alone fits; merged, the event as stored is over 32 KB plus ADDED_BYTES.
    accept(track(), context=context)
    accept(message)
    rejection = reject(message, context=context)
    assert rejection.reason.startswith("event as stored is ")
    assert rejection.payload == message
    # The AnonymousId header too: 1,000 bytes on top of a small event, with the limit at 0 + 1 KiB.
    anonymous = {"type": "track", "userId": "u", "event": "E"}
    accept(anonymous, anonymous_id_header="h" * 500, max_event_bytes=0, max_id_chars=2000)
    rejection = reject(
        anonymous, anonymous_id_header="h" * 1000, max_event_bytes=0, max_id_chars=2000
    )
    assert rejection.reason.startswith("event as stored is ")


def test_an_event_at_the_limit_as_sent_is_stored_within_the_limit_plus_added_bytes() -> None:
    message = track(properties={"blob": "p" * (32 * 1024 - 100)})
    event = accept(message)
    assert len(json.dumps(event.payload, separators=(",", ":"))) <= 32 * 1024 + ADDED_BYTES


def test_identify_traits_copied_from_context_count_twice() -> None:
    message = {"type": "identify", "userId": "u", "context": {"traits": {"t": "t" * 17_000}}}
    assert reject(message).reason.startswith("event as stored is ")


def test_numbers_that_grow_when_encoded_count_as_stored() -> None:
    # "1e5" is stored as 100000.0: 6,000 of them grow from 24 KB to 54 KB.
    message = track(properties={"n": json.loads("[" + ",".join(["1e5"] * 6000) + "]")})
    assert reject(message).reason.startswith("event as stored is ")


# --- what each type requires ----------------------------------------------------------------


@pytest.mark.parametrize("event", [None, "", "   ", 5, ["E"], {"name": "E"}])
def test_track_needs_an_event_name(event: Any) -> None:
    message = {"type": "track", "userId": "u1"}
    if event is not None:
        message["event"] = event
    assert "track requires event" in reject(message).reason


def test_track_name_is_the_event() -> None:
    assert accept(track(event="Order Completed")).name == "Order Completed"


def test_every_type_but_alias_needs_user_or_anonymous_id() -> None:
    for kind in ("identify", "track", "page", "screen", "group"):
        message = {"type": kind, "event": "E", "groupId": "g"}
        assert reject(message).reason == "userId or anonymousId is required"
        assert accept({**message, "anonymousId": "a"}).anonymous_id == "a"


@pytest.mark.parametrize("group_id", [None, ""])
def test_group_without_group_id_is_kept_as_rudderstack_keeps_it(group_id: Any) -> None:
    event = accept({"type": "group", "userId": "u1", "groupId": group_id})
    assert event.payload["groupId"] == group_id
    assert accept({"type": "group", "userId": "u1", "groupId": "g1"}).payload["groupId"] == "g1"
    assert (
        "groupId must be a string" in reject({"type": "group", "userId": "u", "groupId": {}}).reason
    )


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ({"type": "alias", "userId": "u1"}, True),
        ({"type": "alias", "userId": "u1", "previousId": None}, True),
        ({"type": "alias", "previousId": "p1", "anonymousId": "a1"}, True),
        ({"type": "alias", "previousId": "p1"}, False),
        ({"type": "alias", "userId": "", "previousId": "p1"}, False),
    ],
)
def test_alias_needs_a_user_or_anonymous_id_like_every_type(
    message: dict[str, Any], kept: bool
) -> None:
    if kept:
        accept(message)
    else:
        assert reject(message).reason == "userId or anonymousId is required"


def test_alias_with_both_ids_is_accepted_without_anonymous_id() -> None:
    event = accept({"type": "alias", "userId": "u1", "previousId": "p1"})
    assert event.user_id == "u1"
    assert event.name is None


@pytest.mark.parametrize("kind", ["page", "screen"])
def test_page_and_screen_name(kind: str) -> None:
    assert accept({"type": kind, "userId": "u", "name": "Home"}).name == "Home"
    assert accept({"type": kind, "userId": "u"}).name is None
    assert accept({"type": kind, "userId": "u", "name": ""}).name is None
    assert "name must be a string" in reject({"type": kind, "userId": "u", "name": 3}).reason


# --- object fields --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["properties", "traits", "context", "integrations"])
@pytest.mark.parametrize("value", ["text", 1, True, [], [{"a": 1}]])
def test_object_fields_must_be_objects(field: str, value: Any) -> None:
    rejection = reject(track(**{field: value}))
    assert rejection.reason.startswith(f"{field} must be an object")


@pytest.mark.parametrize("field", ["properties", "traits", "context", "integrations"])
def test_object_fields_may_be_null(field: str) -> None:
    accept(track(**{field: None}))


def test_batch_context_and_integrations_merge_under_the_message() -> None:
    event = accept(
        track(context={"locale": "fr", "page": {"path": "/"}}, integrations={"All": False}),
        context={"locale": "en", "library": {"name": "batch"}},
        integrations={"All": True, "Mixpanel": False},
    )
    assert event.payload["context"] == {
        "locale": "fr",
        "page": {"path": "/"},
        "library": {"name": "batch"},
    }
    assert event.payload["integrations"] == {"All": False, "Mixpanel": False}


def test_batch_context_applies_when_the_message_has_none() -> None:
    event = accept(track(), context={"app": {"name": "x"}})
    assert event.payload["context"] == {"app": {"name": "x"}}
    assert event.payload["integrations"] == {}


def test_the_envelope_objects_are_not_shared_between_messages() -> None:
    shared = {"app": {"name": "x"}}
    env = envelope(context=shared, ip="1.2.3.4", client_source=True)
    first = normalise(track(), index=0, route_type=None, envelope=env)
    assert isinstance(first, Event)
    assert first.payload["context"]["ip"] == "1.2.3.4"
    assert shared == {"app": {"name": "x"}}


def test_identify_traits_are_copied_from_context_traits_when_missing() -> None:
    event = accept({"type": "identify", "userId": "u1", "context": {"traits": {"plan": "pro"}}})
    assert event.payload["traits"] == {"plan": "pro"}
    assert event.payload["context"]["traits"] == {"plan": "pro"}


def test_identify_traits_are_kept_when_given() -> None:
    for traits in ({"plan": "free"}, {}):
        message = {
            "type": "identify",
            "userId": "u1",
            "traits": traits,
            "context": {"traits": {"plan": "pro"}},
        }
        assert accept(message).payload["traits"] == traits


def test_context_traits_are_not_copied_for_other_types() -> None:
    event = accept(track(context={"traits": {"plan": "pro"}}))
    assert "traits" not in event.payload


def test_identify_traits_from_batch_context() -> None:
    event = accept({"type": "identify", "userId": "u1"}, context={"traits": {"a": 1}})
    assert event.payload["traits"] == {"a": 1}


# --- timestamps -----------------------------------------------------------------------------


def test_clock_skew_is_corrected_with_the_item_sent_at() -> None:
    # The device clock is one hour fast: it stamped the event 10 s before it sent it.
    event = accept(track(timestamp="2026-03-01T13:00:00Z", sentAt="2026-03-01T13:00:10Z"))
    assert event.timestamp == RECEIVED - timedelta(seconds=10)
    assert event.payload["timestamp"] == "2026-03-01T11:59:50.000Z"
    assert event.payload["originalTimestamp"] == "2026-03-01T13:00:00.000Z"
    assert event.payload["sentAt"] == "2026-03-01T13:00:10.000Z"
    assert event.payload["receivedAt"] == "2026-03-01T12:00:00.000Z"
    assert event.received_at == RECEIVED


def test_clock_skew_is_corrected_with_the_envelope_sent_at() -> None:
    sent_at = parse_timestamp("2026-03-01T10:00:05.500Z")
    event = accept(track(timestamp="2026-03-01T10:00:00Z"), sent_at=sent_at)
    assert event.payload["timestamp"] == "2026-03-01T11:59:54.500Z"
    assert event.payload["sentAt"] == "2026-03-01T10:00:05.500Z"


def test_the_item_sent_at_wins_over_the_envelope() -> None:
    event = accept(
        track(timestamp="2026-03-01T10:00:00Z", sentAt="2026-03-01T10:00:01Z"),
        sent_at=parse_timestamp("2026-03-01T10:00:30Z"),
    )
    assert event.timestamp == RECEIVED - timedelta(seconds=1)


def test_without_sent_at_the_timestamp_is_the_original() -> None:
    event = accept(track(timestamp="2020-01-01T00:00:00+01:00"))
    assert event.payload["timestamp"] == "2019-12-31T23:00:00.000Z"
    assert event.payload["originalTimestamp"] == "2019-12-31T23:00:00.000Z"
    assert "sentAt" not in event.payload


def test_without_timestamp_the_timestamp_is_received_at() -> None:
    for extra in ({}, {"timestamp": None}, {"timestamp": ""}, {"sentAt": "2026-03-01T10:00:00Z"}):
        event = accept(track(**extra))
        assert event.timestamp == RECEIVED
        assert event.payload["timestamp"] == event.payload["receivedAt"]
        assert "originalTimestamp" not in event.payload


def test_rudderstack_original_timestamp_is_the_original() -> None:
    event = accept(track(originalTimestamp="2026-03-01T09:00:00Z", sentAt="2026-03-01T09:00:02Z"))
    assert event.timestamp == RECEIVED - timedelta(seconds=2)
    assert event.payload["originalTimestamp"] == "2026-03-01T09:00:00.000Z"


def test_timestamp_wins_over_original_timestamp() -> None:
    event = accept(track(timestamp="2026-03-01T09:00:00Z", originalTimestamp="2000-01-01"))
    assert event.payload["timestamp"] == "2026-03-01T09:00:00.000Z"


@pytest.mark.parametrize("field", ["timestamp", "originalTimestamp", "sentAt"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", 1700000000, {"t": 1}, True])
def test_bad_timestamps_are_rejected(field: str, value: Any) -> None:
    assert field in reject(track(**{field: value})).reason


def test_skew_correction_out_of_range_is_rejected_not_raised() -> None:
    rejection = reject(track(timestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T00:00:00Z"))
    assert "out of range" in rejection.reason


def test_timestamp_out_of_range_in_utc_is_rejected_not_raised() -> None:
    assert "timestamp" in reject(track(timestamp="9999-12-31T23:59:59-23:59")).reason


# --- context.ip -----------------------------------------------------------------------------


def test_ip_is_filled_for_client_sources() -> None:
    event = accept(track(), ip="203.0.113.9", client_source=True)
    assert event.payload["context"]["ip"] == "203.0.113.9"


@pytest.mark.parametrize(
    "library", ["analytics.js", "analytics-ios", "@segment/analytics-next", "analytics-kotlin"]
)
def test_ip_is_filled_for_client_libraries(library: str) -> None:
    event = accept(track(context={"library": {"name": library}}), ip="203.0.113.9")
    assert event.payload["context"]["ip"] == "203.0.113.9"


@pytest.mark.parametrize(
    "context",
    [
        None,
        {},
        {"library": {"name": "analytics-python"}},
        {"library": {"name": "analytics-node"}},
        {"library": "analytics.js"},
        {"library": {"name": 5}},
    ],
)
def test_ip_is_not_filled_for_server_sources_and_libraries(context: Any) -> None:
    event = accept(track(context=context), ip="203.0.113.9")
    assert "ip" not in event.payload["context"]


def test_a_given_ip_is_never_overwritten() -> None:
    event = accept(track(context={"ip": "198.51.100.1"}), ip="203.0.113.9", client_source=True)
    assert event.payload["context"]["ip"] == "198.51.100.1"
    batch = accept(track(), context={"ip": "198.51.100.2"}, ip="203.0.113.9", client_source=True)
    assert batch.payload["context"]["ip"] == "198.51.100.2"


def test_no_connection_ip_means_no_context_ip() -> None:
    assert "ip" not in accept(track(), client_source=True).payload["context"]


# --- headers, write keys, NUL ---------------------------------------------------------------


def test_anonymous_id_header_is_used_when_the_message_has_none() -> None:
    event = accept({"type": "track", "event": "E"}, anonymous_id_header="hdr-anon")
    assert event.anonymous_id == event.payload["anonymousId"] == "hdr-anon"
    blank = accept({"type": "track", "event": "E", "anonymousId": ""}, anonymous_id_header=" h ")
    assert blank.anonymous_id == "h"


def test_the_message_anonymous_id_wins_over_the_header() -> None:
    event = accept(track(anonymousId="own"), anonymous_id_header="hdr-anon")
    assert event.anonymous_id == "own"


def test_a_blank_anonymous_id_header_is_absent() -> None:
    reject({"type": "track", "event": "E"}, anonymous_id_header="   ")


def test_write_key_is_stripped() -> None:
    message = track(writeKey="secret-key")
    event = accept(message)
    assert "writeKey" not in event.payload
    assert message["writeKey"] == "secret-key"


def test_unknown_keys_are_kept() -> None:
    event = accept(track(custom={"nested": [1, 2]}, version=2))
    assert event.payload["custom"] == {"nested": [1, 2]}
    assert event.payload["version"] == 2


def test_nul_characters_are_replaced_when_clean_nul() -> None:
    message = track(event="Sign\x00Up", properties={"k\x00": ["v\x00", {"x": "\x00"}]})
    event = accept(message, clean_nul=True)
    assert event.payload["event"] == event.name == "Sign\ufffdUp"
    assert event.payload["properties"] == {"k\ufffd": ["v\ufffd", {"x": "\ufffd"}]}


def test_nul_characters_are_kept_without_clean_nul() -> None:
    assert accept(track(event="a\x00b")).name == "a\x00b"


def test_nul_is_cleaned_in_rejections_too() -> None:
    result = normalise(
        {"type": "nope\x00", "userId": "u\x00"},
        index=0,
        route_type=None,
        envelope=envelope(),
        clean_nul=True,
    )
    assert isinstance(result, Rejection)
    assert result.payload == {"type": "nope\ufffd", "userId": "u\ufffd"}


def test_unreadable_items_become_rejections() -> None:
    result = normalise(
        Unreadable("event exceeds 32768 bytes"), index=7, route_type=None, envelope=envelope()
    )
    assert isinstance(result, Rejection)
    assert result.index == 7
    assert result.reason == "event exceeds 32768 bytes"
    assert result.payload is None
    kept = normalise(
        Unreadable("bad", '{"type": "tr'), index=1, route_type=None, envelope=envelope()
    )
    assert isinstance(kept, Rejection)
    assert kept.payload == '{"type": "tr'
    typed = normalise(Unreadable("bad"), index=0, route_type="page", envelope=envelope())
    assert isinstance(typed, Rejection)
    assert typed.type == "page"


def test_rejections_carry_the_index_type_and_message_id() -> None:
    rejection = reject({"type": "track", "userId": "u1", "messageId": "m-9"}, index=41)
    assert (rejection.index, rejection.type, rejection.message_id) == (41, "track", "m-9")


def test_normalise_does_not_change_its_input() -> None:
    message = track(userId=5, context={"traits": {"a": 1}}, timestamp="2026-01-01")
    snapshot = repr(message)
    accept(message, context={"x": 1}, ip="1.1.1.1", client_source=True)
    assert repr(message) == snapshot
