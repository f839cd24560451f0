"""The delivery engine's one retry loop: a :class:`Lane` per destination, in each worker process.

A lane runs ``concurrency`` sender tasks. Each repeats: claim up to a batch of due rows
(``FOR UPDATE SKIP LOCKED``, leased past the send's timeout), send them through the
connector, and settle the outcome in one transaction (:func:`plan` decides, pure):

- **delivered**: rows deleted, counted, their received-to-delivered latency recorded;
- **retry** (408, 429, 5xx, timeouts, connection errors): each row comes due again after a
  jittered exponential backoff, ``base * 2**(attempts-1)`` capped at ``max``, half of it
  random ("equal jitter"), and never before the vendor's ``Retry-After``; a row whose next try
  would fall past its retry window (counted from when it was queued) goes to the dead letters
  with the last error instead;
- **failed** (other 4xx, events the vendor refuses): dead letters at once.

A lane never waits for another destination: it has its own tasks, HTTP client (connection
pool) and rate limit, and its rows are claimed by destination. A ``Retry-After`` pauses the
whole lane (in this process) for that long. Idle tasks sleep until a
notification says rows were queued for their destination, the next retry comes due, or
``poll_seconds`` pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.connectors import Connector, Outcome, SendResult
from headwater.delivery import queue
from headwater.delivery.queue import LATENCY_BOUNDS_MS
from headwater.destinations import DeliveryOptions, Destination, Redactor
from headwater.spec import InvalidMessage, Message, decode_message
from headwater.storage import STORAGE_ERRORS, connected, unavailable
from headwater.telemetry.metrics import Metrics

__all__ = ["Backoff", "DeliveryMetrics", "Lane", "plan", "shielded"]

_log = logging.getLogger(__name__)


class DeliveryMetrics:
    """The delivery engine's metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "headwater_deliveries_total",
            "Events settled by the delivery engine, by destination id and outcome"
            " (delivered, retried, failed, dead_lettered)",
            ["destination", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "headwater_delivery_latency_seconds",
            "Received (by the tracking API) to delivered (acknowledged by the destination)",
            ["destination"],
            buckets=[bound / 1000 for bound in LATENCY_BOUNDS_MS],
            registry=registry,
        )


_SETTLE_ERRORS: tuple[type[BaseException], ...] = (*STORAGE_ERRORS, asyncpg.InternalClientError)


class Backoff(msgspec.Struct, frozen=True):
    base: float
    cap: float
    window: float

    def delay(self, attempts: int, retry_after: float | None) -> float:
        """Seconds until the next try after ``attempts`` tries (jittered, >= Retry-After)."""
        full = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        jittered = full / 2 + random.random() * full / 2
        return float(max(jittered, retry_after or 0.0))


def plan(
    destination_id: int,
    claimed: Sequence[queue.Claimed],
    result: SendResult,
    backoff: Backoff,
    *,
    now: datetime,
) -> queue.Settlement:
    """What ``result`` does to the ``claimed`` rows (pure)."""
    done = queue.Settlement(destination_id)
    error = result.error or result.outcome.value
    for index, row in enumerate(claimed):
        refused = result.failed.get(index)
        if refused is not None or result.outcome is Outcome.FAILED:
            done.dead.append((row.id, "failed", refused or error))
            done.failed += 1
        elif result.outcome is Outcome.DELIVERED:
            done.delivered.append(row.id)
            done.latencies_ms.append((now - row.received_at).total_seconds() * 1000)
        else:
            delay = backoff.delay(row.attempts, result.retry_after)
            deadline = row.enqueued_at + timedelta(seconds=backoff.window)
            if now + timedelta(seconds=delay) > deadline:
                reason = f"retry window of {backoff.window:g}s exhausted after {row.attempts}"
                done.dead.append((row.id, "expired", f"{reason} attempts; last error: {error}"))
            else:
                done.retry.append((row.id, delay))
    if result.outcome is not Outcome.DELIVERED or result.failed:
        done.error = error
        done.outcome = result.outcome.value
        done.message_ids = [row.message_id for row in claimed]
        if result.exchange is not None:
            done.exchange = msgspec.json.encode(result.exchange)
    return done


async def shielded(redactor: Redactor, kind: str, pending: Awaitable[SendResult]) -> SendResult:
    """``pending``'s result (a connector's send or delete) with the config's secrets masked:
    what is stored and shown. A connector that raises (a bug) gets a retry, not a loss."""
    try:
        return redactor.result(await pending)
    # A connector must not raise; if one does, its work is retried, not lost.
    # The traceback is logged masked: its message may quote the config.
    except Exception as error:  # noqa: BLE001
        _log.error("connector %s raised: %s", kind, redactor.failure(error))
        error_text = redactor.text(f"{type(error).__name__}: {error}")
        return SendResult(outcome=Outcome.RETRY, error=error_text)


class _Pacer:
    """A rate limit: events are spaced ``1 / rate`` seconds apart on average."""

    def __init__(self, rate: float | None) -> None:
        self._rate = rate
        self._next = time.monotonic()

    async def take(self, count: int) -> None:
        if self._rate is None:
            return
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + count / self._rate
        if start > now:
            await asyncio.sleep(start - now)


class Lane:
    """One destination's senders in this process; see the module docstring."""

    def __init__(
        self,
        destination: Destination,
        connector: Connector[Any],
        *,
        engine: AsyncEngine,
        backoff: Backoff,
        lease_seconds: float,
        poll_seconds: float,
        metrics: Metrics,
    ) -> None:
        self.destination = destination
        self._metrics = metrics.of(DeliveryMetrics)
        self.connector = connector
        self.redactor = Redactor.of(connector.config)
        self.options: DeliveryOptions = destination.delivery_options()
        self.wake = asyncio.Event()
        self._engine = engine
        self._backoff = backoff
        self._lease = self.options.timeout_seconds + lease_seconds
        self._poll = poll_seconds
        self._pacer = _Pacer(self.options.rate_limit)
        limit = min(self.options.batch_size or connector.batch_limit(), connector.batch_limit())
        if self.options.rate_limit is not None:
            limit = min(limit, max(1, int(self.options.rate_limit)))
        self.batch = max(1, limit)
        self._label = str(destination.id)
        self._paused_until = 0.0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._sender(), name=f"delivery-{self._label}-{n}")
            for n in range(self.options.concurrency)
        ]

    async def stop(self) -> None:
        """Let in-flight sends finish and settle, then end the tasks."""
        self._stop.set()
        self.wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _sender(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                sent = await self.step()
                failures = 0
            # The top of a worker loop: the claimed rows stay leased and come due again.
            except Exception:  # noqa: BLE001
                failures += 1
                _log.exception("delivery to destination %s failed; retrying", self._label)
                await self._idle(min(5.0, 0.1 * 2**failures))
                continue
            if not sent:
                await self._idle(await self._until_due())

    async def step(self) -> int:
        """Claim, send and settle one batch; return how many rows it held (0: none due, or the
        destination asked to wait with ``Retry-After``)."""
        if self._paused_until > time.monotonic():
            return 0
        async with connected(self._engine) as tx, tx.driver.transaction():
            claimed = await queue.claim(
                tx,
                self.destination.id,
                limit=self.batch,
                lease=self._lease,
                ordered=self.options.ordered,
            )
        if not claimed:
            return 0
        if len(claimed) == self.batch:
            self.wake.set()  # more may be due: let an idle sibling claim too
        await self._pacer.take(len(claimed))
        events: list[Message] = []
        unreadable: dict[int, str] = {}
        for index, row in enumerate(claimed):
            try:
                events.append(decode_message(row.payload))
            except InvalidMessage as error:
                unreadable[index] = f"the queued event is not a Segment message: {error}"
        if unreadable:
            result = await self._send_readable(len(claimed), events, unreadable)
        else:
            result = await self._send(events)
        if result.retry_after:
            # Retry-After speaks for the whole destination: every sender of this lane waits.
            self._paused_until = max(self._paused_until, time.monotonic() + result.retry_after)
        done = plan(self.destination.id, claimed, result, self._backoff, now=datetime.now(UTC))
        await self._settle(done)
        self._count(done)
        return len(claimed)

    async def _settle(self, done: queue.Settlement) -> None:
        """Record a send's outcome, retrying while the database is unavailable: the rows stay
        leased meanwhile, and an outcome given up would send them again when the lease ends
        (delivered twice). Past the lease, or if the lane stops first, that still happens:
        at least once, with the same ``Idempotency-Key``."""
        failures = 0
        while True:
            driver: asyncpg.Connection | None = None
            try:
                async with connected(self._engine) as tx:
                    driver = tx.driver
                    async with driver.transaction():
                        await queue.settle(tx, done)
                return
            # A connection lost mid-commit may surface as any asyncpg error (an internal
            # client error, say): a closed connection says what happened.
            except _SETTLE_ERRORS as error:
                lost = driver is not None and driver.is_closed()
                if not (lost or unavailable(error)) or self._stop.is_set():
                    raise
                failures += 1
                _log.warning(
                    "destination %s: outcome not recorded (%s); retrying", self._label, error
                )
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))

    async def _send_readable(
        self, claimed: int, events: list[Message], unreadable: dict[int, str]
    ) -> SendResult:
        """Send the readable ``events`` of a batch of ``claimed`` rows; the ``unreadable``
        ones (their index in the batch, with the reason) fail for good, so that a row that
        can never be sent does not hold back the others."""
        if not events:
            return SendResult(
                outcome=Outcome.FAILED, error=next(iter(unreadable.values())), failed=unreadable
            )
        positions = [index for index in range(claimed) if index not in unreadable]
        sent = await self._send(events)
        failed = {positions[index]: reason for index, reason in sent.failed.items()}
        return msgspec.structs.replace(sent, failed=failed | unreadable)

    async def _send(self, events: list[Message]) -> SendResult:
        """The connector's result with the config's secrets masked: what is stored and shown."""
        return await shielded(self.redactor, self.destination.kind, self.connector.send(events))

    def _count(self, done: queue.Settlement) -> None:
        label = self._label
        deliveries = self._metrics.deliveries
        if done.delivered:
            deliveries.labels(label, "delivered").inc(len(done.delivered))
            histogram = self._metrics.latency.labels(label)
            for value in done.latencies_ms:
                histogram.observe(value / 1000)
        if done.retry:
            deliveries.labels(label, "retried").inc(len(done.retry))
        if done.failed:
            deliveries.labels(label, "failed").inc(done.failed)
        if done.dead:
            deliveries.labels(label, "dead_lettered").inc(len(done.dead))

    async def _until_due(self) -> float:
        paused = self._paused_until - time.monotonic()
        if paused > 0:
            return paused
        async with connected(self._engine) as tx:
            due = await queue.next_due(tx, self.destination.id)
        if due is None:
            return self._poll
        return min(self._poll, max(0.01, (due - datetime.now(UTC)).total_seconds()))

    async def _idle(self, seconds: float) -> None:
        if self._stop.is_set():
            return
        try:
            await asyncio.wait_for(self.wake.wait(), seconds)
        except TimeoutError:
            return
        finally:
            self.wake.clear()
