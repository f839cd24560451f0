"""Erasure racing the processor, on ``headwater serve`` (collecting only) and ``headwater
worker`` processes (processing, and running the regulation job).

- A burst of events for a person and for others is in the log, unprocessed, when
  ``SUPPRESS_WITH_DELETE`` names the person; events keep coming while the regulation runs (the
  person's are refused once suppressed, the others' stored). When it has finished, no table
  holds a value of the person, and every event of the others was processed.
- An event of the person that reached the log unprocessed just before the suppression, or just
  after it (accepted by a collector the suppression had not reached yet), is processed before
  the erase, never after it: the person is not made anew. The job is driven here by a
  :class:`~headwater.privacy.Regulator` of the test's own, turn by turn, while no processor
  runs, so the test sees it wait.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import LogRecord, PostgresLog
from headwater.privacy import Person, Regulator, erase_from_stores
from headwater.settings import Settings
from headwater.spec import Event, format_timestamp, parse_timestamp
from headwater.storage import Transaction, create_engine
from tests.privacy.helpers import PENDING, caught_up, ended, holding, public, regulate
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

pytestmark = pytest.mark.e2e

OTHERS = [f"other-{n}-{uuid.uuid4().hex[:6]}" for n in range(5)]


class Someone:
    """The person to forget: values found nowhere else."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.user_id = f"user-gone-{tag}"
        self.anonymous_id = f"anon-gone-{tag}"
        self.email = f"gone-{tag}@example.com"
        self.name = f"Gone Qxz{tag}"

    def values(self) -> set[str]:
        return {self.user_id, self.anonymous_id, self.email, self.name}

    def burst(self, count: int) -> list[dict[str, Any]]:
        linked = {
            "type": "identify",
            "userId": self.user_id,
            "anonymousId": self.anonymous_id,
            "traits": {"email": self.email, "name": self.name},
        }
        views = [
            {"type": "track", "userId": self.user_id, "event": "Viewed", "properties": {"n": n}}
            for n in range(count)
        ]
        return [linked, *views]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine(database_url)
    try:
        yield created
    finally:
        await created.dispose()


def _send(server: RunningServer, write_key: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 500):
        response = httpx.post(
            f"{server.url}/v1/batch",
            json={"batch": messages[start : start + 500]},
            auth=(write_key, ""),
            timeout=30,
        )
        assert response.status_code == 200, response.text


def _others(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"type": "track", "userId": OTHERS[n % len(OTHERS)], "event": f"Other {tag}"}
        for n in range(count)
    ]


async def _scalar(engine: AsyncEngine, sql: str, *args: object) -> Any:
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        return await tx.driver.fetchval(sql, *args)


async def _per_other(engine: AsyncEngine, sql: str) -> dict[str, int]:
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        rows = await tx.driver.fetch(sql, OTHERS)
    return {row[0]: int(row[1]) for row in rows}


_LOGGED = "SELECT user_id, count(*) FROM events WHERE user_id = ANY($1) GROUP BY 1"
_PROCESSED = (
    "SELECT i.value, count(DISTINCT pe.message_id) FROM profile_events pe"
    " JOIN identifiers i ON i.workspace_id = pe.workspace_id AND i.profile_id = pe.profile_id"
    " WHERE pe.kind = 'user' AND i.kind = 'user' AND i.type = 'user_id' AND i.value = ANY($1)"
    " GROUP BY 1"
)


def _suppressed(server: RunningServer, workspace: str) -> int:
    counts = server.api("GET", f"/api/v1/workspaces/{workspace}/stats")
    return sum(int(bucket["suppressed"]) for bucket in counts)


def _status(server: RunningServer, workspace: str, regulate_id: str) -> str:
    with public(server, workspace) as client:
        body = client.get(f"/regulations/{regulate_id}").json()
    return str(body["data"]["regulation"]["overallStatus"])


async def test_a_person_erased_while_the_processor_is_behind_is_gone_and_others_are_whole(
    database_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    server = start_server(database_url, tmp_path, COLLECT_ONLY)
    worker: Worker | None = None
    person = Someone()
    sent = dict.fromkeys(OTHERS, 0)

    def others(count: int, tag: str) -> None:
        batch = _others(count, tag)
        _send(server, write_key, batch)
        for message in batch:
            sent[message["userId"]] += 1

    try:
        slug, write_key, _ = server.new_workspace()
        # The burst: nothing processes it yet (the server only collects).
        _send(server, write_key, person.burst(300))
        others(1500, "Before")
        regulate_id = regulate(server, slug, "SUPPRESS_WITH_DELETE", [person.user_id])
        worker = Worker(database_url, tmp_path / "worker.log")
        # While it runs: the person under the named user id (refused at once), under the
        # anonymous id alone (refused once the job suppresses the whole person; accepted
        # before, and erased with the rest), and the others.
        rounds = 0
        deadline = time.monotonic() + 150
        while _status(server, slug, regulate_id) in PENDING:
            assert time.monotonic() < deadline, worker.log()[-3000:]
            _send(
                server,
                write_key,
                [
                    {"type": "track", "userId": person.user_id, "event": "Refused"},
                    {
                        "type": "track",
                        "anonymousId": person.anonymous_id,
                        "event": "Anonymous",
                        "properties": {"who": person.name},
                    },
                ],
            )
            others(10, "During")
            rounds += 1
            await asyncio.sleep(0.1)
        regulation = ended(server, slug, regulate_id)
        assert regulation["overallStatus"] == "FINISHED", regulation
        assert rounds > 1  # events kept coming while the regulation ran
        # After it: the person's ids are refused; the others' events stored.
        _send(
            server,
            write_key,
            [
                {"type": "track", "userId": person.user_id, "event": "After"},
                {"type": "track", "anonymousId": person.anonymous_id, "event": "After"},
            ],
        )
        others(50, "After")
        caught_up(server, timeout=120)

        assert await holding(engine, person.values()) == {}
        # The named user id was refused from the regulation's creation on: every round's.
        assert _suppressed(server, slug) >= rounds + 2
        assert await _per_other(engine, _LOGGED) == sent
        assert await _per_other(engine, _PROCESSED) == sent
        [target] = regulation["targets"]
        assert target["removed"]["events"] >= 301
        assert target["removed"]["profiles"] >= 1
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def _late_record(
    person: Someone, received_at: datetime, *, workspace_id: int, source_id: int
) -> LogRecord:
    """An event of the person under their anonymous id, as a collector accepted it at
    ``received_at`` (appended straight to the log: the collector's check already passed)."""
    message_id = f"late-{uuid.uuid4().hex}"
    payload = {
        "type": "track",
        "event": "Late",
        "messageId": message_id,
        "anonymousId": person.anonymous_id,
        "properties": {"who": person.name},
        "context": {},
        "integrations": {},
        "timestamp": format_timestamp(received_at),
        "receivedAt": format_timestamp(received_at),
    }
    event = Event(
        type="track",
        message_id=message_id,
        user_id=None,
        anonymous_id=person.anonymous_id,
        name="Late",
        timestamp=received_at,
        received_at=received_at,
        payload=payload,
    )
    return LogRecord(workspace_id=workspace_id, source_id=source_id, event=event)


async def _stage(engine: AsyncEngine, regulate_id: str) -> tuple[str, dict[str, Any]]:
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        row = await tx.driver.fetchrow(
            "SELECT stage, work FROM regulation_targets WHERE regulation_id = $1", regulate_id
        )
    assert row is not None
    work = row["work"]
    return str(row["stage"]), (work if isinstance(work, dict) else {})


@pytest.mark.parametrize("offset", [-0.5, 0.5], ids=["before", "after"])
async def test_an_event_accepted_around_the_suppression_cannot_make_the_person_again(
    database_url: str, tmp_path: Path, engine: AsyncEngine, offset: float
) -> None:
    """``offset``: seconds from the suppression's commit to the late event's reception."""
    server = start_server(database_url, tmp_path, COLLECT_ONLY)
    person = Someone()
    grace = timedelta(seconds=1)
    log = PostgresLog(engine, Settings().log_partitions)

    async def erase(tx: Transaction, whom: Person) -> dict[str, int]:
        return await erase_from_stores(tx, whom, log=log)

    regulator = Regulator(
        engine, log, erase=erase, grace=grace, poll_seconds=0.1, lease=timedelta(minutes=10)
    )
    try:
        slug, write_key, source_id = server.new_workspace()
        workspace_id = int(await _scalar(engine, "SELECT id FROM workspaces WHERE slug = $1", slug))
        first = Worker(database_url, tmp_path / "first.log")
        try:
            _send(server, write_key, [*person.burst(3), *_others(20, "Before")])
            caught_up(server)
        finally:
            first.stop()  # from here on, nothing processes but what the test starts
        assert await holding(engine, person.values())

        regulate_id = regulate(server, slug, "SUPPRESS_WITH_DELETE", [person.user_id])
        deadline = time.monotonic() + 60
        stage, work = await _stage(engine, regulate_id)
        while stage != "erase":
            assert time.monotonic() < deadline, (stage, work)
            await regulator.turn()
            await asyncio.sleep(0.1)
            stage, work = await _stage(engine, regulate_id)
        since = parse_timestamp(work["since"])
        late = _late_record(
            person,
            since + timedelta(seconds=offset),
            workspace_id=workspace_id,
            source_id=source_id,
        )
        await log.append([late])

        # Long past the suppression and its grace: the job still waits for the late event.
        await asyncio.sleep(max(0.0, (since + 4 * grace - datetime.now(UTC)).total_seconds()))
        for _ in range(3):
            await regulator.turn()
        assert (await _stage(engine, regulate_id))[0] == "erase"
        logged = "SELECT count(*) FROM events WHERE message_id = $1"
        assert await _scalar(engine, logged, late.event.message_id) == 1

        # A processor comes: the late event is processed, then the person is erased.
        second = Worker(database_url, tmp_path / "second.log")
        try:
            while (await _stage(engine, regulate_id))[0] == "erase":
                assert time.monotonic() < deadline + 60, second.log()[-3000:]
                await regulator.turn()
                await asyncio.sleep(0.1)
            regulation = ended(server, slug, regulate_id)
            caught_up(server)
        finally:
            second.stop()
        assert regulation["overallStatus"] == "FINISHED", regulation
        assert await _scalar(engine, logged, late.event.message_id) == 0
        assert await holding(engine, person.values()) == {}
    finally:
        await log.close()
        server.stop()
