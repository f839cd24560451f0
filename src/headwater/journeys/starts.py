"""Starting profiles in a journey by hand (the API, the CLI, the web app): the ``manual``
trigger, and a way into any live journey, under its entry rules."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.audiences import decode_json
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.journeys import instances, store
from headwater.journeys.entries import Taking, admitted
from headwater.journeys.graph import parse_journey
from headwater.journeys.views import SkippedView, StartedView
from headwater.profiles.lookups import live_profiles
from headwater.storage import transaction

__all__ = ["START_LIMIT", "start"]


START_LIMIT: Final = 1000
"""Profiles one manual start takes at most."""


async def start(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str,
    profile_ids: list[str],
    start_id: str | None = None,
    properties: dict[str, Any] | None = None,
) -> StartedView:
    """Start the profiles in the live journey now, by its entry rules (whatever its trigger).
    ``start_id`` names this start: the same start sent again enters nobody twice. Profiles
    that are unknown (or merged away), or that the entry rule keeps out, are skipped with
    the reason. ``properties`` stand for the triggering event's: the steps' templates read
    them as ``{{ event.x }}``."""
    if not 1 <= len(profile_ids) <= START_LIMIT:
        raise BadRequest("invalid_request", f"give 1 to {START_LIMIT} profile ids")
    start_id = start_id or f"start-{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    async with transaction(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.journey(tx, space, key, for_update=True)
        if row is None:
            raise NotFound("journey_not_found", f"no journey {key!r}")
        if row.state != "live":
            raise Conflict(
                "invalid_state", f"journey {key!r} is {row.state}: only a live one starts"
            )
        taking = Taking(row.id, space, row.version, parse_journey(decode_json(row.published)))
        live = await live_profiles(tx, space, profile_ids)
        wanted = list(dict.fromkeys(profile_ids))
        entering = await admitted(
            tx, [(taking, p, f"{start_id}:{p}") for p in wanted if p in live], now
        )
        if properties:
            entering = [replace(e, context={**e.context, "event": properties}) for e in entering]
        let_in = {e.profile_id for e in entering}
        skipped: list[SkippedView] = [
            {
                "profile_id": p,
                "reason": "the entry rule keeps it out" if p in live else "no such profile",
            }
            for p in wanted
            if p not in let_in
        ]
        entered = await instances.enter(tx, entering, now)
    return {"entered": entered, "skipped": skipped}
