"""``headwater migrate``, ``sources`` and ``events``: each prints JSON a script can parse."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.workspaces import Bootstrap
from tests.cli.conftest import Cli, Sender, clean_env
from tests.conftest import scratch_database


@pytest.fixture
async def blank_database_url(postgres_url: str) -> AsyncIterator[str]:
    """An empty database: no tables at all."""
    async with scratch_database(postgres_url, "hw_blank", template=None) as url:
        yield url


async def _tables(url: str) -> set[str]:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


async def test_migrate_creates_the_schema_and_succeeds_again(
    blank_database_url: str, tmp_path: Any
) -> None:
    cli = Cli(
        clean_env(HEADWATER_DATABASE_URL=blank_database_url, HEADWATER_DATA_DIR=str(tmp_path))
    )
    assert await _tables(blank_database_url) == set()

    first = await cli.run_async("migrate")
    assert first.returncode == 0, first.stderr
    assert "schema up to date" in first.stderr
    tables = await _tables(blank_database_url)
    assert {"events", "sources", "workspaces", "log_offsets", "alembic_version"} <= tables

    second = await cli.run_async("migrate")
    assert second.returncode == 0, second.stderr
    assert "schema up to date" in second.stderr
    assert await _tables(blank_database_url) == tables


async def test_sources_create_and_list_print_json(
    cli: Cli, first_start: Bootstrap, sender: Sender
) -> None:
    generated, given = await cli.run_all(
        ["sources", "create", "web"],
        ["sources", "create", "app", "--write-key", "app-write-key-1", "--kind", "client"],
    )
    web, app = generated.json(), given.json()
    assert (web["name"], web["workspace"], web["kind"]) == ("web", "default", "server")
    assert (web["strict"], web["enabled"]) == (False, True)
    assert isinstance(web["id"], int)
    assert len(web["write_key"]) >= 20
    assert (app["name"], app["write_key"], app["kind"]) == ("app", "app-write-key-1", "client")
    assert web["write_key"] != first_start.source.write_key

    listed, in_default, duplicate = await cli.run_all(
        ["sources", "list"],
        ["sources", "list", "--workspace", "default"],
        ["sources", "create", "web"],
    )
    by_name = {s["name"]: s for s in listed.json()}
    assert set(by_name) == {"default", "web", "app"}
    assert by_name["web"] == web
    assert by_name["app"] == app
    assert in_default.json() == listed.json()
    assert duplicate.returncode == 1
    assert json.loads(duplicate.stdout)["code"] == "source_exists"

    # The printed write key is the one that works.
    result = await sender.send(web["write_key"], {"userId": "u1", "event": "Signed Up"})
    assert result.accepted == 1


async def test_events_commands_print_json(cli: Cli, first_start: Bootstrap, sender: Sender) -> None:
    key, source_id = first_start.source.write_key, first_start.source.id
    for i in range(3):
        await sender.send(key, {"userId": "u1", "event": f"Step {i}", "messageId": f"step-{i}"})
    await sender.send(key, {"userId": "u1", "event": "Step 0", "messageId": "step-0"})
    batch = {"batch": [{"type": "track", "userId": "u1", "messageId": "nameless"}]}
    assert (await sender.send(key, batch, route_type=None)).rejected == 1

    got, latest, rejections, stats, by_event, replay = await cli.run_all(
        ["events", "get", "step-1"],
        ["events", "latest", str(source_id), "--limit", "2"],
        ["events", "rejections", "--source", str(source_id)],
        ["events", "stats", "--source", str(source_id)],
        ["events", "stats", "--source", str(source_id), "--by", "event", "--interval", "minute"],
        ["events", "tail", str(source_id), "--after", "0", "--count", "3"],
    )
    event = got.json()
    assert (event["messageId"], event["name"], event["sourceId"]) == ("step-1", "Step 1", source_id)
    assert event["payload"]["userId"] == "u1"

    assert [e["messageId"] for e in latest.json()] == ["step-2", "step-1"]
    assert [(r["messageId"], r["index"]) for r in rejections.json()] == [("nameless", 0)]
    assert "track requires event" in rejections.json()[0]["reason"]

    totals = [0, 0, 0]
    for row in stats.json():
        assert row["sourceId"] == source_id
        totals = [
            totals[0] + row["accepted"],
            totals[1] + row["duplicates"],
            totals[2] + row["rejected"],
        ]
    assert totals == [3, 1, 1]
    events = {(r["event"], r["accepted"], r["duplicates"]) for r in by_event.json() if r["event"]}
    assert {e[0] for e in events} == {"Step 0", "Step 1", "Step 2"}
    assert sum(e[2] for e in events) == 1

    lines = [json.loads(line) for line in replay.stdout.splitlines()]
    assert replay.returncode == 0, replay.stderr
    assert [e["messageId"] for e in lines] == ["step-0", "step-1", "step-2"]


async def test_events_tail_prints_events_as_they_arrive(
    cli: Cli, first_start: Bootstrap, sender: Sender, engine: AsyncEngine
) -> None:
    key, source_id = first_start.source.write_key, first_start.source.id
    await sender.send(key, {"userId": "u1", "event": "Before", "messageId": "before"})

    tail = await cli.start("events", "tail", str(source_id), "--count", "3")
    assert tail.stdout is not None
    stdout = tail.stdout
    printed: list[dict[str, Any]] = []

    async def read() -> None:
        while len(printed) < 3:
            line = await stdout.readline()
            if not line:
                return
            printed.append(json.loads(line))

    reading = asyncio.create_task(read())
    # The tail starts at "now" once its process is up; send until it has printed three.
    sent: list[str] = []
    deadline = time.monotonic() + 45
    try:
        while not reading.done():
            assert time.monotonic() < deadline, f"tail printed {printed}"
            message_id = f"live-{len(sent)}"
            await sender.send(
                key, {"userId": f"u{len(sent)}", "event": "Live", "messageId": message_id}
            )
            sent.append(message_id)
            await asyncio.wait({reading}, timeout=0.3)
        assert await asyncio.wait_for(tail.wait(), 30) == 0
    finally:
        if tail.returncode is None:
            tail.kill()
            await tail.wait()

    printed_ids = [e["messageId"] for e in printed]
    assert len(printed_ids) == 3
    start = sent.index(printed_ids[0])
    assert printed_ids == sent[start : start + 3], "the tail skipped or reordered events"
    assert all(e["sourceId"] == source_id and e["name"] == "Live" for e in printed)
    offsets = [e["offset"] for e in printed]
    assert offsets == sorted(offsets)
