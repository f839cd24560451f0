"""The audience stage of the processor: real-time audiences and computed traits, after the
profile stage, inside the processor's transaction.

For each workspace of a batch that has real-time computations (computed traits and user
audiences, see :func:`~headwater.audiences.catalog.is_realtime`):

1. take the user profiles the batch's events were linked to from the batch (the profile
   stage recorded them, survivors of the batch's merges);
2. take the computations' shared advisory locks, so a batch recompute (exclusive) never
   interleaves with this transaction, and a lock on each touched profile, so that batches
   processed side by side evaluate one profile in turn, each seeing the other's events;
3. load those profiles' traits, stored values and the events the conditions can count, and
   evaluate every real-time computation in memory at the current time (computed traits
   first, then audiences after those they name);
4. store the values that changed and log each change, cause ``event`` with the newest
   triggering ``messageId``; values held by profiles merged into them exit, cause ``merged``.

List audiences are never evaluated (they have no condition); only merges touch them here: a
member merged into another profile exits (``merged``) and the survivor enters (``event``),
before the computations are evaluated, so an audience naming the list sees the survivor in it.

Idempotent: a redelivered batch finds the same data and the same stored values, so nothing
changes. Time windows are applied at the time of processing; members leave windows that pass
by the scheduled batch recompute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.audiences import reads, store
from headwater.audiences.catalog import Catalog, Parsed
from headwater.audiences.conditions import (
    ConsentCondition,
    EventCondition,
    EventSpec,
    FunnelCondition,
    walk,
)
from headwater.audiences.evaluate import Subject, compute, evaluate
from headwater.batch import Batch
from headwater.profiles import lookups
from headwater.storage import Transaction, begin

__all__ = ["AudienceStage"]

_CATALOG_TTL = 5.0


def _now() -> datetime:
    return datetime.now(UTC)


class AudienceStage:
    """Real-time audiences and computed traits; see the module docstring. ``clock`` gives
    the evaluation time (tests pass a fixed one)."""

    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        self.clock = clock
        self._catalogs: dict[int, tuple[float, Catalog]] = {}

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        """Evaluate the real-time computations of the profiles the profile stage recorded
        in ``batch`` (:meth:`~headwater.batch.Batch.touched`); every entry goes on."""
        tx = await begin(connection)
        for workspace_id in dict.fromkeys(entry.workspace_id for entry in batch.entries):
            catalog = await self._catalog(tx, workspace_id)
            live = [p for p in catalog.ordered() if p.computation.realtime]
            lists = {p.id for p in catalog.parsed.values() if p.listed is not None}
            if live or lists:
                await self._update(tx, batch.touched(workspace_id), catalog, live, lists)

    async def _catalog(self, tx: Transaction, workspace_id: int) -> Catalog:
        cached = self._catalogs.get(workspace_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        stored = await store.computations(tx, workspace_id)
        catalog = Catalog.of(c for c in stored if c.enabled)
        self._catalogs[workspace_id] = (time.monotonic() + _CATALOG_TTL, catalog)
        return catalog

    async def _update(
        self,
        tx: Transaction,
        touched: dict[str, str],
        catalog: Catalog,
        live: list[Parsed],
        lists: set[int],
    ) -> None:
        """Evaluate ``live`` for the ``touched`` profiles (-> the message a change records),
        after moving the ``lists`` memberships of profiles merged into them."""
        if not touched:
            return
        await store.lock_shared(tx, [p.id for p in live])
        await store.lock_profiles(tx, touched)
        now = self.clock()
        # Live profiles only: one merged away by another batch since the profile stage linked
        # it (the early side commit releases its locks) is that batch's to evaluate.
        traits = await lookups.live_traits(tx, sorted(touched))
        pids = sorted(traits)
        merged = await reads.merged_values(tx, pids)
        listed = [(cid, pid, live_id) for cid, pid, live_id in merged if cid in lists]
        if listed:
            await store.remove_members(
                tx, [(cid, pid, None) for cid, pid, _ in listed], at=now, cause="merged"
            )
            await store.add_members(
                tx, [(cid, s, touched[s]) for cid, _, s in listed], at=now, cause="event"
            )
        rows: list[tuple[int, str, Any, str | None]] = [
            (cid, pid, None, None) for cid, pid, _ in merged if cid not in lists
        ]
        if live:
            names, unnamed, since = _event_scope(live, now)
            events = await reads.events_of(
                tx, pids, names=sorted(names), unnamed_types=sorted(unnamed), since=since
            )
            stored = await reads.values_of(tx, pids)
            consents = await lookups.live_consent(tx, pids) if _asks_consent(live) else {}
            for pid in pids:
                subject = Subject(
                    traits=traits[pid], events=events[pid], consent=consents.get(pid, {})
                )
                fresh = _evaluate(catalog, live, subject, stored, pid, now)
                rows += [(cid, pid, value, touched[pid]) for cid, value in fresh.items()]
        if rows:
            await store.apply_values(tx, rows=rows, at=now, cause="event")


def _asks_consent(live: list[Parsed]) -> bool:
    """Whether any of the ``live`` audiences has a consent condition."""
    return any(
        isinstance(node, ConsentCondition)
        for parsed in live
        if parsed.audience is not None
        for node in walk(parsed.audience.condition)
    )


def _evaluate(
    catalog: Catalog,
    live: list[Parsed],
    profile: Subject,
    stored: dict[str, dict[int, Any]],
    pid: str,
    now: datetime,
) -> dict[int, Any]:
    """Fresh values of the real-time computations for one profile (its traits, events and
    consent); stored values stand for the others (batch-only audiences it may name)."""
    held = stored.get(pid, {})
    values: dict[int, Any] = dict(held)
    events = profile.events
    traits = dict(profile.traits)
    for parsed in catalog.parsed.values():  # a computed trait's key hides a profile trait
        if parsed.trait is not None:
            traits.pop(parsed.key, None)
            if parsed.id in held:
                traits[parsed.key] = held[parsed.id]
    fresh: dict[int, Any] = {}
    for parsed in live:
        if parsed.trait is not None:
            value = compute(parsed.trait, events, now)
            if value is None:
                traits.pop(parsed.key, None)
            else:
                traits[parsed.key] = value
        else:
            assert parsed.audience is not None
            members = frozenset(
                p.key for p in catalog.parsed.values() if p.is_audience and p.id in values
            )
            subject = Subject(
                traits=traits, events=events, audiences=members, consent=profile.consent
            )
            value = True if evaluate(parsed.audience.condition, subject, now) else None
        fresh[parsed.id] = value
        if value is None:
            values.pop(parsed.id, None)
        else:
            values[parsed.id] = value
    return fresh


def _event_scope(live: list[Parsed], now: datetime) -> tuple[set[str], set[str], datetime | None]:
    """Event names and unnamed types the computations count, and the oldest moment any of
    their windows reaches (None: some condition has no window)."""
    names: set[str] = set()
    unnamed: set[str] = set()
    starts: list[datetime | None] = []

    def add(spec: EventSpec, start: datetime | None) -> None:
        if spec.event is None:
            unnamed.add(spec.event_type)
        else:
            names.add(spec.event)
        starts.append(start)

    for parsed in live:
        if parsed.trait is not None:
            window = parsed.trait.window
            add(parsed.trait, window.bounds(now)[0] if window else None)
            continue
        assert parsed.audience is not None
        for node in walk(parsed.audience.condition):
            if isinstance(node, EventCondition):
                add(node, node.window.bounds(now)[0] if node.window else None)
            elif isinstance(node, FunnelCondition):
                start = node.window.bounds(now)[0] if node.window else None
                add(node.first, start)
                add(node.then, start)
    if not starts or any(start is None for start in starts):
        return names, unnamed, None
    return names, unnamed, min(s for s in starts if s is not None) - timedelta(seconds=1)
