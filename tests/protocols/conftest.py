"""A processor driven in the test's process on a fresh database: messages are normalised and
appended to the real event log as collection does, then :meth:`Processor.drain` runs the
stages. ``Pipeline.seen`` records what a stage after the protocols stage received. The
``shop`` fixture is the governed-events tests' (:mod:`tests.protocols.shop`), with every stage."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater import destinations, protocols, workspaces
from headwater.batch import Batch
from headwater.log import LogEntry, LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.protocols import ProtocolStage
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.telemetry.metrics import Metrics
from tests.protocols.plans import SHOP
from tests.protocols.shop import Shop

_ids = itertools.count()


class Recorder:
    """The next stage: records what it is handed, passes it on."""

    def __init__(self) -> None:
        self.seen: dict[str, LogEntry] = {}

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        for entry in batch.entries:
            self.seen[entry.message_id] = entry


class Pipeline:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.log = PostgresLog(engine, settings.log_partitions)
        self.recorder = Recorder()
        self.stage = ProtocolStage(Metrics())
        self.processor = Processor(
            engine=engine,
            log=self.log,
            settings=settings,
            metrics=Metrics(),
            stages=[self.stage, self.recorder],
        )
        self.source_id = 0

    @property
    def seen(self) -> dict[str, LogEntry]:
        return self.recorder.seen

    async def source(self, name: str = "web") -> int:
        created = await workspaces.create_source(
            self.engine, name=name, workspace="default", write_key=None, kind="server", strict=False
        )
        return created.id

    async def plan(self, document: dict[str, Any], source_id: int, **settings: str) -> None:
        await protocols.create_plan(self.engine, workspace="default", document=document)
        await protocols.connect_source(
            self.engine,
            workspace="default",
            plan=_slug(document["name"]),
            source_id=source_id,
            settings=settings,
        )

    async def send(self, source_id: int, *messages: dict[str, Any]) -> list[str]:
        envelope = Envelope(received_at=datetime.now(UTC))
        records = []
        for index, message in enumerate(messages):
            message = {"messageId": f"m{next(_ids)}", "userId": "u1", **message}
            event = normalise(message, index=index, route_type=None, envelope=envelope)
            assert isinstance(event, Event), event
            records.append(LogRecord(workspace_id=1, source_id=source_id, event=event))
        await self.log.append(records)
        await self.processor.drain()
        return [r.event.message_id for r in records]


def _slug(name: str) -> str:
    return "-".join(name.lower().split())


@pytest.fixture
async def pipeline(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Pipeline]:
    await workspaces.bootstrap(engine)
    running = Pipeline(engine, settings)
    yield running
    await running.log.close()


@pytest.fixture
async def shop(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Shop]:
    """A fresh :class:`~tests.protocols.shop.Shop`, its plan created but not connected."""
    await workspaces.bootstrap(engine)
    source = await workspaces.create_source(
        engine, name="web", workspace="default", write_key=None, kind="server", strict=False
    )
    await protocols.create_plan(engine, workspace="default", document=SHOP)
    running = Shop(engine, settings, source.id)
    created = await destinations.create_destination(
        engine,
        settings,
        workspace="default",
        name="hook",
        kind="webhook",
        config={"url": "http://127.0.0.1:9/hook"},
    )
    running.destination_id = created["id"]
    yield running
    await running.log.close()
