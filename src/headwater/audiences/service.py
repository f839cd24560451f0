"""Audiences and computed traits: the operations of the API and the CLI, each in its own
transaction.

>>> await create(engine, workspace="default", kind="audience", key="buyers", name="Buyers",
...              definition={"version": 1, "condition": {"type": "event",
...                          "event": "Order Completed"}})
>>> await recompute(engine, workspace="default", key="buyers")
[{'key': 'buyers', 'entered': 120, 'exited': 0, 'updated': 0, 'seconds': 0.08}]

Definitions arrive decoded with exact decimals (``values.decode``); invalid ones raise
:class:`~headwater.errors.BadRequest` with ``problems``. A new or changed definition is due for
recompute at once (the scheduler picks it up); :func:`recompute` runs it now.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.audiences import reads, store
from headwater.audiences.catalog import Catalog, Parsed, is_realtime, parse
from headwater.audiences.conditions import (
    KEY_PATTERN,
    AudienceDefinition,
    DefinitionError,
    ListDefinition,
)
from headwater.audiences.sql import Query, audience_query, trait_query
from headwater.audiences.views import (
    ChangesPage,
    ChangeTotalView,
    ChangeView,
    ComputationDeletedView,
    ComputationView,
    MembershipsView,
    MembersPage,
    MemberView,
    PreviewView,
    ProfileValueView,
    RecomputedView,
    RecomputeStepView,
)
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.profiles import lookups
from headwater.storage import Transaction, begin
from headwater.workspaces import check_name

__all__ = [
    "Interval",
    "change_totals",
    "changes",
    "create",
    "delete",
    "get",
    "list_computations",
    "members",
    "memberships",
    "preview",
    "recompute",
    "recompute_due",
    "update",
]

_KEY = re.compile(KEY_PATTERN)
Interval = Literal["day", "hour"]
_STEP: dict[Interval, timedelta] = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
MAX_BUCKETS = 2400
"""The most buckets one totals answer holds: 100 days of hours, over 6 years of days."""
_WHAT = {"audience": "an audience", "trait": "a computed trait"}


@asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    async with engine.begin() as connection:
        yield await begin(connection)


@asynccontextmanager
async def _in_workspace(engine: AsyncEngine, slug: str) -> AsyncIterator[tuple[Transaction, int]]:
    """A transaction and the id of the workspace ``slug`` (404 when there is none)."""
    async with engine.begin() as connection:
        tx = await begin(connection)
        yield tx, await workspaces.workspace_id(tx, slug)


def _public(c: store.Computation) -> ComputationView:
    body = msgspec.structs.asdict(c)
    body.pop("workspace_id")
    return cast(ComputationView, body)


def _parsed(kind: str, definition: Any) -> Any:
    try:
        return parse(kind, definition)
    except DefinitionError as error:
        raise BadRequest(
            "invalid_definition", f"invalid definition: {error}", problems=error.problems
        ) from None


async def _one(tx: Transaction, ws: int, kind: str, key: str) -> store.Computation:
    found = await store.computations(tx, ws, kind=kind, key=key, for_update=True)
    if not found:
        raise NotFound(f"{kind}_not_found", f"no {kind.replace('trait', 'computed trait')} {key}")
    return found[0]


def _check(catalog: Catalog, key: str, subject: str, definition: Any) -> None:
    if isinstance(definition, AudienceDefinition):
        try:
            catalog.check(key, subject, definition)
        except DefinitionError as error:
            raise BadRequest("invalid_definition", str(error), problems=error.problems) from None


async def create(
    engine: AsyncEngine,
    *,
    workspace: str,
    kind: str,
    key: str,
    name: str,
    definition: Any,
    description: str = "",
    subject: str = "user",
    destinations: list[int] | None = None,
    enabled: bool = True,
) -> ComputationView:
    """A new audience or computed trait; keys are unique across both (both become traits)."""
    if not _KEY.match(key):
        raise BadRequest("invalid_key", "a key is lower case letters, digits and _ (snake_case)")
    if kind == "trait" and subject != "user":
        raise BadRequest("invalid_subject", "computed traits are computed for users")
    check_name(name, what=_WHAT[kind])
    parsed = _parsed(kind, definition)
    if isinstance(parsed, ListDefinition) and subject != "user":
        raise BadRequest("invalid_subject", "list audiences are lists of people (subject user)")
    async with _in_workspace(engine, workspace) as (tx, ws):
        existing = await store.computations(tx, ws)
        if any(c.key == key for c in existing):
            raise Conflict("key_taken", f"the key {key} is taken in this workspace")
        _check(Catalog.of(existing), key, subject, parsed)
        made = await store.insert(
            tx,
            workspace_id=ws,
            kind=kind,
            key=key,
            name=name,
            description=description,
            subject=subject,
            definition=definition,
            realtime=is_realtime(subject, parsed),
            destinations=destinations or [],
            enabled=enabled,
        )
    return _public(made)


async def update(
    engine: AsyncEngine, *, workspace: str, kind: str, key: str, changes: dict[str, Any]
) -> ComputationView:
    """Change name, description, definition, destinations or enabled (key and subject stay;
    a list audience stays a list, a computed one computed)."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        current = await _one(tx, ws, kind, key)
        was_list = isinstance(_parsed(kind, current.definition), ListDefinition)
        if changes.get("name") is not None:
            check_name(changes["name"], what=_WHAT[kind])
        for field in ("name", "description", "destinations", "enabled", "definition"):
            if field in changes and changes[field] is not None:
                setattr(current, field, changes[field])
        parsed = _parsed(kind, current.definition)
        if isinstance(parsed, ListDefinition) != was_list:
            raise BadRequest(
                "invalid_definition",
                f"{key} is {'a list' if was_list else 'a computed'} audience and stays one:"
                " create a new audience instead",
            )
        others = [c for c in await store.computations(tx, ws) if c.key != key]
        _check(Catalog.of(others), key, current.subject, parsed)
        current.realtime = is_realtime(current.subject, parsed)
        return _public(await store.update(tx, current))


async def delete(
    engine: AsyncEngine, *, workspace: str, kind: str, key: str
) -> ComputationDeletedView:
    """Remove it; members exit (cause ``deleted``). Audiences naming it must change first."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        current = await _one(tx, ws, kind, key)
        dependents = Catalog.of(await store.computations(tx, ws)).dependents(key)
        if dependents:
            raise Conflict("in_use", f"{key} is used by {', '.join(dependents)}: change them first")
        await store.lock_exclusive(tx, current.id)
        exited = await store.delete(tx, current, datetime.now(UTC))
    return {"key": key, "deleted": True, "exited": exited}


async def get(engine: AsyncEngine, *, workspace: str, kind: str, key: str) -> ComputationView:
    async with _in_workspace(engine, workspace) as (tx, ws):
        found = await _one(tx, ws, kind, key)
        count = await tx.driver.fetchval(
            "SELECT count(*) FROM computed_values WHERE computation_id = $1", found.id
        )
    return {**_public(found), "size": count}


async def list_computations(
    engine: AsyncEngine, *, workspace: str, kind: str
) -> list[ComputationView]:
    """Every audience (or computed trait) of the workspace, by key, with its size."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        found = await store.computations(tx, ws, kind=kind)
        rows = await tx.driver.fetch(
            "SELECT computation_id, count(*) FROM computed_values"
            " WHERE computation_id = ANY($1::bigint[]) GROUP BY 1",
            [c.id for c in found],
        )
    sizes = {row[0]: row[1] for row in rows}
    return [{**_public(c), "size": sizes.get(c.id, 0)} for c in found]


def _query(
    catalog: Catalog, parsed: Any, *, workspace_id: int, subject: str, now: datetime
) -> Query:
    if isinstance(parsed, AudienceDefinition):
        query = audience_query(
            parsed, workspace_id=workspace_id, subject=subject, refs=catalog.refs(), now=now
        )
        query.sql = f"SELECT m.id, 'true'::jsonb FROM ({query.sql}) AS m"
        return query
    return trait_query(parsed, workspace_id=workspace_id, now=now)


async def preview(
    engine: AsyncEngine,
    *,
    workspace: str,
    kind: str,
    definition: Any,
    subject: str = "user",
    sample: int = 20,
) -> PreviewView:
    """What a definition would select now, without saving it: the size (exact: the same
    query as the recompute) and a sample of members with their values."""
    parsed = _parsed(kind, definition)
    if isinstance(parsed, ListDefinition):
        raise BadRequest(
            "invalid_definition",
            "a list audience has no condition to preview: save it, then add its members",
        )
    started = time.perf_counter()
    async with _in_workspace(engine, workspace) as (tx, ws):
        catalog = Catalog.of(await store.computations(tx, ws))
        _check(catalog, "", subject, parsed)
        query = _query(catalog, parsed, workspace_id=ws, subject=subject, now=datetime.now(UTC))
        await tx.driver.execute("SET TRANSACTION READ ONLY")
        rows = await tx.driver.fetch(
            f"WITH q AS MATERIALIZED ({query.sql}) SELECT (SELECT count(*) FROM q),"
            f" q.* FROM q ORDER BY 2 LIMIT {int(sample)}",
            *query.params,
        )
        size = rows[0][0] if rows else 0
    return {
        "size": size,
        "sample": [{"profile_id": r[1], "value": r[2]} for r in rows],
        "seconds": round(time.perf_counter() - started, 3),
    }


async def _recompute_one(
    engine: AsyncEngine,
    computation_id: int,
    *,
    now: datetime,
    cause: str,
    interval: timedelta,
) -> RecomputedView:
    """Recompute one computation in its own transaction, under its exclusive lock (the
    real-time stage waits for it, so neither overwrites the other's newer result)."""
    started = time.perf_counter()
    async with _transaction(engine) as tx:
        ws = await tx.driver.fetchval(
            "SELECT workspace_id FROM computations WHERE id = $1", computation_id
        )
        await store.lock_exclusive(tx, computation_id)
        catalog = Catalog.of(await store.computations(tx, ws))
        target = next(p for p in catalog.parsed.values() if p.id == computation_id)
        if target.listed is not None:
            counts = await _follow_merges(tx, computation_id, now=now, cause=cause)
        else:
            definition = target.audience or target.trait
            query = _query(
                catalog, definition, workspace_id=ws, subject=target.computation.subject, now=now
            )
            counts = await store.apply_values(
                tx, query=(computation_id, query.sql, query.params), at=now, cause=cause
            )
        await store.mark_computed(tx, computation_id, at=now, next_run_at=now + interval)
    return {
        "key": target.key,
        "entered": counts.get("entered", 0),
        "exited": counts.get("exited", 0),
        "updated": counts.get("updated", 0),
        "seconds": round(time.perf_counter() - started, 3),
    }


async def _follow_merges(
    tx: Transaction, computation_id: int, *, now: datetime, cause: str
) -> dict[str, int]:
    """A list audience's recompute: nothing is evaluated, members stay; a member merged into
    another profile since (one the real-time stage could not see, added while it merged)
    exits (``merged``) and the profile it now is enters."""
    moved = await store.merged_members(tx, computation_id)
    exited = await store.remove_members(
        tx, [(computation_id, gone, None) for gone, _ in moved], at=now, cause="merged"
    )
    entered = await store.add_members(
        tx, [(computation_id, live, None) for _, live in moved], at=now, cause=cause
    )
    return {"entered": len(entered), "exited": len(exited)}


async def recompute(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str | None = None,
    now: datetime | None = None,
    interval: timedelta = timedelta(minutes=15),
    parallel: int = 2,
) -> list[RecomputedView]:
    """Recompute one computation, or every one of the workspace, each in its own
    transaction; cause ``recompute``. Computed traits go first, then audiences after those
    they name; up to ``parallel`` independent ones run at once."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        catalog = Catalog.of(await store.computations(tx, ws))
    rounds = catalog.levels()
    if key is not None:
        rounds = [[p for r in rounds for p in r if p.key == key]]
        if not rounds[0]:
            raise NotFound("not_found", f"no audience or computed trait {key}")
    at = now or datetime.now(UTC)
    slots = asyncio.Semaphore(max(1, parallel))

    async def one(parsed: Parsed) -> RecomputedView:
        async with slots:
            return await _recompute_one(
                engine, parsed.id, now=at, cause="recompute", interval=interval
            )

    done: list[RecomputedView] = []
    for batch in rounds:
        done += await asyncio.gather(*(one(p) for p in batch))
    return done


async def recompute_order(engine: AsyncEngine, *, workspace: str) -> list[list[RecomputeStepView]]:
    """The rounds :func:`recompute` runs in, as ``{"key", "kind"}``: a client that recomputes
    one key at a time in this order (to show progress) gets what recomputing all does."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        catalog = Catalog.of(await store.computations(tx, ws))
    return [
        [{"key": p.key, "kind": "audience" if p.is_audience else "trait"} for p in rounds]
        for rounds in catalog.levels()
    ]


async def recompute_due(
    engine: AsyncEngine, *, interval: timedelta, now: datetime | None = None
) -> list[RecomputedView]:
    """Recompute every computation whose time has come (cause ``schedule``); several
    processes share the work, each computation claimed with ``SKIP LOCKED``."""
    done: list[RecomputedView] = []
    while True:
        at = now or datetime.now(UTC)
        async with _transaction(engine) as tx:
            claimed = await reads.due(tx, at)
            if claimed is not None:
                # Claim it for one interval, so another process skips it while this one works.
                await store.mark_computed(tx, claimed[1], at=None, next_run_at=at + interval)
        if claimed is None:
            return done
        done.append(
            await _recompute_one(engine, claimed[1], now=at, cause="schedule", interval=interval)
        )


async def members(
    engine: AsyncEngine,
    *,
    workspace: str,
    kind: str,
    key: str,
    cursor: str | None = None,
    limit: int = 100,
) -> MembersPage:
    """A page of members (or values) in profile id order; ``next_cursor`` is null at the end."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        found = await _one(tx, ws, kind, key)
        rows = await reads.members(tx, found.id, after=cursor, limit=limit)
    return {
        "data": cast(list[MemberView], rows),
        "next_cursor": rows[-1]["profile_id"] if len(rows) == limit else None,
    }


async def changes(
    engine: AsyncEngine,
    *,
    workspace: str,
    kind: str,
    key: str,
    before: int | None = None,
    limit: int = 100,
) -> ChangesPage:
    """The computation's changes, newest first; ``next_cursor`` goes back as ``before``."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        found = await _one(tx, ws, kind, key)
        rows = await reads.history(tx, computation_id=found.id, before=before, limit=limit)
    found_changes = cast(list[ChangeView], rows)
    return {"data": found_changes, "next_cursor": rows[-1]["id"] if len(rows) == limit else None}


async def change_totals(
    engine: AsyncEngine,
    *,
    workspace: str,
    kind: str,
    key: str,
    since: datetime | None = None,
    until: datetime | None = None,
    interval: Interval = "day",
) -> list[ChangeTotalView]:
    """Entries, exits and updates per day or hour (cut in UTC), oldest first, from the bucket
    holding ``since`` to the one holding the last moment before ``until``: every bucket, zero
    where nothing changed, so that a chart spans the whole range. Changes before ``since``
    (the first bucket may start earlier) or at ``until`` and later are not counted. Defaults:
    ``until`` now, ``since`` 30 days before ``until``; times without an offset are UTC."""
    until = _utc(until) if until is not None else datetime.now(UTC)
    since = _utc(since) if since is not None else until - timedelta(days=30)
    if since >= until:
        raise BadRequest("invalid_range", "since must be before until")
    step = _STEP[interval]
    first = since.replace(minute=0, second=0, microsecond=0)
    if interval == "day":
        first = first.replace(hour=0)
    if (until - first) / step > MAX_BUCKETS:
        raise BadRequest(
            "range_too_long", f"at most {MAX_BUCKETS} buckets: shorten the range or use days"
        )
    async with _in_workspace(engine, workspace) as (tx, ws):
        found = await _one(tx, ws, kind, key)
        counted = await reads.change_totals(
            tx, found.id, since=since, until=until, interval=interval
        )
    buckets: list[ChangeTotalView] = []
    at = first
    while at < until:
        entered, exited, updated = counted.get(at, (0, 0, 0))
        buckets.append({"bucket": at, "entered": entered, "exited": exited, "updated": updated})
        at += step
    return buckets


def _utc(value: datetime) -> datetime:
    """``value`` in UTC (a time without an offset is taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def memberships(
    engine: AsyncEngine,
    *,
    workspace: str,
    profile_id: str,
    before: int | None = None,
    limit: int = 100,
) -> MembershipsView:
    """A profile's audiences, computed-trait values and history of changes (newest first).

    A merged-away profile id answers for the profile it was merged into."""
    async with _in_workspace(engine, workspace) as (tx, ws):
        live = await lookups.survivor(tx, ws, profile_id)
        if live is None:
            raise NotFound("profile_not_found", f"no profile {profile_id}")
        values = await reads.profile_values(tx, live)
        changes = await reads.history(tx, profile_id=live, before=before, limit=limit)
    return {
        "profile_id": live,
        "requested_id": profile_id,
        "audiences": cast(list[ProfileValueView], [v for v in values if v["kind"] == "audience"]),
        "traits": {v["key"]: v["value"] for v in values if v["kind"] == "trait"},
        "history": cast(list[ChangeView], changes),
        "next_cursor": changes[-1]["id"] if len(changes) == limit else None,
    }
