"""The observed schema and plans drafted from it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from headwater.protocols.observe import VALUES_CHECKED, Observations, infer_plan, observe
from headwater.protocols.plan import Enforcement, parse_plan
from headwater.protocols.validate import compile_plan
from headwater.spec import message_of
from tests.protocols.plans import VALID_ORDER

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_observe_lists_paths_and_types() -> None:
    message = {
        "type": "track",
        "event": "E",
        "properties": {"a": 1, "b": {"c": "x"}, "d": [{"e": True}, {"e": None}], "f": 1.5},
        "context": {"ignored": 1},
    }
    assert observe(message_of(message)) == [
        ("", "event"),
        ("properties.a", "integer"),
        ("properties.b", "object"),
        ("properties.b.c", "string"),
        ("properties.d", "array"),
        ("properties.d[]", "object"),
        ("properties.d[].e", "boolean"),
        ("properties.d[]", "object"),
        ("properties.d[].e", "null"),
        ("properties.f", "number"),
    ]
    assert observe(message_of({"type": "identify", "traits": {"email": "x", "a.b[]": 1}})) == [
        ("", "event"),
        ("traits.email", "string"),
        ("traits.a~1b~2]", "integer"),
    ]


def test_one_huge_message_is_bounded() -> None:
    message = {"type": "track", "event": "E", "properties": {f"p{i}": i for i in range(1000)}}
    assert len(observe(message_of(message))) == 201


def test_observations_count_per_event_path_and_type() -> None:
    seen = Observations()
    for payload in (VALID_ORDER, VALID_ORDER, {**VALID_ORDER, "properties": {"total": "x"}}):
        seen.add(source_id=1, workspace_id=1, partition=0, message=message_of(payload), seen_at=NOW)
    counts = {(r.path, r.json_type): r.count for r in seen.rows()}
    assert counts[("", "event")] == 3
    assert counts[("properties.total", "number")] == 2
    assert counts[("properties.total", "string")] == 1


def test_observations_name_the_detector_that_found_a_personal_value() -> None:
    seen = Observations()
    for contact in ("not yet", "ana@example.com", "bob@example.com"):
        message = {"type": "identify", "traits": {"contact": contact, "n": 1.5, "plan": "pro"}}
        seen.add(source_id=1, workspace_id=1, partition=0, message=message_of(message), seen_at=NOW)
    detected = {r.path: r.detected for r in seen.rows()}
    assert detected == {"": None, "traits.contact": "email", "traits.n": None, "traits.plan": None}


def test_observations_check_only_the_first_values_of_a_path_in_a_batch() -> None:
    seen = Observations()
    contacts = ["later"] * VALUES_CHECKED + ["ana@example.com"]
    for contact in contacts:
        message = {"type": "identify", "traits": {"contact": contact}}
        seen.add(source_id=1, workspace_id=1, partition=0, message=message_of(message), seen_at=NOW)
    assert {r.path: r.detected for r in seen.rows()}["traits.contact"] is None
    fresh = Observations()  # the next batch checks again
    message = {"type": "identify", "traits": {"contact": "ana@example.com"}}
    fresh.add(source_id=1, workspace_id=1, partition=0, message=message_of(message), seen_at=NOW)
    assert {r.path: r.detected for r in fresh.rows()}["traits.contact"] == "email"


def _rows(messages: list[dict[str, Any]]) -> list[tuple[str, str, str, str, int]]:
    seen = Observations()
    for message in messages:
        seen.add(source_id=1, workspace_id=1, partition=0, message=message_of(message), seen_at=NOW)
    return [(r.event_type, r.event_name, r.path, r.json_type, r.count) for r in seen.rows()]


def test_infer_drafts_types_and_required_properties() -> None:
    messages = [
        {"type": "track", "event": "Paid", "properties": {"amount": 1, "note": "x"}},
        {"type": "track", "event": "Paid", "properties": {"amount": 2.5, "items": [{"sku": "a"}]}},
        {"type": "identify", "traits": {"email": "a@b"}},
        {"type": "page", "name": "Home", "properties": {}},
    ]
    plan = parse_plan(infer_plan("Draft", _rows(messages)))
    paid = plan.event("track", "Paid")
    assert paid is not None
    assert paid.schema["required"] == ["amount"]
    assert paid.schema["properties"]["amount"] == {"type": "number"}
    assert paid.schema["properties"]["items"]["items"]["properties"] == {"sku": {"type": "string"}}
    assert plan.identify_traits == {"type": "object", "properties": {"email": {"type": "string"}}}
    assert [e.name for e in plan.events] == ["Paid"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
messages = st.lists(
    st.builds(
        lambda name, props: {"type": "track", "event": name, "properties": props},
        st.sampled_from(["A", "B"]),
        st.dictionaries(st.sampled_from(["x", "y", "z"]), json_values, max_size=3),
    ),
    min_size=1,
    max_size=8,
)


@given(messages)
def test_a_drafted_plan_accepts_the_traffic_it_was_drafted_from(sent: list[dict[str, Any]]) -> None:
    plan = compile_plan(parse_plan(infer_plan("Draft", _rows(sent))))
    for message in sent:
        outcome = plan.check(message, Enforcement())
        assert outcome.violations == (), (message, outcome.violations)
