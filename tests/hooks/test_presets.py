"""Each preset with a payload shaped like its sender's documented example, signed as the sender
signs it: the signature passes (and fails once the body changes), and the mapping makes the
messages the preset promises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from headwater.hooks.mapping import map_request
from headwater.hooks.model import parse_config
from headwater.hooks.presets import PRESETS, preset_config
from headwater.hooks.request import HookRequest
from headwater.hooks.signatures import AuthFailure, verify
from headwater.spec import Envelope, Event, normalise
from tests.hooks.senders import NOW, SENDERS, Signed, sendgrid, sendgrid_keys

URL = "https://cdp.example.com/v1/hooks/abc"


def _request(signed: Signed, url: str = URL) -> HookRequest:
    return HookRequest(
        method="POST",
        url=url,
        body=signed.body,
        headers={k.lower(): v for k, v in signed.headers.items()},
    )


def _signed(name: str) -> tuple[Any, HookRequest]:
    if name == "sendgrid":
        private, public = sendgrid_keys()
        return parse_config(preset_config(name, public) or {}), _request(
            sendgrid(private, URL, NOW)
        )
    config = parse_config(preset_config(name, "vendor-secret") or {})
    return config, _request(SENDERS[name]("vendor-secret", URL, NOW))


EXPECTED: dict[str, list[dict[str, Any]]] = {
    "stripe": [
        {
            "type": "track",
            "event": "invoice.paid",
            "userId": "cus_NffrFeUfNV2Hib",
            "messageId": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "timestamp": "2023-11-14T22:13:15Z",
        }
    ],
    "shopify": [
        {
            "type": "track",
            "event": "orders/create",
            "userId": "115310627314723954",
            "messageId": "shopify:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        }
    ],
    "hubspot": [
        {
            "type": "track",
            "event": "contact.creation",
            "userId": "hubspot:123",
            "messageId": "hubspot:1",
            "timestamp": "2023-11-14T22:13:18Z",
        },
        {
            "type": "track",
            "event": "contact.propertyChange",
            "userId": "hubspot:123",
            "messageId": "hubspot:2",
            "timestamp": "2023-11-14T22:13:19Z",
        },
    ],
    "typeform": [
        {
            "type": "track",
            "event": "Form Submitted",
            "userId": "u-42",
            "anonymousId": "a3a12ec67a1365927098a606107fac15",
            "messageId": "01HXYZAB12CDEF",
            "timestamp": "2018-01-18T18:17:02Z",
        }
    ],
    "calendly": [
        {
            "type": "track",
            "event": "Meeting Scheduled",
            "userId": "test@example.com",
            "timestamp": "2020-11-23T17:51:19Z",
        }
    ],
    "twilio": [
        {
            "type": "track",
            "event": "SMS Received",
            "anonymousId": "phone:+14017122661",
            "messageId": "twilio:SM1f0e8ae6ade43cb3c0ce4525424e404f:received",
        }
    ],
    "sendgrid": [
        {
            "type": "track",
            "event": "Email processed",
            "userId": "example@test.com",
            "messageId": "rbtnWrG1DVDGGGFHFyun0A==",
            "timestamp": "2023-11-14T22:12:20Z",
        },
        {
            "type": "track",
            "event": "Email open",
            "userId": "example@test.com",
            "messageId": "FOTFFO0ecsBE-zxFXfs6WA==",
            "timestamp": "2023-11-14T22:12:50Z",
        },
    ],
}


def test_every_preset_is_tested() -> None:
    assert set(PRESETS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_verifies_its_sender_and_maps_its_payload(name: str) -> None:
    config, request = _signed(name)
    verify(config.auth, request, now=NOW + 10)
    mapped = map_request(config, request)
    assert mapped.errors == []
    assert len(mapped.messages) == len(EXPECTED[name])
    for message, expected in zip(mapped.messages, EXPECTED[name], strict=True):
        assert {k: message.get(k) for k in expected} == expected
        # Each message is a valid Segment message on the tracking API's own normalisation.
        envelope = Envelope(received_at=datetime.now(UTC))
        assert isinstance(normalise(message, index=0, route_type=None, envelope=envelope), Event)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_refuses_a_changed_body_or_another_secret(name: str) -> None:
    config, request = _signed(name)
    changed = HookRequest(
        method=request.method,
        url=request.url,
        headers=request.headers,
        body=request.body.replace(b"e", b"E", 1),
    )
    with pytest.raises(AuthFailure):
        verify(config.auth, changed, now=NOW)
    if name != "sendgrid":
        other = parse_config(preset_config(name, "another-secret") or {})
        with pytest.raises(AuthFailure):
            verify(other.auth, request, now=NOW)


@pytest.mark.parametrize("name", ["hubspot", "twilio"])
def test_url_signed_presets_refuse_a_request_for_another_url(name: str) -> None:
    config, request = _signed(name)
    moved = HookRequest(method="POST", url=URL + "x", body=request.body, headers=request.headers)
    with pytest.raises(AuthFailure, match="does not match"):
        verify(config.auth, moved, now=NOW)


def test_stripe_refuses_an_event_older_than_five_minutes() -> None:
    config, request = _signed("stripe")
    with pytest.raises(AuthFailure, match="300 seconds"):
        verify(config.auth, request, now=NOW + 301)
