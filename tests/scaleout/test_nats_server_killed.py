"""One server of a three-node JetStream cluster killed with SIGKILL while ``headwater serve``
(API only) takes a load of concurrent batches and ``headwater worker`` processes them: the
stream (three replicas) keeps a quorum; requests in flight may be answered 503 and are retried
as SDKs do; every acknowledged event is stored once, every event ends up stored and processed
once, and the killed server, restarted, catches up."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_crash import KILL_AFTER_ACKS, WORKERS, Batch, Load, stored_counts
from tests.natsserver import NatsCluster
from tests.profiles.test_races import scalar, wait_for
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

pytestmark = pytest.mark.e2e


def _post_until_accepted(server: RunningServer, batches: list[Batch], within: float = 120) -> None:
    """Send each batch again until it is answered 200, pausing between tries as an SDK backs
    off (a 503 comes at once while the stream elects a new leader, which takes seconds)."""
    deadline = time.monotonic() + within
    with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=10) as client:
        for batch in batches:
            while True:
                try:
                    response = client.post(
                        "/v1/batch",
                        content=batch.body,
                        headers={"content-type": "application/json"},
                    )
                except httpx.TransportError as error:
                    answer = str(error)
                else:
                    if response.status_code == 200:
                        break
                    answer = response.text
                assert time.monotonic() < deadline, f"a batch was never accepted: {answer}"
                time.sleep(0.25)


async def test_a_nats_server_killed_under_load_loses_and_duplicates_nothing(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    with NatsCluster.start(tmp_path / "nats", size=3) as cluster:
        env = {
            "HEADWATER_EVENT_LOG": "nats",
            "HEADWATER_NATS_URLS": ",".join(cluster.urls),
            "HEADWATER_NATS_REPLICAS": "3",
        }
        server = start_server(database_url, tmp_path, extra_env={**COLLECT_ONLY, **env})
        worker = Worker(database_url, tmp_path / "worker.log", extra_env=env)
        try:
            load = Load(server)
            threads = [
                threading.Thread(target=load.worker, args=(n,), daemon=True) for n in range(WORKERS)
            ]
            for thread in threads:
                thread.start()
            try:
                await asyncio.to_thread(load.wait_for_acks, KILL_AFTER_ACKS)
                cluster.nodes[0].kill()
            finally:
                for thread in threads:
                    await asyncio.to_thread(thread.join, 60)
            acked = [batch for batch in load.batches if batch.status == 200]
            others = [batch for batch in load.batches if batch.status != 200]
            assert len(acked) >= KILL_AFTER_ACKS
            acked_ids = {m for batch in acked for m in batch.message_ids}
            stored = await stored_counts(engine)
            assert acked_ids <= stored.keys(), "acknowledged events lost"
            assert max(stored.values()) == 1, "an event was stored twice"

            await asyncio.to_thread(_post_until_accepted, server, others)
            cluster.nodes[0].start()
            await asyncio.to_thread(cluster.wait_healthy)
            all_ids = acked_ids | {m for batch in others for m in batch.message_ids}
            assert await stored_counts(engine) == Counter(dict.fromkeys(all_ids, 1))
            await wait_for(
                engine,
                "SELECT count(DISTINCT message_id) FROM profile_events WHERE kind = 'user'",
                len(all_ids),
                within=120,
            )
            linked = await scalar(engine, "SELECT count(*) FROM profile_events WHERE kind = 'user'")
            assert linked == len(all_ids), worker.log()
        finally:
            worker.stop()
            server.stop()
