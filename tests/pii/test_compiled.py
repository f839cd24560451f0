"""What compiled rules remember between messages (the shapes of objects, the sites of fields,
the detectors' verdicts on repeated values): the same outcome whether remembered or not, and
never more than the bounds."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from headwater.pii import REDACTED, Rule, Snapshot, apply, compile_rules
from headwater.pii.rules import _CACHED_SITES, _VERDICT_CHARS, _VERDICTS, Outcome, digest

SALT = b"salt-of-the-workspace"

RULES = [
    Rule(id=1, path="properties.email", action="hash"),
    Rule(id=2, path="context.ip", action="redact"),
    Rule(id=3, path="properties.*", detector="card", action="block"),
    Rule(id=4, path="properties.*", detector="iban", action="redact"),
    Rule(id=5, path="context.traits.*", detector="phone", action="redact"),
    Rule(id=6, key="(?i)passport", action="drop"),
    Rule(id=7, path="properties.coupon", action="allow"),
    Rule(id=8, path="properties.items[].*", detector="email", action="hash"),
]


def _order(iban: str = "GB82 WEST 1234 5698 7654 32", **more: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "u1",
        "properties": {
            "email": "ana@example.com",
            "account": iban,
            "total": 42.5,
            "coupon": "4111 1111 1111 1111",  # allowed: never blocked
            "items": [{"sku": "a", "by": "bo@example.com"}, {"sku": "b", "passport": "X1"}],
            **more,
        },
        "context": {"ip": "203.0.113.9", "traits": {"phone": "(415) 555-0123", "plan": "pro"}},
    }


def _seen(outcome: Outcome) -> tuple[Any, ...]:
    applied = [(a.path, a.action, a.rule_id) for a in outcome.applied]
    return outcome.payload, outcome.blocked, applied, outcome.changed


def test_the_same_outcome_with_nothing_remembered_and_everything_remembered() -> None:
    warm = compile_rules(RULES)
    messages = [
        _order(),
        _order(iban="not an iban"),
        _order(card="4111 1111 1111 1111"),
        _order(extra={"passport": "P1", "phone": "+14155550123"}),
        _order(),
    ]
    for message in messages * 3:
        cold = apply(compile_rules(RULES), message, salt=SALT)
        assert _seen(apply(warm, message, salt=SALT)) == _seen(cold)

    first = apply(warm, messages[0], salt=SALT)
    hashed = hmac.new(SALT, b"bo@example.com", hashlib.sha256).hexdigest()
    assert first.payload["properties"]["account"] == REDACTED
    assert first.payload["properties"]["items"] == [{"sku": "a", "by": hashed}, {"sku": "b"}]
    assert first.payload["context"]["traits"] == {"phone": REDACTED, "plan": "pro"}
    blocked = apply(warm, messages[2], salt=SALT).blocked
    assert blocked is not None
    assert "properties.card" in blocked


def test_a_remembered_verdict_is_the_verdict_of_its_value() -> None:
    compiled = compile_rules(RULES)
    good, bad = "GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 33"
    for _ in range(3):  # each value's answer stays its own once remembered
        assert apply(compiled, _order(iban=good), salt=SALT).payload["properties"]["account"] == (
            REDACTED
        )
        assert apply(compiled, _order(iban=bad), salt=SALT).payload["properties"]["account"] == bad


def test_long_strings_are_checked_each_time() -> None:
    compiled = compile_rules([Rule(id=1, path="properties.*", detector="email", action="redact")])
    text = "x" * _VERDICT_CHARS + " ana@example.com"
    for _ in range(2):
        outcome = apply(compiled, {"properties": {"note": text}})
        assert outcome.payload["properties"]["note"] == REDACTED
    site = compiled.shapes.roots[0][1].sites["note"]
    assert site is not None
    assert site.verdict is not None
    assert site.verdict.cache_info().currsize == 0  # type: ignore[attr-defined]


def test_verdicts_are_bounded() -> None:
    compiled = compile_rules([Rule(id=1, path="properties.*", detector="phone", action="redact")])
    for number in range(_VERDICTS * 3):
        value = f"+1415555{number:04d}"
        assert apply(compiled, {"properties": {"phone": value}}).payload == {
            "properties": {"phone": REDACTED}
        }
        assert apply(compiled, {"properties": {"phone": f"order {number}"}}).changed is False
    site = compiled.shapes.roots[0][1].sites["phone"]
    assert site is not None
    assert site.verdict is not None
    assert site.verdict.cache_info().currsize == _VERDICTS  # type: ignore[attr-defined]


def test_shapes_are_forgotten_past_the_bound_and_still_apply() -> None:
    compiled = compile_rules([Rule(id=1, key="(?i)passport", action="drop")])
    keys_per_message = 1_000
    for batch in range(_CACHED_SITES // keys_per_message + 5):  # ids as keys: nothing repeats
        properties = {f"k{batch}-{n}": n for n in range(keys_per_message)}
        outcome = apply(compiled, {"properties": {**properties, "passport": "P1"}})
        assert outcome.payload["properties"] == properties
        assert compiled.shapes.size <= _CACHED_SITES
    assert len(compiled.shapes.roots[0][1].sites) < _CACHED_SITES


def test_an_exact_rule_with_a_condition_leaves_what_it_does_not_decide_to_the_others() -> None:
    compiled = compile_rules(
        [
            Rule(id=1, path="properties.email", detector="email", action="hash"),
            Rule(id=2, path="properties.*", action="redact"),
            Rule(id=3, path="properties.plan", action="allow"),
        ]
    )
    hashed = hmac.new(SALT, b"ana@example.com", hashlib.sha256).hexdigest()
    for _ in range(2):  # the same answers once the shapes are remembered
        email = apply(
            compiled, {"properties": {"email": "ana@example.com", "plan": "pro"}}, salt=SALT
        )
        assert email.payload["properties"] == {"email": hashed, "plan": "pro"}
        other = apply(compiled, {"properties": {"email": "none", "plan": "pro"}}, salt=SALT)
        assert other.payload["properties"] == {"email": REDACTED, "plan": "pro"}
        assert [(a.path, a.rule_id) for a in other.applied] == [
            ("properties.plan", 3),
            ("properties.email", 2),
        ]


def test_digest_is_hmac_sha256_for_every_salt_length() -> None:
    for salt in (b"", b"s", SALT, b"k" * 64, b"k" * 65, b"k" * 200):
        for value, data in (("ana@example.com", b"ana@example.com"), (12, b"12")):
            assert digest(value, salt) == hmac.new(salt, data, hashlib.sha256).hexdigest()


def test_a_reloaded_snapshot_keeps_the_compiled_rules_of_unchanged_workspaces() -> None:
    routing = Rule(id=10, path="properties.note", action="drop", destinations=[9])
    before = Snapshot(
        {1: [*RULES[:2], routing], 2: RULES[2:4], 3: RULES[4:]}, {1: SALT, 2: SALT, 3: SALT}
    )
    kept = before.collection(1, 7)
    changed = before.collection(2, 7)
    resalted = before.collection(3, 7)
    routed = before.destination(1, 7, 9)
    after = Snapshot(
        {
            1: [*RULES[:2], routing],
            2: [*RULES[2:4], Rule(id=9, key="x", action="drop")],
            3: RULES[4:],
        },
        {1: SALT, 2: SALT, 3: b"another salt"},
    )
    after.keep(before)
    assert after.collection(1, 7) is kept
    assert routed is not None
    assert after.destination(1, 7, 9) is routed
    assert after.collection(2, 7) is not changed
    assert after.collection(3, 7) is not resalted
    assert after.collection(1, 8) is not None  # not compiled before: compiled now
