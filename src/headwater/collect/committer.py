"""Group commit: many requests share one transaction, and each is answered after it commits.

Requests hand their accepted events and rejections to :meth:`GroupCommitter.submit`, which
returns once they are durable. Writer tasks take everything pending (up to ``max_events``),
write it in one transaction (dedup keys, log append, rejections, counts) and wake every
submitter. Under load, commits grow instead of queueing, so throughput rises with concurrency
while each request still waits for its own commit.

If a shared commit fails, each submission is retried alone, so one bad request cannot fail
the others; the failing one gets the error. If the database refuses a submission's data itself
(``UNSTORABLE_ERRORS``), each of its events is committed alone, and an event still refused
becomes a rejection with the database's reason, so one event cannot take the others with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import store
from headwater.log import EventLog, LogRecord
from headwater.spec import Event, Rejection, encode_payload
from headwater.storage import STORAGE_ERRORS, UNSTORABLE_ERRORS, Transaction
from headwater.telemetry.metrics import Metrics

__all__ = ["CommitMetrics", "CommitResult", "GroupCommitter", "Submission"]

_log = logging.getLogger(__name__)


class CommitMetrics:
    """The group commit's metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            "headwater_commit_seconds",
            "Time of one group commit",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )
        self.events = Histogram(
            "headwater_commit_events",
            "Messages (events and rejections) per group commit",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2500, 5000),
            registry=registry,
        )
        outcomes = Counter(
            "headwater_events_total",
            "Messages received, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.accepted = outcomes.labels("accepted")
        self.duplicate = outcomes.labels("duplicate")
        self.rejected = outcomes.labels("rejected")
        self.suppressed = outcomes.labels("suppressed")


class Submission(msgspec.Struct, kw_only=True):
    """One request's share of a commit."""

    workspace_id: int
    source_id: int
    received_at: datetime
    events: list[Event]
    rejections: list[Rejection]
    suppressed: dict[tuple[str, str], int] = {}
    """Messages refused because their person is suppressed, by (type, event name): counted,
    never stored."""


class CommitResult(msgspec.Struct, frozen=True, kw_only=True):
    accepted: int
    duplicates: int
    rejected: int
    suppressed: int = 0


class _Pending(msgspec.Struct):
    submission: Submission
    future: asyncio.Future[CommitResult]


class GroupCommitter:
    def __init__(
        self,
        engine: AsyncEngine,
        log: EventLog,
        *,
        metrics: Metrics,
        max_events: int = 5000,
        writers: int = 2,
    ) -> None:
        self._metrics = metrics.of(CommitMetrics)
        self._engine = engine
        self._log = log
        self._max_events = max_events
        self._writers = writers
        self._queue: list[_Pending] = []
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"committer-{i}") for i in range(self._writers)
        ]

    async def stop(self) -> None:
        """Commit what is pending, then stop the writers."""
        self._closing = True
        self._ready.set()
        await asyncio.gather(*self._tasks)
        self._tasks = []

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def submit(self, submission: Submission) -> CommitResult:
        """Return when the submission is committed; raise when it could not be."""
        if self._closing:
            raise RuntimeError("the committer is stopping")
        future: asyncio.Future[CommitResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(submission, future))
        self._ready.set()
        return await future

    async def commit_apart(self, submission: Submission) -> CommitResult:
        """Commit ``submission`` in a transaction of its own, now, outside the queue the writers
        serve (a file import's chunk: requests never queue behind it). Same isolation of bad
        data as :meth:`submit`."""
        if self._closing:
            raise RuntimeError("the committer is stopping")
        pending = _Pending(submission, asyncio.get_running_loop().create_future())
        await self._commit_or_split([pending])
        return await pending.future

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            batch = self._take()
            if not batch:
                if self._closing:
                    return
                self._ready.clear()
                continue
            try:
                await self._commit_or_split(batch)
            # The top loop of a writer: whatever fails, the requests get an answer (an error,
            # which the HTTP edge turns into a response) and the writer lives on.
            except Exception as error:  # noqa: BLE001
                _log.exception("group commit failed unexpectedly")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)

    def _take(self) -> list[_Pending]:
        """Everything pending, up to ``max_events`` (at least one submission)."""
        size = cut = 0
        while cut < len(self._queue) and (cut == 0 or size < self._max_events):
            size += _size(self._queue[cut].submission)
            cut += 1
        taken = self._queue[:cut]
        del self._queue[:cut]
        if not self._queue:
            self._ready.clear()
        return taken

    async def _commit_or_split(self, batch: list[_Pending]) -> None:
        try:
            results = await self._commit([p.submission for p in batch])
        except STORAGE_ERRORS as error:
            if len(batch) == 1:
                await self._settle_alone(batch[0], error)
                return
            _log.warning(
                "group commit of %d requests failed (%s); retrying each alone", len(batch), error
            )
            for pending in batch:
                await self._commit_or_split([pending])
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _settle_alone(self, pending: _Pending, error: BaseException) -> None:
        """A submission that failed alone: isolate its events if the database refused the data,
        else hand the error to its request."""
        if pending.future.done():
            return
        if not isinstance(error, UNSTORABLE_ERRORS):
            pending.future.set_exception(error)
            return
        _log.warning("the database refused a request's data (%s); storing each event alone", error)
        try:
            result = await self._commit_each(pending.submission)
        except STORAGE_ERRORS as again:
            pending.future.set_exception(again)
            return
        pending.future.set_result(result)

    async def _commit_each(self, submission: Submission) -> CommitResult:
        """Commit the events of ``submission`` in halves, down to single events where the
        database refuses a part; record each event refused alone as a rejection.

        Halving keeps a large batch with one bad event to a few dozen transactions while the
        writer, which other requests wait on, is busy with it.
        """
        accepted = duplicates = 0
        refused: list[Rejection] = []
        parts = [submission.events] if submission.events else []
        while parts:
            events = parts.pop()
            part = msgspec.structs.replace(submission, events=events, rejections=[], suppressed={})
            try:
                [result] = await self._commit([part])
            except UNSTORABLE_ERRORS as error:
                if len(events) == 1:
                    refused.append(_refused(events[0], error))
                else:
                    middle = len(events) // 2
                    parts += [events[middle:], events[:middle]]  # the first half goes first
                continue
            accepted += result.accepted
            duplicates += result.duplicates
        rejections = [*submission.rejections, *refused]
        try:
            await self._commit(
                [msgspec.structs.replace(submission, events=[], rejections=rejections)]
            )
        except UNSTORABLE_ERRORS:
            # A payload the database refuses as an event may be refused as a rejection too:
            # the reasons are still recorded.
            bare = [msgspec.structs.replace(r, payload=None) for r in rejections]
            await self._commit([msgspec.structs.replace(submission, events=[], rejections=bare)])
        return CommitResult(
            accepted=accepted,
            duplicates=duplicates,
            rejected=sum(r.count for r in rejections),
            suppressed=sum(submission.suppressed.values()),
        )

    async def _commit(self, submissions: Sequence[Submission]) -> list[CommitResult]:
        started = time.perf_counter()
        keys: set[tuple[int, str]] = set()
        for submission in submissions:
            workspace_id = submission.workspace_id
            keys.update((workspace_id, event.message_id) for event in submission.events)
        now = datetime.now(UTC)
        async with self._engine.connect() as connection:
            tx = await Transaction.of(connection)
            async with tx.driver.transaction():
                seen = await store.claim_message_ids(tx, sorted(keys), now)
                appended, results, counts, duplicates = _split_new(submissions, seen)
                await self._log.append(appended, connection=connection)
                await store.insert_rejections(tx, _rejection_rows(submissions))
                await store.insert_duplicates(tx, duplicates)
                await store.count(tx, counts)
        metrics = self._metrics
        metrics.seconds.observe(time.perf_counter() - started)
        metrics.events.observe(sum(_size(s) for s in submissions))
        for result in results:
            metrics.accepted.inc(result.accepted)
            metrics.duplicate.inc(result.duplicates)
            metrics.rejected.inc(result.rejected)
            metrics.suppressed.inc(result.suppressed)
        return results


def _refused(event: Event, error: BaseException) -> Rejection:
    return Rejection(
        index=event.index,
        reason=f"the database refused to store this event: {error}",
        type=event.type,
        message_id=event.message_id,
        payload=event.payload,
    )


def _size(submission: Submission) -> int:
    return len(submission.events) + len(submission.rejections)


def _split_new(
    submissions: Sequence[Submission], seen: set[tuple[int, str]]
) -> tuple[
    list[LogRecord], list[CommitResult], dict[store.CountKey, list[int]], list[store.DuplicateRow]
]:
    """Keep the first event of each message id not ``seen``; count and record the rest as
    duplicates."""
    appended: list[LogRecord] = []
    results: list[CommitResult] = []
    counts: dict[store.CountKey, list[int]] = {}
    duplicates: list[store.DuplicateRow] = []
    for submission in submissions:
        workspace_id, source_id = submission.workspace_id, submission.source_id
        bucket = store.minute(submission.received_at)
        accepted = 0
        per_name: dict[tuple[str, str], list[int]] = {}
        for event in submission.events:
            key = (workspace_id, event.message_id)
            is_new = key not in seen
            if is_new:
                seen.add(key)
                appended.append(
                    LogRecord(workspace_id=workspace_id, source_id=source_id, event=event)
                )
                accepted += 1
            else:
                duplicates.append(_duplicate_row(workspace_id, source_id, event))
            counter = per_name.get((event.type, event.name or ""))
            if counter is None:
                counter = per_name[(event.type, event.name or "")] = [0, 0, 0, 0]
            counter[0 if is_new else 1] += 1
        for type_and_name, refused in submission.suppressed.items():
            per_name.setdefault(type_and_name, [0, 0, 0, 0])[3] += refused
        for (kind, name), counter in per_name.items():
            total = counts.setdefault((source_id, bucket, kind, name, workspace_id), [0, 0, 0, 0])
            total[0] += counter[0]
            total[1] += counter[1]
            total[3] += counter[3]
        for rejection in submission.rejections:
            count_key = (
                submission.source_id,
                bucket,
                rejection.type or "",
                "",
                submission.workspace_id,
            )
            counts.setdefault(count_key, [0, 0, 0, 0])[2] += rejection.count
        results.append(
            CommitResult(
                accepted=accepted,
                duplicates=len(submission.events) - accepted,
                rejected=sum(r.count for r in submission.rejections),
                suppressed=sum(submission.suppressed.values()),
            )
        )
    return appended, results, counts, duplicates


def _duplicate_row(workspace_id: int, source_id: int, event: Event) -> store.DuplicateRow:
    return (
        workspace_id,
        source_id,
        event.received_at,
        event.type,
        event.name,
        event.message_id,
        encode_payload(event.payload),
    )


def _rejection_rows(
    submissions: Sequence[Submission],
) -> list[tuple[int, int, datetime, int, str | None, str | None, str, str | None]]:
    return [
        (
            s.workspace_id,
            s.source_id,
            s.received_at,
            r.index,
            r.type,
            r.message_id,
            r.reason,
            None if r.payload is None else encode_payload(r.payload),
        )
        for s in submissions
        for r in s.rejections
    ]
