"""Destination instances through the service layer, on a real database: secrets sealed at rest
and masked when read, config merged on update, bad input refused with 4xx errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import destinations
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.settings import Settings
from headwater.workspaces import bootstrap

HOOK = {"url": "https://example.com/hook", "secret": "s3cret", "headers": {"Authorization": "k"}}


async def test_secrets_are_sealed_at_rest_and_never_returned(
    engine: AsyncEngine, settings: Settings
) -> None:
    await bootstrap(engine)
    created = await destinations.create_destination(
        engine, settings, workspace="default", name="hook", kind="webhook", config=HOOK
    )
    assert created["config"]["secret"] == {"set": True}
    assert created["config"]["headers"] == {"Authorization": {"set": True}}
    assert created["config"]["url"] == HOOK["url"]
    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT config::text FROM destinations"))
    assert "s3cret" not in stored
    assert '"$secret"' in stored
    updated = await destinations.update_destination(
        engine,
        settings,
        workspace="default",
        destination_id=created["id"],
        changes={"config": {"url": "https://example.com/other", "secret": {"set": True}}},
    )
    assert updated["config"]["url"] == "https://example.com/other"
    assert updated["config"]["secret"] == {"set": True}
    cleared = await destinations.update_destination(
        engine,
        settings,
        workspace="default",
        destination_id=created["id"],
        changes={"config": {"secret": None}},
    )
    assert cleared["config"]["secret"] is None


async def test_bad_input_is_refused_with_its_reason(
    engine: AsyncEngine, settings: Settings
) -> None:
    await bootstrap(engine)

    async def create(**fields: object) -> object:
        values: dict[str, object] = {
            "workspace": "default",
            "name": "hook",
            "kind": "webhook",
            "config": HOOK,
            **fields,
        }
        return await destinations.create_destination(engine, settings, **values)  # type: ignore[arg-type]

    with pytest.raises(BadRequest, match="no connector"):
        await create(kind="carrier-pigeon")
    with pytest.raises(BadRequest) as invalid:
        await create(config={"url": "not a url"})
    assert invalid.value.details["errors"][0]["field"] == "url"
    with pytest.raises(BadRequest):
        await create(filters=[{"type": "drop", "when": {"field": "x", "op": "near"}}])
    with pytest.raises(BadRequest):
        await create(delivery={"concurrency": 0})
    with pytest.raises(NotFound):
        await create(workspace="nowhere")
    await create()
    with pytest.raises(Conflict):
        await create()
