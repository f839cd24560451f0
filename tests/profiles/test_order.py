"""Order independence of the profile stage, on PostgreSQL: whatever the arrival order and the
batches, the stored profiles (identifiers and traits) and event links equal
:func:`~headwater.identity.resolve` over the same events in canonical order.

Profile ids are names, not part of the graph: a profile is named after the first event that
created it as the events arrived, and keeps that id (a late, older event joining it does not
rename it). What order must never change is which identifiers and events make up a profile,
and its traits; and every id ever handed out must keep resolving to a live profile.

Each example appends its events to the real log (the stage's replay reads payloads back from
the ``events`` table), then runs :class:`ProfileStage` over them in a random order, split into
random batches, one transaction per batch. Examples use their own workspace, so one database
serves them all.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.batch import Batch
from headwater.identity import (
    Identifier,
    IdentityEvent,
    Rules,
    TraitValue,
    identity_event,
    merge_traits,
    plain,
    resolve,
)
from headwater.log import LogEntry, LogRecord, PostgresLog
from headwater.profiles.stage import ProfileStage, profile_id
from headwater.spec import Event, message_of, parse_timestamp
from headwater.storage import create_engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
USERS = ("u0", "u1", "u2")
ANONYMOUS = ("a0", "a1", "a2", "a3")
EMAILS = ("e0@x.io", "e1@x.io", "e2@x.io")
_workspaces = itertools.count(100)


class CountingStage(ProfileStage):
    """The real stage, counting how often it took the replay path."""

    def __init__(self) -> None:
        super().__init__()
        self.replays = 0

    async def _replay(self, *args: Any, **kwargs: Any) -> Any:
        self.replays += 1
        return await super()._replay(*args, **kwargs)


def user_traits(payload: dict[str, Any]) -> dict[str, Any]:
    """What an event sets on its user, as issue 3 states it: identify traits and
    ``context.traits`` of any call."""
    found: dict[str, Any] = {}
    context = payload.get("context")
    if isinstance(context, dict) and isinstance(context.get("traits"), dict):
        found.update(context["traits"])
    if payload.get("type") == "identify" and isinstance(payload.get("traits"), dict):
        found.update(payload["traits"])
    return found


def identity_of(payload: dict[str, Any]) -> IdentityEvent:
    """The event as users are resolved from it: every identifier but ``group_id``."""
    event = identity_event(
        message_of(payload),
        message_id=payload["messageId"],
        timestamp=parse_timestamp(payload["timestamp"]),
        rules=Rules.default(),
    )
    users = tuple(i for i in event.identifiers if i.type != "group_id")
    return IdentityEvent(event.message_id, event.timestamp, users, event.alias_previous_id)


Expected = dict[frozenset[Identifier], dict[str, Any]]
"""Live profiles as their identifiers -> their traits."""


def expected_profiles(
    workspace_id: int, payloads: Sequence[dict[str, Any]]
) -> tuple[Expected, dict[str, frozenset[Identifier]]]:
    """The reference: live profiles as identifiers -> traits, and message id -> the
    identifiers of its profile."""
    events = [identity_of(p) for p in payloads]
    graph = resolve(
        events, Rules.default(), lambda e: profile_id(workspace_id, "user", e.message_id)
    )
    live = graph.profiles()
    traits: dict[str, dict[str, TraitValue]] = {pid: {} for pid in live}
    links: dict[str, frozenset[Identifier]] = {}
    for payload in payloads:
        pid = graph.profile_of(payload["messageId"])
        if pid is None:
            continue
        links[payload["messageId"]] = live[pid]
        traits[pid] = merge_traits(
            traits[pid],
            user_traits(payload),
            timestamp=parse_timestamp(payload["timestamp"]),
            message_id=payload["messageId"],
        )
    return {ids: plain(traits[pid]) for pid, ids in live.items()}, links


async def stored_profiles(
    engine: AsyncEngine, workspace_id: int
) -> tuple[Expected, dict[str, frozenset[Identifier]]]:
    """What the stage stored, in the form of :func:`expected_profiles`; checks on the way that
    every identifier and event belongs to a live profile, no live profile is empty, and every
    merged-away profile id leads to a live one."""
    async with engine.connect() as connection:
        profiles = {
            row.id: {k: v["v"] for k, v in row.traits.items()}
            for row in await connection.exec_driver_sql(
                "SELECT id, traits FROM profiles WHERE workspace_id = $1 AND kind = 'user'"
                " AND merged_into IS NULL",
                (workspace_id,),
            )
        }
        identifiers: dict[str, set[Identifier]] = {pid: set() for pid in profiles}
        for row in await connection.exec_driver_sql(
            "SELECT type, value, profile_id FROM identifiers WHERE workspace_id = $1"
            " AND kind = 'user'",
            (workspace_id,),
        ):
            assert row.profile_id in profiles, f"{row} points at a dead or missing profile"
            identifiers[row.profile_id].add(Identifier(row.type, row.value))
        events = list(
            await connection.exec_driver_sql(
                "SELECT message_id, profile_id FROM profile_events WHERE workspace_id = $1"
                " AND kind = 'user'",
                (workspace_id,),
            )
        )
        redirects = {
            row.id: row.merged_into
            for row in await connection.exec_driver_sql(
                "SELECT id, merged_into FROM profiles WHERE workspace_id = $1 AND kind = 'user'"
                " AND merged_into IS NOT NULL",
                (workspace_id,),
            )
        }
    for old in redirects:
        target, hops = old, 0
        while target in redirects and hops <= len(redirects):
            target, hops = redirects[target], hops + 1
        assert target in profiles, f"merged profile {old} leads nowhere ({target})"
    assert all(identifiers.values()), f"live profiles without identifiers: {identifiers}"
    for row in events:
        assert row.profile_id in profiles, f"{row} is linked to a dead or missing profile"
    result = {frozenset(ids): profiles[pid] for pid, ids in identifiers.items()}
    assert len(result) == len(profiles)
    return result, {row.message_id: frozenset(identifiers[row.profile_id]) for row in events}


def payload(
    index: int, kind: str, minute: int, user: str | None, anon: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    timestamp = (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    payload: dict[str, Any] = {
        "type": kind,
        "messageId": f"m{index:03d}",
        "timestamp": timestamp,
        "receivedAt": timestamp,
        **extra,
    }
    if user is not None:
        payload["userId"] = user
    if anon is not None:
        payload["anonymousId"] = anon
    return payload


_traits = st.dictionaries(
    st.sampled_from(("plan", "name", "email")),
    st.one_of(st.sampled_from(("free", "pro", "Ada", "Bo")), st.sampled_from(EMAILS)),
    max_size=3,
)
_optional_user = st.one_of(st.none(), st.sampled_from(USERS))
_anon = st.sampled_from(ANONYMOUS)
_minute = st.integers(0, 3 * 24 * 60)


@st.composite
def _message(draw: st.DrawFn, index: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(("identify", "identify", "track", "alias")))
    minute = draw(_minute)
    if kind == "alias":
        previous = draw(st.sampled_from(USERS + ANONYMOUS))
        return payload(
            index, kind, minute, draw(st.sampled_from(USERS)), None, {"previousId": previous}
        )
    user = draw(_optional_user)
    anon = draw(st.one_of(st.none(), _anon)) if user is not None else draw(_anon)
    extra: dict[str, Any] = {}
    if kind == "identify":
        extra["traits"] = draw(_traits)
    else:
        extra["event"] = "Clicked"
        if draw(st.booleans()):
            extra["properties"] = {"email": draw(st.sampled_from(EMAILS))}
    if draw(st.booleans()):
        extra["context"] = {"traits": draw(_traits)}
    return payload(index, kind, minute, user, anon, extra)


@st.composite
def _scenario(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """Events, and their arrival: a permutation of their indexes cut into batches."""
    count = draw(st.integers(2, 14))
    payloads = [draw(_message(i)) for i in range(count)]
    order = draw(st.permutations(range(count)))
    cuts = sorted(draw(st.sets(st.integers(1, count - 1), max_size=count - 1)))
    bounds = [0, *cuts, count]
    return payloads, [list(order[a:b]) for a, b in itertools.pairwise(bounds)]


def _event(payload: dict[str, Any]) -> Event:
    return Event(
        type=payload["type"],
        message_id=payload["messageId"],
        user_id=payload.get("userId"),
        anonymous_id=payload.get("anonymousId"),
        name=None,
        timestamp=parse_timestamp(payload["timestamp"]),
        received_at=parse_timestamp(payload["receivedAt"]),
        payload=payload,
    )


async def run_stage(
    database_url: str,
    workspace_id: int,
    payloads: Sequence[dict[str, Any]],
    batches: Sequence[Sequence[int]],
    stage: ProfileStage,
) -> tuple[Expected, dict[str, frozenset[Identifier]]]:
    """Append ``payloads`` to the log, run ``stage`` over them batch by batch (indexes into
    ``payloads``), and return what was stored."""
    engine = create_engine(database_url, pool_size=2)
    try:
        entries = await appended(engine, workspace_id, payloads)
        for batch in batches:
            async with engine.begin() as connection:
                await stage.process(Batch([entries[i] for i in batch]), connection)
        return await stored_profiles(engine, workspace_id)
    finally:
        await engine.dispose()


async def appended(
    engine: AsyncEngine, workspace_id: int, payloads: Sequence[dict[str, Any]]
) -> list[LogEntry]:
    """``payloads`` appended to the log, as the processor reads them back."""
    await PostgresLog(engine, 1).append(
        [LogRecord(workspace_id=workspace_id, source_id=1, event=_event(p)) for p in payloads]
    )
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT seq, message_id FROM events WHERE workspace_id = $1", (workspace_id,)
        )
        seqs = {row.message_id: row.seq for row in rows}
    return [_entry(workspace_id, seqs, p) for p in payloads]


def _entry(workspace_id: int, seqs: dict[str, int], payload: dict[str, Any]) -> LogEntry:
    return LogEntry(
        partition=0,
        offset=seqs[payload["messageId"]],
        workspace_id=workspace_id,
        source_id=1,
        message_id=payload["messageId"],
        type=payload["type"],
        name=payload.get("event"),
        user_id=payload.get("userId"),
        anonymous_id=payload.get("anonymousId"),
        timestamp=parse_timestamp(payload["timestamp"]),
        received_at=parse_timestamp(payload["receivedAt"]),
        message=message_of(payload),
    )


@settings(
    max_examples=int(os.environ.get("ORDER_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=_scenario())
def test_profiles_do_not_depend_on_arrival_order_or_batches(
    database_url: str, scenario: tuple[list[dict[str, Any]], list[list[int]]]
) -> None:
    payloads, batches = scenario
    workspace_id = next(_workspaces)
    note(f"batches: {batches}")
    stage = CountingStage()
    stored, links = asyncio.run(run_stage(database_url, workspace_id, payloads, batches, stage))
    event(f"replayed: {stage.replays > 0}")
    expected, expected_links = expected_profiles(workspace_id, payloads)
    assert stored == expected
    assert links == expected_links


def test_a_late_event_takes_the_replay_path_and_lands_where_canonical_order_puts_it(
    database_url: str,
) -> None:
    """u2 arrives first and takes a1; u1's older event then arrives: in canonical order a1 is
    u1's, and u2 is left alone. Redelivering everything changes nothing."""
    payloads = [
        payload(0, "identify", 60, "u2", "a1", {"traits": {"plan": "pro"}}),
        payload(1, "identify", 0, "u1", "a1", {"traits": {"plan": "free", "name": "Ada"}}),
        payload(2, "track", 30, None, "a1", {"event": "Clicked"}),
    ]
    stage = CountingStage()
    stored, links = asyncio.run(run_stage(database_url, 1, payloads, [[0], [1], [2]], stage))
    assert stage.replays >= 1
    expected, expected_links = expected_profiles(1, payloads)
    assert stored == expected
    assert links == expected_links
    u1 = frozenset({Identifier("user_id", "u1"), Identifier("anonymous_id", "a1")})
    assert stored[u1] == {"plan": "free", "name": "Ada"}
    assert stored[frozenset({Identifier("user_id", "u2")})] == {"plan": "pro"}
    again, _ = asyncio.run(run_stage(database_url, 2, payloads, [[0, 1, 2], [2, 1, 0]], stage))
    assert again == expected_profiles(2, payloads)[0]
