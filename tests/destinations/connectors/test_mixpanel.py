"""Mixpanel: checked as https://docs.mixpanel.com/reference/import-events and the Engage API
(https://docs.mixpanel.com/reference/profile-set) describe them."""

from __future__ import annotations

import httpx
import pydantic
import pytest

from headwater.connectors._common import basic_auth, stable_uuid
from headwater.connectors.base import Outcome
from headwater.connectors.mixpanel import Mixpanel, MixpanelConfig
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import EPOCH_MS, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

TOKEN = "0123456789abcdef0123456789abcdef"
IMPORTED = {"code": 200, "num_records_imported": 1, "status": "OK"}


def mixpanel_api(request: Recorded) -> Reply:
    """/import: Basic auth, strict=1, a JSON array of events with the required properties;
    /engage: verbose JSON array of updates carrying the token."""
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    if request.path == "/import":
        assert request.query["strict"] == ["1"]
        assert request.headers["authorization"] == basic_auth(TOKEN)
        batch = request.json()
        assert 1 <= len(batch) <= 2000
        for record in batch:
            assert isinstance(record["event"], str)
            for required in ("time", "distinct_id", "$insert_id"):
                assert required in record["properties"], required
            assert len(record["properties"]["$insert_id"]) <= 36
        return Reply(200, {**IMPORTED, "num_records_imported": len(batch)})
    assert request.path == "/engage"
    assert request.query["verbose"] == ["1"]
    assert all(update["$token"] == TOKEN for update in request.json())
    return Reply(200, {"status": 1, "error": None})


def connector(sink: Sink, client: httpx.AsyncClient, **options: object) -> Mixpanel:
    config = MixpanelConfig.model_validate(
        {"project_token": TOKEN, "endpoint": sink.url, **options}
    )
    return Mixpanel(config, client)


async def test_track_page_and_screen_go_to_import_in_one_request(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = mixpanel_api
    events = [
        track(
            "Order Completed",
            "m-1",
            anonymousId="a-1",
            properties={"total": 5},
            context={
                "ip": "203.0.113.9",
                "page": {"url": "https://shop.example/cart", "referrer": "https://x.example"},
                "os": {"name": "iOS"},
                "app": {"version": "2.1"},
                "device": {"manufacturer": "Apple", "model": "iPhone15,2"},
            },
        ),
        segment("page", "m-2", anonymousId="a-1", name="Pricing"),
        segment("screen", "hw-00000000-0000-4000-8000-000000000001", userId="u-1"),
    ]
    result = await connector(sink, client).send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {})
    assert len(sink.requests) == 1
    assert sink.requests[0].json() == [
        {
            "event": "Order Completed",
            "properties": {
                "total": 5,
                "$user_id": "u-1",
                "$device_id": "a-1",
                "$ip": "203.0.113.9",
                "$current_url": "https://shop.example/cart",
                "$referrer": "https://x.example",
                "$os": "iOS",
                "$app_version_string": "2.1",
                "$manufacturer": "Apple",
                "$model": "iPhone15,2",
                "time": EPOCH_MS,
                "distinct_id": "u-1",
                "$insert_id": "m-1",
            },
        },
        {
            "event": "Viewed Pricing Page",
            "properties": {
                "$device_id": "a-1",
                "time": EPOCH_MS,
                "distinct_id": "a-1",
                "$insert_id": "m-2",
            },
        },
        {
            "event": "Loaded a Screen",
            "properties": {
                "$user_id": "u-1",
                "time": EPOCH_MS,
                "distinct_id": "u-1",
                "$insert_id": stable_uuid("hw-00000000-0000-4000-8000-000000000001"),
            },
        },
    ]


async def test_identify_sets_profile_properties_with_reserved_names(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = mixpanel_api
    event = identify(
        traits={
            "email": "ada@example.com",
            "firstName": "Ada",
            "createdAt": "2026-01-01",
            "plan": "pro",
        },
        context={"ip": "203.0.113.9"},
    )
    result = await connector(sink, client).send([event])
    assert result.outcome is Outcome.DELIVERED
    assert [r.path for r in sink.requests] == ["/engage"]
    assert sink.requests[0].json() == [
        {
            "$token": TOKEN,
            "$distinct_id": "u-1",
            "$set": {
                "$email": "ada@example.com",
                "$first_name": "Ada",
                "$created": "2026-01-01",
                "plan": "pro",
            },
            "$ip": "203.0.113.9",
        }
    ]


async def test_service_account_authenticates_import_with_project_id(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    def service_account(request: Recorded) -> Reply:
        assert request.headers["authorization"] == basic_auth("sa.user", "sa-secret-value")
        assert request.query == {"strict": ["1"], "project_id": ["12345"]}
        return Reply(200, IMPORTED)

    sink.handler = service_account
    mixpanel = connector(
        sink,
        client,
        service_account_username="sa.user",
        service_account_secret="sa-secret-value",
        project_id="12345",
    )
    result = await shown(mixpanel, [track()])
    assert result.outcome is Outcome.DELIVERED
    assert result.exchange is not None
    assert result.exchange.request_headers["authorization"] == "****"


async def test_mixed_batch_with_refused_calls(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = mixpanel_api
    events = [
        track(message_id="m-1"),
        segment("group", "m-2", userId="u-1", groupId="g-1"),
        identify("m-3", traits={"plan": "pro"}),
        segment("alias", "m-4", userId="u-1", previousId="a-1"),
    ]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.DELIVERED
    assert sorted(result.failed) == [1, 3]
    assert "Group Analytics" in result.failed[1]
    assert "alias" in result.failed[3]
    assert sorted(r.path for r in sink.requests) == ["/engage", "/import"]


async def test_import_400_fails_only_the_listed_records(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    message = "'properties.time' is invalid: must be specified as seconds since epoch"
    sink.handler = lambda _: Reply(
        400,
        {
            "code": 400,
            "error": "some data points in the request failed validation",
            "status": "Bad Request",
            "num_records_imported": 2,
            "failed_records": [
                {"index": 1, "insert_id": "m-2", "field": "properties.time", "message": message}
            ],
        },
    )
    events = [track(message_id=f"m-{n}") for n in (1, 2, 3)]
    result = await connector(sink, client).send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {1: message})


async def test_engage_refusal_in_a_200_body_fails_the_update(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(200, {"status": 0, "error": "$token is invalid"})
    result = await connector(sink, client).send([identify(traits={"plan": "pro"})])
    assert result.outcome is Outcome.FAILED
    assert result.failed == {0: "Mixpanel refused the profile update: $token is invalid"}


async def test_401_is_permanent(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = lambda _: Reply(
        401, {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}
    )
    result = await connector(sink, client).send([track()])
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert result.error.startswith("HTTP 401")


async def test_429_and_5xx_are_retried(sink: Sink, client: httpx.AsyncClient) -> None:
    limited = {"code": 429, "error": "Project exceeded rate limits.", "status": "Too Many Requests"}
    sink.handler = lambda _: Reply(429, limited, {"Retry-After": "4"})
    throttled = await connector(sink, client).send([track()])
    sink.handler = lambda _: Reply(503, "upstream unavailable")
    broken = await connector(sink, client).send([track(), identify("m-2")])
    assert (throttled.outcome, throttled.retry_after) == (Outcome.RETRY, 4.0)
    assert broken.outcome is Outcome.RETRY


async def test_timeout_is_retried_with_the_token_masked(
    sink: Sink, impatient: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(200, {"status": 1, "error": None}, delay=TIMEOUT * 3)
    result = await shown(connector(sink, impatient), [identify(traits={"plan": "pro"})])
    assert result.outcome is Outcome.RETRY
    assert result.exchange is not None
    assert TOKEN not in result.exchange.request_body
    assert '"$token":"****"' in result.exchange.request_body


def test_a_service_account_needs_all_its_parts() -> None:
    with pytest.raises(pydantic.ValidationError, match="username, secret and project_id"):
        MixpanelConfig(project_token=TOKEN, service_account_username="sa.user")
