"""Retention: the windows of a workspace, what they would drop now (a dry run), dropping it, and
the daily maintenance of the log's day partitions. Each owner forgets its own rows (the log
its days, collection its rejections, tracking plans their quarantine, delivery its dead letters,
journeys their history); this module composes them.

Every action runs in a transaction of its own under one advisory lock, and decides again inside
it (a day partition is locked against appends before its sources are read), so a run cut short
leaves nothing half done and the next run finishes the rest.

>>> plan = await retention_plan(engine, workspace="shop", default_days=None)
>>> [item["partition"] for item in plan["items"] if item["action"] == "drop_partition"]
['events_p20261101']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import collect, delivery, journeys, protocols
from headwater.destinations import workspace_destination_ids
from headwater.errors import BadRequest
from headwater.log import partitions
from headwater.privacy import retention_store as store
from headwater.privacy.views import (
    RetentionItemView,
    RetentionPlanView,
    RetentionView,
    RetentionWindowView,
)
from headwater.privacy.windows import (
    EMPTY_DAYS_KEPT,
    SOURCE_STORES,
    Store,
    Windows,
    cutoff,
    decide_day,
    source_groups,
)
from headwater.spec import format_timestamp
from headwater.storage import Transaction, begin, connected
from headwater.workspaces import foreign_sources, list_workspaces, workspace_id

__all__ = [
    "WindowIn",
    "apply_retention",
    "get_windows",
    "maintain",
    "retention_plan",
    "set_windows",
]

_LOCK = 7210021
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
    async with _atomic(engine) as tx:
        workspace_key = await workspace_id(tx, workspace)
        chosen = sorted({w.source_id for w in windows if w.source_id is not None})
        foreign = await foreign_sources(tx, workspace_key, chosen)
        if foreign:
            raise BadRequest("unknown_source", f"no source {foreign[0]} in this workspace")
        await store.replace_windows(tx, workspace_key, keys)
    return await get_windows(engine, workspace=workspace, default_days=default_days)


@dataclass(frozen=True, slots=True)
class _Policy:
    """Every window of the install, by store, and the sources with their own, by workspace."""

    windows: dict[Store, Windows]
    own_sources: dict[tuple[Store, int], list[int]]
    workspaces: set[int]

    def shortest(self) -> int | None:
        days = [
            d for w in self.windows.values() for d in (*w.workspaces.values(), *w.sources.values())
        ]
        default = self.windows[Store.EVENTS].default
        if default is not None:
            days.append(default)
        return min(days, default=None)


async def _policy(tx: Transaction, default_days: int | None) -> _Policy:
    by_workspace: dict[Store, dict[int, int]] = defaultdict(dict)
    by_source: dict[Store, dict[int, int]] = defaultdict(dict)
    own: dict[tuple[Store, int], list[int]] = defaultdict(list)
    workspaces: set[int] = set()
    for row in await store.all_windows(tx):
        kind = Store(row.store)
        workspaces.add(row.workspace_id)
        if row.source_id:
            by_source[kind][row.source_id] = row.days
            own[(kind, row.workspace_id)].append(row.source_id)
        else:
            by_workspace[kind][row.workspace_id] = row.days
    windows = {kind: Windows(by_workspace[kind], by_source[kind], default_days) for kind in Store}
    return _Policy(windows, dict(own), workspaces)


# ---------------------------------------------------------------------------------------------
# Plans and runs


@dataclass
class _Run:
    now: datetime
    dry_run: bool
    workspace: int | None  # None: every workspace (the background task)
    items: list[RetentionItemView]

    def add(
        self,
        kind: Store,
        action: Literal["drop_partition", "delete_rows"],
        rows: int,
        *,
        partition: partitions.DayPartition | None = None,
        source_id: int | None = None,
        older_than: datetime | None = None,
    ) -> None:
        self.items.append(
            {
                "store": kind.value,
                "action": action,
                "partition": partition.name if partition else None,
                "start": format_timestamp(partition.start) if partition else None,
                "end": format_timestamp(partition.end) if partition else None,
                "source_id": source_id,
                "older_than": format_timestamp(older_than) if older_than else None,
                "rows": rows,
            }
        )

    def view(self, slug: str | None) -> RetentionPlanView:
        return {
            "workspace": slug,
            "as_of": format_timestamp(self.now),
            "dry_run": self.dry_run,
            "items": self.items,
            "rows": sum(item["rows"] for item in self.items),
        }


@asynccontextmanager
async def _atomic(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """A transaction begun at once, so that statements on the driver (the log's partitions,
    the advisory lock) run inside it."""
    async with engine.begin() as connection:
        yield await begin(connection)


async def _give_days(engine: AsyncEngine, wanted: set[date]) -> list[str]:
    """Create these days of the log, and those of the rows the default partition caught."""
    async with _atomic(engine) as tx:
        await _locked(tx)
        return await partitions.ensure_days(tx, wanted | set(await partitions.default_days(tx)))


async def _locked(tx: Transaction) -> None:
    await tx.driver.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)


async def _day(
    engine: AsyncEngine, run: _Run, policy: _Policy, day: partitions.DayPartition
) -> None:
    """Decide one day of the log again, inside its own transaction, and act (unless a dry run)."""
    async with _atomic(engine) as tx:
        if not run.dry_run:
            await _locked(tx)
            if not await partitions.lock(tx, day.name):
                return  # dropped meanwhile by another run
        caught = day.day if day.name == partitions.DEFAULT_PARTITION else None
        present = await partitions.sources_in(tx, day.name, caught=caught)
        decision = decide_day(day.end, present, policy.windows[Store.EVENTS], run.now)
        mine = [s for w, s in present if run.workspace is None or w == run.workspace]
        if decision.action == "keep" or (run.workspace is not None and not mine):
            return
        if decision.action == "drop":
            rows = (
                day.rows_estimate
                if run.workspace is None and caught is None
                else await partitions.count_rows(tx, day.name, mine, caught=caught)
            )
            if not run.dry_run:
                await _drop(tx, day.name)
            run.add(Store.EVENTS, "drop_partition", rows, partition=day)
            return
        chosen = [s for s in decision.sources if s in mine]
        for source in chosen:
            if run.dry_run:
                rows = await partitions.count_rows(tx, day.name, [source], caught=caught)
            else:
                rows = await partitions.delete_sources(tx, day.name, [source])
            run.add(Store.EVENTS, "delete_rows", rows, partition=day, source_id=source)
        if chosen and not run.dry_run:
            await _forget_orphans(tx, *(await _bounds(tx, day.name)))


async def _bounds(tx: Transaction, name: str) -> tuple[int, int]:
    found = await partitions.offset_range(tx, name)
    return found if found is not None else (0, -1)


async def _drop(tx: Transaction, name: str) -> None:
    """Drop a day and the governed payloads of its events (tracking plans' copies)."""
    low, high = await _bounds(tx, name)
    await partitions.drop(tx, name)
    await _forget_orphans(tx, low, high)


async def _forget_orphans(tx: Transaction, low: int, high: int) -> None:
    if high < low:
        return
    governed = await protocols.governed_between(tx, low, high)
    if governed:
        kept = await partitions.present(tx, governed)
        await protocols.forget_governed(tx, [o for o in governed if o not in kept])


async def _events(engine: AsyncEngine, run: _Run, policy: _Policy) -> None:
    shortest = min(d for d in (policy.shortest(), EMPTY_DAYS_KEPT) if d is not None)
    async with connected(engine) as tx:
        days = await partitions.day_partitions(tx)
        # A dry run sees the days the default partition caught as they will be once a round
        # has moved them (apply moves them first, in :func:`_run`).
        days += [
            partitions.DayPartition(partitions.DEFAULT_PARTITION, caught, 0)
            for caught in await partitions.default_days(tx)
        ]
    for day in sorted(days, key=lambda d: d.day):
        if day.end <= run.now - timedelta(days=shortest):
            await _day(engine, run, policy, day)


async def _rows(engine: AsyncEngine, run: _Run, policy: _Policy, workspace: int) -> None:
    """The smaller stores of one workspace: their rows past the window, deleted by time."""
    for kind, count, forget in (
        (Store.REJECTIONS, collect.count_rejections_before, collect.forget_rejections_before),
        (Store.QUARANTINE, protocols.count_quarantine_before, protocols.forget_quarantine_before),
    ):
        own = policy.own_sources.get((kind, workspace), [])
        for days, sources, excluding in source_groups(policy.windows[kind], workspace, own):
            before = cutoff(days, run.now)
            async with _atomic(engine) as tx:
                act = count if run.dry_run else forget
                rows = await act(
                    tx, workspace_id=workspace, before=before, sources=sources, excluding=excluding
                )
            if rows:
                source = sources[0] if sources else None
                run.add(kind, "delete_rows", rows, source_id=source, older_than=before)
    await _delivery_logs(engine, run, policy, workspace)
    await _journey_history(engine, run, policy, workspace)


async def _journey_history(engine: AsyncEngine, run: _Run, policy: _Policy, workspace: int) -> None:
    days = policy.windows[Store.JOURNEY_HISTORY].days_for(workspace)
    if days is None:
        return
    before = cutoff(days, run.now)
    async with _atomic(engine) as tx:
        if run.dry_run:
            rows = await journeys.count_steps_before(tx, workspace_id=workspace, before=before)
        else:
            rows = await journeys.forget_steps_before(tx, workspace_id=workspace, before=before)
    if rows:
        run.add(Store.JOURNEY_HISTORY, "delete_rows", rows, older_than=before)


async def _delivery_logs(engine: AsyncEngine, run: _Run, policy: _Policy, workspace: int) -> None:
    days = policy.windows[Store.DELIVERY_LOGS].days_for(workspace)
    if days is None:
        return
    before = cutoff(days, run.now)
    async with _atomic(engine) as tx:
        ids = await workspace_destination_ids(tx, workspace)
        if not ids:
            return
        act = (
            delivery.count_dead_letters_before
            if run.dry_run
            else delivery.forget_dead_letters_before
        )
        rows = await act(tx, destination_ids=ids, before=before)
    if rows:
        run.add(Store.DELIVERY_LOGS, "delete_rows", rows, older_than=before)


async def _run(
    engine: AsyncEngine,
    *,
    workspace: str | None,
    default_days: int | None,
    dry_run: bool,
    now: datetime | None,
) -> RetentionPlanView:
    async with connected(engine) as tx:
        key = None if workspace is None else await workspace_id(tx, workspace)
        policy = await _policy(tx, default_days)
    everyone: set[int] = set()
    if key is None and default_days is not None:  # the default reaches every workspace
        everyone = {w.id for w in await list_workspaces(engine)}
    if not dry_run:
        await _give_days(engine, set())
    run = _Run(now or datetime.now(UTC), dry_run, key, [])
    await _events(engine, run, policy)
    chosen = [key] if key is not None else sorted(policy.workspaces | everyone)
    for each in chosen:
        await _rows(engine, run, policy, each)
    return run.view(workspace)


async def retention_plan(
    engine: AsyncEngine,
    *,
    workspace: str,
    default_days: int | None,
    now: datetime | None = None,
) -> RetentionPlanView:
    """What retention would drop now for a workspace, dropping nothing: the days of the log
    that would go whole (with the workspace's rows in each, counted exactly), the rows of its
    sources deleted from days kept for others, and the rows of each smaller store."""
    return await _run(engine, workspace=workspace, default_days=default_days, dry_run=True, now=now)


async def apply_retention(
    engine: AsyncEngine,
    *,
    workspace: str | None,
    default_days: int | None,
    now: datetime | None = None,
) -> RetentionPlanView:
    """Enforce the windows now, for a workspace (``None``: every workspace): a day of the log
    whose every row is past its window is dropped whole, whoever's rows it holds."""
    return await _run(
        engine, workspace=workspace, default_days=default_days, dry_run=False, now=now
    )


async def maintain(
    engine: AsyncEngine, *, default_days: int | None, now: datetime | None = None
) -> tuple[list[str], RetentionPlanView]:
    """The daily round: create the log's days from yesterday to a week ahead, give the rows the
    default partition caught their own day, then enforce every window. The days created and
    what was dropped."""
    today = (now or datetime.now(UTC)).date()
    created = await _give_days(
        engine, {today + timedelta(days=n) for n in range(-1, partitions.AHEAD_DAYS + 1)}
    )
    done = await apply_retention(engine, workspace=None, default_days=default_days, now=now)
    return created, done
