"""HubSpot: checked as the CRM contacts batch upsert
(https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts)
and custom event occurrences
(https://developers.hubspot.com/docs/api-reference/legacy/events/send-event-data/guide)
describe them."""

from __future__ import annotations

import httpx

from headwater.connectors._common import stable_uuid
from headwater.connectors.base import Outcome
from headwater.connectors.hubspot import HubSpot, HubSpotConfig
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import TIMESTAMP, identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

TOKEN = "pat-na1-00000000-1111-2222-3333-444444444444"
EVENT = "pe1234567_order_completed"
UPSERT = "/crm/v3/objects/contacts/batch/upsert"
SEND = "/events/v3/send/batch"


def hubspot_api(request: Recorded) -> Reply:
    """Bearer token; upserts with idProperty email and no duplicate ids; occurrences with a
    fully qualified eventName, an email and an ISO occurredAt; 204 for events."""
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    inputs = request.json()["inputs"]
    if request.path == UPSERT:
        assert len(inputs) <= 100
        assert len({i["id"] for i in inputs}) == len(inputs), "duplicate ids in batch"
        assert all(i["idProperty"] == "email" for i in inputs)
        results = [{"id": str(n), "properties": i["properties"]} for n, i in enumerate(inputs)]
        return Reply(200, {"status": "COMPLETE", "results": results})
    assert request.path == SEND
    for occurrence in inputs:
        assert occurrence["eventName"].startswith("pe")
        assert "@" in occurrence["email"]
        assert occurrence["occurredAt"].endswith("Z")
    return Reply(204, "")


def connector(sink: Sink, client: httpx.AsyncClient, **options: object) -> HubSpot:
    config = HubSpotConfig.model_validate(
        {
            "access_token": TOKEN,
            "endpoint": sink.url,
            "events": {"Order Completed": EVENT},
            **options,
        }
    )
    return HubSpot(config, client)


async def test_identifies_upsert_contacts_merged_by_email(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = hubspot_api
    events = [
        identify(
            "m-1",
            traits={
                "email": "Ada@Example.com",
                "firstName": "Ada",
                "title": "CTO",
                "address": {"city": "Leeds", "postalCode": "LS1", "country": "GB"},
                "seats": 5,
                "favourite": "tea",
            },
        ),
        identify("m-2", traits={"email": "ada@example.com", "lastName": "Lovelace"}),
        identify("m-3", userId="u-2", traits={"email": "bob@example.com"}),
    ]
    result = await connector(sink, client, contact_properties={"seats": "seats"}).send(events)
    assert (result.outcome, result.failed) == (Outcome.DELIVERED, {})
    assert sink.requests[0].json() == {
        "inputs": [
            {
                "idProperty": "email",
                "id": "ada@example.com",
                "properties": {
                    "firstname": "Ada",
                    "jobtitle": "CTO",
                    "seats": 5,
                    "city": "Leeds",
                    "zip": "LS1",
                    "country": "GB",
                    "email": "ada@example.com",
                    "lastname": "Lovelace",
                },
            },
            {
                "idProperty": "email",
                "id": "bob@example.com",
                "properties": {"email": "bob@example.com"},
            },
        ]
    }


async def test_mapped_track_calls_become_event_occurrences(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = hubspot_api
    event = track(
        properties={"total": 5, "items": [1]},
        context={"traits": {"email": "ada@example.com"}},
    )
    result = await connector(sink, client).send([event])
    assert result.outcome is Outcome.DELIVERED
    assert (sink.requests[0].path, sink.requests[0].json()) == (
        SEND,
        {
            "inputs": [
                {
                    "eventName": EVENT,
                    "email": "ada@example.com",
                    "occurredAt": TIMESTAMP,
                    "uuid": stable_uuid("m-1"),
                    "properties": {"total": 5},
                }
            ]
        },
    )


async def test_calls_hubspot_cannot_take_are_refused(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = hubspot_api
    with_email = {"traits": {"email": "ada@example.com"}}
    events = [
        track("Signed Up", "m-1", context=with_email),
        identify("m-2", traits={"plan": "pro"}),
        segment("page", "m-3", userId="u-1", context=with_email),
        identify("m-4", traits={"email": "ada@example.com"}),
    ]
    result = await connector(sink, client).send(events)
    assert result.outcome is Outcome.DELIVERED
    assert result.failed == {
        0: "no HubSpot custom event is mapped to 'Signed Up'",
        1: "HubSpot needs an email to find the contact",
        2: "HubSpot takes identify and track calls, not page calls",
    }


async def test_multi_status_fails_only_the_listed_contacts(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(
        207,
        {
            "status": "COMPLETE",
            "results": [{"id": "1"}],
            "numErrors": 1,
            "errors": [
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "context": {"ids": ["bob@example.com"]},
                }
            ],
        },
    )
    events = [
        identify("m-1", traits={"email": "ada@example.com"}),
        identify("m-2", traits={"email": "bob@example.com"}),
    ]
    result = await connector(sink, client).send(events)
    assert (result.outcome, result.failed) == (
        Outcome.DELIVERED,
        {1: "HubSpot refused the contact: Property values were not valid"},
    )


async def test_validation_error_is_permanent(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = lambda _: Reply(
        400,
        {
            "status": "error",
            "message": "Event definition not found",
            "correlationId": "c-1",
            "category": "VALIDATION_ERROR",
        },
    )
    event = track(context={"traits": {"email": "ada@example.com"}})
    result = await connector(sink, client).send([event])
    assert result.outcome is Outcome.FAILED


async def test_rate_limit_waits_for_the_window_and_secrets_are_masked(
    sink: Sink, impatient: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(
        429,
        {"status": "error", "message": "You have reached your secondly limit.", "policyName": "x"},
    )
    limited = await shown(connector(sink, impatient), [identify(traits={"email": "a@b.io"})])
    sink.handler = lambda _: Reply(200, {}, delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [identify(traits={"email": "a@b.io"})])
    sink.handler = lambda _: Reply(503, {"status": "error"})
    broken = await shown(connector(sink, impatient), [identify(traits={"email": "a@b.io"})])
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 10.0)
    assert (slow.outcome, broken.outcome) == (Outcome.RETRY, Outcome.RETRY)
    for result in (limited, slow):
        assert result.exchange is not None
        assert result.exchange.request_headers["authorization"] == "****"
