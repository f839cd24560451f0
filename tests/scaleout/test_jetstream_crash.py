"""kill -9 of an API node on the JetStream log in the middle of a load of concurrent batches
(``tests/e2e/test_crash.py``'s load and checks): every acknowledged event is stored once, in
the index and in the stream; retried unanswered requests end up stored exactly once, the
stream's duplicate window and collection's dedup keys dropping what a killed request had
already published."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import JetStreamLog, StreamOptions
from tests.e2e.test_crash import KILL_AFTER_ACKS, WORKERS, Load, post_again, stored_counts
from tests.log.test_contract import read_everything
from tests.server import COLLECT_ONLY, start_server

pytestmark = pytest.mark.e2e


async def in_stream(engine: AsyncEngine, urls: list[str], stream: str) -> Counter[str]:
    """How many times each messageId is in the stream (read from JetStream, not the index)."""
    log = JetStreamLog(engine, 16, urls=urls, options=StreamOptions(name=stream))
    try:
        everything = await read_everything(log)
    finally:
        await log.close()
    return Counter(e.message_id for entries in everything.values() for e in entries)


async def test_an_api_node_killed_mid_load_on_jetstream_loses_and_duplicates_nothing(
    database_url: str,
    engine: AsyncEngine,
    tmp_path: Path,
    nats_urls: list[str],
    on_jetstream: dict[str, str],
) -> None:
    server = start_server(database_url, tmp_path, extra_env={**COLLECT_ONLY, **on_jetstream})
    try:
        load = Load(server)
        threads = [
            threading.Thread(target=load.worker, args=(n,), daemon=True) for n in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        try:
            await asyncio.to_thread(load.wait_for_acks, KILL_AFTER_ACKS)
            server.kill()
        except BaseException:
            load.stop.set()
            raise
        finally:
            for thread in threads:
                await asyncio.to_thread(thread.join, 30)
        acked = [batch for batch in load.batches if batch.status == 200]
        unanswered = [batch for batch in load.batches if batch.status is None]
        assert len(acked) + len(unanswered) == len(load.batches)
        assert len(acked) >= KILL_AFTER_ACKS

        await asyncio.to_thread(server.restart)
        stored = await stored_counts(engine)
        assert max(stored.values()) == 1, "an event was indexed twice"
        acked_ids = {message_id for batch in acked for message_id in batch.message_ids}
        assert acked_ids <= stored.keys(), "acknowledged events lost"

        statuses = await asyncio.to_thread(post_again, server, unanswered)
        assert statuses == [200] * len(unanswered)
        all_ids = acked_ids | {m for batch in unanswered for m in batch.message_ids}
        assert await stored_counts(engine) == Counter(dict.fromkeys(all_ids, 1))
        stream = on_jetstream["HEADWATER_NATS_STREAM"]
        assert await in_stream(engine, nats_urls, stream) == Counter(dict.fromkeys(all_ids, 1))
    finally:
        server.stop()
