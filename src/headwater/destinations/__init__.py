"""Destinations: connector plugins and the one delivery engine that sends to all of them.

What other packages may use: the routing stage (for the processor), the delivery workers (for
``serve`` and ``worker``), and the service functions behind the management API and the CLI.
"""

from headwater.destinations.monitor import dead_letters, errors, health, stats
from headwater.destinations.replay import replay
from headwater.destinations.service import (
    create_destination,
    delete_destination,
    enqueue_event,
    get_destination,
    kinds,
    list_destinations,
    send_test,
    update_destination,
)
from headwater.destinations.stage import RoutingStage
from headwater.destinations.views import (
    DeadLetterView,
    DeliveryErrorView,
    DestinationDeletedView,
    DestinationHealthView,
    DestinationView,
    KindView,
    ReplayedView,
    StatsView,
    TestSendView,
)
from headwater.destinations.workers import DeliveryWorkers

__all__ = [
    "DeadLetterView",
    "DeliveryErrorView",
    "DeliveryWorkers",
    "DestinationDeletedView",
    "DestinationHealthView",
    "DestinationView",
    "KindView",
    "ReplayedView",
    "RoutingStage",
    "StatsView",
    "TestSendView",
    "create_destination",
    "dead_letters",
    "delete_destination",
    "enqueue_event",
    "errors",
    "get_destination",
    "health",
    "kinds",
    "list_destinations",
    "replay",
    "send_test",
    "stats",
    "update_destination",
]
