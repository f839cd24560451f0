"""The tracking API's service: from a request's bytes to durable events in the log.

>>> collector = Collector(engine=engine, log=log, settings=settings, metrics=metrics)
>>> await collector.start()
>>> await collector.collect(TrackingRequest(body=b'{"userId": "u1", "event": "Signed Up"}',
...                                         route_type="track", authorization="Basic ..."))
CommitResult(accepted=1, duplicates=0, rejected=0)

Order of work: decode the body (400 on a bad request), find the source from the write key
(401; a disabled source's request is answered and recorded as dropped), normalise each message
(invalid ones become rejections, or a 400 in strict mode), set aside the messages of
suppressed people (counted, never stored: ``collect/suppressions.py``), then commit through
the group committer and return once durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import pii
from headwater.collect import store
from headwater.collect.committer import CommitResult, GroupCommitter, Submission
from headwater.collect.keys import WriteKeyCache
from headwater.collect.suppressions import Suppressions
from headwater.errors import BadRequest, Unauthorized
from headwater.log import EventLog
from headwater.settings import Settings
from headwater.spec import (
    DecodedRequest,
    Envelope,
    Event,
    Limits,
    Rejection,
    decode_body,
    normalise,
    parse_timestamp,
    payload_object,
)
from headwater.storage import STORAGE_ERRORS, connected
from headwater.supervisor import Health, first_set
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import Source, basic_user, source_for_write_key

__all__ = ["Collector", "TrackingRequest"]

_log = logging.getLogger(__name__)

_YIELD_EVERY = 20


class TrackingRequest(msgspec.Struct, kw_only=True):
    """What the HTTP edge hands over; no HTTP types past this point."""

    body: bytes
    route_type: str | None
    """The message type the route implies, or None for batch routes."""
    gzip: bool = False
    authorization: str | None = None
    query_write_key: str | None = None
    client_ip: str | None = None
    anonymous_id_header: str | None = None
    strict: bool = False


class Collector:
    def __init__(
        self, *, engine: AsyncEngine, log: EventLog, settings: Settings, metrics: Metrics
    ) -> None:
        """``metrics``: where the group commit records (its :class:`CommitMetrics`), and
        the PII rules' actions (:class:`~headwater.pii.PiiMetrics`)."""
        self._engine = engine
        self._settings = settings
        self._limits = Limits(
            max_event_bytes=settings.max_event_bytes,
            max_request_bytes=settings.max_request_bytes,
            max_batch_events=settings.max_batch_events,
        )
        self.keys = WriteKeyCache(
            lambda key: source_for_write_key(engine, key), ttl=settings.write_key_cache_seconds
        )
        self.suppressions = Suppressions(engine)
        self.pii = pii.RuleBook(engine, ttl=settings.pii_rules_cache_seconds)
        self._pii_metrics = metrics.of(pii.PiiMetrics)
        self._committer = GroupCommitter(
            engine,
            log,
            metrics=metrics,
            max_events=settings.commit_max_events,
            writers=settings.commit_writers,
        )

    async def start(self) -> None:
        await self.suppressions.load()
        await self._committer.start()

    async def stop(self) -> None:
        await self._committer.stop()

    @property
    def ready(self) -> bool:
        return self._committer.running

    async def collect(self, request: TrackingRequest) -> CommitResult:
        """Store the request's messages durably; raise an ApiError when the request is refused.

        A request refused with 400 once its source is known is also recorded in that source's
        rejections (see :meth:`refuse`).
        """
        received_at = datetime.now(UTC)
        header_key = basic_user(request.authorization)
        source = await self._source(header_key) if header_key else None
        if source is not None and not source.enabled:
            return await self._drop(source, request, received_at)
        try:
            decoded = decode_body(
                request.body,
                gzip=request.gzip,
                batch=request.route_type is None,
                limits=self._limits,
            )
            if source is None:
                source = await self._source(decoded.write_key or request.query_write_key)
                if not source.enabled:
                    return await self._drop(source, request, received_at)
            return await self._store(source, decoded, request, received_at)
        except BadRequest as error:
            await self.refuse(request, error, source=source, received_at=received_at)
            raise

    async def ingest(
        self,
        source: Source,
        messages: list[dict[str, Any]],
        *,
        failures: Sequence[str] = (),
        client_ip: str | None = None,
    ) -> CommitResult:
        """Store messages made elsewhere (a webhook source's mapping) on the tracking API's
        path: normalised, strict mode, PII rules, suppressions, dedup, group commit; returns
        once durable. Each of ``failures`` (why a message could not be made) is recorded as a
        rejection of the source at index -1. A disabled source's messages are dropped and
        recorded as for the tracking API; a strict source's invalid message raises 400
        ``invalid_events`` and nothing is stored."""
        received_at = datetime.now(UTC)
        request = TrackingRequest(body=b"", route_type=None, client_ip=client_ip)
        if not source.enabled:
            return await self._drop(source, request, received_at)
        decoded = DecodedRequest(items=[(message, 0) for message in messages], has_nul=True)
        extra = [Rejection(index=-1, reason=reason) for reason in failures]
        return await self._store(source, decoded, request, received_at, extra=extra)

    async def _store(
        self,
        source: Source,
        decoded: DecodedRequest,
        request: TrackingRequest,
        received_at: datetime,
        *,
        extra: Sequence[Rejection] = (),
    ) -> CommitResult:
        envelope = self._envelope(decoded, request, source, received_at)
        events, rejections = await self._normalised(
            source,
            enumerate(item for item, _ in decoded.items),
            envelope,
            request.route_type,
            clean_nul=decoded.has_nul,
        )
        if extra:
            rejections = [*extra, *rejections]
        if rejections and (request.strict or source.strict):
            raise BadRequest(
                "invalid_events",
                f"{len(rejections)} of {len(decoded.items)} events are invalid; none was stored",
                errors=[
                    {"index": r.index, "messageId": r.message_id, "reason": r.reason}
                    for r in rejections
                ],
            )
        return await self.commit(source, events, rejections, received_at=received_at)

    async def normalised(
        self, source: Source, messages: Iterable[tuple[int, Any]], *, received_at: datetime
    ) -> tuple[list[Event], list[Rejection]]:
        """Messages as the tracking API would store them in ``source`` (normalised, the PII
        rules applied), each numbered by its index: the events, and the rejections with their
        reasons. Stores nothing (a file import's dry run)."""
        envelope = self.server_envelope(received_at)
        return await self._normalised(source, messages, envelope, None, clean_nul=False)

    async def governed(
        self, source: Source, results: list[Event | Rejection]
    ) -> tuple[list[Event], list[Rejection]]:
        """``results`` of :func:`headwater.spec.normalise` (with :meth:`server_envelope`),
        made elsewhere, with ``source``'s PII rules applied as :meth:`normalised` applies them:
        the events, and the rejections. Together the two make :meth:`normalised`."""
        rules = (await self.pii.current()).collection(source.workspace_id, source.id)
        if rules is None:
            events = [r for r in results if isinstance(r, Event)]
            return events, [r for r in results if isinstance(r, Rejection)]
        tally = pii.Tally()
        governed = [_governed(result, rules, tally) for result in results]
        tally.record(self._pii_metrics, "collection")
        return (
            [r for r in governed if isinstance(r, Event)],
            [r for r in governed if isinstance(r, Rejection)],
        )

    async def _normalised(
        self,
        source: Source,
        messages: Iterable[tuple[int, Any]],
        envelope: Envelope,
        route_type: str | None,
        *,
        clean_nul: bool,
    ) -> tuple[list[Event], list[Rejection]]:
        rules = (await self.pii.current()).collection(source.workspace_id, source.id)
        events: list[Event] = []
        rejections: list[Rejection] = []
        tally = pii.Tally()
        for count, (index, message) in enumerate(messages):
            if count and not count % _YIELD_EVERY:
                # Let the committers' round trips resume: a 2,500-event batch normalised in one
                # go would hold the event loop for tens of milliseconds and stall every commit.
                await asyncio.sleep(0)
            result = normalise(
                message,
                index=index,
                route_type=route_type,
                envelope=envelope,
                clean_nul=clean_nul,
            )
            if rules is not None:
                result = _governed(result, rules, tally)
            (events if isinstance(result, Event) else rejections).append(result)  # type: ignore[arg-type]
        if rules is not None:
            tally.record(self._pii_metrics, "collection")
        return events, rejections

    async def commit(
        self,
        source: Source,
        events: list[Event],
        rejections: list[Rejection],
        *,
        received_at: datetime,
    ) -> CommitResult:
        """Commit what :meth:`normalised` made for ``source`` (the messages of suppressed
        people set aside and counted), as the tracking API does, and return once durable:
        dedup by messageId, the log, the rejections and the counts in one transaction,
        however many events."""
        suppressed: dict[tuple[str, str], int] = {}
        if self.suppressions.active(source.workspace_id):
            events = self._unsuppressed(source.workspace_id, events, suppressed)
        return await self._committer.submit(
            Submission(
                workspace_id=source.workspace_id,
                source_id=source.id,
                received_at=received_at,
                events=events,
                rejections=rejections,
                suppressed=suppressed,
            )
        )

    async def commit_apart(
        self,
        source: Source,
        events: list[Event],
        rejections: list[Rejection],
        *,
        received_at: datetime,
        chunk: int,
    ) -> CommitResult:
        """:meth:`commit` for a file import: ``chunk`` events per transaction, one after the
        other, each apart from the group commit the tracking API shares (its requests never
        queue behind an import, and wait on the log's append lock for one chunk at most).
        Return the sums once all are durable; a failure leaves the chunks before it committed
        (an import reads them again and drops them as duplicates)."""
        suppressed: dict[tuple[str, str], int] = {}
        if self.suppressions.active(source.workspace_id):
            events = self._unsuppressed(source.workspace_id, events, suppressed)
        totals = [0, 0, 0, 0]
        for start in range(0, max(len(events), 1), chunk):
            first = start == 0
            result = await self._committer.commit_apart(
                Submission(
                    workspace_id=source.workspace_id,
                    source_id=source.id,
                    received_at=received_at,
                    events=events[start : start + chunk],
                    rejections=rejections if first else [],
                    suppressed=suppressed if first else {},
                )
            )
            totals[0] += result.accepted
            totals[1] += result.duplicates
            totals[2] += result.rejected
            totals[3] += result.suppressed
        accepted, duplicates, rejected, kept_out = totals
        return CommitResult(
            accepted=accepted, duplicates=duplicates, rejected=rejected, suppressed=kept_out
        )

    def _unsuppressed(
        self, workspace_id: int, events: list[Event], suppressed: dict[tuple[str, str], int]
    ) -> list[Event]:
        """The events whose person is not suppressed; the others counted in ``suppressed`` by
        (type, name), and nothing else of them kept."""
        kept: list[Event] = []
        for event in events:
            if self.suppressions.refused(workspace_id, event.user_id, event.anonymous_id):
                key = (event.type, event.name or "")
                suppressed[key] = suppressed.get(key, 0) + 1
            else:
                kept.append(event)
        return kept

    async def _drop(
        self, source: Source, request: TrackingRequest, received_at: datetime
    ) -> CommitResult:
        """Answer a disabled source's request as accepted, store none of it, and record the drop.

        As Segment does: SDKs keep no batch for a source that is switched off on purpose, and
        the drop stays visible in the source's rejections and counts.
        """
        drop = Rejection(
            index=-1,
            reason="source disabled: the request's messages were dropped",
            payload={"bytes": len(request.body), "gzip": request.gzip},
        )
        return await self._committer.submit(
            Submission(
                workspace_id=source.workspace_id,
                source_id=source.id,
                received_at=received_at,
                events=[],
                rejections=[drop],
            )
        )

    async def refuse(
        self,
        request: TrackingRequest,
        error: BadRequest,
        *,
        source: Source | None = None,
        received_at: datetime | None = None,
    ) -> None:
        """Record a request refused as a whole (400) in its source's rejections.

        SDKs drop a batch answered with 400 (RudderStack's allows 4 MB where the limit here is
        500 KB), so the 400 alone would leave no trace on the Headwater side. The source is
        the one given, else the one of the request's Basic or ``?writeKey=`` key; without a
        known source there is nowhere to record it.
        """
        if source is None:
            key = basic_user(request.authorization) or request.query_write_key
            source = await self.keys.source(key) if key else None
        if source is None:
            return
        await self._committer.submit(
            Submission(
                workspace_id=source.workspace_id,
                source_id=source.id,
                received_at=received_at or datetime.now(UTC),
                events=[],
                rejections=[
                    Rejection(
                        index=-1,
                        reason=f"request refused ({error.code}): {error.message}",
                        payload=(
                            {"bytes": len(request.body), "gzip": request.gzip}
                            if request.body
                            else None
                        ),
                    )
                ],
            )
        )

    async def _source(self, write_key: str | None) -> Source:
        if not write_key:
            raise Unauthorized(
                "missing_write_key",
                "no write key: send it as HTTP Basic user, as writeKey in the body, or ?writeKey=",
            )
        source = await self.keys.source(write_key)
        if source is None:
            raise Unauthorized("invalid_write_key", "unknown write key")
        return source

    def server_envelope(self, received_at: datetime) -> Envelope:
        """The envelope of messages sent from a server, with no batch-level fields: what
        :meth:`normalised` normalises with, for a caller that normalises elsewhere (a file
        import's worker process) and then calls :meth:`governed`."""
        return Envelope(
            received_at=received_at,
            max_message_id_chars=self._settings.max_message_id_chars,
            max_id_chars=self._settings.max_id_chars,
            max_name_chars=self._settings.max_name_chars,
            max_event_bytes=self._settings.max_event_bytes,
        )

    def _envelope(
        self,
        decoded: DecodedRequest,
        request: TrackingRequest,
        source: Source,
        received_at: datetime,
    ) -> Envelope:
        sent_at: datetime | None = None
        if decoded.sent_at:
            try:
                sent_at = parse_timestamp(decoded.sent_at)
            except ValueError as error:
                raise BadRequest("invalid_body", f"sentAt: {error}") from None
        return Envelope(
            received_at=received_at,
            context=decoded.context,
            integrations=decoded.integrations,
            sent_at=sent_at,
            ip=request.client_ip,
            client_source=source.kind == "client",
            anonymous_id_header=request.anonymous_id_header,
            max_message_id_chars=self._settings.max_message_id_chars,
            max_id_chars=self._settings.max_id_chars,
            max_name_chars=self._settings.max_name_chars,
            max_event_bytes=self._settings.max_event_bytes,
        )

    async def purge(self, stop: asyncio.Event, health: Health) -> None:
        """Forget message ids older than the dedup window, and duplicates older than a day
        (:data:`~headwater.collect.store.DUPLICATES_KEPT`), every housekeeping interval, until
        ``stop`` (a supervised background task: the runtime runs it beside the collector). A
        database outage is logged, reported to ``health`` and tried again next round."""
        health.ok()  # nothing to do until the first interval has passed
        interval = self._settings.housekeeping_interval_seconds
        while not await first_set(stop, seconds=interval):
            try:
                async with connected(self._engine) as tx:
                    purged = await store.purge_dedup_keys(
                        tx, older_than=self._settings.dedup_window
                    )
                    await store.purge_duplicates(tx)
                if purged:
                    _log.info("forgot %d message ids older than the dedup window", purged)
            except STORAGE_ERRORS as error:  # the database is away: try next round
                health.failed(error)
                _log.warning("dedup purge failed: %s", error)
            else:
                health.ok()


def _governed(
    result: Event | Rejection, rules: pii.Applicable, tally: pii.Tally
) -> Event | Rejection:
    """``result`` with the source's PII rules applied before anything is stored: an event
    changed, or refused (a rejection with the rule's reason, keeping no value of the message);
    a rejection's excerpt of the message changed the same way. An event's actions are added to
    ``tally`` (a rejection is stored as a rejection either way: its actions are not counted).
    An event's payload made elsewhere comes encoded: the rules read it decoded."""
    payload = payload_object(result) if isinstance(result, Event) else result.payload
    if not isinstance(payload, dict):
        return result
    outcome = pii.apply(rules.rules, payload, salt=rules.salt)
    if isinstance(result, Rejection):
        kept = {"type": result.type, "messageId": result.message_id, "blocked": outcome.blocked}
        return (
            msgspec.structs.replace(result, payload=kept)
            if outcome.blocked is not None
            else msgspec.structs.replace(result, payload=outcome.payload)
        )
    tally.add(outcome)
    if outcome.blocked is not None:
        return Rejection(
            index=result.index,
            reason=f"blocked: {outcome.blocked}",
            type=result.type,
            message_id=result.message_id,
            payload={"type": result.type, "messageId": result.message_id},
        )
    if not outcome.changed:
        return result
    changed = outcome.payload
    return msgspec.structs.replace(
        result,
        payload=changed,
        user_id=changed.get("userId") if result.user_id is not None else None,
        anonymous_id=changed.get("anonymousId") if result.anonymous_id is not None else None,
    )
