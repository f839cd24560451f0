"""A worker killed with SIGKILL in the middle of processing: a new worker resumes from the
committed offsets, and the result has no loss and no duplicate, equal to canonical resolution
of the same events (what a clean run stores)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

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

PEOPLE = 300
ROUNDS = 2


async def test_a_worker_killed_mid_processing_resumes_without_loss_or_duplicates(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path, extra_env=COLLECT_ONLY)
    workers: list[Worker] = []
    try:
        # Two visits per person (the second with new message ids), some devices seen late.
        messages = [
            e
            for _ in range(ROUNDS)
            for n in range(PEOPLE)
            for e in person_events(n, late=n % 3 == 0)
        ]
        send(server, messages, prefix="m")
        total = len(messages)
        await wait_for(engine, "SELECT count(*) FROM events", total, within=30)
        first = Worker(database_url, tmp_path / "first.log")
        workers.append(first)
        deadline = time.monotonic() + 30
        while await scalar(engine, PROCESSED) == 0:
            assert time.monotonic() < deadline, first.log()
            await asyncio.sleep(0.005)
        first.kill()
        done = await scalar(engine, PROCESSED)
        assert 0 < done < total, f"the kill came too late to test anything ({done}/{total})"
        second = Worker(database_url, tmp_path / "second.log")
        workers.append(second)
        # The dead worker's leases expire (15 s) before the new one may take its partitions.
        await wait_for(engine, PROCESSED, total, within=60)
        second.stop()
        assert second.process.returncode == 0, second.log()
        await check_profiles(engine, PEOPLE, total)
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
