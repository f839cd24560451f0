"""``headwater serve`` (API only) and ``headwater worker`` on the JetStream log, as processes:
events sent with the Segment Python SDK are acknowledged after JetStream's, stored once and
built into profiles by the worker; a worker killed with SIGKILL mid-processing is replaced and
nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nats
import pytest
from segment.analytics.client import Client as SegmentClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.profiles.test_races import (
    PROCESSED,
    check_profiles,
    person_events,
    scalar,
    send,
    wait_for,
)
from tests.server import COLLECT_ONLY, Worker, start_server

pytestmark = pytest.mark.e2e

PEOPLE = 30


async def _stream_messages(urls: list[str], stream: str) -> int:
    client = await nats.connect(servers=urls)
    try:
        info = await client.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await client.close()


async def test_serve_and_worker_on_jetstream_store_sdk_events_and_build_profiles(
    database_url: str,
    engine: AsyncEngine,
    tmp_path: Path,
    nats_urls: list[str],
    on_jetstream: dict[str, str],
) -> None:
    server = start_server(database_url, tmp_path, extra_env={**COLLECT_ONLY, **on_jetstream})
    worker = Worker(database_url, tmp_path / "worker.log", extra_env=on_jetstream)
    errors: list[object] = []
    client = SegmentClient(
        server.write_key,
        host=server.url,
        max_retries=1,
        upload_interval=0.05,
        timeout=10,
        on_error=lambda error, items: errors.append(error),
    )
    try:
        for n in range(PEOPLE):
            client.identify(user_id=f"u-{n}", anonymous_id=f"a-{n}", traits={"plan": "pro"})
            client.track(user_id=f"u-{n}", event="Order Completed", properties={"n": n})
            client.track(anonymous_id=f"a-{n}", event="Viewed", properties={"n": n})
        client.flush()
        client.join()
        assert errors == []
        total = 3 * PEOPLE
        # Acknowledged means in JetStream: the stream holds every event, the index too.
        assert await _stream_messages(nats_urls, on_jetstream["HEADWATER_NATS_STREAM"]) == total
        assert await scalar(engine, "SELECT count(*) FROM events") == total
        await wait_for(engine, PROCESSED, total, within=60)
        profiles = await scalar(
            engine,
            "SELECT count(*) FROM profiles WHERE kind = 'user' AND merged_into IS NULL",
        )
        assert profiles == PEOPLE, worker.log()
        linked = await scalar(
            engine, "SELECT count(DISTINCT message_id) FROM profile_events WHERE kind = 'user'"
        )
        assert linked == total
    finally:
        worker.stop()
        server.stop()


async def test_a_worker_killed_mid_processing_on_jetstream_resumes_without_loss_or_duplicates(
    database_url: str, engine: AsyncEngine, tmp_path: Path, on_jetstream: dict[str, str]
) -> None:
    server = start_server(database_url, tmp_path, extra_env={**COLLECT_ONLY, **on_jetstream})
    workers: list[Worker] = []
    try:
        messages = [e for n in range(300) for e in person_events(n, late=n % 3 == 0)]
        send(server, messages, prefix="m")
        total = len(messages)
        await wait_for(engine, "SELECT count(*) FROM events", total, within=30)
        first = Worker(database_url, tmp_path / "first.log", extra_env=on_jetstream)
        workers.append(first)
        deadline = time.monotonic() + 30
        while await scalar(engine, PROCESSED) == 0:
            assert time.monotonic() < deadline, first.log()
            await asyncio.sleep(0.005)
        first.kill()
        done = await scalar(engine, PROCESSED)
        assert 0 < done < total, f"the kill came too late to test anything ({done}/{total})"
        second = Worker(database_url, tmp_path / "second.log", extra_env=on_jetstream)
        workers.append(second)
        await wait_for(engine, PROCESSED, total, within=60)
        second.stop()
        assert second.process.returncode == 0, second.log()
        await check_profiles(engine, 300, total)
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
