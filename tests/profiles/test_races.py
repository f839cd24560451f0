"""Two ``headwater worker`` processes racing on the same people, on PostgreSQL.

``headwater serve`` only collects (``HEADWATER_RUN_PROCESSOR=false``). Each person's events
land in three partitions (their userId, and two anonymous devices joined by the email), so the
two workers, holding different partitions, resolve one person at the same time; some events
are older than events of the same person already processed, so replays race too. Afterwards
there must be exactly one live profile per person, and the stored profiles must equal
:func:`~headwater.identity.resolve` over the stored events in canonical order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.identity import Identifier
from tests.profiles.test_order import expected_profiles, stored_profiles
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PEOPLE = 200


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def person_events(n: int, *, late: bool) -> list[dict[str, Any]]:
    """Five events of person ``n`` across three partitions: ``a-n`` (web), ``b-n`` (phone, the
    same email) and ``u-n``. With ``late``, the phone's events are the oldest of all."""
    base = n * 10.0
    phone = base - 5000 if late else base + 8
    email = f"p-{n}@example.com"
    return [
        {"type": "page", "anonymousId": f"a-{n}", "name": "Home", "timestamp": _at(base)},
        {
            "type": "identify",
            "userId": f"u-{n}",
            "anonymousId": f"a-{n}",
            "traits": {"email": email, "plan": "free", "n": n},
            "timestamp": _at(base + 1),
        },
        {
            "type": "track",
            "userId": f"u-{n}",
            "event": "Ordered",
            "properties": {"email": email},
            "timestamp": _at(base + 2),
        },
        {
            "type": "track",
            "anonymousId": f"b-{n}",
            "event": "App Opened",
            "context": {"traits": {"email": email, "device": "phone"}},
            "timestamp": _at(phone),
        },
        {
            "type": "identify",
            "userId": f"u-{n}",
            "traits": {"plan": "pro"},
            "timestamp": _at(base + 3),
        },
    ]


def identifiers_of(n: int) -> set[Identifier]:
    return {
        Identifier("user_id", f"u-{n}"),
        Identifier("anonymous_id", f"a-{n}"),
        Identifier("anonymous_id", f"b-{n}"),
        Identifier("email", f"p-{n}@example.com"),
    }


def send(server: RunningServer, messages: Sequence[dict[str, Any]], *, prefix: str) -> None:
    with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=30) as client:
        for start in range(0, len(messages), 1000):
            chunk = [
                {**m, "messageId": f"{prefix}-{start + i}"}
                for i, m in enumerate(messages[start : start + 1000])
            ]
            response = client.post("/v1/batch", json={"batch": chunk})
            assert response.status_code == 200, response.text


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as connection:
        return (await connection.exec_driver_sql(sql)).scalar()


async def wait_for(engine: AsyncEngine, sql: str, expected: Any, *, within: float) -> None:
    deadline = time.monotonic() + within
    value = None
    while time.monotonic() < deadline:
        value = await scalar(engine, sql)
        if value == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sql!r}: {value!r} after {within}s, expected {expected!r}")


PROCESSED = "SELECT count(*) FROM profile_events WHERE kind = 'user'"
LEASE_OWNERS = (
    "SELECT count(DISTINCT owner) FROM log_leases WHERE consumer = 'processor'"
    " AND partition >= 0 AND expires_at > now()"
)


async def check_profiles(engine: AsyncEngine, people: int, total: int) -> None:
    """The hard guarantees: every event linked once, one live profile per person owning all
    of that person's identifiers, and everything equal to canonical resolution."""
    async with engine.connect() as connection:
        workspace_id = (
            await connection.exec_driver_sql("SELECT workspace_id FROM events")
        ).scalar()
        payloads = [
            row.payload
            for row in await connection.exec_driver_sql("SELECT payload FROM events ORDER BY seq")
        ]
    assert len(payloads) == total
    assert await scalar(engine, PROCESSED) == total
    stored, links = await stored_profiles(engine, workspace_id)
    assert len(links) == total, "an event is not linked to a live profile"
    by_identifier = {i: ids for ids in stored for i in ids}
    for n in range(people):
        mine = identifiers_of(n)
        owners = {by_identifier.get(i) for i in mine}
        assert owners == {frozenset(mine)}, f"person {n} is split or incomplete: {owners}"
        assert stored[frozenset(mine)]["plan"] == "pro"
    assert len(stored) == people, f"{len(stored) - people} profiles beyond one per person"
    expected, expected_links = expected_profiles(workspace_id, payloads)
    assert stored == expected
    assert links == expected_links


def _workers(database_url: str, tmp_path: Path, count: int) -> Iterator[Worker]:
    for i in range(count):
        yield Worker(database_url, tmp_path / f"worker-{i}.log")


async def test_two_workers_racing_on_the_same_people_make_one_profile_each(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path, extra_env=COLLECT_ONLY)
    workers: list[Worker] = []
    try:
        # Anonymous browsing first; both workers start on it together.
        first = [person_events(n, late=n % 2 == 0)[0] for n in range(PEOPLE)]
        send(server, first, prefix="first")
        workers = list(_workers(database_url, tmp_path, 2))
        # Until both hold partitions (the first one to start briefly holds them all).
        await wait_for(engine, LEASE_OWNERS, 2, within=30)
        rest = [e for n in range(PEOPLE) for e in person_events(n, late=n % 2 == 0)[1:]]
        send(server, rest, prefix="rest")
        total = len(first) + len(rest)
        await wait_for(engine, "SELECT count(*) FROM events", total, within=30)
        await wait_for(engine, PROCESSED, total, within=60)
        assert await scalar(engine, LEASE_OWNERS) == 2
        for worker in workers:
            worker.stop()
            assert worker.process.returncode == 0, worker.log()
            assert "started" in worker.log()
            assert "stopped" in worker.log()
        await check_profiles(engine, PEOPLE, total)
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
