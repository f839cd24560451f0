"""Fixtures for the event log contract suite: one parameter per implementation.

Each implementation is built by a :class:`LogKit`, which can make several log objects on the
same storage (a new object stands for a new process: a restarted consumer, a second owner).
Adding an implementation (NATS JetStream) means adding its name to ``IMPLEMENTATIONS`` and a
branch in ``log_kit``; the tests use only the :class:`~headwater.log.EventLog` interface.
The memory log is given the database too: what it appends or commits inside a caller's
transaction takes effect when that transaction commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import EventLog, MemoryLog, MemoryStorage, PostgresLog
from headwater.storage import create_engine

IMPLEMENTATIONS = ["postgres", "memory"]
PARTITIONS = 4


@dataclass
class LogKit:
    name: str
    make: Callable[..., EventLog]
    """``make(partitions=PARTITIONS)``: a new log object on the same storage."""
    engine: AsyncEngine | None = None
    """The database the log lives in, when it can append inside a caller's transaction."""


@pytest.fixture(params=IMPLEMENTATIONS)
async def log_kit(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[LogKit]:
    if request.param not in IMPLEMENTATIONS:
        raise NotImplementedError(request.param)
    # A pool as large as the concurrent-append test needs: one connection per appender.
    engine = create_engine(database_url, pool_size=20)
    made: list[EventLog] = []

    storage = MemoryStorage()

    def make(partitions: int = PARTITIONS) -> EventLog:
        log: EventLog
        if request.param == "memory":
            log = MemoryLog(partitions, storage=storage)
        else:
            log = PostgresLog(engine, partitions)
        made.append(log)
        return log

    try:
        yield LogKit(name=request.param, make=make, engine=engine)
    finally:
        for log in made:
            await log.close()
        await engine.dispose()


@pytest.fixture
def event_log(log_kit: LogKit) -> EventLog:
    """A log with ``PARTITIONS`` partitions on fresh, empty storage."""
    return log_kit.make()
