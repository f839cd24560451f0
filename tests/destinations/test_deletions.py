"""The face the privacy regulation job calls (``headwater.delivery``): which destinations a
person's deletion goes to, and one deletion forwarded, on a real database with destinations
created through the service (secrets sealed) and a recording server standing in for the vendor
(Braze's ``/users/delete``: https://www.braze.com/docs/api/endpoints/user_data/post_user_delete).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import destinations, workspaces
from headwater.connectors import Outcome, SendResult
from headwater.delivery import (
    DeletingDestination,
    DeletionSubject,
    deleting_destinations,
    forward_deletion,
)
from headwater.settings import Settings
from headwater.storage import connected
from tests.destinations.sink import Recorded, Reply, Sink

KEY = "braze-rest-key-sealed-0001"
PERSON = DeletionSubject(regulation_id="reg_9", user_ids=("user-1",), emails=("ada@example.com",))


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as running:
        yield running
    assert running.errors == [], running.errors


def users_delete(request: Recorded) -> Reply:
    """Braze: Bearer key (the sealed secret, opened), one kind of identifier per request."""
    assert (request.method, request.path) == ("POST", "/users/delete")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json()
    assert len(body) == 1, body
    return Reply(201, {"deleted": 1, "message": "success"})


async def braze(engine: AsyncEngine, settings: Settings, url: str, **fields: object) -> int:
    created = await destinations.create_destination(
        engine,
        settings,
        workspace=str(fields.pop("workspace", "default")),
        name=str(fields.pop("name", "braze")),
        kind="braze",
        config={"api_key": KEY, "endpoint": url},
        **fields,  # type: ignore[arg-type]
    )
    return created["id"]


async def workspace_id(engine: AsyncEngine, slug: str) -> int:
    async with connected(engine) as tx:
        return await workspaces.workspace_id(tx, slug)


async def test_every_deleting_destination_of_the_workspace_enabled_or_not(
    engine: AsyncEngine, settings: Settings, sink: Sink
) -> None:
    await workspaces.bootstrap(engine)
    await workspaces.create_workspace(engine, slug="other")
    on = await braze(engine, settings, sink.url, name="braze on")
    off = await braze(engine, settings, sink.url, name="braze off", enabled=False)
    await braze(engine, settings, sink.url, workspace="other")
    await destinations.create_destination(
        engine,
        settings,
        workspace="default",
        name="hook",
        kind="webhook",
        config={"url": sink.url},
    )
    default = await workspace_id(engine, "default")
    async with connected(engine) as tx:
        found = await deleting_destinations(tx, workspace_id=default)
    assert found == [
        DeletingDestination(id=on, name="braze on", kind="braze", enabled=True),
        DeletingDestination(id=off, name="braze off", kind="braze", enabled=False),
    ]


async def test_forward_deletion_opens_the_sealed_key_and_masks_the_result(
    engine: AsyncEngine, settings: Settings, sink: Sink
) -> None:
    await workspaces.bootstrap(engine)
    destination = await braze(engine, settings, sink.url, enabled=False)
    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT config::text FROM destinations"))
    assert KEY not in stored  # sealed at rest: forward_deletion must open it
    sink.handler = users_delete
    default = await workspace_id(engine, "default")
    async with httpx.AsyncClient(timeout=5) as client:
        result = await forward_deletion(
            engine,
            client,
            settings=settings,
            workspace_id=default,
            destination_id=destination,
            subject=PERSON,
        )
    assert result.outcome is Outcome.DELIVERED
    assert [r.json() for r in sink.requests] == [
        {"external_ids": ["user-1"]},
        {"email_addresses": ["ada@example.com"]},
    ]
    assert result.exchange is not None
    assert KEY not in str(result.exchange)
    assert result.exchange.request_headers["authorization"] == "****"


async def test_forward_deletion_reports_retries_and_refusals(
    engine: AsyncEngine, settings: Settings, sink: Sink
) -> None:
    await workspaces.bootstrap(engine)
    await workspaces.create_workspace(engine, slug="other")
    destination = await braze(engine, settings, sink.url)
    foreign = await braze(engine, settings, sink.url, workspace="other")
    hook = await destinations.create_destination(
        engine, settings, workspace="default", name="hook", kind="webhook", config={"url": sink.url}
    )
    default = await workspace_id(engine, "default")

    async def forward(destination_id: int, subject: DeletionSubject = PERSON) -> SendResult:
        async with httpx.AsyncClient(timeout=5) as client:
            return await forward_deletion(
                engine,
                client,
                settings=settings,
                workspace_id=default,
                destination_id=destination_id,
                subject=subject,
            )

    sink.handler = lambda _: Reply(503, {"message": "unavailable"})
    retried = await forward(destination)
    assert retried.outcome is Outcome.RETRY
    sink.handler = lambda _: Reply(401, {"message": f"key {KEY} is invalid"})
    refused = await forward(destination)
    assert refused.outcome is Outcome.FAILED
    assert KEY not in f"{refused.error} {refused.exchange}"
    sent = len(sink.requests)
    nobody = await forward(destination, DeletionSubject(regulation_id="reg_0"))
    assert nobody.outcome is Outcome.FAILED
    for other in (foreign, hook["id"], 999_999):  # another workspace's, not deleting, gone
        result = await forward(other)
        assert result.outcome is Outcome.FAILED
        assert result.error
    assert len(sink.requests) == sent  # none of those sent anything
