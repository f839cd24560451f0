"""The connector registry: ``kind`` -> connector class, one line per connector.

Add a connector by importing its class and adding one line; the ``kind`` is the stable name
stored with each destination instance.
"""

from __future__ import annotations

from typing import Any

from headwater.destinations.base import Connector
from headwater.destinations.connectors.amplitude import Amplitude
from headwater.destinations.connectors.braze import Braze
from headwater.destinations.connectors.customerio import CustomerIo
from headwater.destinations.connectors.ga4 import GoogleAnalytics4
from headwater.destinations.connectors.hubspot import HubSpot
from headwater.destinations.connectors.intercom import Intercom
from headwater.destinations.connectors.mailchimp import Mailchimp
from headwater.destinations.connectors.mixpanel import Mixpanel
from headwater.destinations.connectors.segment import SegmentForward
from headwater.destinations.connectors.slack import Slack
from headwater.destinations.connectors.warehouse import PostgresWarehouse
from headwater.destinations.connectors.webhook import Webhook

__all__ = ["CONNECTORS"]

CONNECTORS: dict[str, type[Connector[Any]]] = {
    Webhook.kind: Webhook,
    SegmentForward.kind: SegmentForward,
    PostgresWarehouse.kind: PostgresWarehouse,
    Slack.kind: Slack,
    Mixpanel.kind: Mixpanel,
    Amplitude.kind: Amplitude,
    GoogleAnalytics4.kind: GoogleAnalytics4,
    Braze.kind: Braze,
    CustomerIo.kind: CustomerIo,
    HubSpot.kind: HubSpot,
    Intercom.kind: Intercom,
    Mailchimp.kind: Mailchimp,
}
