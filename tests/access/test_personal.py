"""The classification of personal keys and the masking of a JSON document (pure rules)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.access import DEFAULT_PERSONAL, MASK, PersonalKeys, mask
from headwater.access.personal import words


@pytest.mark.parametrize(
    "key",
    [
        "email",
        "Email",
        "E-Mail",
        "e_mail",
        "firstName",
        "first_name",
        "FirstName",
        "FIRST_NAME",
        "last-name",
        "phone",
        "phoneNumber",
        "userEmail",
        "billing_phone",
        "$email",
        "ip",
        "IP",
        "ipAddress",
        "birthday",
        "address",
        "postalCode",
        "username",
    ],
)
def test_personal_keys_whatever_their_case_and_separators(key: str) -> None:
    assert DEFAULT_PERSONAL.personal(key)


@pytest.mark.parametrize(
    "key",
    ["userId", "anonymousId", "plan", "name", "title", "iphone", "headphone", "emailVerified"],
)
def test_not_personal_anywhere(key: str) -> None:
    assert not DEFAULT_PERSONAL.personal(key)


def test_name_and_avatar_are_personal_among_traits_only() -> None:
    assert DEFAULT_PERSONAL.personal("name", trait=True)
    assert DEFAULT_PERSONAL.personal("Avatar", trait=True)
    assert not DEFAULT_PERSONAL.personal("name")


def test_words() -> None:
    assert words("FirstName") == words("first_name") == words("first-name") == "firstname"
    assert words("IPAddress") == "ipaddress"


def identify() -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": "u-1",
        "anonymousId": "a-1",
        "name": "Home",
        "traits": {
            "email": "ana@example.com",
            "firstName": "Ana",
            "name": "Ana Lima",
            "plan": "pro",
            "address": {"street": "1 Rua", "city": "Lisbon"},
            "company": {"name": "Acme"},
            "age": 41,
            "phone": None,
        },
        "properties": {"email": "ana@example.com", "name": "Shoes", "price": 3},
        "context": {
            "ip": "203.0.113.9",
            "library": {"name": "analytics.js"},
            "traits": {"last_name": "Lima", "name": "Ana Lima"},
            "externalIds": [
                {"id": "ana@example.com", "type": "email", "collection": "users"},
                {"id": "c-7", "type": "crm_id"},
            ],
        },
    }


def test_masks_personal_values_and_keeps_the_rest() -> None:
    masked = mask(identify())
    traits = masked["traits"]
    assert traits["email"] == traits["firstName"] == traits["name"] == MASK
    assert traits["address"] == {"street": MASK, "city": MASK}
    assert traits["phone"] is None
    assert traits["plan"] == "pro"
    assert traits["age"] == 41
    assert traits["company"] == {"name": "Acme"}
    assert masked["properties"] == {"email": MASK, "name": "Shoes", "price": 3}
    context = masked["context"]
    assert context["ip"] == MASK
    assert context["library"] == {"name": "analytics.js"}
    assert context["traits"] == {"last_name": MASK, "name": MASK}
    assert context["externalIds"][0]["id"] == MASK
    assert context["externalIds"][1]["id"] == "c-7"
    assert (masked["userId"], masked["anonymousId"], masked["name"]) == ("u-1", "a-1", "Home")


def test_a_value_with_its_metadata_keeps_the_metadata() -> None:
    trait = {"value": "ana@example.com", "updated_at": "2026-01-01T00:00:00Z", "message_id": "m"}
    assert mask({"traits": {"email": trait}})["traits"]["email"] == {**trait, "value": MASK}


def test_the_document_given_is_left_as_it_is() -> None:
    document = identify()
    mask(document)
    assert document == identify()


def test_identifier_pairs_and_keyed_values() -> None:
    identifiers = [
        {"type": "email", "value": "ana@example.com", "added_at": "t"},
        {"type": "user_id", "value": "u-1"},
        {"id_type": "phone", "id": "+351"},
    ]
    assert mask(identifiers) == [
        {"type": "email", "value": MASK, "added_at": "t"},
        {"type": "user_id", "value": "u-1"},
        {"id_type": "phone", "id": MASK},
    ]
    change = {"key": "first_name", "value": "Ana", "previous": "Ann", "id": 3}
    assert mask(change) == {"key": "first_name", "value": MASK, "previous": MASK, "id": 3}


def test_raw_text_is_masked_when_json_and_withheld_when_not() -> None:
    body = json.dumps({"email_address": "ana@example.com", "status": "subscribed"})
    masked = mask({"request_body": body, "response_body": "Bad email ana@example.com"})
    assert json.loads(masked["request_body"]) == {"email_address": MASK, "status": "subscribed"}
    assert masked["response_body"] == MASK
    assert mask({"payload": "{not json"}) == {"payload": MASK}


def test_a_masked_value_is_masked_where_another_string_quotes_it() -> None:
    letter = {
        "payload": {"userId": "ana@example.com", "traits": {"email": "ana@example.com"}},
        "error": 'HTTP 400: {"email": "ana@example.com", "plan": "pro"}',
        "traits": {"firstName": "Al", "verified": True},
        "note": "Alerts: True",
    }
    masked = mask(letter)
    assert masked["payload"]["userId"] == MASK
    assert masked["error"] == f'HTTP 400: {{"email": "{MASK}", "plan": "pro"}}'
    assert masked["note"] == "Alerts: True"  # too short to be told from other words


def test_also_masks_named_keys_anywhere() -> None:
    page = {"data": [{"profile_id": "p", "value": "Ana"}], "next_cursor": None}
    assert mask(page, also=frozenset({"value"}))["data"] == [{"profile_id": "p", "value": MASK}]


def test_a_classifier_of_ones_own() -> None:
    keys = PersonalKeys.of(anywhere=["loyalty_card"])
    assert mask({"LoyaltyCard": "42", "email": "x"}, keys) == {"LoyaltyCard": MASK, "email": "x"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["email", "plan", "traits", "name", "id"]), children)
    ),
    max_leaves=20,
)


@given(json_values)
def test_masking_twice_is_masking_once(document: Any) -> None:
    once = mask(document)
    assert mask(once) == once


@given(json_values)
def test_no_personal_value_is_left(document: Any) -> None:
    def scan(value: Any, trait: bool = False) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if DEFAULT_PERSONAL.personal(key, trait=trait):
                    assert _only_masks(item), (key, item)
                else:
                    scan(item, key == "traits")
        elif isinstance(value, list):
            for item in value:
                scan(item)

    scan(mask(document))


def _only_masks(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_only_masks(v) for v in value.values())
    if isinstance(value, list):
        return all(_only_masks(v) for v in value)
    return value is None or value == MASK
