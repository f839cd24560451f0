"""Parsing and validation of audience and computed-trait definitions, and computed traits in
memory (no fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from headwater.audiences.conditions import DefinitionError, parse_audience
from headwater.audiences.evaluate import EventData, compute
from headwater.audiences.traits import parse_trait

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("condition", "path", "message"),
    [
        ({"type": "trait", "trait": "n", "operator": "less_than", "value": "9"}, "", "numbers"),
        ({"type": "trait", "trait": "n", "operator": "contains", "value": 3}, "", "text"),
        ({"type": "trait", "trait": "n", "operator": "exists", "value": 3}, "", "no value"),
        ({"type": "trait", "trait": "n", "operator": "equals_any", "value": []}, "", "non-empty"),
        ({"type": "trait", "trait": "n", "operator": "equals", "value": [1]}, "", "one value"),
        ({"type": "trait", "trait": "n", "operator": "before", "value": "soon"}, "", "ISO-8601"),
        ({"type": "trait", "trait": "n", "operator": "within_last_days", "value": 0}, "", "days"),
        ({"type": "trait", "trait": "n", "operator": "like", "value": "x"}, "operator", "Input"),
        ({"type": "event"}, "", "names its event"),
        ({"type": "event", "event": "X", "event_type": "identify"}, "", "no name"),
        ({"type": "event", "event": "X", "window": {}}, "window", "not both"),
        ({"type": "event", "event": "X", "window": {"between_days": [9, 3]}}, "window", "N < M"),
        (
            {
                "type": "event",
                "event": "X",
                "performed": False,
                "count": {"operator": "equals", "value": 1},
            },
            "",
            "not both",
        ),
        ({"type": "event", "event": "X", "colour": "red"}, "colour", "Extra"),
        ({"type": "and", "conditions": []}, "conditions", "at least 1"),
        ({"type": "audience", "audience": "Bad Key"}, "audience", "pattern"),
        (
            {"type": "funnel", "first": {"event": "A"}, "then": {"event": "B"}, "within_hours": 0},
            "within_hours",
            "greater than 0",
        ),
        ({"type": "nope"}, "condition", "does not match"),
    ],
)
def test_invalid_conditions_name_the_problem(
    condition: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_audience({"version": 1, "condition": condition})
    problem = caught.value.problems[0]
    assert problem["path"].startswith("condition")
    assert problem["path"].endswith(path)
    assert message in problem["message"]


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ({"type": "consent", "category": ""}, "category"),
        ({"type": "consent"}, "category"),
        ({"type": "consent", "category": "Ads", "granted": "yes"}, "granted"),
    ],
)
def test_a_consent_condition_names_a_category(condition: dict[str, Any], path: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_audience({"version": 1, "condition": condition})
    assert caught.value.problems[0]["path"].endswith(path)
    parsed = parse_audience({"version": 1, "condition": {"type": "consent", "category": "Ads"}})
    assert parsed.condition.model_dump() == {"type": "consent", "category": "Ads", "granted": True}


def test_versions_and_nesting() -> None:
    with pytest.raises(DefinitionError, match="unsupported version 2"):
        parse_audience({"version": 2, "condition": {}})
    with pytest.raises(DefinitionError, match="JSON object"):
        parse_audience([])
    users = {
        "type": "users",
        "match": "any",
        "condition": {"type": "trait", "trait": "x", "operator": "exists"},
    }
    with pytest.raises(DefinitionError, match="cannot be nested"):
        parse_audience({"version": 1, "condition": {**users, "condition": users}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"version": 1, "kind": "sum", "event": "Buy"}, "needs the property"),
        ({"version": 1, "kind": "counter", "event": "Buy", "property": "x"}, "counts events"),
        ({"version": 1, "kind": "median", "event": "Buy", "property": "x"}, "Input should be"),
        ({"version": 3, "kind": "counter", "event": "Buy"}, "unsupported version 3"),
    ],
)
def test_invalid_traits(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_trait(raw)


def buy(mid: str, days_ago: float, **properties: Any) -> EventData:
    return EventData(mid, "track", "Buy", NOW - timedelta(days=days_ago), properties)


EVENTS = [
    buy("a", 1, total=10, category="shoes"),
    buy("b", 2, total=Decimal("2.5"), category="hats"),
    buy("c", 3, total="12", category="hats"),  # text: not a number
    buy("d", 40, total=100, category="shoes"),
    buy("e", 5, category="bags"),  # no total
    EventData("f", "track", "Refund", NOW, {"total": 1000, "category": "bags"}),
]


@pytest.mark.parametrize(
    ("kind", "window", "expected"),
    [
        ("counter", None, 5),
        ("counter", {"within_days": 30}, 4),
        ("sum", None, Decimal("112.5")),
        ("sum", {"within_days": 30}, Decimal("12.5")),
        ("average", {"within_days": 30}, Decimal("6.25")),
        ("min", None, Decimal("2.5")),
        ("max", None, 100),
        ("most_frequent", None, "hats"),  # hats 2, shoes 2: the tie goes to hats
        ("most_frequent", {"within_days": 30}, "hats"),
        ("most_frequent", {"within_days": 2}, None),  # nothing seen twice
        ("first", None, 100),  # by time: the 40-day-old purchase
        ("last", None, 10),
        ("unique_list", None, ["bags", "hats", "shoes"]),
        ("unique_count", {"within_days": 4}, 2),
    ],
)
def test_computed_traits(kind: str, window: dict[str, Any] | None, expected: Any) -> None:
    prop = (
        None
        if kind == "counter"
        else ("total" if kind in {"sum", "average", "min", "max", "first", "last"} else "category")
    )
    raw: dict[str, Any] = {"version": 1, "kind": kind, "event": "Buy", "property": prop}
    if window:
        raw["window"] = window
    assert compute(parse_trait(raw), EVENTS, NOW) == expected


def test_traits_with_filters_and_nothing_to_compute() -> None:
    filtered = parse_trait(
        {
            "version": 1,
            "kind": "counter",
            "event": "Buy",
            "where": [{"property": "category", "operator": "equals", "value": "shoes"}],
        }
    )
    assert compute(filtered, EVENTS, NOW) == 2
    assert (
        compute(
            parse_trait({"version": 1, "kind": "sum", "event": "Buy", "property": "nope"}),
            EVENTS,
            NOW,
        )
        is None
    )
    avg = parse_trait({"version": 1, "kind": "average", "event": "Buy", "property": "total"})
    thirds = [buy(str(i), 0, total=v) for i, v in enumerate((1, 1, 2))]
    assert compute(avg, thirds, NOW) == Decimal("1.333333")
    halves = [buy(str(i), 0, total=v) for i, v in enumerate((Decimal("0.0000005"), 0))]
    assert compute(avg, halves, NOW) == Decimal("0.000000")  # 2.5e-7 rounds half away: 0
    ties = [buy(str(i), 0, total=v) for i, v in enumerate((Decimal("0.000001"), 0))]
    assert compute(avg, ties, NOW) == Decimal("0.000001")  # 5e-7 rounds away from zero
