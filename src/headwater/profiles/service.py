"""Profiles as the APIs show them: the Segment-shaped Profile API and the management views.

Each function opens its own connection and returns JSON-ready values. Unknown profiles raise
:class:`~headwater.errors.NotFound`.

>>> await traits(engine, space="default", collection="users", lookup="user_id:u1")
{'traits': {'email': 'ada@example.com', 'plan': 'pro'}, 'cursor': {...}}
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.errors import BadRequest, NotFound
from headwater.log import Amend, EventLog, LogEntry
from headwater.profiles import reads
from headwater.profiles.consent import categories_of
from headwater.profiles.timeline import timeline
from headwater.profiles.views import (
    CursorView,
    EventsPage,
    ExternalIdsPage,
    ExternalIdView,
    IdentifierLinkView,
    LinksPage,
    LinkView,
    MetadataView,
    ProfileDetailView,
    ProfileEventView,
    ProfileRefView,
    ProfileTimelinePage,
    TraitsPage,
)
from headwater.spec import format_timestamp, message_builtins, parse_timestamp
from headwater.storage import Transaction, connected

__all__ = [
    "Collection",
    "ComputedTraits",
    "detail",
    "events",
    "external_ids",
    "links",
    "metadata",
    "search",
    "timeline_page",
    "traits",
    "workspace_id",
]

Collection = Literal["users", "accounts"]
_KIND = {"users": "user", "accounts": "account"}


async def workspace_id(engine: AsyncEngine, space: str) -> int:
    async with connected(engine) as connection:
        found = await workspaces.find_workspace_id(connection, space)
    if found is None:
        raise NotFound("space_not_found", f"no space {space!r}")
    return found


async def _profile(connection: Transaction, space: str, collection: Collection, lookup: str) -> Any:
    """The live profile row ``lookup`` (``<id_type>:<value>``) names in ``space``."""
    id_type, sep, value = lookup.partition(":")
    if not sep or not id_type or not value:
        raise BadRequest("invalid_id", "profile ids look like '<id_type>:<value>', e.g. user_id:u1")
    space_id, row = await reads.lookup_profile(
        connection, space=space, kind=_KIND[collection], id_type=id_type, value=value
    )
    if space_id is None:
        raise NotFound("space_not_found", f"no space {space!r}")
    if row is None:
        raise NotFound("profile_not_found", f"no profile in {collection} for {lookup!r}")
    return row


def _cursor(url: str, next_token: str | None) -> CursorView:
    return {"url": url, "has_more": next_token is not None, "next": next_token or ""}


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode()


def _bad_cursor() -> BadRequest:
    return BadRequest("invalid_cursor", "next is not a cursor this API returned")


def _decode(token: str, count: int) -> list[str]:
    try:
        # validate: the lenient decoder drops stray characters, so garbage decoded to ""
        raw = base64.b64decode(token.encode(), altchars=b"-_", validate=True)
        parts = raw.decode().split("\x1f")
    except (ValueError, UnicodeError):
        raise _bad_cursor() from None
    # a NUL could never have come from _encode, and PostgreSQL cannot compare with one
    if len(parts) != count or not all(parts) or b"\x00" in raw:
        raise _bad_cursor()
    return parts


def _event_cursor(token: str) -> tuple[datetime, str]:
    stamp, message_id = _decode(token, 2)
    try:
        return parse_timestamp(stamp), message_id
    except ValueError:
        raise _bad_cursor() from None


def _offset_cursor(token: str) -> int:
    offset = _decode(token, 1)[0]
    # 18 digits keep the offset (and the next one) within a bigint
    if not (offset.isascii() and offset.isdigit() and len(offset) <= 18):
        raise _bad_cursor()
    return int(offset)


def _limit(limit: int, maximum: int) -> int:
    if not 1 <= limit <= maximum:
        raise BadRequest("invalid_limit", f"limit must be between 1 and {maximum}")
    return limit


ComputedTraits = Callable[[Transaction, str], Awaitable[Mapping[str, Any]]]
"""Traits computed elsewhere for a profile id, read on the Profile API's connection: the
API layer passes the audiences' (profiles do not read other capabilities' tables)."""


async def traits(
    engine: AsyncEngine,
    *,
    space: str,
    collection: Collection,
    lookup: str,
    include: list[str] | None = None,
    limit: int = 10,
    next_token: str | None = None,
    url: str = "",
    computed: ComputedTraits | None = None,
    stored: bool = True,
) -> TraitsPage:
    """A profile's traits, sorted by name, ``limit`` at a time (Segment: default 10, max 200).

    The traits its messages set (unless ``stored`` is false) and those ``computed`` returns,
    which win over a set trait of the same name, as Segment's computed traits and audience
    memberships are written onto the profile. ``include`` keeps only the names it lists."""
    limit = _limit(limit, 200)
    async with connected(engine) as connection:
        row = await _profile(connection, space, collection, lookup)
        extra = {} if computed is None else await computed(connection, row["id"])
    values: dict[str, Any] = (
        {name: trait["v"] for name, trait in row["traits"].items()} if stored else {}
    )
    values.update(extra)
    names = sorted(name for name in values if include is None or name in include)
    if next_token:
        after = _decode(next_token, 1)[0]
        names = [name for name in names if name > after]
    page = names[:limit]
    more = _encode(page[-1]) if len(names) > limit else None
    return {"traits": {name: values[name] for name in page}, "cursor": _cursor(url, more)}


async def events(
    engine: AsyncEngine,
    log: EventLog,
    *,
    governed: Amend,
    space: str,
    collection: Collection,
    lookup: str,
    limit: int = 10,
    next_token: str | None = None,
    url: str = "",
) -> EventsPage:
    """A profile's events, newest first (Segment: default 10, max 100)."""
    limit = _limit(limit, 100)
    before = _event_cursor(next_token) if next_token else None
    async with connected(engine) as connection:
        profile = await _profile(connection, space, collection, lookup)
        found = await timeline(
            connection, log, governed, profile["id"], limit=limit + 1, before=before
        )
    page = found[:limit]
    more = None
    if len(found) > limit:
        more = _encode(_precise(page[-1].timestamp), page[-1].message_id)
    return {
        "data": [message_builtins(event.entry.message) for event in page],
        "cursor": _cursor(url, more),
    }


def _precise(value: datetime) -> str:
    return value.isoformat()


async def external_ids(
    engine: AsyncEngine,
    *,
    space: str,
    collection: Collection,
    lookup: str,
    limit: int = 25,
    next_token: str | None = None,
    url: str = "",
) -> ExternalIdsPage:
    """A profile's identifiers, oldest first (Segment: default 25, max 100)."""
    limit = _limit(limit, 100)
    offset = _offset_cursor(next_token) if next_token else 0
    async with connected(engine) as connection:
        profile = await _profile(connection, space, collection, lookup)
        rows = await reads.identifiers_of(connection, profile["id"], limit=limit + 1, offset=offset)
    data: list[ExternalIdView] = [
        {
            "id": row["value"],
            "type": row["type"],
            "source_id": str(row["source_id"]) if row["source_id"] is not None else None,
            "collection": collection,
            "created_at": format_timestamp(row["added_at"]),
            "encoding": "none",
        }
        for row in rows[:limit]
    ]
    more = _encode(str(offset + limit)) if len(rows) > limit else None
    return {"data": data, "cursor": _cursor(url, more)}


async def links(
    engine: AsyncEngine, *, space: str, collection: Collection, lookup: str, url: str = ""
) -> LinksPage:
    """The accounts a user belongs to, or the users of an account, with their external ids."""
    kind = _KIND[collection]
    other = "accounts" if collection == "users" else "users"
    async with connected(engine) as connection:
        profile = await _profile(connection, space, collection, lookup)
        rows = await reads.account_links(connection, profile["id"], kind=kind)
        data: list[LinkView] = []
        for row in rows:
            ids = await reads.identifiers_of(connection, row["linked_id"], limit=100, offset=0)
            data.append(
                {
                    "to_collection": other,
                    "external_ids": [
                        {
                            "id": ident["value"],
                            "type": ident["type"],
                            "source_id": str(ident["source_id"]) if ident["source_id"] else None,
                            "collection": other,
                            "created_at": format_timestamp(ident["added_at"]),
                            "encoding": "none",
                        }
                        for ident in ids
                    ],
                }
            )
    return {"data": data, "cursor": _cursor(url, None)}


async def metadata(
    engine: AsyncEngine, *, space: str, collection: Collection, lookup: str
) -> MetadataView:
    """When the profile was created and updated, and its first and last messages."""
    async with connected(engine) as connection:
        row = await _profile(connection, space, collection, lookup)
    return {
        "metadata": {
            "created_at": format_timestamp(row["created_at"]),
            "updated_at": format_timestamp(row["updated_at"]),
            "expires_at": None,
            "first_message_id": row["first_message_id"],
            "first_source_id": str(row["first_source_id"]) if row["first_source_id"] else None,
            "last_message_id": row["last_message_id"],
            "last_source_id": str(row["last_source_id"]) if row["last_source_id"] else None,
        }
    }


async def detail(
    engine: AsyncEngine,
    log: EventLog,
    *,
    governed: Amend,
    workspace: str,
    profile_id: str,
    events_limit: int = 50,
) -> ProfileDetailView:
    """Everything about one profile: traits with their update times, identity graph, merge
    history, account links and the newest events (the management API's profile view)."""
    space_id = await workspace_id(engine, workspace)
    async with connected(engine) as connection:
        live = await _live(connection, space_id, profile_id)
        row = await reads.profile_row(connection, live)
        if row is None:
            raise NotFound("profile_not_found", f"no profile {profile_id!r}")
        identifiers = await reads.identifiers_of(connection, live, limit=1000, offset=0)
        mentioned = await reads.identifier_links(connection, live)
        merges = await reads.merges_of(connection, live)
        linked = await reads.account_links(connection, live, kind=row["kind"])
        recent = await timeline(connection, log, governed, live, limit=_limit(events_limit, 1000))
    return {
        "id": live,
        "requested_id": profile_id,
        "kind": row["kind"],
        "first_seen": format_timestamp(row["first_ts"]),
        "last_seen": format_timestamp(row["last_ts"]),
        "traits": {
            name: {
                "value": t["v"],
                "updated_at": format_timestamp(parse_timestamp(t["t"])),
                "message_id": t["m"],
            }
            for name, t in sorted(row["traits"].items())
        },
        "consent": categories_of(row["consent"]),
        "consent_updated_at": _consent_time(row["consent"]),
        "consent_message_id": None if row["consent"] is None else row["consent"]["m"],
        "identifiers": [
            {
                "type": i["type"],
                "value": i["value"],
                "added_at": format_timestamp(i["added_at"]),
                "message_id": i["message_id"],
                "source_id": i["source_id"],
            }
            for i in identifiers
        ],
        "identifier_links": _edges(identifiers, mentioned),
        "merges": [
            {
                "survivor": m["survivor_id"],
                "merged": m["merged_id"],
                "message_id": m["message_id"],
                "merged_at": format_timestamp(m["merged_at"]),
                "recorded_at": format_timestamp(m["recorded_at"]),
            }
            for m in merges
        ],
        "links": [
            {"profile_id": link["linked_id"], "message_id": link["message_id"]} for link in linked
        ],
        "events": [_recent(e.entry, e.message_id, e.timestamp) for e in recent],
    }


def _consent_time(stored: dict[str, Any] | None) -> str | None:
    """When the stored consent was set (its event's timestamp); None before any."""
    return None if stored is None else format_timestamp(parse_timestamp(stored["t"]))


def _email(value: str) -> str:
    return value.strip().lower()


async def search(
    engine: AsyncEngine,
    *,
    workspace: str,
    collection: Collection = "users",
    identifier: str | None = None,
    trait: str | None = None,
    value: str | None = None,
    limit: int = 50,
) -> list[ProfileRefView]:
    """Profiles by identifier (``type:value``), trait (``name=value``), or any identifier
    value alone; without any of them, the profiles seen most recently."""
    limit = _limit(limit, 1000)
    space_id = await workspace_id(engine, workspace)
    id_pair = None
    trait_pair = None
    if identifier is not None:
        id_type, sep, id_value = identifier.partition(":")
        if not sep:
            raise BadRequest("invalid_identifier", "identifier looks like 'email:ada@example.com'")
        # emails are stored trimmed and lowercased (as identity extraction keeps them)
        id_pair = (id_type, _email(id_value) if id_type == "email" else id_value)
    elif trait is not None:
        name, sep, trait_value = trait.partition("=")
        if not sep:
            raise BadRequest("invalid_trait", "trait looks like 'plan=pro'")
        trait_pair = (name, trait_value)
    async with connected(engine) as connection:
        if id_pair is None and trait_pair is None and value is None:
            found = await reads.recent_profiles(
                connection, workspace_id=space_id, kind=_KIND[collection], limit=limit
            )
        else:
            found = await reads.search_profiles(
                connection,
                workspace_id=space_id,
                kind=_KIND[collection],
                identifier=id_pair,
                trait=trait_pair,
                value=value,
                limit=limit,
            )
        rows, idents = await reads.summaries(connection, found, identifiers=_SUMMARY_IDENTIFIERS)
    by_id = {row["id"]: row for row in rows}
    shown: dict[str, ProfileRefView] = {}
    for profile_id in found:
        row = by_id[profile_id]
        shown[profile_id] = {
            "id": profile_id,
            "kind": row["kind"],
            "first_seen": format_timestamp(row["first_ts"]),
            "last_seen": format_timestamp(row["last_ts"]),
            "identifiers": [],
            "traits": {name: trait["v"] for name, trait in sorted(row["traits"].items())},
        }
    for ident in idents:
        shown[ident["profile_id"]]["identifiers"].append(
            {"type": ident["type"], "value": ident["value"]}
        )
    return list(shown.values())


_SUMMARY_IDENTIFIERS = 5
"""Identifiers shown of each profile a search finds: enough to recognise it."""


async def timeline_page(
    engine: AsyncEngine,
    log: EventLog,
    *,
    governed: Amend,
    workspace: str,
    profile_id: str,
    limit: int = 50,
    before: str | None = None,
    event_type: str | None = None,
    name: str | None = None,
) -> ProfileTimelinePage:
    """A page of one profile's events, newest first, of ``event_type`` and with a name that
    contains ``name`` (any case) when given; ``before`` is the ``next`` of the previous page."""
    limit = _limit(limit, 1000)
    after = _event_cursor(before) if before else None
    space_id = await workspace_id(engine, workspace)
    async with connected(engine) as connection:
        live = await _live(connection, space_id, profile_id)
        found = await timeline(
            connection,
            log,
            governed,
            live,
            limit=limit + 1,
            before=after,
            event_type=event_type,
            name=name,
        )
    page = found[:limit]
    more = None
    if len(found) > limit:
        more = _encode(_precise(page[-1].timestamp), page[-1].message_id)
    return {
        "id": live,
        "events": [
            {
                **_recent(e.entry, e.message_id, e.timestamp),
                "message": message_builtins(e.entry.message),
            }
            for e in page
        ],
        "next": more,
    }


async def _live(connection: Transaction, space_id: int, profile_id: str) -> str:
    """The live profile (user or account) ``profile_id`` is, or was merged into."""
    for kind in ("user", "account"):
        live = await reads.find_profile(
            connection, workspace_id=space_id, kind=kind, id_type="profile_id", value=profile_id
        )
        if live is not None:
            return live
    raise NotFound("profile_not_found", f"no profile {profile_id!r}")


def _edges(identifiers: list[Any], mentioned: list[Any]) -> list[IdentifierLinkView]:
    """The identity graph's edges: each identifier an event named, linked to the first
    (strongest) of the profile's identifiers it named beside it; one edge per pair."""
    index = {(i["type"], i["value"]): n for n, i in enumerate(identifiers)}
    edges: dict[tuple[int, int], IdentifierLinkView] = {}
    for row in mentioned:
        named = [index[(kind, value)] for kind, value in row["mentions"] if (kind, value) in index]
        for other in named[1:]:
            pair = (min(named[0], other), max(named[0], other))
            if pair[0] != pair[1]:
                edges.setdefault(
                    pair, {"source": pair[0], "target": pair[1], "message_id": row["message_id"]}
                )
    return [edges[pair] for pair in sorted(edges)]


def _recent(entry: LogEntry, message_id: str, timestamp: datetime) -> ProfileEventView:
    """One of a profile's recent events as the profile view lists it."""
    stored = message_builtins(entry.message)
    return {
        "offset": entry.offset,
        "message_id": message_id,
        "timestamp": format_timestamp(timestamp),
        "type": stored.get("type"),
        "name": stored.get("event") or stored.get("name"),
    }
