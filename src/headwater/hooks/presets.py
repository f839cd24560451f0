"""Presets: a mapping and the sender's documented signature scheme for widely used senders
(pure). A preset is a starting configuration: creating a source from one copies it, and the
person then edits the rules as any others. Each preset's secret (or SendGrid's public key) is
the one the sender shows in its dashboard.

>>> PRESETS["stripe"].config["auth"]["header"]
'Stripe-Signature'
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

__all__ = ["PRESETS", "Preset", "preset_config"]


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    secret_field: str
    """Which auth field holds what the sender gives you: ``secret`` or ``public_key``."""
    secret_label: str
    config: dict[str, Any]
    docs: str


_STRIPE = {
    "auth": {
        "type": "hmac",
        "header": "Stripe-Signature",
        "algorithm": "sha256",
        "encoding": "hex",
        "signature_key": "v1",
        "timestamp_key": "t",
        "signed": "{timestamp}.{body}",
        "tolerance_seconds": 300,
    },
    "rules": [
        {
            "name": "Stripe event",
            "when": {"path": "body.object", "op": "eq", "value": "event"},
            "type": "track",
            "set": {
                "event": "body.type",
                "userId": {"expr": "coalesce(body.data.object.customer, body.account)"},
                "anonymousId": {"template": "stripe:{body.data.object.id}"},
                "properties": "body.data.object",
                "context.stripe.livemode": "body.livemode",
            },
            "message_id": "body.id",
            "timestamp": {"path": "body.created", "format": "unix_seconds"},
        }
    ],
}

_SHOPIFY = {
    "auth": {
        "type": "hmac",
        "header": "X-Shopify-Hmac-Sha256",
        "algorithm": "sha256",
        "encoding": "base64",
    },
    "match": "first",
    "rules": [
        {
            "name": "Customer created or updated",
            "when": {"path": "headers.x-shopify-topic", "op": "starts_with", "value": "customers/"},
            "type": "identify",
            "set": {
                "userId": {"expr": "str(body.id)"},
                "traits.email": "body.email",
                "traits.firstName": "body.first_name",
                "traits.lastName": "body.last_name",
                "traits.phone": "body.phone",
            },
            "message_id": {"template": "shopify:{headers.x-shopify-webhook-id}"},
            "timestamp": {"path": "body.updated_at", "format": "iso8601"},
        },
        {
            "name": "Other topics",
            "type": "track",
            "set": {
                "event": "headers.x-shopify-topic",
                "userId": {"expr": "body.customer.id != null ? str(body.customer.id) : null"},
                "anonymousId": {"template": "shopify:{headers.x-shopify-shop-domain}"},
                "properties": "body",
            },
            "message_id": {"template": "shopify:{headers.x-shopify-webhook-id}"},
        },
    ],
}

_HUBSPOT = {
    "auth": {
        "type": "hmac",
        "header": "X-HubSpot-Signature-v3",
        "algorithm": "sha256",
        "encoding": "base64",
        "signed": "{method}{url_decoded}{body}{timestamp}",
        "timestamp_header": "X-HubSpot-Request-Timestamp",
        "timestamp_format": "unix_ms",
        "tolerance_seconds": 300,
    },
    "rules": [
        {
            "name": "Each HubSpot event",
            "each": "body",
            "type": "track",
            "set": {
                "event": "item.subscriptionType",
                "userId": {"template": "hubspot:{item.objectId}"},
                "properties": "item",
            },
            "message_id": {"template": "hubspot:{item.eventId}"},
            "timestamp": {"path": "item.occurredAt", "format": "unix_ms"},
        }
    ],
}

_TYPEFORM = {
    "auth": {
        "type": "hmac",
        "header": "Typeform-Signature",
        "algorithm": "sha256",
        "encoding": "base64",
        "prefix": "sha256=",
    },
    "rules": [
        {
            "name": "Form response",
            "when": {"path": "body.event_type", "op": "eq", "value": "form_response"},
            "type": "track",
            "set": {
                "event": {"const": "Form Submitted"},
                "anonymousId": "body.form_response.token",
                "userId": "body.form_response.hidden.user_id",
                "properties.formId": "body.form_response.form_id",
                "properties.formTitle": "body.form_response.definition.title",
                "properties.answers": "body.form_response.answers",
                "properties.hidden": "body.form_response.hidden",
            },
            "message_id": "body.event_id",
            "timestamp": {"path": "body.form_response.submitted_at", "format": "iso8601"},
        }
    ],
}

_CALENDLY = {
    "auth": {
        "type": "hmac",
        "header": "Calendly-Webhook-Signature",
        "algorithm": "sha256",
        "encoding": "hex",
        "signature_key": "v1",
        "timestamp_key": "t",
        "signed": "{timestamp}.{body}",
        "tolerance_seconds": 180,
    },
    "rules": [
        {
            "name": "Invitee event",
            "when": {"path": "body.event", "op": "starts_with", "value": "invitee."},
            "type": "track",
            "set": {
                "event": {
                    "expr": 'body.event == "invitee.created" ? "Meeting Scheduled"'
                    ' : body.event == "invitee.canceled" ? "Meeting Canceled" : body.event'
                },
                "userId": "body.payload.email",
                "context.traits.email": "body.payload.email",
                "context.traits.name": "body.payload.name",
                "properties.invitee": "body.payload.uri",
                "properties.scheduledEvent": "body.payload.scheduled_event",
                "properties.timezone": "body.payload.timezone",
            },
            "message_id": {"template": "calendly:{body.event}:{body.payload.uri}"},
            "timestamp": {"path": "body.created_at", "format": "iso8601"},
        }
    ],
}

_TWILIO = {
    "auth": {
        "type": "hmac",
        "header": "X-Twilio-Signature",
        "algorithm": "sha1",
        "encoding": "base64",
        "signed": "{url}{form_sorted}",
        "body_hash_param": "bodySHA256",
    },
    "rules": [
        {
            "name": "Incoming message",
            "when": {"path": "body.MessageSid", "op": "exists"},
            "type": "track",
            "set": {
                "event": {
                    "expr": 'body.SmsStatus == "received" or body.SmsStatus == null'
                    ' ? "SMS Received" : "SMS Status Updated"'
                },
                "anonymousId": {"template": "phone:{body.From}"},
                "properties.from": "body.From",
                "properties.to": "body.To",
                "properties.body": "body.Body",
                "properties.status": "body.SmsStatus",
                "properties.messageSid": "body.MessageSid",
            },
            "message_id": {"template": "twilio:{body.MessageSid}:{body.SmsStatus}"},
        },
        {
            "name": "Call",
            "when": {"path": "body.CallSid", "op": "exists"},
            "type": "track",
            "set": {
                "event": {"template": "Call {body.CallStatus}"},
                "anonymousId": {"template": "phone:{body.From}"},
                "properties.from": "body.From",
                "properties.to": "body.To",
                "properties.callSid": "body.CallSid",
            },
            "message_id": {"template": "twilio:{body.CallSid}:{body.CallStatus}"},
        },
    ],
}

_SENDGRID = {
    "auth": {
        "type": "ecdsa",
        "header": "X-Twilio-Email-Event-Webhook-Signature",
        "timestamp_header": "X-Twilio-Email-Event-Webhook-Timestamp",
        "signed": "{timestamp}{body}",
    },
    "rules": [
        {
            "name": "Each email event",
            "each": "body",
            "type": "track",
            "set": {
                "event": {"template": "Email {item.event}"},
                "userId": "item.email",
                "properties": "item",
            },
            "message_id": "item.sg_event_id",
            "timestamp": {"path": "item.timestamp", "format": "unix_seconds"},
        }
    ],
}

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "stripe",
            "Stripe",
            "secret",
            "Signing secret (whsec_…)",
            _STRIPE,
            "https://docs.stripe.com/webhooks#verify-manually",
        ),
        Preset(
            "shopify",
            "Shopify",
            "secret",
            "App client secret",
            _SHOPIFY,
            "https://shopify.dev/docs/apps/build/webhooks/subscribe/https",
        ),
        Preset(
            "hubspot",
            "HubSpot",
            "secret",
            "App client secret",
            _HUBSPOT,
            "https://developers.hubspot.com/docs/api/webhooks/validating-requests",
        ),
        Preset(
            "typeform",
            "Typeform",
            "secret",
            "Webhook secret",
            _TYPEFORM,
            "https://www.typeform.com/developers/webhooks/secure-your-webhooks/",
        ),
        Preset(
            "calendly",
            "Calendly",
            "secret",
            "Webhook signing key",
            _CALENDLY,
            "https://developer.calendly.com/api-docs/webhook-signatures",
        ),
        Preset(
            "twilio",
            "Twilio",
            "secret",
            "Auth token",
            _TWILIO,
            "https://www.twilio.com/docs/usage/webhooks/webhooks-security",
        ),
        Preset(
            "sendgrid",
            "SendGrid",
            "public_key",
            "Verification key (public key)",
            _SENDGRID,
            "https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features",
        ),
    )
}


def preset_config(name: str, secret: str | None) -> dict[str, Any] | None:
    """A fresh copy of preset ``name``'s configuration with ``secret`` in its secret field,
    or None when there is no such preset."""
    preset = PRESETS.get(name)
    if preset is None:
        return None
    config = copy.deepcopy(preset.config)
    if secret is not None:
        config["auth"][preset.secret_field] = secret
    return config
