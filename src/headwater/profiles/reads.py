"""Reading profiles: lookups by identifier, traits, events, identifiers, links, merges.

Queries take a connection and never commit. A merged-away profile id resolves to its survivor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "account_links",
    "find_profile",
    "identifiers_of",
    "lookup_profile",
    "merges_of",
    "profile_events",
    "profile_row",
    "search_profiles",
    "workspace_id",
]

_PROFILE_ID_TYPES = ("segment_id", "profile_id")


async def find_profile(
    connection: AsyncConnection, *, workspace_id: int, kind: str, id_type: str, value: str
) -> str | None:
    """The live profile id for an identifier (or a profile id, old or new), or None."""
    if id_type in _PROFILE_ID_TYPES:
        start = value
    else:
        start = await connection.scalar(
            text(
                "SELECT profile_id FROM identifiers WHERE workspace_id = :w AND kind = :k"
                " AND type = :t AND value = :v"
            ),
            {"w": workspace_id, "k": kind, "t": id_type, "v": value},
        )
        if start is None:
            return None
    return await _follow(connection, workspace_id=workspace_id, kind=kind, profile_id=start)


async def workspace_id(connection: AsyncConnection, space: str) -> int | None:
    found: int | None = await connection.scalar(
        text("SELECT id FROM workspaces WHERE slug = :space"), {"space": space}
    )
    return found


_LOOKUP = text(
    "SELECT w.id AS space_id, p.* FROM workspaces w"
    " LEFT JOIN identifiers i ON i.workspace_id = w.id AND i.kind = :k AND i.type = :t"
    " AND i.value = :v"
    " LEFT JOIN profiles p ON p.id = i.profile_id"
    " WHERE w.slug = :space"
)


async def lookup_profile(
    connection: AsyncConnection, *, space: str, kind: str, id_type: str, value: str
) -> tuple[int | None, Any]:
    """The workspace id of ``space`` (None if there is none) and the live profile row for an
    identifier or a profile id (None if there is none), in one round trip for identifiers.

    Identifiers always belong to live profiles (a merge moves them), so only a profile id
    may need following to its survivor.
    """
    if id_type in _PROFILE_ID_TYPES:
        space_id = await workspace_id(connection, space)
        if space_id is None:
            return None, None
        live = await _follow(connection, workspace_id=space_id, kind=kind, profile_id=value)
        return space_id, None if live is None else await profile_row(connection, live)
    found = (
        await connection.execute(_LOOKUP, {"space": space, "k": kind, "t": id_type, "v": value})
    ).first()
    if found is None:
        return None, None
    return found.space_id, None if found.id is None else found


async def _follow(
    connection: AsyncConnection, *, workspace_id: int, kind: str, profile_id: str
) -> str | None:
    found: str | None = await connection.scalar(
        text(
            "WITH RECURSIVE chain(id, merged_into, depth) AS ("
            "  SELECT id, merged_into, 0 FROM profiles"
            "  WHERE id = :id AND workspace_id = :w AND kind = :k"
            "  UNION ALL"
            "  SELECT p.id, p.merged_into, c.depth + 1 FROM profiles p"
            "  JOIN chain c ON p.id = c.merged_into WHERE c.depth < 200"
            ") SELECT id FROM chain WHERE merged_into IS NULL LIMIT 1"
        ),
        {"id": profile_id, "w": workspace_id, "k": kind},
    )
    return found


async def profile_row(connection: AsyncConnection, profile_id: str) -> Any:
    return (
        await connection.execute(text("SELECT * FROM profiles WHERE id = :id"), {"id": profile_id})
    ).first()


async def identifiers_of(
    connection: AsyncConnection, profile_id: str, *, limit: int, offset: int
) -> list[Any]:
    rows = await connection.execute(
        text(
            "SELECT type, value, added_at, message_id, source_id FROM identifiers"
            " WHERE profile_id = :id ORDER BY added_at, type, value LIMIT :limit OFFSET :offset"
        ),
        {"id": profile_id, "limit": limit, "offset": offset},
    )
    return list(rows)


async def profile_events(
    connection: AsyncConnection,
    profile_id: str,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
) -> list[Any]:
    """The profile's events, newest first, with their stored payloads."""
    query = (
        "SELECT pe.timestamp, pe.message_id, e.seq, e.source_id, e.received_at, e.payload"
        " FROM profile_events pe JOIN events e ON e.seq = pe.seq"
        " WHERE pe.profile_id = :id"
    )
    params: dict[str, Any] = {"id": profile_id, "limit": limit}
    if before is not None:
        query += " AND (pe.timestamp, pe.message_id) < (:ts, :mid)"
        params |= {"ts": before[0], "mid": before[1]}
    query += " ORDER BY pe.timestamp DESC, pe.message_id DESC LIMIT :limit"
    return list(await connection.execute(text(query), params))


async def merges_of(connection: AsyncConnection, profile_id: str) -> list[Any]:
    """Merges into or out of the profile, oldest first."""
    rows = await connection.execute(
        text(
            "SELECT survivor_id, merged_id, message_id, merged_at, recorded_at FROM profile_merges"
            " WHERE survivor_id = :id OR merged_id = :id ORDER BY id"
        ),
        {"id": profile_id},
    )
    return list(rows)


async def account_links(connection: AsyncConnection, profile_id: str, *, kind: str) -> list[Any]:
    """The accounts of a user profile, or the users of an account profile."""
    mine, other = (
        ("user_profile_id", "account_profile_id")
        if kind == "user"
        else ("account_profile_id", "user_profile_id")
    )
    rows = await connection.execute(
        text(
            f"SELECT {other} AS linked_id, message_id, linked_at FROM account_links"
            f" WHERE {mine} = :id ORDER BY linked_at"
        ),
        {"id": profile_id},
    )
    return list(rows)


async def search_profiles(
    connection: AsyncConnection,
    *,
    workspace_id: int,
    kind: str,
    identifier: tuple[str, str] | None,
    trait: tuple[str, Any] | None,
    value: str | None,
    limit: int,
) -> list[str]:
    """Live profile ids matching an identifier, a trait value, or any identifier value."""
    params: dict[str, Any] = {"w": workspace_id, "k": kind, "limit": limit}
    if identifier is not None:
        params |= {"t": identifier[0], "v": identifier[1]}
        query = (
            "SELECT DISTINCT profile_id AS id FROM identifiers WHERE workspace_id = :w"
            " AND kind = :k AND type = :t AND value = :v"
        )
    elif trait is not None:
        # the text as a string, and as JSON when it is a number, true, false or null:
        # trait=seats=5 finds {"seats": 5} and {"seats": "5"}
        params["doc"] = msgspec.json.encode({trait[0]: {"v": trait[1]}}).decode()
        params["typed"] = params["doc"]
        if isinstance(trait[1], str):
            try:
                typed = msgspec.json.decode(trait[1])
            except msgspec.DecodeError:
                typed = trait[1]
            if typed is None or isinstance(typed, bool | int | float):
                params["typed"] = msgspec.json.encode({trait[0]: {"v": typed}}).decode()
        query = (
            "SELECT id FROM profiles WHERE workspace_id = :w AND kind = :k"
            " AND merged_into IS NULL AND (traits @> CAST(:doc AS jsonb)"
            " OR traits @> CAST(:typed AS jsonb))"
        )
    else:
        params["v"] = value
        query = (
            "SELECT DISTINCT profile_id AS id FROM identifiers WHERE workspace_id = :w"
            " AND kind = :k AND value = :v"
        )
    rows = await connection.execute(text(f"{query} ORDER BY id LIMIT :limit"), params)
    return [row.id for row in rows]
