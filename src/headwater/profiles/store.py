"""Writing the identity graph and profiles, for the profile stage. Queries take the stage's
transaction and run on its asyncpg driver (inside the processor's transaction) and never commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from headwater.log.relation import GOVERNED_EVENTS
from headwater.storage import Transaction, removed

__all__ = [
    "ProfileEvent",
    "ProfileRow",
    "StoredIdentifier",
    "component_rows",
    "delete_identifiers",
    "forget_person",
    "insert_merges",
    "link_accounts",
    "linked_profiles",
    "lock_identifiers",
    "mentions",
    "owners",
    "person_events",
    "processed",
    "profile_identifiers",
    "profiles_for_update",
    "redirect",
    "save_identifiers",
    "save_mentions",
    "save_profile_events",
    "save_profiles",
    "save_strays",
    "stray_profiles",
    "try_lock_identifiers",
]


class StoredIdentifier(msgspec.Struct, frozen=True):
    type: str
    value: str
    profile_id: str
    added_at: datetime
    message_id: str
    source_id: int | None


class ProfileRow(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    merged_into: str | None
    merges: int
    first_ts: datetime
    first_message_id: str
    first_source_id: int | None
    last_ts: datetime
    last_message_id: str
    last_source_id: int | None
    traits: dict[str, Any]
    consent: dict[str, Any] | None = None
    """``{"c": {category: bool}, "t": timestamp, "m": message id}``: the newest preferences
    of the profile's events (see :mod:`headwater.profiles.consent`); None before any."""
    new: bool = False
    """Known not to exist yet: written with a plain insert."""


async def processed(
    tx: Transaction, workspace_id: int, kind: str, message_ids: Sequence[str]
) -> set[str]:
    """The message ids already linked to a profile (a redelivered batch skips them)."""
    rows = await tx.driver.fetch(
        # One primary-key probe per message (see owners()): the batch is never planned as a
        # scan of the workspace's part of the index.
        "SELECT k.m FROM jsonb_array_elements_text($3::text::jsonb) AS k(m),"
        " LATERAL (SELECT 1 FROM profile_events WHERE workspace_id = $1 AND kind = $2"
        ' AND message_id = k.m COLLATE "C" LIMIT 1) AS e',
        workspace_id,
        kind,
        _json(message_ids),
    )
    return {row[0] for row in rows}


async def lock_identifiers(
    tx: Transaction, workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> None:
    """Transaction locks on identifiers, in one order for every process (no deadlocks): only
    the holder may create or move them, so racing processors never make duplicate profiles."""
    texts = list(_lock_texts(workspace_id, kind, keys))  # ordered below, by lock key
    if texts:
        await tx.driver.execute(
            "SELECT pg_advisory_xact_lock(h) FROM"
            " (SELECT DISTINCT hashtextextended(k, 7210) AS h"
            "  FROM jsonb_array_elements_text($1::text::jsonb) k ORDER BY 1) AS locks",
            _json(texts),
        )


async def try_lock_identifiers(
    tx: Transaction, workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Take the transaction locks of :func:`lock_identifiers` that are free, without waiting;
    return the keys whose lock another transaction holds."""
    texts = _lock_texts(workspace_id, kind, keys)
    if not texts:
        return set()
    rows = await tx.driver.fetch(
        "SELECT k FROM jsonb_array_elements_text($1::text::jsonb) AS k"
        " WHERE NOT pg_try_advisory_xact_lock(hashtextextended(k, 7210))",
        _json(list(texts)),
    )
    return {texts[row[0]] for row in rows}


def _lock_texts(
    workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """The text each identifier's lock is hashed from -> the identifier."""
    return {f"{workspace_id}\x1f{kind}\x1f{t}\x1f{v}": (t, v) for t, v in keys}


_KEYS = "(SELECT r->>0 AS t, r->>1 AS v FROM jsonb_array_elements($3::text::jsonb) AS x(r)) AS k"
"""The ``(type, value)`` keys of :func:`_per_identifier` as a relation ``k(t, v)``."""


async def _per_identifier(
    tx: Transaction,
    sql: str,
    workspace_id: int,
    kind: str,
    keys: Iterable[tuple[str, str]],
) -> list[asyncpg.Record]:
    """Run ``sql`` over the distinct (type, value) ``keys``: ``$1`` workspace, ``$2`` kind,
    ``$3`` the keys as one JSON document of ``[type, value]`` pairs (see ``_rows``), for
    :data:`_KEYS` to unpack into one probe per identifier."""
    pairs = list(set(keys))
    if not pairs:
        return []
    return await tx.driver.fetch(sql, workspace_id, kind, _json(pairs))


async def owners(
    tx: Transaction, workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    rows = await _per_identifier(
        tx,
        # LATERAL ... LIMIT 1 is never flattened into a join: one primary-key probe per
        # identifier, whatever the planner believes about the table's size.
        "SELECT k.t, k.v, i.profile_id FROM " + _KEYS + ","
        " LATERAL (SELECT profile_id FROM identifiers WHERE workspace_id = $1 AND kind = $2"
        ' AND type = k.t COLLATE "C" AND value = k.v COLLATE "C" LIMIT 1) AS i',
        workspace_id,
        kind,
        keys,
    )
    return {(row[0], row[1]): row[2] for row in rows}


async def mentioning_profiles(
    tx: Transaction, workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> set[str]:
    """The profiles of the newest events that mentioned each identifier: the way into a
    component through identifiers no profile owns (an alias's other reading of its
    ``previousId``, or an identifier dropped by a limit)."""
    rows = await _per_identifier(
        tx,
        "SELECT e.profile_id FROM " + _KEYS + ","
        " LATERAL (SELECT newest_message_id FROM identifier_mentions"
        " WHERE workspace_id = $1 AND kind = $2"
        ' AND type = k.t COLLATE "C" AND value = k.v COLLATE "C" LIMIT 1) AS m,'
        " LATERAL (SELECT profile_id FROM profile_events WHERE workspace_id = $1 AND kind = $2"
        " AND message_id = m.newest_message_id LIMIT 1) AS e",
        workspace_id,
        kind,
        keys,
    )
    return {row[0] for row in rows}


async def stray_profiles(
    tx: Transaction, workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> set[str]:
    """The profiles of every event that mentioned one of ``keys`` without its profile owning
    it (see :func:`save_strays`)."""
    rows = await _per_identifier(
        tx,
        "SELECT DISTINCT e.profile_id FROM " + _KEYS + ","
        " LATERAL (SELECT message_id FROM stray_mentions WHERE workspace_id = $1 AND kind = $2"
        ' AND type = k.t COLLATE "C" AND value = k.v COLLATE "C" OFFSET 0) AS s,'
        " LATERAL (SELECT profile_id FROM profile_events WHERE workspace_id = $1 AND kind = $2"
        " AND message_id = s.message_id LIMIT 1) AS e",
        workspace_id,
        kind,
        keys,
    )
    return {row[0] for row in rows}


async def save_strays(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    strays: Sequence[tuple[str, str, str]],
) -> None:
    """Record (type, value, message id) of identifiers an event mentions but its profile does
    not own, so that a replay finds the event from them."""
    if strays:
        await tx.driver.execute(
            "INSERT INTO stray_mentions (workspace_id, kind, type, value, message_id)"
            " SELECT $1, $2, r->>0, r->>1, r->>2 FROM jsonb_array_elements($3::text::jsonb) AS x(r)"
            " ON CONFLICT DO NOTHING",
            workspace_id,
            kind,
            _json(sorted(set(strays))),
        )


_PROFILE_COLUMNS = (
    "id, kind, merged_into, merges, first_ts, first_message_id, first_source_id, last_ts,"
    " last_message_id, last_source_id, traits, consent"
)


async def profiles_for_update(
    tx: Transaction, profile_ids: Iterable[str], *, skip_locked: bool = False
) -> dict[str, ProfileRow]:
    """The profiles, locked; with ``skip_locked``, only those no other transaction holds."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    columns = ", ".join(f"p.{c.strip()}" for c in _PROFILE_COLUMNS.split(","))
    rows = await tx.driver.fetch(
        # Index probes per id, whatever the statistics say (see owners()); ids sorted, so
        # every process locks profiles in one order.
        f"SELECT {columns}"
        " FROM jsonb_array_elements_text($1::text::jsonb) WITH ORDINALITY AS k(id, n),"
        ' LATERAL (SELECT * FROM profiles WHERE id = k.id COLLATE "C" OFFSET 0) AS p'
        " ORDER BY k.n FOR UPDATE OF p" + (" SKIP LOCKED" if skip_locked else ""),
        _json(ids),
    )
    return {
        row[0]: ProfileRow(
            id=row[0],
            kind=row[1],
            merged_into=row[2],
            merges=row[3],
            first_ts=row[4],
            first_message_id=row[5],
            first_source_id=row[6],
            last_ts=row[7],
            last_message_id=row[8],
            last_source_id=row[9],
            traits=row[10],  # jsonb arrives decoded (the engine's codec)
            consent=row[11],
        )
        for row in rows
    }


async def profile_identifiers(
    tx: Transaction, profile_ids: Iterable[str]
) -> list[StoredIdentifier]:
    rows = await tx.driver.fetch(
        # OFFSET 0 keeps a LATERAL without LIMIT from being flattened into a join: flattened,
        # it was planned as a hash join over a sequential scan of the table (7 ms a batch at
        # 47,000 identifiers, growing with them) instead of one index probe per profile.
        "SELECT i.type, i.value, i.profile_id, i.added_at, i.message_id, i.source_id"
        " FROM jsonb_array_elements_text($1::text::jsonb) AS k(id),"
        ' LATERAL (SELECT * FROM identifiers WHERE profile_id = k.id COLLATE "C" OFFSET 0) AS i',
        _json(sorted(set(profile_ids))),
    )
    return [StoredIdentifier(*row) for row in rows]


async def component_rows(
    tx: Transaction, profile_ids: Iterable[str], limit: int
) -> list[asyncpg.Record]:
    """The profile events of ``profile_ids`` (``limit`` at most) with what a replay needs: a
    set read over many profiles' events inside the processor's transaction, so on the log's
    named relation (:mod:`headwater.log.relation`), in one round trip."""
    return await tx.driver.fetch(
        "SELECT pe.message_id, pe.timestamp, pe.mentions, pe.previous_id, pe.profile_id,"
        " pe.seq, pe.type, pe.name, e.source_id, e.payload"
        " FROM jsonb_array_elements_text($1::text::jsonb) AS k(id),"
        " LATERAL (SELECT * FROM profile_events"
        ' WHERE profile_id = k.id COLLATE "C" OFFSET 0) AS pe,'
        f" LATERAL (SELECT source_id, payload FROM {GOVERNED_EVENTS} WHERE seq = pe.seq LIMIT 1)"
        " AS e LIMIT $2",
        _json(sorted(set(profile_ids))),
        limit,
    )


async def linked_profiles(
    tx: Transaction, workspace_id: int, kind: str, message_ids: Iterable[str]
) -> dict[str, str]:
    """The live profile each event of ``message_ids`` is linked to (merges move links to the
    survivor): message id -> profile id."""
    rows = await tx.driver.fetch(
        "SELECT pe.message_id, pe.profile_id FROM profile_events pe"
        " JOIN profiles p ON p.id = pe.profile_id AND p.merged_into IS NULL"
        " WHERE pe.workspace_id = $1 AND pe.kind = $2 AND pe.message_id = ANY($3::text[])",
        workspace_id,
        kind,
        list(message_ids),
    )
    return {row[0]: row[1] for row in rows}


_rows = msgspec.json.Encoder()
"""Rows and keys cross the wire as one JSON document per statement, unpacked by
``json_to_recordset`` or ``jsonb_array_elements``: far cheaper in Python than parallel arrays,
which asyncpg encodes (and type-checks) element by element (see the log's append)."""


def _json(rows: object) -> str:
    return _rows.encode(rows).decode()


async def save_profiles(tx: Transaction, workspace_id: int, rows: Iterable[ProfileRow]) -> None:
    """Insert new profiles (``new``: known not to exist, a plain insert) and update the
    others (an upsert: a rebuild may name a profile that exists)."""
    batch = list(rows)
    fresh = [row for row in batch if row.new]
    if fresh:
        await tx.driver.execute(
            f"INSERT INTO profiles ({_PROFILE_WRITE}) {_PROFILE_ROWS}", workspace_id, _json(fresh)
        )
    if len(fresh) < len(batch):
        await tx.driver.execute(
            f"INSERT INTO profiles ({_PROFILE_WRITE}) {_PROFILE_ROWS}"
            " ON CONFLICT (id) DO UPDATE SET merged_into = excluded.merged_into,"
            " merges = excluded.merges, first_ts = excluded.first_ts,"
            " first_message_id = excluded.first_message_id,"
            " first_source_id = excluded.first_source_id, last_ts = excluded.last_ts,"
            " last_message_id = excluded.last_message_id,"
            " last_source_id = excluded.last_source_id, traits = excluded.traits,"
            " consent = excluded.consent, updated_at = now()",
            workspace_id,
            _json([row for row in batch if not row.new]),
        )


_PROFILE_WRITE = (
    "id, workspace_id, kind, merged_into, merges, first_ts, first_message_id, first_source_id,"
    " last_ts, last_message_id, last_source_id, traits, consent"
)
_PROFILE_ROWS = (
    "SELECT id, $1, kind, merged_into, merges, first_ts, first_message_id, first_source_id,"
    " last_ts, last_message_id, last_source_id, traits, consent"
    " FROM json_to_recordset($2::text::json) AS r(id text, kind text, merged_into text,"
    " merges int, first_ts timestamptz, first_message_id text, first_source_id int,"
    " last_ts timestamptz, last_message_id text, last_source_id int, traits jsonb,"
    " consent jsonb)"
)


async def save_identifiers(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    rows: Sequence[StoredIdentifier],
    *,
    new: Sequence[StoredIdentifier] = (),
) -> None:
    """Insert identifiers, or move them to another profile; ``new`` ones are known not to
    exist (no other transaction may create an identifier whose lock this one holds): a plain
    insert."""
    if new:
        await tx.driver.execute(
            f"INSERT INTO identifiers ({_IDENTIFIER_WRITE}) {_IDENTIFIER_ROWS}",
            workspace_id,
            kind,
            _json(new),
        )
    if rows:
        await tx.driver.execute(
            f"INSERT INTO identifiers ({_IDENTIFIER_WRITE}) {_IDENTIFIER_ROWS}"
            " ON CONFLICT (workspace_id, kind, type, value) DO UPDATE SET"
            " profile_id = excluded.profile_id, added_at = excluded.added_at"
            " WHERE identifiers.profile_id <> excluded.profile_id"
            " OR identifiers.added_at <> excluded.added_at",
            workspace_id,
            kind,
            _json(rows),
        )


_IDENTIFIER_WRITE = "workspace_id, kind, type, value, profile_id, added_at, message_id, source_id"
_IDENTIFIER_ROWS = (
    "SELECT $1, $2, type, value, profile_id, added_at, message_id, source_id"
    " FROM json_to_recordset($3::text::json) AS r(type text, value text, profile_id text,"
    " added_at timestamptz, message_id text, source_id int)"
)


async def delete_identifiers(
    tx: Transaction, workspace_id: int, kind: str, keys: Sequence[tuple[str, str]]
) -> None:
    if keys:
        await tx.driver.execute(
            "DELETE FROM identifiers i USING unnest($3::text[], $4::text[]) AS k(t, v)"
            " WHERE i.workspace_id = $1 AND i.kind = $2"
            ' AND i.type = k.t COLLATE "C" AND i.value = k.v COLLATE "C"',
            workspace_id,
            kind,
            [k[0] for k in keys],
            [k[1] for k in keys],
        )


class ProfileEvent(msgspec.Struct, frozen=True, array_like=True):
    """An event's link to its profile, with what a replay needs to rebuild its component:
    ``mentions`` as ``[[type, value], ...]`` (see ``IdentityEvent.mentions``)."""

    message_id: str
    profile_id: str
    seq: int
    timestamp: datetime
    type: str
    name: str | None
    mentions: Sequence[tuple[str, str]]
    previous_id: str | None


async def save_profile_events(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    rows: Sequence[ProfileEvent],
    *,
    moving: bool = False,
) -> None:
    """Link events to profiles: events never linked (the stage skips those that are), or,
    ``moving``, links a rebuild may find existing and move."""
    if not rows:
        return
    await tx.driver.execute(
        "INSERT INTO profile_events (workspace_id, kind, message_id, profile_id, seq, timestamp,"
        " type, name, mentions, previous_id)"
        " SELECT $1, $2, r->>0, r->>1, (r->>2)::bigint, (r->>3)::timestamptz, r->>4, r->>5,"
        " r->6, r->>7 FROM jsonb_array_elements($3::text::jsonb) AS x(r)"
        + (
            " ON CONFLICT (workspace_id, kind, message_id)"
            " DO UPDATE SET profile_id = excluded.profile_id"
            if moving
            else ""
        ),
        workspace_id,
        kind,
        _json(rows),
    )


async def redirect(tx: Transaction, moves: dict[str, str]) -> None:
    """Point everything of merged-away profiles at their survivors: events and links."""
    if not moves:
        return
    old, new = list(moves), list(moves.values())
    # One statement per merged profile: a join against the moves array is planned as a scan
    # of the whole table whenever its statistics lag its growth; one equality is always an
    # index probe (profile ids are unique across workspaces).
    await tx.driver.executemany(
        "UPDATE profile_events SET profile_id = $2 WHERE profile_id = $1", list(moves.items())
    )
    await tx.driver.execute(_MOVE_USER_LINKS, old, new)
    await tx.driver.execute(_MOVE_ACCOUNT_LINKS, old, new)


_MOVE_USER_LINKS = """
WITH moved AS (
    DELETE FROM account_links l USING unnest($1::text[], $2::text[]) AS m(old, new)
    WHERE l.user_profile_id = m.old
    RETURNING l.workspace_id, m.new, l.account_profile_id, l.message_id, l.linked_at
)
INSERT INTO account_links SELECT * FROM moved ON CONFLICT DO NOTHING
"""

_MOVE_ACCOUNT_LINKS = """
WITH moved AS (
    DELETE FROM account_links l USING unnest($1::text[], $2::text[]) AS m(old, new)
    WHERE l.account_profile_id = m.old
    RETURNING l.workspace_id, l.user_profile_id, m.new, l.message_id, l.linked_at
)
INSERT INTO account_links SELECT * FROM moved ON CONFLICT DO NOTHING
"""


async def insert_merges(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    merges: Sequence[tuple[str, str, str, datetime]],
) -> None:
    """Record merges: (survivor, merged-away, message id, event time)."""
    if merges:
        columns = list(zip(*merges, strict=True))
        await tx.driver.execute(
            "INSERT INTO profile_merges (workspace_id, kind, survivor_id, merged_id, message_id,"
            " merged_at) SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[],"
            " $6::timestamptz[])",
            workspace_id,
            kind,
            *[list(column) for column in columns],
        )


async def link_accounts(
    tx: Transaction,
    workspace_id: int,
    links: Sequence[tuple[str, str, str, datetime]],
) -> None:
    """(user profile, account profile, message id, time); the first link is kept."""
    if links:
        columns = list(zip(*links, strict=True))
        await tx.driver.execute(
            "INSERT INTO account_links (workspace_id, user_profile_id, account_profile_id,"
            " message_id, linked_at) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[],"
            " $5::timestamptz[]) ON CONFLICT DO NOTHING",
            workspace_id,
            *[list(column) for column in columns],
        )


async def mentions(
    tx: Transaction, workspace_id: int, kind: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[datetime, str]]:
    """The newest (timestamp, message id) that mentioned each identifier."""
    rows = await _per_identifier(
        tx,
        "SELECT k.t, k.v, m.newest_ts, m.newest_message_id"
        " FROM " + _KEYS + ","
        " LATERAL (SELECT newest_ts, newest_message_id FROM identifier_mentions"
        " WHERE workspace_id = $1 AND kind = $2"
        ' AND type = k.t COLLATE "C" AND value = k.v COLLATE "C" LIMIT 1) AS m',
        workspace_id,
        kind,
        keys,
    )
    return {(row[0], row[1]): (row[2], row[3]) for row in rows}


async def save_mentions(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    newest: dict[tuple[str, str], tuple[datetime, str]],
) -> None:
    """Raise each identifier's newest mention to the given key (never lower it)."""
    if not newest:
        return
    # Sorted, so that concurrent batches lock rows in one order.
    rows = [(t, v, *newest[t, v]) for t, v in sorted(newest)]
    await tx.driver.execute(
        "INSERT INTO identifier_mentions AS m (workspace_id, kind, type, value, newest_ts,"
        " newest_message_id) SELECT $1, $2, r->>0, r->>1, (r->>2)::timestamptz, r->>3"
        " FROM jsonb_array_elements($3::text::jsonb) AS x(r)"
        " ON CONFLICT (workspace_id, kind, type, value) DO UPDATE SET"
        " newest_ts = excluded.newest_ts, newest_message_id = excluded.newest_message_id"
        " WHERE (m.newest_ts, m.newest_message_id)"
        " < (excluded.newest_ts, excluded.newest_message_id)",
        workspace_id,
        kind,
        _json(rows),
    )


# --- erasure (privacy) -----------------------------------------------------------------------


async def person_events(
    tx: Transaction, workspace_id: int, profile_ids: Sequence[str]
) -> list[tuple[str, int]]:
    """``(message id, log offset)`` of every event linked to ``profile_ids``: one probe of
    ``profile_events_profile`` per profile (the workspace checked on the rows found:
    ``_BY_PROFILE``)."""
    rows = await tx.driver.fetch(
        "SELECT e.message_id, e.seq FROM unnest($2::text[]) AS p(id),"
        " LATERAL (SELECT message_id, seq FROM profile_events"
        ' WHERE profile_id = p.id COLLATE "C" AND workspace_id + 0 = $1) AS e',
        workspace_id,
        list(profile_ids),
    )
    return [(row[0], row[1]) for row in rows]


_NAMED = (
    " AND type = ANY($2::text[]) AND value = ANY($3::text[]) AND (type, value) IN"
    ' (SELECT k.t COLLATE "C", k.v COLLATE "C" FROM unnest($2::text[], $3::text[]) AS k(t, v))'
)
"""The named identifiers (``$2`` types, ``$3`` values), exactly, on a table keyed by
``(workspace_id, kind, type, value)``. The arrays alone are index conditions that probe the key
(a few types by a few values; the pairs then keep the named ones): the pairs alone, a join,
may be planned as a read of the whole workspace's identifiers, one probe of the pairs each."""

_BY_PROFILE = "profile_id = ANY($2::text[]) AND workspace_id + 0 = $1"
"""Rows of a person's profiles. The workspace is checked on the rows the profile index finds
(``+ 0`` keeps it out of the index conditions): with statistics from before a bulk load, the
planner may otherwise intersect the profiles' probes with a read of the whole workspace's
entries in the primary key, which costs as much as the workspace holds."""

_FORGET_PERSON: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (table, statement, its arguments in order); a table's statements add up
    (
        "profile_events",
        "DELETE FROM profile_events WHERE " + _BY_PROFILE,
        ("workspace", "profiles"),
    ),
    # Identifiers in two statements, each on its own index: one with ``OR`` would filter every
    # identifier of the workspace.
    (
        "identifiers",
        "DELETE FROM identifiers WHERE " + _BY_PROFILE,
        ("workspace", "profiles"),
    ),
    (
        "identifiers",
        "DELETE FROM identifiers WHERE workspace_id = $1 AND kind = 'user'" + _NAMED,
        ("workspace", "types", "values"),
    ),
    (
        "identifier_mentions",
        "DELETE FROM identifier_mentions WHERE workspace_id = $1 AND kind = 'user'" + _NAMED,
        ("workspace", "types", "values"),
    ),
    (
        "stray_mentions",
        "DELETE FROM stray_mentions WHERE workspace_id = $1 AND message_id = ANY($2::text[])",
        ("workspace", "messages"),
    ),
    (
        "stray_mentions",
        "DELETE FROM stray_mentions WHERE workspace_id = $1 AND kind = 'user'" + _NAMED,
        ("workspace", "types", "values"),
    ),
    (
        "profile_merges",
        "DELETE FROM profile_merges WHERE workspace_id = $1"
        " AND (survivor_id = ANY($2::text[]) OR merged_id = ANY($2::text[]))",
        ("workspace", "profiles"),
    ),
    (
        "account_links",
        "DELETE FROM account_links WHERE workspace_id = $1"
        " AND (user_profile_id = ANY($2::text[]) OR account_profile_id = ANY($2::text[]))",
        ("workspace", "profiles"),
    ),
    (
        "profiles",
        "DELETE FROM profiles WHERE workspace_id = $1 AND id = ANY($2::text[])",
        ("workspace", "profiles"),
    ),
)


async def forget_person(
    tx: Transaction,
    workspace_id: int,
    profile_ids: Sequence[str],
    identifiers: Sequence[tuple[str, str]],
    message_ids: Sequence[str],
) -> dict[str, int]:
    """Remove a person from the identity graph: their profiles (traits and consent with them),
    the identifiers they hold and those named (the latter also where no profile holds them:
    their newest mentions, stray mentions), their events' links (``message_ids``: stray
    mentions of their events too), merges and account links; return rows removed per table.
    The caller holds the identifiers' locks (:func:`lock_identifiers`), so no batch of the
    profile stage links to them meanwhile."""
    arguments: dict[str, object] = {
        "workspace": workspace_id,
        "profiles": list(profile_ids),
        "types": [t for t, _ in identifiers],
        "values": [v for _, v in identifiers],
        "messages": list(message_ids),
    }
    counts: dict[str, int] = {}
    for table, sql, names in _FORGET_PERSON:
        status = await tx.driver.execute(sql, *(arguments[name] for name in names))
        counts[table] = counts.get(table, 0) + removed(status)
    return counts
