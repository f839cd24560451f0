"""Checking messages against a compiled plan: every action, every violation type (pure)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.protocols.plan import Enforcement, parse_plan
from headwater.protocols.validate import compile_plan
from tests.protocols.plans import VALID_ORDER, WEB, track

PLAN = compile_plan(parse_plan(WEB))
BAD_ORDER = track(
    "Order Completed",
    {"total": "9", "currency": "GBP", "coupon": "x1", "items": [{"qty": 2}], "extra": 1},
)


def kinds(outcome: Any) -> set[tuple[str, str]]:
    return {(v.type, v.path) for v in outcome.violations}


def test_a_valid_message_passes_unchanged() -> None:
    outcome = PLAN.check(VALID_ORDER, Enforcement(violations="block", unplanned_events="block"))
    assert outcome.payload is VALID_ORDER
    assert outcome.violations == ()
    assert outcome.blocked is None


def test_every_violation_type_is_found_with_its_path() -> None:
    outcome = PLAN.check(BAD_ORDER, Enforcement())
    assert kinds(outcome) == {
        ("required_missing", "properties.order_id"),
        ("datatype_mismatch", "properties.total"),
        ("enum_mismatch", "properties.currency"),
        ("pattern_mismatch", "properties.coupon"),
        ("required_missing", "properties.items.0.sku"),
        ("additional_property", "properties.extra"),
    }
    assert outcome.payload is BAD_ORDER  # allow: let through as sent


def test_value_keywords_are_value_mismatches() -> None:
    outcome = PLAN.check(track("Order Completed", {"order_id": "o", "total": -1}), Enforcement())
    assert kinds(outcome) == {("value_mismatch", "properties.total")}


def test_unplanned_events_are_allowed_or_blocked() -> None:
    message = track("Nobody Planned This", {"a": 1})
    allowed = PLAN.check(message, Enforcement())
    assert allowed.payload is message
    assert kinds(allowed) == {("unplanned_event", "event")}
    blocked = PLAN.check(message, Enforcement(unplanned_events="block"))
    assert blocked.payload is None
    assert blocked.blocked == "unplanned_event"


def test_block_quarantines_violations_but_not_unplanned_properties_alone() -> None:
    assert PLAN.check(BAD_ORDER, Enforcement(violations="block")).blocked == "violations"
    extra_only = track("Order Completed", {"order_id": "o", "total": 1, "extra": 2})
    outcome = PLAN.check(extra_only, Enforcement(violations="block"))
    assert outcome.blocked is None
    assert kinds(outcome) == {("additional_property", "properties.extra")}


def test_flag_attaches_the_violations_under_context() -> None:
    message = {**BAD_ORDER, "context": {"library": {"name": "x"}}}
    outcome = PLAN.check(message, Enforcement(violations="flag"))
    assert outcome.payload is not None
    context = outcome.payload["context"]
    assert context["library"] == {"name": "x"}
    assert {(v["type"], v["path"]) for v in context["violations"]} == kinds(outcome)
    assert "violations" not in message["context"]


def test_omit_drops_offending_properties_and_keeps_the_rest() -> None:
    message = track(
        "Order Completed", {"order_id": "o", "total": "9", "currency": "EUR", "extra": 1}
    )
    outcome = PLAN.check(message, Enforcement(violations="omit"))
    assert outcome.payload is not None
    assert outcome.payload["properties"] == {"order_id": "o", "currency": "EUR", "extra": 1}


def test_unplanned_properties_are_omitted_before_validation() -> None:
    message = track(
        "Order Completed",
        {"order_id": "o", "total": 1, "extra": 1, "items": [{"sku": "a", "x": 1}]},
    )
    outcome = PLAN.check(message, Enforcement(unplanned_properties="omit"))
    assert outcome.payload is not None
    assert outcome.payload["properties"] == {"order_id": "o", "total": 1, "items": [{"sku": "a"}]}
    assert kinds(outcome) == {
        ("additional_property", "properties.extra"),
        ("additional_property", "properties.items.0.x"),
    }


def test_identify_and_group_traits_are_checked() -> None:
    identify = {"type": "identify", "userId": "u", "traits": {"age": "old", "nick": "x"}}
    assert kinds(PLAN.check(identify, Enforcement())) == {
        ("datatype_mismatch", "traits.age"),
        ("additional_property", "traits.nick"),
    }
    group = {"type": "group", "groupId": "g", "traits": {"plan": "gold"}}
    assert kinds(PLAN.check(group, Enforcement())) == {("enum_mismatch", "traits.plan")}
    page = {"type": "page", "name": "Home", "properties": {"anything": 1}}
    assert PLAN.check(page, Enforcement(unplanned_events="block")).violations == ()


def test_the_common_schema_applies_to_every_message_and_plans_its_properties() -> None:
    plan = compile_plan(
        parse_plan(
            {
                **WEB,
                "common": {
                    "type": "object",
                    "required": ["context"],
                    "properties": {
                        "context": {
                            "type": "object",
                            "properties": {"app": {"required": ["version"]}},
                        },
                        "properties": {"properties": {"experiment": {"type": "string"}}},
                    },
                },
            }
        )
    )
    message = track("Signed Up", {"experiment": "b"}, context={"app": {}})
    assert kinds(plan.check(message, Enforcement())) == {
        ("required_missing", "context.app.version")
    }
    no_context = {"type": "alias", "userId": "u", "previousId": "p"}
    outcome = plan.check(no_context, Enforcement(violations="block"))
    assert outcome.blocked == "violations"
    assert kinds(outcome) == {("required_missing", "context")}


def test_open_schemas_plan_every_key() -> None:
    plan = compile_plan(
        parse_plan(
            {"name": "P", "events": [{"name": "E", "schema": {"additionalProperties": True}}]}
        )
    )
    assert plan.check(track("E", {"x": 1}), Enforcement()).violations == ()


@pytest.mark.parametrize("action", ["allow", "flag", "omit", "block"])
def test_check_never_changes_the_message_it_is_given(action: str) -> None:
    message = copy.deepcopy(BAD_ORDER)
    PLAN.check(message, Enforcement(violations=action, unplanned_properties="omit"))  # type: ignore[arg-type]
    assert message == BAD_ORDER


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(["order_id", "total", "currency", "coupon", "items", "x"]), values
    )
)
def test_omit_leaves_no_offending_property_and_flag_lists_all(properties: dict[str, Any]) -> None:
    message = track("Order Completed", properties)
    omitted = PLAN.check(message, Enforcement(violations="omit", unplanned_properties="omit"))
    assert omitted.payload is not None
    again = PLAN.check(omitted.payload, Enforcement())
    assert {v.type for v in again.violations} <= {"required_missing"}
    flagged = PLAN.check(message, Enforcement(violations="flag"))
    listed = flagged.payload["context"]["violations"] if flagged.violations else []  # type: ignore[index]
    assert len(listed) == len(flagged.violations)
