"""Segment-compatible forwarding: events to another Segment, RudderStack or Headwater, through
the HTTP Tracking API's ``POST /v1/batch``.

The request is what Segment's own libraries send: HTTP Basic auth with the write key as the
user name and an empty password, ``{"batch": [...], "sentAt": ...}`` with each event as
Headwater stored it (``messageId`` kept, so the receiver deduplicates a retried batch), at
most 100 events a batch (the receivers cap a request at 500 KB and an event at 32 KB).

Deletion: forwarded through Segment's Public API when the config holds a Public API token
(``public_api_token``; the write key cannot delete). A ``DELETE_ONLY`` regulation is created for
the person's user ids, at most 5,000 a request (Segment's limit): ``POST /regulations`` on
``public_api_endpoint`` for the whole Segment workspace, which takes user ids only, or, when
``regulation_source_id`` names the receiving source, ``POST /regulations/sources/{id}``, which
takes anonymous ids too. ``DELETE_ONLY``, not ``SUPPRESS_WITH_DELETE``: suppression is
Headwater's to enforce (a suppressed person's events never reach a destination), and a
``DELETE_ONLY`` request in Headwater must not make Segment refuse the person's later events.

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

from headwater.connectors._common import all_of, call, chunked
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    SendResult,
    classify,
    not_supported,
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
    public_api_token: pydantic.SecretStr | None = pydantic.Field(
        default=None,
        description="a Public API token with the Deletion and Suppression permission;"
        " without it, deletions are not forwarded",
    )
    public_api_endpoint: pydantic.AnyHttpUrl = pydantic.Field(
        default=pydantic.AnyHttpUrl("https://api.segmentapis.com"),
        description="the Public API's base URL (https://eu1.api.segmentapis.com in the EU)",
    )
    regulation_source_id: str | None = pydantic.Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the receiving source's id: deletions then name the source, and anonymous"
        " ids are deleted too (a workspace regulation takes user ids only)",
    )


_PER_REGULATION = 5_000
"""Subject ids a regulation takes at most."""


def _basic(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


class SegmentForward(Connector[SegmentForwardConfig]):
    kind = "segment"
    title = "Segment"
    config_type = SegmentForwardConfig
    max_batch: ClassVar[int] = 100
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        config = self.config
        if config.public_api_token is None:
            return not_supported("Segment deletions need a Public API token (public_api_token)")
        url = str(config.public_api_endpoint).rstrip("/") + "/regulations"
        subjects = [("USER_ID", subject.user_ids)]
        if config.regulation_source_id is not None:
            url += f"/sources/{config.regulation_source_id}"
            subjects.append(("ANONYMOUS_ID", subject.anonymous_ids))
        bodies = [
            {"regulationType": "DELETE_ONLY", "subjectType": kind, "subjectIds": list(chunk)}
            for kind, ids in subjects
            for chunk in chunked(ids, _PER_REGULATION)
        ]
        if not bodies:
            return not_supported(
                "Segment deletes by user id (by anonymous id too when regulation_source_id is"
                " set) and this person has neither"
            )
        headers = {"Authorization": f"Bearer {config.public_api_token.get_secret_value()}"}
        results = []
        for body in bodies:
            sent = await call(self.client, "POST", url, json=body, headers=headers)
            results.append(sent.result)
        return all_of(results)

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
