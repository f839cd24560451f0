"""``headwater sources`` and ``events`` against a running server: tables for people, JSON with
``--json``, errors in plain words; ``headwater migrate`` on its own database."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.cli.conftest import Cli, clean_env, send
from tests.conftest import scratch_database
from tests.server import RunningServer


@pytest.fixture
async def blank_database_url(postgres_url: str) -> AsyncIterator[str]:
    """An empty database: no tables at all."""
    async with scratch_database(postgres_url, "hw_blank", template=None) as url:
        yield url


async def _fetch(url: str, sql: str) -> list[Any]:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


async def _tables(url: str) -> set[str]:
    rows = await _fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_migrate_creates_the_schema_and_succeeds_again(
    blank_database_url: str, tmp_path: Path
) -> None:
    env = clean_env(
        tmp_path / "config",
        HEADWATER_DATABASE_URL=blank_database_url,
        HEADWATER_DATA_DIR=str(tmp_path),
    )
    cli = Cli(env, tmp_path)
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
    # Migrating sets nothing up: the first start of `headwater serve` does, and says so.
    assert await _fetch(blank_database_url, "SELECT slug FROM workspaces") == []
    assert "admin token" not in first.stderr + second.stderr


def _source_id(server: RunningServer) -> int:
    return next(
        s["id"]
        for s in server.api("GET", "/api/v1/workspaces/default/sources")
        if s["name"] == "tests"
    )


async def test_sources_create_and_list(cli: Cli, server: RunningServer) -> None:
    generated, given = await cli.run_all(
        ["sources", "create", "web", "--json"],
        [
            "sources",
            "create",
            "app",
            "--write-key",
            "app-write-key-1",
            "--kind",
            "client",
            "--json",
        ],
    )
    web, app = generated.json(), given.json()
    assert (web["name"], web["workspace"], web["kind"]) == ("web", "default", "server")
    assert (web["strict"], web["enabled"]) == (False, True)
    assert isinstance(web["id"], int)
    assert len(web["write_key"]) >= 20
    assert (app["name"], app["write_key"], app["kind"]) == ("app", "app-write-key-1", "client")

    listed, in_default, duplicate, table = await cli.run_all(
        ["sources", "list", "--json"],
        ["sources", "list", "--workspace", "default", "--json"],
        ["sources", "create", "web", "--json"],
        ["sources", "list"],
    )
    by_name = {s["name"]: s for s in listed.json()}
    assert set(by_name) == {"default", "tests", "web", "app"}
    assert by_name["web"] == web
    assert by_name["app"] == app
    assert in_default.json() == listed.json()
    assert duplicate.returncode == 1
    assert json.loads(duplicate.stdout)["code"] == "source_exists"
    assert "error:" in duplicate.stderr
    assert "source_exists" in duplicate.stderr
    # Without --json: a table, with each source's name and write key.
    assert table.returncode == 0, table.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(table.stdout)
    assert "write_key" in table.stdout
    assert web["write_key"] in table.stdout
    assert "app-write-key-1" in table.stdout

    # The printed write key is the one that works, and the CLI left its directory empty.
    signed_up = {"userId": "u1", "event": "Signed Up"}
    response = await asyncio.to_thread(send, server, signed_up, write_key=web["write_key"])
    assert response == {"success": True}
    assert not await asyncio.to_thread(lambda: list(cli.cwd.iterdir()))


async def test_events_commands_print_json(cli: Cli, server: RunningServer) -> None:
    source_id = _source_id(server)
    for i in range(3):
        send(server, {"userId": "u1", "event": f"Step {i}", "messageId": f"step-{i}"})
    send(server, {"userId": "u1", "event": "Step 0", "messageId": "step-0"})
    batch = {"batch": [{"type": "track", "userId": "u1", "messageId": "nameless"}]}
    send(server, batch, path="/v1/batch")

    got, latest, rejections, stats, by_event, replay = await cli.run_all(
        ["events", "get", "step-1", "--json"],
        ["events", "latest", str(source_id), "--limit", "2", "--json"],
        ["events", "rejections", "--source", str(source_id), "--json"],
        ["events", "stats", "--source", str(source_id), "--json"],
        [
            "events",
            "stats",
            "--source",
            str(source_id),
            "--by",
            "event",
            "--interval",
            "minute",
            "--json",
        ],
        ["events", "tail", str(source_id), "--after", "0", "--count", "3", "--json"],
    )
    event = got.json()
    assert (event["messageId"], event["name"], event["sourceId"]) == ("step-1", "Step 1", source_id)
    assert event["payload"]["userId"] == "u1"

    assert [e["messageId"] for e in latest.json()] == ["step-2", "step-1"]
    assert [(r["messageId"], r["index"]) for r in rejections.json()] == [("nameless", 0)]

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


async def test_server_errors_are_plain_words_and_a_non_zero_exit(
    cli: Cli, server: RunningServer
) -> None:
    missing, missing_json, refused = await cli.run_all(
        ["events", "get", "no-such-message"],
        ["events", "get", "no-such-message", "--json"],
        ["sources", "list", "--token", "not-the-admin-token"],
    )
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("error:")
    assert "HTTP 404" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert missing_json.returncode == 1
    assert json.loads(missing_json.stdout)["success"] is False
    assert refused.returncode == 1
    assert "invalid_token" in refused.stderr
    assert "--token" in refused.stderr
    assert "Traceback" not in refused.stderr


async def test_events_tail_prints_events_as_they_arrive(cli: Cli, server: RunningServer) -> None:
    source_id = _source_id(server)
    send(server, {"userId": "u1", "event": "Before", "messageId": "before"})

    tail = await cli.start("events", "tail", str(source_id), "--count", "3", "--json")
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
            body = {"userId": f"u{len(sent)}", "event": "Live", "messageId": message_id}
            await asyncio.to_thread(send, server, body)
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
