"""What the profile stage records in the batch is what it stored: each event's user profile
and the profiles a batch touched (the audience stage reads these instead of ``profile_events``)
must equal the links as stored after the batch, merges, late events' rebuilds and redelivered
batches included."""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.batch import Batch
from headwater.log import LogEntry
from headwater.profiles.stage import ProfileStage
from headwater.spec import message_of, parse_timestamp
from headwater.storage import create_engine
from tests.profiles.test_order import _scenario, appended, payload

_workspaces = itertools.count(700)

_STORED_TOUCHED = (
    # What the audience stage read before the batch carried it: the live user profiles the
    # events are linked to, each with its newest message.
    "SELECT DISTINCT ON (pe.profile_id) pe.profile_id, pe.message_id FROM profile_events pe"
    " JOIN profiles p ON p.id = pe.profile_id AND p.merged_into IS NULL"
    " WHERE pe.workspace_id = $1 AND pe.kind = 'user' AND pe.message_id = ANY($2::text[])"
    " ORDER BY pe.profile_id, pe.timestamp DESC, pe.message_id DESC"
)
_STORED_LINKS = (
    "SELECT pe.message_id, pe.profile_id FROM profile_events pe"
    " JOIN profiles p ON p.id = pe.profile_id AND p.merged_into IS NULL"
    " WHERE pe.workspace_id = $1 AND pe.kind = 'user' AND pe.message_id = ANY($2::text[])"
)


async def _stored(
    engine: AsyncEngine, workspace_id: int, entries: list[LogEntry]
) -> tuple[dict[str, str], dict[str, str]]:
    """(message id -> live profile, profile -> newest message) as stored for ``entries``."""
    ids = [e.message_id for e in entries]
    async with engine.connect() as connection:
        links = await connection.exec_driver_sql(_STORED_LINKS, (workspace_id, ids))
        touched = await connection.exec_driver_sql(_STORED_TOUCHED, (workspace_id, ids))
        return {r[0]: r[1] for r in links}, {r[0]: r[1] for r in touched}


async def _check(
    database_url: str, payloads: list[dict[str, Any]], batches: list[list[int]], *, again: bool
) -> None:
    """Run the batches (each twice with ``again``: a redelivery), checking the batch each
    time against what is stored."""
    workspace_id = next(_workspaces)
    engine = create_engine(database_url, pool_size=3)
    try:
        log = await appended(engine, workspace_id, payloads)
        stage = ProfileStage()
        for indexes in batches:
            entries = [log[i] for i in indexes]
            for _ in range(2 if again else 1):
                batch = Batch(entries)
                async with engine.begin() as connection:
                    await stage.process(batch, connection)
                links, touched = await _stored(engine, workspace_id, entries)
                assert {e.message_id: batch.profile_of(e) for e in entries} == {
                    e.message_id: links.get(e.message_id) for e in entries
                }
                assert batch.touched(workspace_id) == touched
    finally:
        await engine.dispose()


@settings(
    max_examples=int(os.environ.get("ORDER_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=_scenario())
def test_the_batch_carries_the_links_as_stored(
    database_url: str, scenario: tuple[list[dict[str, Any]], list[list[int]]]
) -> None:
    payloads, batches = scenario
    note(f"batches: {batches}")
    event(f"batches: {min(len(batches), 3)}")
    asyncio.run(_check(database_url, payloads, batches, again=True))


def test_a_redelivered_batch_carries_the_links_stored_the_first_time(database_url: str) -> None:
    """Events already linked are skipped by the stage, yet the batch still carries their
    profiles (the audience stage of a retried batch must see them), moved by later merges."""
    payloads = [
        payload(0, "identify", 60, "u2", "a1", {"traits": {"plan": "pro"}}),
        payload(1, "track", 10, None, "a3", {"event": "Viewed"}),
        payload(2, "identify", 0, "u1", "a1", {"traits": {"plan": "free"}}),
        payload(3, "identify", 30, "u1", "a3", {}),
        payload(4, "track", 30, None, "a1", {"event": "Clicked"}),
    ]
    asyncio.run(_check(database_url, payloads, [[0, 1], [2, 3, 4], [0, 1, 2, 3, 4]], again=True))


def test_touched_names_each_profile_once_with_its_newest_message() -> None:
    """Ties on the timestamp go to the greater message id, as the stored query ordered them;
    entries of other workspaces and events with no profile are left out."""
    one = payload(0, "track", 5, "u1", None, {"event": "A"})
    two = payload(1, "track", 5, "u1", None, {"event": "B"})
    three = payload(2, "track", 1, "u2", None, {"event": "C"})
    entries = [_entry(1, p, i) for i, p in enumerate([two, one, three])]
    entries.append(_entry(2, one, 9))
    batch = Batch(entries)
    assert batch.touched(1) == {}
    batch.linked(1, {"m000": "prf_a", "m001": "prf_a"})
    assert batch.touched(1) == {"prf_a": "m001"}
    assert batch.profile_of(entries[2]) is None
    assert batch.profile_of(entries[3]) is None
    assert batch.touched(2) == {}


def _entry(workspace_id: int, sent: dict[str, Any], offset: int) -> LogEntry:
    return LogEntry(
        partition=0,
        offset=offset,
        workspace_id=workspace_id,
        source_id=1,
        message_id=sent["messageId"],
        type=sent["type"],
        name=sent.get("event"),
        user_id=sent.get("userId"),
        anonymous_id=None,
        timestamp=parse_timestamp(sent["timestamp"]),
        received_at=parse_timestamp(sent["timestamp"]),
        message=message_of(sent),
    )
