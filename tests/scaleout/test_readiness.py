"""Readiness on the JetStream log: ``/ready`` reports the log, and is not ready while no NATS
server answers, or while the stream has no leader and quorum of current replicas (an API node
would answer 503 to every tracking request)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from headwater.runtime import Role, Runtime
from headwater.settings import Settings
from tests.natsserver import NatsCluster


async def _ready(database_url: str, tmp_path: Path, urls: list[str]) -> dict[str, object]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        event_log="nats",
        nats_urls=urls,
        nats_stream="READY",
        run_delivery=False,
    )
    runtime = await Runtime.start(settings, role=Role.WORKER)
    try:
        return await runtime.ready()
    finally:
        await runtime.stop()


async def test_ready_reports_the_jetstream_log(
    database_url: str, tmp_path: Path, nats_urls: list[str]
) -> None:
    report = await _ready(database_url, tmp_path, nats_urls)
    assert report["log"] == "up"


async def test_not_ready_while_no_nats_server_answers(database_url: str, tmp_path: Path) -> None:
    report = await _ready(database_url, tmp_path, ["nats://127.0.0.1:9"])
    assert report["log"] == "down"
    assert report["ready"] is False


async def test_not_ready_while_the_stream_has_no_quorum(database_url: str, tmp_path: Path) -> None:
    """Three servers, the stream on three replicas: ready with one server down (a quorum is
    left); not ready with two down (no leader can be elected: appends would be answered 503);
    ready again once one is back."""
    with NatsCluster.start(tmp_path / "nats", size=3) as cluster:
        settings = Settings(
            database_url=database_url,
            data_dir=tmp_path,
            event_log="nats",
            # Connected to the server that stays up: the client's connection never breaks.
            nats_urls=[cluster.nodes[2].url],
            nats_stream="QUORUM",
            nats_replicas=3,
            run_delivery=False,
        )
        runtime = await Runtime.start(settings, role=Role.WORKER)
        try:
            await _until_log(runtime, "up")
            cluster.nodes[0].kill()
            await _until_log(runtime, "up")  # two of three: a leader, a quorum
            cluster.nodes[1].kill()
            report = await _until_log(runtime, "down")
            assert report["ready"] is False
            cluster.nodes[1].start()
            await _until_log(runtime, "up")
        finally:
            await runtime.stop()


async def _until_log(runtime: Runtime, state: str, within: float = 60) -> dict[str, object]:
    """``runtime``'s readiness report once it says the log is ``state``."""
    deadline = time.monotonic() + within
    while (report := await runtime.ready())["log"] != state:
        assert time.monotonic() < deadline, f"log not {state}: {report}"
        await asyncio.sleep(0.2)
    return report
