"""The column mapping, its default and the typing of CSV cells: pure rules, no fixtures."""

from __future__ import annotations

import pytest

from headwater.imports.mapping import (
    Mapping,
    RowError,
    default_mapping,
    mapping_problems,
    message_ids,
    to_message,
    typed,
)
from headwater.imports.reader import BadRow
from headwater.imports.rows import Plan, column_of, prepare


def test_default_mapping_recognises_identifiers_and_keeps_the_rest_as_fields() -> None:
    mapping = default_mapping("events", ["User ID", "Event_Name", "time", "plan", "price"])
    assert mapping.user_id == "User ID"
    assert mapping.event == "Event_Name"
    assert mapping.timestamp == "time"
    assert mapping.fields == {"plan": "plan", "price": "price"}


def test_email_is_the_user_id_when_there_is_none_and_stays_a_trait() -> None:
    mapping = default_mapping("profiles", ["email", "first_name"])
    assert mapping.user_id == "email"
    assert mapping.fields == {"email": "email", "first_name": "first_name"}
    with_id = default_mapping("profiles", ["customer_id", "email"])
    assert with_id.user_id == "customer_id"


def test_accounts_need_a_group_id_and_events_an_event_column() -> None:
    accounts = default_mapping("accounts", ["user_id", "account_id", "name"])
    assert accounts.group_id == "account_id"
    assert accounts.event is None  # "name" is a trait of an account, not an event name
    assert mapping_problems("accounts", accounts, ["user_id", "account_id", "name"]) == []
    problems = mapping_problems("events", Mapping(user_id="u", event="nope"), ["u"])
    assert problems == ["column 'nope' is not in the file"]
    assert len(mapping_problems("accounts", Mapping(), ["x"])) == 2


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("true", True),
        ("FALSE", False),
        ("42", 42),
        ("-3.5", -3.5),
        ("1e3", 1000.0),
        ("007", "007"),  # a postcode or a phone number keeps its zeros
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
        ("nan", "nan"),
        ("12abc", "12abc"),
    ],
)
def test_csv_cells_get_their_types_back(cell: str, value: object) -> None:
    assert typed(cell) == value
    assert type(typed(cell)) is type(value)


def test_an_event_row_becomes_a_track_with_typed_properties() -> None:
    mapping = Mapping(user_id="user", event="event", timestamp="at", fields={"p": "price"})
    row = {"user": "12", "event": "Bought", "at": "2026-01-02T03:04:05Z", "p": "9.5", "x": "1"}
    message = to_message(row, kind="events", mapping=mapping, typed_cells=True)
    assert message == {
        "type": "track",
        "userId": "12",
        "event": "Bought",
        "timestamp": "2026-01-02T03:04:05Z",
        "properties": {"price": 9.5},
    }
    untyped = to_message(row, kind="events", mapping=mapping, typed_cells=False)
    assert isinstance(untyped, dict)
    assert untyped["properties"] == {"price": "9.5"}


def test_row_errors_name_the_row_and_the_column() -> None:
    mapping = Mapping(user_id="user", event="event", timestamp="at")
    no_user = to_message(
        {"user": None, "event": "E"}, kind="events", mapping=mapping, typed_cells=True, number=7
    )
    assert no_user == RowError(7, "user", no_user.message if isinstance(no_user, RowError) else "")
    bad_time = to_message(
        {"user": "u", "event": "E", "at": 5},
        kind="events",
        mapping=mapping,
        typed_cells=True,
        number=8,
    )
    assert isinstance(bad_time, RowError)
    assert (bad_time.row, bad_time.column) == (8, "at")
    no_event = to_message(
        {"user": "u", "event": " "}, kind="events", mapping=mapping, typed_cells=True, number=9
    )
    assert isinstance(no_event, RowError)
    assert no_event.column == "event"
    group = to_message(
        {"user": "u"},
        kind="accounts",
        mapping=Mapping(user_id="user", group_id="g"),
        typed_cells=True,
        number=3,
    )
    assert isinstance(group, RowError)
    assert group.column == "g"


def test_message_ids_are_stable_and_depend_on_workspace_kind_mapping_and_content() -> None:
    mapping = Mapping(user_id="u", fields={"a": "a"})
    row = {"u": "1", "a": "x"}
    message = to_message(row, kind="profiles", mapping=mapping, typed_cells=True)
    assert isinstance(message, dict)

    def of(
        workspace: int = 1,
        chosen: Mapping = mapping,
        content: dict[str, object] = message,
        kind: str = "profiles",
    ) -> str:
        ids = message_ids(workspace_id=workspace, kind=kind, mapping=chosen)  # type: ignore[arg-type]
        return ids(content, row)

    first = of()
    assert first == of()
    assert first.startswith("imp-")
    assert len(first) <= 100
    assert of(workspace=2) != first
    assert of(kind="accounts") != first
    assert of(chosen=Mapping(user_id="u", fields={"a": "b"})) != first
    assert of(content={**message, "traits": {"a": "y"}}) != first
    keyed = Mapping(user_id="u", key="u")
    assert of(chosen=keyed, content={"changed": True}) == of(chosen=keyed)


def test_prepare_numbers_rows_and_keeps_bad_ones_apart() -> None:
    plan = Plan(workspace_id=1, kind="profiles", mapping=Mapping(user_id="u"), typed_cells=True)
    prepared = prepare([{"u": "a"}, BadRow("is not valid JSON"), {"u": None}], first=11, plan=plan)
    assert [number for number, _ in prepared.messages] == [11]
    assert prepared.messages[0][1]["messageId"].startswith("imp-")
    assert [(e.row, e.column) for e in prepared.errors] == [(12, None), (13, "u")]
    assert prepared.errors[0].message == "row is not valid JSON"
    assert prepared.rows == 3


def test_normalisation_reasons_are_traced_to_their_column() -> None:
    mapping = Mapping(user_id="uid", event="what")
    assert column_of("userId is longer than 512 characters", mapping) == "uid"
    assert column_of("event is longer than 512 characters", mapping) == "what"
    assert column_of("event as stored is 40000 bytes", mapping) == "what"
    assert column_of("blocked: a card number", mapping) is None
