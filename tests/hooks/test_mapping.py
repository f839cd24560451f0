"""Rules from a request to Segment messages (pure): conditions, each, fields by path, template,
constant and expression, messageId, timestamps, the transformation and the reply."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater.errors import BadRequest
from headwater.hooks.mapping import challenge, map_request
from headwater.hooks.model import parse_config
from headwater.hooks.request import HookRequest


def _request(body: Any, **fields: Any) -> HookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", **fields.pop("headers", {})}
    return HookRequest(
        method="POST", url="https://h/v1/hooks/k", body=raw, headers=headers, **fields
    )


def _config(*rules: dict[str, Any], **extra: Any) -> Any:
    return parse_config({"auth": {"type": "none"}, "rules": list(rules), **extra})


ORDER = {
    "id": "o-1",
    "kind": "order",
    "at": 1_700_000_000,
    "customer": {"id": "c-9", "first": "Ada", "last": "Lovelace"},
    "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
}


def test_a_rule_emits_a_message_with_fields_from_paths_templates_constants_expressions() -> None:
    config = _config(
        {
            "when": {"path": "body.kind", "value": "order"},
            "type": "track",
            "set": {
                "event": {"const": "Order Completed"},
                "userId": "body.customer.id",
                "properties.name": {"template": "{body.customer.first} {body.customer.last}"},
                "properties.units": {"expr": "sum([l.qty for l in body.lines])"},
                "properties.coupon": {"path": "body.coupon", "default": "none"},
                "properties.absent": "body.nothing",
            },
            "message_id": "body.id",
            "timestamp": {"path": "body.at", "format": "unix_seconds"},
        }
    )
    out = map_request(config, _request(ORDER))
    assert out.errors == []
    assert out.messages == [
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "c-9",
            "properties": {"name": "Ada Lovelace", "units": 3, "coupon": "none"},
            "messageId": "o-1",
            "timestamp": "2023-11-14T22:13:20Z",
        }
    ]


def test_a_condition_that_does_not_hold_emits_nothing() -> None:
    config = _config({"when": {"path": "body.kind", "value": "refund"}, "type": "track"})
    out = map_request(config, _request(ORDER))
    assert out.messages == []
    assert out.errors == []
    assert out.matched == []


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"path": "headers.x-topic", "op": "starts_with", "value": "orders/"}, True),
        ({"path": "query.mode", "op": "in", "value": ["live", "test"]}, True),
        ({"path": "body.coupon", "op": "missing"}, True),
        ({"path": "body.at", "op": "gt", "value": 5}, True),
        ({"path": "body.at", "op": "lt", "value": "5"}, False),
        (
            {"all": [{"path": "body.kind", "value": "order"}, {"path": "body.id", "op": "exists"}]},
            True,
        ),
        (
            {"any": [{"path": "body.kind", "value": "x"}, {"path": "body.kind", "value": "y"}]},
            False,
        ),
        ({"not": {"path": "body.kind", "value": "order"}}, False),
        ({"path": "body.lines", "op": "contains", "value": {"sku": "B", "qty": 1}}, True),
        # A value typed as text matches a number or true/false that reads the same.
        ({"path": "body.at", "value": "1700000000"}, True),
        ({"path": "body.live", "value": "true"}, True),
        ({"path": "body.live", "op": "ne", "value": "false"}, True),
        ({"path": "body.at", "op": "in", "value": ["1", "1700000000"]}, True),
        ({"path": "body.id", "value": "o-2"}, False),
        ({"path": "body.coupon", "value": "None"}, False),
        # "³" is a digit to str.isdigit, never an index: no such element, no error.
        ({"path": "body.lines.³", "op": "missing"}, True),
        ({"path": "body.lines.-1.sku", "value": "B"}, True),
    ],
)
def test_conditions_on_body_headers_and_query(condition: dict[str, Any], holds: bool) -> None:
    config = _config({"when": condition, "type": "track", "set": {"event": {"const": "E"}}})
    request = _request(
        {**ORDER, "live": True}, headers={"x-topic": "orders/create"}, query={"mode": "live"}
    )
    assert len(map_request(config, request).messages) == (1 if holds else 0)


def test_a_combination_holds_no_operator_and_a_comparison_defaults_to_eq() -> None:
    """An ``op`` stored on a combination by earlier versions (which wrote the default out) is
    dropped, and a comparison given without one compares for equality."""
    when = {"all": [{"path": "body.kind", "value": "order"}], "op": "eq"}
    config = _config({"when": when, "type": "track", "set": {"event": {"const": "E"}}})
    dumped = config.model_dump(mode="json", exclude_none=True, by_alias=True)
    assert dumped["rules"][0]["when"] == {"all": [{"path": "body.kind", "value": "order"}]}
    assert len(map_request(config, _request(ORDER)).messages) == 1
    assert map_request(config, _request({**ORDER, "kind": "refund"})).messages == []


def test_each_emits_one_message_per_element_and_a_bad_one_fails_alone() -> None:
    body = [
        {"id": "e1", "event": "open", "ts": 1_600_000_000_000},
        {"id": "e2", "event": "click", "ts": "yesterday"},
        {"id": "e3", "event": "bounce", "ts": 1_600_000_001_000},
    ]
    config = _config(
        {
            "each": "body",
            "type": "track",
            "set": {"event": "item.event", "anonymousId": "item.id"},
            "message_id": "item.id",
            "timestamp": {"path": "item.ts", "format": "unix_ms"},
        }
    )
    out = map_request(config, _request(body))
    assert [m["messageId"] for m in out.messages] == ["e1", "e3"]
    assert out.messages[1]["timestamp"] == "2020-09-13T12:26:41Z"
    assert len(out.errors) == 1
    assert "item 1" in out.errors[0]
    assert "'yesterday'" in out.errors[0]


def test_the_hash_message_id_is_stable_for_a_body_and_differs_between_items() -> None:
    config = _config({"each": "body.lines", "type": "track", "set": {"event": "item.sku"}})
    first = map_request(config, _request(ORDER)).messages
    again = map_request(config, _request(ORDER)).messages
    other = map_request(config, _request({**ORDER, "id": "o-2"})).messages
    assert [m["messageId"] for m in first] == [m["messageId"] for m in again]
    assert len({m["messageId"] for m in first}) == 2
    assert first[0]["messageId"] != other[0]["messageId"]


def test_match_first_stops_at_the_first_rule_that_holds() -> None:
    rules = [
        {"name": "orders", "when": {"path": "body.kind", "value": "order"}, "type": "track"},
        {"name": "all", "type": "identify"},
    ]
    assert map_request(_config(*rules), _request(ORDER)).matched == ["orders", "all"]
    first = map_request(_config(*rules, match="first"), _request(ORDER))
    assert first.matched == ["orders"]
    assert [m["type"] for m in first.messages] == ["track"]


def test_a_missing_message_id_field_fails_the_message() -> None:
    config = _config({"type": "track", "message_id": "body.none"})
    out = map_request(config, _request(ORDER))
    assert out.messages == []
    assert out.errors == ["rule 1: the messageId field is missing"]


def test_iso_timestamps_with_offsets_are_given_in_utc() -> None:
    config = _config({"type": "track", "timestamp": {"path": "body.at", "format": "iso8601"}})
    out = map_request(config, _request({"at": "2024-05-01T12:00:00+02:00"}))
    assert out.messages[0]["timestamp"] == "2024-05-01T10:00:00Z"


def test_a_form_body_is_read_as_an_object() -> None:
    request = HookRequest(
        method="POST",
        url="u",
        body=b"From=%2B1555&Body=hi+there",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    config = _config({"type": "track", "set": {"anonymousId": "body.From", "event": "body.Body"}})
    message = map_request(config, request).messages[0]
    assert (message["anonymousId"], message["event"]) == ("+1555", "hi there")


def test_an_unreadable_body_is_an_error_not_an_exception() -> None:
    out = map_request(_config({"type": "track"}), _request(b'{"broken": '))
    assert out.messages == []
    assert out.errors
    assert out.errors[0].startswith("the body is not valid JSON")


def test_the_transformation_reshapes_filters_or_empties_the_messages() -> None:
    rule = {"each": "body.lines", "type": "track", "set": {"event": "item.sku", "n": "item.qty"}}
    keep_big = "[merge(m, {userId: body.customer.id}) for m in messages if m.n > 1]"
    out = map_request(_config(rule, transform=keep_big), _request(ORDER))
    assert [(m["event"], m["userId"]) for m in out.messages] == [("A", "c-9")]
    assert map_request(_config(rule, transform="null"), _request(ORDER)).messages == []
    single = map_request(_config(transform="{type: 'identify', userId: 'u'}"), _request(ORDER))
    assert single.messages == [{"type": "identify", "userId": "u"}]


@pytest.mark.parametrize(
    ("transform", "reason"),
    [
        ("messages[0].n / 0", "transformation: division by zero"),
        ("42", "transformation: it must return a message, a list of messages or null"),
        ("[[x for x in body.lines] for y in body.lines for z in 1]", "transformation: expected"),
    ],
)
def test_a_failing_transformation_is_a_reason_and_no_message(transform: str, reason: str) -> None:
    rule = {"each": "body.lines", "type": "track", "set": {"n": "item.qty"}}
    out = map_request(_config(rule, transform=transform), _request(ORDER))
    assert out.messages == []
    assert out.errors[0].startswith(reason)


def test_a_bad_configuration_names_the_field_in_plain_words() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_config({"auth": {"type": "none"}, "rules": [{"type": "purchase"}]})
    assert raised.value.code == "invalid_hook_config"
    assert raised.value.details["errors"][0]["field"] == "rules.0.type"
    with pytest.raises(BadRequest):
        parse_config({"auth": {"type": "none"}, "rules": [{"type": "track", "set": {"a": {}}}]})


def test_the_reply_echoes_a_challenge_as_text_or_json() -> None:
    reply = {"when": {"path": "query.challenge", "op": "exists"}, "echo": "query.challenge"}
    get = HookRequest(method="GET", url="u", body=b"", query={"challenge": "abc"})
    answer = challenge(_config(reply=reply), get)
    assert answer is not None
    assert (answer.status, answer.body) == (200, "abc")
    as_json = {
        "when": {"path": "body.type", "value": "url_verification"},
        "echo": "body.challenge",
        "json_key": "challenge",
    }
    post = _request({"type": "url_verification", "challenge": "xyz"})
    answer = challenge(_config(reply=as_json), post)
    assert answer is not None
    assert json.loads(answer.body) == {"challenge": "xyz"}
    assert challenge(_config(reply=as_json), _request(ORDER)) is None
    assert challenge(_config(), get) is None
