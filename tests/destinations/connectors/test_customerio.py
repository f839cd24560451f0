"""Customer.io Track API: checked as https://docs.customer.io/api/track/ describes it."""

from __future__ import annotations

import re

import httpx
import pytest

from headwater.connectors._common import basic_auth
from headwater.connectors.base import Outcome
from headwater.connectors.customerio import CustomerIo, CustomerIoConfig, ulid
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import EPOCH_MS, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

SITE = "site-123"
KEY = "track-api-key-abcdef"
SECONDS = EPOCH_MS // 1000
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def track_api(request: Recorded) -> Reply:
    """Basic site_id:api_key; JSON bodies; events carry a name, Unix-seconds timestamp and a
    ULID id; Customer.io answers 200 with an empty object."""
    assert request.headers["authorization"] == basic_auth(SITE, KEY)
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    if request.path.endswith("/events"):
        assert request.method == "POST"
        assert isinstance(body["name"], str)
        assert isinstance(body["timestamp"], int)
        assert ULID.match(body["id"])
    return Reply(200, {})


def connector(sink: Sink, client: httpx.AsyncClient) -> CustomerIo:
    config = CustomerIoConfig(site_id=SITE, api_key=KEY, endpoint=sink.url)
    return CustomerIo(config, client)


async def send_one(sink: Sink, client: httpx.AsyncClient, event: dict[str, object]) -> Recorded:
    sink.handler = track_api
    result = await connector(sink, client).send([event])
    assert result.outcome is Outcome.DELIVERED, result.error
    (request,) = sink.requests
    return request


async def test_identify_updates_the_person(sink: Sink, client: httpx.AsyncClient) -> None:
    event = identify(
        userId="u 1/2",
        traits={"email": "ada@example.com", "createdAt": "2026-01-01T00:00:00Z", "plan": "pro"},
    )
    request = await send_one(sink, client, event)
    assert (request.method, request.path) == ("PUT", "/api/v1/customers/u%201%2F2")
    assert request.json() == {"email": "ada@example.com", "plan": "pro", "created_at": 1767225600}


async def test_identify_by_email_without_user_id(sink: Sink, client: httpx.AsyncClient) -> None:
    event = identify(userId=None, traits={"email": "ada@example.com"})
    request = await send_one(sink, client, event)
    assert request.path == "/api/v1/customers/ada%40example.com"


async def test_track_sends_a_deduplicable_event(sink: Sink, client: httpx.AsyncClient) -> None:
    request = await send_one(sink, client, track("Order Completed", properties={"total": 5}))
    assert (request.method, request.path) == ("POST", "/api/v1/customers/u-1/events")
    assert request.json() == {
        "name": "Order Completed",
        "data": {"total": 5},
        "timestamp": SECONDS,
        "id": ulid("m-1", EPOCH_MS),
    }


async def test_anonymous_track(sink: Sink, client: httpx.AsyncClient) -> None:
    request = await send_one(sink, client, track(userId=None, anonymousId="anon-1"))
    assert request.path == "/api/v1/events"
    assert request.json()["anonymous_id"] == "anon-1"


async def test_page_and_screen_are_typed_events(sink: Sink, client: httpx.AsyncClient) -> None:
    page = segment("page", userId="u-1", properties={"url": "https://x.example/pricing"})
    request = await send_one(sink, client, page)
    assert request.json() == {
        "name": "https://x.example/pricing",
        "data": {"url": "https://x.example/pricing"},
        "type": "page",
        "timestamp": SECONDS,
        "id": ulid("m-1", EPOCH_MS),
    }
    sink.requests.clear()
    screen = await send_one(sink, client, segment("screen", userId="u-1", name="Home"))
    assert (screen.json()["type"], screen.json()["name"]) == ("screen", "Home")


async def test_alias_merges_the_previous_profile(sink: Sink, client: httpx.AsyncClient) -> None:
    request = await send_one(sink, client, segment("alias", userId="u-1", previousId="anon-1"))
    assert (request.method, request.path) == ("POST", "/api/v1/merge_customers")
    assert request.json() == {"primary": {"id": "u-1"}, "secondary": {"id": "anon-1"}}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (segment("group", userId="u-1", groupId="g"), "Customer.io cannot take group calls"),
        (
            segment("page", userId=None, anonymousId="a", properties={"url": "https://x"}),
            "Customer.io takes page calls from identified people only",
        ),
        (identify(userId=None), "Customer.io needs a userId or an email to identify someone"),
    ],
)
async def test_calls_it_cannot_take_are_refused(
    sink: Sink, client: httpx.AsyncClient, event: dict[str, object], reason: str
) -> None:
    result = await connector(sink, client).send([event])
    assert (result.outcome, result.error) == (Outcome.FAILED, reason)
    assert sink.requests == []


async def test_errors(sink: Sink, impatient: httpx.AsyncClient) -> None:
    sink.handler = lambda _: Reply(401, {"meta": {"error": "Unauthorized request"}})
    denied = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(429, {"meta": {"error": "rate limited"}}, {"Retry-After": "1"})
    limited = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(500, {"meta": {"error": "internal"}})
    broken = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(200, {}, delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [track()])
    assert denied.outcome is Outcome.FAILED
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 1.0)
    assert (broken.outcome, slow.outcome) == (Outcome.RETRY, Outcome.RETRY)
    for result in (denied, slow):
        assert result.exchange is not None
        assert result.exchange.request_headers["authorization"] == "****"
