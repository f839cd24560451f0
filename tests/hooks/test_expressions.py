"""The transformation language: what it computes, and that it stays within its limits."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.hooks.expressions import Budget, ExpressionError, evaluate


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-x + 1", -1),
        ("10 % 4", 2),
        ('"a" + "b"', "ab"),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("x > 1 and x < 3", True),
        ("not x == 2", False),
        ("x == 2 ? 'two' : 'other'", "two"),
        ("body.items[1].sku", "B"),
        ("body.items[-1].sku", "B"),
        ("body.items[5].sku", None),
        ("body.missing.deeper", None),
        ("[i.sku for i in body.items if i.qty > 1]", ["A"]),
        ("sum([i.qty * i.price for i in body.items])", 2 * 5 + 1 * 3),
        ("{sku: body.items[0].sku, 'n': len(body.items)}", {"sku": "A", "n": 2}),
        ("join([upper(s) for s in split('a,b', ',')], '-')", "A-B"),
        ("coalesce(body.none, body.items[0].sku)", "A"),
        ("get(body, 'items.0.qty')", 2),
        ("from_unix(0)", "1970-01-01T00:00:00Z"),
        ("'sku' in keys(body.items[0])", True),
        ("merge({a: 1}, {b: 2})", {"a": 1, "b": 2}),
        ("'é\\u00e9'", "éé"),
    ],
)
def test_expressions_compute(source: str, expected: Any) -> None:
    body = {"items": [{"sku": "A", "qty": 2, "price": 5}, {"sku": "B", "qty": 1, "price": 3}]}
    assert evaluate(source, {"body": body, "x": 2}) == expected


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("1 +", "unexpected the end"),
        ("open('x')", "unknown function open()"),
        ("__import__('os')", "unknown function"),
        ("nobody", "unknown name nobody"),
        ("1 / 0", "division by zero"),
        ("'a' < 1", "compares two numbers or two strings"),
        ("'a' - 'b'", "needs two numbers"),
        ("len(1, 2)", "takes 1-1 arguments"),
        ("[x for x in 3]", "needs a list or an object"),
        ("1 @ 2", "unexpected character"),
    ],
)
def test_bad_expressions_say_what_is_wrong(source: str, words: str) -> None:
    with pytest.raises(ExpressionError, match=words):
        evaluate(source, {})


def test_python_attributes_are_not_reachable() -> None:
    """Member access reads JSON keys only: a dunder name is a missing key, never an attribute."""
    assert evaluate("x.__class__", {"x": "text"}) is None
    assert evaluate("x.__class__.__mro__", {"x": {}}) is None
    assert evaluate("x['__len__']", {"x": [1]}) is None


def test_the_step_budget_stops_a_long_evaluation() -> None:
    """Nested comprehensions over a 200-element list would visit 40,000 elements."""
    items = list(range(200))
    source = "[[a * b for b in xs] for a in xs]"
    with pytest.raises(ExpressionError, match="too many steps"):
        evaluate(source, {"xs": items}, budget=Budget(steps=20_000))
    assert len(evaluate(source, {"xs": items[:10]})) == 10


def test_sizes_are_limited() -> None:
    with pytest.raises(ExpressionError, match="string grew over"):
        evaluate("s + s", {"s": "x" * 60_000})
    with pytest.raises(ExpressionError, match="grew over 10000 items"):
        evaluate("xs + xs", {"xs": list(range(6_000))})
    with pytest.raises(ExpressionError, match="longer than"):
        evaluate("1" + " + 1" * 3_000, {})
    with pytest.raises(ExpressionError, match="nested more than"):
        evaluate("(" * 60 + "1" + ")" * 60, {})
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("x * x * x * x", {"x": 10**9})


def test_functions_refuse_to_build_huge_strings() -> None:
    """Checked before the string is made: a replace or join of large inputs never allocates
    gigabytes first."""
    with pytest.raises(ExpressionError, match="string grew over"):
        evaluate("replace(s, 'a', s)", {"s": "a" * 90_000})
    with pytest.raises(ExpressionError, match="string grew over"):
        evaluate("join(xs, s)", {"xs": list(range(5_000)), "s": "x" * 50})
