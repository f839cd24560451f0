"""Two batches in flight at once, interleaved step by step on two connections, where their
identifier locks do not overlap but their profiles do. Each case holds one transaction open at
the point that matters, waits until PostgreSQL shows the other blocked on a lock, then lets
both finish; the result must equal canonical resolution of the same events.

Unlike ``test_races.py`` (two worker processes, timing left to chance), these fail every time
the interleaving they describe is mishandled."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.batch import Batch
from headwater.profiles.stage import ProfileStage
from headwater.storage import create_engine
from tests.profiles.test_order import appended, expected_profiles, payload, stored_profiles

_workspaces = itertools.count(500)


async def _blocked(engine: AsyncEngine, backend: int, *, within: float = 30) -> None:
    """Until the session ``backend`` waits on a lock."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            waiting = (
                await connection.exec_driver_sql(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
                    (backend,),
                )
            ).scalar()
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"session {backend} never waited on a lock")


async def _interleave(
    database_url: str,
    payloads: Sequence[dict[str, Any]],
    setup: Sequence[int],
    first: Sequence[int],
    second: Sequence[int],
    *,
    committed_while_waiting: set[str] | None = None,
) -> None:
    """Commit ``setup``; process ``first`` the waiting way and hold its transaction open;
    process ``second`` on another connection until it waits for ``first``; commit ``first``,
    then ``second``; compare with canonical resolution.

    ``second`` goes the waiting way too, unless ``committed_while_waiting`` is given: then it
    is processed as the processor does (uncontended events committed apart first), and these
    must be the events committed while it waits."""
    workspace_id = next(_workspaces)
    engine = create_engine(database_url, pool_size=3)
    try:
        log = await appended(engine, workspace_id, payloads)

        def entries(indexes: Sequence[int]) -> Batch:
            return Batch([log[i] for i in indexes])

        async with engine.begin() as connection:
            await ProfileStage().process(entries(setup), connection)
        async with engine.connect() as one, engine.connect() as two:
            await one.begin()
            await ProfileStage(early_commit=False).process(entries(first), one)
            await two.begin()
            backend = (await two.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
            assert isinstance(backend, int)
            stage = ProfileStage(early_commit=committed_while_waiting is not None)
            waiting = asyncio.create_task(stage.process(entries(second), two))
            try:
                await _blocked(engine, backend)
                assert not waiting.done()
                if committed_while_waiting is not None:
                    assert await _linked(engine, workspace_id) == committed_while_waiting
            except BaseException:
                waiting.cancel()
                raise
            await one.commit()
            await waiting
            await two.commit()
        stored, links = await stored_profiles(engine, workspace_id)
        expected, expected_links = expected_profiles(workspace_id, payloads)
        assert stored == expected
        assert links == expected_links
    finally:
        await engine.dispose()


async def _linked(engine: AsyncEngine, workspace_id: int) -> set[str]:
    """The message ids linked to a profile, as another connection sees them (committed)."""
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT message_id FROM profile_events WHERE workspace_id = $1", (workspace_id,)
        )
        return {row.message_id for row in rows}


def test_a_batch_whose_identifier_moved_in_a_merge_while_it_waited_finds_the_survivor(
    database_url: str,
) -> None:
    """The merge of u1's profile with the one holding a1 and e@x.io locks neither a1 nor the
    page view's batch; the page view read a1's owner before the merge committed and waited for
    that profile, merged away by then. It must land in the survivor, not start a profile."""
    payloads = [
        payload(0, "identify", 1, None, "a1", {"traits": {"email": "e@x.io"}}),
        payload(1, "identify", 0, "u1", None, {}),
        payload(2, "identify", 2, "u1", None, {"traits": {"email": "e@x.io"}}),
        payload(3, "page", 3, None, "a1", {"name": "Home"}),
    ]
    asyncio.run(_interleave(database_url, payloads, setup=[0, 1], first=[2], second=[3]))


def test_a_replay_reaching_a_profile_another_batch_is_changing_waits_and_rebuilds_with_it(
    database_url: str,
) -> None:
    """u2's profile is in u1's component only through a1, which u2's identify mentioned but
    could not take (one user_id per profile). While a batch adds a9 to u2's profile, a late
    event of u1 rebuilds the component, locking u1 and a2 only. The rebuild must include the
    other batch's event, or it would write u2's profile back without a9."""
    payloads = [
        payload(0, "identify", 10, "u1", "a1", {}),
        payload(1, "identify", 20, "u2", "a1", {}),
        payload(2, "track", 30, "u2", "a9", {"event": "Clicked"}),
        payload(3, "identify", 5, "u1", "a2", {}),
    ]
    asyncio.run(_interleave(database_url, payloads, setup=[0, 1], first=[2], second=[3]))


def test_an_identifier_owned_by_a_missing_profile_fails_the_batch_saying_which(
    database_url: str,
) -> None:
    """Owners re-read until they agree with the locked profiles: damage that no re-read mends
    must fail the batch (which the consumer retries and reports), not spin."""
    payloads = [
        payload(0, "identify", 0, "u1", None, {}),
        payload(1, "track", 1, "u1", None, {"event": "Clicked"}),
    ]

    async def scenario() -> None:
        workspace_id = next(_workspaces)
        engine = create_engine(database_url, pool_size=1)
        try:
            entries = await appended(engine, workspace_id, payloads)
            async with engine.begin() as connection:
                await ProfileStage(early_commit=False).process(Batch(entries[:1]), connection)
                await connection.exec_driver_sql(
                    "UPDATE identifiers SET profile_id = 'prf_gone' WHERE workspace_id = $1",
                    (workspace_id,),
                )
            with pytest.raises(RuntimeError, match=r"\('user_id', 'u1'\): 'prf_gone'"):
                async with engine.begin() as connection:
                    await ProfileStage(early_commit=False).process(Batch(entries[1:]), connection)
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_a_batch_commits_the_people_no_other_batch_holds_while_it_waits_for_the_others(
    database_url: str,
) -> None:
    """The other batch holds u1 (and a1 through it): the page view of a1 and the identify of
    u1 wait for it, while u2's events, connected to nothing it holds, are committed before."""
    payloads = [
        payload(0, "identify", 0, "u1", "a1", {"traits": {"email": "one@x.io"}}),
        payload(1, "page", 1, None, "a1", {"name": "Home"}),
        payload(2, "identify", 2, "u1", None, {"traits": {"plan": "pro"}}),
        payload(3, "page", 3, None, "a2", {"name": "Home"}),
        payload(4, "identify", 4, "u2", "a2", {"traits": {"email": "two@x.io"}}),
    ]
    asyncio.run(
        _interleave(
            database_url, payloads, [], [0], [1, 2, 3, 4], committed_while_waiting={"m003", "m004"}
        )
    )


def test_a_profile_held_by_another_batch_holds_back_events_of_identifiers_it_owns(
    database_url: str,
) -> None:
    """The other batch locks neither a1 nor e@x.io, but the profile owning both (through u1's
    identify, merging it with a1's): the page view of a1 must wait, not apply to the profile as
    it was. Only a2's event, owned by nobody held, is committed before."""
    payloads = [
        payload(0, "identify", 0, None, "a1", {"traits": {"email": "e@x.io"}}),
        payload(1, "identify", 1, "u1", None, {"traits": {"email": "e@x.io"}}),
        payload(2, "track", 2, "u1", None, {"event": "Clicked"}),
        payload(3, "page", 3, None, "a1", {"name": "Home"}),
        payload(4, "page", 4, None, "a2", {"name": "Home"}),
    ]
    asyncio.run(
        _interleave(
            database_url, payloads, [0], [1], [2, 3, 4], committed_while_waiting={"m000", "m004"}
        )
    )


def test_a_batch_processed_twice_at_once_links_each_event_once(database_url: str) -> None:
    """Two processors on one batch (a lease taken over while the old owner still works): the
    second waits for the first's locks, then finds the events linked and skips them."""
    payloads = [
        payload(0, "identify", 0, "u1", "a1", {"traits": {"email": "one@x.io"}}),
        payload(1, "page", 1, None, "a1", {"name": "Home"}),
    ]
    asyncio.run(
        _interleave(database_url, payloads, [], [0, 1], [0, 1], committed_while_waiting=set())
    )


def test_a_message_twice_in_one_batch_is_applied_once(database_url: str) -> None:
    payloads = [
        payload(0, "identify", 0, "u1", "a1", {"traits": {"email": "one@x.io"}}),
        payload(1, "page", 1, None, "a1", {"name": "Home"}),
    ]

    async def scenario(early_commit: bool) -> None:
        workspace_id = next(_workspaces)
        engine = create_engine(database_url, pool_size=2)
        try:
            log = await appended(engine, workspace_id, payloads)
            async with engine.begin() as connection:
                stage = ProfileStage(early_commit=early_commit)
                await stage.process(Batch([log[0], log[1], log[1], log[0]]), connection)
            stored, links = await stored_profiles(engine, workspace_id)
            assert (stored, links) == expected_profiles(workspace_id, payloads)
        finally:
            await engine.dispose()

    asyncio.run(scenario(True))
    asyncio.run(scenario(False))
