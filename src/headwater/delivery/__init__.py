"""The delivery engine: the queue, a lane per destination (the one retry loop), the workers
that keep lanes in step with the database, and the monitoring reads of what was delivered.

What other packages may use: the workers (for ``serve`` and ``worker``), the queue's enqueue
(for routing and for events queued without routing), dead letters put back in the queue (for
replay), what was delivered about a user (for subject access), the monitoring reads behind
the management API and the CLI, and the deletions forwarded to destinations (for the privacy
regulation job: :func:`deleting_destinations`, :func:`forward_deletion`, with the connectors'
:class:`DeletionSubject`).
"""

from headwater.connectors import DeletionSubject
from headwater.delivery.deletions import (
    DeletingDestination,
    deleting_destinations,
    forward_deletion,
)
from headwater.delivery.monitor import dead_letters, errors, health, stats
from headwater.delivery.queue import Enqueued, enqueue, enqueue_event, enqueue_events, row
from headwater.delivery.service import delete_destination
from headwater.delivery.store import (
    Delivered,
    delivered_to,
    forget_deliveries,
    replay_dead_letters,
)
from headwater.delivery.tables import DEAD_LETTER_DAYS
from headwater.delivery.workers import DeliveryWorkers

__all__ = [
    "DEAD_LETTER_DAYS",
    "DeletingDestination",
    "DeletionSubject",
    "Delivered",
    "DeliveryWorkers",
    "Enqueued",
    "dead_letters",
    "delete_destination",
    "deleting_destinations",
    "delivered_to",
    "enqueue",
    "enqueue_event",
    "enqueue_events",
    "errors",
    "forget_deliveries",
    "forward_deletion",
    "health",
    "replay_dead_letters",
    "row",
    "stats",
]
