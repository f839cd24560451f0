"""The routing stage rereads destinations and their PII rules as soon as they change, not on
a timer: with a refresh interval of an hour, each event processed after a destination is
saved, changed or removed, or after a PII rule scoped to it is added, is routed by what was
committed before it (``routing_changes``, raised by triggers in the changing transaction)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import destinations, pii
from headwater.log import LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.routing import RoutingStage
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.storage import transaction
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import bootstrap, create_source

_ids = itertools.count()


class _Pipeline:
    """A source, its log and a processor whose only stage is routing, reloading by the clock
    once an hour at most."""

    def __init__(self, engine: AsyncEngine, settings: Settings, source_id: int) -> None:
        self.engine, self.source_id = engine, source_id
        self.log = PostgresLog(engine, settings.log_partitions)
        self.processor = Processor(
            engine=engine,
            log=self.log,
            settings=settings,
            metrics=Metrics(),
            stages=[RoutingStage(Metrics(), refresh_seconds=3600)],
        )

    async def send(self) -> str:
        """One event, appended and processed; its messageId."""
        message = {
            "type": "track",
            "event": "Ordered",
            "userId": "u1",
            "messageId": f"m{next(_ids)}",
        }
        message["properties"] = {"note": "leave at the door", "total": 3}
        envelope = Envelope(received_at=datetime.now(UTC))
        event = normalise(message, index=0, route_type=None, envelope=envelope)
        assert isinstance(event, Event)
        await self.log.append([LogRecord(workspace_id=1, source_id=self.source_id, event=event)])
        while await self.processor.drain():
            pass
        return event.message_id

    async def queued(self, message_id: str) -> dict[int, dict[str, Any]]:
        """The deliveries queued for ``message_id``: each destination's payload."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT destination_id, payload FROM deliveries WHERE message_id = :m"),
                {"m": message_id},
            )
            return {row.destination_id: row.payload for row in rows}


async def test_each_change_applies_to_the_next_event_processed(
    engine: AsyncEngine, settings: Settings
) -> None:
    await bootstrap(engine)
    source = await create_source(engine, name="web", workspace="default")
    pipeline = _Pipeline(engine, settings, source.id)
    assert await pipeline.queued(await pipeline.send()) == {}  # no destination yet: loaded

    hook = {"url": "https://example.com/hook"}
    first = await destinations.create_destination(
        engine, settings, workspace="default", name="first", kind="webhook", config=hook
    )
    assert set(await pipeline.queued(await pipeline.send())) == {first["id"]}

    await pii.create_rule(
        engine,
        workspace="default",
        body={"path": "properties.note", "action": "drop", "destinations": [first["id"]]},
    )
    queued = await pipeline.queued(await pipeline.send())
    assert "note" not in queued[first["id"]]["properties"]
    assert queued[first["id"]]["properties"]["total"] == 3

    second = await destinations.create_destination(
        engine, settings, workspace="default", name="second", kind="webhook", config=hook
    )
    queued = await pipeline.queued(await pipeline.send())
    assert set(queued) == {first["id"], second["id"]}
    assert queued[second["id"]]["properties"]["note"] == "leave at the door"

    await destinations.update_destination(
        engine,
        settings,
        workspace="default",
        destination_id=first["id"],
        changes={"enabled": False},
    )
    assert set(await pipeline.queued(await pipeline.send())) == {second["id"]}

    async with transaction(engine) as connection:
        await destinations.remove(connection, workspace="default", destination_id=first["id"])
    assert set(await pipeline.queued(await pipeline.send())) == {second["id"]}
