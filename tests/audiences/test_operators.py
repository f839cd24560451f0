"""Every operator and window edge of the condition language, in memory (no fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from headwater.audiences.conditions import Comparison, Window, parse_audience
from headwater.audiences.evaluate import EventData, Subject, compare, evaluate
from headwater.audiences.values import decode, parse_moment, same

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MISSING = None


def check(operator: str, value: Any, actual: Any) -> bool:
    return compare(Comparison(operator=operator, value=value), actual, NOW)


@pytest.mark.parametrize(
    ("operator", "value", "actual", "expected"),
    [
        ("equals", "pro", "pro", True),
        ("equals", "pro", "Pro", False),  # case matters
        ("equals", 5, Decimal("5.0"), True),  # numbers by value
        ("equals", 5, "5", False),  # no coercion between text and numbers
        ("equals", 1, True, False),  # booleans are not numbers
        ("equals", True, True, True),
        ("equals", "pro", MISSING, False),
        ("not_equals", "pro", "free", True),
        ("not_equals", "pro", "pro", False),
        ("not_equals", "pro", MISSING, True),  # the exact negation of equals
        ("less_than", 10, 9, True),
        ("less_than", 10, 10, False),
        ("at_most", 10, 10, True),
        ("greater_than", Decimal("0.1"), Decimal("0.10000001"), True),
        ("greater_than", 10, 10, False),
        ("at_least", 10, 10, True),
        ("at_least", 10, "11", False),  # text is never a number
        ("at_least", 10, True, False),
        ("less_than", 10, MISSING, False),
        ("equals_any", ["a", 2], 2, True),
        ("equals_any", ["a", 2], "b", False),
        ("equals_any", ["a", 2], MISSING, False),
        ("equals_none", ["a", 2], "b", True),
        ("equals_none", ["a", 2], "a", False),
        ("equals_none", ["a", 2], MISSING, True),
        ("contains", "oo", "food", True),
        ("contains", "OO", "food", False),
        ("contains", "shoes", ["hats", "shoes"], True),  # lists: an element equals the value
        ("contains", "sho", ["shoes"], False),
        ("contains", "1", 1, False),
        ("contains", "", "", True),
        ("not_contains", "oo", "bar", True),
        ("not_contains", "oo", MISSING, True),
        ("starts_with", "ab", "abc", True),
        ("starts_with", "bc", "abc", False),
        ("starts_with", "1", 12, False),
        ("ends_with", "bc", "abc", True),
        ("ends_with", "ab", "abc", False),
        ("exists", None, "", True),
        ("exists", None, 0, True),
        ("exists", None, False, True),
        ("exists", None, MISSING, False),
        ("not_exists", None, MISSING, True),
        ("not_exists", None, "x", False),
    ],
)
def test_operator(operator: str, value: Any, actual: Any, expected: bool) -> None:
    assert check(operator, value, actual) is expected


@pytest.mark.parametrize(
    ("operator", "value", "actual", "expected"),
    [
        ("before", "2026-03-01", "2026-02-28T23:59:59Z", True),
        ("before", "2026-03-01", "2026-03-01T00:00:00Z", False),  # not strictly before
        ("after", "2026-03-01", "2026-03-01T00:00:00.000001Z", True),
        ("after", "2026-03-01", "2026-03-01", False),
        # offsets: 01:00+02:00 is 23:00 UTC the day before
        ("before", "2026-03-01", "2026-03-01T01:00:00+02:00", True),
        ("after", "2026-03-01T00:00:00Z", "2026-02-28T20:00:00-05:00", True),
        ("before", "2026-03-01T10:00+0530", "2026-03-01T04:29:59Z", True),
        ("before", "2026-03-01", "not a date", False),
        ("before", "2026-03-01", "2026-02-30", False),  # no such day
        ("before", "2026-03-01", "02/01/2026", False),
        ("before", "2026-03-01", 20260101, False),
        ("after", "2026-03-01", MISSING, False),
        ("within_last_days", 7, (NOW - timedelta(days=7)).isoformat(), True),  # edge: included
        ("within_last_days", 7, (NOW - timedelta(days=7, microseconds=1)).isoformat(), False),
        ("within_last_days", 7, NOW.isoformat(), True),
        ("within_last_days", 7, (NOW + timedelta(seconds=1)).isoformat(), False),
        ("within_next_days", 7, (NOW + timedelta(days=7)).isoformat(), True),
        ("within_next_days", 7, (NOW + timedelta(days=7, seconds=1)).isoformat(), False),
        ("within_next_days", 7, (NOW - timedelta(seconds=1)).isoformat(), False),
        # 2026-03-08T12:00 in UTC+14 is 2026-03-07T22:00Z: inside the next 7 days
        ("within_next_days", 7, "2026-03-08T12:00:00+14:00", True),
    ],
)
def test_date_operator(operator: str, value: Any, actual: Any, expected: bool) -> None:
    assert check(operator, value, actual) is expected


def test_moments_without_offset_are_utc_and_odd_strings_are_not_dates() -> None:
    assert parse_moment("2026-03-01T10:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_moment("2026-03-01T10:00-03") == datetime(2026, 3, 1, 13, tzinfo=UTC)
    assert parse_moment("2026-03-01 10:00:00.5Z") == datetime(2026, 3, 1, 10, 0, 0, 500000, UTC)
    for odd in ("2026-03-01\n", "2026-03-01T24:00", "2026-03-01T10:00:60", "yesterday", ""):
        assert parse_moment(odd) is None, odd
    assert parse_moment("2026-03-01T10:00:00.1234567Z") is None  # beyond microseconds


def test_values_decode_exactly() -> None:
    assert decode('{"a": 0.1}') == {"a": Decimal("0.1")}
    assert same(Decimal("1.50"), Decimal("1.5"))
    assert not same([1], [1, 1])
    assert same({"a": [1, "x"]}, {"a": [Decimal("1.0"), "x"]})


def event(name: str, at: datetime, mid: str = "m", **properties: Any) -> EventData:
    return EventData(mid, "track", name, at, properties)


def audience(condition: dict[str, Any]) -> Any:
    return parse_audience(decode(_json({"version": 1, "condition": condition}))).condition


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


@pytest.mark.parametrize(
    ("window", "age", "inside"),
    [
        ({"within_days": 7}, timedelta(days=7), True),
        ({"within_days": 7}, timedelta(days=7, microseconds=1), False),
        ({"within_days": 7}, timedelta(0), True),
        ({"within_days": 7}, -timedelta(microseconds=1), False),  # the future is outside
        ({"between_days": [7, 30]}, timedelta(days=7), True),
        ({"between_days": [7, 30]}, timedelta(days=30), True),
        ({"between_days": [7, 30]}, timedelta(days=7) - timedelta(microseconds=1), False),
        ({"between_days": [7, 30]}, timedelta(days=30, microseconds=1), False),
    ],
)
def test_event_window_edges(window: dict[str, Any], age: timedelta, inside: bool) -> None:
    condition = audience({"type": "event", "event": "Login", "window": window})
    subject = Subject(traits={}, events=[event("Login", NOW - age)])
    assert evaluate(condition, subject, NOW) is inside


def test_window_bounds_are_exact_durations_across_time_zones() -> None:
    now = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2)))  # a DST week-end
    start, end = Window(within_days=1).bounds(now)
    assert end - start == timedelta(hours=24)


@pytest.mark.parametrize(
    ("count", "n", "expected"),
    [
        ({"operator": "at_least", "value": 3}, 3, True),
        ({"operator": "at_least", "value": 3}, 2, False),
        ({"operator": "at_most", "value": 3}, 0, True),
        ({"operator": "equals", "value": 0}, 0, True),
        ({"operator": "not_equals", "value": 2}, 2, False),
        ({"operator": "greater_than", "value": 2}, 3, True),
        ({"operator": "less_than", "value": 2}, 2, False),
    ],
)
def test_event_counts(count: dict[str, Any], n: int, expected: bool) -> None:
    condition = audience({"type": "event", "event": "Buy", "count": count})
    events = [event("Buy", NOW, f"m{i}") for i in range(n)] + [event("Other", NOW)]
    assert evaluate(condition, Subject(traits={}, events=events), NOW) is expected


def test_performed_not_and_property_filters_with_missing_properties() -> None:
    bought = audience(
        {
            "type": "event",
            "event": "Buy",
            "where": [{"property": "cart.total", "operator": "greater_than", "value": 50}],
        }
    )
    never = audience({"type": "event", "event": "Buy", "performed": False})
    rich = Subject(traits={}, events=[event("Buy", NOW, cart={"total": 80})])
    poor = Subject(traits={}, events=[event("Buy", NOW, cart={"total": 20})])
    missing = Subject(traits={}, events=[event("Buy", NOW, cart="n/a")])
    assert evaluate(bought, rich, NOW)
    assert not evaluate(bought, poor, NOW)
    assert not evaluate(bought, missing, NOW)
    assert not evaluate(never, rich, NOW)
    assert evaluate(never, Subject({}, []), NOW)


def test_funnel_then_within_hours_and_abandonment() -> None:
    then = {
        "type": "funnel",
        "first": {"event": "Cart Viewed"},
        "then": {"event": "Order Completed"},
        "within_hours": 2,
    }
    start = NOW - timedelta(days=1)
    viewed = event("Cart Viewed", start, "a")
    on_time = event("Order Completed", start + timedelta(hours=2), "b")
    late = event("Order Completed", start + timedelta(hours=2, seconds=1), "c")
    before = event("Order Completed", start - timedelta(seconds=1), "d")
    assert evaluate(audience(then), Subject({}, [viewed, on_time]), NOW)
    assert not evaluate(audience(then), Subject({}, [viewed, late, before]), NOW)
    abandoned = audience({**then, "followed": False})
    assert evaluate(abandoned, Subject({}, [viewed, late]), NOW)
    assert not evaluate(abandoned, Subject({}, [viewed, on_time]), NOW)
    fresh = event("Cart Viewed", NOW - timedelta(hours=1), "e")
    assert not evaluate(abandoned, Subject({}, [fresh]), NOW)  # the 2 hours have not passed


def test_nested_and_or_audiences_and_account_users() -> None:
    condition = audience(
        {
            "type": "or",
            "conditions": [
                {
                    "type": "and",
                    "conditions": [
                        {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
                        {"type": "audience", "audience": "churned", "member": False},
                    ],
                },
                {"type": "trait", "trait": "vip", "operator": "equals", "value": True},
            ],
        }
    )
    assert evaluate(condition, Subject({"plan": "pro"}, []), NOW)
    assert not evaluate(condition, Subject({"plan": "pro"}, [], frozenset({"churned"})), NOW)
    assert evaluate(condition, Subject({"vip": True}, [], frozenset({"churned"})), NOW)
    pro = Subject({"plan": "pro"}, [])
    free = Subject({"plan": "free"}, [])
    users_pro = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
    any_pro = audience({"type": "users", "match": "any", "condition": users_pro})
    all_pro = audience({"type": "users", "match": "all", "condition": users_pro})
    account = Subject({}, [], users=[pro, free])
    assert evaluate(any_pro, account, NOW)
    assert not evaluate(all_pro, account, NOW)
    assert evaluate(all_pro, Subject({}, [], users=[pro]), NOW)
    assert not evaluate(all_pro, Subject({}, [], users=[]), NOW)  # no users: not "all"
