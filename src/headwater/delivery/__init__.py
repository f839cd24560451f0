"""The delivery engine: the queue, a lane per destination (the one retry loop), the workers
that keep lanes in step with the database, and the monitoring reads of what was delivered.

What other packages may use: the workers (for ``serve`` and ``worker``), the queue's enqueue
(for routing and for events queued without routing), dead letters put back in the queue (for
replay), what was delivered about a user (for subject access), and the monitoring reads
behind the management API and the CLI.
"""

from headwater.delivery.monitor import dead_letters, errors, health, stats
from headwater.delivery.queue import Enqueued, enqueue, enqueue_event, enqueue_events, row
from headwater.delivery.service import delete_destination
from headwater.delivery.store import Delivered, delivered_to, replay_dead_letters
from headwater.delivery.workers import DeliveryWorkers

__all__ = [
    "Delivered",
    "DeliveryWorkers",
    "Enqueued",
    "dead_letters",
    "delete_destination",
    "delivered_to",
    "enqueue",
    "enqueue_event",
    "enqueue_events",
    "errors",
    "health",
    "replay_dead_letters",
    "row",
    "stats",
]
