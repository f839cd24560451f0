"""Audience reads: members, a profile's values and history, and what the real-time evaluator
needs of the profiles a batch touched. Queries on a transaction's asyncpg driver; nothing
here commits. Profile data comes through the profile capability's face
(:mod:`headwater.profiles.lookups`, and :mod:`headwater.profiles.relations` in SQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from headwater.audiences.activation import Identity
from headwater.audiences.evaluate import EventData
from headwater.audiences.values import decode
from headwater.log.relation import GOVERNED_EVENTS
from headwater.profiles import lookups
from headwater.profiles.relations import IDENTIFIERS, PROFILE_EVENTS, PROFILES
from headwater.storage import Transaction

__all__ = [
    "change_totals",
    "due",
    "events_of",
    "history",
    "identities",
    "members",
    "merged_values",
    "profile_traits",
    "profile_values",
    "undelivered",
    "values_of",
]


async def members(
    tx: Transaction, computation_id: int, *, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """Members (or values) in profile id order, after the cursor ``after``, with the
    profile's ``user_id`` and ``email`` when it has them."""
    rows = await tx.driver.fetch(
        "SELECT v.profile_id, v.value::text AS value, v.since, v.updated_at,"
        f" (SELECT value FROM {IDENTIFIERS} i WHERE i.profile_id = v.profile_id"
        "  AND i.type = 'user_id' ORDER BY added_at LIMIT 1) AS user_id,"
        f" (SELECT value FROM {IDENTIFIERS} i WHERE i.profile_id = v.profile_id"
        "  AND i.type = 'email' ORDER BY added_at LIMIT 1) AS email"
        " FROM computed_values v WHERE v.computation_id = $1"
        " AND ($2::text IS NULL OR v.profile_id > $2) ORDER BY v.profile_id LIMIT $3",
        computation_id,
        after,
        limit,
    )
    return [{**dict(row), "value": decode(row["value"])} for row in rows]


async def profile_values(tx: Transaction, profile_id: str) -> list[dict[str, Any]]:
    """The profile's current audiences and computed-trait values."""
    rows = await tx.driver.fetch(
        "SELECT c.key, c.kind, c.name, v.value::text AS value, v.since, v.updated_at"
        " FROM computed_values v JOIN computations c ON c.id = v.computation_id"
        " WHERE v.profile_id = $1 ORDER BY c.kind, c.key",
        profile_id,
    )
    return [{**dict(row), "value": decode(row["value"])} for row in rows]


_PROFILE_TRAITS = (
    "SELECT c.key, v.value FROM computed_values v JOIN computations c ON c.id = v.computation_id"
    " WHERE v.profile_id = $1 AND c.kind = ANY($2::text[])"
    " UNION ALL"
    " SELECT c.key, 'false'::jsonb FROM ("
    "  SELECT DISTINCT ON (computation_id) computation_id, change FROM audience_changes"
    "  WHERE profile_id = $1 AND kind = 'audience' ORDER BY computation_id, id DESC"
    " ) last JOIN computations c ON c.id = last.computation_id"
    " WHERE last.change = 'exited' AND 'audience' = ANY($2::text[])"
)


async def profile_traits(
    tx: Transaction, profile_id: str, *, kinds: Sequence[str]
) -> dict[str, Any]:
    """The profile's audiences and computed traits as Segment's Profile API shows them, as
    traits named by their keys: ``true`` for an audience it is in, ``false`` for one it has
    left (its last change was an exit), a computed trait's current value. ``kinds`` chooses
    among ``audience`` and ``trait``. Values are decoded as JSON (numbers as ``float``), ready
    to encode again."""
    rows = await tx.driver.fetch(_PROFILE_TRAITS, profile_id, list(kinds))
    return {row[0]: row[1] for row in rows}


async def history(
    tx: Transaction,
    *,
    profile_id: str | None = None,
    computation_id: int | None = None,
    before: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Changes, newest first, of one profile or one computation; ``before`` is an id cursor."""
    rows = await tx.driver.fetch(
        "SELECT id, key, profile_id, change, value::text AS value, previous::text AS previous,"
        " at, cause, message_id, delivered FROM audience_changes"
        " WHERE ($1::text IS NULL OR profile_id = $1)"
        " AND ($2::bigint IS NULL OR computation_id = $2)"
        " AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        profile_id,
        computation_id,
        before,
        limit,
    )
    return [
        {
            **dict(row),
            "value": None if row["value"] is None else decode(row["value"]),
            "previous": None if row["previous"] is None else decode(row["previous"]),
        }
        for row in rows
    ]


async def change_totals(
    tx: Transaction, computation_id: int, *, since: datetime, until: datetime, interval: str
) -> dict[datetime, tuple[int, int, int]]:
    """Entered, exited and updated counts per ``interval`` (``day`` or ``hour``, cut in UTC)
    of the changes at ``since`` or later and before ``until``, for the buckets that have any
    (the index on ``(computation_id, at)`` bounds the scan to the range)."""
    rows = await tx.driver.fetch(
        "SELECT date_trunc($4, at, 'UTC') AS bucket,"
        " count(*) FILTER (WHERE change = 'entered'), count(*) FILTER (WHERE change = 'exited'),"
        " count(*) FILTER (WHERE change = 'updated') FROM audience_changes"
        " WHERE computation_id = $1 AND at >= $2 AND at < $3 GROUP BY 1",
        computation_id,
        since,
        until,
        interval,
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


async def due(tx: Transaction, at: datetime) -> tuple[int, int] | None:
    """``(workspace_id, computation_id)`` of one enabled computation due at ``at``, locked
    (``FOR UPDATE SKIP LOCKED``) so another process takes another one."""
    row = await tx.driver.fetchrow(
        "SELECT workspace_id, id FROM computations WHERE enabled AND next_run_at <= $1"
        " ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        at,
    )
    return None if row is None else (row[0], row[1])


async def merged_values(tx: Transaction, survivors: Iterable[str]) -> list[tuple[int, str, str]]:
    """``(computation_id, profile_id, survivor)`` of values still held by profiles merged
    into ``survivors``: they exit, with the cause ``merged`` (a list audience's membership
    goes to the survivor)."""
    rows = await tx.driver.fetch(
        f"SELECT v.computation_id, v.profile_id, p.merged_into FROM {PROFILES} p"
        " JOIN computed_values v ON v.profile_id = p.id WHERE p.merged_into = ANY($1::text[])"
        " ORDER BY 1, 2",
        list(survivors),
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def values_of(tx: Transaction, profile_ids: Sequence[str]) -> dict[str, dict[int, Any]]:
    """Stored computed values: profile id -> computation id -> value."""
    rows = await tx.driver.fetch(
        "SELECT profile_id, computation_id, value::text FROM computed_values"
        " WHERE profile_id = ANY($1::text[])",
        list(profile_ids),
    )
    found: dict[str, dict[int, Any]] = {}
    for row in rows:
        found.setdefault(row[0], {})[row[1]] = decode(row[2])
    return found


async def events_of(
    tx: Transaction,
    profile_ids: Sequence[str],
    *,
    names: Sequence[str],
    unnamed_types: Sequence[str],
    since: datetime | None,
) -> dict[str, list[EventData]]:
    """The profiles' events that some condition may count: a name in ``names``, or a type in
    ``unnamed_types`` (conditions on any page, identify or group), since ``since``."""
    rows = await tx.driver.fetch(
        "SELECT pe.profile_id, pe.message_id, pe.type, pe.name, pe.timestamp,"
        f" (e.payload -> 'properties')::text FROM {PROFILE_EVENTS} pe"
        f" JOIN {GOVERNED_EVENTS} e ON e.seq = pe.seq"
        " WHERE pe.profile_id = ANY($1::text[])"
        " AND (pe.name = ANY($2::text[]) OR pe.type = ANY($3::text[]))"
        " AND ($4::timestamptz IS NULL OR pe.timestamp >= $4)",
        list(profile_ids),
        list(names),
        list(unnamed_types),
        since,
    )
    found: dict[str, list[EventData]] = {pid: [] for pid in profile_ids}
    for pid, message_id, kind, name, timestamp, properties in rows:
        decoded = decode(properties) if properties is not None else {}
        found[pid].append(
            EventData(
                message_id, kind, name, timestamp, decoded if isinstance(decoded, dict) else {}
            )
        )
    return found


async def undelivered(tx: Transaction, limit: int) -> list[dict[str, Any]]:
    """The oldest changes not yet handed to the delivery engine, locked (``SKIP LOCKED``)."""
    rows = await tx.driver.fetch(
        "SELECT id, workspace_id, computation_id, key, kind, profile_id, change,"
        " value::text AS value, at, cause, destinations::text AS destinations"
        " FROM audience_changes WHERE NOT delivered"
        " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
    )
    return [
        {
            **dict(row),
            "value": None if row["value"] is None else decode(row["value"]),
            "destinations": decode(row["destinations"]),
        }
        for row in rows
    ]


async def identities(tx: Transaction, profile_ids: Iterable[str]) -> dict[str, Identity]:
    """Each profile's first user id, newest anonymous id and first email."""
    rows = await lookups.identifiers(tx, profile_ids, ("user_id", "anonymous_id", "email"))
    found: dict[str, dict[str, str]] = {}
    for pid, kind, value in rows:
        ids = found.setdefault(pid, {})
        if kind == "anonymous_id" or kind not in ids:
            ids[kind] = value
    return {
        pid: Identity(ids.get("user_id"), ids.get("anonymous_id"), ids.get("email"))
        for pid, ids in found.items()
    }
