"""Intercom: checked as the Contacts and Data Events APIs
(https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts,
https://developers.intercom.com/docs/references/rest-api/api.intercom.io/data-events)
describe them."""

from __future__ import annotations

import time

import httpx

from headwater.connectors.base import Outcome
from headwater.connectors.intercom import Intercom, IntercomConfig
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import EPOCH_MS, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

TOKEN = "dG9rOjAwMDAwMDAwXzExMTE="
SECONDS = EPOCH_MS // 1000
EMPTY_SEARCH = {"type": "list", "data": [], "total_count": 0}


def intercom_api(existing: dict[str, str]) -> object:
    """Bearer token and Intercom-Version on every call; search by external_id; create and
    update contacts; events need a name, created_at in seconds and a user."""

    def check(request: Recorded) -> Reply:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["intercom-version"] == "2.11"
        assert request.headers["accept"] == "application/json"
        body = request.json()
        if (request.method, request.path) == ("POST", "/contacts/search"):
            assert body["query"]["field"] == "external_id"
            contact_id = existing.get(body["query"]["value"])
            found = [{"type": "contact", "id": contact_id}] if contact_id else []
            return Reply(200, {"type": "list", "data": found, "total_count": len(found)})
        if (request.method, request.path) == ("POST", "/contacts"):
            assert body["role"] == "user"
            return Reply(200, {"type": "contact", "id": "new-1", **body})
        if request.method == "PUT":
            assert request.path.removeprefix("/contacts/") in existing.values()
            return Reply(200, {"type": "contact", **body})
        assert (request.method, request.path) == ("POST", "/events")
        assert isinstance(body["event_name"], str)
        assert isinstance(body["created_at"], int)
        assert "user_id" in body or "email" in body
        assert len(body.get("metadata", {})) <= 10
        return Reply(202, "")

    return check


def connector(sink: Sink, client: httpx.AsyncClient) -> Intercom:
    return Intercom(IntercomConfig(access_token=TOKEN, endpoint=sink.url), client)


async def test_identify_creates_a_missing_contact(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = intercom_api({})  # type: ignore[assignment]
    event = identify(
        traits={
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "createdAt": "2026-01-01T00:00:00Z",
            "plan": "pro",
            "tags": ["a"],
        }
    )
    result = await connector(sink, client).send([event])
    assert result.outcome is Outcome.DELIVERED
    search, create = sink.requests
    assert search.json() == {"query": {"field": "external_id", "operator": "=", "value": "u-1"}}
    assert create.json() == {
        "role": "user",
        "external_id": "u-1",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "signed_up_at": 1767225600,
        "custom_attributes": {"plan": "pro"},
    }


async def test_identify_updates_an_existing_contact(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = intercom_api({"u-1": "6502d0b1a0"})  # type: ignore[assignment]
    result = await connector(sink, client).send([identify(traits={"name": "Ada"})])
    assert result.outcome is Outcome.DELIVERED
    update = sink.requests[1]
    assert (update.method, update.path) == ("PUT", "/contacts/6502d0b1a0")
    assert update.json() == {"external_id": "u-1", "name": "Ada"}


async def test_track_submits_a_data_event(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = intercom_api({})  # type: ignore[assignment]
    props = {f"p{n}": n for n in range(12)} | {"nested": {"x": 1}}
    result = await connector(sink, client).send([track(properties=props)])
    anonymous = await connector(sink, client).send(
        [track(userId=None, context={"traits": {"email": "ada@example.com"}})]
    )
    assert (result.outcome, anonymous.outcome) == (Outcome.DELIVERED, Outcome.DELIVERED)
    assert sink.requests[0].json() == {
        "event_name": "Order Completed",
        "created_at": SECONDS,
        "user_id": "u-1",
        "metadata": {f"p{n}": n for n in range(10)},
    }
    assert sink.requests[1].json()["email"] == "ada@example.com"


async def test_calls_it_cannot_take_are_refused(sink: Sink, client: httpx.AsyncClient) -> None:
    page = await connector(sink, client).send([segment("page", userId="u-1")])
    nobody = await connector(sink, client).send([identify(userId=None)])
    assert (page.outcome, page.error) == (
        Outcome.FAILED,
        "Intercom takes identify and track calls, not page",
    )
    assert nobody.error == "Intercom needs a userId to identify a contact"
    assert sink.requests == []


async def test_documented_errors(sink: Sink, impatient: httpx.AsyncClient) -> None:
    unauthorized = {
        "type": "error.list",
        "request_id": "r-1",
        "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}],
    }
    sink.handler = lambda _: Reply(401, unauthorized)
    denied = await shown(connector(sink, impatient), [track()])
    reset = int(time.time()) + 20
    limited_body = {
        "type": "error.list",
        "errors": [{"code": "rate_limit_exceeded", "message": "Exceeded rate limit"}],
    }
    sink.handler = lambda _: Reply(429, limited_body, {"X-RateLimit-Reset": str(reset)})
    limited = await shown(connector(sink, impatient), [identify()])
    sink.handler = lambda _: Reply(500, {"type": "error.list", "errors": []})
    broken = await shown(connector(sink, impatient), [track()])
    sink.handler = lambda _: Reply(200, EMPTY_SEARCH, delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [identify()])
    assert denied.outcome is Outcome.FAILED
    assert limited.outcome is Outcome.RETRY
    assert limited.retry_after is not None
    assert 15 <= limited.retry_after <= 20
    assert (broken.outcome, slow.outcome) == (Outcome.RETRY, Outcome.RETRY)
    for result in (denied, slow):
        assert result.exchange is not None
        assert result.exchange.request_headers["authorization"] == "****"
        assert TOKEN not in repr(result)
