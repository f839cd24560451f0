"""Where a sync's messages go, each way answering which of them failed and why.

- :class:`CollectorTarget` (profiles and events): through the tracking API's own path, the
  :class:`~headwater.collect.Collector` (normalisation, PII rules, suppressions, dedup by
  ``messageId``, the durable group commit), as batches from the sync's source in strict mode:
  a batch with invalid messages comes back with each one's reason, and the others are sent
  again without them.
- :class:`DestinationTarget`: each message normalised as the tracking API would
  (``spec.normalise``) and queued straight into the destination's delivery queue, in one
  transaction per chunk; the delivery engine's retries, dead letters and replay apply.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import Collector, TrackingRequest
from headwater.delivery import enqueue_events
from headwater.errors import BadRequest, Unauthorized
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise, payload_object
from headwater.storage import transaction

__all__ = ["CollectorTarget", "DestinationTarget", "Target", "TargetRefused"]

_BODY_SHARE = 0.8
"""Of ``max_request_bytes``: room for the batch's envelope."""


class TargetRefused(Exception):
    """The target refused the whole sync (its source's write key no longer works): the run
    cannot go on; the message says why."""


class Target(Protocol):
    async def send(self, messages: Sequence[dict[str, Any]]) -> dict[int, str]:
        """Send ``messages``; the index and reason of each that failed (the others are
        durable). Raises when nothing could be sent (a database error)."""
        ...


class CollectorTarget:
    def __init__(self, collector: Collector, *, write_key: str, settings: Settings) -> None:
        self._collector = collector
        self._authorization = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self._max_bytes = int(settings.max_request_bytes * _BODY_SHARE)
        self._max_events = settings.max_batch_events

    async def send(self, messages: Sequence[dict[str, Any]]) -> dict[int, str]:
        failed: dict[int, str] = {}
        # Submitted together, the batches share the collector's group commits.
        await asyncio.gather(*(self._submit(b, failed) for b in self._batches(messages, failed)))
        return failed

    def _batches(
        self, messages: Sequence[dict[str, Any]], failed: dict[int, str]
    ) -> list[list[tuple[int, bytes]]]:
        batches: list[list[tuple[int, bytes]]] = [[]]
        size = 0
        for index, message in enumerate(messages):
            encoded = msgspec.json.encode(message)
            if len(encoded) > self._max_bytes:
                failed[index] = f"the message is {len(encoded)} bytes, over the request limit"
                continue
            if size + len(encoded) > self._max_bytes or len(batches[-1]) >= self._max_events:
                batches.append([])
                size = 0
            batches[-1].append((index, encoded))
            size += len(encoded) + 1
        return [b for b in batches if b]

    async def _submit(self, batch: list[tuple[int, bytes]], failed: dict[int, str]) -> None:
        """Submit in strict mode; on invalid messages, record them and submit the rest."""
        while batch:
            body = b'{"batch":[' + b",".join(encoded for _, encoded in batch) + b"]}"
            request = TrackingRequest(
                body=body, route_type=None, authorization=self._authorization, strict=True
            )
            try:
                await self._collector.collect(request)
                return
            except Unauthorized as error:
                raise TargetRefused(f"the sync's source was refused: {error.message}") from None
            except BadRequest as error:
                refused = _refused(error, len(batch))
                for position, reason in refused.items():
                    failed[batch[position][0]] = reason
                batch = [item for n, item in enumerate(batch) if n not in refused]


def _refused(error: BadRequest, size: int) -> dict[int, str]:
    """The batch positions the collector refused and why; every position when the request
    as a whole was refused."""
    errors = error.details.get("errors") if error.code == "invalid_events" else None
    if not errors:
        return dict.fromkeys(range(size), f"refused ({error.code}): {error.message}")
    return {int(e["index"]): str(e["reason"]) for e in errors}


class DestinationTarget:
    def __init__(self, engine: AsyncEngine, *, destination_id: int, settings: Settings) -> None:
        self._engine = engine
        self._destination_id = destination_id
        self._settings = settings

    async def send(self, messages: Sequence[dict[str, Any]]) -> dict[int, str]:
        envelope = Envelope(
            received_at=datetime.now(UTC),
            max_message_id_chars=self._settings.max_message_id_chars,
            max_id_chars=self._settings.max_id_chars,
            max_name_chars=self._settings.max_name_chars,
            max_event_bytes=self._settings.max_event_bytes,
        )
        failed: dict[int, str] = {}
        queued: list[tuple[int, dict[str, Any]]] = []
        for index, message in enumerate(messages):
            result = normalise(message, index=index, route_type=None, envelope=envelope)
            if isinstance(result, Event):
                queued.append((self._destination_id, payload_object(result)))
            else:
                failed[index] = result.reason
        async with transaction(self._engine) as tx:
            await enqueue_events(tx, queued)
        return failed
