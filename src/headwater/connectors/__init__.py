"""The connector registry: ``kind`` -> connector class, one line per connector.

Add a connector by importing its class and adding one line; the ``kind`` is the stable name
stored with each destination instance.
"""

from __future__ import annotations

from typing import Any

from headwater.connectors.amplitude import Amplitude
from headwater.connectors.base import Connector
from headwater.connectors.braze import Braze
from headwater.connectors.customerio import CustomerIo
from headwater.connectors.ga4 import GoogleAnalytics4
from headwater.connectors.hubspot import HubSpot
from headwater.connectors.intercom import Intercom
from headwater.connectors.mailchimp import Mailchimp
from headwater.connectors.mixpanel import Mixpanel
from headwater.connectors.segment import SegmentForward
from headwater.connectors.slack import Slack
from headwater.connectors.warehouse import PostgresWarehouse
from headwater.connectors.webhook import Webhook

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
