"""The delivery queue's SQL: enqueue, claim, and settle a sent batch (asyncpg, hot path).

Every function takes the caller's :class:`~headwater.storage.Transaction`, runs on its asyncpg
driver and never commits.

- :func:`enqueue` inserts rows keyed by ``(destination_id, message_id)`` with
  ``ON CONFLICT DO NOTHING`` (a redelivered log batch enqueues nothing twice), counts them per
  minute and notifies the delivery workers (delivered by PostgreSQL on commit).
  :func:`enqueue_event` queues one Segment-shaped event for one destination without routing
  (:func:`enqueue_events` many): audiences and journeys deliver through it, by the same engine
  with the same retries.
- :func:`claim` takes due rows with ``FOR UPDATE SKIP LOCKED`` and pushes their
  ``next_attempt_at`` past the send's timeout: the lease. A worker killed mid-send leaves rows
  that come due again when the lease runs out.
- :func:`settle` deletes delivered rows, reschedules retries, moves failures to dead letters,
  records the error with its exchange, and adds the minute's counts and latency histogram.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from headwater.storage import Transaction

__all__ = [
    "CHANNEL",
    "LATENCY_BOUNDS_MS",
    "Claimed",
    "Enqueued",
    "Settlement",
    "claim",
    "enqueue",
    "enqueue_event",
    "enqueue_events",
    "histogram",
    "next_due",
    "row",
    "settle",
]

LATENCY_BOUNDS_MS: tuple[int, ...] = (
    10,
    25,
    50,
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    900_000,
    3_600_000,
)
"""Upper bounds of the received-to-delivered latency histogram kept per minute."""

CHANNEL = "headwater_delivery"

_ENQUEUE = """
WITH rows AS (
    SELECT (r->>0)::int AS destination_id, r->>1 AS message_id, r->>2 AS user_key,
           (r->>3)::timestamptz AS received_at, r->4 AS payload
    FROM jsonb_array_elements($1::text::jsonb) AS r
), inserted AS (
    INSERT INTO deliveries (destination_id, message_id, user_key, received_at, payload)
    SELECT destination_id, message_id, user_key, received_at, payload FROM rows
    ON CONFLICT (destination_id, message_id) DO NOTHING
    RETURNING destination_id
)
SELECT destination_id, count(*)::int FROM inserted GROUP BY destination_id
"""

_COUNT = """
INSERT INTO delivery_stats AS s (destination_id, bucket, enqueued, skipped_integrations,
                                 skipped_consent, skipped_filters)
SELECT d, date_trunc('minute', now()), e, i, c, f
FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS t(d, e, i, c, f)
ON CONFLICT (destination_id, bucket) DO UPDATE SET
    enqueued = s.enqueued + excluded.enqueued,
    skipped_integrations = s.skipped_integrations + excluded.skipped_integrations,
    skipped_consent = s.skipped_consent + excluded.skipped_consent,
    skipped_filters = s.skipped_filters + excluded.skipped_filters
"""

# The rows are picked in a MATERIALIZED CTE, computed once per statement. As a subquery in
# UPDATE ... FROM, PostgreSQL may run the LIMIT ... FOR UPDATE SKIP LOCKED part again while
# the statement runs, and a second run skips the rows the first one locked and updated, so a
# claim of 1 came back with more rows: a webhook set to single events then sent a batch (seen
# in tests/destinations/test_delivery.py under a loaded full run).
_CLAIM = """
WITH picked AS MATERIALIZED (
    SELECT id FROM deliveries WHERE destination_id = $1 AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
)
UPDATE deliveries q
SET next_attempt_at = now() + make_interval(secs => $3), attempts = q.attempts + 1
FROM picked
WHERE q.id = picked.id
RETURNING q.id, q.message_id, q.received_at, q.enqueued_at, q.attempts, q.payload::text
"""

# Per-user order: only each user's oldest undelivered row may go, and only when it is due (a
# row in flight or backing off holds that user's later rows back).
_CLAIM_ORDERED = """
WITH picked AS MATERIALIZED (
    SELECT id FROM deliveries
    WHERE id IN (SELECT DISTINCT ON (user_key) id FROM deliveries WHERE destination_id = $1
                 ORDER BY user_key, id)
      AND next_attempt_at <= now()
    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
)
UPDATE deliveries q
SET next_attempt_at = now() + make_interval(secs => $3), attempts = q.attempts + 1
FROM picked
WHERE q.id = picked.id
RETURNING q.id, q.message_id, q.received_at, q.enqueued_at, q.attempts, q.payload::text
"""

# Delivered rows leave the queue; who they were about is kept in ``delivered_users``.
_DELETE = """
WITH gone AS (
    DELETE FROM deliveries WHERE id = ANY($1::bigint[]) RETURNING destination_id, user_key
)
INSERT INTO delivered_users AS u (user_key, destination_id, events, first_at, last_at)
SELECT user_key, destination_id, count(*), now(), now() FROM gone
WHERE user_key IS NOT NULL GROUP BY user_key, destination_id
ORDER BY user_key, destination_id
ON CONFLICT (user_key, destination_id) DO UPDATE SET
    events = u.events + excluded.events, last_at = excluded.last_at
"""

_RETRY = """
UPDATE deliveries q
SET next_attempt_at = now() + make_interval(secs => t.delay), last_error = $3
FROM unnest($1::bigint[], $2::float8[]) AS t(id, delay)
WHERE q.id = t.id
"""

_DEAD = """
WITH d AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(id, reason, error)),
moved AS (
    DELETE FROM deliveries q USING d WHERE q.id = d.id
    RETURNING q.destination_id, q.message_id, q.received_at, q.enqueued_at, q.attempts,
              q.payload, d.reason, d.error
)
INSERT INTO dead_letters (destination_id, message_id, received_at, enqueued_at, attempts,
                          reason, error, exchange, payload)
SELECT destination_id, message_id, received_at, enqueued_at, attempts, reason, error,
       $4::text::jsonb, payload
FROM moved
"""

_ERROR = """
INSERT INTO delivery_errors (destination_id, outcome, events, message_ids, error, exchange)
VALUES ($1, $2, $3, $4::text[], $5, $6::text::jsonb)
"""

_STATS = """
INSERT INTO delivery_stats AS s (destination_id, bucket, delivered, retried, failed,
                                 dead_lettered, latency_ms)
VALUES ($1, date_trunc('minute', now()), $2, $3, $4, $5, $6::bigint[])
ON CONFLICT (destination_id, bucket) DO UPDATE SET
    delivered = s.delivered + excluded.delivered,
    retried = s.retried + excluded.retried,
    failed = s.failed + excluded.failed,
    dead_lettered = s.dead_lettered + excluded.dead_lettered,
    latency_ms = ARRAY(
        SELECT coalesce(a, 0) + coalesce(b, 0)
        FROM unnest(s.latency_ms, excluded.latency_ms) WITH ORDINALITY AS t(a, b, i)
        ORDER BY i)
"""


@dataclass
class Enqueued:
    """One routing batch's effect on one destination."""

    rows: list[bytes] = field(default_factory=list)
    skipped_integrations: int = 0
    skipped_consent: int = 0
    skipped_filters: int = 0


def row(
    destination_id: int, message_id: str, user_key: str | None, received_at: str, payload: Any
) -> bytes:
    """One queue row, encoded for :func:`enqueue`."""
    return msgspec.json.encode([destination_id, message_id, user_key, received_at, payload])


async def enqueue(tx: Transaction, batch: dict[int, Enqueued]) -> int:
    """Insert every destination's rows and counts; return how many rows were new."""
    rows = [r for enqueued in batch.values() for r in enqueued.rows]
    fresh: dict[int, int] = {}
    if rows:
        result = await tx.driver.fetch(_ENQUEUE, (b"[" + b",".join(rows) + b"]").decode())
        fresh = {r[0]: r[1] for r in result}
    ids = sorted(batch)
    await tx.driver.execute(
        _COUNT,
        ids,
        [fresh.get(i, 0) for i in ids],
        [batch[i].skipped_integrations for i in ids],
        [batch[i].skipped_consent for i in ids],
        [batch[i].skipped_filters for i in ids],
    )
    for destination_id in fresh:
        await tx.driver.execute("SELECT pg_notify($1, $2)", CHANNEL, str(destination_id))
    return sum(fresh.values())


async def enqueue_event(tx: Transaction, *, destination_id: int, event: dict[str, Any]) -> bool:
    """Queue ``event`` (Segment-shaped, with ``messageId`` and ``receivedAt``) for one
    destination in the caller's transaction, without routing; False if that messageId is
    queued for it already."""
    return await enqueue_events(tx, [(destination_id, event)]) == 1


async def enqueue_events(tx: Transaction, events: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """:func:`enqueue_event` of many ``(destination id, event)`` in one statement; how many
    were new."""
    if not events:
        return 0
    batch: dict[int, Enqueued] = {}
    for destination_id, event in events:
        user_key = event.get("userId") or event.get("anonymousId")
        encoded = row(
            destination_id,
            str(event["messageId"]),
            None if user_key is None else str(user_key),
            str(event["receivedAt"]),
            event,
        )
        batch.setdefault(destination_id, Enqueued()).rows.append(encoded)
    return await enqueue(tx, batch)


class Claimed(msgspec.Struct, frozen=True):
    id: int
    message_id: str
    received_at: datetime
    enqueued_at: datetime
    attempts: int
    payload: str


async def claim(
    tx: Transaction, destination_id: int, *, limit: int, lease: float, ordered: bool
) -> list[Claimed]:
    """Lease up to ``limit`` due rows of one destination, oldest first."""
    rows = await tx.driver.fetch(
        _CLAIM_ORDERED if ordered else _CLAIM, destination_id, limit, lease
    )
    claimed = [Claimed(*r) for r in rows]
    claimed.sort(key=lambda c: c.id)
    return claimed


async def next_due(tx: Transaction, destination_id: int) -> datetime | None:
    """When the destination's next row comes due (None: its queue is empty)."""
    value: datetime | None = await tx.driver.fetchval(
        "SELECT min(next_attempt_at) FROM deliveries WHERE destination_id = $1", destination_id
    )
    return value


def histogram(latencies_ms: Iterable[float]) -> list[int]:
    """Counts per :data:`LATENCY_BOUNDS_MS` slot, plus one slot above the last bound."""
    counts = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    for value in latencies_ms:
        counts[bisect.bisect_left(LATENCY_BOUNDS_MS, value)] += 1
    return counts


@dataclass
class Settlement:
    """What a sent batch changes in the queue, and its counts."""

    destination_id: int
    delivered: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    retry: list[tuple[int, float]] = field(default_factory=list)  # (row id, delay in seconds)
    dead: list[tuple[int, str, str]] = field(default_factory=list)  # (row id, reason, error)
    failed: int = 0  # of ``dead``, refused permanently (the rest ran out of retry window)
    error: str | None = None
    outcome: str = ""
    message_ids: Sequence[str] = ()
    exchange: bytes | None = None


async def settle(tx: Transaction, done: Settlement) -> None:
    """Apply ``done`` in the caller's transaction."""
    if done.delivered:
        await tx.driver.execute(_DELETE, done.delivered)
    if done.retry:
        await tx.driver.execute(
            _RETRY, [i for i, _ in done.retry], [d for _, d in done.retry], done.error
        )
    exchange = done.exchange.decode() if done.exchange is not None else None
    if done.dead:
        await tx.driver.execute(
            _DEAD,
            [i for i, _, _ in done.dead],
            [r for _, r, _ in done.dead],
            [e for _, _, e in done.dead],
            exchange,
        )
    if done.error is not None:
        await tx.driver.execute(
            _ERROR,
            done.destination_id,
            done.outcome,
            len(done.message_ids),
            list(done.message_ids[:20]),
            done.error,
            exchange,
        )
    await tx.driver.execute(
        _STATS,
        done.destination_id,
        len(done.delivered),
        len(done.retry),
        done.failed,
        len(done.dead),
        histogram(done.latencies_ms),
    )
