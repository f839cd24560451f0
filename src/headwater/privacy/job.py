"""The regulation job: a supervised background task that carries each regulation out, subject
by subject, and survives crashes.

>>> regulator = Regulator(engine, log, erase=erase, forwarder=forwarder)
>>> supervisor.add("regulations", regulator.run)

Each turn leases one due regulation (``FOR UPDATE SKIP LOCKED``, a lease of ``lease`` that the
job renews as it goes): any number of processes may run the job, one works on a regulation at
a time, and a process killed mid-way leaves a lease that runs out, after which the regulation
is taken over where it stood. A subject (target) moves through stages, each committed with
its effect in one transaction, so a stage is done once or not at all:

``resolve``
    the whole person (``person_of``); for a type that erases, only once the processor has
    processed every event received before the regulation, so that the graph knows them.
``suppress`` / ``unsuppress``
    the person's user ids and anonymous ids, hashed, added to (removed from) collection's
    suppressions; the collector of this process is told at once (others by ``NOTIFY``).
``erase``
    the person removed from every store, once the processor has processed every event
    received before the suppression (plus ``grace``, for requests in flight).
``forward``
    one deletion request per destination that can delete: transient failures are retried
    on later turns with exponential backoff (``FAILED`` after ``max_attempts``), permanent ones
    are ``FAILED`` at once with the destination's error.
``done``
    the subject's status from its parts (``model.target_status``); the ids it held for the
    work are wiped.

The regulation ends when every subject has: its status is ``model.overall`` of theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import collect
from headwater.log import EventLog
from headwater.pipeline import CONSUMER
from headwater.privacy import model, store
from headwater.privacy.forward import NO_FORWARDING, Eraser, Forwarder
from headwater.privacy.person import Person, person_of
from headwater.spec import format_timestamp, parse_timestamp
from headwater.storage import STORAGE_ERRORS, Transaction, begin, transaction
from headwater.supervisor import Health
from headwater.workspaces import identifier_hash, identifier_key

__all__ = ["Regulator"]

_log = logging.getLogger(__name__)

_SUPPRESSED_KINDS = ("user_id", "anonymous_id")
"""The identifiers a message is checked by at collection."""


class Regulator:
    def __init__(
        self,
        engine: AsyncEngine,
        log: EventLog,
        *,
        erase: Eraser | None,
        forwarder: Forwarder = NO_FORWARDING,
        suppressions_changed: Callable[[int], Awaitable[None]] | None = None,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 100,
        grace: timedelta = timedelta(seconds=2),
        retry_base: timedelta = timedelta(seconds=5),
        max_attempts: int = 10,
    ) -> None:
        """``erase``: None where no eraser is wired (deletion then ends ``NOT_SUPPORTED`` for
        Headwater's own stores). ``suppressions_changed(workspace_id)``: this process's
        collector reloads a workspace's suppressions (None without a collector)."""
        self._engine = engine
        self._log = log
        self._erase = erase
        self._forwarder = forwarder
        self._changed = suppressions_changed
        self._poll = poll_seconds
        self._lease = lease
        self._batch = batch
        self._grace = grace
        self._retry_base = retry_base
        self._max_attempts = max_attempts
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._through = datetime.min.replace(tzinfo=UTC)
        """Every event received up to this time is known to be processed (``_caught_up``)."""

    async def run(self, stop: asyncio.Event, health: Health) -> None:
        """Work on due regulations until ``stop`` (see the module)."""
        health.ok()
        while not stop.is_set():
            try:
                worked = await self.turn()
            except STORAGE_ERRORS as error:  # the database is away: the lease runs out
                health.failed(error)
                _log.warning("regulation job: %s", error)
                worked = False
            else:
                health.ok()
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll)

    async def turn(self) -> bool:
        """Lease one due regulation and take it as far as it goes now; whether there was one."""
        async with transaction(self._engine) as tx:
            claimed = await store.claim(tx, self.owner, self._lease)
        if claimed is None:
            return False
        await self._work(claimed)
        return True

    async def _work(self, regulation: Any) -> None:
        while True:
            async with transaction(self._engine) as tx:
                if not await store.renew(tx, regulation.id, self.owner, self._lease):
                    return  # another process took it over
                targets = await store.pending_targets(tx, regulation.id, self._batch)
            if not targets:
                break
            later: list[datetime] = []
            for target in targets:
                if not await self._renewed(regulation.id):
                    return
                when = await self._advance(regulation, target)
                if when is not None:
                    later.append(when)
            if later:
                async with transaction(self._engine) as tx:
                    await store.release(tx, regulation.id, self.owner, min(later))
                return
        async with transaction(self._engine) as tx:
            statuses = [row.status for row in await store.targets_of(tx, [regulation.id])]
            await store.finish(tx, regulation.id, model.overall(statuses, started=True))

    async def _renewed(self, regulation_id: str) -> bool:
        """Renew the lease before each subject (one may wait on a vendor's timeout)."""
        async with transaction(self._engine) as tx:
            return await store.renew(tx, regulation_id, self.owner, self._lease)

    async def _advance(self, regulation: Any, target: Any) -> datetime | None:
        """Take one subject through its stages; when it must wait, until when."""
        stage: str = target.stage
        work: dict[str, Any] = dict(target.work or {})
        while stage != "ended":
            after = await self._stage(regulation, target.position, stage, work)
            if isinstance(after, datetime):
                return after
            stage = after
        return None

    async def _stage(
        self, regulation: Any, position: int, stage: str, work: dict[str, Any]
    ) -> str | datetime:
        """Run one stage and commit it; the next stage, or the time to try again."""
        kind: str = regulation.regulation_type
        if stage == "resolve":
            if model.erases(kind) and not await self._caught_up(regulation.created_at):
                return self._soon()
            async with transaction(self._engine) as tx:
                person = await person_of(
                    tx,
                    workspace_id=regulation.workspace_id,
                    subject_type=regulation.subject_type,
                    subject_id=work["subject"],
                )
                work["identifiers"] = [list(pair) for pair in person.identifiers]
                work["profiles"] = list(person.profile_ids)
                work["internal"] = "FINISHED"
                following = _after_resolve(kind)
                await self._save(tx, regulation, position, following, work, status="RUNNING")
            return following
        if stage in ("suppress", "unsuppress"):
            async with transaction(self._engine) as tx:
                await self._suppression(tx, regulation, work, add=stage == "suppress")
                work["since"] = format_timestamp(datetime.now(UTC))
                following = "erase" if model.erases(kind) else "done"
                await self._save(tx, regulation, position, following, work)
            if self._changed is not None:
                await self._changed(regulation.workspace_id)
            return following
        if stage == "erase":
            return await self._erase_stage(regulation, position, work)
        if stage == "forward":
            return await self._forward_stage(regulation, position, work)
        return await self._done(regulation, position, work)

    async def _suppression(
        self, tx: Transaction, regulation: Any, work: dict[str, Any], *, add: bool
    ) -> None:
        key = await identifier_key(tx, regulation.workspace_id)
        origin = _subject_hash(key, regulation.subject_type, work["subject"])
        entries = [
            (kind, identifier_hash(key, kind, value), origin)
            for kind, value in work["identifiers"]
            if kind in _SUPPRESSED_KINDS
        ]
        if add:
            await collect.suppress(
                tx, regulation.workspace_id, entries, regulation_id=regulation.id
            )
        else:
            await collect.unsuppress(
                tx, regulation.workspace_id, [entry[1] for entry in entries], origin=origin
            )

    async def _erase_stage(
        self, regulation: Any, position: int, work: dict[str, Any]
    ) -> str | datetime:
        since = parse_timestamp(work["since"]) if "since" in work else regulation.created_at
        if not await self._caught_up(since):
            return self._soon()
        following = "forward" if model.forwards(regulation.regulation_type) else "done"
        async with self._engine.begin() as connection:
            tx = await begin(connection)  # the eraser's statements on the driver join it
            if self._erase is None:
                work["internal"] = "NOT_SUPPORTED"
                work["error"] = "erasing is not wired in this build"
                await self._save(tx, regulation, position, following, work)
                return following
            removed = await self._erase(tx, _person(regulation.workspace_id, work))
            await self._save(tx, regulation, position, following, work, removed=removed)
        return following

    async def _forward_stage(
        self, regulation: Any, position: int, work: dict[str, Any]
    ) -> str | datetime:
        if not work.get("listed"):
            async with transaction(self._engine) as tx:
                found = await self._forwarder.destinations(tx, regulation.workspace_id)
                await store.insert_destinations(tx, regulation.id, position, found)
                work["listed"] = True
                await self._save(tx, regulation, position, "forward", work)
        async with transaction(self._engine) as tx:
            rows = await store.destinations_of(tx, regulation.id, position)
        person = _person(regulation.workspace_id, work)
        waits: list[datetime] = []
        for row in rows:
            if row.status not in model.PENDING:
                continue
            if row.next_at > datetime.now(UTC):
                waits.append(row.next_at)
                continue
            outcome = await self._forwarder.forward(
                regulation_id=regulation.id,
                workspace_id=regulation.workspace_id,
                destination_id=row.destination_id,
                person=person,
            )
            values: dict[str, Any] = {"attempts": row.attempts + 1, "error": outcome.error or None}
            if outcome.status == "RETRY" and row.attempts + 1 < self._max_attempts:
                values["next_at"] = datetime.now(UTC) + self._retry_base * 2**row.attempts
                waits.append(values["next_at"])
            else:
                values["status"] = "FAILED" if outcome.status == "RETRY" else outcome.status
                values["finished_at"] = datetime.now(UTC)
            async with transaction(self._engine) as tx:
                await store.update_destination(
                    tx, regulation.id, position, row.destination_id, **values
                )
        if waits:
            return min(waits)
        async with transaction(self._engine) as tx:
            await self._save(tx, regulation, position, "done", work)
        return "done"

    async def _done(self, regulation: Any, position: int, work: dict[str, Any]) -> str:
        async with transaction(self._engine) as tx:
            rows = await store.destinations_of(tx, regulation.id, position)
            status = model.target_status(
                work.get("internal", "FINISHED"), [row.status for row in rows]
            )
            # The ids the work needed go now: what stays is the subject's digest and statuses.
            await store.update_target(
                tx,
                regulation.id,
                position,
                stage="ended",
                status=status,
                work=None,
                error=work.get("error"),
                finished_at=datetime.now(UTC),
            )
        return "ended"

    async def _save(
        self,
        tx: Transaction,
        regulation: Any,
        position: int,
        stage: str,
        work: dict[str, Any],
        **values: Any,
    ) -> None:
        await store.update_target(tx, regulation.id, position, stage=stage, work=work, **values)

    async def _caught_up(self, since: datetime) -> bool:
        """Has the processor processed every event received up to ``since`` (and has
        ``grace`` passed since, for requests that were being committed then)?"""
        if datetime.now(UTC) < since + self._grace:
            return False
        if since <= self._through:
            return True
        checked = datetime.now(UTC)
        oldest: datetime | None = None
        waiting = await self._log.pending(CONSUMER, range(self._log.partitions))
        for partition, after in waiting.items():
            first = await self._log.read(partition, after=after, limit=1)
            if first and first[0].received_at <= since:
                return False
            if first and (oldest is None or first[0].received_at < oldest):
                oldest = first[0].received_at
        # What this check proved holds for any time up to ``through`` as well, and stays true
        # (processed events stay processed; one appended later was received after
        # ``checked - grace``): the other subjects of the pass are not checked again.
        through = checked - self._grace
        if oldest is not None:
            through = min(through, oldest - timedelta(microseconds=1))
        self._through = max(self._through, through)
        return True

    def _soon(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._poll)


def _after_resolve(kind: str) -> str:
    if model.suppresses(kind):
        return "suppress"
    if model.unsuppresses(kind):
        return "unsuppress"
    return "erase" if model.erases(kind) else "done"


def _person(workspace_id: int, work: dict[str, Any]) -> Person:
    return Person(
        workspace_id=workspace_id,
        profile_ids=tuple(work.get("profiles", ())),
        identifiers=tuple((kind, value) for kind, value in work["identifiers"]),
    )


def _subject_hash(key: bytes, subject_type: str, subject_id: str) -> bytes:
    return identifier_hash(key, model.SUBJECT_KINDS[subject_type], subject_id)
