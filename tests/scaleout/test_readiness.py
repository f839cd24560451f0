"""Readiness on the JetStream log: ``/ready`` reports the log, and is not ready while no NATS
server answers (an API node would answer 503 to every tracking request)."""

from __future__ import annotations

from pathlib import Path

from headwater.runtime import Role, Runtime
from headwater.settings import Settings


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
