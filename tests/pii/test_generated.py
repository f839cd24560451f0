"""Generated programs (:mod:`headwater.pii.generate`) against the interpreter
(``compile_rules(..., generate_after=None)``): random rule sets and messages, each message applied
often enough that every shape it has runs as a program, and the same outcome every time."""

from __future__ import annotations

import random
from typing import Any

import pytest

from headwater.errors import BadRequest
from headwater.pii import REDACTED, Rule, apply, compile_rules
from headwater.pii.detectors import DETECTORS
from headwater.pii.rules import _PROGRAMS, ACTIONS, Compiled, Outcome, validate

SALT = b"salt-of-the-workspace"

_ROOTS = ("properties", "traits", "context")
_KEYS = ("email", "phone", "card", "passport", "items", "a", "b", "ip", "traits", "note")
_VALUES: tuple[Any, ...] = (
    "ana@example.com",
    "+14155550123",
    "(415) 555-0123",
    "4111 1111 1111 1111",
    "GB82 WEST 1234 5698 7654 32",
    "203.0.113.9",
    "123-45-6789",
    "pro",
    "",
    REDACTED,
    "x" * 120 + " bo@example.com",  # longer than the remembered verdicts' strings
    42,
    48.8566,
    2.35222,
    0,
    True,
    None,
    ("not", "json"),  # a type JSON does not decode to: the general path
)


def _segment(rng: random.Random) -> str:
    name = rng.choice((*_KEYS, "*", "*", "**"))
    return name + ("[]" if name != "**" and rng.random() < 0.2 else "")


_COMMON = (
    "properties.email",
    "properties.*",
    "properties.**",
    "properties.items[].email",
    "properties.items[].*",
    "context.traits.email",
    "context.traits.*",
    "context.ip",
    "*.email",
)
"""Paths that often meet in one message (an exact path and wildcards over it)."""


def _path(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(_COMMON)
    if rng.random() < 0.1:
        return rng.choice(("userId", "anonymousId", "groupId", "previousId"))
    root = rng.choice((*_ROOTS, "*"))
    return ".".join([root, *(_segment(rng) for _ in range(rng.randint(0, 3)))])


def _rule(rng: random.Random, rule_id: int) -> Rule:
    """A random valid rule."""
    while True:
        conditions: dict[str, Any] = {}
        if rng.random() < 0.6:
            conditions["path"] = _path(rng)
        if rng.random() < 0.3:
            conditions["key"] = rng.choice(("(?i)pass", "^e", "mail|phone", "^(a|b)$", "x"))
        if rng.random() < 0.2:
            conditions["value"] = rng.choice(("@", "^\\+", "^[0-9 ]+$", "pro", "^$"))
        if rng.random() < 0.35:
            conditions["detector"] = rng.choice(list(DETECTORS))
        placed: dict[str, Any] = {}
        if rng.random() < 0.25:
            placed["sources"] = rng.sample([1, 2], rng.randint(1, 2))
        if rng.random() < 0.2:
            placed["destinations"] = [1]
        rule = Rule(
            id=rule_id,
            action=rng.choice(ACTIONS),
            enabled=rng.random() < 0.95,
            **conditions,
            **placed,
        )
        try:
            validate(rule)
        except BadRequest:
            continue
        return rule


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return _object(rng, depth + 1)
    if depth < 3 and roll < 0.3:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice(_VALUES)


def _object(rng: random.Random, depth: int) -> dict[str, Any]:
    keys = rng.sample(_KEYS, rng.randint(0, 5))
    return {key: _value(rng, depth) for key in keys}


def _message(rng: random.Random) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "track", "event": "Order Completed", "messageId": "m1"}
    for identifier in ("userId", "anonymousId", "groupId"):
        if rng.random() < 0.5:
            message[identifier] = rng.choice(("u1", "ana@example.com", None, 7))
    for root in _ROOTS:
        if rng.random() < 0.8:
            message[root] = _object(rng, 1) if rng.random() < 0.95 else rng.choice(_VALUES)
    return message


def _seen(outcome: Outcome) -> tuple[Any, ...]:
    applied = [(a.path, a.action, a.rule_id) for a in outcome.applied]
    return outcome.payload, outcome.blocked, applied, outcome.changed


def _ran_programs(compiled: Compiled) -> bool:
    return compiled.shapes.program is not None and any(
        level.programs for _, level in compiled.shapes.roots
    )


def _stages(rules: list[Rule]) -> list[list[Rule]]:
    """The rules as collection (per source), routing (per source and destination) and a
    rule test with every rule (``mask`` included) would apply them."""
    stages = [[r for r in rules if r.at_collection(source)] for source in (1, 2)]
    stages += [[r for r in rules if r.for_destination(source, 1)] for source in (1, 2)]
    return [*stages, [r for r in rules if r.enabled]]


@pytest.mark.parametrize("seed", range(8))
def test_generated_programs_decide_as_the_interpreter(seed: int) -> None:
    rng = random.Random(seed)
    generated_any = False
    for _ in range(30):
        rules = [_rule(rng, rule_id) for rule_id in range(1, rng.randint(1, 8))]
        messages = [_message(rng) for _ in range(12)]
        messages += [_message(rng) | {"properties": messages[0].get("properties")}]
        for chosen in _stages(rules):
            if not chosen:
                continue
            reference = compile_rules(chosen, generate_after=None)
            generated = compile_rules(chosen, generate_after=1)
            for message in messages * 3:  # each shape seen again: its program runs
                expected = _seen(apply(reference, message, salt=SALT))
                assert _seen(apply(generated, message, salt=SALT)) == expected, chosen
            generated_any = generated_any or _ran_programs(generated)
            assert reference.shapes.program is None
            assert not any(level.programs for _, level in reference.shapes.roots)
    assert generated_any


def test_a_program_for_keys_decides_values_of_every_type() -> None:
    """A program is made per keys in order, whatever their values' types: each type takes
    the work the interpreter would give it."""
    rules = [
        Rule(id=1, path="properties.*", detector="email", action="hash"),
        Rule(id=2, path="properties.items[].*", detector="phone", action="redact"),
        Rule(id=3, key="(?i)passport", action="drop"),
        Rule(id=4, path="properties.email", value="@", action="block"),
    ]
    reference, generated = (
        compile_rules(rules, generate_after=None),
        compile_rules(rules, generate_after=1),
    )
    for value in (*_VALUES, {"passport": "P1", "a": 1}, [{"a": "+14155550123"}, 3]):
        for _ in range(3):
            message = {"properties": {"items": value, "email": value, "note": value}}
            expected = _seen(apply(reference, message, salt=SALT))
            assert _seen(apply(generated, message, salt=SALT)) == expected
    assert _ran_programs(generated)


def test_a_deep_exact_path_is_looked_up_past_the_nesting_of_programs() -> None:
    path = "properties." + ".".join(f"k{n}" for n in range(12))
    rules = [Rule(id=1, path=path, action="redact"), Rule(id=2, key="^k11$", action="drop")]
    reference, generated = (
        compile_rules(rules, generate_after=None),
        compile_rules(rules, generate_after=1),
    )
    document: dict[str, Any] = {"k11": "personal"}
    for n in reversed(range(11)):
        document = {f"k{n}": document}
    message = {"properties": document}
    for _ in range(3):
        outcome = apply(generated, message)
        assert _seen(outcome) == _seen(apply(reference, message))
    inner = outcome.payload["properties"]
    for n in range(11):
        inner = inner[f"k{n}"]
    assert inner == {"k11": REDACTED}


def test_programs_are_bounded_and_past_the_bound_objects_are_interpreted() -> None:
    compiled = compile_rules(
        [Rule(id=1, path="properties.*", detector="email", action="redact")], generate_after=1
    )
    for n in range(_PROGRAMS + 50):  # keys seen twice each: each is due a program
        for _ in range(2):
            outcome = apply(compiled, {"properties": {f"k{n}": "ana@example.com", "n": n}})
            assert outcome.payload == {"properties": {f"k{n}": REDACTED, "n": n}}
    level = compiled.shapes.roots[0][1]
    assert len(level.programs) + (compiled.shapes.program is not None) == _PROGRAMS
