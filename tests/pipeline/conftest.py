"""A processor with every stage, driven in the test's process on a fresh database whose event
log has one partition, so that every workspace's events share it: messages are normalised and
appended as collection does, then :meth:`Processor.drain` runs the stages. Each workspace gets
a source and a webhook destination (no delivery worker runs: a delivery is a queued row)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import destinations, workspaces
from headwater.log import EventLog, JetStreamLog, LogRecord, PostgresLog, StreamOptions
from headwater.pipeline import Processor, list_failures
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.telemetry.metrics import Metrics

__all__ = ["Harness", "Space"]

_ids = itertools.count()


class Space:
    """A workspace with one source and one webhook destination."""

    def __init__(self, slug: str, workspace_id: int, source_id: int) -> None:
        self.slug, self.workspace_id, self.source_id = slug, workspace_id, source_id


class Harness:
    def __init__(
        self, engine: AsyncEngine, settings: Settings, log: EventLog | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.log = log or PostgresLog(engine, settings.log_partitions)
        self.processor = Processor(
            engine=engine, log=self.log, settings=settings, metrics=Metrics()
        )

    async def space(self, slug: str) -> Space:
        workspace = await workspaces.create_workspace(self.engine, slug=slug)
        source = await workspaces.create_source(
            self.engine, name="web", workspace=slug, write_key=None, kind="server", strict=False
        )
        await destinations.create_destination(
            self.engine,
            self.settings,
            workspace=slug,
            name="hook",
            kind="webhook",
            config={"url": "http://127.0.0.1:9/hook"},
        )
        return Space(slug, workspace.id, source.id)

    def record(
        self, space: Space, message: dict[str, Any], *, clean_nul: bool = False
    ) -> LogRecord:
        """A message as collection appends it; a ``messageId`` is added when it has none.
        With ``clean_nul``, NUL characters are replaced as when the body held ``\\u0000``."""
        found = self.accepted(space, message, clean_nul=clean_nul)
        assert found is not None, message
        return found

    def accepted(
        self, space: Space, message: dict[str, Any], *, clean_nul: bool = False
    ) -> LogRecord | None:
        """:meth:`record`, or None when the edge rejects the message."""
        message = {"messageId": f"m{next(_ids)}", **message}
        envelope = Envelope(received_at=datetime.now(UTC))
        event = normalise(message, index=0, route_type=None, envelope=envelope, clean_nul=clean_nul)
        if not isinstance(event, Event):
            return None
        return LogRecord(workspace_id=space.workspace_id, source_id=space.source_id, event=event)

    async def append(self, records: list[LogRecord]) -> list[str]:
        await self.log.append(records)
        return [r.event.message_id for r in records]

    async def drain(self) -> int:
        total = 0
        while processed := await self.processor.drain():
            total += processed
        return total

    async def _message_ids(self, query: str, ids: list[str]) -> set[str]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(text(query), {"ids": ids})
            return {row[0] for row in rows}

    async def profiled(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` are linked to a profile."""
        return await self._message_ids(
            "SELECT message_id FROM profile_events WHERE message_id = ANY(:ids)", ids
        )

    async def queued(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` have a delivery queued (exactly once: the key is unique)."""
        return await self._message_ids(
            "SELECT message_id FROM deliveries WHERE message_id = ANY(:ids)", ids
        )

    async def failed(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` are open processing failures."""
        return await self._message_ids(
            "SELECT message_id FROM processing_failures"
            " WHERE status = 'open' AND message_id = ANY(:ids)",
            ids,
        )

    async def processor_failures(self, workspace: str) -> list[dict[str, Any]]:
        return await list_failures(self.engine, workspace=workspace, status=None)

    async def caught_up(self) -> bool:
        """Whether the processor's committed offset is the log's last entry."""
        async with self.engine.connect() as connection:
            last = await connection.scalar(text("SELECT max(seq) FROM events"))
            committed = await connection.scalar(
                text("SELECT max(committed) FROM log_offsets WHERE consumer = 'processor'")
            )
        return last is not None and committed == last


@pytest.fixture
def one_partition(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        admin_token="test-admin-token",
        log_partitions=1,
    )


@pytest.fixture
async def harness(engine: AsyncEngine, one_partition: Settings) -> AsyncIterator[Harness]:
    await workspaces.bootstrap(engine)
    running = Harness(engine, one_partition)
    yield running
    await running.log.close()


@pytest.fixture
async def jetstream_harness(
    engine: AsyncEngine, one_partition: Settings, nats_urls: list[str], tmp_path: Path
) -> AsyncIterator[Harness]:
    """The same, on the JetStream log (the session's NATS server, a stream for this test)."""
    await workspaces.bootstrap(engine)
    options = StreamOptions(name=f"PIPE_{tmp_path.name.replace('-', '_')[-40:]}")
    log = JetStreamLog(engine, one_partition.log_partitions, urls=nats_urls, options=options)
    running = Harness(engine, one_partition, log)
    yield running
    await running.log.close()
