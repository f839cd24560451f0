"""Reading profiles: lookups by identifier, traits, events, identifiers, links, merges.

Queries take a :class:`~headwater.storage.Transaction` (on ``engine.connect()``: each read
autocommits) and run on its asyncpg driver; they never commit: asyncpg keeps each statement
prepared per connection, and the Profile API's lookups skip SQLAlchemy's per-statement work.
A merged-away profile id resolves to its survivor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from headwater.storage import Transaction

__all__ = [
    "account_links",
    "find_profile",
    "identifier_links",
    "identifiers_of",
    "lookup_profile",
    "merges_of",
    "profile_events",
    "profile_row",
    "recent_profiles",
    "search_profiles",
    "summaries",
]

_PROFILE_ID_TYPES = ("segment_id", "profile_id")


async def find_profile(
    tx: Transaction, *, workspace_id: int, kind: str, id_type: str, value: str
) -> str | None:
    """The live profile id for an identifier (or a profile id, old or new), or None."""
    if id_type in _PROFILE_ID_TYPES:
        start = value
    else:
        start = await tx.driver.fetchval(_IDENTIFIER, workspace_id, kind, id_type, value)
        if start is None:
            return None
    return await _follow(tx, workspace_id=workspace_id, kind=kind, profile_id=start)


_IDENTIFIER = (
    "SELECT profile_id FROM identifiers WHERE workspace_id = $1 AND kind = $2"
    " AND type = $3 AND value = $4"
)


# The Profile API reads on the driver, in one round trip each; ``_LOOKUP`` resolves the space
# and the identifier together (``headwater.workspaces.workspace_id`` is every other lookup).
_SPACE = "SELECT id FROM workspaces WHERE slug = $1"

_LOOKUP = (
    "SELECT w.id AS space_id, p.* FROM workspaces w"
    " LEFT JOIN identifiers i ON i.workspace_id = w.id AND i.kind = $2 AND i.type = $3"
    " AND i.value = $4"
    " LEFT JOIN profiles p ON p.id = i.profile_id"
    " WHERE w.slug = $1"
)


async def lookup_profile(
    tx: Transaction, *, space: str, kind: str, id_type: str, value: str
) -> tuple[int | None, asyncpg.Record | None]:
    """The workspace id of ``space`` (None if there is none) and the live profile row for an
    identifier or a profile id (None if there is none), in one round trip for identifiers.

    Identifiers always belong to live profiles (a merge moves them), so only a profile id
    may need following to its survivor.
    """
    if id_type in _PROFILE_ID_TYPES:
        space_id: int | None = await tx.driver.fetchval(_SPACE, space)
        if space_id is None:
            return None, None
        live = await _follow(tx, workspace_id=space_id, kind=kind, profile_id=value)
        return space_id, None if live is None else await profile_row(tx, live)
    found = await tx.driver.fetchrow(_LOOKUP, space, kind, id_type, value)
    if found is None:
        return None, None
    return found["space_id"], None if found["id"] is None else found


_FOLLOW = (
    "WITH RECURSIVE chain(id, merged_into, depth) AS ("
    "  SELECT id, merged_into, 0 FROM profiles"
    "  WHERE id = $1 AND workspace_id = $2 AND kind = $3"
    "  UNION ALL"
    "  SELECT p.id, p.merged_into, c.depth + 1 FROM profiles p"
    "  JOIN chain c ON p.id = c.merged_into WHERE c.depth < 200"
    ") SELECT id FROM chain WHERE merged_into IS NULL LIMIT 1"
)


async def _follow(tx: Transaction, *, workspace_id: int, kind: str, profile_id: str) -> str | None:
    found: str | None = await tx.driver.fetchval(_FOLLOW, profile_id, workspace_id, kind)
    return found


async def profile_row(tx: Transaction, profile_id: str) -> asyncpg.Record | None:
    return await tx.driver.fetchrow("SELECT * FROM profiles WHERE id = $1", profile_id)


async def identifiers_of(
    tx: Transaction, profile_id: str, *, limit: int, offset: int
) -> list[asyncpg.Record]:
    return await tx.driver.fetch(
        "SELECT type, value, added_at, message_id, source_id FROM identifiers"
        " WHERE profile_id = $1 ORDER BY added_at, type, value LIMIT $2 OFFSET $3",
        profile_id,
        limit,
        offset,
    )


async def profile_events(
    tx: Transaction,
    profile_id: str,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
    event_type: str | None = None,
    name: str | None = None,
) -> list[asyncpg.Record]:
    """The profile's events, newest first: ``timestamp``, ``message_id`` and ``seq`` (the log
    offset, where :func:`headwater.profiles.timeline.timeline` reads the event); only those of
    ``event_type`` (``track``...) and whose name contains ``name`` (any case), when given."""
    args: list[Any] = [profile_id, limit]
    where = ""
    if before is not None:
        args += [before[0], before[1]]
        where += f" AND (timestamp, message_id) < (${len(args) - 1}, ${len(args)})"
    if event_type is not None:
        args.append(event_type)
        where += f" AND type = ${len(args)}"
    if name is not None:
        args.append(f"%{_escape_like(name)}%")
        where += f" AND name ILIKE ${len(args)}"
    return await tx.driver.fetch(
        "SELECT timestamp, message_id, seq FROM profile_events"
        f" WHERE profile_id = $1{where} ORDER BY timestamp DESC, message_id DESC LIMIT $2",
        *args,
    )


def _escape_like(text: str) -> str:
    """``text`` matched as it is by LIKE (whose default escape character is a backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def identifier_links(tx: Transaction, profile_id: str) -> list[asyncpg.Record]:
    """Each set of identifiers (``mentions``, ``[[type, value], ...]``) the profile's events
    named together, once, with the first event (by time) that did (``message_id``): the
    links of its identity graph."""
    return await tx.driver.fetch(
        "SELECT DISTINCT ON (mentions) mentions, message_id FROM profile_events"
        " WHERE profile_id = $1 AND jsonb_array_length(mentions) > 1"
        " ORDER BY mentions, timestamp, message_id",
        profile_id,
    )


async def merges_of(tx: Transaction, profile_id: str) -> list[asyncpg.Record]:
    """Merges into or out of the profile, oldest first."""
    return await tx.driver.fetch(
        "SELECT survivor_id, merged_id, message_id, merged_at, recorded_at FROM profile_merges"
        " WHERE survivor_id = $1 OR merged_id = $1 ORDER BY id",
        profile_id,
    )


async def account_links(tx: Transaction, profile_id: str, *, kind: str) -> list[asyncpg.Record]:
    """The accounts of a user profile, or the users of an account profile."""
    mine, other = (
        ("user_profile_id", "account_profile_id")
        if kind == "user"
        else ("account_profile_id", "user_profile_id")
    )
    return await tx.driver.fetch(
        f"SELECT {other} AS linked_id, message_id, linked_at FROM account_links"
        f" WHERE {mine} = $1 ORDER BY linked_at",
        profile_id,
    )


async def search_profiles(
    tx: Transaction,
    *,
    workspace_id: int,
    kind: str,
    identifier: tuple[str, str] | None,
    trait: tuple[str, Any] | None,
    value: str | None,
    limit: int,
) -> list[str]:
    """Live profile ids matching an identifier, a trait value (exactly: a case-insensitive
    match could not use the GIN index on ``traits`` and would read every profile), or any
    identifier value (an email whatever its case)."""
    args: list[Any] = [workspace_id, kind, limit]
    if identifier is not None:
        args += [identifier[0], identifier[1]]
        query = (
            "SELECT DISTINCT profile_id AS id FROM identifiers WHERE workspace_id = $1"
            " AND kind = $2 AND type = $4 AND value = $5"
        )
    elif trait is not None:
        # the text as a string, and as JSON when it is a number, true, false or null:
        # trait=seats=5 finds {"seats": 5} and {"seats": "5"}
        doc = msgspec.json.encode({trait[0]: {"v": trait[1]}}).decode()
        typed_doc = doc
        if isinstance(trait[1], str):
            try:
                typed = msgspec.json.decode(trait[1])
            except msgspec.DecodeError:
                typed = trait[1]
            if typed is None or isinstance(typed, bool | int | float):
                typed_doc = msgspec.json.encode({trait[0]: {"v": typed}}).decode()
        args += [doc, typed_doc]
        query = (
            "SELECT id FROM profiles WHERE workspace_id = $1 AND kind = $2"
            " AND merged_into IS NULL AND (traits @> CAST($4::text AS jsonb)"
            " OR traits @> CAST($5::text AS jsonb))"
        )
    else:
        # an email matches whatever its case (emails are stored lowercased); other
        # identifiers, user ids among them, only exactly
        assert value is not None
        args += [value, value.strip().lower()]
        query = (
            "SELECT DISTINCT profile_id AS id FROM identifiers WHERE workspace_id = $1"
            " AND kind = $2 AND (value = $4 OR (type = 'email' AND value = $5))"
        )
    rows = await tx.driver.fetch(f"{query} ORDER BY id LIMIT $3", *args)
    return [row["id"] for row in rows]


async def recent_profiles(
    tx: Transaction, *, workspace_id: int, kind: str, limit: int
) -> list[str]:
    """The live profiles seen most recently, newest first."""
    rows = await tx.driver.fetch(
        "SELECT id FROM profiles WHERE workspace_id = $1 AND kind = $2"
        " AND merged_into IS NULL ORDER BY last_ts DESC, id LIMIT $3",
        workspace_id,
        kind,
        limit,
    )
    return [row["id"] for row in rows]


async def summaries(
    tx: Transaction, profile_ids: list[str], *, identifiers: int
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """The profile rows of ``profile_ids`` and up to ``identifiers`` identifiers of each (the
    oldest first), in two round trips."""
    rows = await tx.driver.fetch(
        "SELECT id, kind, first_ts, last_ts, traits FROM profiles WHERE id = ANY($1::text[])",
        profile_ids,
    )
    idents = await tx.driver.fetch(
        "SELECT p.id AS profile_id, i.type, i.value FROM unnest($1::text[]) AS p(id),"
        " LATERAL (SELECT type, value FROM identifiers WHERE profile_id = p.id"
        " ORDER BY added_at, type, value LIMIT $2) AS i",
        profile_ids,
        identifiers,
    )
    return rows, idents
