"""Routing rules, pure: the integrations object, consent, filters and their conditions."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.destinations.model import FilterList
from headwater.routing.rules import consented as consented_message
from headwater.routing.rules import decide, integration_enabled, matches
from headwater.spec import message_builtins, message_of

NAMES = ("Orders Hook", "webhook")


class Routed(msgspec.Struct):
    """A decision with the event as the JSON object it would be sent as."""

    event: dict[str, Any] | None
    reason: str | None


def route(event: dict[str, Any], filters: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
    decision = decide(
        message_of(event),
        names=kw.get("names", NAMES),
        categories=kw.get("categories", ()),
        filters=FilterList.validate_python(filters or []),
    )
    sent = None if decision.event is None else message_builtins(decision.event)
    return Routed(sent, decision.reason)


def consented(event: dict[str, Any], categories: tuple[str, ...]) -> bool:
    return consented_message(message_of(event), categories)


@pytest.mark.parametrize(
    ("integrations", "expected"),
    [
        (None, True),
        ({}, True),
        ({"All": False}, False),
        ({"All": False, "Orders Hook": True}, True),
        ({"All": False, "webhook": {"option": 1}}, True),
        ({"All": True, "Orders Hook": False}, False),
        ({"All": True, "orders hook": False}, True),  # case-sensitive
        ({"Orders Hook": False, "webhook": True}, False),  # the name wins over the kind
        ({"Orders Hook": None}, False),
        ({"Mixpanel": False}, True),
        ("not an object", True),
    ],
)
def test_integrations_object(integrations: Any, expected: bool) -> None:
    assert integration_enabled(integrations, NAMES) is expected
    decision = route({"type": "track", "integrations": integrations})
    assert (decision.event is not None) is expected
    assert decision.reason == (None if expected else "integrations")


def consent(preferences: Any) -> dict[str, Any]:
    return {"type": "track", "context": {"consent": {"categoryPreferences": preferences}}}


def test_consent_needs_every_category_of_the_destination() -> None:
    both = ("Analytics", "Advertising")
    assert consented({"type": "track"}, both), "no consent data flows everywhere"
    empty_consent = {"type": "track", "context": {"consent": {}}}
    assert consented(empty_consent, both), "an empty consent object flows everywhere"
    assert not consented(consent({}), both), "empty preferences consent to nothing mapped"
    assert consented(consent({}), ()), "empty preferences reach destinations without categories"
    assert consented(consent({"Analytics": False}), ()), "no categories receive everything"
    assert consented(consent({"Analytics": True, "Advertising": True}), both)
    assert not consented(consent({"Analytics": True, "Advertising": False}), both)
    assert not consented(consent({"Analytics": True}), both), "missing counts as refused"
    assert route(consent({"Analytics": False}), categories=("Analytics",)).reason == "consent"


def test_filters_drop_only_and_sample() -> None:
    event = {
        "type": "track",
        "event": "Order Completed",
        "messageId": "m1",
        "properties": {"total": 30},
    }
    drop_big = [{"type": "drop", "when": {"field": "properties.total", "op": "gt", "value": 20}}]
    assert route(event, drop_big).reason == "filters"
    only_orders = [
        {"type": "only", "when": {"field": "event", "op": "eq", "value": "Order Completed"}}
    ]
    assert route(event, only_orders).event == event
    assert route({**event, "event": "Other"}, only_orders).reason == "filters"
    assert route(event, [{"type": "sample", "percent": 0}]).reason == "filters"
    assert route(event, [{"type": "sample", "percent": 100}]).event == event


def test_sampling_is_stable_and_close_to_the_share() -> None:
    events = [{"type": "track", "messageId": f"id-{n}"} for n in range(4000)]
    kept = [e for e in events if route(e, [{"type": "sample", "percent": 25}]).event is not None]
    assert 800 < len(kept) < 1200
    again = [e for e in events if route(e, [{"type": "sample", "percent": 25}]).event is not None]
    assert kept == again


def test_drop_and_allow_properties_reshape_without_touching_the_original() -> None:
    event = {
        "type": "identify",
        "traits": {"email": "a@b.c", "plan": "pro", "address": {"city": "Oslo", "street": "x"}},
        "properties": {"a": 1},
        "context": {"ip": "1.2.3.4", "library": {"name": "x"}},
    }
    dropped = route(event, [{"type": "drop_properties", "paths": ["traits.email", "context.ip"]}])
    assert dropped.event["traits"] == {"plan": "pro", "address": {"city": "Oslo", "street": "x"}}
    assert dropped.event["context"] == {"library": {"name": "x"}}
    allowed = route(
        event, [{"type": "allow_properties", "paths": ["traits.plan", "traits.address.city"]}]
    )
    assert allowed.event["traits"] == {"plan": "pro", "address": {"city": "Oslo"}}
    assert allowed.event["properties"] == {"a": 1}, "objects not named are untouched"
    assert event["traits"]["email"] == "a@b.c"
    assert event["context"]["ip"] == "1.2.3.4"


def test_conditions() -> None:
    event = {"type": "track", "properties": {"plan": "pro", "tags": ["a"], "n": 3, "flag": True}}

    def check(condition: dict[str, Any]) -> bool:
        parsed = FilterList.validate_python([{"type": "drop", "when": condition}])[0]
        return matches(parsed.when, event)  # type: ignore[union-attr]

    assert check({"field": "properties.plan", "value": "pro"})
    assert check({"field": "properties.plan", "op": "in", "value": ["pro", "team"]})
    assert check({"field": "properties.tags", "op": "contains", "value": "a"})
    assert check({"field": "properties.missing", "op": "missing"})
    assert check({"field": "properties.missing", "op": "ne", "value": 1})
    assert not check({"field": "properties.flag", "op": "gt", "value": 0}), (
        "booleans aren't numbers"
    )
    assert not check({"field": "properties.plan", "op": "gt", "value": 1}), "unlike types are false"
    assert check(
        {
            "all": [
                {"field": "type", "value": "track"},
                {"not": {"field": "properties.n", "op": "lt", "value": 2}},
            ]
        }
    )
    assert check(
        {
            "any": [
                {"field": "type", "value": "page"},
                {"field": "properties.n", "op": "gte", "value": 3},
            ]
        }
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "identify", "page"]), "messageId": st.text(max_size=8)},
    optional={
        "integrations": st.dictionaries(st.sampled_from(["All", *NAMES, "Other"]), json_values),
        "properties": st.dictionaries(st.text(max_size=4), json_values, max_size=4),
        "context": st.fixed_dictionaries(
            {},
            optional={
                "consent": st.fixed_dictionaries(
                    {
                        "categoryPreferences": st.dictionaries(
                            st.sampled_from(["Analytics", "Ads"]), json_values
                        )
                    }
                )
            },
        ),
    },
)
ops = st.sampled_from(
    [
        "eq",
        "ne",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "ends_with",
        "exists",
        "missing",
        "gt",
        "gte",
        "lt",
        "lte",
    ]
)


@given(
    event=events,
    op=ops,
    field=st.sampled_from(["type", "properties.a", "context.consent", "x.y.z"]),
    value=json_values,
)
def test_routing_never_raises_and_never_changes_its_input(
    event: dict[str, Any], op: str, field: str, value: Any
) -> None:
    before = copy.deepcopy(event)
    condition = {"field": field, "op": op, "value": value}
    filters = [
        {"type": "drop", "when": {"not": condition}},
        {"type": "drop_properties", "paths": ["properties.a", "context"]},
        {"type": "allow_properties", "paths": ["properties.b"]},
    ]
    decision = route(event, filters, categories=("Analytics",))
    assert event == before
    assert (decision.event is None) == (decision.reason is not None)
    if decision.event is not None:
        assert "context" not in decision.event
        assert set(decision.event.get("properties", {})) <= {"b"}


@given(event=events, op=ops, value=json_values)
def test_not_is_the_opposite(event: dict[str, Any], op: str, value: Any) -> None:
    parsed = FilterList.validate_python(
        [
            {"type": "drop", "when": {"field": "properties.a", "op": op, "value": value}},
            {"type": "drop", "when": {"not": {"field": "properties.a", "op": op, "value": value}}},
        ]
    )
    assert matches(parsed[0].when, event) != matches(parsed[1].when, event)  # type: ignore[union-attr]


def test_dropping_the_type_keeps_a_message_to_send() -> None:
    event = {"type": "track", "event": "E", "messageId": "m", "properties": {"a": 1}}
    shaped = route(event, [{"type": "drop_properties", "paths": ["type", "properties.a"]}])
    assert shaped.event == {"type": "track", "event": "E", "messageId": "m", "properties": {}}
