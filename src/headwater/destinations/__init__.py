"""Destinations: the configured instances of connectors in each workspace, their filters and
delivery options, and their secrets (sealed at rest, masked in everything shown).

What other packages may use: the service functions behind the management API and the CLI.
"""

from headwater.destinations.service import (
    create_destination,
    delete_destination,
    get_destination,
    kinds,
    list_destinations,
    send_test,
    update_destination,
)

__all__ = [
    "create_destination",
    "delete_destination",
    "get_destination",
    "kinds",
    "list_destinations",
    "send_test",
    "update_destination",
]
