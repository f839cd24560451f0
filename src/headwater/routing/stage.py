"""The routing stage: the processor's last step, deciding which destinations get each event.

>>> Processor(engine=engine, log=log, settings=settings)   # RoutingStage is in its default list

For each entry and each enabled destination of its workspace that receives from its source,
:func:`~headwater.routing.rules.decide` says send (in what shape) or skip (why). Rows
to send go to the delivery queue and skips are counted per reason, all in the processor's
transaction; so the enqueue commits with the consumer offset, and a redelivered batch enqueues
nothing twice (``ON CONFLICT DO NOTHING`` on ``(destination_id, message_id)``). Sending
happens later, in the delivery workers (:mod:`headwater.delivery`).

Destinations and the PII rules scoped to them (:mod:`headwater.pii`) are reread when they
change: each batch's transaction reads their version (raised by the changing transaction) and
reloads them when it moved, so a destination saved, changed or removed applies to every event
processed after it committed, in every process; and at the latest every ``refresh_seconds``.
An event bound for a destination with PII rules is sent with them applied (hashed, redacted,
dropped fields), or skipped when one blocks it (counted with the filters' skips).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater import delivery, pii
from headwater.batch import Batch
from headwater.connectors import lookup
from headwater.destinations import Destination, Filter, enabled_destinations, routing_version
from headwater.log import LogEntry
from headwater.routing.rules import decide
from headwater.spec import Message, encode_message, message_builtins
from headwater.storage import Transaction, begin
from headwater.telemetry.metrics import Metrics

__all__ = ["Route", "RoutingStage", "route_entries"]


@dataclass(frozen=True)
class Route:
    """A destination, ready for :func:`decide`."""

    destination: Destination
    names: tuple[str, ...]
    categories: tuple[str, ...]
    filters: list[Filter]

    @classmethod
    def of(cls, destination: Destination) -> Route:
        connector = lookup(destination.kind)
        defaults = connector.categories if connector is not None else ()
        categories = destination.categories if destination.categories is not None else defaults
        return cls(
            destination,
            (destination.name, destination.kind),
            tuple(categories),
            destination.parsed_filters(),
        )


def route_entries(
    entries: Sequence[LogEntry],
    routes: dict[int, list[Route]],
    privacy: pii.Snapshot | None = None,
    tally: pii.Tally | None = None,
) -> dict[int, delivery.Enqueued]:
    """What ``entries`` add to each destination's queue, and what they skip (pure), with
    ``privacy``'s rules scoped to destinations applied (their actions added to ``tally``)."""
    batch: dict[int, delivery.Enqueued] = {}
    for entry in entries:
        encoded: msgspec.Raw | None = None  # the message as stored, encoded once per entry
        scoped = privacy is not None and privacy.has_destination_rules(entry.workspace_id)
        for route in routes.get(entry.workspace_id, ()):
            destination = route.destination
            if not destination.receives_from(entry.source_id):
                continue
            decision = decide(
                entry.message, names=route.names, categories=route.categories, filters=route.filters
            )
            found = batch.get(destination.id)
            if found is None:
                found = batch[destination.id] = delivery.Enqueued()
            if decision.event is entry.message:
                if encoded is None:
                    encoded = msgspec.Raw(encode_message(entry.message))
                body: msgspec.Raw | None = encoded
            else:
                body = (
                    None if decision.event is None else msgspec.Raw(encode_message(decision.event))
                )
            if body is not None and scoped and decision.event is not None:
                assert privacy is not None
                rules = privacy.destination(entry.workspace_id, entry.source_id, destination.id)
                if rules is not None:
                    body = _private(decision.event, rules, body, tally)
            if body is not None:
                found.rows.append(
                    delivery.row(
                        destination.id,
                        entry.message_id,
                        entry.user_id or entry.anonymous_id,
                        entry.received_at.isoformat(),
                        body,
                    )
                )
            elif decision.reason == "integrations":
                found.skipped_integrations += 1
            elif decision.reason == "consent":
                found.skipped_consent += 1
            else:
                found.skipped_filters += 1
    return batch


def _private(
    message: Message, rules: pii.Applicable, body: msgspec.Raw, tally: pii.Tally | None
) -> msgspec.Raw | None:
    """``body`` with the destination's PII rules applied; None when one blocks it."""
    outcome = pii.apply(rules.rules, message_builtins(message), salt=rules.salt)
    if tally is not None:
        tally.add(outcome)
    if outcome.blocked is not None:
        return None
    return msgspec.Raw(msgspec.json.encode(outcome.payload)) if outcome.changed else body


class RoutingStage:
    """Enqueue deliveries; see the module docstring. Leaves the batch as it is."""

    def __init__(self, metrics: Metrics, *, refresh_seconds: float = 2.0) -> None:
        """``metrics``: where the destinations' PII rules count their actions
        (:class:`~headwater.pii.PiiMetrics`, stage ``routing``)."""
        self._pii_metrics = metrics.of(pii.PiiMetrics)
        self._refresh = refresh_seconds
        self._routes: dict[int, list[Route]] = {}
        self._privacy: pii.Snapshot | None = None
        self._loaded_at = -float("inf")
        self._version: int | None = None

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        routes = await self._current(connection)
        if not routes:
            return
        tally = pii.Tally()
        deliveries = route_entries(batch.entries, routes, self._privacy, tally)
        if deliveries:
            await delivery.enqueue(await begin(connection), deliveries)
        # Counted once the enqueue is in the transaction; a batch the processor retries after
        # a failed commit counts again (as at-least-once processing does everything).
        tally.record(self._pii_metrics, "routing")

    async def _current(self, connection: AsyncConnection) -> dict[int, list[Route]]:
        tx = await Transaction.of(connection)
        version = await routing_version(tx)
        if version == self._version and time.monotonic() - self._loaded_at < self._refresh:
            return self._routes
        routes: dict[int, list[Route]] = {}
        for destination in await enabled_destinations(tx):
            routes.setdefault(destination.workspace_id, []).append(Route.of(destination))
        privacy = await pii.load(tx)
        if self._privacy is not None:
            privacy.keep(self._privacy)  # what the unchanged rules learned
        self._routes, self._privacy, self._loaded_at = routes, privacy, time.monotonic()
        self._version = version
        return routes
