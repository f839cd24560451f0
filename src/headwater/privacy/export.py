"""Subject access: an export of everything held about one person, built in the background.

>>> job = await create_export(engine, workspace="shop", subject_type="USER_ID",
...     subject_id="u-1", requested_by="ann@example.com")          # queued
>>> exporter = Exporter(engine, log)                                # runtime.py supervises it
>>> await exporter.turn()                                           # builds the oldest waiting
>>> download = await open_download(engine, workspace="shop", export_id=job["id"],
...     file_format="csv")
>>> async for chunk in download.chunks: ...

What an export holds is said in :mod:`headwater.privacy.sections`. A job is a row of
``privacy_exports``: ``queued``, then ``running`` (claimed by one exporter with ``FOR UPDATE
SKIP LOCKED`` under a lease it renews between pages of events), then ``done`` or ``failed``
with the reason. A job is built once the processor has processed every event received before
it was requested (waiting at most :data:`CATCH_UP`), so that the person's latest events are in
it. A job whose exporter stopped (a restart, a crash) is claimed again once its lease ran out,
up to :data:`ATTEMPTS` times. A finished export's two files (the JSON document
and the ZIP of CSV files) are kept in PostgreSQL, in parts of :data:`PART_BYTES`, for
:data:`KEEP` (then removed; the job row stays, as the record of the request); every server
process and worker reads the same files, and they are backed up and removed with the rest of
the data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Final, Literal

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.log import EventLog
from headwater.privacy import export_store as store
from headwater.privacy.bundle import Bundle
from headwater.privacy.person import SubjectType, person_of
from headwater.privacy.processed import processed_until
from headwater.privacy.sections import write_sections
from headwater.privacy.views import ExportView
from headwater.spec import format_timestamp
from headwater.storage import STORAGE_ERRORS, Transaction, begin, connected
from headwater.supervisor import Health, first_set

__all__ = [
    "ATTEMPTS",
    "KEEP",
    "Download",
    "Exporter",
    "FileFormat",
    "create_export",
    "get_export",
    "list_exports",
    "open_download",
]

logger = logging.getLogger(__name__)

KEEP: Final = timedelta(days=7)
"""How long a finished export's files are kept."""
ATTEMPTS: Final = 3
"""Claims of one job before it is failed (its exporter stopped each time)."""
CATCH_UP: Final = timedelta(minutes=2)
"""How long an export waits for the processor to process the events received before it was
requested; past that it is built without those not processed yet, and says so."""
PART_BYTES: Final = 1 << 20
_PARTS_AT_ONCE: Final = 8
_LEASE: Final = timedelta(minutes=5)
_PURGE_EVERY: Final = 60.0
"""Seconds between two removals of expired files by one exporter."""
_MAX_SUBJECT: Final = 1000
FileFormat = Literal["json", "csv"]


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def view(row: asyncpg.Record) -> ExportView:
    expired = row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC)
    done = row["status"] == "done" and not expired
    return {
        "id": row["id"],
        "subject_type": row["subject_type"],
        "subject_id": row["subject_id"],
        "status": row["status"],
        "reason": row["reason"],
        "requested_by": row["requested_by"],
        "created_at": format_timestamp(row["created_at"]),
        "started_at": _time(row["started_at"]),
        "finished_at": _time(row["finished_at"]),
        "expires_at": _time(row["expires_at"]),
        "expired": expired,
        "counts": None if row["counts"] is None else msgspec.json.decode(row["counts"]),
        "files": {
            "json": row["json_bytes"] if done else None,
            "csv": row["csv_bytes"] if done else None,
        },
        "downloads": row["downloads"],
        "last_downloaded_at": _time(row["last_downloaded_at"]),
    }


def _subject(subject_id: str) -> str:
    if not subject_id.strip() or len(subject_id) > _MAX_SUBJECT:
        raise BadRequest(
            "invalid_subject", f"the subject id must be 1 to {_MAX_SUBJECT} characters, not blank"
        )
    return subject_id


async def create_export(
    engine: AsyncEngine,
    *,
    workspace: str,
    subject_type: SubjectType,
    subject_id: str,
    requested_by: str,
) -> ExportView:
    """Queue an export of the person ``subject_id`` (a userId or an anonymousId) belongs to."""
    subject_id = _subject(subject_id)
    async with engine.begin() as connection:
        tx = await begin(connection)
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.create(
            tx,
            workspace_id=space,
            subject_type=subject_type,
            subject_id=subject_id,
            requested_by=requested_by,
        )
    return view(row)


async def list_exports(
    engine: AsyncEngine, *, workspace: str, before: int | None = None, limit: int = 50
) -> list[ExportView]:
    """The workspace's exports, newest first; ``before``: the last id of the previous page."""
    async with connected(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        rows = await store.list_exports(tx, space, before=before, limit=limit)
    return [view(row) for row in rows]


async def get_export(engine: AsyncEngine, *, workspace: str, export_id: int) -> ExportView:
    """One export (404 ``export_not_found``)."""
    async with connected(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.get(tx, space, export_id)
    if row is None:
        raise NotFound("export_not_found", f"no export {export_id}")
    return view(row)


@dataclass(frozen=True, slots=True)
class Download:
    """A finished export's file: its name, type, size and bytes, a part at a time."""

    filename: str
    media_type: str
    size: int
    chunks: AsyncIterator[bytes]


async def open_download(
    engine: AsyncEngine, *, workspace: str, export_id: int, file_format: FileFormat
) -> Download:
    """One of a finished export's files (and one more download counted): 404
    ``export_not_found``, 409 ``export_not_ready`` (queued, running or failed), 404
    ``export_expired`` once its files were removed."""
    async with engine.begin() as connection:
        tx = await begin(connection)
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.get(tx, space, export_id)
        if row is None:
            raise NotFound("export_not_found", f"no export {export_id}")
        found = view(row)
        if found["expired"]:
            raise NotFound("export_expired", f"export {export_id} expired; create another")
        if found["status"] != "done":
            raise Conflict("export_not_ready", f"export {export_id} is {found['status']}, not done")
        parts = await store.part_count(tx, export_id, file_format)
        await store.downloaded(tx, export_id)
    extension, media = (
        ("json", "application/json")
        if file_format == "json"
        else (
            "zip",
            "application/zip",
        )
    )
    return Download(
        filename=f"subject-export-{export_id}.{extension}",
        media_type=media,
        size=int(found["files"][file_format] or 0),
        chunks=_chunks(engine, export_id, file_format, parts),
    )


async def _chunks(
    engine: AsyncEngine, export_id: int, file_format: str, parts: int
) -> AsyncIterator[bytes]:
    async with connected(engine) as tx:
        for n in range(parts):
            data = await store.part(tx, export_id, file_format, n)
            if data is not None:
                yield data


class _Lost(Exception):
    """The lease of the export being built was taken over by another exporter."""


class Exporter:
    """Builds waiting exports, one at a time, and removes expired files (see the module)."""

    def __init__(
        self,
        engine: AsyncEngine,
        log: EventLog,
        *,
        keep: timedelta = KEEP,
        tick: float = 1.0,
        catch_up: timedelta = CATCH_UP,
    ) -> None:
        self.engine, self.log, self.keep, self.tick = engine, log, keep, tick
        self.catch_up = catch_up
        self._purged_at = -_PURGE_EVERY

    async def turn(self) -> bool:
        """Remove expired files (once a minute); build the oldest waiting export, if any
        (True)."""
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            if time.monotonic() - self._purged_at >= _PURGE_EVERY:
                await store.purge_expired(tx)
                self._purged_at = time.monotonic()
            job = await store.claim(tx, lease=_LEASE)
        if job is None:
            return False
        if job["attempts"] > ATTEMPTS:
            await self._fail(job, f"gave up after {ATTEMPTS} attempts: the exporter stopped")
            return True
        try:
            await self._build(job)
        except _Lost:
            logger.info("export %s was taken over by another exporter", job["id"])
        except STORAGE_ERRORS:
            raise  # the lease runs out and the job is claimed again
        except Exception as error:  # the exporter's top loop: the job fails with the reason
            logger.exception("export %s failed", job["id"])
            await self._fail(job, f"the export could not be built ({type(error).__name__})")
        return True

    async def _build(self, job: asyncpg.Record) -> None:
        space = {w.id: w.slug for w in await workspaces.list_workspaces(self.engine)}
        workspace = space[job["workspace_id"]]
        processed = await self._processed(job)
        async with connected(self.engine) as tx:
            person = await person_of(
                tx,
                workspace_id=job["workspace_id"],
                subject_type=job["subject_type"],
                subject_id=job["subject_id"],
            )
        bundle = Bundle()
        try:
            bundle.section(
                "export",
                {
                    "id": job["id"],
                    "workspace": workspace,
                    "subject_type": job["subject_type"],
                    "subject_id": job["subject_id"],
                    "requested_at": format_timestamp(job["created_at"]),
                    "generated_at": format_timestamp(datetime.now(UTC)),
                    "profile_ids": list(person.profile_ids),
                    "all_events_processed": processed,
                },
            )
            await write_sections(
                bundle,
                self.engine,
                self.log,
                workspace=workspace,
                person=person,
                renew=lambda: self._renew(job),
            )
        except BaseException:
            bundle.discard()
            raise
        document, archive = bundle.close()
        with document, archive:
            await self._store(job, {"json": document, "csv": archive}, bundle.counts)

    async def _processed(self, job: asyncpg.Record) -> bool:
        """Wait, renewing the lease, until the processor has processed every event received
        before the request (only then are they linked to the person), at most ``catch_up``;
        whether it had (the export says so: ``all_events_processed``)."""
        deadline = time.monotonic() + self.catch_up.total_seconds()
        while not await processed_until(self.log, job["created_at"]):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.tick)
            await self._renew(job)
        return True

    async def _renew(self, job: asyncpg.Record) -> None:
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            if not await store.release(tx, job["id"], job["attempts"], lease=_LEASE):
                raise _Lost

    async def _store(
        self, job: asyncpg.Record, files: dict[str, IO[bytes]], counts: dict[str, int]
    ) -> None:
        sizes: dict[str, int] = {}
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            await store.clear_parts(tx, job["id"])
            for file_format, file in files.items():
                sizes[file_format] = await _write(tx, job["id"], file_format, file)
            if not await store.finish(
                tx, job["id"], job["attempts"], counts=counts, sizes=sizes, keep=self.keep
            ):
                raise _Lost

    async def _fail(self, job: asyncpg.Record, reason: str) -> None:
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            await store.fail(tx, job["id"], job["attempts"], reason)

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Build exports until ``stop``. A database outage is logged, reported to ``health``
        and retried."""
        health = health if health is not None else Health("privacy-exports")
        while not stop.is_set():
            built = False
            try:
                built = await self.turn()
            except STORAGE_ERRORS as error:
                health.failed(error)
                logger.warning("privacy exports failed; retrying", exc_info=True)
            else:
                health.ok()
            if not built:
                await first_set(stop, seconds=self.tick)


async def _write(tx: Transaction, export_id: int, file_format: str, file: IO[bytes]) -> int:
    """Write ``file`` as parts; its size."""
    size = n = 0
    while True:
        parts = [chunk for chunk in (file.read(PART_BYTES) for _ in range(_PARTS_AT_ONCE)) if chunk]
        if not parts:
            return size
        await store.write_parts(tx, export_id, file_format, parts, first=n)
        n += len(parts)
        size += sum(len(part) for part in parts)
