"""Requests shaped and signed as each preset's sender documents them (shared by the preset
unit tests and the API tests)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SENDERS", "Signed", "hubspot_uri", "sendgrid_keys", "twilio_json"]

NOW = 1_700_000_000


class Signed:
    """A request as a sender makes it: its body, headers and what the mapping should give."""

    def __init__(self, body: bytes, headers: dict[str, str], content_type: str) -> None:
        self.body = body
        self.headers = {"Content-Type": content_type, **headers}


def _mac(secret: str, data: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), data, getattr(hashlib, algorithm)).digest()


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2).encode()


def stripe(secret: str, url: str, now: int) -> Signed:
    body = _json(
        {
            "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "object": "event",
            "api_version": "2023-10-16",
            "created": now - 5,
            "livemode": False,
            "type": "invoice.paid",
            "data": {
                "object": {
                    "id": "in_1NG8Du2eZvKYlo2C",
                    "object": "invoice",
                    "customer": "cus_NffrFeUfNV2Hib",
                    "amount_paid": 2000,
                    "currency": "usd",
                }
            },
        }
    )
    signature = _mac(secret, f"{now}.".encode() + body).hex()
    return Signed(body, {"Stripe-Signature": f"t={now},v1={signature}"}, "application/json")


def shopify(secret: str, url: str, now: int) -> Signed:
    body = _json(
        {
            "id": 820982911946154508,
            "email": "jon@example.com",
            "created_at": "2021-12-31T19:00:00-05:00",
            "total_price": "403.00",
            "currency": "USD",
            "customer": {"id": 115310627314723954, "email": "john@example.com"},
            "line_items": [{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1}],
        }
    )
    signature = base64.b64encode(_mac(secret, body)).decode()
    headers = {
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Triggered-At": "2023-03-29T18:00:27.877041743Z",
    }
    return Signed(body, headers, "application/json")


_HUBSPOT_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def hubspot_uri(url: str) -> str:
    """The URI as HubSpot's v3 signature covers it: the escapes its documentation lists
    decoded, every other escape left as sent."""
    out = url
    for escape, character in _HUBSPOT_DECODED.items():
        out = out.replace(escape, character).replace(escape.lower(), character)
    return out


def hubspot(secret: str, url: str, now: int) -> Signed:
    body = json.dumps(
        [
            {
                "eventId": 1,
                "subscriptionId": 12345,
                "portalId": 62515,
                "appId": 54321,
                "occurredAt": now * 1000 - 2000,
                "subscriptionType": "contact.creation",
                "attemptNumber": 0,
                "objectId": 123,
                "changeSource": "CRM",
                "changeFlag": "NEW",
            },
            {
                "eventId": 2,
                "subscriptionId": 12346,
                "portalId": 62515,
                "appId": 54321,
                "occurredAt": now * 1000 - 1000,
                "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0,
                "objectId": 123,
                "propertyName": "email",
                "propertyValue": "jane@example.com",
                "changeSource": "CRM",
            },
        ]
    ).encode()
    timestamp = str(now * 1000)
    signed = b"POST" + hubspot_uri(url).encode() + body + timestamp.encode()
    headers = {
        "X-HubSpot-Signature-v3": base64.b64encode(_mac(secret, signed)).decode(),
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature-Version": "v3",
    }
    return Signed(body, headers, "application/json")


def typeform(secret: str, url: str, now: int) -> Signed:
    body = _json(
        {
            "event_id": "01HXYZAB12CDEF",
            "event_type": "form_response",
            "form_response": {
                "form_id": "lT4Z3j",
                "token": "a3a12ec67a1365927098a606107fac15",
                "submitted_at": "2018-01-18T18:17:02Z",
                "landed_at": "2018-01-18T18:07:02Z",
                "hidden": {"user_id": "u-42"},
                "definition": {"id": "lT4Z3j", "title": "Webhooks example", "fields": []},
                "answers": [
                    {"type": "text", "text": "Lorem ipsum", "field": {"id": "DlXFaesGBpoF"}}
                ],
            },
        }
    )
    signature = "sha256=" + base64.b64encode(_mac(secret, body)).decode()
    return Signed(body, {"Typeform-Signature": signature}, "application/json")


def calendly(secret: str, url: str, now: int) -> Signed:
    body = _json(
        {
            "created_at": "2020-11-23T17:51:19.000000Z",
            "created_by": "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
            "event": "invitee.created",
            "payload": {
                "email": "test@example.com",
                "name": "John Doe",
                "timezone": "America/New_York",
                "uri": "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAA",
                "scheduled_event": {"uri": "https://api.calendly.com/scheduled_events/GBGB"},
            },
        }
    )
    signature = _mac(secret, f"{now}.".encode() + body).hex()
    return Signed(
        body, {"Calendly-Webhook-Signature": f"t={now},v1={signature}"}, "application/json"
    )


def twilio(secret: str, url: str, now: int) -> Signed:
    params = {
        "ToCountry": "US",
        "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "NumMedia": "0",
        "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "SmsStatus": "received",
        "Body": "Hello from Twilio!",
        "To": "+15558675310",
        "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "AccountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "From": "+14017122661",
        "ApiVersion": "2010-04-01",
    }
    body = urlencode(params).encode()
    signed = url + "".join(k + v for k, v in sorted(params.items()))
    signature = base64.b64encode(_mac(secret, signed.encode(), "sha1")).decode()
    return Signed(body, {"X-Twilio-Signature": signature}, "application/x-www-form-urlencoded")


def twilio_json(secret: str, url: str, now: int) -> tuple[str, Signed]:
    """A JSON body as Twilio sends one: the URL called gains ``bodySHA256`` (the body's hex
    SHA-256), and the signature covers that URL alone. Returns the URL to post to."""
    body = _json(
        {
            "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "SmsStatus": "delivered",
            "From": "+14017122661",
            "To": "+15558675310",
        }
    )
    called = url + ("&" if "?" in url else "?") + "bodySHA256=" + hashlib.sha256(body).hexdigest()
    signature = base64.b64encode(_mac(secret, called.encode(), "sha1")).decode()
    return called, Signed(body, {"X-Twilio-Signature": signature}, "application/json")


def sendgrid_keys() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A P-256 key pair as SendGrid makes one; the public key base64 DER as its settings show."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(der).decode()


def sendgrid(private: ec.EllipticCurvePrivateKey, url: str, now: int) -> Signed:
    body = json.dumps(
        [
            {
                "email": "example@test.com",
                "timestamp": now - 60,
                "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
                "event": "processed",
                "category": ["cat facts"],
                "sg_event_id": "rbtnWrG1DVDGGGFHFyun0A==",
                "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            },
            {
                "email": "example@test.com",
                "timestamp": now - 30,
                "event": "open",
                "sg_event_id": "FOTFFO0ecsBE-zxFXfs6WA==",
                "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
                "useragent": "Mozilla/4.0",
                "ip": "255.255.255.255",
            },
        ]
    ).encode()
    timestamp = str(now)
    signature = private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
    return Signed(body, headers, "application/json")


SENDERS = {
    "stripe": stripe,
    "shopify": shopify,
    "hubspot": hubspot,
    "typeform": typeform,
    "calendly": calendly,
    "twilio": twilio,
}
"""The HMAC senders: name -> (secret, url, now) -> Signed. SendGrid signs with a key pair."""
