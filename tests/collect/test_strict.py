"""Strict mode, per source or per request: an invalid event fails the request; none is stored."""

from __future__ import annotations

import pytest

from tests.collect.helpers import Source, assert_error, assert_ok, new_source
from tests.server import RunningServer

GOOD = {"type": "track", "userId": "u1", "event": "Fine"}


def mixed_batch(prefix: str) -> dict[str, object]:
    return {
        "batch": [
            {**GOOD, "messageId": f"{prefix}-0"},
            {"type": "track", "userId": "u1", "messageId": f"{prefix}-1"},
            {**GOOD, "messageId": f"{prefix}-2"},
            {"type": "nope", "userId": "u1"},
            {**GOOD, "properties": {"pad": "x" * 40_000}},
        ]
    }


def check_errors(body: dict[str, object], prefix: str) -> None:
    assert body["message"] == "3 of 5 events are invalid; none was stored"
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["index"] for error in errors] == [1, 3, 4]
    assert errors[0]["messageId"] == f"{prefix}-1"
    assert "track requires event" in errors[0]["reason"]
    assert "unknown type 'nope'" in errors[1]["reason"]
    assert "exceeds 32768 bytes" in errors[2]["reason"]


def test_a_strict_source_refuses_the_whole_request(shared: RunningServer) -> None:
    source = new_source(shared, strict=True)
    body = assert_error(source.post("/v1/batch", mixed_batch("strict-src")), 400, "invalid_events")
    check_errors(body, "strict-src")
    assert source.nothing_stored()
    # The refused request itself is recorded once (index -1), none of its events.
    [refused] = source.rejections(refused_requests=True)
    assert refused["index"] == -1
    assert refused["reason"].startswith("request refused (invalid_events): 3 of 5 events")
    assert source.totals() == {"accepted": 0, "duplicates": 0, "rejected": 1}

    single = assert_error(source.post("/v1/track", {"userId": "u1"}), 400, "invalid_events")
    assert single["errors"] == [
        {"index": 0, "messageId": None, "reason": "track requires event, a non-empty string"}
    ]
    assert source.nothing_stored()


def test_a_strict_source_accepts_valid_requests(shared: RunningServer) -> None:
    source = new_source(shared, strict=True)
    assert_ok(source.post("/v1/batch", {"batch": [{**GOOD, "messageId": "strict-ok"}]}))
    assert [event["messageId"] for event in source.events()] == ["strict-ok"]


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on"])
def test_the_strict_header_refuses_the_whole_request(source: Source, value: str) -> None:
    prefix = f"strict-hdr-{source.id}"
    response = source.post("/v1/batch", mixed_batch(prefix), headers={"X-Headwater-Strict": value})
    check_errors(assert_error(response, 400, "invalid_events"), prefix)
    assert source.nothing_stored()


@pytest.mark.parametrize("value", [None, "0", "false", "no"])
def test_without_strict_invalid_events_are_recorded(source: Source, value: str | None) -> None:
    prefix = f"lenient-{source.id}"
    headers = {"X-Headwater-Strict": value} if value is not None else {}
    assert_ok(source.post("/v1/batch", mixed_batch(prefix), headers=headers))
    assert [event["messageId"] for event in source.events()] == [f"{prefix}-0", f"{prefix}-2"]
    assert [rejection["index"] for rejection in source.rejections()] == [1, 3, 4]
