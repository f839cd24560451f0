"""A retention run: every store's day partitions decided against the windows, and dropped (or
some of their rows deleted) unless it is a dry run.

Each store is a table partitioned by UTC day that its owner declares (the log's ``events``,
collection's ``rejections``, the tracking plans' ``quarantine``, delivery's ``dead_letters``,
journeys' ``journey_steps``); :mod:`headwater.storage.days` does the partition work for all of
them, this module decides. Every day is decided again inside a transaction of its own, under
one advisory lock, with the day locked against inserts before its keys are read, so a run cut
short leaves nothing half done and the next run finishes the rest.

>>> plan = await run(engine, workspace=1, slug="shop", default_days=None, dry_run=True, now=now)
>>> [(i["store"], i["partition"]) for i in plan["items"] if i["action"] == "drop_partition"]
[('events', 'events_p20261101'), ('rejections', 'rejections_p20261101')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import collect, delivery, journeys, protocols
from headwater.destinations import destination_workspaces
from headwater.log import partitions
from headwater.privacy import retention_store as store
from headwater.privacy.views import RetentionItemView, RetentionPlanView
from headwater.privacy.windows import EMPTY_DAYS_KEPT, Store, Windows, decide_day
from headwater.spec import format_timestamp
from headwater.storage import Transaction, begin, connected, days
from headwater.storage.days import DayPartition, DayTable

__all__ = ["atomic", "give_days", "run"]

_LOCK = 7210021


@dataclass(frozen=True, slots=True)
class _DayStore:
    """A store retention drops by day: its table, and who says a key's workspace when the
    table has no workspace column (``owners``: every key's workspace, read once a day)."""

    kind: Store
    table: DayTable
    owners: Callable[[Transaction], Awaitable[dict[int, int]]] | None = None

    @property
    def key(self) -> Literal["source_id", "destination_id", "journey_id"]:
        if self.kind is Store.DELIVERY_LOGS:
            return "destination_id"
        if self.kind is Store.JOURNEY_HISTORY:
            return "journey_id"
        return "source_id"


_STORES = (
    _DayStore(Store.EVENTS, partitions.EVENTS),
    _DayStore(Store.REJECTIONS, collect.REJECTION_DAYS),
    _DayStore(Store.QUARANTINE, protocols.QUARANTINE_DAYS),
    _DayStore(Store.DELIVERY_LOGS, delivery.DEAD_LETTER_DAYS, destination_workspaces),
    _DayStore(Store.JOURNEY_HISTORY, journeys.STEP_DAYS, journeys.journey_workspaces),
)


@asynccontextmanager
async def atomic(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """A transaction begun at once, so that statements on the driver (the partitions, the
    advisory lock) run inside it."""
    async with engine.begin() as connection:
        yield await begin(connection)


async def _locked(tx: Transaction) -> None:
    await tx.driver.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)


async def give_days(engine: AsyncEngine, wanted: set[date]) -> list[str]:
    """Create these days of every store, and those of the rows their default partitions
    caught (moved into them); the partitions created."""
    created = []
    for each in _STORES:
        async with atomic(engine) as tx:
            await _locked(tx)
            caught = set(await days.default_days(tx, each.table))
            created += await days.ensure_days(tx, each.table, wanted | caught)
    return created


async def _policy(tx: Transaction, default_days: int | None) -> dict[Store, Windows]:
    """Every window of the install, by store."""
    by_workspace: dict[Store, dict[int, int]] = defaultdict(dict)
    by_source: dict[Store, dict[int, int]] = defaultdict(dict)
    for row in await store.all_windows(tx):
        kind = Store(row.store)
        if row.source_id:
            by_source[kind][row.source_id] = row.days
        else:
            by_workspace[kind][row.workspace_id] = row.days
    return {kind: Windows(by_workspace[kind], by_source[kind], default_days) for kind in Store}


def _shortest(windows: Windows) -> int:
    """The fewest days any row of the store is kept: older days are the only candidates."""
    found = [*windows.workspaces.values(), *windows.sources.values(), EMPTY_DAYS_KEPT]
    if windows.default is not None:
        found.append(windows.default)
    return min(found)


@dataclass
class _Run:
    now: datetime
    dry_run: bool
    workspace: int | None  # None: every workspace (the background task)
    policy: dict[Store, Windows]
    items: list[RetentionItemView] = field(default_factory=list)

    def add(
        self,
        each: _DayStore,
        action: Literal["drop_partition", "delete_rows"],
        rows: int,
        day: DayPartition,
        key: int | None = None,
    ) -> None:
        item: RetentionItemView = {
            "store": each.kind.value,
            "action": action,
            "partition": day.name,
            "start": format_timestamp(day.start),
            "end": format_timestamp(day.end),
            "source_id": None,
            "destination_id": None,
            "journey_id": None,
            "rows": rows,
        }
        if key is not None:
            item[each.key] = key
        self.items.append(item)

    def view(self, slug: str | None) -> RetentionPlanView:
        return {
            "workspace": slug,
            "as_of": format_timestamp(self.now),
            "dry_run": self.dry_run,
            "items": self.items,
            "rows": sum(item["rows"] for item in self.items),
        }


async def _present(tx: Transaction, each: _DayStore, day: DayPartition) -> list[tuple[int, int]]:
    """The ``(workspace, key)`` pairs of one day (of the default partition's, for a day it
    caught); a key whose owner is gone counts as workspace 0 (only the default window)."""
    caught = day.day if day.name == each.table.default else None
    found = await days.keys_in(tx, each.table, day.name, caught=caught)
    owners = await each.owners(tx) if each.owners is not None else {}
    return [(w if w is not None else owners.get(k, 0), k) for w, k in found]


async def _day(engine: AsyncEngine, run: _Run, each: _DayStore, day: DayPartition) -> None:
    """Decide one day of a store again, inside its own transaction, and act (unless a dry
    run): drop it whole when every key in it is past its window, else delete the rows of the
    keys that are."""
    async with atomic(engine) as tx:
        if not run.dry_run:
            await _locked(tx)
            if not await days.lock(tx, each.table, day.name):
                return  # dropped meanwhile by another run
        caught = day.day if day.name == each.table.default else None
        present = await _present(tx, each, day)
        decision = decide_day(day.end, present, run.policy[each.kind], run.now)
        mine = [k for w, k in present if run.workspace is None or w == run.workspace]
        if decision.action == "keep" or (run.workspace is not None and not mine):
            return
        if decision.action == "drop":
            rows = (
                day.rows_estimate
                if run.workspace is None and caught is None
                else await days.count_rows(tx, each.table, day.name, mine, caught=caught)
            )
            if not run.dry_run:
                await _drop(tx, each, day.name)
            run.add(each, "drop_partition", rows, day)
            return
        chosen = [k for k in decision.sources if k in mine]
        for key in chosen:
            if run.dry_run:
                rows = await days.count_rows(tx, each.table, day.name, [key], caught=caught)
            else:
                rows = await days.delete_keys(tx, each.table, day.name, [key])
            run.add(each, "delete_rows", rows, day, key)
        if chosen and not run.dry_run and each.kind is Store.EVENTS:
            await _forget_orphans(tx, *(await _bounds(tx, day.name)))


async def _bounds(tx: Transaction, name: str) -> tuple[int, int]:
    found = await partitions.offset_range(tx, name)
    return found if found is not None else (0, -1)


async def _drop(tx: Transaction, each: _DayStore, name: str) -> None:
    """Drop a day; for the log, with the governed payloads of its events (tracking plans'
    copies)."""
    if each.kind is not Store.EVENTS:
        await days.drop(tx, each.table, name)
        return
    low, high = await _bounds(tx, name)
    await days.drop(tx, each.table, name)
    await _forget_orphans(tx, low, high)


async def _forget_orphans(tx: Transaction, low: int, high: int) -> None:
    if high < low:
        return
    governed = await protocols.governed_between(tx, low, high)
    if governed:
        kept = await partitions.present(tx, governed)
        await protocols.forget_governed(tx, [o for o in governed if o not in kept])


async def _store(engine: AsyncEngine, run: _Run, each: _DayStore) -> None:
    """Every day of a store that ended longer ago than its shortest window."""
    shortest = _shortest(run.policy[each.kind])
    async with connected(engine) as tx:
        found = await days.day_partitions(tx, each.table)
        # A dry run sees the days the default partition caught as they will be once a round
        # has moved them (apply moves them first, in :func:`run`).
        found += [
            DayPartition(each.table.default, caught, 0)
            for caught in await days.default_days(tx, each.table)
        ]
    for day in sorted(found, key=lambda d: d.day):
        if day.end <= run.now - timedelta(days=shortest):
            await _day(engine, run, each, day)


async def run(
    engine: AsyncEngine,
    *,
    workspace: int | None,
    slug: str | None,
    default_days: int | None,
    dry_run: bool,
    now: datetime,
) -> RetentionPlanView:
    """Decide every store's days for a workspace (None: every workspace) and act unless
    ``dry_run``; what went, or would go."""
    async with connected(engine) as tx:
        policy = await _policy(tx, default_days)
    if not dry_run:
        await give_days(engine, set())
    done = _Run(now, dry_run, workspace, policy)
    for each in _STORES:
        await _store(engine, done, each)
    return done.view(slug)
