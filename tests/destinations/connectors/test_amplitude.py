"""Amplitude: checked as https://amplitude.com/docs/apis/analytics/http-v2,
https://amplitude.com/docs/apis/analytics/batch-event-upload and
https://amplitude.com/docs/apis/analytics/http-api-batching-retries describe them."""

from __future__ import annotations

import httpx
import pytest

from headwater.connectors.amplitude import Amplitude, AmplitudeConfig
from headwater.connectors.base import Outcome
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import EPOCH_MS, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

KEY = "amp-api-key-0123456789"
USER = "user-0001"


def amplitude_api(path: str, limit: int, min_id_length: int = 5) -> object:
    """Amplitude's upload endpoints: api_key in the body, each event with an event_type, a
    user_id or device_id of at least ``min_id_length`` characters, and an insert_id."""

    def check(request: Recorded) -> Reply:
        assert (request.method, request.path) == ("POST", path)
        assert request.headers["content-type"] == "application/json"
        body = request.json()
        assert body["api_key"] == KEY
        assert 1 <= len(body["events"]) <= limit
        for event in body["events"]:
            assert isinstance(event["event_type"], str)
            ids = [event.get("user_id"), event.get("device_id")]
            assert any(isinstance(i, str) and len(i) >= min_id_length for i in ids)
            assert isinstance(event["time"], int)
            assert isinstance(event["insert_id"], str)
        return Reply(200, {"code": 200, "events_ingested": len(body["events"])})

    return check


def connector(sink: Sink, client: httpx.AsyncClient, **options: object) -> Amplitude:
    config = AmplitudeConfig.model_validate({"api_key": KEY, "endpoint": sink.url, **options})
    return Amplitude(config, client)


async def test_calls_map_to_one_http_v2_request(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = amplitude_api("/2/httpapi", 1000)  # type: ignore[assignment]
    events = [
        track(
            "Order Completed",
            "m-1",
            userId=USER,
            anonymousId="anon-0001",
            properties={"revenue": 9.5, "sku": "A"},
            context={
                "ip": "203.0.113.9",
                "locale": "en-GB",
                "os": {"name": "iOS", "version": "17.1"},
                "device": {"id": "device-0001", "manufacturer": "Apple", "model": "iPhone"},
                "app": {"version": "2.1"},
                "traits": {"plan": "pro"},
                "location": {"city": "Leeds", "country": "GB"},
                "network": {"carrier": "EE"},
            },
        ),
        identify("m-2", userId=USER, traits={"email": "ada@example.com"}),
        segment("page", "m-3", anonymousId="anon-0001", name="Pricing"),
    ]
    result = await connector(sink, client).send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {})
    assert sink.requests[0].json()["events"] == [
        {
            "user_id": USER,
            "device_id": "device-0001",
            "event_type": "Order Completed",
            "time": EPOCH_MS,
            "insert_id": "m-1",
            "event_properties": {"revenue": 9.5, "sku": "A"},
            "user_properties": {"plan": "pro"},
            "ip": "203.0.113.9",
            "language": "en-GB",
            "os_name": "iOS",
            "os_version": "17.1",
            "device_manufacturer": "Apple",
            "device_model": "iPhone",
            "app_version": "2.1",
            "carrier": "EE",
            "city": "Leeds",
            "country": "GB",
            "revenue": 9.5,
        },
        {
            "user_id": USER,
            "event_type": "$identify",
            "time": EPOCH_MS,
            "insert_id": "m-2",
            "user_properties": {"$set": {"email": "ada@example.com"}},
        },
        {
            "device_id": "anon-0001",
            "event_type": "Viewed Pricing Page",
            "time": EPOCH_MS,
            "insert_id": "m-3",
        },
    ]


async def test_batch_api_and_min_id_length_option(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = amplitude_api("/batch", 2000, min_id_length=2)  # type: ignore[assignment]
    amplitude = connector(sink, client, api="batch", min_id_length=2)
    result = await amplitude.send([track(userId="u9"), track(message_id="m-2", userId="u9")])
    assert result.outcome is Outcome.DELIVERED
    assert sink.requests[0].json()["options"] == {"min_id_length": 2}
    assert (amplitude.batch_limit(), connector(sink, client).batch_limit()) == (2000, 1000)


async def test_group_alias_and_anonymous_events_are_refused_one_by_one(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = amplitude_api("/2/httpapi", 1000)  # type: ignore[assignment]
    events = [
        segment("group", "m-1", userId=USER, groupId="g-1"),
        track(userId=USER),
        segment("alias", "m-3", userId=USER, previousId="anon-0001"),
        track(userId=None),
    ]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.DELIVERED
    assert result.failed == {
        0: "Amplitude group calls are not supported (no group type is configured)",
        2: "Amplitude has no alias call in its event APIs",
        3: "Amplitude needs a user id or a device id",
    }
    assert len(sink.requests[0].json()["events"]) == 1


async def test_400_naming_events_fails_them_and_retries_the_rest(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(
        400,
        {
            "code": 400,
            "error": "Request missing required field",
            "events_with_invalid_fields": {"time": [1]},
            "events_with_missing_fields": {"event_type": [2]},
        },
    )
    events = [track(message_id=f"m-{n}", userId=USER) for n in range(3)]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.RETRY
    assert result.failed == {
        1: "Amplitude events with invalid fields: time",
        2: "Amplitude events with missing fields: event_type",
    }


async def test_400_without_event_list_is_permanent(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = lambda _: Reply(
        400, {"code": 400, "error": "Invalid API key", "missing_field": "api_key"}
    )
    result = await connector(sink, client).send([track(userId=USER)])
    assert (result.outcome, result.failed) == (Outcome.FAILED, {})


@pytest.mark.parametrize(("headers", "wait"), [({}, 30.0), ({"Retry-After": "7"}, 7.0)])
async def test_throttling_is_retried(
    sink: Sink, client: httpx.AsyncClient, headers: dict[str, str], wait: float
) -> None:
    throttled = {"code": 429, "error": "Too many requests for some devices and users"}
    sink.handler = lambda _: Reply(429, {**throttled, "throttled_users": {USER: 31}}, headers)
    result = await connector(sink, client).send([track(userId=USER)])
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, wait)


async def test_server_error_and_timeout_are_retried_with_the_key_masked(
    sink: Sink, impatient: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(500, {"code": 500, "error": "internal"})
    failed = await shown(connector(sink, impatient), [track(userId=USER)])
    sink.handler = lambda _: Reply(200, {"code": 200}, delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [track(userId=USER)])
    assert (failed.outcome, slow.outcome) == (Outcome.RETRY, Outcome.RETRY)
    for result in (failed, slow):
        assert result.exchange is not None
        assert KEY not in result.exchange.request_body
        assert '"api_key":"****"' in result.exchange.request_body
