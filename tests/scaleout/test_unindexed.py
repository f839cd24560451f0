"""An API node killed between JetStream's acknowledgement of an append and the commit of its
index rows, on the JetStream log: the entry is in the stream but not in the index until the
SDK's retry indexes it (under the same sequence, inside the duplicate window).

The processor must not process such an entry before its index row is there: the stages read
processed events back from the index (a late event's identity rebuild reads its component's
stored events by offset), and an event processed but missing from the index is left out of
the rebuild, which then splits the person. Found by ``test_cluster.py``: a person split in two
profiles after the API node was killed under load.
"""

from __future__ import annotations

import asyncio
import threading
import zlib
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.profiles.test_races import PROCESSED, check_profiles, person_events, scalar, wait_for
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

pytestmark = pytest.mark.e2e


async def _in_stream(urls: list[str], stream: str) -> int:
    client = await nats.connect(servers=urls)
    try:
        return int((await client.jetstream().stream_info(stream)).state.messages)
    finally:
        await client.close()


def _post(server: RunningServer, messages: list[dict[str, object]]) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch",
        json={"batch": messages},
        auth=(server.write_key, ""),
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _post_unanswered(server: RunningServer, message: dict[str, object]) -> None:
    """Post ``message``; the node is killed before it answers."""
    with pytest.raises(httpx.TransportError):
        httpx.post(
            f"{server.url}/v1/batch",
            json={"batch": [message]},
            auth=(server.write_key, ""),
            timeout=60,
        )


def _partition(message: dict[str, Any]) -> int:
    """The log partition of ``message`` (16 partitions, the default)."""
    key = str(message.get("userId") or message.get("anonymousId"))
    return zlib.crc32(key.encode()) % 16


async def test_an_entry_whose_index_row_is_not_committed_is_processed_only_once_indexed(
    database_url: str,
    engine: AsyncEngine,
    tmp_path: Path,
    nats_urls: list[str],
    on_jetstream: dict[str, str],
) -> None:
    server = start_server(database_url, tmp_path, extra_env={**COLLECT_ONLY, **on_jetstream})
    worker = Worker(database_url, tmp_path / "worker.log", extra_env=on_jetstream)
    # Person 0: the phone's event is older than every other one (a late event: its
    # component is rebuilt from the stored events).
    events = [{**e, "messageId": f"m-{i}"} for i, e in enumerate(person_events(0, late=True))]
    identify = events[1]  # joins u-0, a-0 and the email: what the rebuild must see
    try:
        async with engine.connect() as locker:
            # Index inserts wait on this lock: the node publishes, JetStream acknowledges,
            # and the node waits to write the index row.
            await locker.exec_driver_sql("BEGIN")
            await locker.exec_driver_sql("LOCK TABLE events IN EXCLUSIVE MODE")
            posting = threading.Thread(target=_post_unanswered, args=(server, identify))
            posting.start()
            deadline = asyncio.get_running_loop().time() + 30
            while await _in_stream(nats_urls, on_jetstream["HEADWATER_NATS_STREAM"]) < 1:
                assert asyncio.get_running_loop().time() < deadline, server.log()
                await asyncio.sleep(0.05)
            server.kill()
            await locker.exec_driver_sql("ROLLBACK")
        await asyncio.to_thread(posting.join, 30)
        await asyncio.to_thread(server.restart)
        # The other events, the late one among them. Those behind the unindexed identify in
        # its partition wait for it; the others are processed.
        others = [e for e in events if e is not identify]
        _post(server, others)
        free = [e for e in others if _partition(e) != _partition(identify)]
        assert 0 < len(free) < len(others)
        await wait_for(engine, PROCESSED, len(free), within=30)
        linked = await scalar(
            engine, "SELECT count(*) FROM profile_events WHERE message_id = 'm-1'"
        )
        assert linked == 0, "an entry was processed before its index row committed"
        # The SDK's retry of the identify: indexed under its first offset, then processed.
        _post(server, [identify])
        await wait_for(engine, PROCESSED, len(events), within=60)
        await check_profiles(engine, 1, len(events))
    finally:
        worker.stop()
        server.stop()
