"""Segment-compatible forwarding: events to another Segment, RudderStack or Headwater, through
the HTTP Tracking API's ``POST /v1/batch``.

The request is what Segment's own libraries send: HTTP Basic auth with the write key as the
user name and an empty password, ``{"batch": [...], "sentAt": ...}`` with each event as
Headwater stored it (``messageId`` kept, so the receiver deduplicates a retried batch), at
most 100 events a batch (the receivers cap a request at 500 KB and an event at 32 KB).

Deletion: not forwarded (``deletes`` is False). Segment deletes a person through its Public API
(``POST /regulations`` on ``api.segmentapis.com``, with a workspace token), not through the
Tracking API this connector calls with a write key: the config holds no credential for it, and
the other receivers it serves (RudderStack, another Headwater) each have their own deletion
API. Delete the person in the receiving system itself.

Endpoints: ``https://api.segment.io`` (default), ``https://events.eu1.segmentapis.com`` (EU),
a RudderStack data plane URL, or another Headwater.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

import httpx
import pydantic

from headwater.connectors.base import (
    Connector,
    Event,
    SendResult,
    classify,
    recorded,
    transport_failure,
)
from headwater.spec import encode_messages

__all__ = ["SegmentForward", "SegmentForwardConfig"]


class SegmentForwardConfig(pydantic.BaseModel):
    write_key: pydantic.SecretStr
    endpoint: pydantic.AnyHttpUrl = pydantic.Field(
        default=pydantic.AnyHttpUrl("https://api.segment.io"),
        description="base URL; /v1/batch is appended",
    )


def _basic(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


class SegmentForward(Connector[SegmentForwardConfig]):
    kind = "segment"
    title = "Segment"
    config_type = SegmentForwardConfig
    max_batch: ClassVar[int] = 100

    async def send(self, events: Sequence[Event]) -> SendResult:
        key = self.config.write_key.get_secret_value()
        url = str(self.config.endpoint).rstrip("/") + "/v1/batch"
        sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body = b'{"batch":%s,"sentAt":"%s"}' % (encode_messages(events), sent_at.encode())
        request = self.client.build_request(
            "POST",
            url,
            content=body,
            headers={"Content-Type": "application/json", "Authorization": _basic(key)},
        )
        try:
            response = await self.client.send(request)
        except httpx.HTTPError as error:
            return transport_failure(request, error)
        return classify(recorded(response))
