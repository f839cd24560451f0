"""File imports: upload, dry run, queue, and the runner that commits a file in batches.

>>> importer = Importer(engine=engine, collector=collector, settings=settings)
>>> job = await importer.upload(workspace="acme", source_id=1, kind="events", fmt="csv",
...                             file_name="orders.csv", chunks=body_chunks, created_by="ana")
>>> await importer.dry_run(workspace="acme", job_id=job["id"], mapping=None)
>>> await importer.start(workspace="acme", job_id=job["id"], mapping=None)

Every row enters through the tracking API's path (:meth:`Collector.ingest`: one
normalisation, the PII rules, suppressions, dedup by messageId, a durable commit), a batch of
``import_batch_rows`` rows per commit. A row's messageId is derived from the workspace, the
kind, the mapping and the row (``mapping.message_id_of``), so importing the same file twice
stores nothing new. After each commit the job's checkpoint moves; a job whose process died
(its advisory lock freed with its connection) is taken up again by the next runner, from its
checkpoint: a batch committed just before the crash is read again and dropped as duplicates.

The uploaded file is kept in ``<data_dir>/imports/<id>.<format>`` until its import ends (it
holds personal data: it is deleted then, failed or done). :meth:`Importer.sweep`, each round
of the runner, ends uploads not started within ``import_upload_ttl_hours`` and deletes every
file whose import will not run (ended, expired, or ended by a person's erasure:
:func:`headwater.imports.forget_person`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.collect import Collector
from headwater.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from headwater.imports import files, store
from headwater.imports.mapping import (
    KINDS,
    ImportKind,
    Mapping,
    RowError,
    default_mapping,
    mapping_problems,
)
from headwater.imports.reader import FileFormat, Row, read_batches, survey
from headwater.imports.rows import (
    Plan,
    Prepared,
    error_view,
    prepare,
    rejection,
    row_error,
    unpacked,
)
from headwater.imports.views import DryRunView, ImportView, RowErrorView
from headwater.imports.worker import next_packed, started
from headwater.settings import Settings
from headwater.spec import Event, Rejection
from headwater.storage import STORAGE_ERRORS, connected, transaction
from headwater.supervisor import Health, first_set
from headwater.workspaces import Source

__all__ = ["Importer"]

_log = logging.getLogger(__name__)

_SAMPLE_ROWS: Final = 5
_POLL_SECONDS: Final = 5.0
"""How often the runner looks for jobs queued through another process."""


class Importer:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        collector: Collector,
        settings: Settings,
        worker_start: Callable[[], None] | None = None,
    ) -> None:
        """``worker_start``: run first in the worker process that maps and normalises batches
        (a module-level function: the process is spawned), such as the runtime's garbage
        collector tuning, which halves the worker's time per row."""
        self._worker_start = worker_start
        self._engine = engine
        self._collector = collector
        self._settings = settings
        self._dir = settings.resolved_data_dir() / "imports"
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._busy = asyncio.Lock()
        self._pool: ProcessPoolExecutor | None = None

    async def close(self) -> None:
        """Stop taking batches and return once the batch in flight is committed (before the
        collector stops: the job resumes from its checkpoint on the next start), then stop the
        worker process."""
        self._closing.set()
        async with self._busy:
            pass
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

    def _path(self, job: ImportView) -> Path:
        return self._dir / f"{job['id']}.{job['format']}"

    async def upload(
        self,
        *,
        workspace: str,
        source_id: int,
        kind: ImportKind,
        fmt: FileFormat,
        file_name: str,
        chunks: AsyncIterator[bytes],
        created_by: str | None,
    ) -> ImportView:
        """Store an uploaded file and read it through once: its columns, a sample, its rows.

        413 ``file_too_large`` over ``import_max_bytes``, ``too_many_rows`` over
        ``import_max_rows``; 422 ``unreadable_file`` when it is not the format named."""
        source = await self._source(workspace, source_id)
        self._dir.mkdir(parents=True, exist_ok=True)
        staged = self._dir / f"upload-{uuid.uuid4().hex}"
        try:
            size = await self._receive(chunks, staged)
            names, sample, rows = await asyncio.to_thread(_survey, staged, fmt)
            if rows > self._settings.import_max_rows:
                raise PayloadTooLarge(
                    "too_many_rows",
                    f"the file has {rows} rows; the limit is {self._settings.import_max_rows}"
                    " (HEADWATER_IMPORT_MAX_ROWS): split it into smaller files",
                )
            async with transaction(self._engine) as tx:
                job = await store.insert_job(
                    tx,
                    workspace_id=source.workspace_id,
                    source_id=source.id,
                    kind=kind,
                    format=fmt,
                    file_name=file_name,
                    file_bytes=size,
                    rows_total=rows,
                    columns={"names": names, "sample": sample},
                    mapping=_encoded(default_mapping(kind, names)),
                    created_by=created_by,
                )
            staged.rename(self._path(job))
        finally:
            staged.unlink(missing_ok=True)
        return job

    async def _receive(self, chunks: AsyncIterator[bytes], path: Path) -> int:
        limit = self._settings.import_max_bytes
        size = 0
        with path.open("wb") as handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        "file_too_large",
                        f"the file is larger than {limit} bytes (HEADWATER_IMPORT_MAX_BYTES):"
                        " split it into smaller files",
                    )
                handle.write(chunk)
        if not size:
            raise Unprocessable("empty_file", "the file is empty")
        return size

    async def _source(self, workspace: str, source_id: int) -> Source:
        source = await workspaces.find_source(self._engine, source_id)
        if source is None or source.workspace != workspace:
            raise NotFound("source_not_found", f"no source {source_id} in workspace {workspace!r}")
        if not source.enabled:
            raise Unprocessable(
                "source_disabled", f"source {source.name!r} is disabled: enable it to import"
            )
        return source

    async def get(self, *, workspace: str, job_id: int) -> ImportView:
        found = await workspaces.get_workspace(self._engine, workspace)
        async with connected(self._engine) as tx:
            job = await store.get_job(tx, found.id, job_id)
        if job is None:
            raise NotFound("import_not_found", f"no import {job_id} in workspace {workspace!r}")
        return job

    async def history(self, *, workspace: str, before: int | None, limit: int) -> list[ImportView]:
        found = await workspaces.get_workspace(self._engine, workspace)
        async with connected(self._engine) as tx:
            return await store.list_jobs(tx, found.id, before=before, limit=limit)

    async def _plan(self, job: ImportView, mapping: Mapping | None) -> tuple[Plan, list[str]]:
        chosen = mapping or msgspec.convert(job["mapping"], Mapping)
        problems = mapping_problems(job["kind"], chosen, job["columns"])
        plan = Plan(
            workspace_id=job["workspace_id"],
            kind=job["kind"],
            mapping=chosen,
            typed_cells=job["format"] == "csv",
        )
        return plan, problems

    async def dry_run(
        self, *, workspace: str, job_id: int, mapping: Mapping | None, max_errors: int = 1000
    ) -> DryRunView:
        """Check every row of an uploaded file with ``mapping`` (else the job's) as a real run
        would, storing nothing: the counts and the first ``max_errors`` row errors."""
        job = await self.get(workspace=workspace, job_id=job_id)
        plan, problems = await self._plan(job, mapping)
        if problems:
            return {
                "rows": job["rows_total"],
                "valid": 0,
                "rejected": 0,
                "errors": [],
                "problems": problems,
            }
        source = await self._source(workspace, job["source_id"])
        errors: list[RowErrorView] = []
        rows = rejected = 0
        batches = read_batches(
            self._file(job), job["format"], batch_rows=self._settings.import_batch_rows
        )
        while (prepared := await asyncio.to_thread(_next, batches, rows + 1, plan)) is not None:
            _, refused = await self._collector.normalised(
                source, prepared.messages, received_at=datetime.now(UTC)
            )
            found = [*prepared.errors, *(row_error(r, plan.mapping) for r in refused)]
            rows += prepared.rows
            rejected += len(found)
            errors.extend(error_view(e) for e in found[: max(0, max_errors - len(errors))])
        errors.sort(key=lambda e: e["row"])
        return {
            "rows": rows,
            "valid": rows - rejected,
            "rejected": rejected,
            "errors": errors,
            "problems": [],
        }

    def _file(self, job: ImportView) -> Path:
        path = self._path(job)
        if not path.exists():
            raise Conflict(
                "file_gone",
                f"import {job['id']}'s file is no longer here (its import ended): upload it again",
            )
        return path

    async def start(self, *, workspace: str, job_id: int, mapping: Mapping | None) -> ImportView:
        """Queue an uploaded import with ``mapping`` (else the suggested one); the runner
        takes it at once. 422 ``invalid_mapping`` when the mapping cannot work for the file;
        409 ``import_started`` when it was queued before, ``import_ended`` when it ended
        unstarted (expired, or a deletion request came first: the reason is in the message)."""
        job = await self.get(workspace=workspace, job_id=job_id)
        plan, problems = await self._plan(job, mapping)
        if problems:
            raise Unprocessable("invalid_mapping", "; ".join(problems), problems=problems)
        await self._source(workspace, job["source_id"])
        async with transaction(self._engine) as tx:
            queued = await store.queue_job(tx, job_id, _encoded(plan.mapping))
        if not queued:
            ended = await self.get(workspace=workspace, job_id=job_id)
            if ended["status"] == "failed":
                raise Conflict("import_ended", f"import {job_id} ended: {ended['failure']}")
            raise Conflict("import_started", f"import {job_id} was started already")
        self._wake.set()
        return await self.get(workspace=workspace, job_id=job_id)

    async def run(self, stop: asyncio.Event, health: Health) -> None:
        """Run queued and interrupted imports one at a time until ``stop`` (a supervised
        background task of ``serve``). A job stopped halfway stays ``running`` and resumes
        from its checkpoint on the next start."""
        while not stop.is_set():
            self._wake.clear()  # a job started from now on wakes the wait below
            try:
                await self.sweep()
                async with connected(self._engine) as tx:
                    pending = await store.pending_jobs(tx)
                for job_id in pending:
                    if stop.is_set():
                        return
                    await self._take(job_id, stop)
            except STORAGE_ERRORS as error:  # the database is away: try again next round
                health.failed(error)
                _log.warning("imports: %s", error)
            else:
                health.ok()
            await first_set(stop, self._wake, seconds=_POLL_SECONDS)

    async def sweep(self) -> list[int]:
        """End the uploads not started within ``import_upload_ttl_hours`` and delete the files
        that will not be imported (:func:`files.sweep`); the ids of the uploads ended now."""
        return await files.sweep(
            self._engine, self._dir, hours=self._settings.import_upload_ttl_hours
        )

    async def _take(self, job_id: int, stop: asyncio.Event) -> None:
        """Run ``job_id`` under its lock, unless another runner holds it."""
        async with connected(self._engine) as holder:
            if not await store.try_lock(holder, job_id):
                return
            try:
                async with self._busy:
                    if not self._closing.is_set():
                        await self._run_job(job_id, stop)
            finally:
                await store.unlock(holder, job_id)

    async def _run_job(self, job_id: int, stop: asyncio.Event) -> None:
        async with transaction(self._engine) as tx:
            job = await store.start_job(tx, job_id)
        if job is None:
            return
        path = self._path(job)
        if not path.exists():
            await self._end(job, "the uploaded file is missing from this server's data directory")
            return
        plan, _ = await self._plan(job, None)
        source = await workspaces.find_source(self._engine, job["source_id"])
        if source is None:
            await self._end(job, "its source was deleted")
            return
        try:
            await self._pipeline(job, source, plan, job["checkpoint"], stop)
        except ValueError as error:  # the file turned out unreadable halfway
            await self._end(job, str(error))

    def _stopping(self, stop: asyncio.Event) -> bool:
        return stop.is_set() or self._closing.is_set()

    async def _pipeline(
        self, job: ImportView, source: Source, plan: Plan, done: int, stop: asyncio.Event
    ) -> None:
        """Commit batch after batch, the next one read, mapped and normalised (in the worker
        process) while the current one commits: the reading's, the mapping's and the
        normalisation's Python work runs on the other core, beside the server's event loop and
        PostgreSQL's COPY."""
        ready = await self._ready(job, done + 1, plan, source)
        while ready is not None and not self._stopping(stop):
            following = asyncio.create_task(self._ready(job, done + ready.rows + 1, plan, source))
            try:
                await self._commit(job["id"], source, ready, checkpoint=done + ready.rows)
            except BaseException:
                following.cancel()
                raise
            done += ready.rows
            if self._stopping(stop):
                following.cancel()
                return
            ready = await following
        if ready is None:
            await self._end(job, None)

    async def _ready(
        self, job: ImportView, first: int, plan: Plan, source: Source
    ) -> _Ready | None:
        """The batch from row ``first``, read, mapped and normalised in the worker process
        (while the batch before commits), the PII rules applied; or None at the end."""
        received_at = datetime.now(UTC)
        sent = await asyncio.get_running_loop().run_in_executor(
            self._workers(),
            functools.partial(
                next_packed,
                self._path(job),
                job["format"],
                start=first,
                batch_rows=self._settings.import_batch_rows,
                plan=plan,
                envelope=self._collector.server_envelope(received_at),
            ),
        )
        if sent is None:
            return None
        made = unpacked(sent, received_at=received_at)
        events, rejections = await self._collector.governed(
            source, [*made.events, *made.rejections]
        )
        rejections.sort(key=lambda r: r.index)  # in row order, as the rows are
        errors = [*made.errors, *(row_error(r, plan.mapping) for r in rejections)]
        errors.sort(key=lambda e: e.row)
        job_id = job["id"]
        refused = [rejection(e, job_id, KINDS[plan.kind]) for e in made.errors]
        refused += [
            msgspec.structs.replace(r, reason=f"import {job_id}, row {r.index}: {r.reason}")
            for r in rejections
        ]
        return _Ready(made.rows, errors, events, refused, received_at)

    def _workers(self) -> ProcessPoolExecutor:
        """The process that maps and normalises batches, started at the first import (spawned:
        a fork of a server with threads could copy a held lock); it ends itself when this
        process is gone, killed or not."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=functools.partial(started, os.getpid(), self._worker_start),
            )
        return self._pool

    async def _commit(self, job_id: int, source: Source, ready: _Ready, *, checkpoint: int) -> None:
        result = await self._collector.commit_apart(
            source,
            ready.events,
            ready.rejections,
            received_at=ready.received_at,
            chunk=self._settings.import_commit_rows,
        )
        async with connected(self._engine) as tx:
            await store.advance(
                tx,
                job_id,
                checkpoint=checkpoint,
                imported=result.accepted,
                duplicates=result.duplicates,
                rejected=result.rejected + result.suppressed,
                errors=[error_view(e) for e in ready.errors],
            )

    async def _end(self, job: ImportView, failure: str | None) -> None:
        async with transaction(self._engine) as tx:
            await store.finish(tx, job["id"], failure=failure)
        self._path(job).unlink(missing_ok=True)
        _log.info("import %d %s", job["id"], "failed: " + failure if failure else "done")


class _Ready(NamedTuple):
    """A batch ready to commit: its rows' count, their errors, events and rejections."""

    rows: int
    errors: list[RowError]
    events: list[Event]
    rejections: list[Rejection]
    received_at: datetime


def _survey(path: Path, fmt: FileFormat) -> tuple[list[str], list[dict[str, Any]], int]:
    try:
        names, sample, rows = survey(path, fmt, sample_rows=_SAMPLE_ROWS)
    except ValueError as error:
        raise Unprocessable("unreadable_file", f"cannot read the file as {fmt}: {error}") from None
    if not names:
        raise Unprocessable("unreadable_file", f"the file has no {fmt} rows with columns")
    return names, sample, rows


def _next(batches: Iterator[list[Row]], first: int, plan: Plan) -> Prepared | None:
    batch = next(batches, None)
    return None if batch is None else prepare(batch, first=first, plan=plan)


def _encoded(mapping: Mapping) -> dict[str, Any]:
    encoded: dict[str, Any] = msgspec.to_builtins(mapping)
    return encoded
