"""A regulation end to end, with ``headwater serve`` and Segment's Python SDK: suppression
refuses the whole person at the tracking API (counted, never stored, the rest of a batch
kept), deletion leaves no value of the person in any table, and UNSUPPRESS lets them in again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from segment.analytics.client import Client as SegmentClient
from sqlalchemy import text

from headwater.storage import create_engine
from tests.privacy.helpers import caught_up, ended, public, regulate
from tests.server import RunningServer

pytestmark = pytest.mark.e2e

USER = "user-7f3a9c"
ANONYMOUS = "anon-7f3a9c"
EMAIL = "ann-7f3a9c@example.com"
PERSON = (USER, ANONYMOUS, EMAIL, "Ann Quux7f3a")


def _client(server: RunningServer, write_key: str) -> SegmentClient:
    return SegmentClient(write_key, host=server.url, upload_interval=0.5, max_retries=1)


def _send(client: SegmentClient, calls: list[tuple[str, dict[str, Any]]]) -> None:
    for method, fields in calls:
        getattr(client, method)(**fields)
    client.flush()


async def _tables_holding(database_url: str, values: tuple[str, ...]) -> dict[str, list[str]]:
    """Every table with a row whose text holds one of ``values`` (and which)."""
    engine = create_engine(database_url, pool_size=1)
    found: dict[str, list[str]] = {}
    try:
        async with engine.connect() as connection:
            names = (
                await connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            for name in list(names):
                rows = (
                    await connection.execute(text(f'SELECT t::text FROM "{name}" AS t'))
                ).scalars()
                held = sorted({v for row in rows for v in values if v.lower() in row.lower()})
                if held:
                    found[name] = held
    finally:
        await engine.dispose()
    return found


async def _stored_events(database_url: str, workspace: str) -> list[str]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT coalesce(e.payload->>'event', e.payload->>'type') FROM events e"
                    " JOIN workspaces w ON w.id = e.workspace_id WHERE w.slug = :slug"
                ),
                {"slug": workspace},
            )
            return sorted(str(name) for name in rows.scalars())
    finally:
        await engine.dispose()


def _suppressed(server: RunningServer, workspace: str) -> int:
    counts = server.api("GET", f"/api/v1/workspaces/{workspace}/stats")
    return sum(int(bucket["suppressed"]) for bucket in counts)


def test_suppress_with_delete_forgets_and_refuses_the_whole_person(
    server: RunningServer,
) -> None:
    slug, write_key, _ = server.new_workspace()
    client = _client(server, write_key)
    _send(
        client,
        [
            ("identify", {"user_id": USER, "anonymous_id": ANONYMOUS, "traits": {"email": EMAIL}}),
            (
                "track",
                {"anonymous_id": ANONYMOUS, "event": "Viewed", "properties": {"n": PERSON[3]}},
            ),
            ("identify", {"user_id": "bob-1", "traits": {"email": "bob@example.com"}}),
            ("track", {"user_id": "bob-1", "event": "Bob Before"}),
        ],
    )
    caught_up(server)
    assert asyncio.run(_tables_holding(server.database_url, PERSON))  # the person is stored

    # Named by the user id only: the anonymous id linked to it is the same person.
    regulate_id = regulate(server, slug, "SUPPRESS_WITH_DELETE", [USER])
    regulation = ended(server, slug, regulate_id)
    assert regulation["overallStatus"] == "FINISHED", regulation
    [target] = regulation["targets"]
    assert sum(target["removed"].values()) > 0

    # Nothing of the person is left, in any table; the rest is untouched.
    assert asyncio.run(_tables_holding(server.database_url, PERSON)) == {}
    assert asyncio.run(_stored_events(server.database_url, slug)) == [
        "Bob Before",
        "identify",
    ]

    # One batch (the SDK's) with the person under either id, and Bob: Bob's is stored.
    _send(
        client,
        [
            ("track", {"user_id": USER, "event": "Refused By User"}),
            ("track", {"anonymous_id": ANONYMOUS, "event": "Refused By Device"}),
            ("track", {"user_id": "bob-1", "event": "Bob After"}),
        ],
    )
    caught_up(server)
    assert asyncio.run(_stored_events(server.database_url, slug)) == [
        "Bob After",
        "Bob Before",
        "identify",
    ]
    assert _suppressed(server, slug) == 2
    assert asyncio.run(_tables_holding(server.database_url, PERSON)) == {}
    with public(server, slug) as api:
        asked = api.get(
            "/suppressions", params={"subjectId": ANONYMOUS, "subjectType": "ANONYMOUS_ID"}
        )
    assert asked.json()["data"]["suppressed"] == [
        {"subjectType": "ANONYMOUS_ID", "subjectIds": [ANONYMOUS]}
    ]

    # UNSUPPRESS by the user id lets the whole person in again (the graph forgot the
    # anonymous id; the suppression remembered whose it was).
    unsuppressed = ended(server, slug, regulate(server, slug, "UNSUPPRESS", [USER]))
    assert unsuppressed["overallStatus"] == "FINISHED"
    _send(client, [("track", {"anonymous_id": ANONYMOUS, "event": "Welcome Back"})])
    caught_up(server)
    assert "Welcome Back" in asyncio.run(_stored_events(server.database_url, slug))
    assert _suppressed(server, slug) == 2
    client.join()


def test_a_raw_batch_keeps_the_ordinary_messages(server: RunningServer) -> None:
    slug, write_key, _ = server.new_workspace()
    ended(server, slug, regulate(server, slug, "SUPPRESS_ONLY", ["gone"]))
    batch = {
        "batch": [
            {"type": "track", "userId": "gone", "event": "No"},
            {"type": "track", "userId": "kept", "event": "Yes"},
        ]
    }
    answer = httpx.post(f"{server.url}/v1/batch", json=batch, auth=(write_key, ""), timeout=10)
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    assert asyncio.run(_stored_events(server.database_url, slug)) == ["Yes"]
    assert _suppressed(server, slug) == 1
