"""A profile's events, newest first, as the tracking plans left them: which events are the
profile's comes from ``profile_events``, the events themselves from the
:class:`~headwater.log.EventLog`, their governed form from the protocols capability (its
:data:`~headwater.log.Amend`, handed over by the entry point).

Three round trips a page on one connection, whatever the page's size (the profile's page of
keys, the log's entries by offset, the governed payloads), where one query joined
``governed_events`` before the log could be other than a PostgreSQL table.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from headwater.log import Amend, EventLog, LogEntry
from headwater.profiles import reads
from headwater.storage import Transaction

__all__ = ["TimelineEvent", "timeline"]


class TimelineEvent(msgspec.Struct, frozen=True):
    """One of a profile's events: its key in the profile's order, and the entry."""

    timestamp: datetime
    message_id: str
    entry: LogEntry


async def timeline(
    tx: Transaction,
    log: EventLog,
    governed: Amend,
    profile_id: str,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
    event_type: str | None = None,
    name: str | None = None,
) -> list[TimelineEvent]:
    """Up to ``limit`` of the profile's events, newest first (by ``(timestamp, messageId)``),
    after the cursor ``before``, of ``event_type`` and named like ``name`` when given (see
    :func:`~headwater.profiles.reads.profile_events`). An event a plan blocked after the
    profile took it in is left out, and the page filled from further events, as a join on
    ``governed_events`` did.
    Every read runs on ``tx`` (the log's too, where it lives in the database)."""
    found: list[TimelineEvent] = []
    while len(found) < limit:
        wanted = limit - len(found)
        keys = await reads.profile_events(
            tx, profile_id, limit=wanted, before=before, event_type=event_type, name=name
        )
        if not keys:
            break
        offsets = [key["seq"] for key in keys]
        entries = await governed(tx, await log.entries(offsets, connection=tx.connection))
        by_offset = {entry.offset: entry for entry in entries}
        found += [
            TimelineEvent(key["timestamp"], key["message_id"], by_offset[key["seq"]])
            for key in keys
            if key["seq"] in by_offset
        ]
        if len(keys) < wanted:
            break
        before = (keys[-1]["timestamp"], keys[-1]["message_id"])
    return found
