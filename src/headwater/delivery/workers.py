"""Delivery workers: one :class:`~.lanes.Lane` per enabled destination, kept in step with
the database, in every process that delivers (``headwater serve`` and ``headwater worker``).

>>> workers = DeliveryWorkers(engine=engine, settings=settings, metrics=metrics)
>>> await workers.run(stop)

Any number of processes run workers at once: claims skip rows another process holds, so they
share each destination's queue. The refresh loop rereads destinations every
``destinations_refresh_seconds`` (starting, restarting on change and stopping lanes), listens
for the queue's notifications (again after a database restart) to wake the right lane at
once, publishes queue depth and alert state to ``/metrics``, and trims old error records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import __version__
from headwater.connectors import lookup
from headwater.delivery import monitor, queue, store
from headwater.delivery.lanes import Backoff, Lane
from headwater.destinations import (
    Destination,
    SecretBox,
    connector_config,
    enabled_destinations,
    load_box,
)
from headwater.errors import ApiError, HeadwaterError
from headwater.settings import Settings
from headwater.storage import Listener, Transaction, connected, transaction
from headwater.supervisor import Health, first_set
from headwater.telemetry.metrics import Metrics

__all__ = ["DeliveryWorkers", "DestinationMetrics"]

_log = logging.getLogger(__name__)
_OBSERVE_SECONDS = 5.0
_KEEP_ERRORS = 200


class DestinationMetrics:
    """Destinations' state (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queue = Gauge(
            "headwater_delivery_queue",
            "Undelivered events per destination: pending (no attempt failed yet) or retrying",
            ["destination", "state"],
            multiprocess_mode="max",
            registry=registry,
        )
        self.alert = Gauge(
            "headwater_destination_alerting",
            "1 when the destination's success rate is below its alert threshold",
            ["destination"],
            multiprocess_mode="max",
            registry=registry,
        )
        self.success = Gauge(
            "headwater_destination_success_ratio",
            "Share of delivery attempts that succeeded over the destination's alert window",
            ["destination"],
            multiprocess_mode="max",
            registry=registry,
        )
        self.info = Gauge(
            "headwater_destination_info",
            "Destination names and kinds by id (always 1), to join on the destination label",
            ["destination", "name", "kind", "workspace"],
            multiprocess_mode="max",
            registry=registry,
        )


class DeliveryWorkers:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        settings: Settings,
        metrics: Metrics,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._metrics = metrics
        self._recorded = metrics.of(DestinationMetrics)
        self._engine = engine
        self._settings = settings
        self._transport = transport
        self._backoff = Backoff(
            base=settings.delivery_backoff_base_seconds,
            cap=settings.delivery_backoff_max_seconds,
            window=settings.delivery_retry_window_seconds,
        )
        self.lanes: dict[int, Lane] = {}
        self._versions: dict[int, Any] = {}
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._box: SecretBox | None = None
        self._listener = Listener(engine, queue.CHANNEL, self._on_notify)
        self._observed_at = -float("inf")

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Deliver until ``stop`` is set; then let in-flight sends settle. Each refresh that
        fails (the database is away) is logged, reported to ``health`` and tried again."""
        health = health if health is not None else Health("delivery")
        try:
            while not stop.is_set():
                # The top of a worker loop: a failed refresh is logged and tried again.
                try:
                    await self._refresh_all()
                except Exception as error:  # noqa: BLE001
                    health.failed(error)
                    _log.exception("delivery workers: refresh failed; retrying")
                else:
                    health.ok()
                await first_set(stop, seconds=self._settings.destinations_refresh_seconds)
        finally:
            for destination_id in list(self.lanes):
                await self._stop_lane(destination_id)
            await self._listener.close()

    async def _refresh_all(self) -> None:
        """Listen (again, after the database restarted), refresh lanes, publish metrics."""
        if await self._listener.ensure():
            # Notifications sent while nobody listened are lost: every lane looks now.
            for lane in self.lanes.values():
                lane.wake.set()
        await self.refresh()
        if time.monotonic() - self._observed_at > _OBSERVE_SECONDS:
            await self._observe()

    async def refresh(self) -> None:
        """Bring lanes in line with the enabled destinations."""
        async with transaction(self._engine) as connection:
            if self._box is None:
                self._box = await load_box(connection, self._settings.secret_key)
            enabled = await enabled_destinations(connection)
        wanted = {d.id: d for d in enabled}
        for destination_id in list(self.lanes):
            current = wanted.get(destination_id)
            if current is None or current.updated_at != self._versions[destination_id]:
                await self._stop_lane(destination_id)
        for destination in enabled:
            if destination.id not in self.lanes:
                self._start_lane(destination)

    def _start_lane(self, destination: Destination) -> None:
        connector_type = lookup(destination.kind)
        if connector_type is None:
            _log.error("destination %s: no connector %r", destination.id, destination.kind)
            return
        assert self._box is not None
        try:
            config = connector_config(self._box, connector_type, destination)
        except HeadwaterError as error:  # the message names fields, never their values
            _log.error(
                "destination %s: unusable config: %s", destination.id, error, extra=_details(error)
            )
            return
        options = destination.delivery_options()
        client = httpx.AsyncClient(
            timeout=options.timeout_seconds,
            limits=httpx.Limits(max_connections=max(10, options.concurrency * 2)),
            headers={"User-Agent": f"Headwater/{__version__}"},
            transport=self._transport,
        )
        lane = Lane(
            destination,
            connector_type(config, client),
            engine=self._engine,
            backoff=Backoff(
                base=self._backoff.base,
                cap=self._backoff.cap,
                window=options.retry_window_seconds or self._backoff.window,
            ),
            lease_seconds=self._settings.delivery_lease_seconds,
            poll_seconds=self._settings.delivery_poll_seconds,
            metrics=self._metrics,
        )
        self.lanes[destination.id] = lane
        self._versions[destination.id] = destination.updated_at
        self._clients[destination.id] = client
        self._recorded.info.labels(
            str(destination.id), destination.name, destination.kind, str(destination.workspace_id)
        ).set(1)
        lane.start()

    async def _stop_lane(self, destination_id: int) -> None:
        lane = self.lanes.pop(destination_id)
        self._versions.pop(destination_id, None)
        await lane.stop()
        await lane.connector.close()
        await self._clients.pop(destination_id).aclose()

    async def _observe(self) -> None:
        """Publish queue depth, success ratio and alert state of every running lane."""
        self._observed_at = time.monotonic()
        async with connected(self._engine) as connection:
            for destination_id, lane in list(self.lanes.items()):
                await self._observe_one(connection, destination_id, lane)
            await store.trim_errors(connection, keep=_KEEP_ERRORS)
            await connection.connection.commit()

    async def _observe_one(self, connection: Transaction, destination_id: int, lane: Lane) -> None:
        label = str(destination_id)
        depth = await store.queue_depth(connection, destination_id)
        self._recorded.queue.labels(label, "pending").set(depth["pending"])
        self._recorded.queue.labels(label, "retrying").set(depth["retrying"])
        health = await monitor.health_of(connection, lane.destination)
        self._recorded.alert.labels(label).set(1 if health["state"] == "alerting" else 0)
        if health["success_ratio"] is not None:
            self._recorded.success.labels(label).set(health["success_ratio"])

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        text = str(payload)
        lane = self.lanes.get(int(text)) if text.isdigit() else None
        if lane is not None:
            lane.wake.set()


def _details(error: HeadwaterError) -> dict[str, Any]:
    return {"errors": error.details.get("errors")} if isinstance(error, ApiError) else {}
