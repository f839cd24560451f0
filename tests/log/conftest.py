"""Fixtures for the event log contract suite: one parameter per implementation.

Each implementation is built by a :class:`LogKit`, which can make several log objects on the
same storage (a new object stands for a new process: a restarted consumer, a second owner).
Each implementation has its name in ``IMPLEMENTATIONS`` and a branch in ``log_kit``; the tests
use only the :class:`~headwater.log.EventLog` interface. The JetStream log runs on the
session's NATS server, a stream of its own per test.
The memory log is given the database too: what it appends or commits inside a caller's
transaction takes effect when that transaction commits.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import (
    EventLog,
    JetStreamLog,
    MemoryLog,
    MemoryStorage,
    PostgresLog,
    StreamOptions,
)
from headwater.storage import create_engine

IMPLEMENTATIONS = ["postgres", "memory", "jetstream"]
PARTITIONS = 4
_streams = itertools.count()


@dataclass
class LogKit:
    name: str
    make: Callable[..., EventLog]
    """``make(partitions=PARTITIONS)``: a new log object on the same storage."""
    engine: AsyncEngine | None = None
    """The database the log lives in or beside: offsets (and, with ``transactional``, appends
    and removals) join a caller's transaction on it."""
    transactional: bool = True
    """Whether appends and removals are undone with a caller's rolled-back transaction: not on
    JetStream, which has no transaction (see :mod:`headwater.log.jetstream.log`)."""


@pytest.fixture(params=IMPLEMENTATIONS)
async def log_kit(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[LogKit]:
    if request.param not in IMPLEMENTATIONS:
        raise NotImplementedError(request.param)
    # A pool as large as the concurrent-append test needs: one connection per appender.
    engine = create_engine(database_url, pool_size=20)
    made: list[EventLog] = []

    storage = MemoryStorage()
    stream = StreamOptions(name=f"CONTRACT_{next(_streams)}")
    urls: list[str] = request.getfixturevalue("nats_urls") if request.param == "jetstream" else []

    def make(partitions: int = PARTITIONS) -> EventLog:
        log: EventLog
        if request.param == "memory":
            log = MemoryLog(partitions, storage=storage)
        elif request.param == "jetstream":
            log = JetStreamLog(engine, partitions, urls=urls, options=stream)
        else:
            log = PostgresLog(engine, partitions)
        made.append(log)
        return log

    try:
        yield LogKit(
            name=request.param,
            make=make,
            engine=engine,
            transactional=request.param != "jetstream",
        )
    finally:
        for log in made:
            await log.close()
        await engine.dispose()


@pytest.fixture
def event_log(log_kit: LogKit) -> EventLog:
    """A log with ``PARTITIONS`` partitions on fresh, empty storage."""
    return log_kit.make()
