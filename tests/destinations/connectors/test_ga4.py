"""GA4 Measurement Protocol: checked as
https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events
describes it."""

from __future__ import annotations

import re

import httpx

from headwater.connectors.base import Outcome
from headwater.connectors.ga4 import GoogleAnalytics4, GoogleAnalytics4Config
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import EPOCH_MS, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

SECRET = "ga4-api-secret-XYZ"
MEASUREMENT = "G-ABC123XYZ"
MICROS = EPOCH_MS * 1000
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


def measurement_protocol(request: Recorded) -> Reply:
    """POST /mp/collect with measurement_id and api_secret in the query, a client_id and 1-25
    events with valid names and at most 25 params each; answers 204 with no body."""
    assert (request.method, request.path) == ("POST", "/mp/collect")
    assert request.query == {"measurement_id": [MEASUREMENT], "api_secret": [SECRET]}
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert isinstance(body["client_id"], str)
    assert body["client_id"]
    assert 1 <= len(body["events"]) <= 25
    for event in body["events"]:
        assert NAME.match(event["name"]), event["name"]
        assert len(event["params"]) <= 25
    return Reply(204, "")


def connector(sink: Sink, client: httpx.AsyncClient) -> GoogleAnalytics4:
    config = GoogleAnalytics4Config(
        measurement_id=MEASUREMENT, api_secret=SECRET, endpoint=sink.url
    )
    return GoogleAnalytics4(config, client)


async def test_events_of_one_user_share_a_request(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = measurement_protocol
    events = [
        track(
            "Order Completed",
            anonymousId="cid-1",
            properties={
                "order_id": "o-9",
                "revenue": 25.5,
                "currency": "EUR",
                "gift": True,
                "products": [{"product_id": "p-1", "sku": "S-1", "name": "Mug", "price": 25.5}],
            },
        ),
        segment(
            "page",
            "m-2",
            userId="u-1",
            anonymousId="cid-1",
            name="Pricing",
            context={"page": {"url": "https://x.example/pricing", "title": "Pricing"}},
        ),
        segment("screen", "m-3", userId="u-1", anonymousId="cid-1", name="Home"),
        track("2FA Code Sent", "m-4", anonymousId="cid-1", properties={"x": "y" * 150}),
    ]
    result = await connector(sink, client).send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {})
    assert len(sink.requests) == 1
    assert sink.requests[0].json() == {
        "client_id": "cid-1",
        "user_id": "u-1",
        "events": [
            {
                "name": "purchase",
                "params": {
                    "transaction_id": "o-9",
                    "revenue": 25.5,
                    "currency": "EUR",
                    "value": 25.5,
                    "items": [{"item_id": "p-1", "item_name": "Mug", "price": 25.5}],
                },
                "timestamp_micros": MICROS,
            },
            {
                "name": "page_view",
                "params": {"page_location": "https://x.example/pricing", "page_title": "Pricing"},
                "timestamp_micros": MICROS,
            },
            {"name": "screen_view", "params": {"screen_name": "Home"}, "timestamp_micros": MICROS},
            {"name": "e_2fa_code_sent", "params": {"x": "y" * 100}, "timestamp_micros": MICROS},
        ],
    }


async def test_other_clients_get_their_own_request_and_non_events_are_refused(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = measurement_protocol
    events = [
        track("Signed Up", "m-1", userId=None, anonymousId="cid-1"),
        identify("m-2"),
        track("Signed Up", "m-3", userId=None, anonymousId="cid-2"),
        track("Signed Up", "m-4", userId=None),
    ]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.DELIVERED
    assert result.failed == {
        1: "GA4's Measurement Protocol takes events only, not identify calls",
        3: "GA4 needs a client id: the event has neither anonymousId nor userId",
    }
    bodies = sorted((r.json() for r in sink.requests), key=lambda body: body["client_id"])
    assert [(b["client_id"], [e["name"] for e in b["events"]]) for b in bodies] == [
        ("cid-1", ["sign_up"]),
        ("cid-2", ["sign_up"]),
    ]


async def test_one_retryable_request_retries_the_batch(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = lambda r: Reply(503 if r.json()["client_id"] == "cid-2" else 204, "")
    events = [
        track(message_id="m-1", userId=None, anonymousId="cid-1"),
        track(message_id="m-2", userId=None, anonymousId="cid-2"),
    ]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.RETRY
    assert len(sink.requests) == 2


async def test_http_errors(sink: Sink, impatient: httpx.AsyncClient) -> None:
    sink.handler = lambda _: Reply(400, {"error": {"code": 400, "message": "bad"}})
    bad = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(429, "", {"Retry-After": "2"})
    limited = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(204, "", delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [track()])
    assert bad.outcome is Outcome.FAILED
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 2.0)
    assert slow.outcome is Outcome.RETRY
    for result in (bad, limited, slow):
        assert result.exchange is not None
        assert SECRET not in result.exchange.url
        assert "api_secret=****" in result.exchange.url
