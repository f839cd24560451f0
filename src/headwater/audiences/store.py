"""Audience and computed-trait storage: queries on an asyncpg connection inside the caller's
transaction; nothing here commits.

Tables (migration 0005): ``computations`` (definitions), ``computed_values`` (current members
and values), ``audience_changes`` (every change with its time and cause: the activation
outbox). Computed values are diffed and written by :func:`apply_values`; a list audience's
members are added and removed one by one by :func:`add_members` and :func:`remove_members`.
Profiles are read through the profile capability's relations
(:mod:`headwater.profiles.relations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from headwater.audiences.values import decode, encode
from headwater.profiles.relations import PROFILES
from headwater.storage import Transaction, removed

__all__ = [
    "LOCK_CLASS",
    "Computation",
    "Membership",
    "add_members",
    "apply_values",
    "change_recorded",
    "computations",
    "delete",
    "forget_profiles",
    "insert",
    "lock_exclusive",
    "lock_profiles",
    "lock_shared",
    "mark_computed",
    "mark_delivered",
    "merged_members",
    "remove_members",
    "update",
]

LOCK_CLASS = 0x6175
"""The first key of the two-key advisory locks on computations (recompute vs real time)."""


class Computation(msgspec.Struct, kw_only=True):
    """An audience or computed trait as stored; ``definition`` is decoded (exact decimals)."""

    id: int
    workspace_id: int
    kind: str
    key: str
    name: str
    description: str
    subject: str
    definition: dict[str, Any]
    realtime: bool
    destinations: list[int]
    enabled: bool
    revision: int
    next_run_at: datetime
    computed_at: datetime | None
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    "id, workspace_id, kind, key, name, description, subject, definition::text AS definition,"
    " realtime, destinations::text AS destinations, enabled, revision, next_run_at,"
    " computed_at, created_at, updated_at"
)


def _computation(row: asyncpg.Record) -> Computation:
    values = dict(row)
    values["definition"] = decode(values["definition"])
    values["destinations"] = decode(values["destinations"])
    return Computation(**values)


async def computations(
    tx: Transaction,
    workspace: int,
    *,
    kind: str | None = None,
    key: str | None = None,
    for_update: bool = False,
) -> list[Computation]:
    """The workspace's computations (of a kind, or one key), by key."""
    rows = await tx.driver.fetch(
        f"SELECT {_COLUMNS} FROM computations WHERE workspace_id = $1"
        " AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR key = $3) ORDER BY key"
        + (" FOR UPDATE" if for_update else ""),
        workspace,
        kind,
        key,
    )
    return [_computation(row) for row in rows]


async def insert(tx: Transaction, **values: Any) -> Computation:
    """A new computation, due for its first recompute at once."""
    row = await tx.driver.fetchrow(
        "INSERT INTO computations (workspace_id, kind, key, name, description, subject,"
        " definition, realtime, destinations, enabled)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9::text::jsonb, $10)"
        f" RETURNING {_COLUMNS}",
        values["workspace_id"],
        values["kind"],
        values["key"],
        values["name"],
        values["description"],
        values["subject"],
        encode(values["definition"]),
        values["realtime"],
        encode(values["destinations"]),
        values["enabled"],
    )
    assert row is not None
    return _computation(row)


async def update(tx: Transaction, computation: Computation) -> Computation:
    """Write back the editable fields; a new definition bumps the revision and is due now."""
    row = await tx.driver.fetchrow(
        "UPDATE computations SET name = $2, description = $3, definition = $4::text::jsonb,"
        " realtime = $5, destinations = $6::text::jsonb, enabled = $7, updated_at = now(),"
        " revision = revision + (definition IS DISTINCT FROM $4::text::jsonb)::int,"
        " next_run_at = CASE WHEN definition IS DISTINCT FROM $4::text::jsonb THEN now()"
        " ELSE next_run_at END"
        f" WHERE id = $1 RETURNING {_COLUMNS}",
        computation.id,
        computation.name,
        computation.description,
        encode(computation.definition),
        computation.realtime,
        encode(computation.destinations),
        computation.enabled,
    )
    assert row is not None
    return _computation(row)


async def delete(tx: Transaction, computation: Computation, at: datetime) -> int:
    """Remove a computation; its members exit (cause ``deleted``). Returns how many."""
    exited: int = await tx.driver.fetchval(
        "WITH gone AS (DELETE FROM computed_values WHERE computation_id = $1"
        " RETURNING profile_id, value), logged AS (INSERT INTO audience_changes (workspace_id,"
        " computation_id, key, profile_id, change, previous, at, cause, kind, destinations,"
        " delivered) SELECT $2, $1, $3, profile_id, 'exited', value, $4, 'deleted', $6,"
        " $7::text::jsonb, $5 FROM gone"
        " RETURNING 1) SELECT count(*) FROM logged",
        computation.id,
        computation.workspace_id,
        computation.key,
        at,
        False,
        computation.kind,
        encode(computation.destinations),
    )
    await tx.driver.execute("DELETE FROM computations WHERE id = $1", computation.id)
    return exited


async def mark_computed(
    tx: Transaction,
    computation_id: int,
    *,
    at: datetime | None,
    next_run_at: datetime,
) -> None:
    """Record a recompute at ``at`` (None: only move ``next_run_at``, to claim it)."""
    await tx.driver.execute(
        "UPDATE computations SET computed_at = coalesce($2, computed_at), next_run_at = $3"
        " WHERE id = $1",
        computation_id,
        at,
        next_run_at,
    )


async def mark_delivered(
    tx: Transaction, change_ids: Sequence[int], errors: dict[int, str]
) -> None:
    """Mark changes handed to the delivery engine; ``errors`` by change id for refused ones."""
    await tx.driver.execute(
        "UPDATE audience_changes c SET delivered = true, error = e.error"
        " FROM unnest($1::bigint[], $2::text[]) AS e(id, error) WHERE c.id = e.id",
        list(change_ids),
        [errors.get(i) for i in change_ids],
    )


async def lock_profiles(tx: Transaction, profile_ids: Iterable[str]) -> None:
    """Transaction locks on profiles, in one order for every process: two batches touching
    one profile evaluate it one after the other, the second seeing the first's events."""
    keys = sorted(set(profile_ids))
    if keys:
        await tx.driver.execute(
            "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT"
            " hashtextextended(k, $1) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS locks",
            LOCK_CLASS,
            keys,
        )


async def lock_exclusive(tx: Transaction, computation_id: int) -> None:
    """Held by a recompute until its transaction ends: the real-time stage waits meanwhile."""
    await tx.driver.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, computation_id)


async def lock_shared(tx: Transaction, computation_ids: Iterable[int]) -> None:
    """Held by the real-time stage: processors share it, a recompute waits for them."""
    ids = sorted(set(computation_ids))
    if ids:
        await tx.driver.execute(
            "SELECT pg_advisory_xact_lock_shared($1, i) FROM unnest($2::int[]) AS i ORDER BY i",
            LOCK_CLASS,
            ids,
        )


# The diff of fresh values against stored ones: changes are written to computed_values and
# logged in audience_changes. ``fresh`` has (computation_id, profile_id, value, message_id);
# a NULL value means "no value" (not a member). Exits of merged-away profiles get the cause
# "merged".
_APPLY = """
{fresh},
diff AS (
    SELECT f.computation_id, f.profile_id, f.message_id, o.value AS previous, f.value
    FROM fresh f LEFT JOIN computed_values o
        ON o.computation_id = f.computation_id AND o.profile_id = f.profile_id
    WHERE o.value IS DISTINCT FROM f.value
{gone}),
removed AS (
    DELETE FROM computed_values c USING diff d
    WHERE c.computation_id = d.computation_id AND c.profile_id = d.profile_id
        AND d.value IS NULL
),
written AS (
    INSERT INTO computed_values (computation_id, profile_id, value, since, updated_at)
    SELECT computation_id, profile_id, value, {at}, {at} FROM diff WHERE value IS NOT NULL
    ON CONFLICT (computation_id, profile_id)
        DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
),
logged AS (
    INSERT INTO audience_changes (workspace_id, computation_id, key, profile_id, change,
        value, previous, at, cause, message_id, kind, destinations, delivered)
    SELECT c.workspace_id, c.id, c.key, d.profile_id,
        CASE WHEN d.previous IS NULL THEN 'entered' WHEN d.value IS NULL THEN 'exited'
             ELSE 'updated' END,
        d.value, d.previous, {at},
        CASE WHEN d.value IS NULL AND p.merged_into IS NOT NULL THEN 'merged' ELSE {cause} END,
        d.message_id, c.kind, c.destinations, false
    FROM diff d JOIN computations c ON c.id = d.computation_id
    LEFT JOIN {profiles} p ON p.id = d.profile_id
    ORDER BY d.computation_id, d.profile_id
    RETURNING change
)
SELECT change, count(*) FROM logged GROUP BY change
"""


async def apply_values(
    tx: Transaction,
    *,
    rows: Sequence[tuple[int, str, Any, str | None]] | None = None,
    query: tuple[int, str, list[Any]] | None = None,
    at: datetime,
    cause: str,
) -> dict[str, int]:
    """Store fresh values and log every change; return counts by change.

    Either ``rows`` (real time: ``(computation_id, profile_id, value or None, message_id)``
    for exactly the pairs to compare) or ``query`` (batch: ``(computation_id, sql, params)``
    selecting ``(profile_id, value)`` of every profile that has a value; stored values of
    the computation it does not return are removed).
    """
    if rows is not None:
        params: list[Any] = [
            [r[0] for r in rows],
            [r[1] for r in rows],
            [None if r[2] is None else encode(r[2]) for r in rows],
            [r[3] for r in rows],
        ]
        fresh = (
            "WITH fresh AS (SELECT c AS computation_id, p AS profile_id, v::jsonb AS value,"
            " m AS message_id FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])"
            " AS t(c, p, v, m))"
        )
        gone = ""
    else:
        assert query is not None
        computation_id, sql, params = query[0], query[1], list(query[2])
        params.append(computation_id)
        cid = f"${len(params)}::bigint"
        fresh = (
            f"WITH selected AS MATERIALIZED (SELECT * FROM ({sql}) AS q(profile_id, value)),"
            f" fresh AS (SELECT {cid} AS computation_id, s.profile_id, s.value,"
            " NULL::text AS message_id FROM selected AS s)"
        )
        gone = (
            "    UNION ALL SELECT o.computation_id, o.profile_id, NULL, o.value, NULL"
            f" FROM computed_values o WHERE o.computation_id = {cid}"
            " AND NOT EXISTS (SELECT 1 FROM selected s WHERE s.profile_id = o.profile_id)\n"
        )
    params += [at, cause]
    at_param, cause_param = f"${len(params) - 1}::timestamptz", f"${len(params)}::text"
    sql_text = _APPLY.format(
        fresh=fresh, gone=gone, at=at_param, cause=cause_param, profiles=PROFILES
    )
    return {row[0]: row[1] for row in await tx.driver.fetch(sql_text, *params)}


Membership = tuple[int, str, str | None]
"""A list audience's member as :func:`add_members` and :func:`remove_members` take it:
``(computation_id, profile_id, message_id)``; the message id (the event, or the journey step,
that made the change) is recorded with the change, None when there is none."""

_LOG_MEMBERS = """
logged AS (
    INSERT INTO audience_changes (workspace_id, computation_id, key, profile_id, change,
        value, previous, at, cause, message_id, kind, destinations, delivered)
    SELECT c.workspace_id, c.id, c.key, d.profile_id, {change}, {value}, {previous},
        $4, $5, d.message_id, c.kind, c.destinations, false
    FROM done d JOIN computations c ON c.id = d.computation_id
    ORDER BY d.computation_id, d.profile_id
    RETURNING computation_id, profile_id
)
SELECT computation_id, profile_id FROM logged
"""


async def add_members(
    tx: Transaction, members: Sequence[Membership], *, at: datetime, cause: str
) -> list[tuple[int, str]]:
    """Add list-audience members and log each entry; those already in are left as they are.
    Returns ``(computation_id, profile_id)`` of those that entered.

    One statement whose insert skips existing members (``ON CONFLICT DO NOTHING``, which waits
    for a concurrent insert of the same member to commit): two transactions adding the same
    member log one entry between them."""
    rows = await tx.driver.fetch(
        "WITH wanted AS (SELECT DISTINCT ON (c, p) c, p, m FROM unnest($1::bigint[],"
        " $2::text[], $3::text[]) AS t(c, p, m) ORDER BY c, p),"
        " done AS (INSERT INTO computed_values (computation_id, profile_id, value, since,"
        " updated_at) SELECT c, p, 'true'::jsonb, $4, $4 FROM wanted"
        " ON CONFLICT (computation_id, profile_id) DO NOTHING"
        " RETURNING computation_id, profile_id, (SELECT m FROM wanted w"
        " WHERE w.c = computation_id AND w.p = profile_id) AS message_id),"
        + _LOG_MEMBERS.format(change="'entered'", value="'true'::jsonb", previous="NULL"),
        *_columns(members),
        at,
        cause,
    )
    return [(row[0], row[1]) for row in rows]


async def remove_members(
    tx: Transaction, members: Sequence[Membership], *, at: datetime, cause: str
) -> list[tuple[int, str]]:
    """Remove list-audience members and log each exit; those not in change nothing.
    Returns ``(computation_id, profile_id)`` of those that exited."""
    rows = await tx.driver.fetch(
        "WITH wanted AS (SELECT DISTINCT ON (c, p) c, p, m FROM unnest($1::bigint[],"
        " $2::text[], $3::text[]) AS t(c, p, m) ORDER BY c, p),"
        " done AS (DELETE FROM computed_values v USING wanted w"
        " WHERE v.computation_id = w.c AND v.profile_id = w.p"
        " RETURNING v.computation_id, v.profile_id, w.m AS message_id, v.value),"
        + _LOG_MEMBERS.format(change="'exited'", value="NULL", previous="d.value"),
        *_columns(members),
        at,
        cause,
    )
    return [(row[0], row[1]) for row in rows]


def _columns(members: Sequence[Membership]) -> list[list[Any]]:
    return [[m[0] for m in members], [m[1] for m in members], [m[2] for m in members]]


async def merged_members(tx: Transaction, computation_id: int) -> list[tuple[str, str]]:
    """``(merged-away profile, the live profile it now is)`` for each member of a list
    audience that was merged into another profile (following merges of merges)."""
    rows = await tx.driver.fetch(
        "WITH RECURSIVE chain(start, id, merged_into, depth) AS ("
        f" SELECT p.id, p.id, p.merged_into, 0 FROM {PROFILES} p"
        " JOIN computed_values v ON v.profile_id = p.id"
        " WHERE v.computation_id = $1 AND p.merged_into IS NOT NULL"
        " UNION ALL"
        f" SELECT c.start, p.id, p.merged_into, c.depth + 1 FROM {PROFILES} p"
        " JOIN chain c ON p.id = c.merged_into WHERE c.depth < 200"
        ") SELECT start, id FROM chain WHERE merged_into IS NULL ORDER BY start",
        computation_id,
    )
    return [(row[0], row[1]) for row in rows]


async def change_recorded(tx: Transaction, computation_id: int, message_id: str) -> bool:
    """Whether a journey step (its ``message_id``) changed the computation's members already."""
    found: bool = await tx.driver.fetchval(
        "SELECT EXISTS (SELECT 1 FROM audience_changes WHERE message_id = $2"
        " AND cause = 'journey' AND computation_id = $1)",
        computation_id,
        message_id,
    )
    return found


async def forget_profiles(tx: Transaction, profile_ids: Sequence[str]) -> dict[str, int]:
    """Remove a person's profiles from every computation (audience memberships, computed
    trait values) and from the change log (their history, and any change not yet relayed);
    return rows removed per table. Takes the profiles' locks first (:func:`lock_profiles`),
    so the real-time stage evaluates them before or after, never half. Profile ids are unique
    across workspaces: the workspace needs no naming."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {"computed_values": 0, "audience_changes": 0}
    await lock_profiles(tx, ids)
    values = await tx.driver.execute(
        "DELETE FROM computed_values WHERE profile_id = ANY($1::text[])", ids
    )
    changes = await tx.driver.execute(
        "DELETE FROM audience_changes WHERE profile_id = ANY($1::text[])", ids
    )
    return {"computed_values": removed(values), "audience_changes": removed(changes)}
