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

A turn takes the subjects in passes of ``batch`` (in position order) and each pass stage by
stage: every subject at ``resolve`` in one transaction, then every suppression in one (one
``NOTIFY``, one reload of this process's collector), then the erasures ``ERASE_CHUNK`` people
to a transaction (each person erased, counted and audited on their own), and so on. A stage's
fixed costs (a commit, the processor catch-up check, the collectors' reload of the workspace's
suppressions, which grows with their number) are paid once per pass, not once per subject:
that is what lets a thousand deletions end within a minute (docs/performance.md).

Each stage that changes data (suppress, unsuppress, erase, a destination's final outcome)
appends its audit entry (actor: the regulation job; the subject as its digest, never an id) in
the transaction that commits its effect, so the trail has an entry for every effect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

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
from headwater.supervisor import Health, first_set
from headwater.workspaces import identifier_hash, identifier_key

__all__ = ["Regulator"]

_log = logging.getLogger(__name__)

_SUPPRESSED_KINDS = ("user_id", "anonymous_id")
"""The identifiers a message is checked by at collection."""

_ORDER: Final = ("resolve", "unsuppress", "suppress", "erase", "forward", "done")
"""The stages in the order a subject passes them: one sweep over them takes a subject as far
as it can go."""

ERASE_CHUNK: Final = 25
"""People erased in one transaction: fewer commits, while a transaction's row locks stay
few and short."""

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
        batch: int = 1000,
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
                await first_set(stop, seconds=self._poll)

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
            subjects = [_Subject(target) for target in targets]
            if not await self._sweep(regulation, subjects):
                return
            later = [subject.wait for subject in subjects if subject.wait is not None]
            if later:
                async with transaction(self._engine) as tx:
                    await store.release(tx, regulation.id, self.owner, min(later))
                return
        async with transaction(self._engine) as tx:
            statuses = [row.status for row in await store.targets_of(tx, [regulation.id])]
            await store.finish(tx, regulation.id, model.overall(statuses, started=True))

    async def _sweep(self, regulation: Any, subjects: list[_Subject]) -> bool:
        """Take every subject of a pass as far as it goes now, stage by stage: the subjects at
        one stage together, so that a stage's fixed costs (a transaction, the catch-up check,
        the collectors' reload) are paid once per pass rather than per subject. A subject that
        must wait keeps its time (``wait``) and goes no further. False when the lease is lost."""
        for stage in _ORDER:
            group = [s for s in subjects if s.stage == stage and s.wait is None]
            if not group:
                continue
            if not await self._renewed(regulation.id):
                return False
            if stage == "resolve":
                await self._resolve(regulation, group)
            elif stage in ("suppress", "unsuppress"):
                await self._suppression_stage(regulation, group, add=stage == "suppress")
            elif stage == "erase":
                if not await self._erase_stage(regulation, group):
                    return False
            elif stage == "forward":
                if not await self._forward_stage(regulation, group):
                    return False
            else:
                await self._done(regulation, group)
        return True

    async def _renewed(self, regulation_id: str) -> bool:
        """Renew the lease before each stage, erase chunk and subject forwarded (a vendor may
        take its timeout to answer)."""
        async with transaction(self._engine) as tx:
            return await store.renew(tx, regulation_id, self.owner, self._lease)

    async def _resolve(self, regulation: Any, group: list[_Subject]) -> None:
        """Find each subject's whole person; for a type that erases, only once the processor
        has processed every event received before the regulation."""
        kind: str = regulation.regulation_type
        if model.erases(kind) and not await self._caught_up(regulation.created_at):
            for subject in group:
                subject.wait = self._soon()
            return
        following = _after_resolve(kind)
        async with transaction(self._engine) as tx:
            for subject in group:
                person = await person_of(
                    tx,
                    workspace_id=regulation.workspace_id,
                    subject_type=regulation.subject_type,
                    subject_id=subject.work["subject"],
                )
                subject.work["identifiers"] = [list(pair) for pair in person.identifiers]
                subject.work["profiles"] = list(person.profile_ids)
                subject.work["internal"] = "FINISHED"
                await self._save(tx, regulation, subject, following, status="RUNNING")

    async def _suppression_stage(
        self, regulation: Any, group: list[_Subject], *, add: bool
    ) -> None:
        """Add (remove) the people's suppressions in one transaction; the collectors reload
        the workspace's once (this process's at once, others on the one ``NOTIFY``)."""
        following = "erase" if model.erases(regulation.regulation_type) else "done"
        async with transaction(self._engine) as tx:
            key = await identifier_key(tx, regulation.workspace_id)
            entries: list[tuple[str, bytes, bytes]] = []
            for subject in group:
                origin = _subject_hash(key, regulation.subject_type, subject.work["subject"])
                mine = [
                    (kind, identifier_hash(key, kind, value), origin)
                    for kind, value in subject.work["identifiers"]
                    if kind in _SUPPRESSED_KINDS
                ]
                if not add:
                    await collect.unsuppress(
                        tx, regulation.workspace_id, [entry[1] for entry in mine], origin=origin
                    )
                entries += mine
                after = {"identifiers": len(mine)}
                action = "regulation.suppress" if add else "regulation.unsuppress"
                await self._audit(tx, regulation, subject, action, after)
            if add:
                await collect.suppress(
                    tx, regulation.workspace_id, entries, regulation_id=regulation.id
                )
            since = format_timestamp(datetime.now(UTC))
            for subject in group:
                subject.work["since"] = since
                await self._save(tx, regulation, subject, following)
        if self._changed is not None:
            await self._changed(regulation.workspace_id)

    async def _erase_stage(self, regulation: Any, group: list[_Subject]) -> bool:
        """Erase the people whose wait is over, ``ERASE_CHUNK`` to a transaction (each person
        erased, counted and audited on their own); False when the lease is lost."""
        ready: list[_Subject] = []
        for subject in group:
            work = subject.work
            since = parse_timestamp(work["since"]) if "since" in work else regulation.created_at
            # A collector that had not heard of the suppression yet (this process's is told
            # just after the commit, others by NOTIFY) may have accepted the person's events
            # after ``since``: they are erased too, so the wait covers them (``grace`` more).
            if await self._caught_up(since + self._grace):
                ready.append(subject)
            else:
                subject.wait = self._soon()
        following = "forward" if model.forwards(regulation.regulation_type) else "done"
        for start in range(0, len(ready), ERASE_CHUNK):
            if start and not await self._renewed(regulation.id):
                return False
            async with self._engine.begin() as connection:
                tx = await begin(connection)  # the eraser's statements on the driver join it
                for subject in ready[start : start + ERASE_CHUNK]:
                    await self._erase_one(tx, regulation, subject, following)
        return True

    async def _erase_one(
        self, tx: Transaction, regulation: Any, subject: _Subject, following: str
    ) -> None:
        if self._erase is None:
            subject.work["internal"] = "NOT_SUPPORTED"
            subject.work["error"] = "erasing is not wired in this build"
            await self._save(tx, regulation, subject, following)
            return
        removed = await self._erase(tx, _person(regulation.workspace_id, subject.work))
        await self._audit(tx, regulation, subject, "regulation.erase", {"removed": removed})
        await self._save(tx, regulation, subject, following, removed=removed)

    async def _forward_stage(self, regulation: Any, group: list[_Subject]) -> bool:
        """One deletion request per destination that can delete, for each subject: the
        destinations are listed for the whole group at once, and a subject with nothing left
        to send goes on with the others; False when the lease is lost."""
        unlisted = [subject for subject in group if not subject.work.get("listed")]
        if unlisted:
            async with transaction(self._engine) as tx:
                found = await self._forwarder.destinations(tx, regulation.workspace_id)
                positions = [subject.target.position for subject in unlisted]
                await store.insert_destinations(tx, regulation.id, positions, found)
                for subject in unlisted:
                    subject.work["listed"] = True
                    await self._save(tx, regulation, subject, "forward")
        async with transaction(self._engine) as tx:
            rows = _by_position(await store.destinations_of(tx, regulation.id))
        sent: list[_Subject] = []
        for subject in group:
            pending = [row for row in rows[subject.target.position] if row.status in model.PENDING]
            if not pending:
                sent.append(subject)
                continue
            if not await self._renewed(regulation.id):
                return False
            subject.wait = await self._forward_one(regulation, subject, pending)
            if subject.wait is None:
                sent.append(subject)
        if sent:
            async with transaction(self._engine) as tx:
                for subject in sent:
                    await self._save(tx, regulation, subject, "done")
        return True

    async def _forward_one(
        self, regulation: Any, subject: _Subject, pending: list[Any]
    ) -> datetime | None:
        """Send a subject's pending deletion requests that are due; until when it must wait
        for the others (None when every destination has its final outcome)."""
        position: int = subject.target.position
        person = _person(regulation.workspace_id, subject.work)
        waits: list[datetime] = []
        for row in pending:
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
                    await self._audit(tx, regulation, subject, "regulation.forward", forwarded)
        return min(waits) if waits else None

    async def _done(self, regulation: Any, group: list[_Subject]) -> None:
        """Each subject's status from its parts. The ids the work needed go now: what stays
        is the subject's digest and statuses (its own stores' status apart, shown as
        Headwater's: ``model.internal_status``)."""
        async with transaction(self._engine) as tx:
            rows = _by_position(await store.destinations_of(tx, regulation.id))
            for subject in group:
                position: int = subject.target.position
                internal = subject.work.get("internal", "FINISHED")
                status = model.target_status(internal, [row.status for row in rows[position]])
                await store.update_target(
                    tx,
                    regulation.id,
                    position,
                    stage="ended",
                    status=status,
                    work={"internal": internal},
                    error=subject.work.get("error"),
                    finished_at=datetime.now(UTC),
                )
                subject.stage = "ended"

    async def _save(
        self, tx: Transaction, regulation: Any, subject: _Subject, stage: str, **values: Any
    ) -> None:
        """Commit a subject's move to ``stage`` (with ``tx``) and take it there."""
        await store.update_target(
            tx, regulation.id, subject.target.position, stage=stage, work=subject.work, **values
        )
        subject.stage = stage

    async def _audit(
        self,
        tx: Transaction,
        regulation: Any,
        subject: _Subject,
        action: str,
        after: dict[str, Any],
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
                "subject": model.subject_digest(bytes(subject.target.subject_hash)),
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


class _Subject:
    """A target as a pass takes it through its stages: its row, the stage it is at and its
    work (both as last committed, moved on by ``_save``), and when it must wait, until when."""

    __slots__ = ("stage", "target", "wait", "work")

    def __init__(self, target: Any) -> None:
        self.target = target
        self.stage: str = target.stage
        self.work: dict[str, Any] = dict(target.work or {})
        self.wait: datetime | None = None


def _by_position(rows: Sequence[Any]) -> defaultdict[int, list[Any]]:
    """A regulation's destination rows by target position."""
    found: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.position].append(row)
    return found


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
