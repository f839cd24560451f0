"""Identifiers from normalised Segment payloads, as Segment Unify promotes them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.identity import Identifier, IdentityEvent, Rules
from tests.identity.build import T0, anon, email, extract, identity_event, uid

DEFAULT = Rules.default()


def test_user_anonymous_and_group_ids() -> None:
    payload = {"type": "group", "userId": "u1", "anonymousId": "a1", "groupId": "g1"}
    assert extract(payload, DEFAULT) == (uid("u1"), anon("a1"), Identifier("group_id", "g1"))


@pytest.mark.parametrize(
    "payload",
    [
        {"traits": {"email": "Jane@Example.com"}},
        {"context": {"traits": {"email": " jane@example.com "}}},
        {"properties": {"email": "JANE@EXAMPLE.COM"}},
    ],
)
def test_email_from_traits_context_traits_and_properties_lowercased(payload: Any) -> None:
    assert extract(payload, DEFAULT) == (email("jane@example.com"),)


def test_two_distinct_emails_are_both_kept_once_each() -> None:
    payload = {
        "traits": {"email": "a@x.io"},
        "context": {"traits": {"email": "A@x.io"}},
        "properties": {"email": "b@x.io"},
    }
    assert extract(payload, DEFAULT) == (email("a@x.io"), email("b@x.io"))


@pytest.mark.parametrize(
    ("device_type", "prefix"),
    [
        ("ios", "ios."),
        ("android", "android."),
        ("Android", "android."),
        ("tvos", None),
        (None, None),
    ],
)
def test_device_ids_by_device_type(device_type: str | None, prefix: str | None) -> None:
    device: dict[str, Any] = {
        "id": "D1",
        "advertisingId": "AD1",
        "adTrackingEnabled": True,
        "token": "T1",
    }
    if device_type is not None:
        device["type"] = device_type
    found = set(extract({"context": {"device": device}}, DEFAULT))
    if prefix:
        expected = {("id", "D1"), ("idfa", "AD1"), ("push_token", "T1")}
        assert found == {Identifier(prefix + kind, value) for kind, value in expected}
    else:
        assert found == {
            Identifier("device_id", "D1"),
            Identifier("advertising_id", "AD1"),
            Identifier("push_token", "T1"),
        }


@pytest.mark.parametrize("enabled", [False, None, "true"])
def test_advertising_id_only_when_ad_tracking_is_enabled(enabled: Any) -> None:
    device = {"type": "ios", "advertisingId": "AD1", "adTrackingEnabled": enabled}
    assert extract({"context": {"device": device}}, DEFAULT) == ()


def test_opted_out_idfa_of_zeroes_is_blocked() -> None:
    device = {
        "type": "ios",
        "advertisingId": "00000000-0000-0000-0000-000000000000",
        "adTrackingEnabled": True,
    }
    assert extract({"context": {"device": device}}, DEFAULT) == ()


def test_google_analytics_client_id() -> None:
    payload = {"integrations": {"Google Analytics": {"clientId": "GA1.2.3"}}}
    assert extract(payload, DEFAULT) == (Identifier("ga_client_id", "GA1.2.3"),)


def test_external_ids_of_the_users_collection() -> None:
    external = [
        {"id": "555-1234", "type": "phone", "collection": "users", "encoding": "none"},
        {"id": "X-9", "type": "crm_id"},
        {"id": "acme", "type": "domain", "collection": "accounts"},
        {"id": "ignored", "type": "Phone"},
        {"id": None, "type": "phone"},
        {"type": "phone"},
        "not an object",
        {"id": "z", "type": 3},
        {"id": "Jane@X.io", "type": "email"},
    ]
    assert set(extract({"context": {"externalIds": external}}, DEFAULT)) == {
        Identifier("phone", "555-1234"),
        Identifier("crm_id", "X-9"),
        email("jane@x.io"),
    }


def test_an_external_id_type_too_long_for_an_index_row_is_ignored() -> None:
    fits, too_long = "é" * 32, "é" * 33  # 64 and 66 bytes in UTF-8
    external = [{"id": "a", "type": fits}, {"id": "b", "type": too_long}]
    assert extract({"context": {"externalIds": external}}, DEFAULT) == (Identifier(fits, "a"),)


def test_configured_trait_and_property_keys_in_snake_and_camel_case() -> None:
    rules = Rules(
        trait_identifiers={"phone_number": "phone"},
        property_identifiers={"shopifyId": "shopify_id"},
    )
    payload = {
        "traits": {"phoneNumber": "+1 555"},
        "context": {"traits": {"phone_number": "+1 666"}},
        "properties": {"shopify_id": 42},
    }
    assert set(extract(payload, rules)) == {
        Identifier("phone", "+1 555"),
        Identifier("phone", "+1 666"),
        Identifier("shopify_id", "42"),
    }
    assert extract(payload, DEFAULT) == ()


@pytest.mark.parametrize(
    ("raw", "expected"), [(42, "42"), (4.5, "4.5"), (True, None), ([1], None), ({"a": 1}, None)]
)
def test_numbers_become_strings_other_types_are_ignored(raw: Any, expected: str | None) -> None:
    assert extract({"userId": raw}, DEFAULT) == ((uid(expected),) if expected else ())


def test_an_integer_too_long_to_print_is_ignored() -> None:
    assert extract({"userId": 10**5000}, DEFAULT) == ()


def test_blocked_values_and_custom_patterns() -> None:
    rules = Rules(blocked=(*Rules.default().blocked, "^test-.*$", "void"))
    payload = {"userId": "TEST-42", "anonymousId": "Void", "traits": {"email": "null"}}
    assert extract(payload, rules) == ()
    assert extract({"userId": "voided"}, rules) == (uid("voided"),)  # whole-value matches only


def test_blank_and_overlong_values_are_never_identifiers() -> None:
    rules = Rules(blocked=(), max_length=5)
    assert extract({"userId": "  ", "anonymousId": "abcdef"}, rules) == ()
    assert extract({"userId": "abcde"}, rules) == (uid("abcde"),)


def test_ordered_by_priority_then_type_then_value() -> None:
    payload = {
        "anonymousId": "a1",
        "userId": "u1",
        "properties": {"email": "z@x.io"},
        "traits": {"email": "b@x.io"},
        "context": {"device": {"type": "android", "id": "D1"}},
    }
    assert extract(payload, DEFAULT) == (
        uid("u1"),
        email("b@x.io"),
        email("z@x.io"),
        Identifier("android.id", "D1"),
        anon("a1"),
    )


def test_identity_event_of_an_alias() -> None:
    payload = {"type": "alias", "userId": "u1", "previousId": 7, "anonymousId": "a1"}
    event = identity_event(payload, message_id="m1", timestamp=T0, rules=DEFAULT)
    assert event == IdentityEvent("m1", T0, (uid("u1"), anon("a1")), alias_previous_id="7")
    track = identity_event(
        {"type": "track", "userId": "u1", "previousId": "p"},
        message_id="m2",
        timestamp=T0,
        rules=DEFAULT,
    )
    assert track.alias_previous_id is None


_text = st.text(max_size=8) | st.sampled_from(["", "null", "ios", "android", "users", "email"])
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _text
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=10,
)
_keys = st.sampled_from(
    ["userId", "anonymousId", "groupId", "traits", "context", "properties", "integrations", "type"]
)
_payloads = st.dictionaries(_keys, _json, max_size=7) | _json
_device = st.fixed_dictionaries(
    {},
    optional={
        "type": _json,
        "id": _json,
        "advertisingId": _json,
        "adTrackingEnabled": _json,
        "token": _json,
    },
)
_shaped = st.fixed_dictionaries(
    {},
    optional={
        "userId": _json,
        "traits": st.dictionaries(st.sampled_from(["email", "phone"]), _json),
        "context": st.fixed_dictionaries(
            {},
            optional={
                "device": _device | _json,
                "externalIds": st.lists(
                    st.fixed_dictionaries(
                        {}, optional={"id": _json, "type": _json, "collection": _json}
                    )
                    | _json
                )
                | _json,
                "traits": _json,
            },
        ),
    },
)
_rules = Rules(trait_identifiers={"phone": "phone"}, property_identifiers={"sku_id": "sku"})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_payloads | _shaped)
def test_extract_never_raises_and_returns_clean_identifiers(payload: Any) -> None:
    found = extract(payload, _rules)
    assert len(set(found)) == len(found)
    assert found == _rules.order(found)
    for identifier in found:
        assert isinstance(identifier.value, str)
        assert not _rules.is_blocked(identifier.value)
    event = identity_event(payload, message_id="m", timestamp=T0, rules=_rules)
    assert event.identifiers == found
