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
    received up to ``grace`` after the suppression (the time it takes to reach every
    collector), waiting ``grace`` more for requests in flight: an event of the person accepted
    before the suppression took effect is processed first and erased with the rest, never
    processed after the erase (which would make a new profile of them).
``forward``
    one deletion request per destination that can delete: transient failures are retried
    on later turns with exponential backoff (``FAILED`` after ``max_attempts``), permanent ones
    are ``FAILED`` at once with the destination's error.
``done``
    the subject's status from its parts (``model.target_status``); the ids it held for the
    work are wiped.

The regulation ends when every subject has: its status is ``model.overall`` of theirs.

Each stage that changes data (suppress, unsuppress, erase, a destination's final outcome)
appends its audit entry (actor: the regulation job; the subject as its digest, never an id) in
the transaction that commits its effect, so the trail has an entry for every effect.
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

from headwater import collect, workspaces
from headwater.access import AuditChange, Principal, append_change
from headwater.log import EventLog
from headwater.privacy import model, store
from headwater.privacy.forward import NO_FORWARDING, Eraser, Forwarder
from headwater.privacy.person import Person, person_of
from headwater.privacy.processed import GRACE, processed_through
from headwater.spec import format_timestamp, parse_timestamp
from headwater.storage import STORAGE_ERRORS, Transaction, begin, transaction
from headwater.supervisor import Health
from headwater.workspaces import identifier_hash, identifier_key

__all__ = ["Regulator"]

_log = logging.getLogger(__name__)

_SUPPRESSED_KINDS = ("user_id", "anonymous_id")
"""The identifiers a message is checked by at collection."""

ACTOR = Principal(kind="service_account", label="regulation job")
"""Who the audit trail says did a regulation's work."""


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
        grace: timedelta = GRACE,
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
        self._slugs: dict[int, str] = {}
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
            after = await self._stage(regulation, target, stage, work)
            if isinstance(after, datetime):
                return after
            stage = after
        return None

    async def _stage(
        self, regulation: Any, target: Any, stage: str, work: dict[str, Any]
    ) -> str | datetime:
        """Run one stage and commit it; the next stage, or the time to try again."""
        kind: str = regulation.regulation_type
        position: int = target.position
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
                changed = await self._suppression(tx, regulation, work, add=stage == "suppress")
                after = {"identifiers": changed}
                await self._audit(tx, regulation, target, f"regulation.{stage}", after)
                work["since"] = format_timestamp(datetime.now(UTC))
                following = "erase" if model.erases(kind) else "done"
                await self._save(tx, regulation, position, following, work)
            if self._changed is not None:
                await self._changed(regulation.workspace_id)
            return following
        if stage == "erase":
            return await self._erase_stage(regulation, target, work)
        if stage == "forward":
            return await self._forward_stage(regulation, target, work)
        return await self._done(regulation, position, work)

    async def _suppression(
        self, tx: Transaction, regulation: Any, work: dict[str, Any], *, add: bool
    ) -> int:
        """Add (remove) the person's suppressions; how many identifiers they cover."""
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
        return len(entries)

    async def _erase_stage(
        self, regulation: Any, target: Any, work: dict[str, Any]
    ) -> str | datetime:
        position: int = target.position
        since = parse_timestamp(work["since"]) if "since" in work else regulation.created_at
        # A collector that had not heard of the suppression yet (this process's is told just
        # after the commit, others by NOTIFY) may have accepted the person's events after
        # ``since``: they are erased too, so the wait covers them (``grace`` after ``since``).
        if not await self._caught_up(since + self._grace):
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
            await self._audit(tx, regulation, target, "regulation.erase", {"removed": removed})
            await self._save(tx, regulation, position, following, work, removed=removed)
        return following

    async def _forward_stage(
        self, regulation: Any, target: Any, work: dict[str, Any]
    ) -> str | datetime:
        position: int = target.position
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
                if "status" in values:  # its outcome: once per destination, when final
                    forwarded = {
                        "destination": {"id": row.destination_id, "name": row.name},
                        "status": values["status"],
                        "attempts": values["attempts"],
                        "error": values["error"],
                    }
                    await self._audit(tx, regulation, target, "regulation.forward", forwarded)
        if waits:
            return min(waits)
        async with transaction(self._engine) as tx:
            await self._save(tx, regulation, position, "done", work)
        return "done"

    async def _done(self, regulation: Any, position: int, work: dict[str, Any]) -> str:
        async with transaction(self._engine) as tx:
            rows = await store.destinations_of(tx, regulation.id, position)
            internal = work.get("internal", "FINISHED")
            status = model.target_status(internal, [row.status for row in rows])
            # The ids the work needed go now: what stays is the subject's digest and statuses
            # (its own stores' status apart, shown as Headwater's: ``model.internal_status``).
            await store.update_target(
                tx,
                regulation.id,
                position,
                stage="ended",
                status=status,
                work={"internal": internal},
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

    async def _audit(
        self, tx: Transaction, regulation: Any, target: Any, action: str, after: dict[str, Any]
    ) -> None:
        """One stage's entry in the audit trail, in the stage's transaction: a stage's effect
        and its entry commit together. It names the regulation and the subject by its digest
        (the regulation's own record of it, as ``GET .../regulations/{id}`` shows it), never an
        id. A workspace's slug never changes: it is looked up once per workspace."""
        workspace = self._slugs.get(regulation.workspace_id)
        if workspace is None:
            workspace = await workspaces.workspace_slug(tx, regulation.workspace_id)
            self._slugs[regulation.workspace_id] = workspace
        change = AuditChange(
            workspace=workspace,
            actor=ACTOR,
            action=action,
            resource=f"regulation:{regulation.id}",
            after={
                "regulation": regulation.id,
                "regulationType": regulation.regulation_type,
                "subjectType": regulation.subject_type,
                "subject": model.subject_digest(bytes(target.subject_hash)),
                **after,
            },
        )
        await append_change(tx, change)

    async def _caught_up(self, since: datetime) -> bool:
        """Has the processor processed every event received up to ``since`` (and has
        ``grace`` passed since, for requests that were being committed then)?"""
        if datetime.now(UTC) < since + self._grace:
            return False
        if since > self._through:
            # What one check proves holds for the other subjects of the pass too.
            through = await processed_through(self._log, grace=self._grace)
            self._through = max(self._through, through)
        return since <= self._through

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
