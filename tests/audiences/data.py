"""Profiles and events written straight into the profile tables, as the profile stage leaves
them, for tests that compare the SQL compiler with the in-memory evaluator."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import asyncpg

from headwater.audiences.evaluate import EventData, Subject
from headwater.audiences.values import encode

__all__ = ["insert_profiles"]

_seq = itertools.count(1)


async def insert_profiles(
    driver: asyncpg.Connection,
    workspace_id: int,
    subjects: dict[str, Subject],
    *,
    kind: str = "user",
    at: datetime,
) -> None:
    """One profile per subject (its traits, its consent (none stored when empty), its events
    in ``events`` and ``profile_events``)."""
    for pid, subject in subjects.items():
        traits = {k: {"v": v, "t": at.isoformat(), "m": "m0"} for k, v in subject.traits.items()}
        consent = {"c": dict(subject.consent), "t": at.isoformat(), "m": "m0"}
        await driver.execute(
            "INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,"
            " last_message_id, traits, consent)"
            " VALUES ($1, $2, $3, $4, 'm0', $4, 'm0', $5::text::jsonb, $6::text::jsonb)",
            pid,
            workspace_id,
            kind,
            at,
            encode(traits),
            encode(consent) if subject.consent else None,
        )
        for event in subject.events:
            await insert_event(driver, workspace_id, pid, event, kind=kind)


async def insert_event(
    driver: asyncpg.Connection, workspace_id: int, pid: str, event: EventData, *, kind: str
) -> None:
    payload: dict[str, Any] = {
        "type": event.type,
        "messageId": event.message_id,
        "timestamp": event.timestamp.isoformat(),
        "properties": dict(event.properties),
    }
    seq = await driver.fetchval(
        "INSERT INTO events (partition, workspace_id, source_id, message_id, type, name,"
        " timestamp, received_at, payload) VALUES (0, $1, 1, $2, $3, $4, $5, $5,"
        " $6::text::jsonb) RETURNING seq",
        workspace_id,
        f"{pid}:{event.message_id}:{next(_seq)}",
        event.type,
        event.name,
        event.timestamp,
        encode(payload),
    )
    await driver.execute(
        "INSERT INTO profile_events (workspace_id, kind, message_id, profile_id, seq, timestamp,"
        " type, name, mentions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]')",
        workspace_id,
        kind,
        f"{pid}:{event.message_id}",
        pid,
        seq,
        event.timestamp,
        event.type,
        event.name,
    )
