"""The read models of destinations, as the management API and the CLI show them.

``TypedDict``s, like every read model (see ``workspaces/views.py``): the services build the
dicts they built before, mypy checks their keys, and the API declares these as its answers.
Times are strings in :func:`~headwater.spec.format_timestamp`'s form. Secrets never appear:
a secret config field reads ``{"set": true}`` (or null when unset).
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

__all__ = [
    "AlertState",
    "AlertView",
    "DeadLetterView",
    "DeliveryErrorView",
    "DeliveryView",
    "DestinationDeletedView",
    "DestinationHealthView",
    "DestinationView",
    "ExchangeView",
    "KindView",
    "PipelineView",
    "QueueView",
    "ReplayedView",
    "StatsBucketView",
    "StatsView",
    "TestSendView",
]


class KindView(TypedDict):
    """A connector of the catalog: what its config takes (a JSON Schema), how many events one
    request carries, the consent categories it needs by default, and whether it forwards a
    person's deletion to the vendor (``deletes``)."""

    kind: str
    title: str
    max_batch: int
    categories: list[str]
    deletes: bool
    config_schema: dict[str, Any]
    secret_fields: list[str]


class DeliveryView(TypedDict):
    """A destination's delivery options with their defaults (see ``model.DeliveryOptions``)."""

    batch_size: int | None
    concurrency: int
    rate_limit: float | None
    ordered: bool
    retry_window_seconds: float | None
    timeout_seconds: float
    alert_below: float
    alert_window_minutes: int


class DestinationView(TypedDict):
    """A destination: ``sources`` null is every source of the workspace, ``categories`` null
    the connector's defaults; ``delivery`` holds the delivery options with their defaults."""

    id: int
    workspace: str
    name: str
    kind: str
    config: dict[str, Any]
    sources: list[int] | None
    filters: list[Any]
    categories: list[str] | None
    delivery: DeliveryView
    enabled: bool
    created_at: str
    updated_at: str


class DestinationDeletedView(TypedDict):
    deleted: int
    undelivered_dropped: int


class ExchangeView(TypedDict):
    """A request and its response (bodies cut to 4 KB, masked); ``error`` is a transport error
    (a timeout, a refused connection) in place of a response."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    error: str | None


class TestSendView(TypedDict):
    """The outcome of one event sent now: ``delivered``, ``retry`` or ``failed``."""

    outcome: Literal["delivered", "retry", "failed"]
    error: str | None
    retry_after: float | None
    failed: dict[int, str]
    exchange: ExchangeView | None


class StatsBucketView(TypedDict):
    at: str
    enqueued: int
    delivered: int
    retried: int
    failed: int
    dead_lettered: int
    skipped_integrations: int
    skipped_consent: int
    skipped_filters: int
    p50_ms: float | None
    p95_ms: float | None


class PipelineView(TypedDict):
    """The events of a time range at each stage of a destination's pipeline.

    ``received``: routed to the destination from its sources (queued plus skipped);
    ``skipped_*``: left out by the event's ``integrations``, by consent, or by the
    destination's filters; ``enqueued``: queued for delivery. Then per send: ``delivered``,
    ``retried`` (a send failed and will be tried again), ``failed`` (refused for good), and
    ``dead_lettered`` (given up on). An event counts in the range it reached that stage."""

    received: int
    skipped_integrations: int
    skipped_consent: int
    skipped_filters: int
    enqueued: int
    delivered: int
    retried: int
    failed: int
    dead_lettered: int


class StatsView(TypedDict):
    """Counts and received-to-delivered latency percentiles per ``interval``, and the range's
    ``totals`` at each stage of the pipeline."""

    destination: int
    interval: Literal["minute", "hour", "day"]
    since: str
    until: str
    series: list[StatsBucketView]
    totals: PipelineView


class QueueView(TypedDict):
    pending: int
    retrying: int
    oldest_seconds: float | None


AlertState = Literal["ok", "alerting", "no_data"]


class AlertView(TypedDict):
    """The alert state (``ok``, ``alerting`` or ``no_data``) over the alert window."""

    state: AlertState
    success_ratio: float | None
    attempts: int
    threshold: float
    window_minutes: int


class DestinationHealthView(AlertView):
    """The alert state, the queue, and whether the destination is enabled."""

    queue: QueueView
    enabled: bool


class DeliveryErrorView(TypedDict):
    """A failed send, with its request and response (masked)."""

    id: int
    at: str
    outcome: str
    events: int
    message_ids: list[str]
    error: str
    exchange: dict[str, Any] | None


class DeadLetterView(TypedDict):
    """An event given up on (``failed``: refused for good; ``expired``: past its retry
    window), with its last error and exchange (masked) and the event as queued."""

    id: int
    message_id: str
    received_at: str
    enqueued_at: str
    failed_at: str
    attempts: int
    reason: Literal["failed", "expired"]
    error: str
    exchange: dict[str, Any] | None
    payload: Any


class ReplayedView(TypedDict):
    """How many events were queued again, and how many were left out (still queued)."""

    queued: int
    skipped: int
