"""Retention: the windows of a workspace, what they would drop now (a dry run), dropping it, and
the daily maintenance of every store's day partitions (:mod:`headwater.privacy.retention_run`
decides and drops). Each owner declares its own partitioned table (the log its days,
collection its rejections, tracking plans their quarantine, delivery its dead letters,
journeys their history); this module composes them.

>>> plan = await retention_plan(engine, workspace="shop", default_days=None)
>>> [item["partition"] for item in plan["items"] if item["action"] == "drop_partition"]
['events_p20261101']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.errors import BadRequest
from headwater.privacy import retention_store as store
from headwater.privacy.retention_run import atomic, give_days, run
from headwater.privacy.views import RetentionPlanView, RetentionView, RetentionWindowView
from headwater.privacy.windows import SOURCE_STORES, Store
from headwater.spec import format_timestamp
from headwater.storage import connected, days
from headwater.workspaces import foreign_sources, workspace_id

__all__ = [
    "WindowIn",
    "apply_retention",
    "get_windows",
    "maintain",
    "retention_plan",
    "set_windows",
]

_MAX_DAYS = 36500


class WindowIn(BaseModel):
    """One window as the API sets it."""

    store: Store
    source_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="a source's own window; absent: the workspace's",
    )
    days: int = Field(description="rows older than this many days go (1 to 36500)")


# ---------------------------------------------------------------------------------------------
# Windows


async def get_windows(
    engine: AsyncEngine, *, workspace: str, default_days: int | None
) -> RetentionView:
    """A workspace's retention windows."""
    async with connected(engine) as tx:
        rows = await store.windows_of(tx, await workspace_id(tx, workspace))
    windows: list[RetentionWindowView] = [
        {
            "store": row.store,
            "source_id": row.source_id or None,
            "days": row.days,
            "updated_at": format_timestamp(row.updated_at),
        }
        for row in rows
    ]
    return {"workspace": workspace, "default_days": default_days, "windows": windows}


async def set_windows(
    engine: AsyncEngine, *, workspace: str, windows: Sequence[WindowIn], default_days: int | None
) -> RetentionView:
    """Replace a workspace's windows. 400 ``source_window_not_supported`` for a source's window
    on a store without sources, ``unknown_source`` for a source of another workspace,
    ``duplicate_window`` for two windows of one store and source, ``invalid_window`` for a
    window under a day or over a hundred years."""
    for w in windows:
        if not 1 <= w.days <= _MAX_DAYS:
            raise BadRequest("invalid_window", f"a window is 1 to {_MAX_DAYS} days, not {w.days}")
    keys = [(w.store.value, w.source_id or 0, w.days) for w in windows]
    if len({(s, source) for s, source, _ in keys}) < len(keys):
        raise BadRequest("duplicate_window", "two windows name the same store and source")
    for w in windows:
        if w.source_id is not None and w.store not in SOURCE_STORES:
            raise BadRequest(
                "source_window_not_supported",
                f"{w.store.value} has no sources: its window is the workspace's",
            )
    async with atomic(engine) as tx:
        workspace_key = await workspace_id(tx, workspace)
        chosen = sorted({w.source_id for w in windows if w.source_id is not None})
        foreign = await foreign_sources(tx, workspace_key, chosen)
        if foreign:
            raise BadRequest("unknown_source", f"no source {foreign[0]} in this workspace")
        await store.replace_windows(tx, workspace_key, keys)
    return await get_windows(engine, workspace=workspace, default_days=default_days)


async def _run(
    engine: AsyncEngine,
    *,
    workspace: str | None,
    default_days: int | None,
    dry_run: bool,
    now: datetime | None,
) -> RetentionPlanView:
    key = None
    if workspace is not None:
        async with connected(engine) as tx:
            key = await workspace_id(tx, workspace)
    return await run(
        engine,
        workspace=key,
        slug=workspace,
        default_days=default_days,
        dry_run=dry_run,
        now=now or datetime.now(UTC),
    )


async def retention_plan(
    engine: AsyncEngine,
    *,
    workspace: str,
    default_days: int | None,
    now: datetime | None = None,
) -> RetentionPlanView:
    """What retention would drop now for a workspace, dropping nothing: per store, the days
    that would go whole (with the workspace's rows in each, counted exactly) and the rows of
    its sources (destinations, journeys) deleted from days kept for others."""
    return await _run(engine, workspace=workspace, default_days=default_days, dry_run=True, now=now)


async def apply_retention(
    engine: AsyncEngine,
    *,
    workspace: str | None,
    default_days: int | None,
    now: datetime | None = None,
) -> RetentionPlanView:
    """Enforce the windows now, for a workspace (``None``: every workspace): a day of a store
    whose every row is past its window is dropped whole, whoever's rows it holds."""
    return await _run(
        engine, workspace=workspace, default_days=default_days, dry_run=False, now=now
    )


async def maintain(
    engine: AsyncEngine, *, default_days: int | None, now: datetime | None = None
) -> tuple[list[str], RetentionPlanView]:
    """The daily round: create every store's days from yesterday to a week ahead, give the rows
    the default partitions caught their own day, then enforce every window. The days created
    and what was dropped."""
    today = (now or datetime.now(UTC)).date()
    created = await give_days(
        engine, {today + timedelta(days=n) for n in range(-1, days.AHEAD_DAYS + 1)}
    )
    done = await apply_retention(engine, workspace=None, default_days=default_days, now=now)
    return created, done
