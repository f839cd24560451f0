"""What a subject access export holds about a person, read from each capability through its
face, and written into a :class:`~headwater.privacy.bundle.Bundle`:

- ``profile``: the live profile (first and last seen, traits with when each was set and by
  which message, the merges that made it), null when the graph does not know the subject;
- ``identifiers``: every identifier of every profile of the person, with when it was added;
- ``consent``: the consent now (``context.consent.categoryPreferences`` of the newest event
  carrying it) and its history: every event of the person carrying preferences or named
  ``Segment Consent Preference Updated``, oldest first, with its time and ``messageId``;
- ``memberships``: audiences the person is in and computed traits now, and every entry, exit
  and update;
- ``journeys``: every journey instance with its steps;
- ``destinations``: each destination that received the person's events (delivered, not only
  queued): name, kind, how many events, first and last delivery;
- ``events``: every event of the person still in the log (those past retention are gone), in
  full, oldest first.

Bounds: a person's events are read :data:`PAGE` at a time, straight into the bundle's files; the
other sections are held in memory while written (a person's journey instances up to
:data:`MAX_JOURNEYS`, membership history and consent changes whole).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import audiences, delivery, destinations, journeys, profiles, protocols
from headwater.log import EventLog, LogEntry
from headwater.privacy.bundle import Bundle
from headwater.privacy.person import Person
from headwater.profiles import lookups
from headwater.spec import format_timestamp
from headwater.storage import connected

__all__ = ["CONSENT_EVENT", "MAX_JOURNEYS", "PAGE", "write_sections"]

PAGE: Final = 500
"""Events read from the log at a time."""
MAX_JOURNEYS: Final = 10_000
"""Journey instances of one person exported (the newest)."""
CONSENT_EVENT: Final = "Segment Consent Preference Updated"
_HISTORY_PAGE: Final = 1000

Renew = Callable[[], Awaitable[None]]
"""Called between pages of events: extends the exporter's lease (raises when it is lost)."""


async def write_sections(
    bundle: Bundle,
    engine: AsyncEngine,
    log: EventLog,
    *,
    workspace: str,
    person: Person,
    renew: Renew,
) -> None:
    """Every section about ``person`` of ``workspace`` (its slug), into ``bundle``."""
    live = await _live(engine, person)
    detail = await _profile(engine, log, workspace, live)
    _profile_section(bundle, detail)
    _identifiers_section(bundle, person, detail)
    history = await _consent_history(bundle, engine, log, person, renew)
    _consent_section(bundle, detail, history)
    await _memberships_section(bundle, engine, workspace, live)
    await _journeys_section(bundle, engine, workspace, live)
    await _destinations_section(bundle, engine, workspace, person)


def _rows(items: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[list[Any]]:
    return [[item[column] for column in columns] for item in items]


async def _live(engine: AsyncEngine, person: Person) -> str | None:
    if not person.profile_ids:
        return None
    async with connected(engine) as tx:
        found = await lookups.live_profiles(tx, person.workspace_id, person.profile_ids)
    return min(found) if found else None


async def _profile(
    engine: AsyncEngine, log: EventLog, workspace: str, live: str | None
) -> profiles.ProfileDetailView | None:
    if live is None:
        return None
    return await profiles.detail(
        engine,
        log,
        governed=protocols.governed,
        workspace=workspace,
        profile_id=live,
        events_limit=1,
    )


def _profile_section(bundle: Bundle, detail: profiles.ProfileDetailView | None) -> None:
    section = None
    if detail is not None:
        section = {
            "id": detail["id"],
            "first_seen": detail["first_seen"],
            "last_seen": detail["last_seen"],
            "traits": detail["traits"],
            "merges": detail["merges"],
        }
    bundle.section("profile", section)
    traits = [] if detail is None else detail["traits"].items()
    bundle.table(
        "profile_traits",
        ("profile_id", "trait", "value", "updated_at", "message_id"),
        [
            (detail["id"] if detail else None, name, t["value"], t["updated_at"], t["message_id"])
            for name, t in traits
        ],
    )
    merges = [] if detail is None else detail["merges"]
    bundle.table(
        "profile_merges",
        ("survivor", "merged", "message_id", "merged_at"),
        [(m["survivor"], m["merged"], m["message_id"], m["merged_at"]) for m in merges],
    )
    bundle.counts["traits"] = len(traits)


def _identifiers_section(
    bundle: Bundle, person: Person, detail: profiles.ProfileDetailView | None
) -> None:
    known = {(i["type"], i["value"]): i for i in (detail["identifiers"] if detail else [])}
    rows: list[dict[str, Any]] = []
    for kind, value in person.identifiers:
        found = known.get((kind, value))
        rows.append(
            {
                "type": kind,
                "value": value,
                "added_at": found["added_at"] if found else None,
                "message_id": found["message_id"] if found else None,
                "source_id": found["source_id"] if found else None,
            }
        )
    bundle.section("identifiers", rows)
    columns = ("type", "value", "added_at", "message_id", "source_id")
    bundle.table("identifiers", columns, _rows(rows, columns))
    bundle.counts["identifiers"] = len(rows)


async def _consent_history(
    bundle: Bundle, engine: AsyncEngine, log: EventLog, person: Person, renew: Renew
) -> list[dict[str, Any]]:
    """Write the person's events (see the module) and keep their consent changes."""
    history: list[dict[str, Any]] = []

    def consent_of(entry: LogEntry) -> None:
        consent = entry.message.context.consent
        preferences = consent.category_preferences if consent is not None else None
        if preferences is None and entry.name != CONSENT_EVENT:
            return
        history.append(
            {
                "timestamp": format_timestamp(entry.timestamp),
                "message_id": entry.message_id,
                "type": entry.type,
                "event": entry.name,
                "categories": preferences,
            }
        )

    async with bundle.events() as add, connected(engine) as tx:
        after = None
        while person.profile_ids:
            keys = await lookups.event_offsets(
                tx, person.workspace_id, person.profile_ids, after=after, limit=PAGE
            )
            entries = await log.entries([k[2] for k in keys], connection=tx.connection)
            by_offset = {e.offset: e for e in entries if e.workspace_id == person.workspace_id}
            for _, _, offset in keys:
                if (entry := by_offset.get(offset)) is not None:
                    add(entry)
                    consent_of(entry)
            if len(keys) < PAGE:
                break
            after = (keys[-1][0], keys[-1][1])
            await renew()
    return history


def _consent_section(
    bundle: Bundle, detail: profiles.ProfileDetailView | None, history: list[dict[str, Any]]
) -> None:
    bundle.section(
        "consent",
        {
            "categories": detail["consent"] if detail else {},
            "updated_at": detail["consent_updated_at"] if detail else None,
            "message_id": detail["consent_message_id"] if detail else None,
            "history": history,
        },
    )
    consent = detail["consent"] if detail else {}
    bundle.table(
        "consent",
        ("category", "consented", "updated_at", "message_id"),
        [
            (
                name,
                value,
                detail and detail["consent_updated_at"],
                detail and detail["consent_message_id"],
            )
            for name, value in consent.items()
        ],
    )
    columns = ("timestamp", "message_id", "type", "event", "categories")
    bundle.table("consent_history", columns, _rows(history, columns))
    bundle.counts["consent_changes"] = len(history)


async def _memberships_section(
    bundle: Bundle, engine: AsyncEngine, workspace: str, live: str | None
) -> None:
    found: list[audiences.MembershipsView] = []
    before: int | None = None
    while live is not None:
        page = await audiences.memberships(
            engine, workspace=workspace, profile_id=live, before=before, limit=_HISTORY_PAGE
        )
        found.append(page)
        before = page["next_cursor"]
        if before is None:
            break
    now = found[0] if found else None
    history = [change for page in found for change in page["history"]]
    bundle.section(
        "memberships",
        {
            "audiences": now["audiences"] if now else [],
            "computed_traits": now["traits"] if now else {},
            "history": history,
        },
    )
    bundle.table(
        "audiences",
        ("key", "name", "since", "updated_at"),
        _rows(now["audiences"] if now else [], ("key", "name", "since", "updated_at")),
    )
    bundle.table(
        "computed_traits",
        ("key", "value"),
        list((now["traits"] if now else {}).items()),
    )
    columns = ("id", "key", "change", "value", "previous", "at", "cause", "message_id")
    bundle.table("membership_history", columns, _rows(history, columns))
    bundle.counts["membership_changes"] = len(history)


async def _journeys_section(
    bundle: Bundle, engine: AsyncEngine, workspace: str, live: str | None
) -> None:
    found: list[journeys.InstanceView] = []
    if live is not None:
        found = await journeys.profile_journeys(
            engine, workspace=workspace, profile_id=live, limit=MAX_JOURNEYS
        )
    bundle.section("journeys", found)
    columns = (
        "id",
        "journey",
        "version",
        "state",
        "node",
        "entered_at",
        "ended_at",
        "end_reason",
        "converted_at",
    )
    bundle.table("journeys", columns, _rows(found, columns))
    bundle.table(
        "journey_steps",
        ("instance_id", "journey", "step", "node", "label", "port", "arrived_at", "left_at"),
        [
            (
                i["id"],
                i["journey"],
                s["step"],
                s["node"],
                s["label"],
                s["port"],
                s["arrived_at"],
                s["left_at"],
            )
            for i in found
            for s in i["steps"]
        ],
    )
    bundle.counts["journeys"] = len(found)


async def _destinations_section(
    bundle: Bundle, engine: AsyncEngine, workspace: str, person: Person
) -> None:
    keys = [*person.values("user_id"), *person.values("anonymous_id")]
    named = {d["id"]: d for d in await destinations.list_destinations(engine, workspace=workspace)}
    async with connected(engine) as tx:
        delivered = await delivery.delivered_to(tx, keys)
    rows: dict[int, dict[str, Any]] = {}
    for d in delivered:
        if d.destination_id not in named:
            continue  # another workspace's destination, for the same user id
        row = rows.setdefault(
            d.destination_id,
            {
                "destination_id": d.destination_id,
                "name": named[d.destination_id]["name"],
                "kind": named[d.destination_id]["kind"],
                "events": 0,
                "first_delivered_at": d.first_at,
                "last_delivered_at": d.last_at,
            },
        )
        row["events"] += d.events
        row["first_delivered_at"] = min(row["first_delivered_at"], d.first_at)
        row["last_delivered_at"] = max(row["last_delivered_at"], d.last_at)
    found = [
        {
            **row,
            "first_delivered_at": format_timestamp(row["first_delivered_at"]),
            "last_delivered_at": format_timestamp(row["last_delivered_at"]),
        }
        for row in rows.values()
    ]
    bundle.section("destinations", found)
    columns = (
        "destination_id",
        "name",
        "kind",
        "events",
        "first_delivered_at",
        "last_delivered_at",
    )
    bundle.table("destinations", columns, _rows(found, columns))
    bundle.counts["destinations"] = len(found)
