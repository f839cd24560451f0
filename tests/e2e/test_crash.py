"""kill -9 in the middle of a load of concurrent batches.

Headwater answers 200 only after a request's events are committed, and ``messageId`` is the
idempotency key. So after a kill -9 and a restart: every acknowledged event is stored exactly
once, a request that got no answer is stored whole or not at all, and when the client retries
the unanswered requests (as SDKs do) every event ends up stored exactly once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.server import RunningServer

pytestmark = pytest.mark.e2e

WORKERS = 6
EVENTS_PER_BATCH = 100
MAX_BATCHES_PER_WORKER = 150
KILL_AFTER_ACKS = 60
LOAD_TIMEOUT_SECONDS = 30


@dataclass
class Batch:
    message_ids: list[str]
    body: bytes
    status: int | None = None
    """The HTTP status, or None when the request got no answer."""
    error: str | None = None


def make_batch(worker: int, number: int) -> Batch:
    ids = [f"crash-{worker}-{number}-{i}" for i in range(EVENTS_PER_BATCH)]
    messages = [
        {
            "type": "track",
            "messageId": message_id,
            "userId": f"user-{(number * EVENTS_PER_BATCH + i) % 97}",
            "event": "Load Test",
            "properties": {"worker": worker, "batch": number, "index": i},
            "timestamp": "2025-03-14T09:26:53.589Z",
        }
        for i, message_id in enumerate(ids)
    ]
    return Batch(ids, json.dumps({"batch": messages}).encode())


@dataclass
class Load:
    """``WORKERS`` threads posting batches until their first failure (or ``stop``)."""

    server: RunningServer
    batches: list[Batch] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _acked: int = 0
    _finished: int = 0

    def worker(self, worker: int) -> None:
        try:
            self._post_until_failure(worker)
        finally:
            with self._lock:
                self._finished += 1

    def _post_until_failure(self, worker: int) -> None:
        with httpx.Client(
            base_url=self.server.url, auth=(self.server.write_key, ""), timeout=10
        ) as client:
            for number in range(MAX_BATCHES_PER_WORKER):
                if self.stop.is_set():
                    return
                batch = make_batch(worker, number)
                with self._lock:
                    self.batches.append(batch)
                try:
                    response = client.post(
                        "/v1/batch",
                        content=batch.body,
                        headers={"content-type": "application/json"},
                    )
                except httpx.TransportError as error:
                    batch.error = repr(error)
                    return
                batch.status = response.status_code
                if response.status_code != 200:
                    batch.error = response.text
                    return
                with self._lock:
                    self._acked += 1

    def wait_for_acks(self, count: int) -> None:
        deadline = time.monotonic() + LOAD_TIMEOUT_SECONDS
        while self._acked < count:
            assert time.monotonic() < deadline, f"only {self._acked} batches acknowledged"
            failures = [batch.error for batch in self.batches if batch.error]
            assert self._finished < WORKERS, f"every worker stopped before the kill: {failures}"
            time.sleep(0.01)


def post_again(server: RunningServer, batches: list[Batch]) -> list[int]:
    with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=10) as client:
        return [
            client.post(
                "/v1/batch", content=batch.body, headers={"content-type": "application/json"}
            ).status_code
            for batch in batches
        ]


async def stored_counts(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT message_id, count(*) FROM events GROUP BY message_id")
        )
        return Counter({row[0]: int(row[1]) for row in rows})


async def test_kill_9_mid_load_loses_and_duplicates_nothing(
    server: RunningServer, engine: AsyncEngine
) -> None:
    load = Load(server)
    workers = [threading.Thread(target=load.worker, args=(n,), daemon=True) for n in range(WORKERS)]
    for thread in workers:
        thread.start()
    try:
        await asyncio.to_thread(load.wait_for_acks, KILL_AFTER_ACKS)
        server.kill()  # each worker now fails on its request in flight, or on its next one
    except BaseException:
        load.stop.set()
        raise
    finally:
        for thread in workers:
            await asyncio.to_thread(thread.join, 30)
    assert not any(thread.is_alive() for thread in workers)

    acked = [batch for batch in load.batches if batch.status == 200]
    unanswered = [batch for batch in load.batches if batch.status is None]
    assert len(acked) + len(unanswered) == len(load.batches), [b.error for b in load.batches]
    # Each worker ran until its first failure, which only the kill can cause.
    assert len(unanswered) == WORKERS
    assert len(acked) >= KILL_AFTER_ACKS

    await asyncio.to_thread(server.restart)

    stored = await stored_counts(engine)
    assert max(stored.values()) == 1, "an event was stored twice"
    acked_ids = {message_id for batch in acked for message_id in batch.message_ids}
    assert acked_ids <= stored.keys(), f"{len(acked_ids - stored.keys())} acknowledged events lost"
    all_ids = acked_ids | {message_id for batch in unanswered for message_id in batch.message_ids}
    assert stored.keys() <= all_ids
    committed_unanswered = 0
    for batch in unanswered:
        kept = sum(message_id in stored for message_id in batch.message_ids)
        assert kept in (0, EVENTS_PER_BATCH), "a request was stored in part"
        committed_unanswered += kept

    # The client retries what got no answer, as the SDKs do.
    statuses = await asyncio.to_thread(post_again, server, unanswered)
    assert statuses == [200] * len(unanswered)

    stored = await stored_counts(engine)
    assert stored == Counter(dict.fromkeys(all_ids, 1))
    stats = server.api("GET", "/api/v1/workspaces/default/stats")
    assert sum(row["accepted"] for row in stats) == len(all_ids)
    assert sum(row["duplicates"] for row in stats) == committed_unanswered
    assert sum(row["rejected"] for row in stats) == 0
