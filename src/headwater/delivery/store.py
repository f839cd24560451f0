"""The delivery engine's SQL off the hot path (SQLAlchemy Core text; never commits).

The reads behind the management API (queue depth, stats, errors, dead letters), dead letters
put back in the queue, and housekeeping. The queue's hot statements live in :mod:`.queue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Row, text

from headwater.destinations import QueueView
from headwater.storage import Transaction, holds_any, removed

__all__ = [
    "dead_letters",
    "delivered_to",
    "forget_deliveries",
    "latest_errors",
    "queue_depth",
    "replay_dead_letters",
    "stats",
    "trim_errors",
]


async def queue_depth(connection: Transaction, destination_id: int) -> QueueView:
    """Undelivered rows: pending (not failed yet: waiting, or on its first attempt),
    retrying (an attempt failed; waiting for the next), oldest's age. ``attempts`` counts
    claims, so a row in flight for the first time is pending, not retrying."""
    row = (
        await connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE last_error IS NULL) AS pending,"
                " count(*) FILTER (WHERE last_error IS NOT NULL) AS retrying,"
                " extract(epoch FROM now() - min(received_at)) AS oldest"
                " FROM deliveries WHERE destination_id = :id"
            ),
            {"id": destination_id},
        )
    ).one()
    return {
        "pending": int(row.pending),
        "retrying": int(row.retrying),
        "oldest_seconds": float(row.oldest) if row.oldest is not None else None,
    }


async def stats(
    connection: Transaction,
    destination_id: int,
    *,
    since: datetime,
    until: datetime,
    interval: str,
) -> list[Row[Any]]:
    """Counts and summed latency histograms per ``interval`` (minute, hour or day)."""
    result = await connection.execute(
        text(
            "SELECT date_trunc(:interval, bucket) AS at, sum(enqueued) AS enqueued,"
            " sum(skipped_integrations) AS skipped_integrations,"
            " sum(skipped_consent) AS skipped_consent, sum(skipped_filters) AS skipped_filters,"
            " sum(delivered) AS delivered, sum(retried) AS retried, sum(failed) AS failed,"
            " sum(dead_lettered) AS dead_lettered,"
            " array_agg(array_to_string(latency_ms, ',')) AS latency"
            " FROM delivery_stats WHERE destination_id = :id AND bucket >= :since"
            " AND bucket < :until GROUP BY 1 ORDER BY 1"
        ),
        {"interval": interval, "id": destination_id, "since": since, "until": until},
    )
    return list(result)


async def latest_errors(
    connection: Transaction, destination_id: int, *, limit: int
) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(
            "SELECT id, at, outcome, events, message_ids, error, exchange FROM delivery_errors"
            " WHERE destination_id = :id ORDER BY id DESC LIMIT :limit"
        ),
        {"id": destination_id, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]


async def dead_letters(
    connection: Transaction, destination_id: int, *, limit: int, before: int | None
) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(
            "SELECT id, message_id, received_at, enqueued_at, failed_at, attempts, reason,"
            " error, exchange, payload FROM dead_letters WHERE destination_id = :id"
            " AND (CAST(:before AS bigint) IS NULL OR id < :before) ORDER BY id DESC LIMIT :limit"
        ),
        {"id": destination_id, "limit": limit, "before": before},
    )
    return [dict(row._mapping) for row in rows]


async def replay_dead_letters(
    connection: Transaction, destination_id: int, *, ids: list[int] | None
) -> int:
    """Move dead letters (all, or ``ids``) back into the queue, due now; return how many.

    A message still queued for the destination is not queued twice; its dead letter goes.
    """
    result = await connection.execute(
        text(
            "WITH moved AS (DELETE FROM dead_letters WHERE destination_id = :id"
            " AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids))"
            " RETURNING destination_id, message_id, received_at, payload),"
            " inserted AS (INSERT INTO deliveries (destination_id, message_id, user_key,"
            " received_at, payload) SELECT destination_id, message_id,"
            " coalesce(payload->>'userId', payload->>'anonymousId'), received_at, payload"
            " FROM moved ON CONFLICT (destination_id, message_id) DO NOTHING RETURNING 1)"
            " SELECT count(*) FROM inserted"
        ),
        {"id": destination_id, "ids": ids},
    )
    count = int(result.scalar_one())
    await connection.execute(
        text("SELECT pg_notify('headwater_delivery', :id)"), {"id": str(destination_id)}
    )
    return count


async def trim_errors(connection: Transaction, *, keep: int) -> None:
    """Keep the newest ``keep`` errors of each destination."""
    await connection.execute(
        text(
            "DELETE FROM delivery_errors e USING (SELECT id, row_number() OVER"
            " (PARTITION BY destination_id ORDER BY id DESC) AS n FROM delivery_errors) r"
            " WHERE e.id = r.id AND r.n > :keep"
        ),
        {"keep": keep},
    )


async def alert_counts(connection: Transaction, destination_id: int, *, minutes: int) -> Row[Any]:
    """Delivered, retried and failed sends over the last ``minutes`` minute buckets."""
    result = await connection.execute(
        text(
            "SELECT coalesce(sum(delivered), 0) AS delivered,"
            " coalesce(sum(retried), 0) AS retried, coalesce(sum(failed), 0) AS failed"
            " FROM delivery_stats WHERE destination_id = :id"
            " AND bucket >= date_trunc('minute', now()) - make_interval(mins => :window)"
        ),
        {"id": destination_id, "window": minutes - 1},
    )
    return result.one()


async def purge(connection: Transaction, destination_id: int) -> int:
    """Remove a destination's queue, dead letters, errors, stats and record of whom it received
    events about; return how many
    undelivered rows went."""
    dropped = await connection.execute(
        text("DELETE FROM deliveries WHERE destination_id = :id"), {"id": destination_id}
    )
    for table in ("dead_letters", "delivery_errors", "delivery_stats", "delivered_users"):
        await connection.execute(
            text(f"DELETE FROM {table} WHERE destination_id = :id"), {"id": destination_id}
        )
    return int(dropped.rowcount)


class Delivered(msgspec.Struct, frozen=True, kw_only=True):
    """How many of one user's events one destination received, and when first and last."""

    destination_id: int
    user_key: str
    events: int
    first_at: datetime
    last_at: datetime


async def delivered_to(tx: Transaction, user_keys: Sequence[str]) -> list[Delivered]:
    """What was delivered about ``user_keys`` (userIds and anonymousIds, as the queue keys an
    event: its userId, else its anonymousId), per destination and key, by destination then key.
    The caller keeps the destinations of its workspace."""
    rows = await tx.driver.fetch(
        "SELECT destination_id, user_key, events, first_at, last_at FROM delivered_users"
        " WHERE user_key = ANY($1::text[]) ORDER BY destination_id, user_key",
        sorted(set(user_keys)),
    )
    return [Delivered(**dict(row)) for row in rows]


_FORGET_QUEUED = (
    "DELETE FROM {table} WHERE destination_id = ANY($1::int[])"
    " AND (message_id = ANY($2::text[]) OR " + holds_any("payload", "$3::text[]") + ")"
    " RETURNING message_id"
)

# An error row names its batch's first 20 message ids; its exchange (request and response
# bodies) is searched for the person's values as text, values of 5 characters or more only,
# so that a short id never matches inside someone else's body.
_FORGET_ERRORS = (
    "DELETE FROM delivery_errors WHERE destination_id = ANY($1::int[])"
    " AND (message_ids && $2::text[] OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS v(value)"
    " WHERE length(v.value) >= 5 AND strpos(lower(exchange::text), v.value) > 0))"
)
_FORGET_DELIVERED = (
    "DELETE FROM delivered_users WHERE destination_id = ANY($1::int[])"
    " AND user_key = ANY($2::text[])"
)


async def forget_deliveries(
    connection: Transaction,
    destination_ids: Sequence[int],
    message_ids: Sequence[str],
    values: Sequence[str],
    user_keys: Sequence[str],
) -> dict[str, int]:
    """Remove from the queue, the dead letters and the latest errors of ``destination_ids``
    (one workspace's) the rows of a person: those of ``message_ids`` (their events) and those
    whose payload holds one of ``values`` (their identifiers and profile ids, lower case: the
    audience and journey sends, which have message ids of their own); and the record of what
    was delivered to ``user_keys`` (their user and anonymous ids, as sent). Return rows
    removed per table. A row a lane has claimed is sent anyway (it is in flight), and its
    settling then finds no row (but records its user in ``delivered_users`` again)."""
    counts = {"deliveries": 0, "dead_letters": 0, "delivery_errors": 0, "delivered_users": 0}
    if not destination_ids:
        return counts
    driver = connection.driver
    destinations, values = sorted(set(destination_ids)), sorted(set(values))
    sent = set(message_ids)
    for table in ("deliveries", "dead_letters"):
        rows = await driver.fetch(
            _FORGET_QUEUED.format(table=table), destinations, sorted(sent), values
        )
        counts[table] = len(rows)
        sent |= {row[0] for row in rows}
    counts["delivery_errors"] = removed(
        await driver.execute(_FORGET_ERRORS, destinations, sorted(sent), values)
    )
    counts["delivered_users"] = removed(
        await driver.execute(_FORGET_DELIVERED, destinations, sorted(set(user_keys)))
    )
    return counts
