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
from headwater.retl.model import Plan, check_columns, message, removal, sends
from headwater.retl.records import ModelRecord, SyncRecord, decode_mark, encode_mark
from headwater.retl.schedule import next_run
from headwater.retl.send import CollectorTarget, DestinationTarget, Target, TargetRefused
from headwater.retl.source import SourceDatabase, SourceError
from headwater.settings import Settings
from headwater.storage import STORAGE_ERRORS
from headwater.workspaces import find_source

__all__ = ["SAMPLES", "RunFailed", "SyncRunner"]

_log = logging.getLogger(__name__)

SAMPLES = 20
"""Failures kept per run, each with its key and reason."""


class RunFailed(Exception):
    """The run cannot go on; the message is the reason recorded, in plain words."""


class _Tally:
    def __init__(self) -> None:
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
        sync again)."""
        async with store.begun(self._engine) as tx:
            if trigger == "recovery":
                await store.interrupt_runs(tx, sync.id)
            run_id = await store.start_run(tx, sync.id, trigger)
        tally = _Tally()
        status, reason = "succeeded", None
        async with self._renewing(sync.id):
            try:
                await self._work(sync, tally)
            except (RunFailed, SourceError, TargetRefused) as error:
                status, reason = "failed", str(error)
        mark = tally.low_failed if tally.low_failed is not None else tally.high
        async with store.begun(self._engine) as tx:
            await store.finish_run(
                tx,
                sync_id=sync.id,
                run_id=run_id,
                status=status,
                counts=tally.counts,
                reason=reason,
                failures=tally.failures,
                next_run_at=next_run(sync.schedule, after=datetime.now(UTC)),
                cursor_mark=encode_mark(mark) if status == "succeeded" else None,
            )
        _log.info("sync %d run %d %s: %s", sync.id, run_id, status, tally.counts)
        return run_id

    @contextlib.asynccontextmanager
    async def _renewing(self, sync_id: int) -> AsyncIterator[None]:
        """Renew the sync's lease while the run works, every third of the lease."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self._lease.total_seconds() / 3)
                try:
                    async with store.begun(self._engine) as tx:
                        await store.renew(tx, sync_id, lease=self._lease)
                except STORAGE_ERRORS as error:  # the next renewal tries again
                    _log.warning("could not renew the lease of sync %d: %s", sync_id, error)

        task = asyncio.create_task(renew(), name=f"retl-lease-{sync_id}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _work(self, sync: SyncRecord, tally: _Tally) -> None:
        async with store.begun(self._engine) as tx:
            found = await store.get_model(tx, sync.workspace_id, sync.model_id)
            if found is None:
                raise RunFailed("the sync's model was deleted")
            model = ModelRecord.of(found)
            box = await load_box(tx, self._settings.secret_key)
            known = await state.load(tx, sync.id)
        target = await self._target(sync)
        database = SourceDatabase(
            box.open(model.connection)["url"], timeout=self._settings.retl_connect_timeout_seconds
        )
        try:
            differ = Differ(known)
            columns = await self._read(sync, model, database, differ, target, tally)
        finally:
            await database.close()
        if model.cursor_column is None:
            await self._ends(sync, differ, known, columns, target, tally)

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
        tally: _Tally,
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
                    tally.counts["rows_read"] += 1
                    item = self._diffed(differ, columns, values, key_at, cursor_at, tally)
                    if item is None:
                        continue
                    if sends(sync.mode, item.change):  # type: ignore[arg-type]
                        pending.append(item)
                    elif sync.mode == "update" and item.change == "added":
                        seen_only.append(state.Written(item.key, item.digest, None))
                await self._flush(sync, plan, pending, target, tally)
                pending = []
                await self._record(sync.id, seen_only)
                seen_only = []
        return columns

    def _diffed(
        self,
        differ: Differ,
        columns: list[str],
        values: tuple[Any, ...],
        key_at: int,
        cursor_at: int | None,
        tally: _Tally,
    ) -> _Pending | None:
        raw_key = values[key_at]
        if raw_key is None:
            tally.fail("", "the row's primary key is empty")
            return None
        key = str(raw_key)
        cursor = None if cursor_at is None else values[cursor_at]
        if cursor is not None and (tally.high is None or cursor > tally.high):
            tally.high = cursor
        try:
            digest = row_hash(values)
            change = differ.see(key, digest)
        except DuplicateKey:
            tally.fail(key, "the model returned this primary key more than once")
            return None
        except TypeError as error:
            tally.fail(key, f"a value cannot be sent: {error}")
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
        tally: _Tally,
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
                tally.fail(item.key, reason)
                if item.cursor is not None and (
                    tally.low_failed is None or item.cursor < tally.low_failed
                ):
                    tally.low_failed = item.cursor
                written.append(state.Written(item.key, None, reason))
                continue
            tally.counts[item.change] += 1
            identity = (
                msgspec.json.encode({c: item.row.get(c) for c in identity_columns}).decode()
                if identity_columns
                else None
            )
            written.append(state.Written(item.key, item.digest, None, identity))
        await self._record(sync.id, written)

    async def _record(self, sync_id: int, written: list[state.Written]) -> None:
        if written:
            async with store.begun(self._engine) as tx:
                await state.write(tx, sync_id, written)

    async def _ends(
        self,
        sync: SyncRecord,
        differ: Differ,
        known: dict[str, bytes | None],
        columns: list[str],
        target: Target,
        tally: _Tally,
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
            failed = await target.send(messages)
            for index, key in enumerate(removed):
                if index in failed:
                    tally.fail(key, failed[index])
                    failed_state.append(state.Written(key, None, failed[index]))
                else:
                    tally.counts["removed"] += 1
                    done.append(key)
        async with store.begun(self._engine) as tx:
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
