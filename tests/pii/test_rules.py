"""PII rules as pure functions: which rule decides a field, each action, validation."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from headwater.errors import BadRequest
from headwater.pii import REDACTED, Rule, RuleClassifier, apply, compile_rules
from headwater.pii.inbox import ObservedPath, inbox
from headwater.pii.rules import validate

SALT = b"salt-of-the-workspace"


def _run(rules: list[Rule], payload: dict[str, Any]) -> Any:
    return apply(compile_rules(rules), payload, salt=SALT)


def _message() -> dict[str, Any]:
    return {
        "type": "identify",
        "messageId": "m1",
        "userId": "u1",
        "traits": {"email": "ana@example.com", "plan": "pro", "phone": "+14155550123"},
        "context": {"ip": "203.0.113.9", "traits": {"phone": "(415) 555-0123"}},
        "properties": {"items": [{"sku": "a", "card": "4111 1111 1111 1111"}, {"sku": "b"}]},
    }


def test_each_action() -> None:
    message = _message()
    outcome = _run(
        [
            Rule(id=1, path="traits.email", action="hash"),
            Rule(id=2, path="context.ip", action="redact"),
            Rule(id=3, key="^phone$", action="drop"),
            Rule(id=4, path="traits.plan", action="mask"),
        ],
        message,
    )
    expected = hmac.new(SALT, b"ana@example.com", hashlib.sha256).hexdigest()
    assert outcome.blocked is None
    assert outcome.payload["traits"] == {"email": expected, "plan": "pro"}
    assert outcome.payload["context"] == {"ip": REDACTED, "traits": {}}
    assert message == _message()  # the given document is left as it was
    assert {(a.path, a.action) for a in outcome.applied} == {
        ("traits.email", "hash"),
        ("context.ip", "redact"),
        ("traits.phone", "drop"),
        ("context.traits.phone", "drop"),
        ("traits.plan", "mask"),
    }


def test_block_names_the_rule_and_field() -> None:
    outcome = _run([Rule(id=7, path="properties.**", detector="card", action="block")], _message())
    assert outcome.blocked is not None
    assert "7" in outcome.blocked
    assert "properties.items[].card" in outcome.blocked


def test_nothing_to_do_leaves_the_payload_itself() -> None:
    message = _message()
    outcome = _run([Rule(id=1, path="properties.ssn", action="drop")], message)
    assert outcome.payload is message
    assert not outcome.changed


def test_allow_wins_over_a_detector_and_a_more_specific_rule_first() -> None:
    rules = [
        Rule(id=1, detector="email", action="redact"),
        Rule(id=2, path="traits.email", action="allow"),
        Rule(id=3, path="traits.*", action="drop"),
        Rule(id=4, key="plan", action="hash"),
    ]
    outcome = _run(rules, _message())
    traits = outcome.payload["traits"]
    assert traits["email"] == "ana@example.com"
    assert "plan" not in traits
    assert "phone" not in traits


def test_among_equals_the_strongest_action() -> None:
    rules = [
        Rule(id=1, detector="phone", action="hash"),
        Rule(id=2, value=r"\(415\)", action="redact"),
    ]
    outcome = _run(rules, _message())
    assert outcome.payload["context"]["traits"]["phone"] == REDACTED
    assert len(outcome.payload["traits"]["phone"]) == 64


def test_identifiers_only_by_their_exact_path() -> None:
    message = {**_message(), "userId": "ana@example.com"}
    detector = _run([Rule(id=1, detector="email", action="redact")], message)
    assert detector.payload["userId"] == "ana@example.com"
    hashed = _run([Rule(id=1, path="userId", action="hash")], message)
    assert hashed.payload["userId"] == hmac.new(SALT, b"ana@example.com", "sha256").hexdigest()


def test_arrays_and_wildcards() -> None:
    outcome = _run([Rule(id=1, path="properties.items[].card", action="drop")], _message())
    assert outcome.payload["properties"]["items"] == [{"sku": "a"}, {"sku": "b"}]


def test_scope() -> None:
    everywhere = Rule(id=1, path="traits.email", action="hash")
    one_source = Rule(id=2, path="traits.email", action="hash", sources=[5])
    one_destination = Rule(id=3, path="traits.email", action="hash", destinations=[9])
    assert everywhere.at_collection(1)
    assert everywhere.at_collection(5)
    assert one_source.at_collection(5)
    assert not one_source.at_collection(6)
    assert not one_destination.at_collection(5)
    assert one_destination.for_destination(5, 9)
    assert not one_destination.for_destination(5, 8)
    assert not Rule(id=4, path="traits.x", action="mask").at_collection(5)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (Rule(action="hash"), "path"),
        (Rule(key="([a-z", action="drop"), "key"),
        (Rule(value="*oops", action="drop"), "value"),
        (Rule(detector="dna", action="drop"), "detector"),
        (Rule(path="properties..x", action="drop"), "path"),
        (Rule(path="messageId", action="hash"), "path"),
        (Rule(path="userId", action="redact"), "action"),
        (Rule(path="userId.x", action="hash"), "path"),
        (Rule(detector="email", action="mask"), "action"),
        (Rule(path="traits.*", action="mask"), "path"),
        (Rule(path="traits.email", action="mask", sources=[1]), "action"),
        (Rule(path="traits.email", action="hash", destinations=[]), "destinations"),
    ],
)
def test_invalid_rules_name_the_field(rule: Rule, field: str) -> None:
    with pytest.raises(BadRequest) as raised:
        validate(rule)
    assert raised.value.code == "invalid_rule"
    assert raised.value.details["field"] == field


def test_mask_rules_widen_the_classification() -> None:
    classifier = RuleClassifier.of(
        [
            Rule(id=1, path="properties.plan_code", action="mask"),
            Rule(id=2, key="(?i)secret", action="mask"),
            Rule(id=3, path="properties.total", action="hash"),
        ]
    )
    assert classifier.personal("planCode")
    assert classifier.personal("mySecretThing")
    assert classifier.personal("email")  # the default stays
    assert not classifier.personal("total")
    assert "plancode" in classifier.listed()["anywhere"]


def _observed(path: str) -> ObservedPath:
    return ObservedPath(path=path, types={"string": 1}, count=1, last_seen=None, source_ids=[1])


def test_inbox_lists_unclassified_personal_looking_fields() -> None:
    observed = [
        _observed(p)
        for p in (
            "traits.email",
            "traits.plan",
            "properties.billing_phone",
            "traits.ssn",
            "traits.ip",
        )
    ]
    rules = [
        Rule(id=1, path="traits.ssn", action="drop"),
        Rule(id=2, key="phone", action="allow"),
        Rule(id=3, detector="ip", action="redact"),  # a detector classifies no field
    ]
    listed = inbox(observed, rules=rules, dismissed={"traits.email"})
    assert [item.path for item in listed] == ["traits.ip"]


def test_a_field_an_exact_path_decided_is_not_decided_again() -> None:
    rules = [
        Rule(id=1, path="traits.email", action="hash"),
        Rule(id=2, key="email", action="drop"),
        Rule(id=3, path="context", action="allow"),
    ]
    outcome = _run(rules, _message())
    assert len(outcome.payload["traits"]["email"]) == 64
    assert outcome.payload["context"] == _message()["context"]
    assert sorted(a.path for a in outcome.applied) == ["context", "traits.email"]


def test_nothing_inside_a_field_allowed_by_its_exact_path_is_decided() -> None:
    rules = [
        Rule(id=1, path="properties", action="allow"),
        Rule(id=2, path="properties.*", detector="email", action="redact"),
        Rule(id=3, path="context.items", action="allow"),
        Rule(id=4, path="context.items[].e", action="drop"),
        Rule(id=5, path="traits.*", detector="email", action="redact"),
    ]
    payload = {
        "type": "track",
        "properties": {"contact": "ana@example.com"},
        "context": {"items": [{"e": "bob@example.com"}]},
        "traits": {"contact": "cy@example.com"},
    }
    outcome = _run(rules, payload)
    assert outcome.payload["properties"] == payload["properties"]
    assert outcome.payload["context"] == payload["context"]
    assert outcome.payload["traits"] == {"contact": REDACTED}
    assert sorted(a.path for a in outcome.applied) == [
        "context.items",
        "properties",
        "traits.contact",
    ]
