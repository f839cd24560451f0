"""The calls every SDK test sends, and exactly what Headwater must store for each, SDK by SDK.

A call is a Segment-spec message as a plain JSON value (timestamps as ISO-8601 strings), so the
same list drives the Python SDKs and the Node script. :func:`expected_payload` builds the stored
payload from the call and what each SDK is known to add; :func:`assert_stored` fetches the event
through the management API and compares it whole, after checking the server's time fields.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.server import RunningServer

__all__ = [
    "Call",
    "Sdk",
    "assert_deduplicated",
    "assert_stored",
    "duplicate_probe",
    "expected_payload",
    "sdk_calls",
    "utc_ms",
]

Call = dict[str, Any]

_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Sdk:
    """What one client library adds to the messages it sends."""

    library: dict[str, str]
    """``context.library`` as the SDK sets it."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Top-level fields the SDK adds to every message."""
    default_integrations: dict[str, Any] = field(default_factory=dict)
    """``integrations`` when the call gives none."""
    null_category: bool = False
    """page and screen carry ``category: null`` when no category was given."""
    identify_traits_in_context: bool = False
    """identify sends traits only as ``context.traits`` (Headwater copies them to ``traits``)."""
    page_category_in_properties: bool = False
    """page copies its category into ``properties.category``."""


def sdk_calls(prefix: str) -> list[Call]:
    """One call of each type, with explicit ids, traits, properties, context and integrations."""
    return [
        {
            "type": "identify",
            "messageId": f"{prefix}-identify",
            "userId": "user-42",
            "anonymousId": "anon-7",
            "traits": {"email": "ada@example.com", "name": "Ada", "plan": "pro", "logins": 3},
            "context": {"locale": "en-GB", "app": {"name": "shop", "version": "1.2.3"}},
            "integrations": {"All": False, "Mixpanel": True},
            "timestamp": "2025-03-14T09:26:53.589+00:00",
        },
        {
            "type": "track",
            "messageId": f"{prefix}-track",
            "userId": "user-42",
            "event": "Order Completed",
            "properties": {
                "orderId": "o-1001",
                "revenue": 12.5,
                "currency": "EUR",
                "products": [{"sku": "A-1", "quantity": 2}, {"sku": "B-7", "quantity": 1}],
                "note": "café ☕",
                "gift": False,
                "coupon": None,
            },
            "context": {"ip": "203.0.113.7", "campaign": {"source": "newsletter"}},
            "integrations": {"Amplitude": {"session_id": 1741944413}},
            # an offset other than UTC: stored as UTC
            "timestamp": "2025-03-14T11:27:00.250+02:00",
        },
        {
            "type": "page",
            "messageId": f"{prefix}-page",
            "anonymousId": "anon-7",
            "name": "Pricing",
            "category": "Docs",
            "properties": {"url": "https://example.com/pricing", "path": "/pricing"},
            "context": {"userAgent": "Mozilla/5.0 (X11; Linux x86_64)"},
            "integrations": {"All": True},
            "timestamp": "2025-03-14T09:25:00.001+00:00",
        },
        {
            "type": "screen",
            "messageId": f"{prefix}-screen",
            "userId": "user-42",
            "name": "Checkout",
            "properties": {"step": 2},
            "context": {"device": {"type": "ios", "model": "iPhone15,2"}, "os": {"name": "iOS"}},
            "integrations": {"Firebase": False},
            "timestamp": "2025-03-14T09:28:10.000+00:00",
        },
        {
            "type": "group",
            "messageId": f"{prefix}-group",
            "userId": "user-42",
            "groupId": "acme",
            "traits": {"name": "Acme Inc", "employees": 120},
            "context": {"timezone": "Europe/London"},
            "integrations": {"Salesforce": True},
            "timestamp": "2025-03-14T09:29:00.999+00:00",
        },
        {
            "type": "alias",
            "messageId": f"{prefix}-alias",
            "userId": "user-42",
            "previousId": "anon-7",
            "context": {"traits": {"source": "e2e"}},
            "integrations": {"All": True},
            "timestamp": "2025-03-14T09:30:00.500+00:00",
        },
    ]


def duplicate_probe(prefix: str, attempt: int) -> Call:
    """The same messageId each time; ``attempt`` tells which copy was stored."""
    return {
        "type": "track",
        "messageId": f"{prefix}-duplicate",
        "userId": "user-42",
        "event": "Duplicate Probe",
        "properties": {"attempt": attempt},
        "timestamp": "2025-03-14T09:31:00.000+00:00",
    }


def utc_ms(value: str | datetime) -> str:
    """A timestamp in the one form Headwater stores: UTC, milliseconds, ``Z``."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    utc = parsed.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def expected_payload(call: Call, sdk: Sdk) -> dict[str, Any]:
    """The stored payload of ``call`` sent through ``sdk``, without the server's time fields."""
    call = copy.deepcopy(call)
    kind = call["type"]
    payload: dict[str, Any] = {
        **sdk.extra,
        "type": kind,
        "messageId": call["messageId"],
        "userId": call.get("userId"),
        "anonymousId": call.get("anonymousId"),
        "context": {**call.get("context", {}), "library": sdk.library},
        "integrations": call.get("integrations") or sdk.default_integrations,
    }
    if kind == "track":
        payload["event"] = call["event"]
    if kind in ("track", "page", "screen"):
        payload["properties"] = call.get("properties", {})
    if kind in ("page", "screen"):
        payload["name"] = call.get("name")
        if "category" in call or sdk.null_category:
            payload["category"] = call.get("category")
        if kind == "page" and sdk.page_category_in_properties and "category" in call:
            payload["properties"]["category"] = call["category"]
    if kind in ("identify", "group"):
        payload["traits"] = call.get("traits", {})
    if kind == "identify" and sdk.identify_traits_in_context:
        payload["context"]["traits"] = call.get("traits", {})
    if kind == "group":
        payload["groupId"] = call["groupId"]
    if kind == "alias":
        payload["previousId"] = call["previousId"]
    return payload


def _floor_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def assert_stored(
    server: RunningServer, call: Call, sdk: Sdk, *, sent_after: datetime, acked_before: datetime
) -> dict[str, Any]:
    """Fetch ``call``'s event and check every stored field; return the payload.

    ``sent_after`` and ``acked_before`` bound the moment the SDK sent the call (on this
    machine's clock, which the SDK and the server share).
    """
    stored = server.api("GET", f"/api/v1/workspaces/default/events/{call['messageId']}")
    payload: dict[str, Any] = stored["payload"]
    assert stored["messageId"] == call["messageId"]
    assert stored["type"] == call["type"]
    assert stored["name"] == (call.get("event") or call.get("name"))
    assert "writeKey" not in payload

    for key in ("originalTimestamp", "timestamp", "sentAt", "receivedAt"):
        assert _MS_Z.match(str(payload.get(key))), f"{key}: {payload.get(key)!r}"
    assert payload["originalTimestamp"] == utc_ms(call["timestamp"])
    assert stored["receivedAt"] == payload["receivedAt"]

    original = datetime.fromisoformat(payload["originalTimestamp"])
    sent_at = datetime.fromisoformat(payload["sentAt"])
    received_at = datetime.fromisoformat(payload["receivedAt"])
    timestamp = datetime.fromisoformat(payload["timestamp"])
    low, high = _floor_ms(sent_after), acked_before
    assert low <= sent_at <= received_at <= high, (sent_after, sent_at, received_at, acked_before)
    # Each stored time is cut to milliseconds, so the formula holds within one millisecond.
    corrected = received_at - (sent_at - original)
    assert abs(timestamp - corrected) <= _ONE_MS, (timestamp, corrected)
    # Same clock on both sides: the correction adds only the request's latency.
    assert -_ONE_MS <= timestamp - original <= high - low + _ONE_MS

    times = {
        key: payload[key] for key in ("originalTimestamp", "timestamp", "sentAt", "receivedAt")
    }
    assert payload == {**expected_payload(call, sdk), **times}
    return payload


def assert_deduplicated(server: RunningServer, probe: Call) -> None:
    """``probe``'s messageId was sent twice: stored once (the first copy), counted once as a
    duplicate, and no other event was counted as one."""
    assert server.api("GET", f"/api/v1/workspaces/default/events/{probe['messageId']}")["payload"][
        "properties"
    ] == {"attempt": 1}
    source = next(
        s
        for s in server.api("GET", "/api/v1/workspaces/default/sources")
        if s["write_key"] == server.write_key
    )
    listed = server.api(
        "GET", f"/api/v1/workspaces/default/sources/{source['id']}/events", params={"limit": 1000}
    )
    per_id = Counter(event["messageId"] for event in listed)
    assert per_id[probe["messageId"]] == 1
    assert set(per_id.values()) == {1}

    rows = server.api("GET", "/api/v1/workspaces/default/stats", params={"by": "event"})
    probe_rows = [row for row in rows if row["event"] == probe["event"]]
    assert sum(row["accepted"] for row in probe_rows) == 1
    assert sum(row["duplicates"] for row in probe_rows) == 1
    assert sum(row["duplicates"] for row in rows) == 1
    assert sum(row["rejected"] for row in rows) == 0
    assert sum(row["accepted"] for row in rows) == len(per_id)
