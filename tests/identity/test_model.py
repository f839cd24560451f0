"""Rules: Segment's defaults, a JSON round trip, readable errors; identity events."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from headwater.identity import Identifier, IdentityEvent, Limit, Rules
from tests.identity.build import T0, anon, uid


def test_segment_defaults() -> None:
    rules = Rules.default()
    assert rules.blocked == ("^[0-]*$", "^-1$", "^null$", "^anonymous$")
    assert rules.limit("user_id") == Limit(1)
    assert rules.limit("email") == rules.limit("anonymous_id") == rules.limit("phone") == Limit(5)
    assert rules.priorities == {"user_id": 1, "email": 2}
    assert (rules.max_merges, rules.max_identifiers) == (100, 1000)
    assert rules.rank("user_id") < rules.rank("email") < rules.rank("android.id")
    assert rules.rank("android.id") < rules.rank("anonymous_id") < rules.rank("zzz")


@pytest.mark.parametrize(
    ("value", "blocked"),
    [
        ("", True),
        ("   ", True),
        ("0", True),
        ("000-000", True),
        ("-1", True),
        ("null", True),
        ("Null", True),
        ("ANONYMOUS", True),
        ("-2", False),
        ("0a", False),
        ("not null", False),
        ("anonymous1", False),
        ("u1", False),
    ],
)
def test_default_blocked_values(value: str, blocked: bool) -> None:
    assert Rules.default().is_blocked(value) is blocked


def test_round_trip_through_json() -> None:
    rules = Rules(
        blocked=("^test$",),
        limits={"user_id": Limit(2), "anonymous_id": Limit(5, timedelta(days=7))},
        default_limit=Limit(3, timedelta(hours=1)),
        priorities={"email": 1, "user_id": 2},
        max_merges=10,
        max_identifiers=50,
        trait_identifiers={"phone": "phone"},
        property_identifiers={"sku": "sku"},
    )
    data = json.loads(json.dumps(rules.to_dict()))
    assert data["limits"]["anonymous_id"] == {"max": 5, "window": "P7D"}
    assert Rules.from_dict(data) == rules
    assert Rules.from_dict(Rules.default().to_dict()) == Rules.default()


def test_missing_fields_take_defaults_and_windows_may_be_seconds() -> None:
    rules = Rules.from_dict({"limits": {"anonymous_id": {"max": 5, "window": 3600}}})
    assert rules.limits == {"anonymous_id": Limit(5, timedelta(hours=1))}
    assert rules.blocked == Rules.default().blocked
    assert Rules.from_dict({}) == Rules.default()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be an object"),
        ({"blocked": ["("]}, "not a valid regex"),
        ({"blocked": "^x$"}, "Expected `array`"),
        ({"limits": {"email": {"max": 0}}}, "limits.email: a limit's max must be an integer >= 1"),
        ({"limits": {"email": {"max": "5"}}}, "limits.email: Expected `int`"),
        ({"limits": {"email": {"max": 5, "window": -60}}}, "window must be positive"),
        ({"limits": {"email": {"max": 5, "window": 1e300}}}, "out of range"),
        ({"limits": {"email": {"max": 5, "window": "weekly"}}}, "limits.email"),
        ({"limits": {"": {"max": 5}}}, "identifier type ''"),
        ({"default_limit": {"max": -1}}, "default_limit"),
        ({"max_merges": -1}, "max_merges must be an integer >= 0"),
        ({"max_identifiers": 0}, "max_identifiers must be an integer >= 1"),
        ({"priorities": {"email": "high"}}, "Expected `int`"),
        ({"trait_identifiers": {"": "phone"}}, "empty key"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_rules_raise_value_error_with_a_readable_message(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Rules.from_dict(data)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ValueError, match="max must be"):
        Limit(0)
    with pytest.raises(ValueError, match="regex"):
        Rules(blocked=("[",))


def test_order_is_total_and_deduplicates() -> None:
    rules = Rules.default()
    found = [anon("b"), uid("u1"), anon("a"), anon("b"), Identifier("email", "e")]
    assert rules.order(found) == (uid("u1"), Identifier("email", "e"), anon("a"), anon("b"))


def test_identity_event_key_and_mentions() -> None:
    event = IdentityEvent("m1", T0, (uid("u1"),), alias_previous_id="x")
    assert event.key == (T0, "m1")
    assert event.mentions == (uid("u1"), uid("x"), anon("x"))
    assert IdentityEvent("m2", T0, (uid("u1"),)).mentions == (uid("u1"),)


def test_identity_event_needs_an_aware_timestamp() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        IdentityEvent("m1", datetime(2026, 1, 1), ())
