"""The in-memory evaluator: conditions and computed traits over one profile's data.

The real-time stage loads the profiles a batch touched as :class:`Subject` values and calls
:func:`evaluate` and :func:`compute`; ``sql.py`` compiles the same rules for the batch
recompute. Every rule here has its SQL twin, and the property test
``tests/audiences/test_agreement.py`` checks that both give the same answers.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 3, 1, tzinfo=UTC)
>>> buy = EventData("m1", "track", "Order Completed", now, {"total": 80})
>>> subject = Subject(traits={"plan": "pro"}, events=[buy])
>>> condition = parse_audience({"version": 1, "condition": {
...     "type": "event", "event": "Order Completed", "window": {"within_days": 7}}}).condition
>>> evaluate(condition, subject, now)
True

Rules that hold throughout: a missing value and JSON ``null`` are the same; every operator is
false on a missing value except ``not_exists`` and the negative ones (``not_equals``,
``equals_none``, ``not_contains``), which are exactly the negation of their positive twin;
numbers compare only with numbers and text only with text (no coercion); windows are exact
durations (N days = N x 24 hours) ending at ``now``, both ends included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from headwater.audiences.conditions import (
    AudienceRef,
    Combination,
    Comparison,
    Condition,
    ConsentCondition,
    EventCondition,
    EventSpec,
    FunnelCondition,
    TraitCondition,
    UsersCondition,
    Window,
)
from headwater.audiences.traits import TraitDefinition
from headwater.audiences.values import is_number, lookup, parse_moment, same, split_path

__all__ = ["AVERAGE_PLACES", "EventData", "Subject", "compare", "compute", "evaluate", "matches"]

AVERAGE_PLACES = Decimal("0.000001")
"""Averages are rounded half away from zero to 6 decimal places (as SQL's ``round``)."""


@dataclass(frozen=True, slots=True)
class EventData:
    """One event of a profile, as conditions see it."""

    message_id: str
    type: str
    name: str | None
    timestamp: datetime
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Subject:
    """A profile: traits (computed-trait values by their keys included), events, the keys of
    the audiences it belongs to, its consent (category -> consented), and, for an account,
    its users."""

    traits: Mapping[str, Any]
    events: Sequence[EventData]
    audiences: frozenset[str] = frozenset()
    users: Sequence[Subject] = field(default_factory=tuple)
    consent: Mapping[str, bool] = field(default_factory=dict)


def compare(comparison: Comparison, value: Any, now: datetime) -> bool:
    """Whether ``value`` (``None`` when missing) satisfies the operator."""
    op, expected = comparison.operator, comparison.value
    negated = {
        "not_equals": "equals",
        "equals_none": "equals_any",
        "not_contains": "contains",
        "not_exists": "exists",
    }
    if op in negated:
        positive = comparison.model_copy(update={"operator": negated[op]})
        return not compare(positive, value, now)
    if value is None:
        return False
    if op == "exists":
        return True
    if op == "equals":
        return same(value, expected)
    if op == "equals_any":
        assert isinstance(expected, list)
        return any(same(value, item) for item in expected)
    if op in ("less_than", "greater_than", "at_most", "at_least"):
        return is_number(value) and _ordered(op, value, expected)
    if op == "contains":
        if isinstance(value, str):
            return isinstance(expected, str) and expected in value
        return isinstance(value, list) and any(same(item, expected) for item in value)
    if op in ("starts_with", "ends_with"):
        assert isinstance(expected, str)
        if not isinstance(value, str):
            return False
        return value.startswith(expected) if op == "starts_with" else value.endswith(expected)
    moment = parse_moment(value)
    if moment is None:
        return False
    if op == "before":
        return moment < comparison.moment()
    if op == "after":
        return moment > comparison.moment()
    assert isinstance(expected, int)
    days = timedelta(days=expected)
    if op == "within_last_days":
        return now - days <= moment <= now
    return now <= moment <= now + days  # within_next_days


def _ordered(op: str, value: Any, expected: Any) -> bool:
    if op == "less_than":
        return bool(value < expected)
    if op == "greater_than":
        return bool(value > expected)
    if op == "at_most":
        return bool(value <= expected)
    return bool(value >= expected)


def matches(spec: EventSpec, event: EventData, now: datetime) -> bool:
    """Type, name and every property filter."""
    if event.type != spec.event_type or (spec.event is not None and event.name != spec.event):
        return False
    return all(
        compare(f, lookup(event.properties, split_path(f.property)), now) for f in spec.where
    )


def _in_window(window: Window | None, event: EventData, now: datetime) -> bool:
    if window is None:
        return True
    start, end = window.bounds(now)
    return start <= event.timestamp <= end


def _selected(
    spec: EventSpec, window: Window | None, events: Iterable[EventData], now: datetime
) -> list[EventData]:
    return [e for e in events if _in_window(window, e, now) and matches(spec, e, now)]


def evaluate(condition: Condition, subject: Subject, now: datetime) -> bool:
    """Whether ``subject`` matches ``condition`` at ``now``."""
    if isinstance(condition, Combination):
        results = (evaluate(c, subject, now) for c in condition.conditions)
        return all(results) if condition.type == "and" else any(results)
    if isinstance(condition, TraitCondition):
        return compare(condition, lookup(subject.traits, split_path(condition.trait)), now)
    if isinstance(condition, EventCondition):
        count = len(_selected(condition, condition.window, subject.events, now))
        if condition.count is not None:
            return _count_holds(condition.count.operator, count, condition.count.value)
        return (count > 0) == condition.performed
    if isinstance(condition, FunnelCondition):
        return _funnel(condition, subject.events, now)
    if isinstance(condition, AudienceRef):
        return (condition.audience in subject.audiences) == condition.member
    if isinstance(condition, ConsentCondition):
        return (subject.consent.get(condition.category) is True) == condition.granted
    assert isinstance(condition, UsersCondition)
    found = [evaluate(condition.condition, user, now) for user in subject.users]
    return any(found) if condition.match == "any" else bool(found) and all(found)


def _count_holds(op: str, count: int, value: int) -> bool:
    if op == "equals":
        return count == value
    if op == "not_equals":
        return count != value
    return _ordered(op, count, value)


def _funnel(condition: FunnelCondition, events: Sequence[EventData], now: datetime) -> bool:
    within = timedelta(hours=condition.within_hours)
    firsts = _selected(condition.first, condition.window, events, now)
    thens = _selected(condition.then, None, events, now)
    for first in firsts:
        followed = any(
            then.message_id != first.message_id
            and first.timestamp <= then.timestamp <= first.timestamp + within
            for then in thens
        )
        if condition.followed and followed:
            return True
        if not condition.followed and not followed and first.timestamp + within <= now:
            return True
    return False


def compute(definition: TraitDefinition, events: Iterable[EventData], now: datetime) -> Any:
    """The computed trait's value over ``events``, or ``None`` when there is none."""
    chosen = sorted(
        _selected(definition, definition.window, events, now),
        key=lambda e: (e.timestamp, e.message_id),
    )
    kind = definition.kind
    if kind == "counter":
        return len(chosen) or None
    assert definition.property is not None
    path = split_path(definition.property)
    values = [v for v in (lookup(e.properties, path) for e in chosen) if v is not None]
    if kind in ("first", "last"):
        return (values[0] if kind == "first" else values[-1]) if values else None
    if kind in ("sum", "average", "min", "max"):
        return _aggregate(kind, [v for v in values if is_number(v)])
    texts = [v for v in values if isinstance(v, str)]
    if kind == "unique_list":
        return sorted(set(texts)) or None
    if kind == "unique_count":
        return len(set(texts)) or None
    counts = Counter(texts)  # most_frequent
    best = sorted((-n, text) for text, n in counts.items() if n >= 2)
    return best[0][1] if best else None


def _aggregate(kind: str, numbers: list[Any]) -> Any:
    if not numbers:
        return None
    if kind == "min":
        return min(numbers)
    if kind == "max":
        return max(numbers)
    total = sum(numbers, Decimal(0)) if kind == "average" else sum(numbers)
    if kind == "sum":
        return total
    mean = (Decimal(total) / len(numbers)).quantize(AVERAGE_PLACES, rounding=ROUND_HALF_UP)
    return mean.normalize() if mean != 0 else Decimal(0)
