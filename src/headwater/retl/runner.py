"""One run of a sync: read the model, diff it by primary key against the sync's state, send
what changed, record the state and the run's counts.

>>> runner = SyncRunner(engine, settings, collector=collector)
>>> run_id = await runner.run(sync, trigger="manual")     # the sync leased by the caller

Order of work: the run is recorded (``running``); the state is read whole; the model is read
in chunks, each row hashed and compared (:class:`~headwater.retl.diff.Differ`); the rows the
mode sends are sent a chunk at a time, and the state of each chunk is written once its
messages are durable (a crash between the two sends them again with the same messageIds,
which collection and the delivery queue drop). Then, in mirror mode, removed keys are sent
their removal. Rows that failed keep their old state with the error, so the next run sends
them again. A model that cannot be read (its database down, the query refused) ends the run
``failed`` with the reason, the URL's password never in it.

The run's status is its fencing token: while its process renews the sync's lease it stays
``running``; a process that claims the sync after the lease ran out (the first one stopped, or
stalled past the lease) marks it ``interrupted`` in its claim. Every state write, and the run's
end, first checks (and share-locks) the run's row, so a run taken over stops at its next chunk
with :class:`LeaseLost`, writes no state and leaves the sync to the run that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import Collector
from headwater.destinations import load_box
from headwater.retl import state, store
from headwater.retl.diff import Differ, DuplicateKey, row_hash
from headwater.retl.guard import refuse_own_database
from headwater.retl.model import Plan, check_columns, message, removal, sends
from headwater.retl.records import ModelRecord, SyncRecord, decode_mark, encode_mark
from headwater.retl.schedule import next_run
from headwater.retl.send import CollectorTarget, DestinationTarget, Target, TargetRefused
from headwater.retl.source import SourceDatabase, SourceError
from headwater.settings import Settings
from headwater.storage import STORAGE_ERRORS, Transaction
from headwater.workspaces import find_source

__all__ = ["LOST", "SAMPLES", "LeaseLost", "RunFailed", "SyncRunner"]

_log = logging.getLogger(__name__)

SAMPLES = 20
"""Failures kept per run, each with its key and reason."""


class RunFailed(Exception):
    """The run cannot go on; the message is the reason recorded, in plain words."""


class LeaseLost(Exception):
    """Another process took the sync over after this run's lease ran out: the run stops
    without writing state."""


LOST = (
    "stopped: this run could not renew its lease in time and another run took the sync over;"
    " that run carries on from the state, and this one wrote nothing more"
)
"""The reason recorded on a run that lost its lease while its process was alive."""


class _Progress:
    """One run's counts, failure samples, cursor marks and hold on its sync."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.lost = False
        self.counts = dict.fromkeys(("rows_read", "added", "changed", "removed", "failed"), 0)
        self.failures: list[dict[str, str]] = []
        self.high: Any = None
        self.low_failed: Any = None

    def fail(self, key: str, reason: str) -> None:
        self.counts["failed"] += 1
        if len(self.failures) < SAMPLES:
            self.failures.append({"key": key, "reason": reason})


class _Pending(msgspec.Struct):
    key: str
    change: str
    digest: bytes
    row: dict[str, Any]
    cursor: Any


class SyncRunner:
    def __init__(
        self, engine: AsyncEngine, settings: Settings, *, collector: Collector | None
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._collector = collector
        self._chunk = settings.retl_chunk_rows
        self._lease = timedelta(seconds=settings.retl_lease_seconds)

    async def run(self, sync: SyncRecord, *, trigger: str) -> int:
        """Run ``sync`` (leased by the caller) to its end; the run's id. Raises only what
        Headwater's own database raised (the lease then runs out and another round takes the
        sync again). A run whose lease another process took over (:class:`LeaseLost`) stops at
        its next chunk, writing no state and leaving the sync to the other run."""
        async with store.begun(self._engine) as tx:
            run_id = await store.start_run(tx, sync.id, trigger)
        progress = _Progress(run_id)
        status, reason = "succeeded", None
        async with self._renewing(sync.id, progress):
            try:
                await self._work(sync, progress)
            except (RunFailed, SourceError, TargetRefused) as error:
                status, reason = "failed", str(error)
            except LeaseLost:
                status = "interrupted"
        mark = progress.low_failed if progress.low_failed is not None else progress.high
        finished = False
        async with store.begun(self._engine) as tx:
            if status != "interrupted":
                finished = await store.finish_run(
                    tx,
                    sync_id=sync.id,
                    run_id=run_id,
                    status=status,
                    counts=progress.counts,
                    reason=reason,
                    failures=progress.failures,
                    next_run_at=next_run(sync.schedule, after=datetime.now(UTC)),
                    cursor_mark=encode_mark(mark) if status == "succeeded" else None,
                )
            if not finished:
                status = "interrupted"
                await store.record_lost(
                    tx, run_id, counts=progress.counts, failures=progress.failures, reason=LOST
                )
        _log.info("sync %d run %d %s: %s", sync.id, run_id, status, progress.counts)
        return run_id

    @contextlib.asynccontextmanager
    async def _renewing(self, sync_id: int, progress: _Progress) -> AsyncIterator[None]:
        """Renew the sync's lease while the run works, every third of the lease; a renewal
        that finds the run no longer holding the sync marks it lost."""

        async def renew() -> None:
            while not progress.lost:
                await asyncio.sleep(self._lease.total_seconds() / 3)
                try:
                    async with store.begun(self._engine) as tx:
                        held = await store.renew(tx, sync_id, progress.run_id, lease=self._lease)
                except STORAGE_ERRORS as error:  # the next renewal tries again
                    _log.warning("could not renew the lease of sync %d: %s", sync_id, error)
                    continue
                if not held:
                    _log.warning("sync %d was taken over: run %d stops", sync_id, progress.run_id)
                    progress.lost = True

        task = asyncio.create_task(renew(), name=f"retl-lease-{sync_id}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def _fenced(self, progress: _Progress) -> AsyncIterator[Transaction]:
        """A transaction in which the run still holds its sync until it ends;
        :class:`LeaseLost` (nothing written) when it no longer does."""
        if progress.lost:
            raise LeaseLost
        async with store.begun(self._engine) as tx:
            if not await store.holds(tx, progress.run_id):
                progress.lost = True
                raise LeaseLost
            yield tx

    async def _check(self, progress: _Progress) -> None:
        """:class:`LeaseLost` before sending when the run no longer holds its sync."""
        async with self._fenced(progress):
            pass

    async def _work(self, sync: SyncRecord, progress: _Progress) -> None:
        async with store.begun(self._engine) as tx:
            found = await store.get_model(tx, sync.workspace_id, sync.model_id)
            if found is None:
                raise RunFailed("the sync's model was deleted")
            model = ModelRecord.of(found)
            box = await load_box(tx, self._settings.secret_key)
            known = await state.load(tx, sync.id)
        target = await self._target(sync)
        url = box.open(model.connection)["url"]
        await refuse_own_database(
            url, own=self._engine.url, allow_local=self._settings.retl_allow_local_databases
        )
        database = SourceDatabase(url, timeout=self._settings.retl_connect_timeout_seconds)
        try:
            differ = Differ(known)
            columns = await self._read(sync, model, database, differ, target, progress)
        finally:
            await database.close()
        if model.cursor_column is None:
            await self._ends(sync, differ, known, columns, target, progress)

    async def _target(self, sync: SyncRecord) -> Target:
        if sync.target == "destination":
            if sync.destination_id is None:
                raise RunFailed("the sync names no destination")
            return DestinationTarget(
                self._engine, destination_id=sync.destination_id, settings=self._settings
            )
        if self._collector is None:
            raise RunFailed("this process collects no events")
        source = await find_source(self._engine, sync.source_id)
        if source is None or not source.enabled:
            raise RunFailed("the sync's source is disabled or deleted: enable it to send")
        return CollectorTarget(self._collector, write_key=source.write_key, settings=self._settings)

    async def _read(
        self,
        sync: SyncRecord,
        model: ModelRecord,
        database: SourceDatabase,
        differ: Differ,
        target: Target,
        progress: _Progress,
    ) -> list[str]:
        """Read, diff and send the model's rows; its columns."""
        cursor = None
        if model.cursor_column is not None:
            cursor = (model.cursor_column, decode_mark(sync.cursor_mark))
        plan = Plan(sync_id=sync.id, message_type=sync.message_type, mapping=sync.mapping)
        pending: list[_Pending] = []
        seen_only: list[state.Written] = []
        chunks = database.stream(model.query, cursor=cursor, chunk=self._chunk)
        columns: list[str] = []
        async with aclosing(chunks):
            async for columns, rows in chunks:
                key_at, cursor_at = _positions(model, sync, columns)
                for values in rows:
                    progress.counts["rows_read"] += 1
                    item = self._diffed(differ, columns, values, key_at, cursor_at, progress)
                    if item is None:
                        continue
                    if sends(sync.mode, item.change):  # type: ignore[arg-type]
                        pending.append(item)
                    elif sync.mode == "update" and item.change == "added":
                        seen_only.append(state.Written(item.key, item.digest, None))
                await self._check(progress)
                await self._flush(sync, plan, pending, target, progress)
                pending = []
                await self._record(progress, seen_only, sync_id=sync.id)
                seen_only = []
        return columns

    def _diffed(
        self,
        differ: Differ,
        columns: list[str],
        values: tuple[Any, ...],
        key_at: int,
        cursor_at: int | None,
        progress: _Progress,
    ) -> _Pending | None:
        raw_key = values[key_at]
        if raw_key is None:
            progress.fail("", "the row's primary key is empty")
            return None
        key = str(raw_key)
        cursor = None if cursor_at is None else values[cursor_at]
        if cursor is not None and (progress.high is None or cursor > progress.high):
            progress.high = cursor
        try:
            digest = row_hash(values)
            change = differ.see(key, digest)
        except DuplicateKey:
            progress.fail(key, "the model returned this primary key more than once")
            return None
        except TypeError as error:
            progress.fail(key, f"a value cannot be sent: {error}")
            return None
        if change is None:
            return None
        row = dict(zip(columns, msgspec.to_builtins(values), strict=True))
        return _Pending(key, change, digest, row, cursor)

    async def _flush(
        self,
        sync: SyncRecord,
        plan: Plan,
        pending: list[_Pending],
        target: Target,
        progress: _Progress,
    ) -> None:
        if not pending:
            return
        messages = [message(plan, key=p.key, row=p.row, digest=p.digest) for p in pending]
        failed = await target.send(messages)
        written: list[state.Written] = []
        identity_columns = sync.mapping.identifier_columns() if sync.mode == "mirror" else []
        for index, item in enumerate(pending):
            reason = failed.get(index)
            if reason is not None:
                progress.fail(item.key, reason)
                if item.cursor is not None and (
                    progress.low_failed is None or item.cursor < progress.low_failed
                ):
                    progress.low_failed = item.cursor
                written.append(state.Written(item.key, None, reason))
                continue
            progress.counts[item.change] += 1
            identity = (
                msgspec.json.encode({c: item.row.get(c) for c in identity_columns}).decode()
                if identity_columns
                else None
            )
            written.append(state.Written(item.key, item.digest, None, identity))
        await self._record(progress, written, sync_id=sync.id)

    async def _record(
        self, progress: _Progress, written: list[state.Written], *, sync_id: int
    ) -> None:
        if written:
            async with self._fenced(progress) as tx:
                await state.write(tx, sync_id, written)

    async def _ends(
        self,
        sync: SyncRecord,
        differ: Differ,
        known: dict[str, bytes | None],
        columns: list[str],
        target: Target,
        progress: _Progress,
    ) -> None:
        """Keys gone from the model: removals sent in mirror mode; never-sent ones forgotten."""
        gone = differ.forgotten()
        removed = differ.removed() if sync.mode == "mirror" else []
        done: list[str] = list(gone)
        failed_state: list[state.Written] = []
        if removed:
            async with store.begun(self._engine) as tx:
                identities = await state.identities(tx, sync.id, removed)
            plan = Plan(sync_id=sync.id, message_type=sync.message_type, mapping=sync.mapping)
            messages = [
                removal(
                    plan,
                    key=key,
                    identity=identities.get(key, {}),
                    columns=columns,
                    digest=known.get(key) or b"",
                )
                for key in removed
            ]
            await self._check(progress)
            failed = await target.send(messages)
            for index, key in enumerate(removed):
                if index in failed:
                    progress.fail(key, failed[index])
                    failed_state.append(state.Written(key, None, failed[index]))
                else:
                    progress.counts["removed"] += 1
                    done.append(key)
        async with self._fenced(progress) as tx:
            await state.forget(tx, sync.id, done)
            await state.write(tx, sync.id, failed_state)


def _positions(model: ModelRecord, sync: SyncRecord, columns: list[str]) -> tuple[int, int | None]:
    """Where the primary key and the cursor are in the model's columns; :class:`RunFailed`
    when the model lacks one of them or a column the mapping names."""
    problem = check_columns(sync.mapping, columns)
    if model.primary_key not in columns:
        problem = f"the model has no column {model.primary_key!r} (its primary key)"
    elif model.cursor_column is not None and model.cursor_column not in columns:
        problem = f"the model has no column {model.cursor_column!r} (its cursor)"
    if problem is not None:
        raise RunFailed(problem)
    cursor_at = None if model.cursor_column is None else columns.index(model.cursor_column)
    return columns.index(model.primary_key), cursor_at
