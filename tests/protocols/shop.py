"""The shop of the governed-events tests: the default workspace, a source ``web`` under the
``shop`` plan (:data:`tests.protocols.plans.SHOP`), a webhook destination, the processor's own
stages, and the readers the tests look through."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import audiences, profiles, protocols
from headwater.audiences import AudienceStage
from headwater.log import EventLog, LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.profiles import ProfileStage
from headwater.protocols import ProtocolStage
from headwater.routing import RoutingStage
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.telemetry.metrics import Metrics

__all__ = ["MODES", "NOW", "Shop", "violations_of"]

MODES = ["omit", "flag", "block"]
NOW = datetime.now(UTC).replace(microsecond=0)
_ids = itertools.count()


class Shop:
    """The default workspace with a source ``web`` under the ``shop`` plan, a webhook destination
    (no delivery workers run: deliveries stay queued, where the test reads them) and the
    processor's stages."""

    def __init__(
        self, engine: AsyncEngine, settings: Settings, source_id: int, log: EventLog | None = None
    ) -> None:
        self.engine, self.settings, self.source_id = engine, settings, source_id
        self.log = PostgresLog(engine, settings.log_partitions) if log is None else log
        self.processor = Processor(
            engine=engine,
            log=self.log,
            settings=settings,
            metrics=Metrics(),
            stages=[
                ProtocolStage(Metrics()),
                ProfileStage(),
                AudienceStage(),
                RoutingStage(Metrics(), refresh_seconds=0),
            ],
        )
        self.destination_id = 0

    async def connect(self, violations: str) -> None:
        await protocols.connect_source(
            self.engine,
            workspace="default",
            plan="shop",
            source_id=self.source_id,
            settings={"violations": violations},
        )

    async def send(self, *messages: dict[str, Any], source_id: int | None = None) -> list[str]:
        envelope = Envelope(received_at=datetime.now(UTC))
        records = []
        for index, message in enumerate(messages):
            message = {"messageId": f"m{next(_ids)}", "userId": "u1", **message}
            event = normalise(message, index=index, route_type=None, envelope=envelope)
            assert isinstance(event, Event), event
            records.append(
                LogRecord(workspace_id=1, source_id=source_id or self.source_id, event=event)
            )
        await self.log.append(records)
        await self.drain()
        return [r.event.message_id for r in records]

    async def drain(self) -> None:
        while await self.processor.drain():
            pass

    async def profile_events(self, lookup: str = "user_id:u1") -> dict[str, dict[str, Any]]:
        """The Profile API's events of a profile, by messageId."""
        found = await profiles.events(
            self.engine,
            self.log,
            governed=protocols.governed,
            space="default",
            collection="users",
            lookup=lookup,
            limit=100,
        )
        return {event["messageId"]: event for event in found["data"]}

    async def traits(self, lookup: str = "user_id:u1") -> dict[str, Any]:
        found = await profiles.traits(
            self.engine, space="default", collection="users", lookup=lookup, limit=200
        )
        return dict(found["traits"])

    async def values(self, key: str) -> dict[str, Any]:
        """profile id -> the stored value of an audience (True) or computed trait."""
        found = await audiences.members(
            self.engine,
            workspace="default",
            kind="trait" if key.startswith("t_") else "audience",
            key=key,
        )
        return {row["profile_id"]: row.get("value", True) for row in found["data"]}

    async def queued(self) -> dict[str, dict[str, Any]]:
        """What is queued for the webhook, by messageId."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT message_id, payload FROM deliveries WHERE destination_id = :d"),
                {"d": self.destination_id},
            )
            return {row.message_id: row.payload for row in rows}


def violations_of(event: dict[str, Any]) -> list[tuple[str, str]]:
    """``(type, path)`` of an event's ``context.violations``."""
    return [(v["type"], v["path"]) for v in event["context"].get("violations", [])]
