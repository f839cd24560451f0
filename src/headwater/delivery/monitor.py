"""Observability per destination: counts and p95 latency over time, health and alert state,
the latest errors with their exchanges, and dead letters.

The figures come from ``delivery_stats`` (one row per destination and minute, written in the
same transactions as the queue changes they count), so they are exact after a crash and cheap
to read over long ranges.

Alert state over the destination's ``alert_window_minutes``: ``no_data`` when nothing was
attempted, ``alerting`` when delivered / (delivered + retried + failed) falls below
``alert_below``, else ``ok``. Every attempt counts, so a destination that needs three tries
per event scores 0.33 even if nothing is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.connectors import lookup
from headwater.delivery import store
from headwater.delivery.queue import LATENCY_BOUNDS_MS
from headwater.destinations import (
    AlertState,
    AlertView,
    DeadLetterView,
    DeliveryErrorView,
    Destination,
    DestinationHealthView,
    PipelineView,
    Redactor,
    StatsBucketView,
    StatsView,
    connector_config,
    find,
    load_box,
)
from headwater.errors import BadRequest, HeadwaterError
from headwater.settings import Settings
from headwater.spec import format_timestamp
from headwater.storage import Transaction, connected

__all__ = ["dead_letters", "errors", "health", "health_of", "percentile", "stats", "totals"]

Interval = Literal["minute", "hour", "day"]


def percentile(histogram: list[int], share: float) -> float | None:
    """The ``share`` quantile (0.95: p95) in ms of a :data:`LATENCY_BOUNDS_MS` histogram,
    interpolated within its slot; None when empty.

    >>> percentile([0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.5)
    17.5
    """
    total = sum(histogram)
    if total == 0:
        return None
    wanted = share * total
    seen = 0
    for slot, count in enumerate(histogram):
        if count and seen + count >= wanted:
            low = LATENCY_BOUNDS_MS[slot - 1] if slot > 0 else 0
            if slot >= len(LATENCY_BOUNDS_MS):
                return float(low)
            high = LATENCY_BOUNDS_MS[slot]
            return low + (high - low) * (wanted - seen) / count
        seen += count
    return float(LATENCY_BOUNDS_MS[-1])


def _summed(parts: list[str | None]) -> list[int]:
    total = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    for part in parts:
        for index, value in enumerate((part or "").split(",")):
            if value and index < len(total):
                total[index] += int(value)
    return total


async def stats(
    engine: AsyncEngine,
    *,
    workspace: str,
    destination_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    interval: Interval = "hour",
) -> StatsView:
    """Counts and p50/p95 received-to-delivered latency per interval (default: last 24 h),
    and the range's totals at each stage (see :class:`~headwater.destinations.PipelineView`)."""
    if interval not in ("minute", "hour", "day"):
        raise BadRequest("invalid_interval", "interval is minute, hour or day")
    until = _aware(until) or datetime.now(UTC)
    since = _aware(since) or until - timedelta(days=1)
    async with connected(engine) as connection:
        await find(connection, workspace, destination_id)
        rows = await store.stats(
            connection, destination_id, since=since, until=until, interval=interval
        )
    series: list[StatsBucketView] = []
    for row in rows:
        histogram = _summed(list(row.latency))
        series.append(
            {
                "at": format_timestamp(row.at),
                "enqueued": int(row.enqueued),
                "delivered": int(row.delivered),
                "retried": int(row.retried),
                "failed": int(row.failed),
                "dead_lettered": int(row.dead_lettered),
                "skipped_integrations": int(row.skipped_integrations),
                "skipped_consent": int(row.skipped_consent),
                "skipped_filters": int(row.skipped_filters),
                "p50_ms": percentile(histogram, 0.5),
                "p95_ms": percentile(histogram, 0.95),
            }
        )
    return {
        "destination": destination_id,
        "interval": interval,
        "since": format_timestamp(since),
        "until": format_timestamp(until),
        "series": series,
        "totals": totals(series),
    }


Stage = Literal[
    "skipped_integrations",
    "skipped_consent",
    "skipped_filters",
    "enqueued",
    "delivered",
    "retried",
    "failed",
    "dead_lettered",
]
_STAGES: tuple[Stage, ...] = get_args(Stage)


def totals(series: list[StatsBucketView]) -> PipelineView:
    """The sum of ``series`` at each stage; received is what was queued or skipped.

    >>> bucket = {"enqueued": 3, "skipped_consent": 1, "skipped_filters": 0,
    ...           "skipped_integrations": 0, "delivered": 2, "retried": 1, "failed": 0,
    ...           "dead_lettered": 0}
    >>> sums = totals([bucket, bucket])
    >>> sums["received"], sums["skipped_consent"], sums["delivered"]
    (8, 2, 4)
    """
    summed = {stage: sum(bucket[stage] for bucket in series) for stage in _STAGES}
    received = sum(summed[stage] for stage in _STAGES[:4])
    return cast(PipelineView, {"received": received, **summed})


async def health_of(connection: Transaction, destination: Destination) -> AlertView:
    """Success ratio and alert state over the destination's alert window."""
    options = destination.delivery_options()
    row = await store.alert_counts(connection, destination.id, minutes=options.alert_window_minutes)
    attempts = int(row.delivered + row.retried + row.failed)
    ratio = row.delivered / attempts if attempts else None
    state: AlertState = (
        "no_data" if ratio is None else "alerting" if ratio < options.alert_below else "ok"
    )
    return {
        "state": state,
        "success_ratio": None if ratio is None else float(ratio),
        "attempts": attempts,
        "threshold": options.alert_below,
        "window_minutes": options.alert_window_minutes,
    }


async def health(
    engine: AsyncEngine, *, workspace: str, destination_id: int
) -> DestinationHealthView:
    """Alert state, success ratio, and the queue: pending, retrying, oldest event's age."""
    async with connected(engine) as connection:
        destination = await find(connection, workspace, destination_id)
        alert = await health_of(connection, destination)
        queue = await store.queue_depth(connection, destination_id)
    return {**alert, "queue": queue, "enabled": destination.enabled}


async def errors(
    engine: AsyncEngine,
    *,
    workspace: str,
    destination_id: int,
    limit: int = 20,
    settings: Settings | None = None,
) -> list[DeliveryErrorView]:
    """The newest failed sends, newest first, each with its request and response.

    Stored masked; with ``settings`` (to open the config's secrets) masked again as read, so
    that records kept from before a secret was known to be one never show it."""
    async with connected(engine) as connection:
        destination = await find(connection, workspace, destination_id)
        found = await store.latest_errors(connection, destination_id, limit=_limit(limit))
        redactor = await _redactor(connection, settings, destination)
    return [redactor.stored(_iso(item)) for item in found]


async def dead_letters(
    engine: AsyncEngine,
    *,
    workspace: str,
    destination_id: int,
    limit: int = 50,
    before: int | None = None,
    settings: Settings | None = None,
) -> list[DeadLetterView]:
    """Dead letters, newest first (page with ``before`` = the last id seen); their error and
    exchange masked as in :func:`errors`, their payload (the event) as it is."""
    async with connected(engine) as connection:
        destination = await find(connection, workspace, destination_id)
        found = await store.dead_letters(
            connection, destination_id, limit=_limit(limit), before=before
        )
        redactor = await _redactor(connection, settings, destination)
    return [
        cast(
            DeadLetterView, {**item, **redactor.stored({k: item[k] for k in ("error", "exchange")})}
        )
        for item in map(_iso, found)
    ]


async def _redactor(
    connection: Transaction, settings: Settings | None, destination: Destination
) -> Redactor:
    """The destination's redactor; one that masks nothing without ``settings`` or when its
    stored config no longer opens (the records were masked when written)."""
    connector = lookup(destination.kind)
    if settings is None or connector is None:
        return Redactor(())
    try:
        box = await load_box(connection, settings.secret_key)
        return Redactor.of(connector_config(box, connector, destination))
    except HeadwaterError:
        return Redactor(())


def _limit(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise BadRequest("invalid_limit", "limit is between 1 and 1000")
    return limit


def _iso(item: dict[str, Any]) -> dict[str, Any]:
    return {k: format_timestamp(v) if isinstance(v, datetime) else v for k, v in item.items()}


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
