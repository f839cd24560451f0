"""What journey nodes and rules mean, without a database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from headwater.audiences.evaluate import EventData, Subject
from headwater.journeys.graph import Entry, parse_journey
from headwater.journeys.nodes import NODE_TYPES
from headwater.journeys.semantics import (
    Entered,
    branch,
    cohort,
    delay_due,
    instance_key,
    may_enter,
    trait_changes,
    triggered_by,
    waited_port,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def _event(name: str, **properties: Any) -> EventData:
    return EventData(message_id="m1", type="track", name=name, timestamp=NOW, properties=properties)


def _config(kind: str, raw: dict[str, Any]) -> Any:
    return NODE_TYPES[kind].config(raw)


def test_a_wait_takes_the_port_of_the_first_event_that_matches() -> None:
    config = _config(
        "wait_event",
        {
            "events": [
                {
                    "port": "big",
                    "event": "Order Completed",
                    "where": [{"property": "total", "operator": "at_least", "value": 100}],
                },
                {"port": "any", "event": "Order Completed"},
            ],
            "timeout": {"days": 1},
        },
    )
    assert waited_port(config, _event("Order Completed", total=Decimal("150.5")), NOW) == "big"
    assert waited_port(config, _event("Order Completed", total=3), NOW) == "any"
    assert waited_port(config, _event("Cart Viewed"), NOW) is None


def test_an_event_trigger_matches_name_and_properties() -> None:
    journey = parse_journey(
        {
            "version": 1,
            "trigger": {
                "type": "event",
                "event": "Signed Up",
                "where": [{"property": "plan", "operator": "equals", "value": "pro"}],
            },
            "start": "a",
            "nodes": {"a": {"type": "exit"}},
        }
    )
    trigger = journey.document.trigger
    assert triggered_by(trigger, _event("Signed Up", plan="pro"), NOW)
    assert not triggered_by(trigger, _event("Signed Up", plan="free"), NOW)
    assert not triggered_by(trigger, _event("Logged In", plan="pro"), NOW)


def test_a_split_takes_the_first_branch_that_holds_else_else() -> None:
    config = _config(
        "split",
        {
            "branches": [
                {
                    "port": "vip",
                    "condition": {"type": "audience", "audience": "vips"},
                },
                {
                    "port": "pro",
                    "condition": {
                        "type": "trait",
                        "trait": "plan",
                        "operator": "equals",
                        "value": "pro",
                    },
                },
            ]
        },
    )
    vip = Subject(traits={"plan": "pro"}, events=(), audiences=frozenset({"vips"}))
    assert branch(config, vip, NOW) == "vip"
    assert branch(config, Subject(traits={"plan": "pro"}, events=()), NOW) == "pro"
    assert branch(config, Subject(traits={}, events=()), NOW) == "else"


def test_cohorts_are_sticky_and_follow_their_weights() -> None:
    config = _config(
        "random_split",
        {"cohorts": [{"port": "a", "weight": 1}, {"port": "b", "weight": 3}]},
    )
    first = cohort(config, journey_id=1, node_id="n", profile_id="prf_1")
    assert all(
        cohort(config, journey_id=1, node_id="n", profile_id="prf_1") == first for _ in range(5)
    )
    counts = Counter(
        cohort(config, journey_id=1, node_id="n", profile_id=f"prf_{i}") for i in range(4000)
    )
    assert 0.2 < counts["a"] / 4000 < 0.3
    # another node draws anew: cohorts of two splits are independent
    moved = sum(
        cohort(config, journey_id=1, node_id="m", profile_id=f"prf_{i}")
        != cohort(config, journey_id=1, node_id="n", profile_id=f"prf_{i}")
        for i in range(400)
    )
    assert moved > 50


def test_a_duration_counts_from_when_the_wait_began() -> None:
    due = delay_due(_config("delay", {"duration": {"hours": 2, "minutes": 30}}), NOW, {})
    assert due.at == NOW + timedelta(hours=2, minutes=30)


def test_until_a_trait_in_the_profile_s_time_zone_with_an_offset() -> None:
    config = _config(
        "delay",
        {"until_trait": "renewal", "offset": {"days": 1}, "before": True},
    )
    traits = {"renewal": "2026-03-10", "timezone": "Europe/Paris"}
    # midnight in Paris on the 10th (23:00 UTC on the 9th), a day before
    assert delay_due(config, NOW, traits).at == datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    past = delay_due(config, NOW, {"renewal": "2020-01-01T00:00:00Z"})
    assert past.at == NOW  # already passed: no wait
    missing = delay_due(config, NOW, {})
    assert missing.at == NOW
    assert "no wait" in missing.why


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (10, datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),  # 11:00 in Paris: open
        (18, datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),  # 19:00: the next 09:00 in Paris
        (6, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),  # 07:00: the same day's 09:00
    ],
)
def test_a_window_moves_the_end_to_its_next_opening(hour: int, expected: datetime) -> None:
    config = _config(
        "delay",
        {"duration": {"minutes": 1}, "window": {"start": "09:00", "end": "17:00"}},
    )
    since = NOW.replace(hour=hour) - timedelta(minutes=1)
    assert delay_due(config, since, {"timezone": "Europe/Paris"}).at == expected


def test_a_window_across_midnight() -> None:
    config = _config(
        "delay",
        {"duration": {"minutes": 1}, "window": {"start": "22:00", "end": "06:00"}},
    )
    late = NOW.replace(hour=23) - timedelta(minutes=1)
    assert delay_due(config, late, {}).at == NOW.replace(hour=23)  # UTC without a zone
    noon = NOW.replace(hour=12) - timedelta(minutes=1)
    assert delay_due(config, noon, {"timezone": "Not/AZone"}).at == NOW.replace(hour=22)


def test_instance_keys_come_from_the_trigger_s_properties() -> None:
    keyed = Entry(mode="every_time", instance_key="order.id", max_instances=3)
    assert instance_key(keyed, {"order": {"id": 42}}) == "42"
    assert instance_key(keyed, {"order": {}}) is None
    assert instance_key(Entry(), {"order": {"id": 42}}) == ""


def test_entry_rules() -> None:
    never = Entered(ever=False, last_entered_at=None, running=())
    before = Entered(ever=True, last_entered_at=NOW - timedelta(hours=2), running=())
    running = Entered(ever=True, last_entered_at=NOW, running=("",))
    once = Entry(mode="once")
    assert may_enter(once, never, "", NOW)
    assert not may_enter(once, before, "", NOW)
    every = Entry(mode="every_time")
    assert may_enter(every, before, "", NOW)
    assert not may_enter(every, running, "", NOW)  # one at a time without keys
    cooldown = Entry(mode="cooldown", cooldown={"hours": 3})  # type: ignore[arg-type]
    assert not may_enter(cooldown, before, "", NOW)
    assert may_enter(cooldown, before, "", NOW + timedelta(hours=1))
    keyed = Entry(mode="every_time", instance_key="order_id", max_instances=2)
    one = Entered(ever=True, last_entered_at=NOW, running=("o1",))
    assert may_enter(keyed, one, "o2", NOW)
    assert not may_enter(keyed, one, "o1", NOW)
    two = Entered(ever=True, last_entered_at=NOW, running=("o1", "o2"))
    assert not may_enter(keyed, two, "o3", NOW)  # the cap per profile


def test_trait_updates_in_order() -> None:
    updates = (
        NODE_TYPES["update_traits"]
        .config(
            {
                "updates": [
                    {"op": "increment", "trait": "visits", "value": Decimal("1.5")},
                    {"op": "increment", "trait": "fresh", "value": 2},
                    {"op": "set_once", "trait": "plan", "value": "pro"},
                    {"op": "set_once", "trait": "first", "value": "welcome"},
                    {"op": "append", "trait": "tags", "value": "a"},
                    {"op": "append", "trait": "tags", "value": "b"},
                    {"op": "append", "trait": "one", "value": "y"},
                    {"op": "unset", "trait": "coupon"},
                    {"op": "set", "trait": "visits", "value": 0},
                ]
            }
        )
        .updates
    )
    current = {"visits": 1, "plan": "free", "one": "x", "coupon": "C"}
    assert trait_changes(updates, current) == {
        "visits": 0,  # the last update wins
        "fresh": 2,
        "first": "welcome",
        "tags": ["a", "b"],
        "one": ["x", "y"],
        "coupon": None,
    }
    assert current == {"visits": 1, "plan": "free", "one": "x", "coupon": "C"}  # not changed
