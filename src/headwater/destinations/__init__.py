"""Destinations: the configured instances of connectors in each workspace, with their filters,
delivery options and secrets (sealed at rest, masked in everything shown).

What other packages may use: the service functions behind the management API and the CLI;
for routing and the delivery engine, the instance model (:class:`Destination`, its
:class:`DeliveryOptions` and filters), the reads they refresh from, and the secrets' box and
:class:`Redactor` that open a connector's config and mask it in what a delivery shows.
"""

from headwater.destinations.model import (
    AllOf,
    AllowProperties,
    AnyOf,
    Compare,
    Condition,
    DeliveryOptions,
    Destination,
    DropProperties,
    DropWhen,
    Filter,
    NotOf,
    OnlyWhen,
    Sample,
)
from headwater.destinations.redact import Redactor
from headwater.destinations.secrets import SecretBox, load_box
from headwater.destinations.service import (
    connector_config,
    create_destination,
    enabled_destinations,
    find,
    get_destination,
    kinds,
    list_destinations,
    remove,
    send_test,
    update_destination,
)
from headwater.destinations.views import (
    AlertState,
    AlertView,
    DeadLetterView,
    DeliveryErrorView,
    DeliveryView,
    DestinationDeletedView,
    DestinationHealthView,
    DestinationView,
    KindView,
    PipelineView,
    QueueView,
    ReplayedView,
    StatsBucketView,
    StatsView,
    TestSendView,
)

__all__ = [
    "AlertState",
    "AlertView",
    "AllOf",
    "AllowProperties",
    "AnyOf",
    "Compare",
    "Condition",
    "DeadLetterView",
    "DeliveryErrorView",
    "DeliveryOptions",
    "DeliveryView",
    "Destination",
    "DestinationDeletedView",
    "DestinationHealthView",
    "DestinationView",
    "DropProperties",
    "DropWhen",
    "Filter",
    "KindView",
    "NotOf",
    "OnlyWhen",
    "PipelineView",
    "QueueView",
    "Redactor",
    "ReplayedView",
    "Sample",
    "SecretBox",
    "StatsBucketView",
    "StatsView",
    "TestSendView",
    "connector_config",
    "create_destination",
    "enabled_destinations",
    "find",
    "get_destination",
    "kinds",
    "list_destinations",
    "load_box",
    "remove",
    "send_test",
    "update_destination",
]
