"""Plans, their diffs and their files: JSON, YAML and Segment-style CSV rows (pure)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.protocols.diff import diff_plans
from headwater.protocols.formats import dump, from_csv, load
from headwater.protocols.plan import PlanError, flatten, parse_enforcement, parse_plan, plan_to_dict
from tests.protocols.plans import WEB


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"events": []}, "name"),
        ({"name": "P", "events": [{"name": "A"}, {"name": "A"}]}, "planned twice"),
        ({"name": "P", "events": [{"name": "A", "schema": {"type": "strang"}}]}, "not valid"),
        ({"name": "P", "events": [{"name": "A", "type": "alias"}]}, "invalid"),
        ({"name": "P", "colour": "red"}, "colour"),
        (
            {"name": "P", "common": {"$schema": "https://json-schema.org/draft/2020-12/schema"}},
            "draft-07",
        ),
        ({"name": "P", "events": [{"name": "A", "schema": {"pattern": "("}}]}, "A"),
    ],
)
def test_invalid_plans_are_refused_with_the_reason(document: Any, reason: str) -> None:
    with pytest.raises(PlanError, match=reason):
        parse_plan(document)


def test_enforcement_defaults_to_allow_and_refuses_unknown_actions() -> None:
    settings = parse_enforcement({"violations": "flag"})
    assert (settings.unplanned_events, settings.unplanned_properties, settings.violations) == (
        "allow",
        "allow",
        "flag",
    )
    with pytest.raises(PlanError, match="violations"):
        parse_enforcement({"violations": "shout"})
    with pytest.raises(PlanError):
        parse_enforcement({"unplanned_properties": "block"})


def test_flatten_lists_nested_and_array_properties() -> None:
    rules = {r.path: r for r in flatten(WEB["events"][0]["schema"])}
    assert list(rules) == [
        "order_id",
        "total",
        "currency",
        "coupon",
        "items",
        "items[].sku",
        "items[].qty",
    ]
    assert rules["order_id"].required
    assert not rules["coupon"].required
    assert rules["currency"].enum == ("EUR", "USD")
    assert rules["items[].sku"].required


def test_diff_reports_added_removed_and_breaking_changes() -> None:
    before = parse_plan(WEB)
    changed = copy.deepcopy(WEB)
    order = changed["events"][0]["schema"]
    order["properties"]["total"]["type"] = "string"
    order["properties"]["note"] = {"type": "string"}
    del order["properties"]["coupon"]
    changed["events"][1] = {"name": "Logged In"}
    result = diff_plans(before, parse_plan(changed))
    assert result["events"]["added"] == [{"type": "track", "name": "Logged In"}]
    assert result["events"]["removed"] == [{"type": "track", "name": "Signed Up"}]
    [event] = result["events"]["changed"]
    changes = {(c["change"], c["path"]): c for c in event["properties"]}
    assert set(changes) == {("changed", "total"), ("added", "note"), ("removed", "coupon")}
    assert changes[("changed", "total")]["breaking"]
    assert not changes[("added", "note")]["breaking"]
    assert result["breaking"]
    assert diff_plans(before, before)["breaking"] is False
    assert diff_plans(before, before)["events"] == {"added": [], "removed": [], "changed": []}


@pytest.mark.parametrize("format", ["json", "yaml"])
def test_json_and_yaml_round_trip(format: Any) -> None:
    plan = parse_plan(WEB)
    assert parse_plan(load(dump(plan, format), format)) == plan


def test_unreadable_files_are_plan_errors() -> None:
    with pytest.raises(PlanError, match="YAML"):
        load("a: [", "yaml")
    with pytest.raises(PlanError, match="JSON"):
        load("{", "json")


HEADER = (
    "Event Type,Event Name,Property Name,Description,Property Status,Property Data Type,"
    "Allowed Property Values,Enum Values,Labels"
)
SEGMENT_CSV = f"""{HEADER}
Track,Order Completed,,A checkout finished,,,,,team:checkout
Track,Order Completed,order_id,The order,Required,string,,,
Track,Order Completed,total,,Required,"integer,number",,,
Track,Order Completed,season,,Optional,string,fall|winter,,
Track,Order Completed,size,,Optional,integer,,1|2|3,
Track,Order Completed,paid_at,,Optional,Date time,,,
Track,Order Completed,items[].sku,,Required,string,,,
Identify,,email,,Optional,string,,,
Group,,plan,,Optional,string,,free|pro,
Page,Home,,,,,,,
"""


def test_csv_rows_import_as_segment_writes_them() -> None:
    plan = parse_plan(from_csv(SEGMENT_CSV, name="Shop"))
    order = plan.event("track", "Order Completed")
    assert order is not None
    assert order.description == "A checkout finished"
    assert order.labels == {"team": "checkout"}
    props = order.schema["properties"]
    assert order.schema["required"] == ["order_id", "total"]
    assert props["total"]["type"] == ["integer", "number"]
    assert props["season"]["pattern"] == "^(?:fall|winter)$"
    assert props["size"]["enum"] == [1, 2, 3]
    assert props["paid_at"] == {"type": "string", "format": "date-time"}
    assert props["items"]["items"]["required"] == ["sku"]
    assert plan.identify_traits == {"type": "object", "properties": {"email": {"type": "string"}}}
    assert plan.group_traits is not None
    assert plan.group_traits["properties"]["plan"]["enum"] == ["free", "pro"]
    assert plan.event("page", "Home") is not None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Name\nx\n", "Event Name"),
        ("Event Name,Property Data Type,Property Name\nA,strin,p\n", "row 2: unknown data type"),
        ("Event Type,Event Name\nAlias,A\n", "unknown event type"),
        ("Event Type,Event Name,Property Name\nIdentify,,\n", "trait"),
        (
            "Event Name,Property Name,Property Data Type,Enum Values\nA,p,integer,1|x\n",
            "not integer",
        ),
    ],
)
def test_bad_csv_rows_say_which_row(text: str, reason: str) -> None:
    with pytest.raises(PlanError, match=reason):
        from_csv(text, name="P")


def test_csv_export_reads_back_to_the_same_properties() -> None:
    plan = parse_plan(from_csv(SEGMENT_CSV, name="Shop"))
    again = parse_plan(from_csv(dump(plan, "csv"), name="Shop"))
    for spec in plan.events:
        other = again.event(spec.type, spec.name)
        assert other is not None
        assert list(flatten(other.schema)) == list(flatten(spec.schema))
        assert (other.description, other.labels) == (spec.description, spec.labels)
    assert again.identify_traits == plan.identify_traits


names = (
    st.text(
        st.characters(whitelist_categories=("L", "N"), whitelist_characters=" _"),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
properties = st.dictionaries(
    names,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "boolean", "array", "object"])}
    ),
    max_size=5,
)


@given(
    st.dictionaries(
        names, st.tuples(properties, st.sets(names, max_size=3)), min_size=1, max_size=4
    )
)
def test_csv_round_trip_keeps_every_flat_property(events: dict[str, Any]) -> None:
    document: dict[str, Any] = {"name": "P", "events": []}
    for name, (props, required) in events.items():
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required & props.keys():
            schema["required"] = sorted(required & props.keys())
        document["events"].append({"name": name, "type": "track", "schema": schema})
    plan = parse_plan(document)
    again = parse_plan(from_csv(dump(plan, "csv"), name="P"))
    for spec in plan.events:
        other = again.event("track", spec.name)
        assert other is not None
        key = lambda r: r.path  # noqa: E731
        assert sorted(flatten(other.schema), key=key) == sorted(flatten(spec.schema), key=key)
    assert plan_to_dict(again)["name"] == "P"
