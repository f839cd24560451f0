"""Braze /users/track: checked as
https://www.braze.com/docs/api/endpoints/user_data/post_user_track and
https://www.braze.com/docs/api/errors describe them."""

from __future__ import annotations

import time

import httpx

from headwater.connectors.base import Outcome
from headwater.connectors.braze import Braze, BrazeConfig
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import TIMESTAMP, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

KEY = "braze-rest-key-00000000-1111"
IDENTITIES = ("external_id", "user_alias", "braze_id")


def users_track(request: Recorded) -> Reply:
    """Bearer REST key; up to 75 objects per array; each object names its user."""
    assert (request.method, request.path) == ("POST", "/users/track")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert set(body) <= {"attributes", "events", "purchases"}
    for name, items in body.items():
        assert 1 <= len(items) <= 75
        for item in items:
            assert any(key in item for key in IDENTITIES), item
            if name != "attributes":
                assert isinstance(item["time"], str)
    processed = {f"{name}_processed": len(items) for name, items in body.items()}
    return Reply(201, {"message": "success", **processed})


def connector(sink: Sink, client: httpx.AsyncClient, **options: object) -> Braze:
    config = BrazeConfig.model_validate({"api_key": KEY, "endpoint": sink.url, **options})
    return Braze(config, client)


async def test_calls_become_attributes_events_and_purchases_in_one_request(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = users_track
    events = [
        identify(
            traits={
                "email": "ada@example.com",
                "firstName": "Ada",
                "birthday": "1990-12-10T00:00:00Z",
                "address": {"city": "Leeds", "country": "GB"},
                "plan": "pro",
            }
        ),
        track("Signed Up", "m-2", userId=None, anonymousId="anon-1", properties={"via": "ad"}),
        track(
            "Order Completed",
            "m-3",
            properties={
                "currency": "EUR",
                "products": [{"product_id": "p-1", "price": 5, "quantity": 2, "size": "L"}],
            },
        ),
        segment("group", "m-4", userId="u-1", groupId="acme"),
        segment("page", "m-5", userId="u-1", name="Pricing"),
    ]
    result = await connector(sink, client, track_pages=True, app_id="app-9").send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {})
    assert sink.requests[0].json() == {
        "attributes": [
            {
                "external_id": "u-1",
                "email": "ada@example.com",
                "first_name": "Ada",
                "dob": "1990-12-10",
                "home_city": "Leeds",
                "country": "GB",
                "plan": "pro",
            },
            {"external_id": "u-1", "ab_segment_group_acme": True},
        ],
        "events": [
            {
                "user_alias": {"alias_name": "anon-1", "alias_label": "anonymous_id"},
                "time": TIMESTAMP,
                "app_id": "app-9",
                "name": "Signed Up",
                "properties": {"via": "ad"},
            },
            {
                "external_id": "u-1",
                "time": TIMESTAMP,
                "app_id": "app-9",
                "name": "Viewed Pricing Page",
                "properties": {},
            },
        ],
        "purchases": [
            {
                "external_id": "u-1",
                "time": TIMESTAMP,
                "app_id": "app-9",
                "product_id": "p-1",
                "currency": "EUR",
                "price": 5,
                "quantity": 2,
                "properties": {"size": "L"},
            }
        ],
    }


async def test_pages_without_track_pages_and_aliases_are_refused(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = users_track
    events = [
        segment("page", "m-1", userId="u-1"),
        segment("alias", "m-2", userId="u-1", previousId="anon-1"),
        track(message_id="m-3"),
    ]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.DELIVERED
    assert result.failed == {
        0: "page calls are not sent to Braze (track_pages is off)",
        1: "Braze alias merges go through /users/identify, which is not supported",
    }


async def test_minor_errors_fail_only_the_events_behind_them(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    minor = "'time' must be a valid ISO 8601 string"
    sink.handler = lambda _: Reply(
        201,
        {
            "message": "success",
            "events_processed": 1,
            "errors": [{"type": minor, "input_array": "events", "index": 1}],
        },
    )
    events = [identify("m-1", traits={"plan": "pro"}), track(message_id="m-2"), track("B", "m-3")]
    result = await connector(sink, client).send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {2: f"Braze refused it: {minor}"})


async def test_fatal_errors_are_permanent(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = lambda _: Reply(401, {"message": "Invalid API Key"})
    result = await connector(sink, client).send([track()])
    assert result.outcome is Outcome.FAILED
    assert result.error == 'HTTP 401: {"message": "Invalid API Key"}'


async def test_rate_limit_waits_for_the_reset(sink: Sink, client: httpx.AsyncClient) -> None:
    reset = int(time.time()) + 40
    sink.handler = lambda _: Reply(
        429, {"message": "Rate limit exceeded"}, {"X-RateLimit-Reset": str(reset)}
    )
    result = await connector(sink, client).send([track()])
    assert result.outcome is Outcome.RETRY
    assert result.retry_after is not None
    assert 35 <= result.retry_after <= 40


async def test_server_errors_and_timeouts_are_retried_with_the_key_masked(
    sink: Sink, impatient: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(502, "bad gateway")
    broken = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(201, {"message": "success"}, delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [track()])
    assert (broken.outcome, slow.outcome) == (Outcome.RETRY, Outcome.RETRY)
    for result in (broken, slow):
        assert result.exchange is not None
        assert result.exchange.request_headers["authorization"] == "****"
        assert KEY not in repr(result)


async def test_purchases_beyond_75_spill_into_another_request(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    def second_refuses_its_first_purchase(request: Recorded) -> Reply:
        users_track(request)
        if len(sink.requests) == 1:
            return Reply(201, {"message": "success"})
        error = {"type": "invalid product", "input_array": "purchases", "index": 2}
        return Reply(201, {"message": "success", "errors": [error]})

    sink.handler = second_refuses_its_first_purchase
    products = [{"product_id": "p-1", "price": 1}, {"product_id": "p-2", "price": 2}]
    orders = [
        track("Order Completed", f"m-{n}", properties={"products": products}) for n in range(40)
    ]
    huge = track("Order Completed", "m-huge", properties={"products": products * 38})
    result = await connector(sink, client).send([*orders, huge])
    assert [len(r.json()["purchases"]) for r in sink.requests] == [74, 6]
    assert result.outcome is Outcome.DELIVERED
    assert result.failed == {
        38: "Braze refused it: invalid product",
        40: "an order of more than 75 products (Braze's purchases per request)",
    }
